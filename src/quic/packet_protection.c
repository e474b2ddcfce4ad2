/*
 * QUIC packet protection: key derivation (RFC 9001 §5.1), Initial secrets
 * (§5.2), AEAD protection of the payload (§5.3), header protection (§5.4),
 * the Retry Integrity Tag (§5.8), key update (§6.1) and the AEAD limits
 * (§6.6), with QUIC v2's salt, labels and Retry key (RFC 9369 §3.3).
 *
 * The primitives are in aead.c; this file only arranges bytes around them,
 * so it includes no crypto library. Per packet it allocates nothing.
 */
#include "quic/packet_protection.h"

#include <string.h>

#include "common/varint.h"

/* ---- per-version constants (RFC 9001 §5.2, §5.8; RFC 9369 §3.3) ---- */

typedef struct version_params {
    uint32_t version;
    uint8_t initial_salt[20];
    const char *key_label, *iv_label, *hp_label, *ku_label;
    uint8_t retry_key[16];
    uint8_t retry_nonce[12];
} version_params;

static const version_params versions[] = {
    {
        SKIFF_QUIC_V1,
        {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
         0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
        "quic key",
        "quic iv",
        "quic hp",
        "quic ku",
        /* §5.8: HKDF-Expand-Label of the fixed secret 0xd9c9943e...6fca8e. */
        {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8,
         0x4e},
        {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb},
    },
    {
        SKIFF_QUIC_V2,
        /* RFC 9369 §3.3.1: the first 20 bytes of sha256("QUICv2 salt"). */
        {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
         0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
        "quicv2 key",
        "quicv2 iv",
        "quicv2 hp",
        "quicv2 ku",
        /* RFC 9369 §3.3.3, from sha256("QUICv2 retry secret"). */
        {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc,
         0x92},
        {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a},
    },
};

static const version_params *find_version(uint32_t version)
{
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (versions[i].version == version) return &versions[i];
    return NULL;
}

/* ---- per-suite parameters (RFC 9001 §5.3, §6.6) ---- */

static int suite_params(skiff_cipher_suite suite, skiff_aead_alg *alg, skiff_aead_hash *hash)
{
    switch (suite) {
    case SKIFF_SUITE_AES_128_GCM_SHA256:
        *alg = SKIFF_AEAD_AES_128_GCM;
        *hash = SKIFF_AEAD_SHA256;
        return 0;
    case SKIFF_SUITE_AES_256_GCM_SHA384:
        *alg = SKIFF_AEAD_AES_256_GCM;
        *hash = SKIFF_AEAD_SHA384;
        return 0;
    case SKIFF_SUITE_CHACHA20_POLY1305_SHA256:
        *alg = SKIFF_AEAD_CHACHA20_POLY1305;
        *hash = SKIFF_AEAD_SHA256;
        return 0;
    }
    return SKIFF_ERR_INVALID_ARGUMENT;
}

uint64_t skiff_packet_confidentiality_limit(skiff_cipher_suite suite)
{
    switch (suite) {
    case SKIFF_SUITE_AES_128_GCM_SHA256:
    case SKIFF_SUITE_AES_256_GCM_SHA384:
        return SKIFF_AEAD_AES_GCM_CONFIDENTIALITY_LIMIT;
    case SKIFF_SUITE_CHACHA20_POLY1305_SHA256:
        return SKIFF_AEAD_CHACHA20_CONFIDENTIALITY_LIMIT;
    }
    return 0;
}

uint64_t skiff_packet_integrity_limit(skiff_cipher_suite suite)
{
    switch (suite) {
    case SKIFF_SUITE_AES_128_GCM_SHA256:
    case SKIFF_SUITE_AES_256_GCM_SHA384:
        return SKIFF_AEAD_AES_GCM_INTEGRITY_LIMIT;
    case SKIFF_SUITE_CHACHA20_POLY1305_SHA256:
        return SKIFF_AEAD_CHACHA20_INTEGRITY_LIMIT;
    }
    return 0;
}

/* ---- derivation ---- */

int skiff_packet_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                                 uint8_t *client_secret, uint8_t *server_secret)
{
    const version_params *v = find_version(version);
    if (!v) return SKIFF_ERR_UNSUPPORTED_VERSION;
    if (dcid_len > 20) return SKIFF_ERR_INVALID_ARGUMENT; /* RFC 9000 §17.2 */
    /* §5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id);
     * the labels "client in"/"server in" are the same in v2 (RFC 9369 §3.3.2
     * renames only the quic* labels). The hash is always SHA-256. */
    uint8_t initial[SKIFF_PACKET_INITIAL_SECRET_LEN];
    skiff_aead_hkdf_extract(SKIFF_AEAD_SHA256, v->initial_salt, sizeof v->initial_salt, dcid,
                            dcid_len, initial);
    int rv = skiff_aead_hkdf_expand_label(SKIFF_AEAD_SHA256, initial, sizeof initial, "client in",
                                          client_secret, SKIFF_PACKET_INITIAL_SECRET_LEN);
    if (rv == 0)
        rv = skiff_aead_hkdf_expand_label(SKIFF_AEAD_SHA256, initial, sizeof initial, "server in",
                                          server_secret, SKIFF_PACKET_INITIAL_SECRET_LEN);
    explicit_bzero(initial, sizeof initial);
    return rv;
}

/* Checks suite, version and secret length together, as every derivation must. */
static int check_secret(skiff_cipher_suite suite, uint32_t version, size_t secret_len,
                        skiff_aead_alg *alg, skiff_aead_hash *hash, const version_params **v)
{
    if (suite_params(suite, alg, hash) < 0) return SKIFF_ERR_INVALID_ARGUMENT;
    *v = find_version(version);
    if (!*v) return SKIFF_ERR_UNSUPPORTED_VERSION;
    /* TLS 1.3 traffic secrets are Hash.length long (RFC 8446 §7.1). */
    if (secret_len != skiff_aead_hash_len(*hash)) return SKIFF_ERR_INVALID_ARGUMENT;
    return 0;
}

int skiff_packet_key_material_derive(skiff_packet_key_material *m, skiff_cipher_suite suite,
                                     uint32_t version, const uint8_t *secret, size_t secret_len)
{
    skiff_aead_alg alg;
    skiff_aead_hash hash;
    const version_params *v;
    memset(m, 0, sizeof *m);
    int rv = check_secret(suite, version, secret_len, &alg, &hash, &v);
    if (rv < 0) return rv;
    size_t key_len = skiff_aead_key_len(alg);
    /* §5.1: key, iv and hp from the secret, with the version's labels; the
     * header-protection key is as long as the AEAD key (§5.4.3, §5.4.4). */
    rv = skiff_aead_hkdf_expand_label(hash, secret, secret_len, v->key_label, m->key, key_len);
    if (rv == 0)
        rv = skiff_aead_hkdf_expand_label(hash, secret, secret_len, v->iv_label, m->iv,
                                          SKIFF_PACKET_IV_LEN);
    if (rv == 0)
        rv = skiff_aead_hkdf_expand_label(hash, secret, secret_len, v->hp_label, m->hp, key_len);
    if (rv < 0) {
        explicit_bzero(m, sizeof *m);
        return rv;
    }
    m->key_len = (uint8_t)key_len;
    return 0;
}

int skiff_packet_next_secret(skiff_cipher_suite suite, uint32_t version, const uint8_t *secret,
                             size_t secret_len, uint8_t *next)
{
    skiff_aead_alg alg;
    skiff_aead_hash hash;
    const version_params *v;
    int rv = check_secret(suite, version, secret_len, &alg, &hash, &v);
    if (rv < 0) return rv;
    /* §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length). */
    return skiff_aead_hkdf_expand_label(hash, secret, secret_len, v->ku_label, next, secret_len);
}

/* Keys *k from derived material; hp_key overrides m->hp when given (key update). */
static int install(skiff_packet_keys *k, skiff_cipher_suite suite, uint32_t version,
                   const uint8_t *secret, size_t secret_len, const skiff_packet_key_material *m,
                   const uint8_t *hp_key)
{
    skiff_aead_alg alg;
    skiff_aead_hash hash;
    memset(k, 0, sizeof *k);
    int rv = suite_params(suite, &alg, &hash);
    if (rv < 0) return rv;
    if (!hp_key) hp_key = m->hp;
    rv = skiff_aead_init(&k->aead, alg, m->key);
    if (rv == 0) rv = skiff_aead_hp_init(&k->hp, alg, hp_key);
    if (rv < 0) {
        skiff_packet_keys_clear(k);
        return rv;
    }
    memcpy(k->iv, m->iv, SKIFF_PACKET_IV_LEN);
    memcpy(k->hp_key, hp_key, m->key_len);
    memcpy(k->secret, secret, secret_len);
    k->secret_len = (uint8_t)secret_len;
    k->suite = suite;
    k->version = version;
    return 0;
}

int skiff_packet_keys_from_secret(skiff_packet_keys *k, skiff_cipher_suite suite, uint32_t version,
                                  const uint8_t *secret, size_t secret_len)
{
    skiff_packet_key_material m;
    memset(k, 0, sizeof *k);
    int rv = skiff_packet_key_material_derive(&m, suite, version, secret, secret_len);
    if (rv == 0) rv = install(k, suite, version, secret, secret_len, &m, NULL);
    explicit_bzero(&m, sizeof m);
    return rv;
}

int skiff_packet_keys_initial(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                              skiff_packet_keys *client, skiff_packet_keys *server)
{
    uint8_t cs[SKIFF_PACKET_INITIAL_SECRET_LEN], ss[SKIFF_PACKET_INITIAL_SECRET_LEN];
    memset(client, 0, sizeof *client);
    memset(server, 0, sizeof *server);
    /* §5.2: Initial packets always use AES-128-GCM with SHA-256. */
    int rv = skiff_packet_initial_secrets(version, dcid, dcid_len, cs, ss);
    if (rv == 0)
        rv = skiff_packet_keys_from_secret(client, SKIFF_SUITE_AES_128_GCM_SHA256, version, cs,
                                           sizeof cs);
    if (rv == 0)
        rv = skiff_packet_keys_from_secret(server, SKIFF_SUITE_AES_128_GCM_SHA256, version, ss,
                                           sizeof ss);
    if (rv < 0) skiff_packet_keys_clear(client);
    explicit_bzero(cs, sizeof cs);
    explicit_bzero(ss, sizeof ss);
    return rv;
}

int skiff_packet_keys_next(skiff_packet_keys *next, const skiff_packet_keys *cur)
{
    uint8_t secret[SKIFF_PACKET_SECRET_MAX];
    skiff_packet_key_material m;
    skiff_packet_keys fresh;
    if (!skiff_packet_keys_installed(cur)) {
        if (next != cur) memset(next, 0, sizeof *next);
        return SKIFF_ERR_INVALID_ARGUMENT;
    }
    int rv =
        skiff_packet_next_secret(cur->suite, cur->version, cur->secret, cur->secret_len, secret);
    if (rv == 0)
        rv =
            skiff_packet_key_material_derive(&m, cur->suite, cur->version, secret, cur->secret_len);
    /* §6.1: "The header protection key is not updated." Its context is keyed
     * anew from the kept key, so that each keys object owns its contexts. */
    if (rv == 0)
        rv = install(&fresh, cur->suite, cur->version, secret, cur->secret_len, &m, cur->hp_key);
    explicit_bzero(secret, sizeof secret);
    explicit_bzero(&m, sizeof m);
    if (rv < 0) {
        if (next != cur) memset(next, 0, sizeof *next);
        return rv;
    }
    if (next == cur) skiff_packet_keys_clear(next);
    *next = fresh;
    explicit_bzero(&fresh, sizeof fresh);
    return 0;
}

void skiff_packet_keys_clear(skiff_packet_keys *k)
{
    skiff_aead_free(&k->aead);
    skiff_aead_hp_free(&k->hp);
    explicit_bzero(k, sizeof *k);
}

/* ---- protecting and unprotecting ---- */

/* §5.3: the 62-bit packet number, left-padded to the IV's length and
 * exclusive-ORed with it. */
static void make_nonce(uint8_t *nonce, const uint8_t *iv, uint64_t pn)
{
    memcpy(nonce, iv, SKIFF_PACKET_IV_LEN);
    for (int i = 0; i < 8; i++)
        nonce[SKIFF_PACKET_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* §5.4.1: 4 protected bits in a long header (reserved + pn length), 5 in a
 * short one (reserved + key phase + pn length). */
static uint8_t first_byte_mask(uint8_t first)
{
    return (first & 0x80) ? 0x0f : 0x1f;
}

skiff_ssize skiff_packet_protect(const skiff_packet_keys *k, uint8_t *pkt, size_t pn_offset,
                                 size_t pn_len, uint64_t pn, size_t payload_len, size_t cap)
{
    if (!skiff_packet_keys_installed(k) || pn_offset == 0 || pn_len < 1 || pn_len > 4 ||
        pn > SKIFF_VARINT_MAX)
        return SKIFF_ERR_INVALID_ARGUMENT;
    size_t header_len = pn_offset + pn_len;
    if (pn_offset > cap || payload_len > cap || cap - pn_offset < pn_len + SKIFF_PACKET_TAG_LEN ||
        cap - header_len - SKIFF_PACKET_TAG_LEN < payload_len)
        return SKIFF_ERR_BUFFER_TOO_SMALL;
    size_t total = header_len + payload_len + SKIFF_PACKET_TAG_LEN;
    /* §5.4.2: the sample must exist; padding is the builder's job. */
    if (total - pn_offset < SKIFF_PACKET_SAMPLE_REACH) return SKIFF_ERR_INVALID_ARGUMENT;
    if ((size_t)(pkt[0] & 0x03) + 1 != pn_len) return SKIFF_ERR_INVALID_ARGUMENT;

    /* §5.3: AEAD first, the unprotected header (through the packet number) as AAD. */
    uint8_t nonce[SKIFF_PACKET_IV_LEN];
    make_nonce(nonce, k->iv, pn);
    int rv = skiff_aead_seal(&k->aead, nonce, pkt, header_len, pkt + header_len, payload_len,
                             pkt + header_len + payload_len);
    if (rv < 0) return rv;

    /* §5.4.1: then header protection, from the ciphertext sampled as if the
     * packet number were 4 bytes long (§5.4.2). */
    uint8_t mask[SKIFF_AEAD_HP_MASK_LEN];
    rv = skiff_aead_hp_mask(&k->hp, pkt + pn_offset + 4, mask);
    if (rv < 0) return rv;
    pkt[0] ^= mask[0] & first_byte_mask(pkt[0]);
    for (size_t i = 0; i < pn_len; i++)
        pkt[pn_offset + i] ^= mask[1 + i];
    return (skiff_ssize)total;
}

int skiff_packet_unprotect_header(const skiff_packet_keys *k, uint8_t *pkt, size_t pkt_len,
                                  size_t pn_offset, size_t *pn_len, uint64_t *truncated_pn)
{
    if (!skiff_packet_keys_installed(k) || pn_offset == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    /* §5.4.2: "An endpoint MUST discard packets that are not long enough to
     * contain a complete sample." Checked before any byte is read. */
    if (pkt_len < SKIFF_PACKET_SAMPLE_REACH || pkt_len - SKIFF_PACKET_SAMPLE_REACH < pn_offset)
        return SKIFF_ERR_INVALID_PACKET;

    uint8_t mask[SKIFF_AEAD_HP_MASK_LEN];
    int rv = skiff_aead_hp_mask(&k->hp, pkt + pn_offset + 4, mask);
    if (rv < 0) return rv;
    /* §5.4.1: the first byte first, since it gives the packet number length;
     * the header form bit itself is never protected. */
    pkt[0] ^= mask[0] & first_byte_mask(pkt[0]);
    size_t n = (size_t)(pkt[0] & 0x03) + 1;
    uint64_t tpn = 0;
    for (size_t i = 0; i < n; i++) {
        pkt[pn_offset + i] ^= mask[1 + i];
        tpn = tpn << 8 | pkt[pn_offset + i];
    }
    *pn_len = n;
    *truncated_pn = tpn;
    return 0;
}

skiff_ssize skiff_packet_open(const skiff_packet_keys *k, uint8_t *pkt, size_t header_len,
                              uint64_t full_pn, size_t pkt_len)
{
    if (!skiff_packet_keys_installed(k) || full_pn > SKIFF_VARINT_MAX)
        return SKIFF_ERR_INVALID_ARGUMENT;
    if (header_len == 0 || pkt_len < header_len || pkt_len - header_len < SKIFF_PACKET_TAG_LEN)
        return SKIFF_ERR_INVALID_PACKET;
    size_t len = pkt_len - header_len - SKIFF_PACKET_TAG_LEN;
    uint8_t nonce[SKIFF_PACKET_IV_LEN];
    make_nonce(nonce, k->iv, full_pn);
    int rv = skiff_aead_open(&k->aead, nonce, pkt, header_len, pkt + header_len, len,
                             pkt + header_len + len);
    return rv < 0 ? rv : (skiff_ssize)len;
}

/* ---- Retry Integrity Tag (§5.8, RFC 9369 §3.3.3) ---- */

int skiff_retry_integrity_tag(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                              const uint8_t *retry, size_t retry_len_without_tag, uint8_t *tag)
{
    const version_params *v = find_version(version);
    if (!v) return SKIFF_ERR_UNSUPPORTED_VERSION;
    if (odcid_len > 20) return SKIFF_ERR_INVALID_ARGUMENT;
    /* The pseudo-packet is ODCID Length, ODCID, then the Retry without its
     * tag; it is passed in two pieces rather than assembled in a buffer. */
    uint8_t prefix[1 + 20];
    prefix[0] = (uint8_t)odcid_len;
    if (odcid_len) memcpy(prefix + 1, odcid, odcid_len);
    return skiff_aead_aes128gcm_tag(v->retry_key, v->retry_nonce, prefix, 1 + odcid_len, retry,
                                    retry_len_without_tag, tag);
}

int skiff_retry_integrity_verify(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                                 const uint8_t *retry, size_t retry_len)
{
    uint8_t tag[SKIFF_PACKET_TAG_LEN];
    if (retry_len < SKIFF_PACKET_TAG_LEN) return SKIFF_ERR_INVALID_PACKET;
    size_t body = retry_len - SKIFF_PACKET_TAG_LEN;
    int rv = skiff_retry_integrity_tag(version, odcid, odcid_len, retry, body, tag);
    if (rv < 0) return rv;
    /* Constant time: accumulate every difference, branch once at the end. */
    uint8_t diff = 0;
    for (size_t i = 0; i < SKIFF_PACKET_TAG_LEN; i++)
        diff |= (uint8_t)(tag[i] ^ retry[body + i]);
    return diff == 0 ? 0 : SKIFF_ERR_INVALID_PACKET;
}
