/*
 * QUIC loss detection and congestion control glue (RFC 9002 §5-§7,
 * Appendix A): one object per connection holding the three spaces' sent
 * histories, the RTT estimator, the congestion controller, the pacer and the
 * Appendix A state (largest_acked, loss_time and the time of the last
 * ack-eliciting packet per space, pto_count, the peer's max_ack_delay,
 * handshake confirmation, address validation, keys per space).
 *
 * The connection drives it:
 *   - skiff_recovery_on_packet_sent() for every packet sent (ACK-only ones
 *     too, so that their acknowledgment is reported);
 *   - skiff_recovery_on_ack() for every ACK frame received;
 *   - skiff_recovery_timer() for the deadline of the loss-detection timer and
 *     skiff_recovery_on_timeout() when it passes;
 *   - the setters when keys are installed or discarded, the handshake is
 *     confirmed, transport parameters arrive, or the path changes.
 * It reports packets through callbacks: on_acked for each newly acknowledged
 * packet, on_lost for each packet declared lost (the connection requeues its
 * frames). Callbacks get a copy of the record; they may record new packets
 * but must not call on_ack, on_timeout or discard_space on the same object.
 *
 * The deadline is recomputed (RFC 9002 §A.8 SetLossDetectionTimer) whenever
 * state changes, not when it is read, so the anti-deadlock PTO of a client
 * counts from the last event rather than moving with every read.
 *
 * Probe packets (and the anti-deadlock packet) must be sent even when
 * skiff_recovery_can_send() says no (RFC 9002 §7.5).
 */
#ifndef SKIFF_QUIC_RECOVERY_H
#define SKIFF_QUIC_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "cc/cc.h"
#include "cc/pacer.h"
#include "cc/rtt.h"
#include "quic/frame.h"
#include "quic/pn_space.h"
#include "quic/sent_packets.h"
#include "skiff/skiff.h"

#define SKIFF_RECOVERY_PACKET_THRESHOLD 3   /* §6.1.1 kPacketThreshold */
#define SKIFF_RECOVERY_TIME_THRESHOLD_NUM 9 /* §6.1.2 kTimeThreshold = 9/8 */
#define SKIFF_RECOVERY_TIME_THRESHOLD_DEN 8
#define SKIFF_RECOVERY_PERSISTENT_THRESHOLD 3 /* §7.6.1 kPersistentCongestionThreshold */
#define SKIFF_RECOVERY_PTO_PROBES 2           /* §6.2.4: up to two probe datagrams */
#define SKIFF_RECOVERY_HISTORY_DEFAULT 4096   /* records per space */
#define SKIFF_RECOVERY_SKIPPED_MAX 8          /* skipped pns remembered per space */
#define SKIFF_RECOVERY_PN_NONE UINT64_MAX

typedef struct skiff_recovery_config {
    skiff_cc_algorithm cc;        /* SKIFF_CC_NEWRENO (default) or SKIFF_CC_CUBIC */
    skiff_time initial_rtt;       /* 0: 333 ms (§6.2.2) */
    uint32_t max_datagram_size;   /* 0: 1200 */
    uint32_t history_cap;         /* sent records per space; 0: SKIFF_RECOVERY_HISTORY_DEFAULT */
    uint32_t pacer_burst_packets; /* 0: 10 */
    bool is_server;               /* a server's peer has always validated its address */
} skiff_recovery_config;

typedef struct skiff_recovery_callbacks {
    /* A packet newly acknowledged. Within one ACK, in descending pn order. */
    void (*on_acked)(void *ud, skiff_pn_space space, const skiff_sent_packet *p);
    /* A packet declared lost (§6.1). In ascending pn order. */
    void (*on_lost)(void *ud, skiff_pn_space space, const skiff_sent_packet *p);
} skiff_recovery_callbacks;

/* What a PTO asks the connection to send (§6.2.4), ack-eliciting, bypassing
 * the congestion window. */
typedef struct skiff_recovery_probe {
    uint8_t packets[SKIFF_SPACE_COUNT]; /* probe packets per space */
    /* §6.2.2.1: a client that has nothing in flight but whose peer may be
     * amplification-limited: one Handshake packet, or an Initial packet in a
     * datagram padded to at least 1200 bytes. */
    bool anti_deadlock;
} skiff_recovery_probe;

/* RFC 9000 §13.4.2: ECN validation of the path. */
typedef enum skiff_ecn_validation {
    SKIFF_ECN_VALIDATING, /* marking; no ACK has confirmed the counts yet */
    SKIFF_ECN_CAPABLE,    /* counts confirmed */
    SKIFF_ECN_FAILED,     /* stop marking packets */
} skiff_ecn_validation;

