/*
 * The sending half of a stream: the send buffer in pooled chunks, the
 * pending/acked range sets driven by sent, acked and lost events, the FIN,
 * and RESET_STREAM (RFC 9000 §2.2, §3.1, §3.5, §4.5, §13.3, §19.4, §19.8).
 * Also the chunk pool and chunk ring that the receiving half shares.
 *
 * Retransmission follows §13.3: "Application data sent in STREAM frames is
 * retransmitted in new STREAM frames unless the endpoint has sent a
 * RESET_STREAM for that stream", and lost data is requeued by offset, not by
 * frame, so a retransmission may coalesce or split the original frames.
 *
 * The range sets have a cap (SKIFF_STREAM_SEND_MAX_RANGES). When requeueing
 * would exceed it, the queued range is widened over the neighbouring gap
 * instead, which only means re-sending bytes the peer may already have;
 * when an acknowledgment cannot be recorded, its range is requeued as if
 * lost. Either way no byte is forgotten and memory stays bounded.
 */
#include "quic/stream_send.h"

#include <stdlib.h>
#include <string.h>

/* ---- Chunk pool ---------------------------------------------------------- */

void skiff_stream_pool_init(skiff_stream_pool *p, size_t max_free)
{
    p->free_list = NULL;
    p->free_count = 0;
    p->max_free = max_free;
    p->live = 0;
}

void skiff_stream_pool_cleanup(skiff_stream_pool *p)
{
    while (p->free_list) {
        void *next;
        memcpy(&next, p->free_list, sizeof next);
        free(p->free_list);
        p->free_list = next;
    }
    p->free_count = 0;
}

uint8_t *skiff_stream_pool_get(skiff_stream_pool *p)
{
    uint8_t *c = p->free_list;
    if (c) {
        memcpy(&p->free_list, c, sizeof p->free_list);
        p->free_count--;
    } else {
        c = malloc(SKIFF_STREAM_CHUNK_SIZE);
        if (!c) return NULL;
    }
    p->live++;
    return c;
}

void skiff_stream_pool_put(skiff_stream_pool *p, uint8_t *chunk)
{
    p->live--;
    if (p->free_count >= p->max_free) {
        free(chunk);
        return;
    }
    memcpy(chunk, &p->free_list, sizeof p->free_list);
    p->free_list = chunk;
    p->free_count++;
}

/* ---- Chunk ring ---------------------------------------------------------- */

static int chunks_grow(skiff_stream_chunks *c, uint64_t need)
{
    size_t cap = c->cap ? c->cap : 4;
    while (cap < need)
        cap *= 2;
    uint8_t **slots = calloc(cap, sizeof *slots);
    if (!slots) return SKIFF_ERR_NOMEM;
    for (size_t i = 0; i < c->cap; i++) {
        uint64_t k = c->base + i;
        slots[k & (cap - 1)] = c->slots[k & (c->cap - 1)];
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 0;
}

uint8_t *skiff_stream_chunks_at(skiff_stream_chunks *c, skiff_stream_pool *p, uint64_t offset,
                                bool alloc)
{
    uint64_t k = offset / SKIFF_STREAM_CHUNK_SIZE;
    if (k < c->base) return NULL;
    if (k - c->base >= c->cap) {
        if (!alloc || chunks_grow(c, k - c->base + 1)) return NULL;
    }
    uint8_t **slot = &c->slots[k & (c->cap - 1)];
    if (!*slot && alloc) *slot = skiff_stream_pool_get(p);
    return *slot;
}

int skiff_stream_chunks_write(skiff_stream_chunks *c, skiff_stream_pool *p, uint64_t offset,
                              const uint8_t *data, size_t len)
{
    while (len) {
        uint8_t *chunk = skiff_stream_chunks_at(c, p, offset, true);
        if (!chunk) return SKIFF_ERR_NOMEM;
        size_t at = (size_t)(offset % SKIFF_STREAM_CHUNK_SIZE);
        size_t n = SKIFF_STREAM_CHUNK_SIZE - at;
        if (n > len) n = len;
        memcpy(chunk + at, data, n);
        data += n;
        len -= n;
        offset += n;
    }
    return 0;
}

void skiff_stream_chunks_read(const skiff_stream_chunks *c, uint64_t offset, uint8_t *dst,
                              size_t len)
{
    while (len) {
        uint64_t k = offset / SKIFF_STREAM_CHUNK_SIZE;
        size_t at = (size_t)(offset % SKIFF_STREAM_CHUNK_SIZE);
        size_t n = SKIFF_STREAM_CHUNK_SIZE - at;
        if (n > len) n = len;
        const uint8_t *chunk = NULL;
        if (k >= c->base && k - c->base < c->cap) chunk = c->slots[k & (c->cap - 1)];
        if (chunk)
            memcpy(dst, chunk + at, n);
        else
            memset(dst, 0, n); /* a caller bug; never read freed memory */
        dst += n;
        len -= n;
        offset += n;
    }
}

void skiff_stream_chunks_release_below(skiff_stream_chunks *c, skiff_stream_pool *p,
                                       uint64_t offset)
{
    uint64_t end = offset / SKIFF_STREAM_CHUNK_SIZE; /* chunks below end are wholly below */
    if (end <= c->base) return;
    uint64_t stop = end - c->base < c->cap ? end : c->base + c->cap;
    for (uint64_t k = c->base; k < stop; k++) {
        uint8_t **slot = &c->slots[k & (c->cap - 1)];
        if (*slot) {
            skiff_stream_pool_put(p, *slot);
            *slot = NULL;
        }
    }
    c->base = end;
}

void skiff_stream_chunks_free(skiff_stream_chunks *c, skiff_stream_pool *p)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i]) skiff_stream_pool_put(p, c->slots[i]);
    free(c->slots);
    c->slots = NULL;
    c->cap = 0;
}

