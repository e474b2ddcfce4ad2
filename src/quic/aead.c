/*
 * The crypto primitives of packet protection, one backend per algorithm,
 * chosen by measurement (tests/bench/aead_bench.c; the figures and the
 * reasons are in docs/internals/packet-protection.md):
 *
 *   AES-128-GCM, AES-256-GCM (RFC 5116)        GnuTLS gnutls_aead_cipher_encryptv2,
 *                                              in place over one iovec
 *   ChaCha20-Poly1305 (RFC 8439 §2.8)          OpenSSL EVP, in place
 *   AES header protection (RFC 9001 §5.4.3)    nettle aes*_encrypt, one block
 *   ChaCha20 header protection (§5.4.4)        the RFC 8439 §2.3 block function,
 *                                              here, in portable C
 *   HKDF-Extract / Expand-Label (RFC 5869, RFC 8446 §7.1)   nettle HMAC
 *   Retry Integrity Tag (RFC 9001 §5.8)        nettle GCM on the stack
 *
 * This is the only file of packet protection that includes a crypto library.
 * Every context is keyed once in *_init(); the per-packet calls neither
 * allocate nor look algorithms up.
 */
#include "quic/aead.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/aes.h>
#include <nettle/gcm.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <openssl/evp.h>

size_t skiff_aead_key_len(skiff_aead_alg alg)
{
    return alg == SKIFF_AEAD_AES_128_GCM ? 16 : 32;
}

size_t skiff_aead_hash_len(skiff_aead_hash hash)
{
    return hash == SKIFF_AEAD_SHA384 ? 48 : 32;
}

const char *skiff_aead_backend_name(skiff_aead_alg alg, int hp)
{
    if (alg == SKIFF_AEAD_CHACHA20_POLY1305) return hp ? "skiff" : "openssl";
    return hp ? "nettle" : "gnutls";
}

static int is_gcm(skiff_aead_alg alg)
{
    return alg == SKIFF_AEAD_AES_128_GCM || alg == SKIFF_AEAD_AES_256_GCM;
}

/* ---- AEAD ----
 *
 * AES-GCM: a GnuTLS AEAD handle, keyed once; encryptv2/decryptv2 take the
 * nonce per call and work in place over iovecs, with no allocation (checked
 * with valgrind's heap counts).
 *
 * ChaCha20-Poly1305: one EVP_CIPHER_CTX keyed once; each packet only sets the
 * nonce. The same context seals and opens (EVP_CipherInit_ex's last argument
 * picks the direction per call and keeps the key), because one key object is
 * used to protect at one end and to open at the other, and tests do both. */

int skiff_aead_init(skiff_aead *a, skiff_aead_alg alg, const uint8_t *key)
{
    memset(a, 0, sizeof *a);
    if (is_gcm(alg)) {
        gnutls_aead_cipher_hd_t h;
        gnutls_datum_t k = {(unsigned char *)key, (unsigned)skiff_aead_key_len(alg)};
        int rv = gnutls_aead_cipher_init(&h,
                                         alg == SKIFF_AEAD_AES_128_GCM ? GNUTLS_CIPHER_AES_128_GCM
                                                                       : GNUTLS_CIPHER_AES_256_GCM,
                                         &k);
        if (rv == GNUTLS_E_MEMORY_ERROR) return SKIFF_ERR_NOMEM;
        if (rv < 0) return SKIFF_ERR_CRYPTO;
        a->ctx = h;
    } else if (alg == SKIFF_AEAD_CHACHA20_POLY1305) {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        if (!ctx) return SKIFF_ERR_NOMEM;
        /* The default nonce length is the 12 bytes QUIC uses (RFC 9001 §5.3). */
        if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, NULL, 1) != 1) {
            EVP_CIPHER_CTX_free(ctx);
            return SKIFF_ERR_CRYPTO;
        }
        a->ctx = ctx;
    } else {
        return SKIFF_ERR_INVALID_ARGUMENT;
    }
    a->alg = alg;
    return 0;
}

void skiff_aead_free(skiff_aead *a)
{
    /* Both libraries wipe the key schedule when they free it. */
    if (a->ctx) {
        if (is_gcm(a->alg))
            gnutls_aead_cipher_deinit(a->ctx);
        else
            EVP_CIPHER_CTX_free(a->ctx);
    }
    memset(a, 0, sizeof *a);
}

