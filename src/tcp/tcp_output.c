/*
 * What a TCP connection sends next, one segment per call (RFC 9293 §3.8.6,
 * §3.10): a RST it owes, its SYN or SYN-ACK, data it must send again (lost,
 * not SACKed: RFC 6675), new data within both windows (flow: the peer's
 * window; congestion: cwnd, RFC 5681) and Nagle's rule (§3.7.4), its FIN,
 * a zero-window probe, or an ACK it owes (delayed, immediate, a window
 * update or an RFC 5961 challenge ACK). Every segment but the SYN carries
 * an ACK, with the receive window advertised so it never shrinks and opens
 * only in useful steps (receiver silly-window avoidance, §3.8.6.2.2).
 */
#include <string.h>

#include "tcp/tcp_internal.h"

uint32_t tcp_ts_now(const skiff_tcp_conn *c, skiff_time now)
{
    return (uint32_t)(now / SKIFF_MS(1)) + c->ts_offset; /* a 1 ms clock (RFC 7323 §5.4) */
}

/* The free space after in-order data, held back so the right edge never
 * moves left and moves right only by min(half the buffer, one MSS) or more. */
uint64_t tcp_recv_window(const skiff_tcp_conn *c)
{
    uint64_t free = c->rbuf_cap - (c->rcv_nxt - c->read_off);
    uint64_t right = c->rcv_nxt + free;
    uint64_t step = c->rbuf_cap / 2 < c->mss ? c->rbuf_cap / 2 : c->mss;
    if (right < c->rcv_adv + step && c->rcv_adv > c->rcv_nxt) right = c->rcv_adv;
    if (right < c->rcv_adv) right = c->rcv_adv;
    return right - c->rcv_nxt;
}

static uint32_t ack_number(const skiff_tcp_conn *c)
{
    uint32_t ack = tcp_rcv_seq(c, c->rcv_nxt);
    return c->fin_received && c->rcv_nxt >= c->fin_off ? ack + 1 : ack; /* the FIN takes one */
}

static bool synchronized(const skiff_tcp_conn *c)
{
    return c->state != SKIFF_TCP_SYN_SENT && c->state != SKIFF_TCP_CLOSED && c->state != SKIFF_TCP_LISTEN;
}

/* Bytes in flight, as RFC 6675's "pipe": sent, not acknowledged, not
 * SACKed, not marked lost (lost ones count again once resent). */
static uint64_t pipe_bytes(skiff_tcp_conn *c)
{
    uint64_t top = c->snd_max < c->sent_end ? c->snd_max : c->sent_end; /* not the FIN */
    uint64_t out = top > c->snd_una ? top - c->snd_una : 0;
    uint64_t gone = c->sacked_bytes + c->lost_bytes;
    return out > gone ? out - gone : 0;
}

