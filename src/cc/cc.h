/*
 * Congestion control shared by QUIC and TCP (RFC 9002 §7; RFC 5681; RFC 9438).
 *
 * A `skiff_cc` is a window controller that works in bytes, RTT samples and
 * `now` only: it knows nothing of packet numbers, frames or QUIC spaces, so
 * the userspace TCP stack can drive it with segments just as QUIC drives it
 * with packets. Algorithms plug in through `skiff_cc_ops`; NewReno and CUBIC
 * are built in, selectable by enum or by name.
 *
 * The caller never calls the ops directly: it calls the skiff_cc_* wrappers,
 * which do the bookkeeping every algorithm shares and then call the op:
 *   - bytes in flight are kept here (`bytes_in_flight`), added on send and
 *     removed on ack, loss or discard, so the cwnd-limited test and
 *     skiff_cc_can_send() see one number;
 *   - the recovery period (RFC 9002 §7.3.2): a congestion event (loss or ECN
 *     CE) for a packet sent at or before the start of the current recovery
 *     does not reduce the window again, and acks of such packets do not grow
 *     it; the period ends when a packet sent after its start is acknowledged;
 *   - app-limited detection (§7.8): the window does not grow on an ack unless
 *     the sender was cwnd-limited since the previous ack, that is the largest
 *     bytes_in_flight seen since then came within SKIFF_CC_LIMITED_SLACK
 *     datagrams of cwnd (a sender that checks skiff_cc_can_send() for a full
 *     datagram stops up to one datagram short, and pacing adds a little);
 *   - persistent congestion (§7.6.2): cwnd to the minimum window, recovery
 *     period cleared.
 *
 * Windows (RFC 9002 §7.2): initial min(10 * mds, max(14720, 2 * mds)),
 * minimum 2 * mds, where mds is the max datagram size (the MSS for TCP).
 */
#ifndef SKIFF_CC_CC_H
#define SKIFF_CC_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "cc/rtt.h"
#include "skiff/skiff.h"

#define SKIFF_CC_LIMITED_SLACK 3 /* datagrams: see app-limited above */
#define SKIFF_CC_SSTHRESH_INFINITE UINT64_MAX

typedef enum skiff_cc_algorithm {
    SKIFF_CC_NEWRENO,
    SKIFF_CC_CUBIC,
} skiff_cc_algorithm;

typedef struct skiff_cc skiff_cc;

/*
 * An algorithm. The wrappers below have already updated bytes_in_flight,
 * checked the recovery period and worked out app_limited when an op runs.
 */
typedef struct skiff_cc_ops {
    const char *name; /* "newreno", "cubic" */
    /* Sets the algorithm's own state for a fresh connection (cwnd and ssthresh
     * are already at their initial values). */
    void (*init)(skiff_cc *cc, skiff_time now);
    /* Optional (may be NULL): `bytes` of in-flight data were sent. */
    void (*on_packet_sent)(skiff_cc *cc, uint64_t bytes, skiff_time now);
    /* `bytes` of in-flight data were newly acknowledged, outside any recovery
     * period; `sent_time` is when the largest of them was sent. When
     * app_limited the window must not grow (§7.8). */
    void (*on_packets_acked)(skiff_cc *cc, uint64_t bytes, skiff_time sent_time, skiff_time now,
                             const skiff_rtt *rtt, bool app_limited);
    /* A loss started a new recovery period (already recorded). */
    void (*on_congestion_event)(skiff_cc *cc, skiff_time sent_time, skiff_time now);
    /* An ECN CE increase started a new recovery period (RFC 9002 §7.3.2). */
    void (*on_ecn_ce)(skiff_cc *cc, skiff_time sent_time, skiff_time now);
    /* cwnd has been set to the minimum window; reset the algorithm state. */
    void (*on_persistent_congestion)(skiff_cc *cc, skiff_time now);
} skiff_cc_ops;

typedef struct skiff_cc_newreno {
    uint64_t acked_in_ca; /* bytes acknowledged towards the next +1 mds (§7.3.3) */
} skiff_cc_newreno;

/* RFC 9438 state, in bytes (the RFC's segments times mds) and seconds. */
typedef struct skiff_cc_cubic {
    double cwnd;            /* cwnd with its fraction; cc->cwnd is its floor */
    double w_max;           /* §4.2 W_max, bytes; 0 when there has been no reduction */
    double cwnd_prior;      /* §4.6 cwnd before the last reduction */
    double w_est;           /* §4.3 the Reno-friendly estimate */
    double k;               /* §4.2 K, seconds */
    skiff_time epoch_start; /* start of this congestion-avoidance stage */
    skiff_time last_ack;    /* `now` of the last ack seen in the stage */
    bool in_epoch;
    bool fast_convergence; /* §4.7; on by default */
} skiff_cc_cubic;

