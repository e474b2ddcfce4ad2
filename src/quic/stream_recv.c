/*
 * The receiving half of a stream: out-of-order reassembly into pooled
 * chunks, the final size rules, and the read API (RFC 9000 §2.2, §3.2,
 * §4.1, §4.5, §19.4, §19.8). The same code reassembles CRYPTO data (§7.5,
 * §19.6), with a buffering cap in place of flow control.
 *
 * §2.2: "An endpoint could receive data for a stream at the same stream
 * offset multiple times. Data that has already been received can be
 * discarded." Only the gaps of an arriving frame are written, so the first
 * copy of each byte is kept, and nothing below the read offset is stored.
 */
#include "quic/stream_recv.h"

#include <string.h>

void skiff_stream_recv_init(skiff_stream_recv *r, skiff_stream_pool *pool, size_t max_ranges)
{
    memset(r, 0, sizeof *r);
    r->pool = pool;
    r->final_size = SKIFF_FINAL_SIZE_UNKNOWN;
    skiff_range_set_init(&r->received, max_ranges ? max_ranges : SKIFF_STREAM_RECV_MAX_RANGES);
}

void skiff_stream_recv_init_crypto(skiff_stream_recv *r, skiff_stream_pool *pool)
{
    skiff_stream_recv_init(r, pool, SKIFF_CRYPTO_RECV_MAX_RANGES);
    r->crypto_cap = SKIFF_CRYPTO_BUFFER_CAP;
}

void skiff_stream_recv_cleanup(skiff_stream_recv *r)
{
    skiff_stream_chunks_free(&r->chunks, r->pool);
    skiff_range_set_free(&r->received);
}

bool skiff_stream_recv_all_received(const skiff_stream_recv *r)
{
    return r->final_size != SKIFF_FINAL_SIZE_UNKNOWN &&
           skiff_range_set_contiguous_end(&r->received, r->read_off) >= r->final_size;
}

/* The §4.5 checks shared by STREAM and RESET_STREAM, for a frame whose data
 * ends at `end`, which is the final size when `is_final`. */
static int check_final_size(const skiff_stream_recv *r, uint64_t end, bool is_final)
{
    if (r->final_size != SKIFF_FINAL_SIZE_UNKNOWN) {
        /* "Once a final size for a stream is known, it cannot change. If a
         * RESET_STREAM or STREAM frame is received indicating a change in
         * the final size for the stream, an endpoint SHOULD respond with an
         * error of type FINAL_SIZE_ERROR" */
        if (is_final && end != r->final_size) return SKIFF_ERR_FINAL_SIZE;
        /* "... MUST NOT send data on a stream at or beyond the final size." */
        if (end > r->final_size) return SKIFF_ERR_FINAL_SIZE;
    }
    /* "... a receiver SHOULD treat receipt of data at or beyond the final
     * size as an error of type FINAL_SIZE_ERROR" -- seen from the other
     * side: a final size below data already received. */
    if (is_final && end < r->highest) return SKIFF_ERR_FINAL_SIZE;
    return 0;
}

/* Whether adding [a, b) would need more ranges than the cap allows. */
static bool would_exceed_cap(const skiff_range_set *s, uint64_t a, uint64_t b)
{
    if (s->count < s->max_ranges) return false;
    /* At the cap the add must merge with an existing range: [a, b) has to
     * touch or overlap one (adjacent counts: ranges are half-open). */
    if (a > 0 && skiff_range_set_contains(s, a - 1, a)) return false;
    if (skiff_range_set_intersects(s, a, b + 1)) return false;
    return true;
}

int skiff_stream_recv_on_data(skiff_stream_recv *r, uint64_t offset, const uint8_t *data,
                              size_t len, bool fin, uint64_t limit, uint64_t *fresh)
{
    uint64_t end = offset + len; /* frame.c keeps offset + len below 2^62 (§19.8) */
    *fresh = 0;
    if (r->crypto_cap) {
        /* §7.5: "an endpoint ... MAY close the connection with a
         * CRYPTO_BUFFER_EXCEEDED error code" beyond its buffering. */
        if (end > r->read_off + r->crypto_cap) return SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED;
        fin = false;
    } else {
        int rv = check_final_size(r, end, fin);
        if (rv) return rv;
        if (end > limit) return SKIFF_ERR_FLOW_CONTROL; /* §4.1 */
    }
    if (fin) r->final_size = end;
    if (end > r->highest) {
        *fresh = end - r->highest;
        r->highest = end;
    }
    if (r->reset) return 0; /* §3.2: data after a reset may be discarded */
    if (r->discard) {
        r->read_off = r->highest;
        if (r->read_off == r->final_size) r->fin_read = true;
        return 0;
    }
    uint64_t a = offset < r->read_off ? r->read_off : offset;
    if (a >= end) return 0;
    if (would_exceed_cap(&r->received, a, end))
        return r->crypto_cap ? SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED : SKIFF_ERR_PROTOCOL_VIOLATION;
    /* Write the gaps only, then record the whole range. */
    uint64_t at = a;
    while (at < end) {
        if (skiff_range_set_contains(&r->received, at, at + 1)) {
            at = skiff_range_set_contiguous_end(&r->received, at);
            continue;
        }
        uint64_t e = skiff_range_set_next_start_above(&r->received, at);
        if (e > end) e = end;
        int rv = skiff_stream_chunks_write(&r->chunks, r->pool, at, data + (at - offset),
                                           (size_t)(e - at));
        if (rv) return rv;
        at = e;
    }
    return skiff_range_set_add(&r->received, a, end);
}