typedef struct skiff_recovery_space {
    skiff_sent_packets sent;
    uint64_t next_pn;              /* the lowest pn not sent yet */
    uint64_t largest_acked;        /* SKIFF_RECOVERY_PN_NONE until the first ACK */
    skiff_time loss_time;          /* SKIFF_TIME_NEVER when no packet awaits the time threshold */
    skiff_time last_ack_eliciting; /* SKIFF_TIME_NEVER when none sent */
    uint64_t bytes_in_flight;      /* this space's share */
    uint64_t ack_eliciting_in_flight;
    uint64_t skipped[SKIFF_RECOVERY_SKIPPED_MAX];
    uint8_t skipped_count, skipped_next;
    bool keys_available;
    bool discarded;
    uint64_t ecn_sent;               /* packets sent with ECT(0) or ECT(1) */
    skiff_frame_ecn_counts ecn_peer; /* the last counts the peer reported */
} skiff_recovery_space;

typedef struct skiff_recovery {
    skiff_recovery_space spaces[SKIFF_SPACE_COUNT];
    skiff_rtt rtt;
    skiff_cc cc;
    skiff_pacer pacer;
    skiff_time max_ack_delay; /* the peer's (RFC 9000 §18.2), default 25 ms */
    skiff_time timer;         /* the loss-detection deadline, SKIFF_TIME_NEVER */
    uint32_t pto_count;
    bool is_server;
    bool handshake_confirmed;
    bool peer_validated; /* client: the server has our address validated (§A.6) */
    bool amplification_blocked;
    skiff_ecn_validation ecn;
} skiff_recovery;

/* Fills *cfg with the defaults (NewReno, 333 ms, 1200, 4096, 10, client). */
void skiff_recovery_config_default(skiff_recovery_config *cfg);

/* Starts recovery for a new connection (`cfg` NULL: defaults). Initial keys
 * are available; the other spaces' keys are not until set. Allocates nothing:
 * the histories grow on the first packet. Returns 0 or
 * SKIFF_ERR_INVALID_ARGUMENT (an unknown cc algorithm). */
int skiff_recovery_init(skiff_recovery *r, const skiff_recovery_config *cfg, skiff_time now);

/* Frees the histories. */
void skiff_recovery_free(skiff_recovery *r);

/*
 * Records a sent packet (§A.5) and updates bytes in flight, the controller,
 * the pacer and the timer; p->time_sent is taken as `now`. An ack-eliciting
 * packet is always in flight. Returns 0; SKIFF_ERR_INVALID_ARGUMENT if the
 * space is discarded or p->pn is below a pn already sent or skipped;
 * SKIFF_ERR_BUFFER_TOO_SMALL if the space's history is full (stop sending
 * in-flight packets in that space until ACKs or losses free it, see
 * skiff_recovery_can_record); SKIFF_ERR_NOMEM. On error nothing is recorded.
 * A packet that is not in flight (ACK-only) is never refused for a full
 * history: it then counts as sent but is not tracked, so its acknowledgment
 * is accepted and not reported.
 */
int skiff_recovery_on_packet_sent(skiff_recovery *r, skiff_pn_space space,
                                  const skiff_sent_packet *p);

/*
 * Marks `pn` as deliberately skipped (RFC 9000 §21.4 optimistic-ACK
 * detection): the next packet must be numbered above it, and an ACK that
 * covers it is a PROTOCOL_VIOLATION. The last SKIFF_RECOVERY_SKIPPED_MAX per
 * space are remembered. Returns 0 or SKIFF_ERR_INVALID_ARGUMENT (pn already
 * used or below, or the space discarded).
 */
int skiff_recovery_skip_pn(skiff_recovery *r, skiff_pn_space space, uint64_t pn);

/* Whether a packet numbered pn may be recorded now in `space` (the history
 * is below its cap). */
bool skiff_recovery_can_record(const skiff_recovery *r, skiff_pn_space space, uint64_t pn);

/*
 * Processes a decoded ACK frame received in `space` (§A.7, RFC 9000 §13.4.2
 * for its ECN counts). `ack_delay` is the frame's delay already scaled by the
 * peer's ack_delay_exponent (ignored in the Initial space, §5.3). Calls
 * cb->on_acked for each newly acknowledged packet, then cb->on_lost for each
 * packet declared lost (packet threshold 3, time threshold 9/8 * max(srtt,
 * latest_rtt) and at least 1 ms), feeds the RTT estimator when the largest
 * acknowledged is newly acknowledged and an ack-eliciting packet is among the
 * newly acknowledged (§5.1), updates the controller (with persistent
 * congestion, §7.6) and re-arms the timer. `cb` may be NULL.
 *
 * Returns 0, or SKIFF_ERR_PROTOCOL_VIOLATION when the ACK covers a packet
 * number never sent in this space (at or above the next pn, or a skipped
 * one): RFC 9000 §13.1. That check comes first, so a rejected ACK changes
 * nothing. An ACK in a discarded space is ignored.
 */
