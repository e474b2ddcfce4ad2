/*
 * QUIC loss detection (RFC 9002 §5, §6, Appendix A) and its glue to the
 * shared congestion controller (§7, Appendix B), plus ECN count validation
 * (RFC 9000 §13.4.2) and the acknowledgment checks of RFC 9000 §13.1.
 *
 * The structure follows Appendix A: on_packet_sent (§A.5), on_ack (§A.7) =
 * detect newly acked, sample RTT, ECN, detect lost, controller, re-arm;
 * the timer (§A.8) = earliest loss time, else PTO; on_timeout (§A.9).
 *
 * ACK processing walks the frame's intervals largest first (the order the
 * wire gives them, so no interval list is built) and, inside each, packet
 * numbers downwards, clamped to the history's span: the work is bounded by
 * the history's span plus the number of intervals, whatever the ACK claims.
 *
 * Persistent congestion (§7.6.2) is judged per call over the packets lost in
 * one space: two lost ack-eliciting packets sent after the first RTT sample,
 * no acknowledged packet between them (ACKED slots stay in the history
 * until the front passes them), sent at least the persistent-congestion
 * duration apart. Losses in other spaces in the same call are not combined.
 */
#include "quic/recovery.h"

#include <string.h>

#define DEFAULT_MAX_ACK_DELAY SKIFF_MS(25) /* RFC 9000 §18.2 */
#define TIME_CAP (SKIFF_TIME_NEVER / 4)    /* far enough to mean "never", safe to add to */

void skiff_recovery_config_default(skiff_recovery_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cc = SKIFF_CC_NEWRENO;
    cfg->initial_rtt = SKIFF_RTT_INITIAL;
    cfg->max_datagram_size = 1200;
    cfg->history_cap = SKIFF_RECOVERY_HISTORY_DEFAULT;
    cfg->pacer_burst_packets = SKIFF_PACER_BURST_PACKETS;
}

int skiff_recovery_init(skiff_recovery *r, const skiff_recovery_config *cfg, skiff_time now)
{
    skiff_recovery_config def;
    if (!cfg) {
        skiff_recovery_config_default(&def);
        cfg = &def;
    }
    const skiff_cc_ops *ops = skiff_cc_ops_for(cfg->cc);
    if (!ops) return SKIFF_ERR_INVALID_ARGUMENT;
    memset(r, 0, sizeof *r);
    uint64_t mds = cfg->max_datagram_size ? cfg->max_datagram_size : 1200;
    size_t cap = cfg->history_cap ? cfg->history_cap : SKIFF_RECOVERY_HISTORY_DEFAULT;
    for (int i = 0; i < SKIFF_SPACE_COUNT; i++) {
        skiff_recovery_space *s = &r->spaces[i];
        skiff_sent_packets_init(&s->sent, cap);
        s->largest_acked = SKIFF_RECOVERY_PN_NONE;
        s->loss_time = SKIFF_TIME_NEVER;
        s->last_ack_eliciting = SKIFF_TIME_NEVER;
    }
    r->spaces[SKIFF_SPACE_INITIAL].keys_available = true;
    skiff_rtt_init(&r->rtt, cfg->initial_rtt);
    skiff_cc_init(&r->cc, ops, mds, now);
    skiff_pacer_init(&r->pacer, mds, cfg->pacer_burst_packets, now);
    r->max_ack_delay = DEFAULT_MAX_ACK_DELAY;
    r->timer = SKIFF_TIME_NEVER;
    r->is_server = cfg->is_server;
    r->ecn = SKIFF_ECN_VALIDATING;
    return 0;
}

void skiff_recovery_free(skiff_recovery *r)
{
    for (int i = 0; i < SKIFF_SPACE_COUNT; i++)
        skiff_sent_packets_clear(&r->spaces[i].sent);
}

/* ---- Timer (§A.8) --------------------------------------------------------- */

static skiff_time add_time(skiff_time a, skiff_time b)
{
    if (a >= TIME_CAP || b >= TIME_CAP || a + b >= TIME_CAP) return TIME_CAP;
    return a + b;
}

static skiff_time backoff(skiff_time d, uint32_t count)
{
    while (count-- && d < TIME_CAP)
        d *= 2;
    return d < TIME_CAP ? d : TIME_CAP;
}

/* §A.6 PeerCompletedAddressValidation: a server assumes the client's
 * address is validated by the handshake itself. */