int skiff_stream_recv_on_reset(skiff_stream_recv *r, uint64_t final_size, uint64_t code,
                               uint64_t limit, uint64_t *fresh)
{
    *fresh = 0;
    int rv = check_final_size(r, final_size, true);
    if (rv) return rv;
    /* §4.5: the final size counts against flow control like data would. */
    if (final_size > limit) return SKIFF_ERR_FLOW_CONTROL;
    r->final_size = final_size;
    if (final_size > r->highest) {
        *fresh = final_size - r->highest;
        r->highest = final_size;
    }
    if (r->reset || r->fin_read) return 0;
    if (!r->discard && skiff_stream_recv_all_received(r)) return 0; /* keep the data */
    r->reset = true;
    r->reset_code = code;
    if (r->discard) r->reset_read = true; /* nobody is reading: nobody to tell */
    r->read_off = final_size;
    skiff_stream_chunks_free(&r->chunks, r->pool);
    skiff_range_set_free(&r->received);
    return 0;
}

uint64_t skiff_stream_recv_readable(const skiff_stream_recv *r)
{
    if (r->reset) return 0;
    return skiff_range_set_contiguous_end(&r->received, r->read_off) - r->read_off;
}

size_t skiff_stream_recv_peek(const skiff_stream_recv *r, const uint8_t **data, bool *fin)
{
    *data = NULL;
    *fin = false;
    if (r->reset) return 0;
    uint64_t avail = skiff_stream_recv_readable(r);
    if (avail == 0) {
        *fin = r->read_off == r->final_size;
        return 0;
    }
    size_t at = (size_t)(r->read_off % SKIFF_STREAM_CHUNK_SIZE);
    size_t n = SKIFF_STREAM_CHUNK_SIZE - at;
    if (n > avail) n = (size_t)avail;
    uint64_t k = r->read_off / SKIFF_STREAM_CHUNK_SIZE;
    *data = r->chunks.slots[k & (r->chunks.cap - 1)] + at;
    *fin = r->read_off + n == r->final_size;
    return n;
}

void skiff_stream_recv_consume(skiff_stream_recv *r, size_t n)
{
    if (r->reset) return;
    uint64_t avail = skiff_stream_recv_readable(r);
    if (n > avail) n = (size_t)avail;
    r->read_off += n;
    skiff_range_set_remove_below(&r->received, r->read_off);
    skiff_stream_chunks_release_below(&r->chunks, r->pool, r->read_off);
    if (r->read_off == r->final_size) r->fin_read = true;
}

skiff_ssize skiff_stream_recv_read(skiff_stream_recv *r, uint8_t *dst, size_t cap, bool *fin)
{
    size_t total = 0;
    *fin = false;
    if (r->reset) return 0;
    while (total < cap) {
        const uint8_t *p;
        size_t n = skiff_stream_recv_peek(r, &p, fin);
        if (n == 0) break;
        if (n > cap - total) {
            n = cap - total;
            *fin = false;
        }
        memcpy(dst + total, p, n);
        skiff_stream_recv_consume(r, n);
        total += n;
    }
    *fin = r->read_off == r->final_size;
    if (*fin) r->fin_read = true;
    return (skiff_ssize)total;
}

bool skiff_stream_recv_take_reset(skiff_stream_recv *r, uint64_t *code)
{
    if (!r->reset) return false;
    *code = r->reset_code;
    r->reset_read = true;
    return true;
}

void skiff_stream_recv_stop(skiff_stream_recv *r)
{
    if (r->discard) return;
    r->discard = true;
    if (r->reset) {
        r->reset_read = true;
        return;
    }
    r->read_off = r->highest;
    if (r->read_off == r->final_size) r->fin_read = true;
    skiff_stream_chunks_free(&r->chunks, r->pool);
    skiff_range_set_free(&r->received);
}
