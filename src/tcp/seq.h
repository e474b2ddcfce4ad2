/*
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * Sequence numbers wrap, so "a comes before b" means that the distance from a
 * forward to b is less than half the space: a < b iff (int32_t)(a - b) < 0.
 * Two numbers exactly 2^31 apart are each "before" the other (the difference
 * is INT32_MIN either way); TCP never has that much in flight (RFC 7323 §2.3
 * caps the window at 2^30), so it never matters.
 *
 * The unsigned-to-signed conversion is implementation-defined in C17; GCC and
 * Clang both define it as reduction modulo 2^32, which is what we want.
 */
#ifndef SKIFF_TCP_SEQ_H
#define SKIFF_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* The signed distance a - b, in [-2^31, 2^31). */
static inline int32_t skiff_seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static inline bool skiff_seq_lt(uint32_t a, uint32_t b)
{
    return skiff_seq_diff(a, b) < 0;
}

static inline bool skiff_seq_leq(uint32_t a, uint32_t b)
{
    return skiff_seq_diff(a, b) <= 0;
}

static inline bool skiff_seq_gt(uint32_t a, uint32_t b)
{
    return skiff_seq_diff(a, b) > 0;
}

static inline bool skiff_seq_geq(uint32_t a, uint32_t b)
{
    return skiff_seq_diff(a, b) >= 0;
}

/*
 * a <= x < b modulo 2^32: x lies in the half-open window that starts at a and
 * ends before b. Empty (always false) when a == b. Unlike a pair of lt/geq
 * tests this is exact for windows of any size up to 2^32 - 1, as in the
 * acceptability tests of RFC 9293 §3.10.7.4.
 */
static inline bool skiff_seq_between(uint32_t a, uint32_t x, uint32_t b)
{
    return (uint32_t)(x - a) < (uint32_t)(b - a);
}

/* The later of a and b. */
static inline uint32_t skiff_seq_max(uint32_t a, uint32_t b)
{
    return skiff_seq_gt(a, b) ? a : b;
}

/* The earlier of a and b. */
static inline uint32_t skiff_seq_min(uint32_t a, uint32_t b)
{
    return skiff_seq_lt(a, b) ? a : b;
}

#endif
