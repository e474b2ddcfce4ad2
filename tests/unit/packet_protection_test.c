/*
 * Packet protection (RFC 9001 §5, §6; RFC 9369 §3.3): the sample packets of
 * RFC 9001 Appendix A and RFC 9369 Appendix A byte for byte in both
 * directions, key update, hostile input, round trips of every suite, and the
 * primitives of aead.c against OpenSSL as an independent second route.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/varint.h"
#include "quic/aead.h"
#include "quic/packet_protection.h"
#include "test.h"

/* ---- the vectors ---- */

static const char dcid_hex[] = "8394c8f03e515708";

/* The client's CRYPTO frame (A.2 of both RFCs); PADDING makes it 1162 bytes. */
static const char client_crypto_hex[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

/* The server's ACK + CRYPTO payload (A.3 of both RFCs). */
static const char server_payload_hex[] =
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
    "020304";

/* A.5 of both RFCs: a 1-RTT secret from TLS. */
static const char chacha_secret_hex[] =
    "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b";

typedef struct rfc_vectors {
    const char *name;
    uint32_t version;
    const char *client_secret, *client_key, *client_iv, *client_hp;
    const char *server_secret, *server_key, *server_iv, *server_hp;
    const char *client_header, *client_packet;
    const char *server_header, *server_packet;
    const char *retry;
    const char *retry_secret, *retry_key, *retry_nonce;
    const char *chacha_key, *chacha_iv, *chacha_hp, *chacha_ku, *chacha_packet;
} rfc_vectors;

static const rfc_vectors rfc9001 = {
    .name = "RFC 9001",
    .version = SKIFF_QUIC_V1,
    .client_secret = "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
    .client_key = "1f369613dd76d5467730efcbe3b1a22d",
    .client_iv = "fa044b2f42a3fd3b46fb255c",
    .client_hp = "9f50449e04a0e810283a1e9933adedd2",
    .server_secret = "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
    .server_key = "cf3a5331653c364c88f0f379b6067e37",
    .server_iv = "0ac1493ca1905853b0bba03e",
    .server_hp = "c206b8d9b9f0f37644430b490eeaa314",
    .client_header = "c300000001088394c8f03e5157080000449e00000002",
    .client_packet = "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
                     "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
                     "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
                     "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
                     "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
                     "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
                     "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
                     "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
                     "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
                     "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
                     "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
                     "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
                     "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
                     "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
                     "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
                     "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
                     "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
                     "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
                     "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
                     "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
                     "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
                     "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
                     "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
                     "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
                     "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
                     "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
                     "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
                     "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
                     "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
                     "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
                     "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
                     "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
                     "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
                     "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
                     "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
                     "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
                     "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
                     "e221af44860018ab0856972e194cd934",
    .server_header = "c1000000010008f067a5502a4262b50040750001",
    .server_packet = "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
                     "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
                     "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
                     "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
                     "2158407dd074ee",
    .retry = "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f"
             "0f2496ba",
    .retry_secret = "d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e",
    .retry_key = "be0c690b9f66575a1d766b54e368c84e",
    .retry_nonce = "461599d35d632bf2239825bb",
    .chacha_key = "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8",
    .chacha_iv = "e0459b3474bdd0e44a41c144",
    .chacha_hp = "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
    .chacha_ku = "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9",
    .chacha_packet = "4cfe4189655e5cd55c41f69080575d7999c25a5bfb",
};

static const rfc_vectors rfc9369 = {
    .name = "RFC 9369",
    .version = SKIFF_QUIC_V2,
    .client_secret = "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
    .client_key = "8b1a0bc121284290a29e0971b5cd045d",
    .client_iv = "91f73e2351d8fa91660e909f",
    .client_hp = "45b95e15235d6f45a6b19cbcb0294ba9",
    .server_secret = "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
    .server_key = "82db637861d55e1d011f19ea71d5d2a7",
    .server_iv = "dd13c276499c0249d3310652",
    .server_hp = "edf6d05c83121201b436e16877593c3a",
    .client_header = "d36b3343cf088394c8f03e5157080000449e00000002",
    .client_packet = "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
                     "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
                     "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
                     "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
                     "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
                     "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
                     "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
                     "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
                     "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
                     "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
                     "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
                     "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
                     "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
                     "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
                     "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
                     "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
                     "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
                     "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
                     "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
                     "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
                     "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
                     "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
                     "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
                     "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
                     "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
                     "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
                     "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
                     "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
                     "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
                     "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
                     "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
                     "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
                     "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
                     "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
                     "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
                     "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
                     "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
                     "a18b2faa745b6fe189cf772a9f84cbfc",
    .server_header = "d16b3343cf0008f067a5502a4262b50040750001",
    .server_packet = "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
                     "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
                     "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
                     "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
                     "4bed8521e2e140",
    .retry = "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d9555436"
             "65dcc7b6",
    .retry_secret = "c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f",
    .retry_key = "8fb4b01b56ac48e260fbcbcead7ccc92",
    .retry_nonce = "d86969bc2d7c6d9990efb04a",
    .chacha_key = "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2",
    .chacha_iv = "a6b5bc6ab7dafce30ffff5dd",
    .chacha_hp = "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2",
    .chacha_ku = "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88",
    .chacha_packet = "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba",
};

static const rfc_vectors *const all_rfcs[] = {&rfc9001, &rfc9369};

#define CHACHA_PN UINT64_C(654360564)
#define CLIENT_PAYLOAD_LEN 1162

/* Decodes a vector that must have exactly `expect` bytes. */
static size_t hexn(const char *h, uint8_t *out, size_t cap, size_t expect)
{
    size_t n = test_hex(h, out, cap);
    CHECK_EQ(n, expect);
    return n;
}

/* A small deterministic generator for "random-ish" data. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void rng_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng();
}

/* Puts the plaintext of a sample Initial after its header: the client's
 * CRYPTO frame padded to 1162 bytes, or the server's payload as it is. */
static size_t client_plaintext(const rfc_vectors *v, uint8_t *out, size_t cap)
{
    size_t h = hexn(v->client_header, out, cap, 22);
    size_t n = test_hex(client_crypto_hex, out + h, cap - h);
    CHECK_EQ(n, 245);
    memset(out + h + n, 0, CLIENT_PAYLOAD_LEN - n); /* PADDING frames */
    return h + CLIENT_PAYLOAD_LEN;
}

static size_t server_plaintext(const rfc_vectors *v, uint8_t *out, size_t cap)
{
    size_t h = hexn(v->server_header, out, cap, 20);
    return h + hexn(server_payload_hex, out + h, cap - h, 99);
}

/* ---- A.1: keys ---- */

static void check_material(const char *secret_hex, const char *key_hex, const char *iv_hex,
                           const char *hp_hex, skiff_cipher_suite suite, uint32_t version)
{
    uint8_t secret[48], key[32], iv[12], hp[32];
    size_t sl = test_hex(secret_hex, secret, sizeof secret);
    size_t kl = test_hex(key_hex, key, sizeof key);
    hexn(iv_hex, iv, sizeof iv, 12);
    CHECK_EQ(test_hex(hp_hex, hp, sizeof hp), kl);
    skiff_packet_key_material m;
    CHECK_EQ(skiff_packet_key_material_derive(&m, suite, version, secret, sl), 0);
    CHECK_EQ(m.key_len, kl);
    CHECK_MEM(m.key, key, kl);
    CHECK_MEM(m.iv, iv, 12);
    CHECK_MEM(m.hp, hp, kl);
}

static void initial_keys(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t dcid[8], cs[32], ss[32], want[32];
        hexn(dcid_hex, dcid, sizeof dcid, 8);
        CHECK_EQ(skiff_packet_initial_secrets(v->version, dcid, 8, cs, ss), 0);
        hexn(v->client_secret, want, sizeof want, 32);
        CHECK_MEM(cs, want, 32);
        hexn(v->server_secret, want, sizeof want, 32);
        CHECK_MEM(ss, want, 32);
        check_material(v->client_secret, v->client_key, v->client_iv, v->client_hp,
                       SKIFF_SUITE_AES_128_GCM_SHA256, v->version);
        check_material(v->server_secret, v->server_key, v->server_iv, v->server_hp,
                       SKIFF_SUITE_AES_128_GCM_SHA256, v->version);

        /* The installed objects carry the same IV and HP key. */
        skiff_packet_keys c = {0}, s = {0};
        CHECK_EQ(skiff_packet_keys_initial(v->version, dcid, 8, &c, &s), 0);
        uint8_t iv[12], hp[16];
        hexn(v->client_iv, iv, sizeof iv, 12);
        hexn(v->client_hp, hp, sizeof hp, 16);
        CHECK_MEM(c.iv, iv, 12);
        CHECK_MEM(c.hp_key, hp, 16);
        hexn(v->server_iv, iv, sizeof iv, 12);
        CHECK_MEM(s.iv, iv, 12);
        CHECK_EQ(c.suite, SKIFF_SUITE_AES_128_GCM_SHA256);
        CHECK_U64(s.version, v->version);
        skiff_packet_keys_clear(&c);
        skiff_packet_keys_clear(&s);
        CHECK(!skiff_packet_keys_installed(&c));
    }
}

