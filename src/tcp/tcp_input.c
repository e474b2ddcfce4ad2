/*
 * A segment arrives for a connection (RFC 9293 §3.10.7), in the RFC's order:
 * SYN-SENT first; otherwise check the sequence number (with PAWS, RFC 7323
 * §5), then RST (RFC 5961 §3: only an exact match resets; in-window ones get
 * a challenge ACK), then SYN (RFC 5961 §4: a challenge ACK), then the ACK
 * field (RFC 5961 §5 range check; cumulative and selective acknowledgment,
 * RFC 2018; RTT, RFC 6298 / RFC 7323 §4; congestion, RFC 5681 and RFC 6582;
 * the window update rule), then the text, then FIN.
 */
#include <string.h>

#include "tcp/tcp_internal.h"

/* Options agreed from the peer's SYN (RFC 7323 §2, RFC 2018 §2, §3.7.1). */
void tcp_take_syn_options(skiff_tcp_conn *c, const skiff_tcp_segment *seg)
{
    const skiff_tcp_config *cfg = &c->stack->cfg;
    c->peer_mss = seg->opt.has_mss ? seg->opt.mss : (c->remote.family == 6 ? 1220 : 536);
    c->ws_ok = cfg->window_scale && seg->opt.has_wscale;
    c->snd_wscale = c->ws_ok ? seg->opt.wscale : 0;
    if (!c->ws_ok) c->rcv_wscale = 0;
    c->sack_ok = cfg->sack && seg->opt.sack_permitted;
    c->ts_ok = cfg->timestamps && seg->opt.has_timestamps;
    if (c->ts_ok) c->ts_recent = seg->opt.ts_val;
    uint16_t mss = c->peer_mss < cfg->mss ? c->peer_mss : cfg->mss;
    c->mss = (uint16_t)(mss - (c->ts_ok ? 12 : 0)); /* the timestamp option rides in every segment */
    skiff_cc_set_max_datagram_size(&c->cc, c->mss);
    c->cc.cwnd = skiff_cc_initial_window(c->mss);
}

static void established(skiff_tcp_conn *c, skiff_time now)
{
    if (c->stack->cfg.keepalive) c->keepalive_deadline = now + c->stack->cfg.keepalive_idle;
    tcp_set_state(c, SKIFF_TCP_ESTABLISHED);
    if (c->fin_queued) tcp_set_state(c, SKIFF_TCP_FIN_WAIT_1); /* CLOSE came before the handshake ended */
    if (c->passive) {
        c->stack->half_open--;
        if (c->stack->cb.accepted) c->stack->cb.accepted(c, c->stack->ud);
    }
    if (c->stack->cb.writable) c->stack->cb.writable(c, c->stack->ud);
}

/* An RTT sample (RFC 6298 §2; ack_delay is QUIC's and 0 here). */
static void rtt_sample(skiff_tcp_conn *c, skiff_time sample, skiff_time now)
{
    skiff_rtt_update(&c->rtt, sample, 0, 0, false, now);
    c->rto = skiff_rtt_rto(&c->rtt, c->stack->cfg.min_rto);
}

/* SYN-SENT (§3.10.7.3). */
static void syn_sent_input(skiff_tcp_conn *c, const skiff_tcp_segment *seg, skiff_time now)
{
    bool has_ack = seg->flags & SKIFF_TCP_ACK;
    if (has_ack && seg->ack != c->iss + 1) {
        if (!(seg->flags & SKIFF_TCP_RST)) tcp_queue_rst_for(c->stack, seg);
        return;
    }
    if (seg->flags & SKIFF_TCP_RST) {
        if (has_ack) tcp_end(c, SKIFF_TCP_END_REFUSED); /* "error: connection reset" */
        return;
    }
    if (!(seg->flags & SKIFF_TCP_SYN)) return;
    c->irs = seg->seq;
    c->rcv_nxt = c->read_off = 0;
    tcp_take_syn_options(c, seg);
    c->snd_wnd = seg->window; /* never scaled in a SYN */
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (has_ack) {
        c->syn_acked = true;
        c->snd_una = 0;
        c->retries = 0;
        c->rto_deadline = SKIFF_TIME_NEVER;
        if (!c->ts_ok) rtt_sample(c, now - c->rtt_time, now);
        else rtt_sample(c, SKIFF_MS(tcp_ts_now(c, now) - seg->opt.ts_ecr), now);
        c->ack_now = true;
        established(c, now);
    } else {
        /* Simultaneous open (§3.5, figure 8): answer with SYN-ACK. */
        tcp_set_state(c, SKIFF_TCP_SYN_RECEIVED);
        c->syn_sent_now = false;
    }
    tcp_mark_pending(c);
}

