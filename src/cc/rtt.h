/*
 * Round-trip time estimation (RFC 9002 §5), shared by QUIC and TCP.
 *
 * One estimator: latest_rtt, min_rtt, smoothed_rtt and rttvar, updated from
 * RTT samples the caller takes (QUIC: §5.1; TCP: RFC 6298 §3). The two
 * protocols differ only in how they turn the estimate into a timer, so both
 * formulas are here: the QUIC probe timeout (RFC 9002 §6.2.1) and the TCP
 * retransmission timeout (RFC 6298 §2).
 *
 * All times are skiff_time nanoseconds. The estimator never reads a clock.
 */
#ifndef SKIFF_CC_RTT_H
#define SKIFF_CC_RTT_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_RTT_INITIAL SKIFF_MS(333)          /* RFC 9002 §6.2.2 kInitialRtt */
#define SKIFF_RTT_GRANULARITY SKIFF_MS(1)        /* RFC 9002 §6.1.2 kGranularity */
#define SKIFF_RTT_RTO_MIN_DEFAULT SKIFF_MS(1000) /* RFC 6298 §2.4 */
#define SKIFF_RTT_RTO_MAX SKIFF_MS(60000)        /* RFC 6298 §2.5: a cap of at least 60 s */

typedef struct skiff_rtt {
    skiff_time latest_rtt;
    skiff_time min_rtt;      /* only meaningful once has_sample */
    skiff_time smoothed_rtt; /* initial_rtt until the first sample (§5.3) */
    skiff_time rttvar;       /* initial_rtt / 2 until the first sample */
    skiff_time initial_rtt;
    skiff_time first_sample_time; /* `now` of the first sample (§7.6.2) */
    bool has_sample;
} skiff_rtt;

/* Starts the estimator with `initial_rtt` (0: 333 ms, RFC 9002 §6.2.2). */
void skiff_rtt_init(skiff_rtt *r, skiff_time initial_rtt);

/*
 * Back to the state before any sample (connection migration to a new path,
 * RFC 9000 §9.4), keeping the configured initial RTT.
 */
void skiff_rtt_reset(skiff_rtt *r);

/*
 * Feeds one RTT sample (RFC 9002 §5.3). `latest_rtt` is now minus the send
 * time of the largest newly acknowledged packet; `ack_delay` the delay the
 * peer reported (0 for TCP and for Initial packets). Once the handshake is
 * confirmed, ack_delay is capped at `max_ack_delay`; it is not subtracted
 * when that would take the sample below min_rtt. The first sample sets
 * smoothed_rtt = latest_rtt and rttvar = latest_rtt / 2 and ignores ack_delay.
 * min_rtt never takes ack_delay into account (§5.2).
 */
void skiff_rtt_update(skiff_rtt *r, skiff_time latest_rtt, skiff_time ack_delay,
                      skiff_time max_ack_delay, bool handshake_confirmed, skiff_time now);

/*
 * The QUIC probe timeout without backoff (RFC 9002 §6.2.1):
 * smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay. The caller
 * passes max_ack_delay = 0 where it does not apply (Initial and Handshake
 * spaces).
 */
skiff_time skiff_rtt_pto(const skiff_rtt *r, skiff_time max_ack_delay);

/*
 * The TCP retransmission timeout (RFC 6298 §2.3): SRTT + max(G, 4 * RTTVAR)
 * with G = 1 ms, at least `min_rto` (0: 1 s, RFC 6298 §2.4) and at most 60 s
 * (§2.5). Before any sample the estimate is the initial RTT, so with the
 * default initial RTT this gives 1 s, the RFC 6298 §2.1 initial RTO.
 */
skiff_time skiff_rtt_rto(const skiff_rtt *r, skiff_time min_rto);

#endif
