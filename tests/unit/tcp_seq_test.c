/* TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). */
#include "tcp/seq.h"
#include "test.h"

static void comparisons_across_the_wrap(void)
{
    CHECK(skiff_seq_lt(0xfffffff0u, 0x10));
    CHECK(skiff_seq_leq(0xfffffff0u, 0x10));
    CHECK(!skiff_seq_gt(0xfffffff0u, 0x10));
    CHECK(!skiff_seq_geq(0xfffffff0u, 0x10));
    CHECK(skiff_seq_gt(0x10, 0xfffffff0u));
    CHECK(skiff_seq_geq(0x10, 0xfffffff0u));
    CHECK(skiff_seq_lt(0xffffffffu, 0));
    CHECK(skiff_seq_gt(0, 0xffffffffu));
    CHECK_EQ(skiff_seq_diff(0x10, 0xfffffff0u), 0x20);
    CHECK_EQ(skiff_seq_diff(0xfffffff0u, 0x10), -0x20);
    CHECK_EQ(skiff_seq_diff(0, 0xffffffffu), 1);

    /* Equal numbers: leq and geq but neither lt nor gt. */
    CHECK(!skiff_seq_lt(7, 7));
    CHECK(!skiff_seq_gt(7, 7));
    CHECK(skiff_seq_leq(7, 7));
    CHECK(skiff_seq_geq(7, 7));

    /* Half the space apart is the one ambiguous distance. */
    CHECK(skiff_seq_lt(0, 0x7fffffffu));
    CHECK(skiff_seq_gt(0, 0x80000001u));
    CHECK_EQ(skiff_seq_diff(0x80000000u, 0), INT32_MIN);
}

static void max_and_min_follow_sequence_order(void)
{
    CHECK_U64(skiff_seq_max(0xfffffff0u, 0x10), 0x10);
    CHECK_U64(skiff_seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
    CHECK_U64(skiff_seq_max(5, 9), 9);
    CHECK_U64(skiff_seq_min(5, 9), 5);
    CHECK_U64(skiff_seq_max(3, 3), 3);
}

static void between_is_half_open_and_wraps(void)
{
    /* A window [0xfffffff0, 0x10) straddling zero. */
    CHECK(skiff_seq_between(0xfffffff0u, 0xfffffff0u, 0x10));
    CHECK(skiff_seq_between(0xfffffff0u, 0xffffffffu, 0x10));
    CHECK(skiff_seq_between(0xfffffff0u, 0, 0x10));
    CHECK(skiff_seq_between(0xfffffff0u, 0x0f, 0x10));
    CHECK(!skiff_seq_between(0xfffffff0u, 0x10, 0x10));
    CHECK(!skiff_seq_between(0xfffffff0u, 0xffffffefu, 0x10));
    CHECK(!skiff_seq_between(0xfffffff0u, 0x80000000u, 0x10));
    /* Empty when a == b. */
    CHECK(!skiff_seq_between(100, 100, 100));
    /* Exact for a window of 2^32 - 1, where lt/geq pairs are not. */
    CHECK(skiff_seq_between(1, 0x80000001u, 0));
    CHECK(!skiff_seq_between(1, 0, 0));
}

static void relations_agree_on_random_pairs(void)
{
    uint64_t x = 0x9e3779b97f4a7c15u;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t a = (uint32_t)x, b = (uint32_t)(x >> 32);
        if (i % 4 == 0) b = a + (uint32_t)(x >> 48); /* near each other, often across 0 */
        if (a - b == 0x80000000u) continue;
        bool lt = skiff_seq_lt(a, b), gt = skiff_seq_gt(a, b), eq = a == b;
        if (lt + gt + eq != 1 || lt != skiff_seq_gt(b, a) || skiff_seq_leq(a, b) != (lt || eq) ||
            skiff_seq_geq(a, b) != (gt || eq) || skiff_seq_between(a, b, a) ||
            (uint32_t)(a + (uint32_t)skiff_seq_diff(b, a)) != b)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

int main(void)
{
    RUN(comparisons_across_the_wrap);
    RUN(max_and_min_follow_sequence_order);
    RUN(between_is_half_open_and_wraps);
    RUN(relations_agree_on_random_pairs);
    return test_report("tcp_seq");
}