/* §3.10.7.4 "first check sequence number": the acceptability table. */
static bool acceptable(const skiff_tcp_conn *c, const skiff_tcp_segment *seg, uint64_t off, size_t len)
{
    uint64_t wnd = tcp_recv_window(c);
    uint64_t nxt = c->rcv_nxt + (c->fin_received && c->rcv_nxt >= c->fin_off ? 1 : 0);
    if (len == 0) return wnd == 0 ? off == nxt : off >= nxt && off < nxt + wnd;
    if (wnd == 0) return false;
    uint64_t end = off + len - 1;
    (void)seg;
    return (off >= nxt && off < nxt + wnd) || (end >= nxt && end < nxt + wnd);
}

/* RFC 2018: mark what the peer holds beyond the cumulative ACK. */
static void take_sack(skiff_tcp_conn *c, const skiff_tcp_segment *seg)
{
    for (unsigned i = 0; i < seg->opt.sack_count; i++) {
        uint64_t l = tcp_snd_off(c, seg->opt.sack[i].left), r = tcp_snd_off(c, seg->opt.sack[i].right);
        if (r <= l || l < c->snd_una || r > c->snd_max) continue; /* stale or bogus: ignored */
        for (size_t k = 0; k < c->sent_count; k++) {
            tcp_sent *t = tcp_sent_at(c, k);
            if (!t->sacked && t->start >= l && t->end <= r) tcp_sent_mark_sacked(c, t);
        }
    }
}

/* RFC 6675 §5 IsLost, simplified: un-SACKed data with at least three
 * segments' worth SACKed above it is lost. Returns whether any was marked. */
static bool sack_loss(skiff_tcp_conn *c)
{
    bool marked = false;
    uint64_t sacked_above = 0;
    for (size_t k = c->sent_count; k-- > 0;) {
        tcp_sent *t = tcp_sent_at(c, k);
        if (t->sacked) {
            sacked_above += t->end - t->start;
        } else if (!t->lost && sacked_above >= 3u * c->mss && t->end > c->snd_una) {
            tcp_sent_mark_lost(c, t);
            marked = true;
        }
    }
    return marked;
}

/* Enters fast recovery for data sent at `sent_time` (RFC 5681 §3.2, RFC 6582). */
static void enter_recovery(skiff_tcp_conn *c, skiff_time sent_time, skiff_time now)
{
    if (c->in_recovery) return;
    c->in_recovery = true;
    c->recover = c->snd_max;
    c->stack->stats.fast_retransmits++;
    skiff_cc_on_congestion_event(&c->cc, sent_time, now);
    c->fast_retransmit_due = true;
}

