/*
 * Address-validation tokens (RFC 9000 §8.1): carried by Retry packets
 * (§8.1.2), with which the server proves to itself, statelessly, that a
 * client's second Initial comes from the address the Retry went to and
 * recovers the Original Destination Connection ID it must echo (§7.3); and
 * by NEW_TOKEN frames (§8.1.3), for the client's next connection. The kind
 * byte tells the two apart, as §8.1.3 requires.
 *
 *   token = kind | issued (8 bytes, ns) | odcid_len | odcid | tag (16 bytes)
 *   tag   = HMAC-SHA256(static key, token without tag | client address)[0..16)
 *
 * A Retry token is bound to the client's address and port and lives 10 s; a
 * NEW_TOKEN token to its IP address only (the next connection comes from
 * another port) and lives a day.
 */
#ifndef SKIFF_QUIC_RETRY_TOKEN_H
#define SKIFF_QUIC_RETRY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_RETRY_TOKEN_MAX (1 + 8 + 1 + 20 + 16)
#define SKIFF_RETRY_TOKEN_LIFETIME SKIFF_MS(10000)
#define SKIFF_NEW_TOKEN_LIFETIME SKIFF_MS(86400000)

#define SKIFF_TOKEN_RETRY 'R'
#define SKIFF_TOKEN_NEW 'N'

/* Writes a token for a client at `addr` (its bytes as the I/O layer has them).
 * Returns the token's length or SKIFF_ERR_INVALID_ARGUMENT. */
skiff_ssize skiff_retry_token_make(uint8_t *out, size_t cap, const uint8_t key[32], uint8_t kind,
                                   const uint8_t *addr, size_t addr_len, const uint8_t *odcid,
                                   size_t odcid_len, skiff_time now);

/* The kind of a token (SKIFF_TOKEN_RETRY or SKIFF_TOKEN_NEW), or 0. */
static inline uint8_t skiff_token_kind(const uint8_t *token, size_t len)
{
    return len && (token[0] == SKIFF_TOKEN_RETRY || token[0] == SKIFF_TOKEN_NEW) ? token[0] : 0;
}

/* Checks a token from a client at `addr`: its kind and tag, and that it is
 * not older than its kind's lifetime. Returns 0 and the ODCID (empty for
 * NEW_TOKEN), or SKIFF_ERR_INVALID_TOKEN. */
int skiff_retry_token_check(const uint8_t *token, size_t len, const uint8_t key[32], uint8_t kind,
                            const uint8_t *addr, size_t addr_len, skiff_time now, uint8_t *odcid,
                            size_t *odcid_len);

#endif