/* ---- A.2, A.3: Initial packets, both directions ---- */

/* Protects `plain` (header + payload) and compares with `packet_hex`; then
 * unprotects an exact-size copy of the expected bytes and compares with
 * `plain`. */
static void sample_packet(const skiff_packet_keys *k, const uint8_t *plain, size_t plain_len,
                          size_t pn_offset, size_t pn_len, uint64_t pn, const char *packet_hex)
{
    static uint8_t want[1300], buf[1300];
    size_t want_len = test_hex(packet_hex, want, sizeof want);
    size_t header_len = pn_offset + pn_len;
    CHECK_EQ(want_len, plain_len + 16);

    memcpy(buf, plain, plain_len);
    CHECK_EQ(
        skiff_packet_protect(k, buf, pn_offset, pn_len, pn, plain_len - header_len, sizeof buf),
        (skiff_ssize)want_len);
    CHECK_MEM(buf, want, want_len);

    uint8_t *p = test_dup_exact(want, want_len);
    size_t got_pn_len = 0;
    uint64_t tpn = 0;
    CHECK_EQ(skiff_packet_unprotect_header(k, p, want_len, pn_offset, &got_pn_len, &tpn), 0);
    CHECK_EQ(got_pn_len, pn_len);
    CHECK_U64(tpn, pn & ((UINT64_C(1) << (8 * pn_len)) - 1));
    CHECK_MEM(p, plain, header_len);
    CHECK_EQ(skiff_packet_open(k, p, header_len, pn, want_len),
             (skiff_ssize)(plain_len - header_len));
    CHECK_MEM(p, plain, plain_len);
    free(p);
}