static void ack_input(skiff_tcp_conn *c, const skiff_tcp_segment *seg, size_t len, skiff_time now)
{
    uint64_t ack = tcp_snd_off(c, seg->ack);
    /* The SYN was offset -1: an ack of iss + 1 is offset 0. */
    if (ack > c->snd_max) {
        /* RFC 5961 §5.2: an ACK of data never sent gets an ACK, and is dropped. */
        if (tcp_challenge_allowed(c->stack, now)) c->challenge_ack = true;
        tcp_mark_pending(c);
        c->drop_segment = true;
        return;
    }
    /* RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is a blind
     * data injection, not a late ACK: challenge ACK, segment dropped. */
    if (ack < c->snd_una && c->snd_una - ack > (c->max_snd_wnd > 65535 ? c->max_snd_wnd : 65535)) {
        if (tcp_challenge_allowed(c->stack, now)) c->challenge_ack = true;
        tcp_mark_pending(c);
        c->drop_segment = true;
        return;
    }
    bool window_changed = (uint64_t)seg->window << c->snd_wscale != c->snd_wnd;
    if (ack > c->snd_una) {
        uint64_t acked = ack - c->snd_una;
        if (c->fin_sent && ack == c->sent_end + 1) acked--; /* the FIN is no data */
        skiff_time sent_time = now;
        for (size_t i = 0; i < c->sent_count; i++) {
            tcp_sent *t = tcp_sent_at(c, i);
            if (t->end > ack) break;
            sent_time = t->sent_time;
        }
        /* RTT (RFC 7323 §4.3 with timestamps, else Karn's timed segment). */
        if (c->ts_ok && seg->opt.has_timestamps && seg->opt.ts_ecr)
            rtt_sample(c, SKIFF_MS((uint32_t)(tcp_ts_now(c, now) - seg->opt.ts_ecr)), now);
        else if (c->rtt_seq != UINT64_MAX && ack > c->rtt_seq) {
            rtt_sample(c, now - c->rtt_time, now);
            c->rtt_seq = UINT64_MAX;
        }
        c->snd_una = ack > c->sent_end ? c->sent_end : ack;
        if (c->snd_nxt < c->snd_una) c->snd_nxt = c->snd_una;
        skiff_range_set_remove_below(&c->sacked, c->snd_una);
        tcp_sent_drop_acked(c);
        c->dupacks = 0;
        c->retries = 0;
        c->persist_backoff = 0;
        if (c->in_recovery && ack >= c->recover) c->in_recovery = false;
        else if (c->in_recovery && !c->sack_ok && c->sent_count) {
            tcp_sent_mark_lost(c, tcp_sent_at(c, 0)); /* RFC 6582 partial ACK: the next hole */
            c->fast_retransmit_due = true;
        }
        skiff_cc_on_packets_acked(&c->cc, acked, sent_time, now, &c->rtt);
        if (c->fin_sent && ack == c->sent_end + 1) c->fin_acked = true;
        c->rto_deadline = SKIFF_TIME_NEVER;
        if (c->snd_una < c->snd_max && !(c->fin_acked && c->snd_una == c->sent_end)) tcp_arm_rto(c, now);
        if (acked && c->stack->cb.writable) c->stack->cb.writable(c, c->stack->ud);
    } else if (ack == c->snd_una && len == 0 && !(seg->flags & (SKIFF_TCP_SYN | SKIFF_TCP_FIN)) &&
               !window_changed && c->snd_max > c->snd_una) {
        /* RFC 5681 §2: a duplicate ACK. Three (or SACKed losses) start recovery. */
        c->dupacks++;
        if (c->sack_ok) take_sack(c, seg);
        bool lost = c->sack_ok ? sack_loss(c) : false;
        if ((c->dupacks == 3 || lost) && !c->in_recovery && c->sent_count) {
            tcp_sent *first = tcp_sent_at(c, 0);
            tcp_sent_mark_lost(c, first);
            enter_recovery(c, first->sent_time, now);
        }
    }
    if (c->sack_ok && seg->opt.sack_count) {
        take_sack(c, seg);
        if (sack_loss(c) && !c->in_recovery && c->sent_count) enter_recovery(c, tcp_sent_at(c, 0)->sent_time, now);
    }
    /* §3.10.7.4: the window update rule. */
    if (skiff_seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && skiff_seq_leq(c->snd_wl2, seg->ack))) {
        uint64_t before = c->snd_wnd;
        c->snd_wnd = (uint64_t)seg->window << c->snd_wscale;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        if (c->snd_wnd > c->max_snd_wnd) c->max_snd_wnd = c->snd_wnd;
        if (c->snd_wnd > before) c->persist_deadline = SKIFF_TIME_NEVER;
    }
    tcp_mark_pending(c);
}

static void enter_time_wait(skiff_tcp_conn *c, skiff_time now)
{
    tcp_set_state(c, SKIFF_TCP_TIME_WAIT);
    c->rto_deadline = c->persist_deadline = c->keepalive_deadline = SKIFF_TIME_NEVER;
    c->timewait_deadline = now + 2 * c->stack->cfg.msl; /* §3.6: 2 MSL */
}

/* Our FIN is acknowledged: the closing states move on (§3.10.7.4 step 5). */
static void fin_acked(skiff_tcp_conn *c, skiff_time now)
{
    switch (c->state) {
    case SKIFF_TCP_FIN_WAIT_1: tcp_set_state(c, SKIFF_TCP_FIN_WAIT_2); break;
    case SKIFF_TCP_CLOSING: enter_time_wait(c, now); break;
    case SKIFF_TCP_LAST_ACK: tcp_end(c, SKIFF_TCP_END_CLOSED); break;
    default: break;
    }
}

