/*
 * QUIC packet protection (RFC 9001 §5, §6; RFC 9369 §3.3 for QUIC v2):
 * deriving packet keys from TLS secrets and from the client's Destination
 * Connection ID, key update, protecting and unprotecting whole packets in
 * place, and the Retry Integrity Tag.
 *
 * Sans-I/O and allocation-free per packet: a skiff_packet_keys is keyed once
 * when TLS hands over a secret (the crypto library allocates its contexts
 * then), and protect / unprotect only run the primitives over the caller's
 * buffer.
 *
 * Sending, the caller writes the plaintext header (packet number included,
 * its length in the first byte's low two bits) and payload, then
 *
 *     n = skiff_packet_protect(k, pkt, pn_offset, pn_len, pn, payload_len, cap);
 *
 * Receiving takes two steps, because the packet-number length and, in short
 * headers, the key phase are themselves under header protection (§5.4):
 *
 *     skiff_packet_unprotect_header(k, pkt, len, pn_offset, &pn_len, &tpn);
 *     (read the key phase, pick keys, recover the full pn, RFC 9000 §A.3)
 *     n = skiff_packet_open(k, pkt, pn_offset + pn_len, full_pn, len);
 *
 * The header-protection key never changes with a key update (§6.1), so the
 * first step can use any keys of the packet number space.
 *
 *     +-------------+-----------+------+---------------------------+-------+
 *     | first byte  | ... DCID, | pn   | payload                   | tag   |
 *     | (low bits   |  Length   | 1..4 |                           | 16    |
 *     |  protected) |           |      |                           |       |
 *     +-------------+-----------+------+---------------------------+-------+
 *     ^0                        ^pn_offset  ^pn_offset+4: 16-byte HP sample
 *     |<---------- AAD (§5.3) ---------->|<------- AEAD ciphertext -------->|
 */
#ifndef SKIFF_QUIC_PACKET_PROTECTION_H
#define SKIFF_QUIC_PACKET_PROTECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/aead.h"
#include "skiff/skiff.h"

/* The TLS 1.3 cipher suites QUIC can use (RFC 9001 §5.3), valued as their
 * TLS code points (RFC 8446 §B.4). TLS_AES_128_CCM_SHA256 is not offered. */
typedef enum skiff_cipher_suite {
    SKIFF_SUITE_AES_128_GCM_SHA256 = 0x1301,
    SKIFF_SUITE_AES_256_GCM_SHA384 = 0x1302,
    SKIFF_SUITE_CHACHA20_POLY1305_SHA256 = 0x1303,
} skiff_cipher_suite;

/*
 * AEAD usage limits (RFC 9001 §6.6), for the connection to enforce: the
 * number of packets one key may protect, and the number of packets failing
 * authentication a connection may see across all keys. ChaCha20-Poly1305 has
 * no confidentiality limit below the 2^62 packet numbers.
 */
#define SKIFF_AEAD_AES_GCM_CONFIDENTIALITY_LIMIT (UINT64_C(1) << 23)
#define SKIFF_AEAD_AES_GCM_INTEGRITY_LIMIT (UINT64_C(1) << 52)
#define SKIFF_AEAD_CHACHA20_CONFIDENTIALITY_LIMIT (UINT64_C(1) << 62)
#define SKIFF_AEAD_CHACHA20_INTEGRITY_LIMIT (UINT64_C(1) << 36)

/* The limits above for a suite; 0 for a value that is not a suite. */
uint64_t skiff_packet_confidentiality_limit(skiff_cipher_suite suite);
uint64_t skiff_packet_integrity_limit(skiff_cipher_suite suite);

#define SKIFF_PACKET_TAG_LEN SKIFF_AEAD_TAG_LEN
#define SKIFF_PACKET_IV_LEN 12
#define SKIFF_PACKET_SECRET_MAX SKIFF_AEAD_HASH_MAX
#define SKIFF_PACKET_INITIAL_SECRET_LEN 32 /* SHA-256 (RFC 9001 §5.2) */
/* A protected packet must reach pn_offset + this many bytes so the header
 * protection sample exists (RFC 9001 §5.4.2). */
#define SKIFF_PACKET_SAMPLE_REACH (4 + SKIFF_AEAD_HP_SAMPLE_LEN)

/*
 * What one secret yields (RFC 9001 §5.1, RFC 9369 §3.3.2): the AEAD key, the
 * static IV and the header-protection key, each as long as the suite wants.
 */
