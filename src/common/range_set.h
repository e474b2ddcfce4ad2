/*
 * A set of uint64 ranges: disjoint, non-adjacent, half-open [start, end),
 * sorted ascending, in one array that grows on demand up to a hard cap on
 * the number of ranges that the caller sets (a peer must never be able to
 * grow it without bound: RFC 9000 §21.7 memory exhaustion).
 *
 * Used for received packet numbers (ACK tracking), received stream and
 * CRYPTO offsets (reassembly), and acknowledged send offsets (streams).
 *
 * Invariants (checked by skiff_range_set_valid() in tests): for all i,
 * ranges[i].start < ranges[i].end, and ranges[i].end < ranges[i+1].start.
 */
#ifndef SKIFF_COMMON_RANGE_SET_H
#define SKIFF_COMMON_RANGE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

typedef struct skiff_range {
    uint64_t start; /* inclusive */
    uint64_t end;   /* exclusive */
} skiff_range;

typedef struct skiff_range_set {
    skiff_range *ranges;
    size_t count;
    size_t capacity;   /* allocated entries */
    size_t max_ranges; /* the cap: adding a range that would exceed it fails */
} skiff_range_set;

/* An empty set that will hold at most max_ranges ranges (>= 1). Allocates nothing yet. */
void skiff_range_set_init(skiff_range_set *s, size_t max_ranges);

/* Frees the array; the set is then empty and may be reused. */
void skiff_range_set_free(skiff_range_set *s);

/*
 * Adds [start, end), merging with overlapping or adjacent ranges. An empty
 * range (start >= end) is a no-op. Returns 0; SKIFF_ERR_NOMEM; or
 * SKIFF_ERR_BUFFER_TOO_SMALL when the result would need more than max_ranges
 * ranges (the set is then unchanged).
 */
int skiff_range_set_add(skiff_range_set *s, uint64_t start, uint64_t end);

/*
 * Removes [start, end) from the set, splitting a range if needed. Returns 0,
 * or SKIFF_ERR_BUFFER_TOO_SMALL / SKIFF_ERR_NOMEM if a split would exceed the
 * cap (the set is then unchanged).
 */
int skiff_range_set_remove(skiff_range_set *s, uint64_t start, uint64_t end);

/* Removes everything below `below` (a cheap cut from the front). */
void skiff_range_set_remove_below(skiff_range_set *s, uint64_t below);

/* Whether every value of [start, end) is in the set (true for an empty range). */
bool skiff_range_set_contains(const skiff_range_set *s, uint64_t start, uint64_t end);

/* Whether any value of [start, end) is in the set. */
bool skiff_range_set_intersects(const skiff_range_set *s, uint64_t start, uint64_t end);

/* The start of the first range that begins above v, or UINT64_MAX. */
uint64_t skiff_range_set_next_start_above(const skiff_range_set *s, uint64_t v);

/* The end of the range that starts at or below `from` and contains it, or `from`
 * itself when `from` is not in the set: how far data is contiguous from `from`. */
uint64_t skiff_range_set_contiguous_end(const skiff_range_set *s, uint64_t from);

static inline bool skiff_range_set_empty(const skiff_range_set *s)
{
    return s->count == 0;
}

/* The smallest and largest values held; only for a non-empty set. */
static inline uint64_t skiff_range_set_min(const skiff_range_set *s)
{
    return s->ranges[0].start;
}
static inline uint64_t skiff_range_set_max(const skiff_range_set *s)
{
    return s->ranges[s->count - 1].end - 1;
}

/* The invariants above hold (for tests and assert()). */
bool skiff_range_set_valid(const skiff_range_set *s);

#endif