static bool peer_completed_address_validation(const skiff_recovery *r)
{
    return r->is_server || r->peer_validated || r->handshake_confirmed;
}

static bool any_ack_eliciting_in_flight(const skiff_recovery *r)
{
    for (int i = 0; i < SKIFF_SPACE_COUNT; i++)
        if (r->spaces[i].ack_eliciting_in_flight) return true;
    return false;
}

static skiff_time earliest_loss_time(const skiff_recovery *r, skiff_pn_space *space)
{
    skiff_time t = SKIFF_TIME_NEVER;
    for (int i = 0; i < SKIFF_SPACE_COUNT; i++) {
        if (r->spaces[i].loss_time < t) {
            t = r->spaces[i].loss_time;
            if (space) *space = (skiff_pn_space)i;
        }
    }
    return t;
}

/* The space the client's anti-deadlock probe goes to (§6.2.2.1). */
static skiff_pn_space anti_deadlock_space(const skiff_recovery *r)
{
    const skiff_recovery_space *hs = &r->spaces[SKIFF_SPACE_HANDSHAKE];
    return hs->keys_available && !hs->discarded ? SKIFF_SPACE_HANDSHAKE : SKIFF_SPACE_INITIAL;
}

/* §A.8 GetPtoTimeAndSpace. */
static skiff_time pto_time_and_space(const skiff_recovery *r, skiff_time now, skiff_pn_space *space)
{
    skiff_time duration = backoff(skiff_rtt_pto(&r->rtt, 0), r->pto_count);
    if (!any_ack_eliciting_in_flight(r)) {
        /* Anti-deadlock: counted from now, the moment of the last event. */
        *space = anti_deadlock_space(r);
        return add_time(now, duration);
    }
    skiff_time best = SKIFF_TIME_NEVER;
    *space = SKIFF_SPACE_INITIAL;
    for (int i = 0; i < SKIFF_SPACE_COUNT; i++) {
        const skiff_recovery_space *s = &r->spaces[i];
        if (!s->ack_eliciting_in_flight) continue;
        skiff_time d = duration;
        if (i == SKIFF_SPACE_APPLICATION) {
            /* §6.2.1: no Application Data PTO before confirmation; after it,
             * max_ack_delay is included, with the same backoff. */
            if (!r->handshake_confirmed) break;
            d = add_time(d, backoff(r->max_ack_delay, r->pto_count));
        }
        skiff_time t = add_time(s->last_ack_eliciting, d);
        if (t < best) {
            best = t;
            *space = (skiff_pn_space)i;
        }
    }
    return best;
}

/* §A.8 SetLossDetectionTimer. `now` matters only for the anti-deadlock PTO. */
static void set_timer(skiff_recovery *r, skiff_time now)
{
    skiff_time loss = earliest_loss_time(r, NULL);
    if (loss != SKIFF_TIME_NEVER) {
        r->timer = loss;
        return;
    }
    /* §6.2.2.1: a server blocked by the amplification limit could not send a
     * probe anyway; its timer is re-armed when the limit lifts. */
    if (r->is_server && r->amplification_blocked) {
        r->timer = SKIFF_TIME_NEVER;
        return;
    }
    if (!any_ack_eliciting_in_flight(r) && peer_completed_address_validation(r)) {
        r->timer = SKIFF_TIME_NEVER;
        return;
    }
    skiff_pn_space space;
    skiff_time t = pto_time_and_space(r, now, &space);
    r->timer = t >= TIME_CAP ? SKIFF_TIME_NEVER : t;
}

/* ---- Sending (§A.5) ------------------------------------------------------- */