struct skiff_cc {
    const skiff_cc_ops *ops;
    uint64_t cwnd;
    uint64_t ssthresh; /* SKIFF_CC_SSTHRESH_INFINITE until the first reduction */
    uint64_t max_datagram_size;
    uint64_t bytes_in_flight;
    uint64_t max_in_flight_since_ack; /* for the cwnd-limited test */
    skiff_time recovery_start;        /* SKIFF_TIME_NEVER when not in recovery */
    uint64_t congestion_events;       /* counters, for stats and tests */
    uint64_t persistent_congestions;
    union {
        skiff_cc_newreno newreno;
        skiff_cc_cubic cubic;
    } u;
};

extern const skiff_cc_ops skiff_cc_newreno_ops;
extern const skiff_cc_ops skiff_cc_cubic_ops;

/* The ops of an algorithm; NULL for a value that is not one. */
const skiff_cc_ops *skiff_cc_ops_for(skiff_cc_algorithm alg);

/* The ops named `name` ("newreno", "reno", "cubic"; case-sensitive), or NULL. */
const skiff_cc_ops *skiff_cc_ops_by_name(const char *name);

/* The RFC 9002 §7.2 windows for a max datagram size. */
uint64_t skiff_cc_initial_window(uint64_t max_datagram_size);
uint64_t skiff_cc_minimum_window(uint64_t max_datagram_size);

/* Starts a controller (`ops` NULL: NewReno; mds 0: 1200). Allocates nothing. */
void skiff_cc_init(skiff_cc *cc, const skiff_cc_ops *ops, uint64_t max_datagram_size,
                   skiff_time now);

/*
 * Back to the initial window, infinite ssthresh, no recovery period and a
 * fresh algorithm state (RFC 9000 §9.4: a new path gets a new controller).
 * bytes_in_flight is kept: the packets still out will be acknowledged or
 * declared lost and taken off it then.
 */
void skiff_cc_reset(skiff_cc *cc, skiff_time now);

/* A new max datagram size (PMTU discovery); cwnd is kept but raised to the
 * new minimum window if below it. */
void skiff_cc_set_max_datagram_size(skiff_cc *cc, uint64_t max_datagram_size);

/* `bytes` of in-flight data sent (RFC 9002 §B.4). */
void skiff_cc_on_packet_sent(skiff_cc *cc, uint64_t bytes, skiff_time now);

/*
 * `bytes` of in-flight data newly acknowledged by one ACK; `sent_time` is the
 * send time of the largest of them (§B.5). Takes them off bytes_in_flight
 * and grows the window unless that packet was sent in the recovery period
 * or the sender was app-limited.
 */
void skiff_cc_on_packets_acked(skiff_cc *cc, uint64_t bytes, skiff_time sent_time, skiff_time now,
                               const skiff_rtt *rtt);

/* `bytes` of in-flight data declared lost: off bytes_in_flight only. The
 * caller reports the congestion event separately, once per batch. */
void skiff_cc_on_packets_lost(skiff_cc *cc, uint64_t bytes);

/* `bytes` no longer in flight for another reason (a discarded packet number
 * space, RFC 9002 §6.4): off bytes_in_flight, no congestion signal. */
void skiff_cc_remove_in_flight(skiff_cc *cc, uint64_t bytes);

/*
 * A loss of a packet sent at `sent_time` (the latest among a batch, §B.8).
 * Returns true if this started a new recovery period (the window was
 * reduced), false if that packet was sent within the current one (§7.3.2).
 */
bool skiff_cc_on_congestion_event(skiff_cc *cc, skiff_time sent_time, skiff_time now);

/* An increase of the ECN-CE count; `sent_time` is that of the largest newly
 * acknowledged packet (§B.7). Same return as skiff_cc_on_congestion_event. */
bool skiff_cc_on_ecn_ce(skiff_cc *cc, skiff_time sent_time, skiff_time now);

/* Persistent congestion (§7.6.2): cwnd to the minimum window. */
void skiff_cc_on_persistent_congestion(skiff_cc *cc, skiff_time now);

static inline bool skiff_cc_in_slow_start(const skiff_cc *cc)
{
    return cc->cwnd < cc->ssthresh;
}

/* Whether a packet sent at `sent_time` belongs to the current recovery period. */
static inline bool skiff_cc_in_recovery(const skiff_cc *cc, skiff_time sent_time)
{
    return cc->recovery_start != SKIFF_TIME_NEVER && sent_time <= cc->recovery_start;
}

/* Whether `bytes` more may be sent now without exceeding cwnd. */
static inline bool skiff_cc_can_send(const skiff_cc *cc, uint64_t bytes)
{
    return cc->bytes_in_flight + bytes <= cc->cwnd;
}

/* cwnd minus bytes in flight, 0 when at or over the window. */
static inline uint64_t skiff_cc_available(const skiff_cc *cc)
{
    return cc->bytes_in_flight < cc->cwnd ? cc->cwnd - cc->bytes_in_flight : 0;
}

#endif
