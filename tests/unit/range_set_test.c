/* Range sets, checked against a plain bitmap under random adds and removes. */
#include "common/range_set.h"
#include "test.h"

#define UNIVERSE 512

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int matches_bitmap(const skiff_range_set *s, const uint8_t *bits)
{
    for (uint64_t v = 0; v < UNIVERSE; v++)
        if (skiff_range_set_contains(s, v, v + 1) != (bits[v] != 0)) return 0;
    return skiff_range_set_valid(s);
}

static void random_operations_match_a_bitmap(void)
{
    skiff_range_set s;
    skiff_range_set_init(&s, 1000);
    uint8_t bits[UNIVERSE] = {0};
    int mismatches = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t a = next_random() % UNIVERSE, len = next_random() % 24;
        uint64_t b = a + len > UNIVERSE ? UNIVERSE : a + len;
        int op = (int)(next_random() % 10);
        if (op < 6) {
            CHECK_EQ(skiff_range_set_add(&s, a, b), 0);
            memset(bits + a, 1, b - a);
        } else if (op < 9) {
            CHECK_EQ(skiff_range_set_remove(&s, a, b), 0);
            memset(bits + a, 0, b - a);
        } else {
            skiff_range_set_remove_below(&s, a);
            memset(bits, 0, a);
        }
        if (step % 97 == 0 && !matches_bitmap(&s, bits)) mismatches++;
        /* contiguous_end agrees with the bitmap from a random point. */
        uint64_t from = next_random() % UNIVERSE, end = from;
        while (end < UNIVERSE && bits[end]) end++;
        if (skiff_range_set_contiguous_end(&s, from) != end) mismatches++;
        bool any = false;
        for (uint64_t v = a; v < b; v++) any |= bits[v] != 0;
        if (skiff_range_set_intersects(&s, a, b) != any) mismatches++;
    }
    CHECK_EQ(mismatches, 0);
    CHECK(matches_bitmap(&s, bits));
    skiff_range_set_free(&s);
}

static void merging_and_splitting(void)
{
    skiff_range_set s;
    skiff_range_set_init(&s, 8);
    CHECK_EQ(skiff_range_set_add(&s, 10, 20), 0);
    CHECK_EQ(skiff_range_set_add(&s, 30, 40), 0);
    CHECK_EQ(skiff_range_set_add(&s, 20, 30), 0); /* adjacent on both sides: one range */
    CHECK_EQ(s.count, 1);
    CHECK_U64(s.ranges[0].start, 10);
    CHECK_U64(s.ranges[0].end, 40);
    CHECK_EQ(skiff_range_set_remove(&s, 15, 25), 0);
    CHECK_EQ(s.count, 2);
    CHECK_U64(skiff_range_set_contiguous_end(&s, 10), 15);
    CHECK_U64(skiff_range_set_min(&s), 10);
    CHECK_U64(skiff_range_set_max(&s), 39);
    CHECK_EQ(skiff_range_set_add(&s, 5, 5), 0); /* empty: no-op */
    CHECK_EQ(s.count, 2);
    skiff_range_set_free(&s);
}

/* The cap holds: a peer that opens gaps cannot grow the set past it. */
static void cap_is_enforced(void)
{
    skiff_range_set s;
    skiff_range_set_init(&s, 4);
    for (uint64_t i = 0; i < 4; i++) CHECK_EQ(skiff_range_set_add(&s, i * 10, i * 10 + 1), 0);
    CHECK_EQ(skiff_range_set_add(&s, 100, 101), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(s.count, 4);
    CHECK_EQ(skiff_range_set_add(&s, 1, 10), 0); /* merging still works at the cap */
    CHECK_EQ(s.count, 3);
    CHECK_EQ(skiff_range_set_add(&s, 50, 60), 0);
    CHECK_EQ(skiff_range_set_remove(&s, 52, 55), SKIFF_ERR_BUFFER_TOO_SMALL); /* a split */
    CHECK_EQ(s.count, 4);
    CHECK(skiff_range_set_valid(&s));
    skiff_range_set_free(&s);
}

int main(void)
{
    RUN(random_operations_match_a_bitmap);
    RUN(merging_and_splitting);
    RUN(cap_is_enforced);
    return test_report("range_set");
}
