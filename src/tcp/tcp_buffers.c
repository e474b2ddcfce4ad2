/*
 * A TCP connection's buffers, in stream offsets (see tcp_internal.h):
 *  - the send ring holds what the application gave and the peer has not yet
 *    acknowledged, [snd_una, sent_end), so any of it can be sent again;
 *  - the receive ring holds [read_off, read_off + cap): in-order bytes not
 *    yet read and, beyond rcv_nxt, out-of-order bytes placed where they
 *    belong (RFC 9293 §3.10.7.4 "segment text"), tracked by a range set, so
 *    reassembly is a lookup and never copies twice;
 *  - the transmission log: one record per segment sent, for loss detection,
 *    the SACK scoreboard (RFC 6675) and Karn's rule (RFC 6298 §3).
 * Each is bounded by its configured size; the peer cannot grow them.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_internal.h"

size_t tcp_send_free(const skiff_tcp_conn *c)
{
    return c->sbuf_cap - (size_t)(c->sent_end - c->snd_una);
}

static void ring_copy_in(uint8_t *ring, size_t cap, uint64_t off, const uint8_t *src, size_t len)
{
    size_t at = (size_t)(off % cap), first = cap - at < len ? cap - at : len;
    memcpy(ring + at, src, first);
    if (len > first) memcpy(ring, src + first, len - first);
}

static void ring_copy_out(const uint8_t *ring, size_t cap, uint64_t off, uint8_t *dst, size_t len)
{
    size_t at = (size_t)(off % cap), first = cap - at < len ? cap - at : len;
    memcpy(dst, ring + at, first);
    if (len > first) memcpy(dst + first, ring, len - first);
}

size_t tcp_send_write(skiff_tcp_conn *c, const uint8_t *data, size_t len)
{
    size_t n = tcp_send_free(c);
    if (n > len) n = len;
    if (n) ring_copy_in(c->sbuf, c->sbuf_cap, c->sent_end, data, n);
    c->sent_end += n;
    return n;
}

void tcp_send_copy(const skiff_tcp_conn *c, uint64_t off, uint8_t *dst, size_t len)
{
    if (len) ring_copy_out(c->sbuf, c->sbuf_cap, off, dst, len);
}

/* Stores a received range. Returns 0, or -1 when it cannot be held (beyond
 * the buffer, or too many holes): the segment is then dropped, and the
 * peer's retransmission brings it back. */
int tcp_recv_store(skiff_tcp_conn *c, uint64_t off, const uint8_t *data, size_t len)
{
    uint64_t end = off + len;
    if (end <= c->rcv_nxt) return 0; /* all duplicate */
    if (off < c->rcv_nxt) {
        data += c->rcv_nxt - off;
        off = c->rcv_nxt;
    }
    uint64_t limit = c->read_off + c->rbuf_cap;
    if (off >= limit) return -1;
    if (end > limit) end = limit;
    if (off > c->rcv_nxt) {
        uint64_t held = 0;
        for (size_t i = 0; i < c->ooo.count; i++) held += c->ooo.ranges[i].end - c->ooo.ranges[i].start;
        if (held + (end - off) > c->stack->cfg.ooo_max) return -1;
        if (skiff_range_set_add(&c->ooo, off, end)) return -1;
        ring_copy_in(c->rbuf, c->rbuf_cap, off, data, (size_t)(end - off));
        return 0;
    }
    ring_copy_in(c->rbuf, c->rbuf_cap, off, data, (size_t)(end - off));
    c->rcv_nxt = end;
    /* The hole is filled: what was held beyond joins the in-order bytes. */
    if (!skiff_range_set_empty(&c->ooo)) {
        uint64_t joined = skiff_range_set_contiguous_end(&c->ooo, c->rcv_nxt);
        if (joined > c->rcv_nxt) c->rcv_nxt = joined;
        skiff_range_set_remove_below(&c->ooo, c->rcv_nxt);
    }
    return 0;
}

size_t tcp_recv_read(skiff_tcp_conn *c, uint8_t *dst, size_t cap)
{
    size_t n = (size_t)(c->rcv_nxt - c->read_off);
    if (n > cap) n = cap;
    if (n) ring_copy_out(c->rbuf, c->rbuf_cap, c->read_off, dst, n);
    c->read_off += n;
    return n;
}

/* ---- the transmission log ---- */

tcp_sent *tcp_sent_at(skiff_tcp_conn *c, size_t i)
{
    return &c->sent[(c->sent_head + i) % TCP_SENT_MAX];
}

void tcp_sent_push(skiff_tcp_conn *c, uint64_t start, uint64_t end, skiff_time now, bool retransmission)
{
    if (retransmission) {
        for (size_t i = 0; i < c->sent_count; i++) {
            tcp_sent *r = tcp_sent_at(c, i);
            if (r->start <= start && start < r->end) {
                r->sent_time = now;
                r->retransmitted = true;
                if (r->lost) c->lost_bytes -= r->end - r->start;
                r->lost = false;
                return;
            }
        }
        return;
    }
    if (c->sent_count == TCP_SENT_MAX) return; /* the sender checks before sending new data */
    if (!c->sent) {
        /* Allocated at the first data sent: an idle or receive-only
         * connection does not carry the log. */
        c->sent = malloc(TCP_SENT_MAX * sizeof *c->sent);
        if (!c->sent) return;
    }
    tcp_sent *r = tcp_sent_at(c, c->sent_count++);
    *r = (tcp_sent){.start = start, .end = end, .sent_time = now};
}

void tcp_sent_drop_acked(skiff_tcp_conn *c)
{
    while (c->sent_count && c->sent[c->sent_head].end <= c->snd_una) {
        tcp_sent *r = &c->sent[c->sent_head];
        if (r->lost) c->lost_bytes -= r->end - r->start;
        if (r->sacked) c->sacked_bytes -= r->end - r->start;
        c->sent_head = (c->sent_head + 1) % TCP_SENT_MAX;
        c->sent_count--;
    }
}

void tcp_sent_mark_lost(skiff_tcp_conn *c, tcp_sent *r)
{
    if (r->lost || r->sacked) return;
    r->lost = true;
    c->lost_bytes += r->end - r->start;
}

void tcp_sent_mark_sacked(skiff_tcp_conn *c, tcp_sent *r)
{
    if (r->sacked) return;
    if (r->lost) c->lost_bytes -= r->end - r->start;
    r->lost = false;
    r->sacked = true;
    c->sacked_bytes += r->end - r->start;
}
