/*
 * SipHash-2-4 (src/common/siphash.c), initial sequence numbers (RFC 6528,
 * src/tcp/isn.c) and SYN cookies (RFC 4987 §3.6, src/tcp/syncookie.c).
 */
#include "common/siphash.h"
#include "tcp/isn.h"
#include "tcp/syncookie.h"
#include "test.h"

/*
 * The reference outputs of the SipHash paper's test set: key 00 01 .. 0f,
 * message 00 01 .. (n-1) for n = 0..63, each output as its 8 little-endian
 * bytes. Entry 15 is the paper's worked example (Appendix A), a129ca6149be45e5.
 */
static const char *const siphash_vectors[64] = {
    "310e0edd47db6f72",
    "fd67dc93c539f874",
    "5a4fa9d909806c0d",
    "2d7efbd796666785",
    "b7877127e09427cf",
    "8da699cd64557618",
    "cee3fe586e46c9cb",
    "37d1018bf50002ab",
    "6224939a79f5f593",
    "b0e4a90bdf82009e",
    "f3b9dd94c5bb5d7a",
    "a7ad6b22462fb3f4",
    "fbe50e86bc8f1e75",
    "903d84c02756ea14",
    "eef27a8e90ca23f7",
    "e545be4961ca29a1",
    "db9bc2577fcc2a3f",
    "9447be2cf5e99a69",
    "9cd38d96f0b3c14b",
    "bd6179a71dc96dbb",
    "98eea21af25cd6be",
    "c7673b2eb0cbf2d0",
    "883ea3e395675393",
    "c8ce5ccd8c030ca8",
    "94af49f6c650adb8",
    "eab8858ade92e1bc",
    "f315bb5bb835d817",
    "adcf6b0763612e2f",
    "a5c91da7acaa4dde",
    "716595876650a2a6",
    "28ef495c53a387ad",
    "42c341d8fa92d832",
    "ce7cf2722f512771",
    "e37859f94623f3a7",
    "381205bb1ab0e012",
    "ae97a10fd434e015",
    "b4a31508beff4d31",
    "81396229f0907902",
    "4d0cf49ee5d4dcca",
    "5c73336a76d8bf9a",
    "d0a704536ba93e0e",
    "925958fcd6420cad",
    "a915c29bc8067318",
    "952b79f3bc0aa6d4",
    "f21df2e41d4535f9",
    "87577519048f53a9",
    "10a56cf5dfcd9adb",
    "eb75095ccd986cd0",
    "51a9cb9ecba312e6",
    "96afadfc2ce666c7",
    "72fe52975a4364ee",
    "5a1645b276d592a1",
    "b274cb8ebf87870a",
    "6f9bb4203de7b381",
    "eaecb2a30b22a87f",
    "9924a43cc1315724",
    "bd838d3aafbf8db7",
    "0b1a2a3265d51aea",
    "135079a3231ce660",
    "932b2846e4d70666",
    "e1915f5cb1eca46c",
    "f325965ca16d629f",
    "575ff28e60381be5",
    "724506eb4c328a95",
};

static void siphash_matches_the_reference_vectors(void)
{
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    for (size_t n = 0; n < 64; n++) {
        uint8_t want[8], got[8];
        CHECK_EQ(test_hex(siphash_vectors[n], want, sizeof want), 8);
        uint8_t *exact = test_dup_exact(msg, n);
        uint64_t h = skiff_siphash24(key, exact, n);
        free(exact);
        for (int i = 0; i < 8; i++) got[i] = (uint8_t)(h >> (8 * i));
        CHECK_MEM(got, want, 8);
    }
    CHECK_U64(skiff_siphash24(key, msg, 15), 0xa129ca6149be45e5u);
}

static const uint8_t isn_key[16] = {0x3c, 0x91, 0x07, 0xe2, 0x5a, 0x18, 0xbb, 0x40,
                                    0x6f, 0xd3, 0x29, 0x84, 0x11, 0xce, 0x75, 0x0a};

static skiff_tcp_addr v4(uint8_t last, uint16_t port)
{
    skiff_tcp_addr a = {.family = 4, .ip = {10, 0, 0, last}, .port = port};
    return a;
}

static skiff_tcp_addr v6(uint8_t last, uint16_t port)
{
    skiff_tcp_addr a = {.family = 6, .ip = {0xfd, 0, [15] = last}, .port = port};
    return a;
}