static size_t build(skiff_tcp_conn *c, uint8_t *out, size_t cap, uint8_t flags, uint64_t seq_off,
                    bool syn, const uint8_t *payload, size_t len, skiff_time now)
{
    skiff_tcp_segment seg;
    memset(&seg, 0, sizeof seg);
    seg.src = c->local;
    seg.dst = c->remote;
    seg.seq = syn ? c->iss : tcp_snd_seq(c, seq_off);
    seg.flags = flags;
    if (flags & SKIFF_TCP_ACK) seg.ack = ack_number(c);
    uint64_t win = c->state == SKIFF_TCP_SYN_SENT ? c->rbuf_cap : tcp_recv_window(c);
    if (syn) {
        seg.window = win > 65535 ? 65535 : (uint16_t)win; /* §2.2 of RFC 7323: SYNs are never scaled */
        const skiff_tcp_config *cfg = &c->stack->cfg;
        seg.opt.has_mss = true;
        seg.opt.mss = cfg->mss;
        bool answering = c->state == SKIFF_TCP_SYN_RECEIVED;
        if (cfg->window_scale && (!answering || c->ws_ok)) {
            seg.opt.has_wscale = true;
            seg.opt.wscale = c->rcv_wscale;
        }
        if (cfg->sack && (!answering || c->sack_ok)) seg.opt.sack_permitted = true;
        if (cfg->timestamps && (!answering || c->ts_ok)) {
            seg.opt.has_timestamps = true;
            seg.opt.ts_val = tcp_ts_now(c, now);
            seg.opt.ts_ecr = answering ? c->ts_recent : 0;
        }
    } else {
        uint64_t scaled = win >> c->rcv_wscale;
        seg.window = scaled > 65535 ? 65535 : (uint16_t)scaled;
        if (c->ts_ok) {
            seg.opt.has_timestamps = true;
            seg.opt.ts_val = tcp_ts_now(c, now);
            seg.opt.ts_ecr = c->ts_recent;
        }
        /* RFC 2018: report what is held beyond a hole. */
        if (c->sack_ok && (flags & SKIFF_TCP_ACK) && !skiff_range_set_empty(&c->ooo)) {
            unsigned max = c->ts_ok ? 3 : 4;
            for (size_t i = 0; i < c->ooo.count && seg.opt.sack_count < max; i++) {
                seg.opt.sack[seg.opt.sack_count].left = tcp_rcv_seq(c, c->ooo.ranges[i].start);
                seg.opt.sack[seg.opt.sack_count].right = tcp_rcv_seq(c, c->ooo.ranges[i].end);
                seg.opt.sack_count++;
            }
        }
    }
    seg.payload = payload;
    seg.payload_len = len;
    skiff_ssize n = skiff_tcp_segment_build(out, cap, &seg);
    if (n <= 0) return 0;
    c->stack->stats.segments_out++;
    if (flags & SKIFF_TCP_ACK) {
        c->ack_now = false;
        c->window_update = false;
        c->challenge_ack = false;
        c->unacked_segments = 0;
        c->delack_deadline = SKIFF_TIME_NEVER;
        c->last_ack_sent = c->rcv_nxt;
        if (c->rcv_nxt + win > c->rcv_adv) c->rcv_adv = c->rcv_nxt + win;
    }
    return (size_t)n;
}

static size_t send_range(skiff_tcp_conn *c, uint8_t *out, size_t cap, uint64_t start, size_t len,
                         bool fin, bool retransmission, skiff_time now)
{
    uint8_t *scratch = c->stack->scratch;
    tcp_send_copy(c, start, scratch, len);
    uint8_t flags = SKIFF_TCP_ACK | (len ? SKIFF_TCP_PSH : 0) | (fin ? SKIFF_TCP_FIN : 0);
    size_t n = build(c, out, cap, flags, start, false, scratch, len, now);
    if (!n) return 0;
    if (len) {
        tcp_sent_push(c, start, start + len, now, retransmission);
        skiff_cc_on_packet_sent(&c->cc, len, now);
        if (retransmission) c->stack->stats.retransmits++;
        /* Karn (RFC 6298 §3): time only new data, and only without timestamps. */
        if (!retransmission && !c->ts_ok && c->rtt_seq == UINT64_MAX) {
            c->rtt_seq = start;
            c->rtt_time = now;
        }
    }
    uint64_t end = start + len + (fin ? 1 : 0);
    if (fin) c->fin_sent = true;
    if (end > c->snd_nxt) c->snd_nxt = end;
    if (end > c->snd_max) c->snd_max = end;
    if (c->rto_deadline == SKIFF_TIME_NEVER) tcp_arm_rto(c, now);
    return n;
}

/* The first lost, un-SACKed transmission, if congestion allows resending it. */
static tcp_sent *next_lost(skiff_tcp_conn *c)
{
    for (size_t i = 0; i < c->sent_count; i++) {
        tcp_sent *r = tcp_sent_at(c, i);
        if (r->lost && !r->sacked && r->end > c->snd_una) return r;
    }
    return NULL;
}

