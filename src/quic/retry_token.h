/*
 * Address-validation tokens carried by Retry packets (RFC 9000 §8.1.2): the
 * server proves to itself, statelessly, that a client's second Initial comes
 * from the address the Retry went to, and recovers the Original Destination
 * Connection ID it must echo in its transport parameters (§7.3).
 *
 *   token = 'R' | issued (8 bytes, ns) | odcid_len | odcid | tag (16 bytes)
 *   tag   = HMAC-SHA256(static key, token without tag | client address)[0..16)
 */
#ifndef SKIFF_QUIC_RETRY_TOKEN_H
#define SKIFF_QUIC_RETRY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_RETRY_TOKEN_MAX (1 + 8 + 1 + 20 + 16)
#define SKIFF_RETRY_TOKEN_LIFETIME SKIFF_MS(10000)

/* Writes a token for a client at `addr` (its bytes as the I/O layer has them).
 * Returns the token's length or SKIFF_ERR_INVALID_ARGUMENT. */
skiff_ssize skiff_retry_token_make(uint8_t *out, size_t cap, const uint8_t key[32],
                                   const uint8_t *addr, size_t addr_len, const uint8_t *odcid,
                                   size_t odcid_len, skiff_time now);

/* Checks a token from a client at `addr`: its tag, and that it is not older
 * than SKIFF_RETRY_TOKEN_LIFETIME. Returns 0 and the ODCID, or
 * SKIFF_ERR_INVALID_TOKEN. */
int skiff_retry_token_check(const uint8_t *token, size_t len, const uint8_t key[32],
                            const uint8_t *addr, size_t addr_len, skiff_time now, uint8_t *odcid,
                            size_t *odcid_len);

#endif
