/*
 * Pacing (RFC 9002 §7.7): a token bucket that spreads a window's worth of
 * packets over a round trip instead of sending them in one burst.
 *
 * Tokens are bytes. They refill at rate = N * cwnd / smoothed_rtt with
 * N = 5/4 (§7.7: a little faster than cwnd per RTT, so that pacing does not
 * itself become the limit), up to a bucket of `burst` bytes (by default 10
 * datagrams), and the bucket starts full, so a sender may always send a small
 * burst at once. cwnd and smoothed_rtt are passed on each call rather than
 * stored, so the rate follows the controller without a separate update.
 * Integer arithmetic, exact to the nanosecond (waits are rounded up).
 */
#ifndef SKIFF_CC_PACER_H
#define SKIFF_CC_PACER_H

#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_PACER_BURST_PACKETS 10
#define SKIFF_PACER_N_NUM 5 /* N = 5/4 (§7.7) */
#define SKIFF_PACER_N_DEN 4

typedef struct skiff_pacer {
    uint64_t tokens; /* bytes that may go now, as of `last` */
    uint64_t burst;  /* bucket size, bytes */
    skiff_time last; /* when `tokens` was last brought up to date */
    uint64_t max_datagram_size;
    uint32_t burst_packets;
} skiff_pacer;

/* A full bucket of `burst_packets` (0: 10) datagrams of `max_datagram_size`
 * (0: 1200) bytes. */
void skiff_pacer_init(skiff_pacer *p, uint64_t max_datagram_size, uint32_t burst_packets,
                      skiff_time now);

/* A new datagram size: the bucket size follows; tokens are capped to it. */
void skiff_pacer_set_max_datagram_size(skiff_pacer *p, uint64_t max_datagram_size);

/* The sending rate in bytes per second for cwnd and smoothed_rtt (0 when
 * either is 0: no pacing), for stats and tests. */
uint64_t skiff_pacer_rate(uint64_t cwnd, skiff_time smoothed_rtt);

/*
 * The earliest time at which `bytes` may be sent: `now` if the bucket holds
 * them, else now plus the time the refill needs (rounded up). With cwnd or
 * smoothed_rtt 0 there is no pacing and the answer is `now`. `bytes` larger
 * than the bucket is treated as the bucket size.
 */
skiff_time skiff_pacer_next_send_time(const skiff_pacer *p, uint64_t cwnd, skiff_time smoothed_rtt,
                                      uint64_t bytes, skiff_time now);

/* `bytes` were sent at `now`: refill up to now, then spend them (the bucket
 * does not go below empty, so a probe that bypassed pacing costs no debt). */
void skiff_pacer_on_sent(skiff_pacer *p, uint64_t cwnd, skiff_time smoothed_rtt, uint64_t bytes,
                         skiff_time now);

#endif