size_t tcp_output(skiff_tcp_conn *c, uint8_t *out, size_t cap, skiff_time now)
{
    if (c->rst_pending) { /* §3.10.5 ABORT: RST at SND.NXT */
        c->rst_pending = false;
        c->stack->stats.rst_sent++;
        return build(c, out, cap, SKIFF_TCP_RST, c->snd_nxt, false, NULL, 0, now);
    }
    if (c->state == SKIFF_TCP_CLOSED || c->state == SKIFF_TCP_LISTEN) return 0;
    /* The SYN (§3.5): sent until acknowledged, again after each RTO. */
    if ((c->state == SKIFF_TCP_SYN_SENT || c->state == SKIFF_TCP_SYN_RECEIVED) && !c->syn_acked &&
        c->snd_nxt == 0 && !c->syn_sent_now) {
        c->syn_sent_now = true;
        if (c->rto_deadline == SKIFF_TIME_NEVER) tcp_arm_rto(c, now);
        uint8_t flags = SKIFF_TCP_SYN | (c->state == SKIFF_TCP_SYN_RECEIVED ? SKIFF_TCP_ACK : 0);
        return build(c, out, cap, flags, 0, true, NULL, 0, now);
    }
    if (!synchronized(c) || !c->syn_acked) {
        if (c->ack_now && c->state == SKIFF_TCP_SYN_RECEIVED) {
            c->syn_sent_now = false; /* a duplicate SYN: answer with the SYN-ACK again */
            return tcp_output(c, out, cap, now);
        }
        return 0;
    }
    uint64_t pipe = pipe_bytes(c);
    uint64_t cwnd = c->cc.cwnd;
    c->cc.bytes_in_flight = pipe;
    /* Lost data first (RFC 6675 §5 NextSeg rule 1), within cwnd. */
    tcp_sent *lost = c->lost_bytes ? next_lost(c) : NULL;
    if (lost && (pipe < cwnd || c->fast_retransmit_due)) {
        c->fast_retransmit_due = false;
        uint64_t start = lost->start > c->snd_una ? lost->start : c->snd_una;
        size_t len = (size_t)(lost->end - start);
        return send_range(c, out, cap, start, len, false, true, now);
    }
    /* New data within the peer's window and cwnd. */
    uint64_t queued = c->sent_end > c->snd_nxt ? c->sent_end - c->snd_nxt : 0;
    uint64_t flow_edge = c->snd_una + c->snd_wnd;
    uint64_t flow = flow_edge > c->snd_nxt ? flow_edge - c->snd_nxt : 0;
    uint64_t cong = cwnd > pipe ? cwnd - pipe : 0;
    if (queued) {
        uint64_t len = queued;
        if (len > c->mss) len = c->mss;
        if (len > flow) len = flow;
        if (len > cong) len = cong;
        bool all = c->snd_nxt + len == c->sent_end;
        /* Nagle: a small segment waits while data is unacknowledged. */
        bool nagle_holds = c->nagle && len < c->mss && c->snd_nxt > c->snd_una && !(all && c->fin_queued);
        if (len > 0 && !nagle_holds && c->sent_count < TCP_SENT_MAX) {
            bool fin = all && c->fin_queued && !c->fin_sent && flow > len;
            return send_range(c, out, cap, c->snd_nxt, (size_t)len, fin, false, now);
        }
        if (c->snd_wnd == 0 && c->persist_deadline == SKIFF_TIME_NEVER && c->rto_deadline == SKIFF_TIME_NEVER)
            c->persist_deadline = now + c->rto; /* §3.8.6.1: probe a zero window */
    }
    /* The FIN on its own. */
    if (c->fin_queued && !c->fin_sent && c->snd_nxt == c->sent_end)
        return send_range(c, out, cap, c->sent_end, 0, true, false, now);
    if (c->probe_due) {
        c->probe_due = false;
        c->stack->stats.zero_window_probes++;
        if (c->snd_nxt < c->sent_end) {
            /* One byte beyond the window: the answer carries the window. */
            tcp_send_copy(c, c->snd_nxt, c->stack->scratch, 1);
            return build(c, out, cap, SKIFF_TCP_ACK, c->snd_nxt, false, c->stack->scratch, 1, now);
        }
        return build(c, out, cap, SKIFF_TCP_ACK, c->snd_nxt - 1, false, NULL, 0, now);
    }
    if (c->ack_now || c->window_update || c->challenge_ack)
        return build(c, out, cap, SKIFF_TCP_ACK, c->snd_nxt, false, NULL, 0, now);
    return 0;
}
