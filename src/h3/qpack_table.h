/*
 * The QPACK dynamic table (RFC 9204 §3.2), as both the encoder and the
 * decoder keep it: entries in insertion order, addressed by absolute index
 * (§3.2.4), each of size name + value + 32 (§3.2.1), evicted oldest first
 * to stay within the capacity (§3.2.2).
 *
 * Storage is bounded by the largest capacity ever set: a byte ring of that
 * many bytes holds names and values (each entry contiguous, its name right
 * before its value), and an array of capacity / 32 slots holds the entries.
 * Nothing is allocated per insert.
 *
 * Invariants: dropped <= inserted; the entries present are the absolute
 * indices dropped .. inserted - 1; size (the sum of their sizes) <= capacity.
 */
#ifndef SKIFF_H3_QPACK_TABLE_H
#define SKIFF_H3_QPACK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_QPACK_ENTRY_OVERHEAD 32u

typedef struct skiff_qpack_entry {
    uint32_t off; /* name at ring + off, value right after it */
    uint32_t name_len;
    uint32_t value_len;
    /* The encoder's bookkeeping (the decoder leaves these at 0). */
    uint32_t hash;      /* of name and value */
    uint32_t name_hash; /* of the name */
    uint32_t pins;      /* outstanding sections whose oldest reference this is */
} skiff_qpack_entry;

typedef struct skiff_qpack_table {
    uint8_t *ring;
    skiff_qpack_entry *slots; /* absolute index i lives in slots[i % nslots] */
    size_t ring_cap;
    size_t nslots;
    uint64_t capacity;
    uint64_t size;
    uint64_t inserted; /* the Insert Count: absolute index of the next entry */
    uint64_t dropped;  /* absolute index of the oldest entry present */
    /* Ring layout: the live bytes are [head, tail), or, once wrapped,
     * [head, hi_end) then [0, tail); entries from wrap_abs on are the low part. */
    size_t head, tail, hi_end;
    uint64_t wrap_abs;
    bool wrapped;
} skiff_qpack_table;

/* An empty table of capacity 0 (no memory yet). */
void skiff_qpack_table_init(skiff_qpack_table *t);
void skiff_qpack_table_free(skiff_qpack_table *t);

/* Sets the capacity, evicting the oldest entries until the size fits (the
 * encoder checks first that they are evictable), and grows the storage when
 * the capacity is the largest yet. Returns 0, or SKIFF_ERR_NOMEM (the table
 * is unchanged). */
int skiff_qpack_table_set_capacity(skiff_qpack_table *t, uint64_t capacity);

/* Adds an entry, evicting the oldest entries as needed (§3.2.2). name and
 * value must not point into the table. Returns 0, or
 * SKIFF_ERR_INVALID_ARGUMENT if the entry is larger than the capacity. */
int skiff_qpack_table_insert(skiff_qpack_table *t, const uint8_t *name, size_t name_len,
                             const uint8_t *value, size_t value_len);

/* Removes the oldest entry (the table must not be empty). */
void skiff_qpack_table_evict_oldest(skiff_qpack_table *t);

static inline uint64_t skiff_qpack_entry_size(const skiff_qpack_entry *e)
{
    return (uint64_t)e->name_len + e->value_len + SKIFF_QPACK_ENTRY_OVERHEAD;
}

/* The entry of absolute index abs, or NULL if it was evicted or not yet inserted. */
static inline skiff_qpack_entry *skiff_qpack_table_get(const skiff_qpack_table *t, uint64_t abs)
{
    if (abs < t->dropped || abs >= t->inserted) return NULL;
    return &t->slots[abs % t->nslots];
}

static inline const uint8_t *skiff_qpack_entry_name(const skiff_qpack_table *t,
                                                    const skiff_qpack_entry *e)
{
    return t->ring + e->off;
}

static inline const uint8_t *skiff_qpack_entry_value(const skiff_qpack_table *t,
                                                     const skiff_qpack_entry *e)
{
    return t->ring + e->off + e->name_len;
}

#endif