static void isn_is_stable_for_equal_inputs(void)
{
    skiff_tcp_addr l = v4(1, 8080), r = v4(2, 45678);
    skiff_time now = SKIFF_MS(123456);
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, now), skiff_tcp_isn(isn_key, &l, &r, now));
    /* Bytes after an IPv4 address are not part of it. */
    skiff_tcp_addr l2 = l, r2 = r;
    memset(l2.ip + 4, 0xaa, 12);
    memset(r2.ip + 4, 0x55, 12);
    CHECK_U64(skiff_tcp_isn(isn_key, &l2, &r2, now), skiff_tcp_isn(isn_key, &l, &r, now));
}

static void isn_changes_with_each_tuple_element_and_the_key(void)
{
    skiff_time now = SKIFF_MS(5000);
    const skiff_tcp_addr l = v4(1, 8080), r = v4(2, 45678);
    uint32_t base = skiff_tcp_isn(isn_key, &l, &r, now);
    skiff_tcp_addr x;

    x = l, x.ip[3] = 9;
    CHECK(skiff_tcp_isn(isn_key, &x, &r, now) != base);
    x = l, x.ip[0] = 11;
    CHECK(skiff_tcp_isn(isn_key, &x, &r, now) != base);
    x = l, x.port = 8081;
    CHECK(skiff_tcp_isn(isn_key, &x, &r, now) != base);
    x = r, x.ip[3] = 3;
    CHECK(skiff_tcp_isn(isn_key, &l, &x, now) != base);
    x = r, x.port = 45679;
    CHECK(skiff_tcp_isn(isn_key, &l, &x, now) != base);
    /* Direction matters: the reverse tuple is another connection. */
    CHECK(skiff_tcp_isn(isn_key, &r, &l, now) != base);
    uint8_t other_key[16];
    memcpy(other_key, isn_key, 16);
    other_key[15] ^= 1;
    CHECK(skiff_tcp_isn(other_key, &l, &r, now) != base);

    const skiff_tcp_addr l6 = v6(1, 8080), r6 = v6(2, 45678);
    uint32_t base6 = skiff_tcp_isn(isn_key, &l6, &r6, now);
    CHECK(base6 != base);
    x = l6, x.ip[8] = 0x42;
    CHECK(skiff_tcp_isn(isn_key, &x, &r6, now) != base6);
    x = r6, x.ip[15] = 0x42;
    CHECK(skiff_tcp_isn(isn_key, &l6, &x, now) != base6);
}

static void isn_advances_one_per_4_microseconds(void)
{
    skiff_tcp_addr l = v6(1, 443), r = v6(2, 50000);
    skiff_time t0 = SKIFF_MS(777);
    uint32_t a = skiff_tcp_isn(isn_key, &l, &r, t0);
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, t0 + 3999) - a, 0);
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, t0 + 4000) - a, 1);
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, t0 + SKIFF_MS(1)) - a, 250);
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, t0 + SKIFF_MS(1000)) - a, 250000);
    /* M wraps modulo 2^32 after 2^32 ticks (about 4.8 hours). */
    CHECK_U64(skiff_tcp_isn(isn_key, &l, &r, t0 + (UINT64_C(1) << 32) * 4000), a);
}

static const uint8_t cookie_key[16] = {0xa5, 0x01, 0x77, 0x3e, 0x90, 0x12, 0xcd, 0x4b,
                                       0x08, 0xee, 0x61, 0x2d, 0x93, 0x5f, 0xb0, 0x1c};

