/*
 * The congestion-control wrappers (RFC 9002 §7, Appendix B): the parts every
 * algorithm shares. Bytes in flight, the recovery period of §7.3.2, the
 * app-limited rule of §7.8 and the persistent-congestion collapse of §7.6.2
 * live here, so that newreno.c and cubic.c are only the window arithmetic.
 */
#include "cc/cc.h"

#include <string.h>

const skiff_cc_ops *skiff_cc_ops_for(skiff_cc_algorithm alg)
{
    switch (alg) {
    case SKIFF_CC_NEWRENO:
        return &skiff_cc_newreno_ops;
    case SKIFF_CC_CUBIC:
        return &skiff_cc_cubic_ops;
    }
    return NULL;
}

const skiff_cc_ops *skiff_cc_ops_by_name(const char *name)
{
    if (!name) return NULL;
    if (!strcmp(name, "newreno") || !strcmp(name, "reno")) return &skiff_cc_newreno_ops;
    if (!strcmp(name, "cubic")) return &skiff_cc_cubic_ops;
    return NULL;
}

uint64_t skiff_cc_initial_window(uint64_t mds)
{
    /* RFC 9002 §7.2: min(10 * mds, max(14720, 2 * mds)). */
    uint64_t hi = 2 * mds > 14720 ? 2 * mds : 14720;
    return 10 * mds < hi ? 10 * mds : hi;
}

uint64_t skiff_cc_minimum_window(uint64_t mds)
{
    return 2 * mds; /* RFC 9002 §7.2 kMinimumWindow */
}

void skiff_cc_init(skiff_cc *cc, const skiff_cc_ops *ops, uint64_t max_datagram_size,
                   skiff_time now)
{
    memset(cc, 0, sizeof *cc);
    cc->ops = ops ? ops : &skiff_cc_newreno_ops;
    cc->max_datagram_size = max_datagram_size ? max_datagram_size : 1200;
    skiff_cc_reset(cc, now);
}

void skiff_cc_reset(skiff_cc *cc, skiff_time now)
{
    cc->cwnd = skiff_cc_initial_window(cc->max_datagram_size);
    cc->ssthresh = SKIFF_CC_SSTHRESH_INFINITE;
    cc->recovery_start = SKIFF_TIME_NEVER;
    cc->max_in_flight_since_ack = cc->bytes_in_flight;
    memset(&cc->u, 0, sizeof cc->u);
    cc->ops->init(cc, now);
}

void skiff_cc_set_max_datagram_size(skiff_cc *cc, uint64_t mds)
{
    if (!mds) return;
    cc->max_datagram_size = mds;
    uint64_t min = skiff_cc_minimum_window(mds);
    if (cc->cwnd < min) cc->cwnd = min;
}

void skiff_cc_on_packet_sent(skiff_cc *cc, uint64_t bytes, skiff_time now)
{
    cc->bytes_in_flight += bytes;
    if (cc->bytes_in_flight > cc->max_in_flight_since_ack)
        cc->max_in_flight_since_ack = cc->bytes_in_flight;
    if (cc->ops->on_packet_sent) cc->ops->on_packet_sent(cc, bytes, now);
}

static void take_off_flight(skiff_cc *cc, uint64_t bytes)
{
    cc->bytes_in_flight = cc->bytes_in_flight > bytes ? cc->bytes_in_flight - bytes : 0;
}

void skiff_cc_on_packets_acked(skiff_cc *cc, uint64_t bytes, skiff_time sent_time, skiff_time now,
                               const skiff_rtt *rtt)
{
    /* §7.8: cwnd-limited if the flight came near cwnd since the last ack. */
    bool limited =
        cc->max_in_flight_since_ack + SKIFF_CC_LIMITED_SLACK * cc->max_datagram_size >= cc->cwnd;
    take_off_flight(cc, bytes);
    cc->max_in_flight_since_ack = cc->bytes_in_flight;
    if (!bytes) return;
    /* §7.3.2: acks of packets sent before recovery started do not grow the
     * window; the first ack of a later packet ends the period. */
    if (skiff_cc_in_recovery(cc, sent_time)) return;
    cc->recovery_start = SKIFF_TIME_NEVER;
    cc->ops->on_packets_acked(cc, bytes, sent_time, now, rtt, !limited);
}

void skiff_cc_on_packets_lost(skiff_cc *cc, uint64_t bytes)
{
    take_off_flight(cc, bytes);
}

void skiff_cc_remove_in_flight(skiff_cc *cc, uint64_t bytes)
{
    take_off_flight(cc, bytes);
}

bool skiff_cc_on_congestion_event(skiff_cc *cc, skiff_time sent_time, skiff_time now)
{
    /* §7.3.2: one reduction per round trip. */
    if (skiff_cc_in_recovery(cc, sent_time)) return false;
    cc->recovery_start = now;
    cc->congestion_events++;
    cc->ops->on_congestion_event(cc, sent_time, now);
    return true;
}

bool skiff_cc_on_ecn_ce(skiff_cc *cc, skiff_time sent_time, skiff_time now)
{
    if (skiff_cc_in_recovery(cc, sent_time)) return false;
    cc->recovery_start = now;
    cc->congestion_events++;
    cc->ops->on_ecn_ce(cc, sent_time, now);
    return true;
}

void skiff_cc_on_persistent_congestion(skiff_cc *cc, skiff_time now)
{
    /* §7.6.2 / §B.8: like a TCP RTO, collapse to the minimum window and
     * leave recovery, so that the next ack starts growing again. */
    cc->cwnd = skiff_cc_minimum_window(cc->max_datagram_size);
    cc->recovery_start = SKIFF_TIME_NEVER;
    cc->persistent_congestions++;
    cc->ops->on_persistent_congestion(cc, now);
}
