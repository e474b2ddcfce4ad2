/*
 * Range sets: a sorted array of disjoint, non-adjacent [start, end) ranges
 * with a hard cap on its length. Lookups are binary searches; insertions
 * move the tail with memmove, which is cheap because sets stay short (the
 * cap) and new data lands at the end in the common case (in-order arrival
 * extends the last range without moving anything).
 */
#include "common/range_set.h"

#include <stdlib.h>
#include <string.h>

void skiff_range_set_init(skiff_range_set *s, size_t max_ranges)
{
    memset(s, 0, sizeof *s);
    s->max_ranges = max_ranges ? max_ranges : 1;
}

void skiff_range_set_free(skiff_range_set *s)
{
    free(s->ranges);
    s->ranges = NULL;
    s->count = s->capacity = 0;
}

/* The index of the first range whose end >= v (ranges that end before v come first). */
static size_t first_ending_at_or_after(const skiff_range_set *s, uint64_t v)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].end < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int reserve(skiff_range_set *s, size_t count)
{
    if (count > s->max_ranges) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (count <= s->capacity) return 0;
    size_t cap = s->capacity ? s->capacity * 2 : 4;
    if (cap > s->max_ranges) cap = s->max_ranges;
    if (cap < count) cap = count;
    skiff_range *r = realloc(s->ranges, cap * sizeof *r);
    if (!r) return SKIFF_ERR_NOMEM;
    s->ranges = r;
    s->capacity = cap;
    return 0;
}

int skiff_range_set_add(skiff_range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end) return 0;
    /* Fast path: in-order data extends the last range. */
    if (s->count && s->ranges[s->count - 1].end >= start &&
        s->ranges[s->count - 1].start <= start) {
        if (end > s->ranges[s->count - 1].end) s->ranges[s->count - 1].end = end;
        return 0;
    }
    /* Ranges [i, j) touch or overlap [start, end) and merge into one. */
    size_t i = first_ending_at_or_after(s, start);
    size_t j = i;
    while (j < s->count && s->ranges[j].start <= end) j++;
    if (i == j) {
        int rv = reserve(s, s->count + 1);
        if (rv) return rv;
        memmove(s->ranges + i + 1, s->ranges + i, (s->count - i) * sizeof *s->ranges);
        s->ranges[i] = (skiff_range){start, end};
        s->count++;
        return 0;
    }
    skiff_range merged = {start < s->ranges[i].start ? start : s->ranges[i].start,
                          end > s->ranges[j - 1].end ? end : s->ranges[j - 1].end};
    s->ranges[i] = merged;
    memmove(s->ranges + i + 1, s->ranges + j, (s->count - j) * sizeof *s->ranges);
    s->count -= j - i - 1;
    return 0;
}

int skiff_range_set_remove(skiff_range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end) return 0;
    size_t i = first_ending_at_or_after(s, start + 1); /* first range with end > start */
    if (i == s->count || s->ranges[i].start >= end) return 0;
    skiff_range *r = &s->ranges[i];
    if (r->start < start && r->end > end) { /* split one range in two */
        int rv = reserve(s, s->count + 1);
        if (rv) return rv;
        r = &s->ranges[i];
        memmove(r + 1, r, (s->count - i) * sizeof *r);
        r[0].end = start;
        r[1].start = end;
        s->count++;
        return 0;
    }
    if (r->start < start) { /* keep the head of the first range */
        r->end = start;
        i++;
    }
    size_t j = i;
    while (j < s->count && s->ranges[j].end <= end) j++; /* wholly covered */
    if (j < s->count && s->ranges[j].start < end) s->ranges[j].start = end;
    memmove(s->ranges + i, s->ranges + j, (s->count - j) * sizeof *s->ranges);
    s->count -= j - i;
    return 0;
}

void skiff_range_set_remove_below(skiff_range_set *s, uint64_t below)
{
    if (s->count == 0) return; /* nothing held (and maybe no array yet) */
    size_t i = first_ending_at_or_after(s, below + 1);
    memmove(s->ranges, s->ranges + i, (s->count - i) * sizeof *s->ranges);
    s->count -= i;
    if (s->count && s->ranges[0].start < below) s->ranges[0].start = below;
}

bool skiff_range_set_contains(const skiff_range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end) return true;
    size_t i = first_ending_at_or_after(s, start + 1);
    return i < s->count && s->ranges[i].start <= start && s->ranges[i].end >= end;
}

bool skiff_range_set_intersects(const skiff_range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end) return false;
    size_t i = first_ending_at_or_after(s, start + 1);
    return i < s->count && s->ranges[i].start < end;
}

uint64_t skiff_range_set_contiguous_end(const skiff_range_set *s, uint64_t from)
{
    size_t i = first_ending_at_or_after(s, from + 1);
    if (i < s->count && s->ranges[i].start <= from) return s->ranges[i].end;
    return from;
}

uint64_t skiff_range_set_next_start_above(const skiff_range_set *s, uint64_t v)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].start <= v) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->count ? s->ranges[lo].start : UINT64_MAX;
}

bool skiff_range_set_valid(const skiff_range_set *s)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->ranges[i].start >= s->ranges[i].end) return false;
        if (i + 1 < s->count && s->ranges[i].end >= s->ranges[i + 1].start) return false;
    }
    return s->count <= s->max_ranges;
}
