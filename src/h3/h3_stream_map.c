/*
 * HTTP/3 streams by QUIC stream ID: open addressing with linear probing and
 * backward-shift deletion, grown at half load. The stream count is bounded by
 * the QUIC stream limits we grant, so the table stays small.
 */
#include <stdlib.h>

#include "h3/h3_conn_internal.h"

static size_t slot_of(uint64_t id, size_t cap)
{
    /* Stream IDs step by 4: mix the bits so neighbours spread out. */
    uint64_t x = id * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(x >> 32) & (cap - 1);
}

h3_stream *h3_stream_map_find(const h3_stream_map *m, uint64_t id)
{
    if (!m->cap) return NULL;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        h3_stream *st = m->slots[i];
        if (!st) return NULL;
        if (st->id == id) return st;
    }
}

static int grow(h3_stream_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    h3_stream **slots = calloc(cap, sizeof *slots);
    if (!slots) return SKIFF_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        h3_stream *st = m->slots[i];
        if (!st) continue;
        size_t j = slot_of(st->id, cap);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = st;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int h3_stream_map_insert(h3_stream_map *m, h3_stream *st)
{
    if ((m->count + 1) * 2 > m->cap) {
        int rv = grow(m);
        if (rv) return rv;
    }
    size_t i = slot_of(st->id, m->cap);
    while (m->slots[i]) i = (i + 1) & (m->cap - 1);
    m->slots[i] = st;
    m->count++;
    return 0;
}

void h3_stream_map_remove(h3_stream_map *m, uint64_t id)
{
    if (!m->cap) return;
    size_t mask = m->cap - 1, i = slot_of(id, m->cap);
    while (m->slots[i] && m->slots[i]->id != id) i = (i + 1) & mask;
    if (!m->slots[i]) return;
    m->slots[i] = NULL;
    m->count--;
    /* Shift back the entries of the probe run that follows, so lookups that
     * passed through the freed slot still find them. */
    for (size_t j = (i + 1) & mask; m->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m->slots[j]->id, m->cap);
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->slots[i] = m->slots[j];
            m->slots[j] = NULL;
            i = j;
        }
    }
}

void h3_stream_map_free(h3_stream_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}