static int evp_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *nonce, const uint8_t *aad,
                   size_t aad_len, uint8_t *data, size_t len)
{
    int n;
    if (aad_len > INT_MAX || len > INT_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1) return SKIFF_ERR_CRYPTO;
    if (aad_len && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) return SKIFF_ERR_CRYPTO;
    if (len && EVP_CipherUpdate(ctx, data, &n, data, (int)len) != 1) return SKIFF_ERR_CRYPTO;
    return 0;
}

int skiff_aead_seal(const skiff_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    uint8_t *data, size_t len, uint8_t *tag)
{
    if (is_gcm(a->alg)) {
        giovec_t auth = {(void *)aad, aad_len}, text = {data, len};
        size_t tag_len = SKIFF_AEAD_TAG_LEN;
        int rv = gnutls_aead_cipher_encryptv2(a->ctx, nonce, SKIFF_AEAD_NONCE_LEN, &auth,
                                              aad_len ? 1 : 0, &text, len ? 1 : 0, tag, &tag_len);
        return rv < 0 || tag_len != SKIFF_AEAD_TAG_LEN ? SKIFF_ERR_CRYPTO : 0;
    }
    EVP_CIPHER_CTX *ctx = a->ctx;
    uint8_t none[16];
    int n, rv = evp_run(ctx, 1, nonce, aad, aad_len, data, len);
    if (rv < 0) return rv;
    /* The AEAD buffers nothing: Final writes no bytes, it computes the tag. */
    if (EVP_CipherFinal_ex(ctx, none, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SKIFF_AEAD_TAG_LEN, tag) != 1)
        return SKIFF_ERR_CRYPTO;
    return 0;
}

int skiff_aead_open(const skiff_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    uint8_t *data, size_t len, const uint8_t *tag)
{
    if (is_gcm(a->alg)) {
        giovec_t auth = {(void *)aad, aad_len}, text = {data, len};
        int rv = gnutls_aead_cipher_decryptv2(a->ctx, nonce, SKIFF_AEAD_NONCE_LEN, &auth,
                                              aad_len ? 1 : 0, &text, len ? 1 : 0, (void *)tag,
                                              SKIFF_AEAD_TAG_LEN);
        if (rv == GNUTLS_E_DECRYPTION_FAILED) return SKIFF_ERR_DECRYPT;
        return rv < 0 ? SKIFF_ERR_CRYPTO : 0;
    }
    EVP_CIPHER_CTX *ctx = a->ctx;
    uint8_t none[16];
    int n, rv = evp_run(ctx, 0, nonce, aad, aad_len, data, len);
    if (rv < 0) return rv;
    /* SET_TAG copies the tag; OpenSSL's prototype is not const-correct. */
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SKIFF_AEAD_TAG_LEN, (void *)tag) != 1)
        return SKIFF_ERR_CRYPTO;
    /* Final compares the tags in constant time; failure is authentication. */
    return EVP_CipherFinal_ex(ctx, none, &n) == 1 ? 0 : SKIFF_ERR_DECRYPT;
}

/* ---- header protection ----
 *
 * One block per packet, so what costs is the path to the block function,
 * not its throughput. AES: nettle's aes*_encrypt is a direct call into its
 * AES-NI code (about 12 ns here, level with OpenSSL's EVP, without EVP's
 * state). ChaCha20: both libraries spend 180-190 ns on one block (OpenSSL
 * about 35 ns re-initialising EVP and 140 ns in its short-input path;
 * nettle's ChaCha has no SIMD code for this CPU), about a fifth of a whole
 * 1452-byte packet's AEAD, while the RFC 8439 §2.3 block function below
 * takes about 80 ns.
 * It is branch-free add-rotate-xor, so constant-time, and the tests check it
 * against OpenSSL's ChaCha20 on random keys and samples as well as against
 * the RFC 9001 and RFC 9369 vectors. */

typedef union hp_ctx {
    struct aes128_ctx aes128;
    struct aes256_ctx aes256;
    uint32_t chacha_key[8];
} hp_ctx;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t rotl32(uint32_t v, int c)
{
    return v << c | v >> (32 - c);
}

/* RFC 8439 §2.1: the quarter round. */
#define QUARTER_ROUND(a, b, c, d)                                                                  \
    do {                                                                                           \
        a += b;                                                                                    \
        d = rotl32(d ^ a, 16);                                                                     \
        c += d;                                                                                    \
        b = rotl32(b ^ c, 12);                                                                     \
        a += b;                                                                                    \
        d = rotl32(d ^ a, 8);                                                                      \
        c += d;                                                                                    \
        b = rotl32(b ^ c, 7);                                                                      \
    } while (0)

