/*
 * Sent-packet history (RFC 9002 §A.1.1): a ring of records indexed by
 * packet number offset. See sent_packets.h for the layout and invariants:
 *   - count == number of OUTSTANDING slots in [first_pn, first_pn + span);
 *   - span == 0 or the slot of first_pn is OUTSTANDING;
 *   - span <= max_records and span <= capacity.
 */
#include "quic/sent_packets.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS_MIN 16 /* the size storage starts at and shrinks back to */

void skiff_sent_packets_init(skiff_sent_packets *h, size_t max_records)
{
    memset(h, 0, sizeof *h);
    h->max_records = max_records ? max_records : 1;
}

void skiff_sent_packets_clear(skiff_sent_packets *h)
{
    free(h->slots);
    size_t max = h->max_records;
    memset(h, 0, sizeof *h);
    h->max_records = max;
}

static skiff_sent_packet *slot(const skiff_sent_packets *h, uint64_t pn)
{
    return &h->slots[(h->head + (size_t)(pn - h->first_pn)) & (h->capacity - 1)];
}

static bool in_span(const skiff_sent_packets *h, uint64_t pn)
{
    return pn >= h->first_pn && pn - h->first_pn < h->span;
}

bool skiff_sent_packets_has_room(const skiff_sent_packets *h, uint64_t pn)
{
    if (h->span == 0) return true; /* an empty history restarts at pn */
    if (pn < h->first_pn + h->span) return false;
    return pn - h->first_pn < h->max_records;
}

/* Makes room for `need` slots, unrolling the ring to start at slot 0. */
static int grow(skiff_sent_packets *h, size_t need)
{
    size_t cap = h->capacity ? h->capacity : SLOTS_MIN;
    while (cap < need)
        cap *= 2;
    if (cap == h->capacity) return 0;
    skiff_sent_packet *n = malloc(cap * sizeof *n);
    if (!n) return SKIFF_ERR_NOMEM;
    for (size_t i = 0; i < h->span; i++)
        n[i] = h->slots[(h->head + i) & (h->capacity - 1)];
    free(h->slots);
    h->slots = n;
    h->capacity = cap;
    h->head = 0;
    return 0;
}

int skiff_sent_packets_add(skiff_sent_packets *h, const skiff_sent_packet *p)
{
    if (p->frame_count > SKIFF_SENT_FRAMES_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    if (h->span && p->pn < h->first_pn + h->span) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!skiff_sent_packets_has_room(h, p->pn)) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (h->span == 0) {
        h->first_pn = p->pn;
        h->head = 0;
    }
    size_t need = (size_t)(p->pn - h->first_pn) + 1;
    if (need > h->capacity) {
        int rc = grow(h, need);
        if (rc < 0) return rc;
    }
    /* Packet numbers skipped since the newest become NONE slots. */
    for (uint64_t gap = h->first_pn + h->span; gap < p->pn; gap++)
        slot(h, gap)->state = SKIFF_SENT_NONE;
    skiff_sent_packet *s = slot(h, p->pn);
    *s = *p;
    s->state = SKIFF_SENT_OUTSTANDING;
    h->span = need;
    h->count++;
    return 0;
}

skiff_sent_packet *skiff_sent_packets_get(skiff_sent_packets *h, uint64_t pn)
{
    if (!in_span(h, pn)) return NULL;
    skiff_sent_packet *s = slot(h, pn);
    return s->state == SKIFF_SENT_OUTSTANDING ? s : NULL;
}

uint8_t skiff_sent_packets_state(const skiff_sent_packets *h, uint64_t pn)
{
    return in_span(h, pn) ? slot(h, pn)->state : SKIFF_SENT_NONE;
}

void skiff_sent_packets_mark(skiff_sent_packets *h, uint64_t pn, uint8_t state)
{
    skiff_sent_packet *s = skiff_sent_packets_get(h, pn);
    if (!s) return;
    s->state = state;
    h->count--;
}

void skiff_sent_packets_trim(skiff_sent_packets *h)
{
    if (h->count == 0) {
        /* Nothing outstanding: restart empty, and give back grown storage. */
        h->span = 0;
        h->head = 0;
        if (h->capacity > SLOTS_MIN) {
            skiff_sent_packet *n = realloc(h->slots, SLOTS_MIN * sizeof *n);
            if (n) {
                h->slots = n;
                h->capacity = SLOTS_MIN;
            }
        }
        return;
    }
    while (slot(h, h->first_pn)->state != SKIFF_SENT_OUTSTANDING) {
        h->head = (h->head + 1) & (h->capacity - 1);
        h->first_pn++;
        h->span--;
    }
}

void skiff_sent_packets_remove(skiff_sent_packets *h, uint64_t pn, uint8_t state)
{
    skiff_sent_packets_mark(h, pn, state);
    skiff_sent_packets_trim(h);
}