/* ---- Range helpers ------------------------------------------------------- */

/* Adds [start, end) to a capped set; at the cap, widens it over the gap to a
 * neighbouring range so that the range count does not grow. */
static void add_widening(skiff_range_set *s, uint64_t start, uint64_t end)
{
    if (skiff_range_set_add(s, start, end) != SKIFF_ERR_BUFFER_TOO_SMALL) return;
    size_t i = 0;
    while (i < s->count && s->ranges[i].end < start)
        i++;
    if (i == s->count) i = s->count - 1; /* every range ends below: join the last */
    uint64_t a = start < s->ranges[i].start ? start : s->ranges[i].start;
    uint64_t b = end > s->ranges[i].end ? end : s->ranges[i].end;
    skiff_range_set_add(s, a, b); /* overlaps range i: merges, cannot grow the count */
}

/* ---- Sending half -------------------------------------------------------- */

void skiff_stream_send_init(skiff_stream_send *s, skiff_stream_pool *pool, size_t buffer_cap)
{
    memset(s, 0, sizeof *s);
    s->pool = pool;
    s->buffer_cap = buffer_cap ? buffer_cap : 1;
    skiff_range_set_init(&s->pending, SKIFF_STREAM_SEND_MAX_RANGES);
    skiff_range_set_init(&s->acked, SKIFF_STREAM_SEND_MAX_RANGES);
}

void skiff_stream_send_cleanup(skiff_stream_send *s)
{
    skiff_stream_chunks_free(&s->chunks, s->pool);
    skiff_range_set_free(&s->pending);
    skiff_range_set_free(&s->acked);
}

size_t skiff_stream_send_writable(const skiff_stream_send *s)
{
    if (s->fin || s->reset) return 0;
    uint64_t held = s->written - s->acked_end;
    return held < s->buffer_cap ? (size_t)(s->buffer_cap - held) : 0;
}

skiff_ssize skiff_stream_send_write(skiff_stream_send *s, const uint8_t *data, size_t len, bool fin)
{
    if (s->fin || s->reset) return SKIFF_ERR_STREAM_STATE;
    size_t n = skiff_stream_send_writable(s);
    if (n > len) n = len;
    /* §19.8: a stream's offsets cannot reach 2^62. */
    if (s->written + n > (UINT64_C(1) << 62) - 1) return SKIFF_ERR_INVALID_ARGUMENT;
    if (n) {
        int rv = skiff_stream_chunks_write(&s->chunks, s->pool, s->written, data, n);
        if (rv) return rv;
        add_widening(&s->pending, s->written, s->written + n);
        s->written += n;
    }
    if (fin && n == len) {
        s->fin = true;
        s->fin_pending = true;
        s->final_size = s->written;
    }
    return (skiff_ssize)n;
}

bool skiff_stream_send_next(const skiff_stream_send *s, uint64_t max_len,
                            uint64_t flow_limit_offset, uint64_t *offset, size_t *len, bool *fin)
{
    if (s->reset) return false;
    /* New data needs credit; data below max_sent was counted already. */
    uint64_t limit = flow_limit_offset > s->max_sent ? flow_limit_offset : s->max_sent;
    for (size_t i = 0; i < s->pending.count; i++) {
        uint64_t a = s->pending.ranges[i].start, b = s->pending.ranges[i].end;
        if (a < s->acked_end) a = s->acked_end;
        while (a < b && skiff_range_set_contains(&s->acked, a, a + 1))
            a = skiff_range_set_contiguous_end(&s->acked, a);
        if (a >= b) continue;                         /* all of it acknowledged meanwhile */
        if (a >= limit || max_len == 0) return false; /* ranges are sorted */
        uint64_t e = skiff_range_set_next_start_above(&s->acked, a);
        if (e > b) e = b;
        if (e > limit) e = limit;
        if (e - a > max_len) e = a + max_len;
#if SIZE_MAX < UINT64_MAX
        if (e - a > SIZE_MAX) e = a + SIZE_MAX;
#endif
        *offset = a;
        *len = (size_t)(e - a);
        *fin = s->fin && s->fin_pending && e == s->final_size;
        return true;
    }
    if (s->fin && s->fin_pending) { /* nothing left but the FIN: a FIN-only frame */
        *offset = s->final_size;
        *len = 0;
        *fin = true;
        return true;
    }
    return false;
}