/* RFC 9001 §5.4.4: the first 5 bytes of the ChaCha20 block (RFC 8439 §2.3)
 * for counter = sample[0..4] little-endian and nonce = sample[4..16]; that
 * keystream XOR five zero bytes is the mask. */
static void chacha20_hp_mask(const uint32_t *key, const uint8_t *sample, uint8_t *mask)
{
    uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574}; /* "expand 32-byte k" */
    for (int i = 0; i < 8; i++)
        in[4 + i] = key[i];
    for (int i = 0; i < 4; i++)
        in[12 + i] = le32(sample + 4 * i);
    uint32_t x[16];
    memcpy(x, in, sizeof x);
    for (int i = 0; i < 10; i++) { /* 20 rounds: column, then diagonal (§2.3) */
        QUARTER_ROUND(x[0], x[4], x[8], x[12]);
        QUARTER_ROUND(x[1], x[5], x[9], x[13]);
        QUARTER_ROUND(x[2], x[6], x[10], x[14]);
        QUARTER_ROUND(x[3], x[7], x[11], x[15]);
        QUARTER_ROUND(x[0], x[5], x[10], x[15]);
        QUARTER_ROUND(x[1], x[6], x[11], x[12]);
        QUARTER_ROUND(x[2], x[7], x[8], x[13]);
        QUARTER_ROUND(x[3], x[4], x[9], x[14]);
    }
    uint32_t w0 = x[0] + in[0], w1 = x[1] + in[1]; /* serialized little-endian */
    mask[0] = (uint8_t)w0;
    mask[1] = (uint8_t)(w0 >> 8);
    mask[2] = (uint8_t)(w0 >> 16);
    mask[3] = (uint8_t)(w0 >> 24);
    mask[4] = (uint8_t)w1;
    explicit_bzero(x, sizeof x);
    explicit_bzero(in, sizeof in);
}

int skiff_aead_hp_init(skiff_aead_hp *hp, skiff_aead_alg alg, const uint8_t *key)
{
    memset(hp, 0, sizeof *hp);
    if (!is_gcm(alg) && alg != SKIFF_AEAD_CHACHA20_POLY1305) return SKIFF_ERR_INVALID_ARGUMENT;
    hp_ctx *c = malloc(sizeof *c);
    if (!c) return SKIFF_ERR_NOMEM;
    if (alg == SKIFF_AEAD_AES_128_GCM) {
        aes128_set_encrypt_key(&c->aes128, key);
    } else if (alg == SKIFF_AEAD_AES_256_GCM) {
        aes256_set_encrypt_key(&c->aes256, key);
    } else {
        for (int i = 0; i < 8; i++)
            c->chacha_key[i] = le32(key + 4 * i);
    }
    hp->alg = alg;
    hp->ctx = c;
    return 0;
}

void skiff_aead_hp_free(skiff_aead_hp *hp)
{
    if (hp->ctx) {
        explicit_bzero(hp->ctx, sizeof(hp_ctx));
        free(hp->ctx);
    }
    memset(hp, 0, sizeof *hp);
}

int skiff_aead_hp_mask(const skiff_aead_hp *hp, const uint8_t *sample, uint8_t *mask)
{
    hp_ctx *c = hp->ctx;
    uint8_t block[16];
    switch (hp->alg) {
    case SKIFF_AEAD_AES_128_GCM: /* §5.4.3: mask = AES-ECB(hp_key, sample) */
        aes128_encrypt(&c->aes128, 16, block, sample);
        break;
    case SKIFF_AEAD_AES_256_GCM:
        aes256_encrypt(&c->aes256, 16, block, sample);
        break;
    case SKIFF_AEAD_CHACHA20_POLY1305:
        chacha20_hp_mask(c->chacha_key, sample, mask);
        return 0;
    default:
        return SKIFF_ERR_CRYPTO;
    }
    memcpy(mask, block, SKIFF_AEAD_HP_MASK_LEN);
    return 0;
}

/* ---- Retry Integrity Tag: nettle GCM on the stack ---- */

