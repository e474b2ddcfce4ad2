/*
 * The cryptographic primitives of QUIC packet protection, behind one small
 * interface so that nothing else in src/quic/ includes a crypto library for
 * them: AEAD seal/open in place (RFC 5116, RFC 8439), the header-protection
 * mask (RFC 9001 §5.4.3, §5.4.4) and HKDF with the TLS 1.3 labels (RFC 5869,
 * RFC 8446 §7.1).
 *
 * Which library does the work differs per algorithm and was chosen by
 * measurement (tests/bench/aead_bench.c, docs/internals/packet-protection.md);
 * skiff_aead_backend_name() says which one a build uses.
 *
 * Contexts are keyed once, when a key is installed; seal, open and the mask
 * then allocate nothing. A context is mutated by each call (the nonce, the
 * running GHASH/Poly1305 state), so one context must not be used from two
 * threads at once, even through a const pointer.
 */
#ifndef SKIFF_QUIC_AEAD_H
#define SKIFF_QUIC_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

typedef enum skiff_aead_alg {
    SKIFF_AEAD_AES_128_GCM,
    SKIFF_AEAD_AES_256_GCM,
    SKIFF_AEAD_CHACHA20_POLY1305,
} skiff_aead_alg;

#define SKIFF_AEAD_ALG_COUNT 3

typedef enum skiff_aead_hash {
    SKIFF_AEAD_SHA256,
    SKIFF_AEAD_SHA384,
} skiff_aead_hash;

#define SKIFF_AEAD_TAG_LEN 16   /* every AEAD QUIC uses (RFC 9001 §5.3) */
#define SKIFF_AEAD_NONCE_LEN 12 /* every AEAD QUIC uses (RFC 5116 §5, RFC 8439 §2.8) */
#define SKIFF_AEAD_KEY_MAX 32
#define SKIFF_AEAD_HP_SAMPLE_LEN 16 /* RFC 9001 §5.4.2 */
#define SKIFF_AEAD_HP_MASK_LEN 5    /* RFC 9001 §5.4.1 */
#define SKIFF_AEAD_HASH_MAX 48

/*
 * A keyed AEAD. `ctx` is the backend's context, owned; `alg` picks the
 * backend. A zeroed struct is "no key": skiff_aead_free() accepts it.
 */
typedef struct skiff_aead {
    skiff_aead_alg alg;
    void *ctx;
} skiff_aead;

/* A keyed header-protection function (AES-ECB or raw ChaCha20). Same rules. */
typedef struct skiff_aead_hp {
    skiff_aead_alg alg;
    void *ctx;
} skiff_aead_hp;

/* Key length of the AEAD and of its header protection: 16 or 32. */
size_t skiff_aead_key_len(skiff_aead_alg alg);

/* Output length of the hash: 32 or 48. */
size_t skiff_aead_hash_len(skiff_aead_hash hash);

/* "gnutls", "openssl", "nettle" or "skiff" (our own code): what computes alg's
 * AEAD (hp = 0) or its header protection (hp = 1). For the benchmark and logs. */
const char *skiff_aead_backend_name(skiff_aead_alg alg, int hp);

/*
 * Keys an AEAD context with skiff_aead_key_len(alg) bytes of key. Returns 0,
 * SKIFF_ERR_NOMEM or SKIFF_ERR_CRYPTO; on failure *a is left zeroed.
 */
int skiff_aead_init(skiff_aead *a, skiff_aead_alg alg, const uint8_t *key);

/* Frees the context (which wipes its key schedule) and zeroes *a. */
void skiff_aead_free(skiff_aead *a);

/*
 * Encrypts data[0..len) in place under the 12-byte nonce with aad as
 * associated data and writes the 16-byte tag to `tag` (which may directly
 * follow data). Returns 0 or SKIFF_ERR_CRYPTO.
 */
int skiff_aead_seal(const skiff_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    uint8_t *data, size_t len, uint8_t *tag);

/*
 * Decrypts data[0..len) in place and checks `tag`. Returns 0, or
 * SKIFF_ERR_DECRYPT when authentication fails; data then holds unspecified
 * bytes (the packet is dropped, RFC 9001 §5.5). SKIFF_ERR_CRYPTO if the
 * library failed otherwise.
 */
int skiff_aead_open(const skiff_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    uint8_t *data, size_t len, const uint8_t *tag);

/* Keys a header-protection context with skiff_aead_key_len(alg) bytes. Returns
 * 0, SKIFF_ERR_NOMEM or SKIFF_ERR_CRYPTO; on failure *hp is left zeroed. */
int skiff_aead_hp_init(skiff_aead_hp *hp, skiff_aead_alg alg, const uint8_t *key);

void skiff_aead_hp_free(skiff_aead_hp *hp);

/*
 * The 5-byte header-protection mask for a 16-byte ciphertext sample:
 * AES-ECB(hp_key, sample)[0..5] (RFC 9001 §5.4.3), or ChaCha20 keystream with
 * counter = sample[0..4] little-endian and nonce = sample[4..16] (§5.4.4).
 * Returns 0 or SKIFF_ERR_CRYPTO.
 */
int skiff_aead_hp_mask(const skiff_aead_hp *hp, const uint8_t *sample, uint8_t *mask);

/*
 * One-shot AEAD_AES_128_GCM tag over an empty plaintext with associated data
 * aad1 || aad2, as the Retry Integrity Tag needs (RFC 9001 §5.8). Uses a
 * context on the stack: allocates nothing. Returns 0 or SKIFF_ERR_CRYPTO.
 */
int skiff_aead_aes128gcm_tag(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad1,
                             size_t aad1_len, const uint8_t *aad2, size_t aad2_len, uint8_t *tag);

/* HKDF-Extract (RFC 5869 §2.2): writes skiff_aead_hash_len(hash) bytes to prk. */
void skiff_aead_hkdf_extract(skiff_aead_hash hash, const uint8_t *salt, size_t salt_len,
                             const uint8_t *ikm, size_t ikm_len, uint8_t *prk);

/*
 * HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, as QUIC uses it:
 * info = uint16 out_len || uint8 len("tls13 " label) || "tls13 " label || 0.
 * Returns 0, or SKIFF_ERR_INVALID_ARGUMENT when the secret is empty, the
 * label longer than 249 bytes, or out_len 0 or above 255 hash blocks.
 */
int skiff_aead_hkdf_expand_label(skiff_aead_hash hash, const uint8_t *secret, size_t secret_len,
                                 const char *label, uint8_t *out, size_t out_len);

#endif