bool skiff_stream_send_flow_blocked(const skiff_stream_send *s, uint64_t flow_limit_offset)
{
    return !s->reset && s->written > s->max_sent && flow_limit_offset <= s->max_sent;
}

bool skiff_stream_send_has_pending(const skiff_stream_send *s)
{
    uint64_t o;
    size_t n;
    bool f;
    return skiff_stream_send_next(s, UINT64_MAX, UINT64_MAX, &o, &n, &f);
}

void skiff_stream_send_copy(const skiff_stream_send *s, uint64_t offset, size_t len, uint8_t *dst)
{
    skiff_stream_chunks_read(&s->chunks, offset, dst, len);
}

uint64_t skiff_stream_send_on_sent(skiff_stream_send *s, uint64_t offset, size_t len, bool fin)
{
    if (s->reset) return 0;
    s->started = true;
    uint64_t end = offset + len;
    /* Sending takes from the front of a pending range, so this never splits
     * one; if it did and hit the cap, the bytes would merely be sent again. */
    skiff_range_set_remove(&s->pending, offset, end);
    uint64_t fresh = end > s->max_sent ? end - s->max_sent : 0;
    if (end > s->max_sent) s->max_sent = end;
    if (fin) {
        s->fin_pending = false;
        s->fin_sent = true;
    }
    return fresh;
}

void skiff_stream_send_on_acked(skiff_stream_send *s, uint64_t offset, size_t len, bool fin)
{
    if (fin) s->fin_acked = true;
    if (s->reset) return; /* the buffer is gone; only the RESET_STREAM matters now */
    uint64_t end = offset + len;
    if (offset <= s->acked_end) {
        /* Extends the contiguous prefix: needs no range of its own. */
        if (end > s->acked_end) s->acked_end = end;
    } else if (skiff_range_set_add(&s->acked, offset, end)) {
        /* Cannot record it (the cap): send it again, to be acknowledged once
         * the holes before it have filled and the set has shrunk. */
        add_widening(&s->pending, offset, end);
        return;
    }
    skiff_range_set_remove(&s->pending, offset, end);
    while (s->acked.count && s->acked.ranges[0].start <= s->acked_end) {
        if (s->acked.ranges[0].end > s->acked_end) s->acked_end = s->acked.ranges[0].end;
        skiff_range_set_remove_below(&s->acked, s->acked_end);
    }
    skiff_range_set_remove_below(&s->pending, s->acked_end);
    if (skiff_stream_send_all_acked(s))
        skiff_stream_chunks_free(&s->chunks, s->pool);
    else
        skiff_stream_chunks_release_below(&s->chunks, s->pool, s->acked_end);
}

void skiff_stream_send_on_lost(skiff_stream_send *s, uint64_t offset, size_t len, bool fin)
{
    if (s->reset) return; /* §13.3: no retransmission after RESET_STREAM */
    if (fin && !s->fin_acked) s->fin_pending = true;
    uint64_t a = offset < s->acked_end ? s->acked_end : offset, end = offset + len;
    while (a < end) {
        if (skiff_range_set_contains(&s->acked, a, a + 1)) {
            a = skiff_range_set_contiguous_end(&s->acked, a);
            continue;
        }
        uint64_t e = skiff_range_set_next_start_above(&s->acked, a);
        if (e > end) e = end;
        add_widening(&s->pending, a, e);
        a = e;
    }
}

void skiff_stream_send_reset(skiff_stream_send *s, uint64_t code)
{
    /* §3.1: a reset is possible from Ready, Send and Data Sent; once every
     * byte is acknowledged (Data Recvd) there is nothing to abandon. */
    if (s->reset || skiff_stream_send_all_acked(s)) return;
    s->reset = true;
    s->reset_code = code;
    s->reset_pending = true;
    /* §19.4 / §4.5: the final size is the amount of flow control credit used,
     * the largest offset sent. */
    s->final_size = s->max_sent;
    s->fin_pending = false;
    skiff_stream_chunks_free(&s->chunks, s->pool);
    skiff_range_set_free(&s->pending);
    skiff_range_set_free(&s->acked);
}

bool skiff_stream_send_reset_frame(const skiff_stream_send *s, uint64_t *code, uint64_t *final_size)
{
    if (!s->reset_pending) return false;
    *code = s->reset_code;
    *final_size = s->final_size;
    return true;
}

void skiff_stream_send_on_reset_sent(skiff_stream_send *s)
{
    s->reset_pending = false;
    s->reset_sent = true;
}

void skiff_stream_send_on_reset_acked(skiff_stream_send *s)
{
    s->reset_acked = true;
    s->reset_pending = false;
}

void skiff_stream_send_on_reset_lost(skiff_stream_send *s)
{
    /* §13.3: "Cancellation of stream transmission, as carried in a
     * RESET_STREAM frame, is sent until acknowledged". */
    if (s->reset && !s->reset_acked) s->reset_pending = true;
}