static void initial_packets(void)
{
    static uint8_t plain[1300];
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t dcid[8];
        hexn(dcid_hex, dcid, sizeof dcid, 8);
        skiff_packet_keys c = {0}, s = {0};
        CHECK_EQ(skiff_packet_keys_initial(v->version, dcid, 8, &c, &s), 0);

        size_t n = client_plaintext(v, plain, sizeof plain);
        CHECK_EQ(n, 1184);
        sample_packet(&c, plain, n, 18, 4, 2, v->client_packet);

        n = server_plaintext(v, plain, sizeof plain);
        sample_packet(&s, plain, n, 18, 2, 1, v->server_packet);

        /* The other direction's keys do not open it. */
        uint8_t pkt[200];
        size_t len = test_hex(v->server_packet, pkt, sizeof pkt), pn_len;
        uint64_t tpn;
        CHECK_EQ(skiff_packet_unprotect_header(&c, pkt, len, 18, &pn_len, &tpn), 0);
        CHECK_EQ(skiff_packet_open(&c, pkt, 18 + pn_len, 1, len), SKIFF_ERR_DECRYPT);

        skiff_packet_keys_clear(&c);
        skiff_packet_keys_clear(&s);
    }
}

/* ---- A.4: Retry ---- */

static void retry_tags(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t odcid[8], retry[64], tag[16];
        hexn(dcid_hex, odcid, sizeof odcid, 8);
        size_t n = hexn(v->retry, retry, sizeof retry, 36);
        CHECK_EQ(skiff_retry_integrity_tag(v->version, odcid, 8, retry, n - 16, tag), 0);
        CHECK_MEM(tag, retry + n - 16, 16);

        uint8_t *exact = test_dup_exact(retry, n);
        CHECK_EQ(skiff_retry_integrity_verify(v->version, odcid, 8, exact, n), 0);
        free(exact);

        /* The fixed key and nonce are HKDF-Expand-Label of the published
         * secret with the version's labels (RFC 9001 §5.8, RFC 9369 §3.3.3). */
        uint8_t secret[32], want[16];
        hexn(v->retry_secret, secret, sizeof secret, 32);
        skiff_packet_key_material m;
        CHECK_EQ(skiff_packet_key_material_derive(&m, SKIFF_SUITE_AES_128_GCM_SHA256, v->version,
                                                  secret, 32),
                 0);
        hexn(v->retry_key, want, sizeof want, 16);
        CHECK_MEM(m.key, want, 16);
        hexn(v->retry_nonce, want, sizeof want, 12);
        CHECK_MEM(m.iv, want, 12);
    }
}

/* ---- A.5: ChaCha20-Poly1305 short header ---- */

static void chacha_short_header(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t secret[32], ku[32];
        hexn(chacha_secret_hex, secret, sizeof secret, 32);
        check_material(chacha_secret_hex, v->chacha_key, v->chacha_iv, v->chacha_hp,
                       SKIFF_SUITE_CHACHA20_POLY1305_SHA256, v->version);
        uint8_t next[32];
        CHECK_EQ(skiff_packet_next_secret(SKIFF_SUITE_CHACHA20_POLY1305_SHA256, v->version, secret,
                                          32, next),
                 0);
        hexn(v->chacha_ku, ku, sizeof ku, 32);
        CHECK_MEM(next, ku, 32);

        skiff_packet_keys k = {0};
        CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_CHACHA20_POLY1305_SHA256, v->version,
                                               secret, 32),
                 0);
        /* Unprotected header 4200bff4 (pn 49140 in 3 bytes) and a PING. */
        const uint8_t plain[] = {0x42, 0x00, 0xbf, 0xf4, 0x01};
        sample_packet(&k, plain, sizeof plain, 1, 3, CHACHA_PN, v->chacha_packet);
        skiff_packet_keys_clear(&k);
    }
}

/* ---- key update (RFC 9001 §6.1) ---- */

/* HKDF-Expand-Label through OpenSSL's TLS13-KDF: a second implementation,
 * with its own HkdfLabel encoding, to check ours without circularity. */
