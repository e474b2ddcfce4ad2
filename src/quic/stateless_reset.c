/*
 * Stateless reset, RFC 9000 §10.3: token derivation (§10.3.2), building the
 * reset datagram within the size rules of §10.3 and §10.3.3, and detection
 * (§10.3.1) with a comparison whose timing does not depend on the data.
 *
 *   Stateless Reset {
 *     Fixed Bits (2) = 1,
 *     Unpredictable Bits (38..),
 *     Stateless Reset Token (128),
 *   }
 */
#include "quic/stateless_reset.h"

#include <nettle/hmac.h>
#include <string.h>

/* Clears secret state in a way the compiler may not drop as a dead store. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void skiff_stateless_reset_token(const uint8_t key[SKIFF_STATELESS_RESET_KEY_LEN],
                                 const uint8_t *cid, size_t len,
                                 uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN])
{
    /* §10.3.2: a keyed one-way function of the CID, so a token cannot be
     * worked out from the CID by anyone without the key, while we can
     * recompute it for any CID we issued after losing all other state. */
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, SKIFF_STATELESS_RESET_KEY_LEN, key);
    hmac_sha256_update(&ctx, len, cid);
    hmac_sha256_digest(&ctx, SKIFF_STATELESS_RESET_TOKEN_LEN, token);
    wipe(&ctx, sizeof ctx);
}

skiff_ssize skiff_stateless_reset_build(uint8_t *out, size_t cap,
                                        const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN],
                                        size_t trigger_len, const uint8_t *random_bytes,
                                        size_t nrandom)
{
    /* §10.3.3: the reset must be smaller than its trigger, and §10.3: it is
     * at least 21 bytes, so a trigger of 21 bytes or fewer gets no answer.
     * This is what ends a loop of two endpoints resetting each other. */
    if (trigger_len <= SKIFF_STATELESS_RESET_MIN_LEN) return SKIFF_ERR_INVALID_PACKET;
    if (nrandom < SKIFF_STATELESS_RESET_MIN_LEN - SKIFF_STATELESS_RESET_TOKEN_LEN)
        return SKIFF_ERR_INVALID_ARGUMENT;
    if (cap < SKIFF_STATELESS_RESET_MIN_LEN) return SKIFF_ERR_BUFFER_TOO_SMALL;

    /* trigger_len - 1 is also under 3 * trigger_len: §10.3's amplification
     * limit holds without a separate check. */
    size_t len = trigger_len - 1;
    if (len > nrandom + SKIFF_STATELESS_RESET_TOKEN_LEN)
        len = nrandom + SKIFF_STATELESS_RESET_TOKEN_LEN;
    if (len > cap) len = cap;

    size_t body = len - SKIFF_STATELESS_RESET_TOKEN_LEN;
    memcpy(out, random_bytes, body);
    /* Header form 0 and fixed bit 1: what a short header looks like (§17.3). */
    out[0] = (uint8_t)(0x40u | (out[0] & 0x3fu));
    memcpy(out + body, token, SKIFF_STATELESS_RESET_TOKEN_LEN);
    return (skiff_ssize)len;
}

bool skiff_stateless_reset_matches(const uint8_t *dgram, size_t len,
                                   const uint8_t (*tokens)[SKIFF_STATELESS_RESET_TOKEN_LEN],
                                   size_t ntokens)
{
    if (len < SKIFF_STATELESS_RESET_MIN_LEN) return false;
    const uint8_t *tail = dgram + len - SKIFF_STATELESS_RESET_TOKEN_LEN;
    /* §10.3.1 asks that the comparison not leak the token through timing:
     * every byte of every token is looked at, and the per-token result is
     * folded in with arithmetic rather than a branch. */
    unsigned found = 0;
    for (size_t t = 0; t < ntokens; t++) {
        unsigned diff = 0;
        for (size_t i = 0; i < SKIFF_STATELESS_RESET_TOKEN_LEN; i++)
            diff |= tail[i] ^ tokens[t][i];
        /* diff is 0..255: (diff - 1) >> 8 is 1 exactly when diff == 0. */
        found |= ((diff - 1u) >> 8) & 1u;
    }
    return found != 0;
}