int skiff_recovery_on_packet_sent(skiff_recovery *r, skiff_pn_space space,
                                  const skiff_sent_packet *p)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_recovery_space *s = &r->spaces[space];
    if (s->discarded || p->pn < s->next_pn || p->pn >= SKIFF_RECOVERY_PN_NONE)
        return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_sent_packet rec = *p;
    if (rec.ack_eliciting) rec.in_flight = true; /* RFC 9002 §2 */
    int rc = skiff_sent_packets_add(&s->sent, &rec);
    if (rc == SKIFF_ERR_BUFFER_TOO_SMALL && !rec.in_flight) {
        /* An ACK-only packet must still go out when the history is full;
         * it is counted as sent (so its acknowledgment is no violation)
         * but not tracked: its acknowledgment is not reported. */
        s->next_pn = rec.pn + 1;
        return 0;
    }
    if (rc < 0) return rc;
    s->next_pn = rec.pn + 1;
    if (rec.ecn == SKIFF_ECN_ECT0 || rec.ecn == SKIFF_ECN_ECT1) s->ecn_sent++;
    if (!rec.in_flight) return 0;
    skiff_time now = rec.time_sent;
    if (rec.ack_eliciting) {
        s->ack_eliciting_in_flight++;
        s->last_ack_eliciting = now;
    }
    s->bytes_in_flight += rec.size;
    skiff_cc_on_packet_sent(&r->cc, rec.size, now);
    skiff_pacer_on_sent(&r->pacer, r->cc.cwnd, r->rtt.smoothed_rtt, rec.size, now);
    set_timer(r, now);
    return 0;
}

int skiff_recovery_skip_pn(skiff_recovery *r, skiff_pn_space space, uint64_t pn)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_recovery_space *s = &r->spaces[space];
    if (s->discarded || pn < s->next_pn || pn >= SKIFF_RECOVERY_PN_NONE)
        return SKIFF_ERR_INVALID_ARGUMENT;
    s->skipped[s->skipped_next] = pn;
    s->skipped_next = (uint8_t)((s->skipped_next + 1) % SKIFF_RECOVERY_SKIPPED_MAX);
    if (s->skipped_count < SKIFF_RECOVERY_SKIPPED_MAX) s->skipped_count++;
    s->next_pn = pn + 1;
    return 0;
}

bool skiff_recovery_can_record(const skiff_recovery *r, skiff_pn_space space, uint64_t pn)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT) return false;
    const skiff_recovery_space *s = &r->spaces[space];
    return !s->discarded && skiff_sent_packets_has_room(&s->sent, pn);
}

/* ---- Leaving the history -------------------------------------------------- */

/* Takes a record out of the space's in-flight accounting (not the cc's). */
static void leave_flight(skiff_recovery_space *s, const skiff_sent_packet *p)
{
    if (!p->in_flight) return;
    s->bytes_in_flight = s->bytes_in_flight > p->size ? s->bytes_in_flight - p->size : 0;
    if (p->ack_eliciting && s->ack_eliciting_in_flight) s->ack_eliciting_in_flight--;
}

/*
 * §A.10 DetectAndRemoveLostPackets plus §B.8 OnPacketsLost for one space:
 * declares lost what the packet or time threshold says, reports each, and
 * tells the controller (one congestion event per batch, persistent
 * congestion if the batch shows it). Sets the space's loss_time.
 */
