/*
 * Receive-side acknowledgment state, RFC 9000 §13.2: received packet numbers
 * as a capped range set (§13.2.3), duplicate detection (§12.3), when to send
 * an ACK (§13.2.1, §13.2.2), the ACK frame with its ACK Delay (§13.2.5,
 * §19.3) and ECN counts (§13.4.1), and pruning once an ACK was itself
 * acknowledged (§13.2.4).
 *
 * The floor. §13.2.3 lets a receiver forget old ranges provided it "will not
 * subsequently accept packets with numbers in that range"; a minimum packet
 * number that only rises is the cheap way to keep that promise. The floor
 * rises when the range cap forces the oldest range out, and when an ACK of
 * ours was acknowledged (§13.2.4). Everything below it is a duplicate.
 *
 *   floor          received (at most max_ranges ranges)         largest
 *     |   [  ]  [      ]   [ ]        [          ]                 |
 *     v                                                            v
 *   ---------------------------------------------------------------->  pn
 */
#include "quic/ack_tracker.h"

#include <string.h>

#include "common/varint.h"

void skiff_ack_tracker_init(skiff_ack_tracker *t, skiff_pn_space space, size_t max_ranges)
{
    memset(t, 0, sizeof *t);
    t->space = space;
    skiff_range_set_init(&t->received,
                         max_ranges ? max_ranges : SKIFF_ACK_TRACKER_DEFAULT_MAX_RANGES);
    t->immediate_at = SKIFF_TIME_NEVER;
    t->first_unacked_recv = SKIFF_TIME_NEVER;
    t->max_ack_delay = SKIFF_MS(25); /* §18.2 default */
    t->eliciting_threshold = SKIFF_ACK_TRACKER_DEFAULT_THRESHOLD;
}

void skiff_ack_tracker_free(skiff_ack_tracker *t)
{
    skiff_range_set_free(&t->received);
}

void skiff_ack_tracker_set_max_ack_delay(skiff_ack_tracker *t, skiff_time max_ack_delay)
{
    t->max_ack_delay = max_ack_delay;
}

void skiff_ack_tracker_set_threshold(skiff_ack_tracker *t, uint64_t n)
{
    t->eliciting_threshold = n ? n : 1;
}

bool skiff_ack_tracker_is_duplicate(const skiff_ack_tracker *t, uint64_t pn)
{
    return pn < t->floor || skiff_range_set_contains(&t->received, pn, pn + 1);
}

bool skiff_ack_tracker_largest(const skiff_ack_tracker *t, uint64_t *pn)
{
    if (t->has_largest) *pn = t->largest;
    return t->has_largest;
}

/*
 * Adds pn to the set; when the cap is reached, forgets the oldest range and
 * raises the floor to what is then the lowest value kept (§13.2.3), so the
 * gap below that can never be filled again and reopen a range. Only fails
 * with SKIFF_ERR_NOMEM.
 */
static int record(skiff_ack_tracker *t, uint64_t pn)
{
    int rv = skiff_range_set_add(&t->received, pn, pn + 1);
    if (rv != SKIFF_ERR_BUFFER_TOO_SMALL) return rv;
    skiff_range_set *s = &t->received;
    if (pn < s->ranges[0].start) {
        /* Older than everything kept: forgetting this one packet costs less
         * than forgetting a newer range. It is not acknowledged; the floor
         * moves past it so that it stays a duplicate. */
        t->floor = pn + 1;
        return 0;
    }
    uint64_t floor = pn;
    if (s->count >= 2 && s->ranges[1].start < floor) floor = s->ranges[1].start;
    /* pn is in no range and not adjacent to one (else add would have
     * merged), so range 0 lies wholly below the new floor. */
    skiff_range_set_remove_below(s, floor);
    if (floor > t->floor) t->floor = floor;
    return skiff_range_set_add(s, pn, pn + 1);
}

/*
 * §13.2.1: an ack-eliciting packet that arrives out of order is acknowledged
 * at once, to help the sender's loss detection: one numbered below an
 * ack-eliciting packet already received, or one above the largest such with
 * packets missing in between. Called before pn is recorded.
 */
static bool out_of_order(const skiff_ack_tracker *t, uint64_t pn)
{
    if (t->has_largest_eliciting && pn < t->largest_eliciting) return true;
    uint64_t from = t->has_largest_eliciting ? t->largest_eliciting + 1 : 0;
    if (from < t->floor) from = t->floor;
    return from < pn && !skiff_range_set_contains(&t->received, from, pn);
}

