/*
 * Stateless reset (RFC 9000 §10.3): the tokens we issue, the reset datagram we
 * send when a packet arrives for a connection we have no state for, and the
 * check that a received datagram is a reset from our peer.
 *
 * Tokens are derived, not stored: HMAC-SHA256(static key, connection ID)
 * truncated to 16 bytes (§10.3.2), so an endpoint that lost all state can
 * still produce the token for any CID it once issued. The key must be
 * secret and the same across restarts for that to work; it must not be a
 * key the peer can learn.
 *
 * The core reads no random source: the unpredictable bytes of a reset come
 * from the caller.
 */
#ifndef SKIFF_QUIC_STATELESS_RESET_H
#define SKIFF_QUIC_STATELESS_RESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_STATELESS_RESET_TOKEN_LEN 16
#define SKIFF_STATELESS_RESET_KEY_LEN 32
/* §10.3: 1 byte of fixed and unpredictable bits, 4 more unpredictable bytes
 * (38 bits in all), the 16-byte token. */
#define SKIFF_STATELESS_RESET_MIN_LEN 21
/* §10.3: a reset answering a packet of 43 bytes or fewer SHOULD be one byte
 * shorter than it; callers that pass at least this many random bytes get
 * that for every trigger up to 43 bytes. */
#define SKIFF_STATELESS_RESET_RANDOM_FOR_43 26

/*
 * Writes the reset token for connection ID cid[0..len) under `key` into
 * token: the first 16 bytes of HMAC-SHA256(key, cid) (§10.3.2).
 */
void skiff_stateless_reset_token(const uint8_t key[SKIFF_STATELESS_RESET_KEY_LEN],
                                 const uint8_t *cid, size_t len,
                                 uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN]);

/*
 * Builds a stateless reset answering a received datagram of trigger_len
 * bytes, into out[0..cap):
 *
 *   0 1 r r r r r r | random ... | token (16)
 *
 * The first byte looks like a short header (form 0, fixed bit 1) and the
 * rest before the token is taken from random_bytes (its first byte supplies
 * the first byte's low six bits). The length is the smallest of
 * trigger_len - 1 (§10.3.3: smaller than the trigger, so a loop of resets
 * shrinks until it stops; this also keeps it under three times the trigger,
 * §10.3), nrandom + 16 and cap.
 *
 * Returns the length written (>= 21), or
 *   SKIFF_ERR_INVALID_PACKET     trigger_len <= 21: no reset may be sent
 *                                (a smaller one could not look like a packet)
 *   SKIFF_ERR_INVALID_ARGUMENT   nrandom < 5: too few unpredictable bytes
 *   SKIFF_ERR_BUFFER_TOO_SMALL   cap < 21
 */
skiff_ssize skiff_stateless_reset_build(uint8_t *out, size_t cap,
                                        const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN],
                                        size_t trigger_len, const uint8_t *random_bytes,
                                        size_t nrandom);

/*
 * Whether dgram[0..len) ends in one of tokens[0..ntokens) (§10.3.1). Every
 * token is compared in full whatever the outcome, so the time taken does
 * not depend on which bytes matched. Datagrams shorter than 21 bytes are
 * never resets (§10.3). The caller passes only the tokens of connection IDs
 * it has used and not retired (§10.3.1).
 */
bool skiff_stateless_reset_matches(const uint8_t *dgram, size_t len,
                                   const uint8_t (*tokens)[SKIFF_STATELESS_RESET_TOKEN_LEN],
                                   size_t ntokens);

#endif