static void openssl_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
                                 const char *label, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)"tls13 ", 6),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    CHECK(ctx != NULL);
    memset(out, 0xee, out_len);
    if (ctx) CHECK_EQ(EVP_KDF_derive(ctx, out, out_len, params), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

static void openssl_extract(const char *digest, const uint8_t *salt, size_t salt_len,
                            const uint8_t *ikm, size_t ikm_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_end(),
    };
    CHECK(ctx != NULL);
    memset(out, 0xee, out_len);
    if (ctx) CHECK_EQ(EVP_KDF_derive(ctx, out, out_len, params), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

/* A 40-byte 1-RTT packet, protected with k; returns its length. */
static size_t make_short_packet(const skiff_packet_keys *k, uint8_t *pkt, size_t cap, uint64_t pn)
{
    pkt[0] = 0x41; /* short header, key phase 0, 2-byte pn */
    pkt[1] = (uint8_t)(pn >> 8);
    pkt[2] = (uint8_t)pn;
    for (size_t i = 3; i < 24; i++)
        pkt[i] = (uint8_t)i;
    skiff_ssize n = skiff_packet_protect(k, pkt, 1, 2, pn, 21, cap);
    CHECK_EQ(n, 40);
    return n < 0 ? 0 : (size_t)n;
}

static void key_update(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        const char *ku_label = v->version == SKIFF_QUIC_V1 ? "quic ku" : "quicv2 ku";
        const char *key_label = v->version == SKIFF_QUIC_V1 ? "quic key" : "quicv2 key";
        const char *iv_label = v->version == SKIFF_QUIC_V1 ? "quic iv" : "quicv2 iv";
        uint8_t secret[32], ku[32];
        hexn(chacha_secret_hex, secret, sizeof secret, 32);
        hexn(v->chacha_ku, ku, sizeof ku, 32);

        skiff_packet_keys cur = {0}, next = {0}, next2 = {0}, again = {0}, again2 = {0};
        const skiff_cipher_suite suite = SKIFF_SUITE_CHACHA20_POLY1305_SHA256;
        CHECK_EQ(skiff_packet_keys_from_secret(&cur, suite, v->version, secret, 32), 0);
        CHECK_EQ(skiff_packet_keys_next(&next, &cur), 0);
        CHECK_EQ(next.secret_len, 32);
        CHECK_MEM(next.secret, ku, 32); /* the RFC's "ku" value */
        CHECK_MEM(next.hp_key, cur.hp_key, 32);
        CHECK(memcmp(next.iv, cur.iv, 12) != 0);
        skiff_packet_key_material m_cur, m_next;
        CHECK_EQ(skiff_packet_key_material_derive(&m_cur, suite, v->version, cur.secret, 32), 0);
        CHECK_EQ(skiff_packet_key_material_derive(&m_next, suite, v->version, next.secret, 32), 0);
        CHECK(memcmp(m_cur.key, m_next.key, 32) != 0);
        /* The kept HP key is not what "quic hp" of the new secret would give. */
        CHECK(memcmp(m_next.hp, next.hp_key, 32) != 0);

        /* Independently: OpenSSL's TLS13-KDF from the original secret. */
        uint8_t ossl[32], ossl2[32], okey[32], oiv[12];
        openssl_expand_label("SHA256", secret, 32, ku_label, ossl, 32);
        CHECK_MEM(ossl, ku, 32);
        openssl_expand_label("SHA256", ossl, 32, key_label, okey, 32);
        openssl_expand_label("SHA256", ossl, 32, iv_label, oiv, 12);
        CHECK_MEM(m_next.key, okey, 32);
        CHECK_MEM(next.iv, oiv, 12);

        /* Behaviour: the new keys' packets keep the old header protection
         * but not the old AEAD key. */
        uint8_t pkt[64], copy[64];
        size_t n = make_short_packet(&next, pkt, sizeof pkt, 7);
        memcpy(copy, pkt, n);
        size_t pn_len;
        uint64_t tpn;
        CHECK_EQ(skiff_packet_unprotect_header(&cur, copy, n, 1, &pn_len, &tpn), 0);
        CHECK_EQ(pn_len, 2);
        CHECK_U64(tpn, 7);
        CHECK_EQ(copy[0], 0x41);
        CHECK_EQ(skiff_packet_open(&cur, copy, 3, 7, n), SKIFF_ERR_DECRYPT);
        memcpy(copy, pkt, n);
        CHECK_EQ(skiff_packet_unprotect_header(&next, copy, n, 1, &pn_len, &tpn), 0);
        CHECK_EQ(skiff_packet_open(&next, copy, 3, 7, n), 21);

        /* next(next) is stable: derived twice, and once in place, it is the
         * same secret, IV and packet bytes, and matches OpenSSL's route. */
        CHECK_EQ(skiff_packet_keys_next(&next2, &next), 0);
        CHECK_EQ(skiff_packet_keys_from_secret(&again, suite, v->version, secret, 32), 0);
        CHECK_EQ(skiff_packet_keys_next(&again, &again), 0); /* in place */
        CHECK_EQ(skiff_packet_keys_next(&again, &again), 0);
        CHECK_EQ(skiff_packet_keys_next(&again2, &next), 0);
        openssl_expand_label("SHA256", ossl, 32, ku_label, ossl2, 32);
        CHECK_MEM(next2.secret, ossl2, 32);
        CHECK_MEM(again.secret, next2.secret, 32);
        CHECK_MEM(again2.secret, next2.secret, 32);
        CHECK_MEM(again.iv, next2.iv, 12);
        CHECK_MEM(again.hp_key, cur.hp_key, 32);
        CHECK(memcmp(next2.secret, next.secret, 32) != 0);
        uint8_t a[64], b[64];
        size_t na = make_short_packet(&next2, a, sizeof a, 1000);
        size_t nb = make_short_packet(&again, b, sizeof b, 1000);
        CHECK_EQ(na, nb);
        CHECK_MEM(a, b, na);

        skiff_packet_keys_clear(&cur);
        skiff_packet_keys_clear(&next);
        skiff_packet_keys_clear(&next2);
        skiff_packet_keys_clear(&again);
        skiff_packet_keys_clear(&again2);
    }
}

/* SHA-384 has no RFC vector here: check extract and expand against OpenSSL. */
static void hkdf_sha384_matches_openssl(void)
{
    for (int round = 0; round < 8; round++) {
        uint8_t salt[20], ikm[48], prk[48], ossl[48];
        rng_fill(salt, sizeof salt);
        rng_fill(ikm, sizeof ikm);
        skiff_aead_hkdf_extract(SKIFF_AEAD_SHA384, salt, sizeof salt, ikm, sizeof ikm, prk);
        openssl_extract("SHA384", salt, sizeof salt, ikm, sizeof ikm, ossl, 48);
        CHECK_MEM(prk, ossl, 48);

        skiff_packet_key_material m;
        CHECK_EQ(skiff_packet_key_material_derive(&m, SKIFF_SUITE_AES_256_GCM_SHA384, SKIFF_QUIC_V1,
                                                  prk, 48),
                 0);
        CHECK_EQ(m.key_len, 32);
        openssl_expand_label("SHA384", prk, 48, "quic key", ossl, 32);
        CHECK_MEM(m.key, ossl, 32);
        openssl_expand_label("SHA384", prk, 48, "quic iv", ossl, 12);
        CHECK_MEM(m.iv, ossl, 12);
        openssl_expand_label("SHA384", prk, 48, "quic hp", ossl, 32);
        CHECK_MEM(m.hp, ossl, 32);
        uint8_t next[48];
        CHECK_EQ(
            skiff_packet_next_secret(SKIFF_SUITE_AES_256_GCM_SHA384, SKIFF_QUIC_V2, prk, 48, next),
            0);
        openssl_expand_label("SHA384", prk, 48, "quicv2 ku", ossl, 48);
        CHECK_MEM(next, ossl, 48);
    }
}

/* ---- header protection against OpenSSL's AES-ECB and ChaCha20 ---- */

static void hp_masks_match_openssl(void)
{
    static const skiff_aead_alg algs[] = {SKIFF_AEAD_AES_128_GCM, SKIFF_AEAD_AES_256_GCM,
                                          SKIFF_AEAD_CHACHA20_POLY1305};
    for (size_t a = 0; a < 3; a++) {
        for (int round = 0; round < 16; round++) {
            uint8_t key[32], sample[16], mask[5], want[16];
            static const uint8_t zeros[16];
            rng_fill(key, sizeof key);
            skiff_aead_hp hp;
            CHECK_EQ(skiff_aead_hp_init(&hp, algs[a], key), 0);
            EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
            const EVP_CIPHER *c = algs[a] == SKIFF_AEAD_AES_128_GCM   ? EVP_aes_128_ecb()
                                  : algs[a] == SKIFF_AEAD_AES_256_GCM ? EVP_aes_256_ecb()
                                                                      : EVP_chacha20();
            CHECK_EQ(EVP_EncryptInit_ex(ctx, c, NULL, key, NULL), 1);
            EVP_CIPHER_CTX_set_padding(ctx, 0);
            for (int s = 0; s < 64; s++) {
                int n;
                rng_fill(sample, sizeof sample);
                if (s == 0) memset(sample, 0xff, 4); /* the counter's top value */
                if (algs[a] == SKIFF_AEAD_CHACHA20_POLY1305) {
                    /* EVP's ChaCha20 IV: 32-bit LE counter, then the nonce. */
                    CHECK_EQ(EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, sample), 1);
                    CHECK_EQ(EVP_EncryptUpdate(ctx, want, &n, zeros, 5), 1);
                } else {
                    CHECK_EQ(EVP_EncryptUpdate(ctx, want, &n, sample, 16), 1);
                }
                CHECK_EQ(skiff_aead_hp_mask(&hp, sample, mask), 0);
                CHECK_MEM(mask, want, 5);
            }
            EVP_CIPHER_CTX_free(ctx);
            skiff_aead_hp_free(&hp);
        }
    }
}