static void detect_lost(skiff_recovery *r, skiff_pn_space space, skiff_time now,
                        const skiff_recovery_callbacks *cb, void *ud)
{
    skiff_recovery_space *s = &r->spaces[space];
    s->loss_time = SKIFF_TIME_NEVER;
    if (s->largest_acked == SKIFF_RECOVERY_PN_NONE || !skiff_sent_packets_count(&s->sent)) return;

    /* §6.1.2: 9/8 * max(smoothed, latest), at least kGranularity. */
    skiff_time base =
        r->rtt.latest_rtt > r->rtt.smoothed_rtt ? r->rtt.latest_rtt : r->rtt.smoothed_rtt;
    skiff_time loss_delay =
        base * SKIFF_RECOVERY_TIME_THRESHOLD_NUM / SKIFF_RECOVERY_TIME_THRESHOLD_DEN;
    if (loss_delay < SKIFF_RTT_GRANULARITY) loss_delay = SKIFF_RTT_GRANULARITY;

    skiff_time pc_duration =
        skiff_rtt_pto(&r->rtt, r->max_ack_delay) * SKIFF_RECOVERY_PERSISTENT_THRESHOLD; /* §7.6.1 */
    bool pc_run = false, persistent = false;
    skiff_time pc_start = 0;

    uint64_t lost_bytes = 0;
    skiff_time latest_lost = 0;
    bool congestion = false;

    uint64_t end = skiff_sent_packets_end_pn(&s->sent);
    uint64_t last = s->largest_acked < end ? s->largest_acked + 1 : end;
    for (uint64_t pn = skiff_sent_packets_first_pn(&s->sent); pn < last; pn++) {
        skiff_sent_packet *p = skiff_sent_packets_get(&s->sent, pn);
        if (!p) {
            /* §7.6.2: an acknowledged packet between two lost ones means
             * the path delivered in between: not persistent congestion. */
            if (skiff_sent_packets_state(&s->sent, pn) == SKIFF_SENT_ACKED) pc_run = false;
            continue;
        }
        bool by_count = s->largest_acked - pn >= SKIFF_RECOVERY_PACKET_THRESHOLD; /* §6.1.1 */
        bool by_time = add_time(p->time_sent, loss_delay) <= now;                 /* §6.1.2 */
        if (!by_count && !by_time) {
            skiff_time when = add_time(p->time_sent, loss_delay);
            if (when < s->loss_time) s->loss_time = when;
            continue;
        }
        skiff_sent_packet lost = *p;
        skiff_sent_packets_mark(&s->sent, pn, SKIFF_SENT_LOST);
        leave_flight(s, &lost);
        if (lost.in_flight) {
            lost_bytes += lost.size;
            /* RFC 9000 §14.4: a lost PMTU probe says nothing about congestion. */
            if (!(lost.flags & SKIFF_SENT_PMTU_PROBE)) {
                congestion = true;
                if (lost.time_sent > latest_lost) latest_lost = lost.time_sent;
            }
        }
        if (lost.ack_eliciting && !(lost.flags & SKIFF_SENT_PMTU_PROBE) && r->rtt.has_sample &&
            lost.time_sent > r->rtt.first_sample_time) {
            if (!pc_run) {
                pc_run = true;
                pc_start = lost.time_sent;
            } else if (lost.time_sent - pc_start >= pc_duration) {
                persistent = true;
            }
        }
        if (cb && cb->on_lost) cb->on_lost(ud, space, &lost);
    }
    skiff_sent_packets_trim(&s->sent);

    if (lost_bytes) skiff_cc_on_packets_lost(&r->cc, lost_bytes);
    if (congestion) skiff_cc_on_congestion_event(&r->cc, latest_lost, now);
    if (persistent) skiff_cc_on_persistent_congestion(&r->cc, now);
}

/* ---- ACKs (§A.7) ---------------------------------------------------------- */

/* RFC 9000 §13.1: an ACK of a packet never sent in this space. */
static bool acks_unsent(const skiff_recovery_space *s, const skiff_frame_ack *ack)
{
    skiff_frame_ack_iter it;
    skiff_frame_ack_interval iv;
    skiff_frame_ack_iter_init(&it, ack);
    while (skiff_frame_ack_iter_next(&it, &iv)) {
        if (iv.largest >= s->next_pn) return true;
        for (uint8_t i = 0; i < s->skipped_count; i++)
            if (s->skipped[i] >= iv.smallest && s->skipped[i] <= iv.largest) return true;
    }
    return false;
}

/* RFC 9000 §13.4.2.1, loosely: counts never go down, their increase covers
 * the newly acknowledged ECT packets, and they do not exceed what was sent
 * marked. A CE increase is a congestion signal (RFC 9002 §7.1, §B.7). */
static void process_ecn(skiff_recovery *r, skiff_recovery_space *s, const skiff_frame_ack *ack,
                        uint64_t newly_acked_ect, skiff_time largest_sent_time, skiff_time now)
{
    if (r->ecn == SKIFF_ECN_FAILED) return;
    if (!ack->has_ecn) {
        if (newly_acked_ect) r->ecn = SKIFF_ECN_FAILED; /* marks removed or counts absent */
        return;
    }
    const skiff_frame_ecn_counts *c = &ack->ecn, *prev = &s->ecn_peer;
    if (c->ect0 < prev->ect0 || c->ect1 < prev->ect1 || c->ce < prev->ce) {
        r->ecn = SKIFF_ECN_FAILED;
        return;
    }
    uint64_t grew = (c->ect0 - prev->ect0) + (c->ect1 - prev->ect1) + (c->ce - prev->ce);
    uint64_t ce_grew = c->ce - prev->ce;
    /* Each count is a varint (< 2^62), so the sum cannot wrap. */
    if (grew < newly_acked_ect || c->ect0 + c->ect1 + c->ce > s->ecn_sent) {
        r->ecn = SKIFF_ECN_FAILED;
        return;
    }
    s->ecn_peer = *c;
    if (newly_acked_ect) r->ecn = SKIFF_ECN_CAPABLE;
    if (ce_grew) skiff_cc_on_ecn_ce(&r->cc, largest_sent_time, now);
}