static void syncookie_accepts_its_own(void)
{
    skiff_tcp_addr l = v4(1, 80), r = v4(2, 33333);
    static const uint16_t mss[] = {1460, 1440, 1452, 1400, 1360, 1300, 1220, 536};
    static const int index[] = {7, 5, 6, 4, 3, 2, 1, 0};
    for (size_t i = 0; i < sizeof mss / sizeof mss[0]; i++) {
        skiff_time now = SKIFF_MS(1000) * (i * 37 + 1);
        uint32_t c = skiff_tcp_syncookie_make(cookie_key, &l, &r, 0x12345678, mss[i], now);
        CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 0x12345678, c, now), index[i]);
        CHECK_EQ(skiff_tcp_syncookie_mss(index[i]), mss[i]);
        /* The top 5 bits are the 64-second counter, mod 32 (RFC 4987 §3.6). */
        CHECK_U64(c >> 27, (now / SKIFF_TCP_SYNCOOKIE_PERIOD) & 31);
    }
    /* Rounding down to the table; below 536 and above 1460 clamp to the ends. */
    skiff_time now = SKIFF_MS(10);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 1,
                                       skiff_tcp_syncookie_make(cookie_key, &l, &r, 1, 1450, now), now),
             5);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 1,
                                       skiff_tcp_syncookie_make(cookie_key, &l, &r, 1, 100, now), now),
             0);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 1,
                                       skiff_tcp_syncookie_make(cookie_key, &l, &r, 1, 9000, now), now),
             7);
    CHECK_EQ(skiff_tcp_syncookie_mss(-1), 0);
    CHECK_EQ(skiff_tcp_syncookie_mss(8), 0);

    skiff_tcp_addr l6 = v6(1, 443), r6 = v6(2, 40000);
    uint32_t c6 = skiff_tcp_syncookie_make(cookie_key, &l6, &r6, 0xfffffffe, 1440, now);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l6, &r6, 0xfffffffe, c6, now), 5);
}

static void syncookie_lives_one_to_two_periods(void)
{
    skiff_tcp_addr l = v4(1, 80), r = v4(2, 33333);
    const skiff_time p = SKIFF_TCP_SYNCOOKIE_PERIOD;
    skiff_time made = 100 * p + SKIFF_MS(500);
    uint32_t c = skiff_tcp_syncookie_make(cookie_key, &l, &r, 42, 1460, made);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 100 * p), 7);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 101 * p + p - 1), 7);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 102 * p), SKIFF_ERR_INVALID_PACKET);
    /* 32 periods later the 5 time bits match again, but the hash covers the full counter. */
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 132 * p), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 133 * p), SKIFF_ERR_INVALID_PACKET);
    /* Not before it was made. */
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c, 99 * p), SKIFF_ERR_INVALID_PACKET);
    /* In the very first period there is no previous one to try. */
    uint32_t c0 = skiff_tcp_syncookie_make(cookie_key, &l, &r, 42, 1460, 0);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c0, 0), 7);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 42, c0, p), 7);
}

static void syncookie_rejects_tampering_and_other_tuples(void)
{
    skiff_tcp_addr l = v4(1, 80), r = v4(2, 33333);
    skiff_time now = SKIFF_MS(987654);
    uint32_t c = skiff_tcp_syncookie_make(cookie_key, &l, &r, 0xabcdef01, 1460, now);
    int accepted = 0;
    for (int bit = 0; bit < 32; bit++)
        if (skiff_tcp_syncookie_check(cookie_key, &l, &r, 0xabcdef01, c ^ (1u << bit), now) >= 0)
            accepted++;
    CHECK_EQ(accepted, 0);

    skiff_tcp_addr x;
    x = l, x.ip[3] = 7;
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &x, &r, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    x = l, x.port = 81;
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &x, &r, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    x = r, x.ip[0] = 192;
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &x, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    x = r, x.port = 33334;
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &x, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &r, &l, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 0xabcdef02, c, now), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_tcp_syncookie_check(isn_key, &l, &r, 0xabcdef01, c, now), SKIFF_ERR_INVALID_PACKET);
    /* Claiming a larger MSS by rewriting the index bits is caught by the hash. */
    uint32_t forged = (c & ~(7u << 24)) | (6u << 24);
    CHECK_EQ(skiff_tcp_syncookie_check(cookie_key, &l, &r, 0xabcdef01, forged, now), SKIFF_ERR_INVALID_PACKET);
    /* Random guesses fail (each passes with probability about 2^-28). */
    uint64_t s = 88172645463325252u;
    int guessed = 0;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        if (skiff_tcp_syncookie_check(cookie_key, &l, &r, 0xabcdef01, (uint32_t)s, now) >= 0) guessed++;
    }
    CHECK_EQ(guessed, 0);
}

int main(void)
{
    RUN(siphash_matches_the_reference_vectors);
    RUN(isn_is_stable_for_equal_inputs);
    RUN(isn_changes_with_each_tuple_element_and_the_key);
    RUN(isn_advances_one_per_4_microseconds);
    RUN(syncookie_accepts_its_own);
    RUN(syncookie_lives_one_to_two_periods);
    RUN(syncookie_rejects_tampering_and_other_tuples);
    return test_report("tcp_isn");
}
