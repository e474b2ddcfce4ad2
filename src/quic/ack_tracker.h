/*
 * ACK generation on the receive side (RFC 9000 §13.2), one tracker per packet
 * number space: which packet numbers arrived, whether one is a duplicate,
 * when an ACK is due, and the ACK frame itself.
 *
 * The connection, for each packet it receives in a space:
 *   1. after decrypting, drops it if skiff_ack_tracker_is_duplicate();
 *   2. after processing every frame (§13.2.1: never acknowledge before),
 *      calls skiff_ack_tracker_on_packet();
 *   3. arms its timer at skiff_ack_tracker_deadline(); when building a
 *      packet, writes an ACK if skiff_ack_tracker_wants_ack() (must) or
 *      skiff_ack_tracker_has_new() (may piggyback), with
 *      skiff_ack_tracker_write(), only when the ACK really goes out;
 *   4. when a packet carrying one of its ACKs is acknowledged, calls
 *      skiff_ack_tracker_on_ack_acked() with that ACK's Largest Acknowledged
 *      (the sent-packet history remembers it).
 *
 * Memory is bounded by max_ranges (init): a peer that opens gaps makes the
 * tracker forget its oldest ranges (§13.2.3), never grow past the cap. Below
 * a floor that only rises, every packet number counts as a duplicate, so a
 * forgotten range is never acknowledged twice differently nor accepted again.
 *
 * See docs/internals/ack-and-cids.md.
 */
#ifndef SKIFF_QUIC_ACK_TRACKER_H
#define SKIFF_QUIC_ACK_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/range_set.h"
#include "quic/frame.h"
#include "quic/pn_space.h"
#include "skiff/skiff.h"

/* The IP ECN codepoints (RFC 3168 §5) as the I/O layer reports them. */
#ifndef SKIFF_ECN_NOT_ECT
#define SKIFF_ECN_NOT_ECT 0
#define SKIFF_ECN_ECT1 1
#define SKIFF_ECN_ECT0 2
#define SKIFF_ECN_CE 3
#endif

/* The most ACK Ranges one ACK frame carries (first range included): enough
 * to describe heavy reordering, small enough to keep ACKs short. */
#define SKIFF_ACK_TRACKER_MAX_WRITE_RANGES 32
/* Default number of ranges remembered per space. */
#define SKIFF_ACK_TRACKER_DEFAULT_MAX_RANGES 256
/* §13.2.2: acknowledge at least every second ack-eliciting packet. */
#define SKIFF_ACK_TRACKER_DEFAULT_THRESHOLD 2

typedef struct skiff_ack_tracker {
    skiff_pn_space space;
    skiff_range_set received; /* packet numbers >= floor that arrived */
    uint64_t floor;           /* everything below counts as a duplicate */

    bool has_largest;
    uint64_t largest; /* largest packet number received */
    skiff_time largest_recv_time;
    bool has_largest_eliciting;
    uint64_t largest_eliciting; /* largest ack-eliciting packet number received */

    skiff_frame_ecn_counts ecn; /* §13.4.1: packets received with each mark */

    /* Since the last ACK written: */
    bool has_new;                  /* any packet at all */
    uint64_t unacked_eliciting;    /* ack-eliciting packets */
    skiff_time first_unacked_recv; /* receive time of the first of those */
    skiff_time immediate_at;       /* an ACK is due now (SKIFF_TIME_NEVER: not) */

    skiff_time max_ack_delay;     /* our max_ack_delay transport parameter */
    uint64_t eliciting_threshold; /* ack at once after this many (application) */
} skiff_ack_tracker;

/*
 * An empty tracker for `space` that remembers at most max_ranges ranges
 * (0: SKIFF_ACK_TRACKER_DEFAULT_MAX_RANGES), with max_ack_delay 25 ms (the
 * §18.2 default) and a threshold of 2. Allocates nothing yet.
 */
void skiff_ack_tracker_init(skiff_ack_tracker *t, skiff_pn_space space, size_t max_ranges);

void skiff_ack_tracker_free(skiff_ack_tracker *t);

/* Our own max_ack_delay transport parameter (§18.2), as a duration. */
void skiff_ack_tracker_set_max_ack_delay(skiff_ack_tracker *t, skiff_time max_ack_delay);

/* How many ack-eliciting packets make an ACK due at once in the application
 * space (§13.2.2 recommends 2); 0 is taken as 1. */
void skiff_ack_tracker_set_threshold(skiff_ack_tracker *t, uint64_t n);

/* Whether packet number pn must be dropped: already received, or below the
 * floor of forgotten or no longer acknowledged packet numbers. */
bool skiff_ack_tracker_is_duplicate(const skiff_ack_tracker *t, uint64_t pn);

/*
 * Records packet pn, received at `now` and fully processed. ecn_codepoint is
 * the IP ECN field (SKIFF_ECN_*; other bits are ignored). A duplicate is
 * ignored. Returns 0, SKIFF_ERR_INVALID_ARGUMENT for pn over 2^62-1, or
 * SKIFF_ERR_NOMEM (the packet is then not recorded; dropping it is safe).
 */
int skiff_ack_tracker_on_packet(skiff_ack_tracker *t, uint64_t pn, bool ack_eliciting,
                                uint8_t ecn_codepoint, skiff_time now);

/* When an ACK must be sent: SKIFF_TIME_NEVER when no ack-eliciting packet
 * waits for one, a time at or before `now` of the last packet when one is
 * due at once, else the first waiting packet's receive time + max_ack_delay. */
skiff_time skiff_ack_tracker_deadline(const skiff_ack_tracker *t);

/* Whether an ACK must go out now (the deadline has been reached). */
bool skiff_ack_tracker_wants_ack(const skiff_ack_tracker *t, skiff_time now);

/* Whether any packet, ack-eliciting or not, arrived since the last ACK
 * written and is still acknowledged: an ACK may ride along. */
bool skiff_ack_tracker_has_new(const skiff_ack_tracker *t);

/* The largest packet number received (for packet number decoding,
 * §17.1), if any. */
bool skiff_ack_tracker_largest(const skiff_ack_tracker *t, uint64_t *pn);

/*
 * Writes an ACK frame into out[0..cap): the newest ranges, at most
 * SKIFF_ACK_TRACKER_MAX_WRITE_RANGES and as many as fit; type 0x03 with the
 * ECN counts once any is non-zero, else 0x02. ACK Delay is the time since the
 * largest packet arrived, in microseconds shifted right by
 * ack_delay_exponent (§13.2.5, §19.3; our own transport parameter, 0..20).
 * Resets the pending state: call it only for an ACK that is sent.
 *
 * Returns the bytes written, 0 when there is nothing to acknowledge, or
 * SKIFF_ERR_BUFFER_TOO_SMALL (state unchanged) / SKIFF_ERR_INVALID_ARGUMENT
 * (exponent over 20).
 */
skiff_ssize skiff_ack_tracker_write(skiff_ack_tracker *t, uint8_t *out, size_t cap, skiff_time now,
                                    unsigned ack_delay_exponent);

/*
 * A packet that carried one of our ACKs, whose Largest Acknowledged was
 * `largest_acked`, was itself acknowledged: the peer knows everything up to
 * there, so stop acknowledging those packet numbers (§13.2.4) and raise the
 * floor past them.
 */
void skiff_ack_tracker_on_ack_acked(skiff_ack_tracker *t, uint64_t largest_acked);

#endif