/* ---- hostile input ---- */

/* Every single-bit flip of a protected packet, in header, payload or tag,
 * must fail authentication (header bits are AAD; protected header bits
 * change the packet number or its length, hence nonce and AAD). */
static void flips(const skiff_packet_keys *k, const uint8_t *pkt, size_t len, size_t pn_offset,
                  uint64_t pn, size_t step)
{
    uint8_t *p = test_dup_exact(pkt, len);
    int bad = 0;
    for (size_t bit = 0; bit < len * 8; bit += step) {
        memcpy(p, pkt, len);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t pn_len;
        uint64_t tpn;
        if (skiff_packet_unprotect_header(k, p, len, pn_offset, &pn_len, &tpn) != 0) {
            bad++;
            continue;
        }
        uint64_t window = (UINT64_C(1) << (8 * pn_len)) - 1;
        if (skiff_packet_open(k, p, pn_offset + pn_len, (pn & ~window) | tpn, len) !=
            SKIFF_ERR_DECRYPT)
            bad++;
    }
    CHECK_EQ(bad, 0);
    /* And the untouched packet still opens, so the failures mean something. */
    memcpy(p, pkt, len);
    size_t pn_len;
    uint64_t tpn;
    CHECK_EQ(skiff_packet_unprotect_header(k, p, len, pn_offset, &pn_len, &tpn), 0);
    CHECK(skiff_packet_open(k, p, pn_offset + pn_len, pn, len) > 0);
    free(p);
}