typedef struct skiff_packet_key_material {
    uint8_t key[SKIFF_AEAD_KEY_MAX];
    uint8_t iv[SKIFF_PACKET_IV_LEN];
    uint8_t hp[SKIFF_AEAD_KEY_MAX];
    uint8_t key_len; /* also the hp length */
} skiff_packet_key_material;

/*
 * The keys for one direction at one encryption level: the keyed AEAD and
 * header-protection contexts, the static IV, and the secret the next key
 * update derives from (§6.1; kept at every level, used only at 1-RTT).
 *
 * A zeroed struct holds no keys; skiff_packet_keys_clear() accepts it and
 * returns a struct to that state. Structs may be moved with assignment (the
 * contexts are owned through pointers) but not copied: clear one copy only.
 * The contexts change with each use, so one skiff_packet_keys must not be
 * used by two threads at once.
 */
typedef struct skiff_packet_keys {
    skiff_aead aead;
    skiff_aead_hp hp;
    uint8_t iv[SKIFF_PACKET_IV_LEN];
    uint8_t hp_key[SKIFF_AEAD_KEY_MAX]; /* re-keys hp in skiff_packet_keys_next() */
    uint8_t secret[SKIFF_PACKET_SECRET_MAX];
    uint8_t secret_len;
    skiff_cipher_suite suite;
    uint32_t version;
} skiff_packet_keys;

static inline bool skiff_packet_keys_installed(const skiff_packet_keys *k)
{
    return k->aead.ctx != NULL;
}

/*
 * The Initial secrets (RFC 9001 §5.2; RFC 9369 §3.3.1 for v2's salt) from the
 * Destination Connection ID of the client's first Initial (or the one a Retry
 * chose): 32 bytes each. Returns 0, SKIFF_ERR_UNSUPPORTED_VERSION, or
 * SKIFF_ERR_INVALID_ARGUMENT when dcid_len > 20.
 */
int skiff_packet_initial_secrets(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                                 uint8_t *client_secret, uint8_t *server_secret);

/*
 * Key, IV and header-protection key from a secret (RFC 9001 §5.1), with the
 * labels of `version`. secret_len must be the suite's hash length (32, or 48
 * for AES-256-GCM). Returns 0, SKIFF_ERR_UNSUPPORTED_VERSION or
 * SKIFF_ERR_INVALID_ARGUMENT.
 */
int skiff_packet_key_material_derive(skiff_packet_key_material *m, skiff_cipher_suite suite,
                                     uint32_t version, const uint8_t *secret, size_t secret_len);

/* secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku" / "quicv2 ku", "",
 * Hash.length) (RFC 9001 §6.1, RFC 9369 §3.3.2). Same returns. */
int skiff_packet_next_secret(skiff_cipher_suite suite, uint32_t version, const uint8_t *secret,
                             size_t secret_len, uint8_t *next);

/*
 * Installs keys from a secret TLS handed over (Handshake, 0-RTT, 1-RTT).
 * *k must hold no keys; it is overwritten. Returns 0,
 * SKIFF_ERR_UNSUPPORTED_VERSION, SKIFF_ERR_INVALID_ARGUMENT, SKIFF_ERR_NOMEM
 * or SKIFF_ERR_CRYPTO; on failure *k holds no keys.
 */
int skiff_packet_keys_from_secret(skiff_packet_keys *k, skiff_cipher_suite suite, uint32_t version,
                                  const uint8_t *secret, size_t secret_len);

/*
 * Installs both directions' Initial keys (AES-128-GCM, RFC 9001 §5.2): the
 * client protects with *client and opens with *server, the server the other
 * way round. Same returns as above; on failure neither holds keys.
 */
int skiff_packet_keys_initial(uint32_t version, const uint8_t *dcid, size_t dcid_len,
                              skiff_packet_keys *client, skiff_packet_keys *server);

/*
 * Key update (RFC 9001 §6.1): keys for the next key phase, from the next
 * secret; new AEAD key and IV, the same header-protection key. *next must
 * hold no keys, or be cur itself: an in-place update, which frees cur's old
 * contexts on success. Same returns as skiff_packet_keys_from_secret(); on
 * failure *next holds no keys, or, in place, cur is left as it was.
 */
int skiff_packet_keys_next(skiff_packet_keys *next, const skiff_packet_keys *cur);

/* Frees the contexts and wipes every secret; *k then holds no keys. */
void skiff_packet_keys_clear(skiff_packet_keys *k);