int skiff_aead_aes128gcm_tag(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad1,
                             size_t aad1_len, const uint8_t *aad2, size_t aad2_len, uint8_t *tag)
{
    /* nettle's gcm_update takes whole blocks in every call but the last, so
     * aad1 (the ODCID prefix) is joined with the start of aad2 into a
     * 48-byte head: three blocks, or all of the AAD if it is shorter. */
    uint8_t head[48];
    if (aad1_len > 32) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t take = aad2_len < sizeof head - aad1_len ? aad2_len : sizeof head - aad1_len;
    memcpy(head, aad1, aad1_len);
    memcpy(head + aad1_len, aad2, take);

    struct gcm_aes128_ctx ctx;
    gcm_aes128_set_key(&ctx, key);
    gcm_aes128_set_iv(&ctx, SKIFF_AEAD_NONCE_LEN, nonce);
    gcm_aes128_update(&ctx, aad1_len + take, head);
    if (aad2_len > take) gcm_aes128_update(&ctx, aad2_len - take, aad2 + take);
    gcm_aes128_digest(&ctx, SKIFF_AEAD_TAG_LEN, tag);
    explicit_bzero(&ctx, sizeof ctx);
    return 0;
}

/* ---- HKDF: nettle HMAC ----
 *
 * Not per packet: only when keys are installed or updated. Thin wrappers
 * give nettle's hkdf the void-context signatures it calls through, rather
 * than casting the HMAC functions' types. */

static void hmac256_update(void *ctx, size_t len, const uint8_t *p)
{
    hmac_sha256_update(ctx, len, p);
}

static void hmac256_digest(void *ctx, size_t len, uint8_t *out)
{
    hmac_sha256_digest(ctx, len, out);
}

static void hmac384_update(void *ctx, size_t len, const uint8_t *p)
{
    hmac_sha384_update(ctx, len, p);
}

static void hmac384_digest(void *ctx, size_t len, uint8_t *out)
{
    hmac_sha384_digest(ctx, len, out);
}

typedef union hmac_ctx {
    struct hmac_sha256_ctx sha256;
    struct hmac_sha384_ctx sha384;
} hmac_ctx;

void skiff_aead_hkdf_extract(skiff_aead_hash hash, const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    hmac_ctx ctx;
    /* RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM). */
    if (hash == SKIFF_AEAD_SHA384) {
        hmac_sha384_set_key(&ctx.sha384, salt_len, salt);
        hkdf_extract(&ctx.sha384, hmac384_update, hmac384_digest, SHA384_DIGEST_SIZE, ikm_len, ikm,
                     prk);
    } else {
        hmac_sha256_set_key(&ctx.sha256, salt_len, salt);
        hkdf_extract(&ctx.sha256, hmac256_update, hmac256_digest, SHA256_DIGEST_SIZE, ikm_len, ikm,
                     prk);
    }
    explicit_bzero(&ctx, sizeof ctx);
}

int skiff_aead_hkdf_expand_label(skiff_aead_hash hash, const uint8_t *secret, size_t secret_len,
                                 const char *label, uint8_t *out, size_t out_len)
{
    static const char prefix[] = "tls13 ";
    const size_t prefix_len = sizeof prefix - 1;
    size_t label_len = strlen(label);
    size_t hash_len = skiff_aead_hash_len(hash);
    /* RFC 8446 §7.1: the full label is 7..255 bytes; HKDF-Expand gives at
     * most 255 blocks (RFC 5869 §2.3), and the length field is 16 bits. */
    if (label_len + prefix_len > 255 || out_len > 255 * hash_len || out_len == 0 || secret_len == 0)
        return SKIFF_ERR_INVALID_ARGUMENT;

    /* struct HkdfLabel { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
    uint8_t info[2 + 1 + 255 + 1];
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(prefix_len + label_len);
    memcpy(info + n, prefix, prefix_len);
    n += prefix_len;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0; /* empty context: QUIC's labels never carry one */

    hmac_ctx ctx;
    if (hash == SKIFF_AEAD_SHA384) {
        hmac_sha384_set_key(&ctx.sha384, secret_len, secret);
        hkdf_expand(&ctx.sha384, hmac384_update, hmac384_digest, SHA384_DIGEST_SIZE, n, info,
                    out_len, out);
    } else {
        hmac_sha256_set_key(&ctx.sha256, secret_len, secret);
        hkdf_expand(&ctx.sha256, hmac256_update, hmac256_digest, SHA256_DIGEST_SIZE, n, info,
                    out_len, out);
    }
    explicit_bzero(&ctx, sizeof ctx);
    return 0;
}
