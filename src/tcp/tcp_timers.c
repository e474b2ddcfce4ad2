/*
 * A TCP connection's timers (RFC 9293 §3.8): retransmission (RFC 6298: the
 * RTO, doubled after each expiry up to 60 s, Karn's rule, and giving up
 * after R2 retries, §3.8.3), persist (zero-window probes with backoff,
 * §3.8.6.1), delayed ACK (§3.8.6.3), TIME-WAIT (2 MSL, §3.6) and keepalive
 * (§3.8.4, off by default). Each is a deadline; the stack asks for the
 * earliest and calls back when it passes.
 */
#include "tcp/tcp_internal.h"

static skiff_time earliest(skiff_time a, skiff_time b) { return a < b ? a : b; }

skiff_time tcp_conn_deadline(const skiff_tcp_conn *c)
{
    skiff_time t = earliest(c->rto_deadline, c->persist_deadline);
    t = earliest(t, c->delack_deadline);
    t = earliest(t, c->timewait_deadline);
    return earliest(t, c->keepalive_deadline);
}

void tcp_arm_rto(skiff_tcp_conn *c, skiff_time now)
{
    skiff_time rto = c->rto;
    for (unsigned i = 0; i < c->retries && rto < SKIFF_RTT_RTO_MAX; i++) rto *= 2; /* §5.5 back off */
    if (rto > SKIFF_RTT_RTO_MAX) rto = SKIFF_RTT_RTO_MAX;
    c->rto_deadline = now + rto;
}

/* RFC 6298 §5.4-5.7: the oldest unacknowledged data goes again, everything
 * in flight is presumed lost, and the window starts over. */
static void on_rto(skiff_tcp_conn *c, skiff_time now)
{
    c->rto_deadline = SKIFF_TIME_NEVER;
    c->stack->stats.rto_expirations++;
    bool handshake = c->state == SKIFF_TCP_SYN_SENT || c->state == SKIFF_TCP_SYN_RECEIVED;
    unsigned limit = handshake ? c->stack->cfg.syn_retries : c->stack->cfg.data_retries;
    if (++c->retries > limit) {
        tcp_end(c, SKIFF_TCP_END_TIMEOUT);
        return;
    }
    c->rtt_seq = UINT64_MAX; /* Karn: no sample from a retransmission */
    if (handshake && !c->syn_acked) {
        c->syn_sent_now = false;
        tcp_arm_rto(c, now);
        tcp_mark_pending(c);
        return;
    }
    for (size_t i = 0; i < c->sent_count; i++) {
        tcp_sent *t = tcp_sent_at(c, i);
        tcp_sent_mark_lost(c, t);
    }
    if (c->fin_sent && !c->fin_acked) {
        c->fin_sent = false;
        c->snd_nxt = c->sent_end;
    }
    c->in_recovery = false;
    c->dupacks = 0;
    skiff_cc_on_persistent_congestion(&c->cc, now);
    c->fast_retransmit_due = true;
    tcp_arm_rto(c, now);
    tcp_mark_pending(c);
}

void tcp_conn_on_timeout(skiff_tcp_conn *c, skiff_time now)
{
    if (c->timewait_deadline <= now) {
        c->timewait_deadline = SKIFF_TIME_NEVER;
        tcp_end(c, SKIFF_TCP_END_CLOSED);
        return;
    }
    if (c->rto_deadline <= now) {
        on_rto(c, now);
        if (c->state == SKIFF_TCP_CLOSED) return;
    }
    if (c->persist_deadline <= now) {
        c->probe_due = true;
        if (c->persist_backoff < 10) c->persist_backoff++;
        skiff_time next = c->rto << c->persist_backoff;
        c->persist_deadline = now + (next > SKIFF_RTT_RTO_MAX ? SKIFF_RTT_RTO_MAX : next);
        tcp_mark_pending(c);
    }
    if (c->delack_deadline <= now) {
        c->delack_deadline = SKIFF_TIME_NEVER;
        c->ack_now = true;
        tcp_mark_pending(c);
    }
    if (c->keepalive_deadline <= now) {
        const skiff_tcp_config *cfg = &c->stack->cfg;
        if (c->keepalive_sent >= cfg->keepalive_probes) {
            tcp_end(c, SKIFF_TCP_END_TIMEOUT);
            return;
        }
        c->keepalive_sent++;
        c->probe_due = true;
        c->keepalive_deadline = now + cfg->keepalive_interval;
        tcp_mark_pending(c);
    }
}
