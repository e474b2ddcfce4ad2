/* Retry tokens (RFC 9000 §8.1.2): bound to the address, the key and a time. */
#include "quic/retry_token.h"
#include "test.h"

static const uint8_t key[32] = {1, 2, 3};
static const uint8_t addr[16] = {2, 0, 0x11, 0x5c, 127, 0, 0, 1};
static const uint8_t odcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static void round_trip_gives_the_odcid(void)
{
    uint8_t token[SKIFF_RETRY_TOKEN_MAX], got[20];
    size_t got_len = 0;
    skiff_ssize n = skiff_retry_token_make(token, sizeof token, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, odcid, 8, SKIFF_MS(5000));
    CHECK_EQ(n, 1 + 8 + 1 + 8 + 16);
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, SKIFF_MS(6000), got, &got_len), 0);
    CHECK_EQ(got_len, 8);
    CHECK_MEM(got, odcid, 8);
}

static void refused_when_anything_differs(void)
{
    uint8_t token[SKIFF_RETRY_TOKEN_MAX], got[20], other_addr[16], other_key[32];
    size_t got_len;
    skiff_ssize n = skiff_retry_token_make(token, sizeof token, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, odcid, 8, SKIFF_MS(5000));
    memcpy(other_addr, addr, sizeof addr);
    other_addr[7] = 2; /* 127.0.0.2 */
    memcpy(other_key, key, sizeof key);
    other_key[31] ^= 1;
    skiff_time now = SKIFF_MS(6000);
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_RETRY, other_addr, sizeof addr, now, got, &got_len), SKIFF_ERR_INVALID_TOKEN);
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, other_key, SKIFF_TOKEN_RETRY, addr, sizeof addr, now, got, &got_len), SKIFF_ERR_INVALID_TOKEN);
    /* Too old, or from the future. */
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, SKIFF_MS(5000) + SKIFF_RETRY_TOKEN_LIFETIME + 1, got, &got_len), SKIFF_ERR_INVALID_TOKEN);
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, SKIFF_MS(4000), got, &got_len), SKIFF_ERR_INVALID_TOKEN);
    /* Every single flipped bit, and every truncation. */
    int accepted = 0;
    for (skiff_ssize i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            token[i] ^= (uint8_t)(1 << bit);
            accepted += skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, now, got, &got_len) == 0;
            token[i] ^= (uint8_t)(1 << bit);
        }
    CHECK_EQ(accepted, 0);
    /* A Retry token is no NEW_TOKEN token (§8.1.3: the server tells them apart). */
    CHECK_EQ(skiff_retry_token_check(token, (size_t)n, key, SKIFF_TOKEN_NEW, addr, sizeof addr, now, got, &got_len), SKIFF_ERR_INVALID_TOKEN);
    for (skiff_ssize cut = 0; cut < n; cut++) {
        uint8_t *exact = test_dup_exact(token, (size_t)cut);
        CHECK_EQ(skiff_retry_token_check(exact, (size_t)cut, key, SKIFF_TOKEN_RETRY, addr, sizeof addr, now, got, &got_len), SKIFF_ERR_INVALID_TOKEN);
        free(exact);
    }
}

int main(void)
{
    RUN(round_trip_gives_the_odcid);
    RUN(refused_when_anything_differs);
    return test_report("retry_token");
}