static void flipped_bits_fail_authentication(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t dcid[8], secret[32], pkt[1300];
        hexn(dcid_hex, dcid, sizeof dcid, 8);
        hexn(chacha_secret_hex, secret, sizeof secret, 32);
        skiff_packet_keys c = {0}, s = {0}, k = {0};
        CHECK_EQ(skiff_packet_keys_initial(v->version, dcid, 8, &c, &s), 0);
        CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_CHACHA20_POLY1305_SHA256, v->version,
                                               secret, 32),
                 0);
        size_t n = test_hex(v->chacha_packet, pkt, sizeof pkt);
        flips(&k, pkt, n, 1, CHACHA_PN, 1);
        n = test_hex(v->server_packet, pkt, sizeof pkt);
        flips(&s, pkt, n, 18, 1, 1);
        n = test_hex(v->client_packet, pkt, sizeof pkt);
        flips(&c, pkt, n, 18, 2, 7);
        skiff_packet_keys_clear(&c);
        skiff_packet_keys_clear(&s);
        skiff_packet_keys_clear(&k);
    }
}

/* Packets too short for the header-protection sample are dropped at every
 * length below the minimum, without a byte read past the end (ASan). */
static void too_short_for_the_sample(void)
{
    uint8_t secret[32], dcid[8], pkt[1300];
    hexn(chacha_secret_hex, secret, sizeof secret, 32);
    hexn(dcid_hex, dcid, sizeof dcid, 8);
    skiff_packet_keys k = {0}, c = {0}, s = {0};
    CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_CHACHA20_POLY1305_SHA256, SKIFF_QUIC_V1,
                                           secret, 32),
             0);
    CHECK_EQ(skiff_packet_keys_initial(SKIFF_QUIC_V1, dcid, 8, &c, &s), 0);

    /* Short header, empty DCID: pn_offset 1, so 21 bytes is the minimum. */
    size_t n = test_hex(rfc9001.chacha_packet, pkt, sizeof pkt);
    CHECK_EQ(n, 21);
    for (size_t len = 0; len < 21; len++) {
        uint8_t *p = test_dup_exact(pkt, len);
        size_t pn_len = 99;
        uint64_t tpn = 99;
        CHECK_EQ(skiff_packet_unprotect_header(&k, p, len, 1, &pn_len, &tpn),
                 SKIFF_ERR_INVALID_PACKET);
        CHECK(len == 0 || memcmp(p, pkt, len) == 0);
        CHECK_EQ(pn_len, 99);
        free(p);
    }
    /* Short header with an 8-byte DCID: pn_offset 9, minimum 29. */
    for (size_t len = 0; len < 29; len++) {
        uint8_t *p = test_dup_exact(pkt, len);
        size_t pn_len;
        uint64_t tpn;
        CHECK_EQ(skiff_packet_unprotect_header(&k, p, len, 9, &pn_len, &tpn),
                 SKIFF_ERR_INVALID_PACKET);
        free(p);
    }
    /* The client Initial, pn_offset 18: minimum 38. */
    n = test_hex(rfc9001.client_packet, pkt, sizeof pkt);
    for (size_t len = 0; len < 38; len++) {
        uint8_t *p = test_dup_exact(pkt, len);
        size_t pn_len;
        uint64_t tpn;
        CHECK_EQ(skiff_packet_unprotect_header(&c, p, len, 18, &pn_len, &tpn),
                 SKIFF_ERR_INVALID_PACKET);
        free(p);
    }
    /* Exactly the minimum is taken, and opens. */
    n = test_hex(rfc9001.chacha_packet, pkt, sizeof pkt);
    uint8_t *p = test_dup_exact(pkt, n);
    size_t pn_len;
    uint64_t tpn;
    CHECK_EQ(skiff_packet_unprotect_header(&k, p, n, 1, &pn_len, &tpn), 0);
    CHECK_EQ(skiff_packet_open(&k, p, 1 + pn_len, CHACHA_PN, n), 1);
    free(p);

    /* open() given less than a tag after the header drops it, reading nothing. */
    for (size_t len = 0; len < 4 + 16; len++) {
        uint8_t *q = test_dup_exact(pkt, len);
        CHECK_EQ(skiff_packet_open(&k, q, 4, CHACHA_PN, len), SKIFF_ERR_INVALID_PACKET);
        free(q);
    }
    skiff_packet_keys_clear(&k);
    skiff_packet_keys_clear(&c);
    skiff_packet_keys_clear(&s);
}

