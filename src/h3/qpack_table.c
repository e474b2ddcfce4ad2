/*
 * The QPACK dynamic table (RFC 9204 §3.2): insertion, eviction, capacity.
 *
 * Names and values live in a byte ring of ring_cap bytes (the largest
 * capacity set so far). Each entry's bytes are contiguous, so a field can be
 * handed out as two pointers:
 *
 *   not wrapped:  [ free | oldest ... newest | free ]
 *                        head                tail
 *   wrapped:      [ newer ... newest | free | oldest ... | unused ]
 *                                    tail   head        hi_end
 *
 * A new entry goes at tail, or at 0 when it does not fit before the end
 * (the table then wraps). When neither place is large enough although the
 * size accounting leaves room (every entry also counts 32 bytes the ring
 * does not hold, so the live bytes are at most capacity - 32 per entry), the
 * ring is compacted in place: rotated so the live bytes start at 0. That is
 * rare, and costs one pass over the ring.
 */
#include "h3/qpack_table.h"

#include <stdlib.h>
#include <string.h>

void skiff_qpack_table_init(skiff_qpack_table *t)
{
    memset(t, 0, sizeof *t);
}

void skiff_qpack_table_free(skiff_qpack_table *t)
{
    free(t->ring);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static void reverse(uint8_t *p, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        uint8_t c = p[i];
        p[i] = p[j - 1];
        p[j - 1] = c;
    }
}

/* Moves the live bytes to [0, live) and rewrites the entries' offsets. */
static void compact(skiff_qpack_table *t)
{
    uint64_t count = t->inserted - t->dropped;
    if (!t->wrapped) {
        if (t->head == 0) return;
        memmove(t->ring, t->ring + t->head, t->tail - t->head);
        for (uint64_t i = t->dropped; i < t->inserted; i++)
            t->slots[i % t->nslots].off -= (uint32_t)t->head;
        t->tail -= t->head;
        t->head = 0;
        return;
    }
    /* Rotate [0, hi_end) left by head: the old part comes first, then the
     * new part, then what was free between them. */
    reverse(t->ring, t->head);
    reverse(t->ring + t->head, t->hi_end - t->head);
    reverse(t->ring, t->hi_end);
    size_t upper = t->hi_end - t->head;
    for (uint64_t i = t->dropped; i < t->dropped + count; i++) {
        skiff_qpack_entry *e = &t->slots[i % t->nslots];
        if (i < t->wrap_abs)
            e->off -= (uint32_t)t->head;
        else
            e->off += (uint32_t)upper;
    }
    t->tail += upper;
    t->head = 0;
    t->hi_end = 0;
    t->wrapped = false;
}

/* Reserves n contiguous bytes for a new entry; returns their offset. The
 * caller has evicted enough that the live bytes plus n fit in the ring. */
static size_t place(skiff_qpack_table *t, size_t n)
{
    if (t->inserted == t->dropped) {
        t->head = t->tail = t->hi_end = 0;
        t->wrapped = false;
    }
    if (!t->wrapped) {
        if (t->ring_cap - t->tail >= n) {
            t->tail += n;
            return t->tail - n;
        }
        if (t->head >= n) {
            t->wrapped = true;
            t->wrap_abs = t->inserted;
            t->hi_end = t->tail;
            t->tail = n;
            return 0;
        }
    } else if (t->head - t->tail >= n) {
        t->tail += n;
        return t->tail - n;
    }
    compact(t);
    t->tail += n;
    return t->tail - n;
}

void skiff_qpack_table_evict_oldest(skiff_qpack_table *t)
{
    skiff_qpack_entry *e = &t->slots[t->dropped % t->nslots];
    t->size -= skiff_qpack_entry_size(e);
    t->dropped++;
    if (t->dropped == t->inserted) {
        t->head = t->tail = t->hi_end = 0;
        t->wrapped = false;
        return;
    }
    if (t->wrapped && t->dropped == t->wrap_abs) {
        t->wrapped = false;
        t->hi_end = 0;
    }
    t->head = t->slots[t->dropped % t->nslots].off;
}

int skiff_qpack_table_set_capacity(skiff_qpack_table *t, uint64_t capacity)
{
    if (capacity > UINT32_MAX) return SKIFF_ERR_NOMEM;
    if (capacity > t->ring_cap) {
        size_t nslots = (size_t)(capacity / SKIFF_QPACK_ENTRY_OVERHEAD);
        if (nslots == 0) nslots = 1;
        uint8_t *ring = malloc((size_t)capacity);
        skiff_qpack_entry *slots = calloc(nslots, sizeof *slots);
        if (!ring || !slots) {
            free(ring);
            free(slots);
            return SKIFF_ERR_NOMEM;
        }
        /* Copy the entries oldest first into the new ring, compacted. */
        size_t off = 0;
        for (uint64_t i = t->dropped; i < t->inserted; i++) {
            skiff_qpack_entry e = t->slots[i % t->nslots];
            size_t n = (size_t)e.name_len + e.value_len;
            if (n) memcpy(ring + off, t->ring + e.off, n);
            e.off = (uint32_t)off;
            slots[i % nslots] = e;
            off += n;
        }
        free(t->ring);
        free(t->slots);
        t->ring = ring;
        t->slots = slots;
        t->ring_cap = (size_t)capacity;
        t->nslots = nslots;
        t->head = 0;
        t->tail = off;
        t->hi_end = 0;
        t->wrapped = false;
    }
    while (t->size > capacity)
        skiff_qpack_table_evict_oldest(t);
    t->capacity = capacity;
    return 0;
}

int skiff_qpack_table_insert(skiff_qpack_table *t, const uint8_t *name, size_t name_len,
                             const uint8_t *value, size_t value_len)
{
    if (name_len > t->capacity || value_len > t->capacity ||
        name_len + value_len + SKIFF_QPACK_ENTRY_OVERHEAD > t->capacity)
        return SKIFF_ERR_INVALID_ARGUMENT;
    uint64_t size = name_len + value_len + SKIFF_QPACK_ENTRY_OVERHEAD;
    while (t->size + size > t->capacity)
        skiff_qpack_table_evict_oldest(t);
    size_t off = place(t, name_len + value_len);
    if (name_len) memcpy(t->ring + off, name, name_len);
    if (value_len) memcpy(t->ring + off + name_len, value, value_len);
    skiff_qpack_entry *e = &t->slots[t->inserted % t->nslots];
    *e = (skiff_qpack_entry){
        .off = (uint32_t)off, .name_len = (uint32_t)name_len, .value_len = (uint32_t)value_len};
    t->inserted++;
    t->size += size;
    return 0;
}