/* The peer's FIN is reached in order (§3.10.7.4 step 8). */
static void fin_reached(skiff_tcp_conn *c, skiff_time now)
{
    c->ack_now = true;
    switch (c->state) {
    case SKIFF_TCP_SYN_RECEIVED:
    case SKIFF_TCP_ESTABLISHED: tcp_set_state(c, SKIFF_TCP_CLOSE_WAIT); break;
    case SKIFF_TCP_FIN_WAIT_1:
        if (c->fin_acked) enter_time_wait(c, now);
        else tcp_set_state(c, SKIFF_TCP_CLOSING);
        break;
    case SKIFF_TCP_FIN_WAIT_2: enter_time_wait(c, now); break;
    default: break;
    }
    if (c->stack->cb.readable) c->stack->cb.readable(c, c->stack->ud);
}

void tcp_input(skiff_tcp_conn *c, const skiff_tcp_segment *seg, skiff_time now)
{
    c->last_received = now;
    if (c->state == SKIFF_TCP_SYN_SENT) {
        syn_sent_input(c, seg, now);
        return;
    }
    uint64_t off = tcp_rcv_off(c, seg->seq);
    size_t len = seg->payload_len;
    bool syn = seg->flags & SKIFF_TCP_SYN, rst = seg->flags & SKIFF_TCP_RST, fin = seg->flags & SKIFF_TCP_FIN;
    /* A retransmitted SYN of the handshake we are answering. */
    if (c->state == SKIFF_TCP_SYN_RECEIVED && syn && !(seg->flags & SKIFF_TCP_ACK) && seg->seq == c->irs) {
        c->syn_sent_now = false;
        tcp_mark_pending(c);
        return;
    }
    /* Simultaneous open (§3.5 figure 7): the peer's SYN-ACK in SYN-RECEIVED
     * completes the handshake; its SYN bit is the one already taken. */
    if (c->state == SKIFF_TCP_SYN_RECEIVED && !c->passive && syn && (seg->flags & SKIFF_TCP_ACK) &&
        seg->seq == c->irs && seg->ack == c->iss + 1)
        syn = false;
    else if (syn)
        off = off + 1; /* a SYN's data starts after it */
    if (c->state == SKIFF_TCP_TIME_WAIT) {
        /* RFC 1337: TIME-WAIT ignores RSTs. §3.10.7.4: a retransmitted FIN is
         * acknowledged and restarts the 2 MSL wait. */
        if (rst) return;
        if (fin && off + len == c->fin_off) {
            c->timewait_deadline = now + 2 * c->stack->cfg.msl;
            c->ack_now = true;
            tcp_mark_pending(c);
            return;
        }
    }
    /* RFC 7323 §5.3 PAWS: an old timestamp is a duplicate from long ago. */
    if (c->ts_ok && seg->opt.has_timestamps && !rst && (int32_t)(seg->opt.ts_val - c->ts_recent) < 0) {
        c->ack_now = true;
        tcp_mark_pending(c);
        return;
    }
    size_t seg_len = len + (fin ? 1 : 0);
    if (c->state != SKIFF_TCP_SYN_RECEIVED && !acceptable(c, seg, syn ? off - 1 : off, seg_len)) {
        c->stack->stats.dropped_out_of_window++;
        if (!rst) {
            c->ack_now = true;
            tcp_mark_pending(c);
        }
        return;
    }
    if (rst) {
        c->stack->stats.rst_received++;
        /* RFC 5961 §3.2: only an RST at exactly RCV.NXT resets; others in
         * the window get a challenge ACK, so a blind attacker must guess. */
        uint64_t nxt = c->rcv_nxt + (c->fin_received && c->rcv_nxt >= c->fin_off ? 1 : 0);
        if (off == nxt || c->state == SKIFF_TCP_SYN_RECEIVED) {
            tcp_end(c, c->state == SKIFF_TCP_SYN_RECEIVED && c->passive ? SKIFF_TCP_END_REFUSED : SKIFF_TCP_END_RESET);
        } else if (tcp_challenge_allowed(c->stack, now)) {
            c->challenge_ack = true;
            tcp_mark_pending(c);
        }
        return;
    }
    if (syn) {
        /* RFC 5961 §4: a SYN on a synchronized connection gets a challenge ACK. */
        if (tcp_challenge_allowed(c->stack, now)) {
            c->challenge_ack = true;
            tcp_mark_pending(c);
        }
        return;
    }
    if (!(seg->flags & SKIFF_TCP_ACK)) return;
    if (c->state == SKIFF_TCP_SYN_RECEIVED) {
        if (seg->ack != c->iss + 1) {
            tcp_queue_rst_for(c->stack, seg);
            return;
        }
        c->syn_acked = true;
        c->snd_una = c->snd_nxt = c->snd_max = 0;
        c->snd_wnd = (uint64_t)seg->window << c->snd_wscale;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        c->retries = 0;
        c->rto_deadline = SKIFF_TIME_NEVER;
        if (c->ts_ok && seg->opt.has_timestamps && seg->opt.ts_ecr)
            rtt_sample(c, SKIFF_MS((uint32_t)(tcp_ts_now(c, now) - seg->opt.ts_ecr)), now);
        established(c, now);
        if (c->state != SKIFF_TCP_ESTABLISHED) return;
    }
    /* RFC 7323 §4.3: TS.Recent follows segments that cover Last.ACK.sent. */
    if (c->ts_ok && seg->opt.has_timestamps && off <= c->last_ack_sent)
        c->ts_recent = seg->opt.ts_val;
    bool was_fin_acked = c->fin_acked;
    c->drop_segment = false;
    ack_input(c, seg, len, now);
    if (c->state == SKIFF_TCP_CLOSED || c->drop_segment) return;
    /* §3.8.4: any segment from the peer shows it is alive. */
    if (c->stack->cfg.keepalive) {
        c->keepalive_sent = 0;
        c->keepalive_deadline = now + c->stack->cfg.keepalive_idle;
    }
    if (!was_fin_acked && c->fin_acked) {
        fin_acked(c, now);
        if (c->state == SKIFF_TCP_CLOSED) return;
    }
    /* The text (§3.10.7.4 step 7), in the states that still receive. */
    bool receiving = c->state == SKIFF_TCP_ESTABLISHED || c->state == SKIFF_TCP_FIN_WAIT_1 ||
                     c->state == SKIFF_TCP_FIN_WAIT_2;
    bool readable = false;
    if (len && receiving) {
        uint64_t before = c->rcv_nxt;
        bool in_order = off <= c->rcv_nxt;
        if (tcp_recv_store(c, off, seg->payload, len)) c->stack->stats.dropped_ooo_full++;
        if (!in_order || !skiff_range_set_empty(&c->ooo) || c->rcv_nxt == before) {
            c->ack_now = true; /* RFC 5681 §4.2: out of order or filling a hole: ACK at once */
        } else if (++c->unacked_segments >= 2) {
            c->ack_now = true; /* every second full segment (RFC 5681 §4.2) */
        } else if (c->delack_deadline == SKIFF_TIME_NEVER) {
            c->delack_deadline = now + c->stack->cfg.delayed_ack;
        }
        readable = c->rcv_nxt > before;
    }
    if (fin && (receiving || c->state == SKIFF_TCP_CLOSE_WAIT || c->state == SKIFF_TCP_CLOSING ||
                c->state == SKIFF_TCP_LAST_ACK || c->state == SKIFF_TCP_TIME_WAIT)) {
        uint64_t fin_at = off + len;
        if (c->state == SKIFF_TCP_TIME_WAIT) {
            /* §3.10.7.4: a retransmitted FIN restarts the 2 MSL wait. */
            c->timewait_deadline = now + 2 * c->stack->cfg.msl;
            c->ack_now = true;
        } else if (!c->fin_received) {
            c->fin_received = true;
            c->fin_off = fin_at;
        } else {
            c->ack_now = true; /* a retransmitted FIN */
        }
    }
    /* The FIN is taken (and the state moves on) before the application
     * hears of new bytes: one that reads up to the FIN and closes at once
     * must find the connection in CLOSE-WAIT, not ESTABLISHED. */
    if (c->fin_received && c->rcv_nxt == c->fin_off && receiving) {
        fin_reached(c, now);
        readable = false; /* fin_reached told it */
    }
    tcp_mark_pending(c);
    if (readable && c->stack->cb.readable) c->stack->cb.readable(c, c->stack->ud);
}