int skiff_ack_tracker_on_packet(skiff_ack_tracker *t, uint64_t pn, bool ack_eliciting,
                                uint8_t ecn_codepoint, skiff_time now)
{
    if (pn > SKIFF_VARINT_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    if (skiff_ack_tracker_is_duplicate(t, pn)) return 0;

    bool immediate = false;
    if (ack_eliciting) {
        /* §13.2.1: Initial and Handshake packets are acknowledged at once. */
        if (t->space != SKIFF_SPACE_APPLICATION) immediate = true;
        if (out_of_order(t, pn)) immediate = true;
        /* §13.2.1: a CE mark SHOULD be acknowledged at once, to shorten the
         * peer's reaction to congestion. Only for ack-eliciting packets: a
         * packet that elicits no ACK must not make us send one on its own. */
        if ((ecn_codepoint & 3u) == SKIFF_ECN_CE) immediate = true;
    }

    int rv = record(t, pn);
    if (rv) return rv;

    switch (ecn_codepoint & 3u) {
    case SKIFF_ECN_ECT0:
        t->ecn.ect0++;
        break;
    case SKIFF_ECN_ECT1:
        t->ecn.ect1++;
        break;
    case SKIFF_ECN_CE:
        t->ecn.ce++;
        break;
    default:
        break;
    }

    if (!t->has_largest || pn > t->largest) {
        t->has_largest = true;
        t->largest = pn;
        t->largest_recv_time = now;
    }
    t->has_new = true;
    if (!ack_eliciting) return 0;

    if (!t->has_largest_eliciting || pn > t->largest_eliciting) {
        t->has_largest_eliciting = true;
        t->largest_eliciting = pn;
    }
    if (t->unacked_eliciting++ == 0) t->first_unacked_recv = now;
    /* §13.2.2: at least every second ack-eliciting packet (configurable). */
    if (t->unacked_eliciting >= t->eliciting_threshold) immediate = true;
    if (immediate && t->immediate_at == SKIFF_TIME_NEVER) t->immediate_at = now;
    return 0;
}

skiff_time skiff_ack_tracker_deadline(const skiff_ack_tracker *t)
{
    if (t->unacked_eliciting == 0) return SKIFF_TIME_NEVER;
    /* §13.2.1: within max_ack_delay of the first packet still waiting. */
    skiff_time d = t->first_unacked_recv + t->max_ack_delay;
    if (d < t->first_unacked_recv) d = SKIFF_TIME_NEVER - 1; /* saturate */
    return t->immediate_at < d ? t->immediate_at : d;
}

bool skiff_ack_tracker_wants_ack(const skiff_ack_tracker *t, skiff_time now)
{
    skiff_time d = skiff_ack_tracker_deadline(t);
    return d != SKIFF_TIME_NEVER && now >= d;
}

bool skiff_ack_tracker_has_new(const skiff_ack_tracker *t)
{
    return t->has_new && !skiff_range_set_empty(&t->received);
}

static void clear_pending(skiff_ack_tracker *t)
{
    t->has_new = false;
    t->unacked_eliciting = 0;
    t->first_unacked_recv = SKIFF_TIME_NEVER;
    t->immediate_at = SKIFF_TIME_NEVER;
}

skiff_ssize skiff_ack_tracker_write(skiff_ack_tracker *t, uint8_t *out, size_t cap, skiff_time now,
                                    unsigned ack_delay_exponent)
{
    if (ack_delay_exponent > 20) return SKIFF_ERR_INVALID_ARGUMENT; /* §18.2 */
    const skiff_range_set *s = &t->received;
    if (skiff_range_set_empty(s)) return 0;

    /* Newest first, as §13.2.3 wants the largest packet number in every
     * ACK and the frame encoder takes descending intervals. */
    skiff_frame_ack_interval iv[SKIFF_ACK_TRACKER_MAX_WRITE_RANGES];
    size_t n = 0;
    for (size_t i = s->count; i > 0 && n < SKIFF_ACK_TRACKER_MAX_WRITE_RANGES; i--, n++) {
        iv[n].smallest = s->ranges[i - 1].start;
        iv[n].largest = s->ranges[i - 1].end - 1;
    }

    /* §13.2.5: the delay since the largest packet arrived, which is the
     * largest of the set (the floor never passes the largest received while
     * the set is non-empty). §19.3: microseconds, divided by 2^exponent; the
     * peer multiplies it back. Reported in every space: RFC 9002 §5.3 has
     * the peer ignore it for Initial, and §13.2.5 wants delays waiting for
     * keys reported. A clock that went backwards reports 0. */
    uint64_t us = now > t->largest_recv_time ? (now - t->largest_recv_time) / 1000u : 0;
    uint64_t delay = us >> ack_delay_exponent;
    if (delay > SKIFF_VARINT_MAX) delay = SKIFF_VARINT_MAX;

    bool ecn = (t->ecn.ect0 | t->ecn.ect1 | t->ecn.ce) != 0;
    skiff_ssize len =
        skiff_frame_ack_encode_intervals(out, cap, iv, n, delay, ecn ? &t->ecn : NULL, NULL);
    if (len < 0) return len;
    clear_pending(t);
    return len;
}

void skiff_ack_tracker_on_ack_acked(skiff_ack_tracker *t, uint64_t largest_acked)
{
    /* §13.2.4: "the receiver can stop acknowledging packets less than or
     * equal to the Largest Acknowledged field in the sent ACK frame". */
    if (largest_acked > SKIFF_VARINT_MAX || largest_acked + 1 <= t->floor) return;
    t->floor = largest_acked + 1;
    skiff_range_set_remove_below(&t->received, t->floor);
    /* Packets that were waiting but are now below the floor will never be
     * acknowledged: nothing is pending any more if nothing is left. */
    if (skiff_range_set_empty(&t->received)) clear_pending(t);
}