int skiff_recovery_on_ack(skiff_recovery *r, skiff_pn_space space, const skiff_frame_ack *ack,
                          skiff_time ack_delay, skiff_time now, const skiff_recovery_callbacks *cb,
                          void *ud);

/* The loss-detection timer's deadline (§6.1.2, §6.2.1, §A.8), or
 * SKIFF_TIME_NEVER. */
static inline skiff_time skiff_recovery_timer(const skiff_recovery *r)
{
    return r->timer;
}

/*
 * Handles the loss-detection timer at `now` (§A.9). If the deadline is a
 * loss time, declares the time-threshold losses (cb->on_lost) and returns 0.
 * If it is a PTO, increments pto_count, fills *probe with the probe packets
 * to send and returns 1. Before the deadline (or with none), does nothing and
 * returns 0. *probe is always written (zero when no probe is due).
 */
int skiff_recovery_on_timeout(skiff_recovery *r, skiff_time now, const skiff_recovery_callbacks *cb,
                              void *ud, skiff_recovery_probe *probe);

/*
 * Discards a packet number space (§6.4, §A.11): its packets leave bytes in
 * flight and the history without any callback, its timers are reset, and so
 * is pto_count. Later packets and ACKs in the space are refused / ignored.
 */
void skiff_recovery_discard_space(skiff_recovery *r, skiff_pn_space space, skiff_time now);

/* Keys for `space` are available (the client's anti-deadlock probe goes to
 * Handshake once it has Handshake keys, §6.2.2.1). */
void skiff_recovery_set_keys_available(skiff_recovery *r, skiff_pn_space space, skiff_time now);

/* The handshake is confirmed (RFC 9001 §4.1.2): Application Data PTO is
 * armed, ack_delay is capped at max_ack_delay, and (client) the server has
 * validated our address. */
void skiff_recovery_set_handshake_confirmed(skiff_recovery *r, skiff_time now);

/* The peer's max_ack_delay transport parameter. */
void skiff_recovery_set_peer_max_ack_delay(skiff_recovery *r, skiff_time max_ack_delay);

/* Server: whether the anti-amplification limit (RFC 9000 §8.1) blocks
 * sending; while it does and no loss time is pending, there is no PTO. */
void skiff_recovery_set_amplification_blocked(skiff_recovery *r, bool blocked, skiff_time now);

/* A new path (RFC 9000 §9.4): the controller, the RTT estimator and the
 * pacer restart from their initial state. Bytes in flight are kept. */
void skiff_recovery_reset_congestion(skiff_recovery *r, skiff_time now);

/* A new max datagram size (PMTU discovery) for the controller and pacer. */
void skiff_recovery_set_max_datagram_size(skiff_recovery *r, uint64_t max_datagram_size);

/* ---- Queries -------------------------------------------------------------- */

/* The next packet number this space will use. */
static inline uint64_t skiff_recovery_next_pn(const skiff_recovery *r, skiff_pn_space space)
{
    return r->spaces[space].next_pn;
}

static inline uint64_t skiff_recovery_bytes_in_flight(const skiff_recovery *r)
{
    return r->cc.bytes_in_flight;
}
static inline uint64_t skiff_recovery_cwnd(const skiff_recovery *r)
{
    return r->cc.cwnd;
}
/* Whether `bytes` more in-flight bytes fit the congestion window. */
static inline bool skiff_recovery_can_send(const skiff_recovery *r, uint64_t bytes)
{
    return skiff_cc_can_send(&r->cc, bytes);
}
static inline skiff_time skiff_recovery_smoothed_rtt(const skiff_recovery *r)
{
    return r->rtt.smoothed_rtt;
}
static inline uint32_t skiff_recovery_pto_count(const skiff_recovery *r)
{
    return r->pto_count;
}
static inline skiff_ecn_validation skiff_recovery_ecn_state(const skiff_recovery *r)
{
    return r->ecn;
}

/* The earliest time a packet of `bytes` may go out under pacing (§7.7). */
skiff_time skiff_recovery_next_send_time(const skiff_recovery *r, uint64_t bytes, skiff_time now);

/* The current PTO period without backoff, max_ack_delay included (§6.2.1):
 * what the idle timeout (RFC 9000 §10.1, at least 3 PTO) and the closing and
 * draining periods (§10.2, 3 PTO) are measured in. */
skiff_time skiff_recovery_pto_duration(const skiff_recovery *r);

#endif