static void wrong_retry_tags_are_rejected(void)
{
    for (size_t i = 0; i < 2; i++) {
        const rfc_vectors *v = all_rfcs[i];
        uint8_t odcid[8], retry[64];
        hexn(dcid_hex, odcid, sizeof odcid, 8);
        size_t n = hexn(v->retry, retry, sizeof retry, 36);
        uint8_t *p = test_dup_exact(retry, n);
        int accepted = 0;
        for (size_t bit = 0; bit < n * 8; bit++) { /* header, token and tag bits */
            memcpy(p, retry, n);
            p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (skiff_retry_integrity_verify(v->version, odcid, 8, p, n) !=
                SKIFF_ERR_INVALID_PACKET)
                accepted++;
        }
        CHECK_EQ(accepted, 0);
        memcpy(p, retry, n);
        /* A different original DCID, the other version, or a cut packet. */
        uint8_t other[8];
        memcpy(other, odcid, 8);
        other[7] ^= 1;
        CHECK_EQ(skiff_retry_integrity_verify(v->version, other, 8, p, n),
                 SKIFF_ERR_INVALID_PACKET);
        CHECK_EQ(skiff_retry_integrity_verify(v->version, odcid, 7, p, n),
                 SKIFF_ERR_INVALID_PACKET);
        CHECK_EQ(skiff_retry_integrity_verify(
                     v->version == SKIFF_QUIC_V1 ? SKIFF_QUIC_V2 : SKIFF_QUIC_V1, odcid, 8, p, n),
                 SKIFF_ERR_INVALID_PACKET);
        CHECK_EQ(skiff_retry_integrity_verify(v->version, odcid, 8, p, n - 1),
                 SKIFF_ERR_INVALID_PACKET);
        free(p);
        for (size_t len = 0; len < 16; len++) {
            uint8_t *q = test_dup_exact(retry, len);
            CHECK_EQ(skiff_retry_integrity_verify(v->version, odcid, 8, q, len),
                     SKIFF_ERR_INVALID_PACKET);
            free(q);
        }
        CHECK_EQ(skiff_retry_integrity_verify(0xff00001du, odcid, 8, retry, n),
                 SKIFF_ERR_UNSUPPORTED_VERSION);
        CHECK_EQ(skiff_retry_integrity_verify(v->version, odcid, 21, retry, n),
                 SKIFF_ERR_INVALID_ARGUMENT);
    }
    /* Longer ODCIDs and tokens go through the same path (nettle's GCM takes
     * the AAD in two pieces there): the tag still tracks every byte. */
    uint8_t odcid[20], retry[600], tag1[16], tag2[16];
    rng_fill(odcid, sizeof odcid);
    rng_fill(retry, sizeof retry);
    for (size_t odl = 0; odl <= 20; odl += 5) {
        for (size_t rl = 0; rl < sizeof retry; rl += 37) {
            CHECK_EQ(skiff_retry_integrity_tag(SKIFF_QUIC_V1, odcid, odl, retry, rl, tag1), 0);
            if (rl > 0) {
                retry[rl - 1] ^= 0x80;
                CHECK_EQ(skiff_retry_integrity_tag(SKIFF_QUIC_V1, odcid, odl, retry, rl, tag2), 0);
                CHECK(memcmp(tag1, tag2, 16) != 0);
                retry[rl - 1] ^= 0x80;
            }
        }
    }
}

/* ---- round trips of every suite ---- */

static void every_suite_round_trips(void)
{
    static const skiff_cipher_suite suites[] = {SKIFF_SUITE_AES_128_GCM_SHA256,
                                                SKIFF_SUITE_AES_256_GCM_SHA384,
                                                SKIFF_SUITE_CHACHA20_POLY1305_SHA256};
    static const uint32_t versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2};
    static uint8_t plain[1500], pkt[1500], copy[1500];
    int trips = 0;
    for (size_t si = 0; si < 3; si++) {
        for (size_t vi = 0; vi < 2; vi++) {
            uint8_t secret[48];
            size_t secret_len = suites[si] == SKIFF_SUITE_AES_256_GCM_SHA384 ? 48 : 32;
            rng_fill(secret, sizeof secret);
            skiff_packet_keys k = {0};
            CHECK_EQ(
                skiff_packet_keys_from_secret(&k, suites[si], versions[vi], secret, secret_len), 0);
            for (int long_header = 0; long_header < 2; long_header++) {
                for (size_t pn_len = 1; pn_len <= 4; pn_len++) {
                    size_t lens[] = {4 - pn_len, 5 - pn_len, 37, 4 + (size_t)(rng() % 1400)};
                    if (lens[0] == 0) lens[0] = 1; /* frames are never empty */
                    for (size_t li = 0; li < 4; li++) {
                        size_t pn_offset = long_header ? 7 + rng() % 42 : 1 + rng() % 21;
                        uint64_t pn = rng() & SKIFF_VARINT_MAX;
                        size_t header_len = pn_offset + pn_len, payload_len = lens[li];
                        rng_fill(plain, header_len + payload_len);
                        plain[0] = (uint8_t)((long_header ? 0x80 : 0x00) | (plain[0] & 0x7c) |
                                             (pn_len - 1));
                        for (size_t b = 0; b < pn_len; b++)
                            plain[pn_offset + b] = (uint8_t)(pn >> (8 * (pn_len - 1 - b)));
                        memcpy(pkt, plain, header_len + payload_len);
                        skiff_ssize n = skiff_packet_protect(&k, pkt, pn_offset, pn_len, pn,
                                                             payload_len, sizeof pkt);
                        CHECK_EQ(n, (skiff_ssize)(header_len + payload_len + 16));
                        if (n < 0) continue;
                        /* Only the protected bits changed in the header. */
                        uint8_t keep = long_header ? 0xf0 : 0xe0;
                        CHECK_EQ(pkt[0] & keep, plain[0] & keep);
                        CHECK_MEM(pkt + 1, plain + 1, pn_offset - 1);

                        memcpy(copy, pkt, (size_t)n);
                        size_t got_len;
                        uint64_t tpn;
                        CHECK_EQ(skiff_packet_unprotect_header(&k, copy, (size_t)n, pn_offset,
                                                               &got_len, &tpn),
                                 0);
                        CHECK_EQ(got_len, pn_len);
                        CHECK_U64(tpn, pn & ((UINT64_C(1) << (8 * pn_len)) - 1));
                        CHECK_EQ(skiff_packet_open(&k, copy, header_len, pn, (size_t)n),
                                 (skiff_ssize)payload_len);
                        CHECK_MEM(copy, plain, header_len + payload_len);
                        trips++;
                    }
                }
            }
            skiff_packet_keys_clear(&k);
        }
    }
    CHECK_EQ(trips, 3 * 2 * 2 * 4 * 4);
}