int skiff_recovery_on_ack(skiff_recovery *r, skiff_pn_space space, const skiff_frame_ack *ack,
                          skiff_time ack_delay, skiff_time now, const skiff_recovery_callbacks *cb,
                          void *ud)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_recovery_space *s = &r->spaces[space];
    if (s->discarded) return 0;
    if (acks_unsent(s, ack)) return SKIFF_ERR_PROTOCOL_VIOLATION;

    /* §A.6: a client whose Handshake packet is acknowledged knows the
     * server has validated its address. */
    if (space == SKIFF_SPACE_HANDSHAKE) r->peer_validated = true;

    uint64_t prev_largest = s->largest_acked;
    bool largest_grew = prev_largest == SKIFF_RECOVERY_PN_NONE || ack->largest > prev_largest;
    if (largest_grew) s->largest_acked = ack->largest;

    /* §A.7 DetectAndRemoveAckedPackets, largest first. */
    bool any = false, any_eliciting = false, largest_newly = false;
    skiff_time largest_time = 0, inflight_largest_time = 0;
    uint64_t acked_bytes = 0, acked_ect = 0;
    skiff_frame_ack_iter it;
    skiff_frame_ack_interval iv;
    skiff_frame_ack_iter_init(&it, ack);
    while (skiff_frame_ack_iter_next(&it, &iv)) {
        if (!skiff_sent_packets_count(&s->sent)) break;
        uint64_t first = skiff_sent_packets_first_pn(&s->sent);
        uint64_t end = skiff_sent_packets_end_pn(&s->sent);
        if (iv.smallest >= end) continue;
        if (iv.largest < first) break; /* intervals descend: the rest are older still */
        uint64_t hi = iv.largest < end - 1 ? iv.largest : end - 1;
        uint64_t lo = iv.smallest > first ? iv.smallest : first;
        for (uint64_t pn = hi + 1; pn-- > lo;) {
            skiff_sent_packet *p = skiff_sent_packets_get(&s->sent, pn);
            if (!p) continue;
            skiff_sent_packet acked = *p;
            skiff_sent_packets_mark(&s->sent, pn, SKIFF_SENT_ACKED);
            if (!any) {
                any = true;
                largest_newly = pn == ack->largest;
                largest_time = acked.time_sent;
            }
            if (acked.ack_eliciting) any_eliciting = true;
            if (acked.ecn == SKIFF_ECN_ECT0 || acked.ecn == SKIFF_ECN_ECT1) acked_ect++;
            if (acked.in_flight) {
                acked_bytes += acked.size;
                if (acked.time_sent > inflight_largest_time)
                    inflight_largest_time = acked.time_sent;
            }
            leave_flight(s, &acked);
            if (cb && cb->on_acked) cb->on_acked(ud, space, &acked);
        }
    }
    skiff_sent_packets_trim(&s->sent);

    if (!any) {
        set_timer(r, now);
        return 0;
    }

    /* §5.1: an RTT sample needs the largest acknowledged newly acknowledged
     * and at least one ack-eliciting packet among the newly acknowledged. */
    if (largest_newly && any_eliciting && now >= largest_time) {
        if (space == SKIFF_SPACE_INITIAL) ack_delay = 0; /* §5.3 */
        skiff_rtt_update(&r->rtt, now - largest_time, ack_delay, r->max_ack_delay,
                         r->handshake_confirmed, now);
    }

    /* ECN only on an ACK that moved largest_acked forward: a reordered ACK
     * carries older counts (RFC 9000 §13.4.2.1). */
    if (largest_grew) process_ecn(r, s, ack, acked_ect, largest_time, now);

    detect_lost(r, space, now, cb, ud);
    skiff_cc_on_packets_acked(&r->cc, acked_bytes, inflight_largest_time, now, &r->rtt);

    /* §6.2.1: the backoff resets on an acknowledgment, except for a client
     * not yet sure the server has validated its address. */
    if (peer_completed_address_validation(r)) r->pto_count = 0;
    set_timer(r, now);
    return 0;
}

/* ---- Timeout (§A.9) ------------------------------------------------------- */

