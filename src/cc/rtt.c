/*
 * RTT estimator (RFC 9002 §5; the same EWMA as RFC 6298 §2) and the two
 * timers derived from it: QUIC's PTO (RFC 9002 §6.2.1) and TCP's RTO
 * (RFC 6298 §2). Integer nanoseconds throughout; the 7/8 and 3/4 weights are
 * applied with integer arithmetic, truncating, which loses under a
 * nanosecond per sample.
 */
#include "cc/rtt.h"

void skiff_rtt_init(skiff_rtt *r, skiff_time initial_rtt)
{
    r->initial_rtt = initial_rtt ? initial_rtt : SKIFF_RTT_INITIAL;
    skiff_rtt_reset(r);
}

void skiff_rtt_reset(skiff_rtt *r)
{
    /* §5.3 / §6.2.2: before a sample, smoothed_rtt = kInitialRtt and rttvar
     * = kInitialRtt / 2, so the first PTO is 3 * kInitialRtt. */
    r->latest_rtt = 0;
    r->min_rtt = 0;
    r->smoothed_rtt = r->initial_rtt;
    r->rttvar = r->initial_rtt / 2;
    r->first_sample_time = 0;
    r->has_sample = false;
}

void skiff_rtt_update(skiff_rtt *r, skiff_time latest_rtt, skiff_time ack_delay,
                      skiff_time max_ack_delay, bool handshake_confirmed, skiff_time now)
{
    r->latest_rtt = latest_rtt;
    if (!r->has_sample) {
        /* §5.3: the first sample initialises everything and ignores ack_delay. */
        r->min_rtt = latest_rtt;
        r->smoothed_rtt = latest_rtt;
        r->rttvar = latest_rtt / 2;
        r->first_sample_time = now;
        r->has_sample = true;
        return;
    }
    /* §5.2: min_rtt is the raw minimum, without ack_delay adjustment. */
    if (latest_rtt < r->min_rtt) r->min_rtt = latest_rtt;
    /* §5.3: after confirmation the peer cannot claim more than max_ack_delay. */
    if (handshake_confirmed && ack_delay > max_ack_delay) ack_delay = max_ack_delay;
    /* §5.3: subtract the delay only if that keeps the sample at or above min_rtt. */
    skiff_time adjusted = latest_rtt;
    if (latest_rtt >= r->min_rtt + ack_delay) adjusted = latest_rtt - ack_delay;
    skiff_time diff =
        r->smoothed_rtt > adjusted ? r->smoothed_rtt - adjusted : adjusted - r->smoothed_rtt;
    r->rttvar = (3 * r->rttvar + diff) / 4;
    r->smoothed_rtt = (7 * r->smoothed_rtt + adjusted) / 8;
}

skiff_time skiff_rtt_pto(const skiff_rtt *r, skiff_time max_ack_delay)
{
    skiff_time var = 4 * r->rttvar;
    if (var < SKIFF_RTT_GRANULARITY) var = SKIFF_RTT_GRANULARITY; /* §6.2.1 */
    return r->smoothed_rtt + var + max_ack_delay;
}

skiff_time skiff_rtt_rto(const skiff_rtt *r, skiff_time min_rto)
{
    if (!min_rto) min_rto = SKIFF_RTT_RTO_MIN_DEFAULT;
    skiff_time var = 4 * r->rttvar;
    if (var < SKIFF_RTT_GRANULARITY) var = SKIFF_RTT_GRANULARITY; /* RFC 6298 §2.3 G */
    skiff_time rto = r->smoothed_rtt + var;
    if (rto < min_rto) rto = min_rto;                     /* §2.4 */
    if (rto > SKIFF_RTT_RTO_MAX) rto = SKIFF_RTT_RTO_MAX; /* §2.5 */
    return rto;
}
