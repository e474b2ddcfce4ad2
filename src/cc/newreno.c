/*
 * NewReno window arithmetic (RFC 9002 §7.3, Appendix B; RFC 5681 for TCP).
 *
 * Slow start adds every acknowledged byte (§7.3.1). Congestion avoidance
 * adds one max datagram size per cwnd of acknowledged bytes (§7.3.3): the
 * bytes are counted in `acked_in_ca` and the window grows by one datagram
 * each time a full window has been acknowledged (byte counting, RFC 3465),
 * which is what the per-packet `mds * acked / cwnd` of §B.5 adds up to
 * without its rounding loss. A congestion event halves the window
 * (kLossReductionFactor 0.5, §7.3.2), never below the minimum window.
 */
#include "cc/cc.h"

static void newreno_init(skiff_cc *cc, skiff_time now)
{
    (void)now;
    cc->u.newreno.acked_in_ca = 0;
}

static void newreno_on_acked(skiff_cc *cc, uint64_t bytes, skiff_time sent_time, skiff_time now,
                             const skiff_rtt *rtt, bool app_limited)
{
    (void)sent_time;
    (void)now;
    (void)rtt;
    if (app_limited) return; /* §7.8 */
    if (skiff_cc_in_slow_start(cc)) {
        cc->cwnd += bytes; /* §7.3.1 */
        return;
    }
    skiff_cc_newreno *s = &cc->u.newreno;
    s->acked_in_ca += bytes;
    while (s->acked_in_ca >= cc->cwnd) {
        s->acked_in_ca -= cc->cwnd;
        cc->cwnd += cc->max_datagram_size;
    }
}

static void newreno_reduce(skiff_cc *cc)
{
    uint64_t min = skiff_cc_minimum_window(cc->max_datagram_size);
    cc->ssthresh = cc->cwnd / 2; /* kLossReductionFactor */
    cc->cwnd = cc->ssthresh > min ? cc->ssthresh : min;
    cc->u.newreno.acked_in_ca = 0;
}

static void newreno_on_congestion_event(skiff_cc *cc, skiff_time sent_time, skiff_time now)
{
    (void)sent_time;
    (void)now;
    newreno_reduce(cc);
}

static void newreno_on_persistent_congestion(skiff_cc *cc, skiff_time now)
{
    (void)now;
    cc->u.newreno.acked_in_ca = 0;
}

const skiff_cc_ops skiff_cc_newreno_ops = {
    .name = "newreno",
    .init = newreno_init,
    .on_packet_sent = NULL,
    .on_packets_acked = newreno_on_acked,
    .on_congestion_event = newreno_on_congestion_event,
    .on_ecn_ce = newreno_on_congestion_event, /* §B.7: CE is a congestion event */
    .on_persistent_congestion = newreno_on_persistent_congestion,
};