int skiff_recovery_on_timeout(skiff_recovery *r, skiff_time now, const skiff_recovery_callbacks *cb,
                              void *ud, skiff_recovery_probe *probe)
{
    memset(probe, 0, sizeof *probe);
    if (r->timer == SKIFF_TIME_NEVER || now < r->timer) return 0;

    skiff_pn_space space = SKIFF_SPACE_INITIAL;
    if (earliest_loss_time(r, &space) != SKIFF_TIME_NEVER) {
        detect_lost(r, space, now, cb, ud);
        set_timer(r, now);
        return 0;
    }

    if (!any_ack_eliciting_in_flight(r)) {
        /* §6.2.2.1 anti-deadlock: a Handshake packet proves address
         * ownership; an Initial must be padded to earn amplification credit. */
        probe->packets[anti_deadlock_space(r)] = SKIFF_RECOVERY_PTO_PROBES; /* two, as §6.2.4 allows: at high loss one rarely gets through */
        probe->anti_deadlock = true;
    } else {
        pto_time_and_space(r, now, &space);
        probe->packets[space] = SKIFF_RECOVERY_PTO_PROBES;
        /* §6.2.4: also probe the other spaces with ack-eliciting data in
         * flight (coalesced where possible); Application Data only once the
         * handshake is confirmed, as for its timer. */
        for (int i = 0; i < SKIFF_SPACE_COUNT; i++) {
            if (i == (int)space || !r->spaces[i].ack_eliciting_in_flight) continue;
            if (i == SKIFF_SPACE_APPLICATION && !r->handshake_confirmed) continue;
            probe->packets[i] = 1;
        }
    }
    r->pto_count++;
    set_timer(r, now);
    return 1;
}

/* ---- State changes -------------------------------------------------------- */

void skiff_recovery_discard_space(skiff_recovery *r, skiff_pn_space space, skiff_time now)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT) return;
    skiff_recovery_space *s = &r->spaces[space];
    /* §6.4: its packets can no longer be acknowledged; they leave bytes in
     * flight without being declared lost. */
    skiff_cc_remove_in_flight(&r->cc, s->bytes_in_flight);
    skiff_sent_packets_clear(&s->sent);
    s->bytes_in_flight = 0;
    s->ack_eliciting_in_flight = 0;
    s->last_ack_eliciting = SKIFF_TIME_NEVER;
    s->loss_time = SKIFF_TIME_NEVER;
    s->keys_available = false;
    s->discarded = true;
    r->pto_count = 0; /* §A.11 */
    set_timer(r, now);
}

void skiff_recovery_set_keys_available(skiff_recovery *r, skiff_pn_space space, skiff_time now)
{
    if ((unsigned)space >= SKIFF_SPACE_COUNT || r->spaces[space].discarded) return;
    r->spaces[space].keys_available = true;
    set_timer(r, now);
}

void skiff_recovery_set_handshake_confirmed(skiff_recovery *r, skiff_time now)
{
    r->handshake_confirmed = true;
    r->peer_validated = true;
    set_timer(r, now);
}

void skiff_recovery_set_peer_max_ack_delay(skiff_recovery *r, skiff_time max_ack_delay)
{
    r->max_ack_delay = max_ack_delay;
}

void skiff_recovery_set_amplification_blocked(skiff_recovery *r, bool blocked, skiff_time now)
{
    r->amplification_blocked = blocked;
    set_timer(r, now);
}

void skiff_recovery_reset_congestion(skiff_recovery *r, skiff_time now)
{
    skiff_cc_reset(&r->cc, now);
    skiff_rtt_reset(&r->rtt);
    skiff_pacer_init(&r->pacer, r->cc.max_datagram_size, r->pacer.burst_packets, now);
    set_timer(r, now);
}

void skiff_recovery_set_max_datagram_size(skiff_recovery *r, uint64_t max_datagram_size)
{
    skiff_cc_set_max_datagram_size(&r->cc, max_datagram_size);
    skiff_pacer_set_max_datagram_size(&r->pacer, max_datagram_size);
}

skiff_time skiff_recovery_next_send_time(const skiff_recovery *r, uint64_t bytes, skiff_time now)
{
    return skiff_pacer_next_send_time(&r->pacer, r->cc.cwnd, r->rtt.smoothed_rtt, bytes, now);
}

skiff_time skiff_recovery_pto_duration(const skiff_recovery *r)
{
    return skiff_rtt_pto(&r->rtt, r->max_ack_delay);
}