/* ---- preconditions ---- */

static void bad_arguments(void)
{
    uint8_t secret[48] = {1}, pkt[64] = {0x41, 0, 0};
    skiff_packet_keys k = {0}, none = {0};
    size_t pn_len;
    uint64_t tpn;

    skiff_packet_keys_clear(&none); /* a zeroed struct is fine to clear */
    CHECK_EQ(skiff_packet_protect(&none, pkt, 1, 2, 0, 30, sizeof pkt), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_unprotect_header(&none, pkt, sizeof pkt, 1, &pn_len, &tpn),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_open(&none, pkt, 3, 0, sizeof pkt), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_keys_next(&k, &none), SKIFF_ERR_INVALID_ARGUMENT);

    CHECK_EQ(
        skiff_packet_keys_from_secret(&k, SKIFF_SUITE_AES_128_GCM_SHA256, 0xff00001du, secret, 32),
        SKIFF_ERR_UNSUPPORTED_VERSION);
    CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_AES_256_GCM_SHA384, SKIFF_QUIC_V1,
                                           secret, 32),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(
        skiff_packet_keys_from_secret(&k, (skiff_cipher_suite)0x1304, SKIFF_QUIC_V1, secret, 32),
        SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(!skiff_packet_keys_installed(&k));
    skiff_packet_keys c, s;
    CHECK_EQ(skiff_packet_keys_initial(0x00000002u, secret, 8, &c, &s),
             SKIFF_ERR_UNSUPPORTED_VERSION);
    CHECK(!skiff_packet_keys_installed(&c) && !skiff_packet_keys_installed(&s));
    CHECK_EQ(skiff_packet_keys_initial(SKIFF_QUIC_V1, secret, 21, &c, &s),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_keys_initial(SKIFF_QUIC_V1, secret, 0, &c, &s), 0); /* empty DCID */
    skiff_packet_keys_clear(&c);
    skiff_packet_keys_clear(&s);

    CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_AES_128_GCM_SHA256, SKIFF_QUIC_V1,
                                           secret, 32),
             0);
    /* Short of cap by one byte; then exactly enough. */
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, 30, 48), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, 30, 0), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, SIZE_MAX - 8, sizeof pkt),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    /* pn 2 bytes + payload 1 + tag 16 = 19 < 20: no room for the sample. */
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, 1, sizeof pkt), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, 2, sizeof pkt), 21);
    pkt[0] = 0x41;
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 3, 0, 30, sizeof pkt),
             SKIFF_ERR_INVALID_ARGUMENT); /* the first byte says 2 */
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 5, 0, 30, sizeof pkt), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 0, 2, 0, 30, sizeof pkt), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, SKIFF_VARINT_MAX + 1, 30, sizeof pkt),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_protect(&k, pkt, 1, 2, 0, 30, 49), 49);
    CHECK_EQ(skiff_packet_open(&k, pkt, 3, SKIFF_VARINT_MAX + 1, 49), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_packet_unprotect_header(&k, pkt, 49, 0, &pn_len, &tpn),
             SKIFF_ERR_INVALID_ARGUMENT);
    skiff_packet_keys_clear(&k);
    skiff_packet_keys_clear(&k); /* twice is harmless */

    CHECK_U64(skiff_packet_confidentiality_limit(SKIFF_SUITE_AES_128_GCM_SHA256), UINT64_C(1)
                                                                                      << 23);
    CHECK_U64(skiff_packet_integrity_limit(SKIFF_SUITE_AES_256_GCM_SHA384), UINT64_C(1) << 52);
    CHECK_U64(skiff_packet_integrity_limit(SKIFF_SUITE_CHACHA20_POLY1305_SHA256), UINT64_C(1)
                                                                                      << 36);
    CHECK_U64(skiff_packet_confidentiality_limit((skiff_cipher_suite)0), 0);
}

int main(void)
{
    RUN(initial_keys);
    RUN(initial_packets);
    RUN(retry_tags);
    RUN(chacha_short_header);
    RUN(key_update);
    RUN(hkdf_sha384_matches_openssl);
    RUN(hp_masks_match_openssl);
    RUN(flipped_bits_fail_authentication);
    RUN(too_short_for_the_sample);
    RUN(wrong_retry_tags_are_rejected);
    RUN(every_suite_round_trips);
    RUN(bad_arguments);
    return test_report("packet_protection");
}
