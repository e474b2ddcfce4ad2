/*
 * Retry tokens (RFC 9000 §8.1.2, §17.2.5): integrity-protected with the
 * server's static key and bound to the client's address and a time, so that
 * only a client that received the Retry at that address can use it, and not
 * for long. The keyed hash is the one stateless reset tokens use
 * (HMAC-SHA256 truncated to 16 bytes, stateless_reset.c); inputs of the two
 * never collide, since a token's input starts with its kind and is longer
 * than any connection ID.
 */
#include "quic/retry_token.h"

#include <string.h>

#include "quic/stateless_reset.h"

#define TAG_LEN 16
#define MAC_INPUT_MAX (SKIFF_RETRY_TOKEN_MAX + 64)

static void tag_of(uint8_t tag[TAG_LEN], const uint8_t key[32], const uint8_t *body, size_t len,
                   const uint8_t *addr, size_t addr_len)
{
    uint8_t input[MAC_INPUT_MAX];
    memcpy(input, body, len);
    memcpy(input + len, addr, addr_len);
    skiff_stateless_reset_token(key, input, len + addr_len, tag);
}

skiff_ssize skiff_retry_token_make(uint8_t *out, size_t cap, const uint8_t key[32], uint8_t kind,
                                   const uint8_t *addr, size_t addr_len, const uint8_t *odcid,
                                   size_t odcid_len, skiff_time now)
{
    size_t len = 1 + 8 + 1 + odcid_len;
    if (odcid_len > 20 || addr_len > 64 || cap < len + TAG_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
    out[0] = kind;
    for (int i = 0; i < 8; i++) out[1 + i] = (uint8_t)(now >> (56 - 8 * i));
    out[9] = (uint8_t)odcid_len;
    if (odcid_len) memcpy(out + 10, odcid, odcid_len); /* none in a NEW_TOKEN token */
    tag_of(out + len, key, out, len, addr, addr_len);
    return (skiff_ssize)(len + TAG_LEN);
}

int skiff_retry_token_check(const uint8_t *token, size_t len, const uint8_t key[32], uint8_t kind,
                            const uint8_t *addr, size_t addr_len, skiff_time now, uint8_t *odcid,
                            size_t *odcid_len)
{
    if (len < 10 + TAG_LEN || len > SKIFF_RETRY_TOKEN_MAX || token[0] != kind || addr_len > 64)
        return SKIFF_ERR_INVALID_TOKEN;
    size_t n = token[9];
    if (len != 10 + n + TAG_LEN) return SKIFF_ERR_INVALID_TOKEN;
    uint8_t tag[TAG_LEN];
    tag_of(tag, key, token, len - TAG_LEN, addr, addr_len);
    uint8_t diff = 0; /* constant time: no early exit on the first differing byte */
    for (size_t i = 0; i < TAG_LEN; i++) diff |= (uint8_t)(tag[i] ^ token[len - TAG_LEN + i]);
    if (diff) return SKIFF_ERR_INVALID_TOKEN;
    skiff_time issued = 0;
    for (int i = 0; i < 8; i++) issued = issued << 8 | token[1 + i];
    skiff_time lifetime = kind == SKIFF_TOKEN_NEW ? SKIFF_NEW_TOKEN_LIFETIME : SKIFF_RETRY_TOKEN_LIFETIME;
    if (now < issued || now - issued > lifetime) return SKIFF_ERR_INVALID_TOKEN;
    if (n) memcpy(odcid, token + 10, n);
    *odcid_len = n;
    return 0;
}