/*
 * Protects a packet in place (RFC 9001 §5.3, §5.4). pkt holds the plaintext
 * header, whose packet number of pn_len (1..4) bytes is at pn_offset and
 * whose first byte says that length, followed by payload_len bytes of
 * plaintext; a long header's Length field must already count pn, payload and
 * tag. `pn` is the full packet number, for the nonce.
 *
 * Seals the payload with the header as AAD, appends the 16-byte tag, and
 * masks the first byte's low 4 (long header) or 5 (short header) bits and
 * the packet number with a mask from the ciphertext sample at pn_offset + 4.
 *
 * Returns the protected length, pn_offset + pn_len + payload_len + 16;
 * SKIFF_ERR_BUFFER_TOO_SMALL if that exceeds cap; SKIFF_ERR_INVALID_ARGUMENT
 * if it is below pn_offset + 20 (the builder must pad so the sample exists,
 * §5.4.2), if pn_len disagrees with the first byte, or if k holds no keys;
 * SKIFF_ERR_CRYPTO if the library failed.
 */
skiff_ssize skiff_packet_protect(const skiff_packet_keys *k, uint8_t *pkt, size_t pn_offset,
                                 size_t pn_len, uint64_t pn, size_t payload_len, size_t cap);

/*
 * Removes header protection in place (RFC 9001 §5.4.1): unmasks the first
 * byte and the packet number, and returns its length (1..4) in *pn_len and
 * its value as sent in *truncated_pn. pkt_len is this packet's length (for a
 * long header, up to the end its Length field gives). Reads nothing outside
 * pkt[0..pkt_len).
 *
 * Returns 0; SKIFF_ERR_INVALID_PACKET when pkt_len < pn_offset + 20, too
 * short to hold the sample (§5.4.2: discard), with pkt untouched;
 * SKIFF_ERR_INVALID_ARGUMENT if pn_offset is 0 or k holds no keys;
 * SKIFF_ERR_CRYPTO if the library failed.
 */
int skiff_packet_unprotect_header(const skiff_packet_keys *k, uint8_t *pkt, size_t pkt_len,
                                  size_t pn_offset, size_t *pn_len, uint64_t *truncated_pn);

/*
 * Decrypts the payload of a packet whose header protection is removed, in
 * place (RFC 9001 §5.3): header_len = pn_offset + pn_len bytes of AAD, then
 * ciphertext and the tag, pkt_len bytes in all. full_pn is the recovered
 * packet number (RFC 9000 §A.3, the caller's job).
 *
 * Returns the plaintext length, pkt_len - header_len - 16, with the
 * plaintext at pkt + header_len; SKIFF_ERR_DECRYPT when authentication fails
 * (drop the packet, §5.5; the payload bytes are then unspecified, so a caller
 * that wants to try other keys must keep a copy); SKIFF_ERR_INVALID_PACKET
 * when pkt_len < header_len + 16; SKIFF_ERR_INVALID_ARGUMENT if k holds no
 * keys or full_pn exceeds 2^62-1.
 */
skiff_ssize skiff_packet_open(const skiff_packet_keys *k, uint8_t *pkt, size_t header_len,
                              uint64_t full_pn, size_t pkt_len);

/*
 * The Retry Integrity Tag (RFC 9001 §5.8; RFC 9369 §3.3.3 for v2's key and
 * nonce): AES-128-GCM over the Retry pseudo-packet, that is ODCID Length,
 * ODCID, then the Retry packet up to (not including) its tag. Allocates
 * nothing. Returns 0, SKIFF_ERR_UNSUPPORTED_VERSION, SKIFF_ERR_INVALID_ARGUMENT
 * (odcid_len > 20) or SKIFF_ERR_CRYPTO.
 */
int skiff_retry_integrity_tag(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                              const uint8_t *retry, size_t retry_len_without_tag, uint8_t *tag);

/*
 * Checks the tag that ends a received Retry packet of retry_len bytes,
 * comparing in constant time. Returns 0 if it is valid; SKIFF_ERR_INVALID_PACKET
 * if not, or if the packet is shorter than a tag (the client discards it,
 * RFC 9000 §17.2.5.2); the errors of skiff_retry_integrity_tag() otherwise.
 */
int skiff_retry_integrity_verify(uint32_t version, const uint8_t *odcid, size_t odcid_len,
                                 const uint8_t *retry, size_t retry_len);

#endif
