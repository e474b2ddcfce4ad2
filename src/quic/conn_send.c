/*
 * The send path: one datagram per call, packets of each level that has
 * something to say coalesced into it (RFC 9000 §12.2), in the order Initial,
 * Handshake, 1-RTT. Per packet: ACK first (RFC 9000 §13.2), then CRYPTO,
 * control frames, stream data, and a PING when a probe is due (RFC 9002
 * §6.2.4). ACK-only packets bypass congestion control (RFC 9002 §7);
 * everything else waits for the window. A server limits itself to three
 * times what it received until the client's address is validated (§8.1).
 *
 * What each packet carried is recorded (sent_packets.h) so that recovery's
 * acked/lost callbacks, at the end of this file, can mark data delivered or
 * queue it again.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/conn_internal.h"

static const skiff_crypto_level send_levels[] = {SKIFF_LEVEL_INITIAL, SKIFF_LEVEL_0RTT,
                                                 SKIFF_LEVEL_HANDSHAKE, SKIFF_LEVEL_1RTT};

/* Whether stream data may go in packets of `level` now: 1-RTT once the
 * handshake is complete, and on a server as soon as it has the keys (0.5-RTT
 * data, RFC 9001 §4.1.1); 0-RTT on a client until the handshake completes. */
static bool streams_at(const skiff_conn *c, skiff_crypto_level level)
{
    if (level == SKIFF_LEVEL_0RTT) return c->role == SKIFF_ROLE_CLIENT && !c->handshake_complete;
    return level == SKIFF_LEVEL_1RTT && (c->handshake_complete || c->role == SKIFF_ROLE_SERVER);
}

/* The smallest 1-RTT packet we send (see finish_packet). */
#define SHORT_PACKET_MIN 48

/* Room kept for a piggybacked ACK: a few ranges' worth. */
#define ACK_RESERVE 48

static bool record_full(const skiff_sent_packet *rec)
{
    return rec->frame_count >= SKIFF_SENT_FRAMES_MAX;
}

static void record(skiff_sent_packet *rec, uint8_t kind, uint8_t flags, uint64_t a, uint64_t b,
                   uint16_t len16)
{
    skiff_sent_frame *f = &rec->frames[rec->frame_count++];
    *f = (skiff_sent_frame){.kind = kind, .flags = flags, .len16 = len16, .a = a, .b = b};
}

static bool write_ack(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec,
                      skiff_pn_space space, skiff_time now)
{
    size_t room;
    uint8_t *at = skiff_builder_cursor(b, &room);
    skiff_ssize n = skiff_ack_tracker_write(&c->spaces[space].acks, at, room, now,
                                            (unsigned)c->local_tp.ack_delay_exponent);
    if (n <= 0) return false;
    skiff_builder_commit(b, (size_t)n, SKIFF_FRAME_ACK);
    uint64_t largest = 0;
    skiff_ack_tracker_largest(&c->spaces[space].acks, &largest);
    record(rec, SENT_ACK, 0, largest, 0, 0);
    return true;
}

static bool write_crypto(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec,
                         skiff_crypto_level level)
{
    skiff_stream_send *s = &c->levels[level].crypto_tx;
    bool wrote = false;
    while (!record_full(rec) && skiff_stream_send_has_pending(s)) {
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        uint64_t offset;
        size_t len;
        bool fin;
        if (!skiff_stream_send_next(s, room, UINT64_MAX, &offset, &len, &fin)) break;
        size_t fit = skiff_frame_crypto_max_data(offset, room);
        if (fit == 0) break;
        if (len > fit) len = fit;
        skiff_frame_crypto f = {.offset = offset, .len = len};
        skiff_ssize h = skiff_frame_crypto_encode_header(at, room, &f);
        if (h < 0) break;
        skiff_stream_send_copy(s, offset, len, at + h);
        skiff_builder_commit(b, (size_t)h + len, SKIFF_FRAME_CRYPTO);
        skiff_stream_send_on_sent(s, offset, len, false);
        record(rec, SENT_CRYPTO, (uint8_t)level, offset, 0, (uint16_t)len);
        wrote = true;
    }
    return wrote;
}

static bool write_frame(skiff_packet_builder *b, const skiff_frame *f)
{
    size_t room;
    uint8_t *at = skiff_builder_cursor(b, &room);
    skiff_ssize n = skiff_frame_encode(at, room, f);
    if (n <= 0) return false;
    skiff_builder_commit(b, (size_t)n, f->type);
    return true;
}

/* Connection-level control frames of the 1-RTT space. */
static void write_control(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec)
{
    if (c->handshake_done_pending && !c->test_withhold_handshake_done && !record_full(rec)) {
        skiff_frame f = {.type = SKIFF_FRAME_HANDSHAKE_DONE};
        if (write_frame(b, &f)) {
            c->handshake_done_pending = false;
            record(rec, SENT_HANDSHAKE_DONE, 0, 0, 0, 0);
        }
    }
    if (c->new_token_pending && !record_full(rec)) {
        skiff_frame f = {.type = SKIFF_FRAME_NEW_TOKEN,
                         .new_token = {.token = c->new_token, .len = c->new_token_len}};
        if (write_frame(b, &f)) {
            c->new_token_pending = false;
            record(rec, SENT_NEW_TOKEN, 0, 0, 0, 0);
        }
    }
    if (c->path_response_pending && !record_full(rec)) {
        skiff_frame f = {.type = SKIFF_FRAME_PATH_RESPONSE};
        memcpy(f.path_response.data, c->path_response, sizeof c->path_response);
        if (write_frame(b, &f)) c->path_response_pending = false; /* not retransmitted (§13.3) */
    }
    for (int guard = 0; guard < SKIFF_CID_LOCAL_MAX && !record_full(rec); guard++) {
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        uint64_t seq;
        skiff_ssize n = skiff_cid_local_write_new(&c->local_cids, at, room, &seq);
        if (n <= 0) break;
        skiff_builder_commit(b, (size_t)n, SKIFF_FRAME_NEW_CONNECTION_ID);
        record(rec, SENT_NEW_CONNECTION_ID, 0, seq, 0, 0);
    }
    for (int guard = 0; guard < SKIFF_CID_RETIRE_QUEUE_MAX && !record_full(rec); guard++) {
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        uint64_t seq;
        skiff_ssize n = skiff_cid_remote_write_retire(&c->remote_cids, at, room, &seq);
        if (n <= 0) break;
        skiff_builder_commit(b, (size_t)n, SKIFF_FRAME_RETIRE_CONNECTION_ID);
        record(rec, SENT_RETIRE_CONNECTION_ID, 0, seq, 0, 0);
    }
    conn_write_stream_control(c, b, rec);
}

static skiff_packet_header header_for(skiff_conn *c, skiff_crypto_level level)
{
    const skiff_cid_entry *dst = skiff_cid_remote_for_path(&c->remote_cids, 0);
    const skiff_cid_entry *src = &c->local_cids.entries[0];
    skiff_packet_header h = {.version = c->version,
                             .dcid = dst ? dst->cid.bytes : NULL,
                             .dcid_len = dst ? dst->cid.len : 0,
                             .scid = src->cid.bytes,
                             .scid_len = src->cid.len};
    h.type = level == SKIFF_LEVEL_INITIAL     ? SKIFF_PKT_INITIAL
             : level == SKIFF_LEVEL_HANDSHAKE ? SKIFF_PKT_HANDSHAKE
             : level == SKIFF_LEVEL_0RTT      ? SKIFF_PKT_0RTT
                                              : SKIFF_PKT_1RTT;
    h.key_phase = c->tx_phase;
    if (h.type == SKIFF_PKT_INITIAL && c->role == SKIFF_ROLE_CLIENT) {
        h.token = c->token; /* from a Retry (§17.2.2) */
        h.token_len = c->token_len;
    }
    return h;
}

/* Whether a level has anything to send now, and whether that is only an ACK. */
static bool level_wants(skiff_conn *c, skiff_crypto_level level, skiff_time now, bool *ack_only)
{
    skiff_pn_space space = conn_space_of(level);
    conn_level *l = &c->levels[level];
    bool ack = skiff_ack_tracker_wants_ack(&c->spaces[space].acks, now);
    bool more = skiff_stream_send_has_pending(&l->crypto_tx) || c->probes_pending[space] > 0 ||
                c->raw_len[level] > 0;
    if (streams_at(c, level)) more = true; /* checked when built */
    *ack_only = ack && !more;
    return ack || more;
}

/* Builds one packet of `level` into the datagram. Returns true when a packet went in. */
static bool build_packet(skiff_conn *c, skiff_packet_builder *b, skiff_crypto_level level,
                         bool congestion_ok, skiff_time now)
{
    skiff_pn_space space = conn_space_of(level);
    conn_level *l = &c->levels[level];
    skiff_recovery_space *rs = &c->recovery.spaces[space];
    uint64_t pn = rs->next_pn;
    size_t pn_len = skiff_pn_encode_len(pn, rs->largest_acked == SKIFF_RECOVERY_PN_NONE
                                                ? SKIFF_PN_NONE
                                                : rs->largest_acked);
    skiff_packet_header h = header_for(c, level);
    if (skiff_builder_begin(b, &h, pn, pn_len, &l->tx)) return false;
    skiff_sent_packet rec = {.pn = pn, .time_sent = now, .ecn = c->ecn_mark};
    conn_space *sp = &c->spaces[space];
    /* An ACK goes first when one is due; otherwise it rides along only on a
     * packet that elicits an acknowledgment anyway, so two endpoints never
     * acknowledge each other's ACK-only packets forever (RFC 9000 §13.2.1).
     * Room for it is kept while the other frames are written. */
    if (c->raw_len[level]) { /* a test's frames, unchecked */
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        if (c->raw_len[level] <= room) {
            memcpy(at, c->raw_frames[level], c->raw_len[level]);
            skiff_builder_commit(b, c->raw_len[level], SKIFF_FRAME_PING);
        }
        c->raw_len[level] = 0;
    }
    bool ack_due = level != SKIFF_LEVEL_0RTT && skiff_ack_tracker_wants_ack(&sp->acks, now);
    if (ack_due) write_ack(c, b, &rec, space, now);
    bool ack_later = !ack_due && level != SKIFF_LEVEL_0RTT && skiff_ack_tracker_has_new(&sp->acks);
    size_t reserve = ack_later && b->cap - b->pos > ACK_RESERVE + 32 ? ACK_RESERVE : 0;
    b->cap -= reserve;
    if (congestion_ok) {
        if (level != SKIFF_LEVEL_0RTT) write_crypto(c, b, &rec, level);
        if (level == SKIFF_LEVEL_1RTT && c->handshake_complete) write_control(c, b, &rec);
        if (streams_at(c, level)) {
            size_t before = rec.frame_count;
            conn_write_stream_frames(c, b, &rec, now);
            if (level == SKIFF_LEVEL_0RTT && rec.frame_count > before) c->early_data_sent = true;
        }
        if (c->probes_pending[space] > 0) {
            if (!b->ack_eliciting && !record_full(&rec)) {
                skiff_frame f = {.type = SKIFF_FRAME_PING};
                if (write_frame(b, &f)) record(&rec, SENT_PING, 0, 0, 0, 0);
            }
            c->probes_pending[space]--;
        }
    }
    b->cap += reserve;
    if (ack_later && b->ack_eliciting && !record_full(&rec)) write_ack(c, b, &rec, space, now);
    if (skiff_builder_payload_len(b) == 0) {
        skiff_builder_abandon(b);
        return false;
    }
    /* RFC 9000 §14.1: datagrams with a client's Initial, or a server's
     * ack-eliciting Initial, reach 1200 bytes. A client also pads those with
     * ack-eliciting Handshake packets until the handshake is confirmed: each
     * full datagram raises an amplification-limited server's budget by 3600
     * bytes (§8.1), so its flight is never stuck behind small probes. */
    bool needs_1200 = (level == SKIFF_LEVEL_INITIAL &&
                       (c->role == SKIFF_ROLE_CLIENT || b->ack_eliciting)) ||
                      (level == SKIFF_LEVEL_HANDSHAKE && c->role == SKIFF_ROLE_CLIENT &&
                       b->ack_eliciting && !c->handshake_confirmed);
    c->pad_datagram |= needs_1200;
    rec.ack_eliciting = b->ack_eliciting;
    rec.in_flight = b->in_flight || b->ack_eliciting;
    c->open_record = rec;
    c->open_space = space;
    return true;
}

/* Opens a 1-RTT packet holding one PING (for a PMTU probe). */
static bool build_probe_packet(skiff_conn *c, skiff_packet_builder *b, skiff_time now)
{
    skiff_recovery_space *rs = &c->recovery.spaces[SKIFF_SPACE_APPLICATION];
    uint64_t pn = rs->next_pn;
    size_t pn_len = skiff_pn_encode_len(pn, rs->largest_acked == SKIFF_RECOVERY_PN_NONE
                                                ? SKIFF_PN_NONE
                                                : rs->largest_acked);
    skiff_packet_header h = header_for(c, SKIFF_LEVEL_1RTT);
    if (skiff_builder_begin(b, &h, pn, pn_len, &c->levels[SKIFF_LEVEL_1RTT].tx)) return false;
    c->open_record = (skiff_sent_packet){.pn = pn, .time_sent = now, .ack_eliciting = true, .ecn = c->ecn_mark};
    c->open_space = SKIFF_SPACE_APPLICATION;
    skiff_frame f = {.type = SKIFF_FRAME_PING};
    if (!write_frame(b, &f)) {
        skiff_builder_abandon(b);
        return false;
    }
    return true;
}

/* Finishes the open packet (padded when it ends a datagram that must reach
 * 1200 bytes) and hands its record to recovery. */
static skiff_ssize finish_packet(skiff_conn *c, skiff_packet_builder *b, bool last)
{
    size_t before = b->len;
    size_t pad_to = last && c->pad_datagram ? SKIFF_MIN_INITIAL_DATAGRAM : 0;
    /* RFC 9000 §10.3: short packets are padded so that a peer which lost
     * our connection can answer them with a stateless reset; peers refuse
     * to reset small triggers (quic-go: 42 bytes or fewer). */
    if (b->hdr.type == SKIFF_PKT_1RTT && pad_to < b->start + SHORT_PACKET_MIN)
        pad_to = b->start + SHORT_PACKET_MIN;
    bool in_flight_before = b->in_flight;
    skiff_ssize n = skiff_builder_finish(b, pad_to);
    if (n < 0) return n;
    skiff_sent_packet *rec = &c->open_record;
    rec->size = (uint32_t)(b->len - before);
    /* PADDING counts a packet in flight (RFC 9002 §2), but the few bytes that
     * only make a short ACK packet resettable must not: nobody acknowledges
     * an ACK-only packet, so it would sit in flight for good and the
     * connection would stall with its loss timer disarmed. */
    bool only_reset_padding = b->hdr.type == SKIFF_PKT_1RTT && !b->ack_eliciting && !c->pad_datagram;
    rec->in_flight = rec->in_flight || (only_reset_padding ? in_flight_before : b->in_flight);
    skiff_recovery_on_packet_sent(&c->recovery, c->open_space, rec);
    if (rec->ack_eliciting) {
        c->last_ack_eliciting_sent = rec->time_sent;
        if (!c->ack_eliciting_sent_since_rx) conn_touch_idle(c, rec->time_sent, false);
        c->ack_eliciting_sent_since_rx = true;
    }
    return n;
}

/*
 * DPLPMTUD (RFC 8899, RFC 9000 §14.3), in its simplest useful form: once the
 * handshake is confirmed, one 1-RTT datagram of the target size carrying a
 * PING and PADDING. Acknowledged, it raises the size every later datagram may
 * have; lost, it costs nothing (its loss is no congestion signal, §14.4).
 */
static skiff_ssize send_pmtu_probe(skiff_conn *c, uint8_t *out, size_t cap, skiff_time now)
{
    c->pmtu_probe_pending = false;
    size_t size = c->pmtu_target;
    conn_level *l = &c->levels[SKIFF_LEVEL_1RTT];
    if (cap < size || !skiff_packet_keys_installed(&l->tx)) return 0;
    skiff_packet_builder b;
    skiff_builder_init(&b, out, size);
    if (!build_probe_packet(c, &b, now)) return 0;
    skiff_sent_packet *rec = &c->open_record;
    rec->flags |= SKIFF_SENT_PMTU_PROBE;
    record(rec, SENT_PMTU_PROBE, 0, size, 0, 0);
    c->pad_datagram = false;
    size_t before = b.len;
    if (skiff_builder_finish(&b, size) < 0) return 0;
    rec->size = (uint32_t)(b.len - before);
    rec->in_flight = true;
    skiff_recovery_on_packet_sent(&c->recovery, SKIFF_SPACE_APPLICATION, rec);
    c->bytes_sent += b.len;
    return (skiff_ssize)b.len;
}

/*
 * A datagram with an Initial must reach 1200 bytes (RFC 9000 §14.1). The last
 * packet pads it, but when the packet after the Initial came out empty, the
 * Initial was already sealed: then one more Initial packet of PADDING does.
 */
static skiff_ssize pad_with_initial(skiff_conn *c, skiff_packet_builder *b, skiff_time now)
{
    conn_level *l = &c->levels[SKIFF_LEVEL_INITIAL];
    if (l->discarded || !skiff_packet_keys_installed(&l->tx)) return 0;
    skiff_recovery_space *rs = &c->recovery.spaces[SKIFF_SPACE_INITIAL];
    skiff_packet_header h = header_for(c, SKIFF_LEVEL_INITIAL);
    if (skiff_builder_begin(b, &h, rs->next_pn, 4, &l->tx)) return 0;
    c->open_record = (skiff_sent_packet){.pn = rs->next_pn, .time_sent = now, .ecn = c->ecn_mark};
    c->open_space = SKIFF_SPACE_INITIAL;
    size_t room;
    uint8_t *at = skiff_builder_cursor(b, &room);
    skiff_builder_commit(b, (size_t)skiff_frame_padding_encode(at, room, 1), SKIFF_FRAME_PADDING);
    return finish_packet(c, b, true);
}

skiff_ssize skiff_conn_send(skiff_conn *c, uint8_t *out, size_t cap, skiff_path *path,
                            uint8_t *ecn, skiff_time now)
{
    *path = c->path;
    c->now = now;
    /* RFC 9000 §13.4.2: mark with ECT(0) until validation fails. */
    c->ecn_mark = skiff_recovery_ecn_state(&c->recovery) == SKIFF_ECN_FAILED ? SKIFF_ECN_NOT_ECT
                                                                             : SKIFF_ECN_ECT0;
    *ecn = c->ecn_mark;
    if (c->state == CONN_CLOSED || c->state == CONN_DRAINING) return 0;
    if (c->state == CONN_CLOSING) return conn_write_close(c, out, cap, now);
    conn_maybe_initiate_key_update(c);
    if (c->pmtu_probe_pending && c->handshake_confirmed &&
        skiff_recovery_can_send(&c->recovery, c->pmtu_target))
        return send_pmtu_probe(c, out, cap, now);
    if (cap > c->max_datagram) cap = c->max_datagram;
    if (!c->address_validated) {
        /* §8.1: at most three times the bytes received from an unvalidated address. */
        uint64_t budget = 3 * c->bytes_received;
        uint64_t left = budget > c->bytes_sent ? budget - c->bytes_sent : 0;
        skiff_recovery_set_amplification_blocked(&c->recovery, left < SKIFF_MIN_INITIAL_DATAGRAM, now);
        if (left < SKIFF_MIN_INITIAL_DATAGRAM) return 0;
        if (cap > left) cap = (size_t)left;
    }
    bool probing = c->probes_pending[0] || c->probes_pending[1] || c->probes_pending[2];
    bool congestion_ok = skiff_recovery_can_send(&c->recovery, cap) || probing;
    /* RFC 9002 §7.7: pace new data over the round trip instead of sending
     * the window in one burst; ACKs and probes are never held back. */
    c->pacing_at = SKIFF_TIME_NEVER;
    if (congestion_ok && !probing && c->handshake_confirmed) {
        skiff_time at = skiff_recovery_next_send_time(&c->recovery, cap, now);
        if (at > now) {
            c->pacing_at = at;
            congestion_ok = false;
        }
    }
    skiff_packet_builder b;
    skiff_builder_init(&b, out, cap);
    c->pad_datagram = false;
    bool open = false;
    bool sent_handshake = false;
    for (size_t i = 0; i < sizeof send_levels / sizeof send_levels[0]; i++) {
        skiff_crypto_level level = send_levels[i];
        conn_level *l = &c->levels[level];
        if (l->discarded || !skiff_packet_keys_installed(&l->tx)) continue;
        bool ack_only;
        if (!level_wants(c, level, now, &ack_only)) continue;
        if (open && finish_packet(c, &b, false) < 0) return 0;
        open = false;
        /* Room for a coalesced packet: a header and a few frame bytes at least. */
        if (b.len + 64 > b.cap) break;
        open = build_packet(c, &b, level, congestion_ok, now);
        if (open && level == SKIFF_LEVEL_HANDSHAKE) sent_handshake = true;
    }
    if (open && finish_packet(c, &b, true) < 0) return 0;
    if (c->pad_datagram && b.len < SKIFF_MIN_INITIAL_DATAGRAM && pad_with_initial(c, &b, now) < 0)
        return 0;
    if (b.len == 0) return 0;
    c->bytes_sent += b.len;
    /* RFC 9001 §4.9.1: a client drops Initial keys once it sends a Handshake packet. */
    if (sent_handshake && c->role == SKIFF_ROLE_CLIENT) conn_discard_level(c, SKIFF_LEVEL_INITIAL);
    return (skiff_ssize)b.len;
}

/* ---- what recovery reports back ---- */

static void on_acked(void *ud, skiff_pn_space space, const skiff_sent_packet *p)
{
    skiff_conn *c = ud;
    if (space == SKIFF_SPACE_APPLICATION && p->pn >= c->tx_phase_first_pn) c->tx_phase_acked = true;
    for (uint8_t i = 0; i < p->frame_count; i++) {
        const skiff_sent_frame *f = &p->frames[i];
        switch (f->kind) {
        case SENT_ACK: skiff_ack_tracker_on_ack_acked(&c->spaces[space].acks, f->a); break;
        case SENT_CRYPTO:
            if (!c->levels[f->flags].discarded)
                skiff_stream_send_on_acked(&c->levels[f->flags].crypto_tx, f->a, f->len16, false);
            break;
        case SENT_RETIRE_CONNECTION_ID: skiff_cid_remote_on_retire_acked(&c->remote_cids, f->a); break;
        case SENT_HANDSHAKE_DONE:
        case SENT_NEW_TOKEN:
        case SENT_PING:
        case SENT_NEW_CONNECTION_ID: break;
        case SENT_PMTU_PROBE:
            if (f->a > c->max_datagram) {
                c->max_datagram = (size_t)f->a;
                skiff_recovery_set_max_datagram_size(&c->recovery, f->a);
            }
            break;
        default: conn_stream_frame_acked(c, f); break;
        }
    }
}

static void on_lost(void *ud, skiff_pn_space space, const skiff_sent_packet *p)
{
    skiff_conn *c = ud;
    (void)space;
    for (uint8_t i = 0; i < p->frame_count; i++) {
        const skiff_sent_frame *f = &p->frames[i];
        switch (f->kind) {
        case SENT_ACK:
        case SENT_PING:
        case SENT_PMTU_PROBE: break; /* a fresh ACK or probe goes out instead */
        case SENT_CRYPTO:
            if (!c->levels[f->flags].discarded)
                skiff_stream_send_on_lost(&c->levels[f->flags].crypto_tx, f->a, f->len16, false);
            break;
        case SENT_HANDSHAKE_DONE: c->handshake_done_pending = true; break;
        case SENT_NEW_TOKEN: c->new_token_pending = true; break;
        case SENT_NEW_CONNECTION_ID: skiff_cid_local_on_new_lost(&c->local_cids, f->a); break;
        case SENT_RETIRE_CONNECTION_ID: skiff_cid_remote_on_retire_lost(&c->remote_cids, f->a); break;
        default: conn_stream_frame_lost(c, f); break;
        }
    }
}

const skiff_recovery_callbacks conn_recovery_callbacks = {.on_acked = on_acked, .on_lost = on_lost};

/*
 * RFC 9002 §6.2.4: probes should carry data still unacknowledged rather than
 * only a PING, so one probe that gets through repairs the loss at once. Every
 * frame of the packets in flight in `space` is queued again as if lost; the
 * packets stay in flight for recovery, and whichever copy is acknowledged
 * first settles the data (the modules ignore acknowledgments of data already
 * acknowledged).
 */
void conn_requeue_in_flight(skiff_conn *c, skiff_pn_space space)
{
    skiff_sent_packets *h = &c->recovery.spaces[space].sent;
    uint64_t end = skiff_sent_packets_end_pn(h);
    for (uint64_t pn = skiff_sent_packets_first_pn(h); pn < end; pn++) {
        if (skiff_sent_packets_state(h, pn) != SKIFF_SENT_OUTSTANDING) continue;
        const skiff_sent_packet *p = skiff_sent_packets_get(h, pn);
        if (p) on_lost(c, space, p);
    }
}

int conn_test_inject(skiff_conn *c, skiff_crypto_level level, const uint8_t *frames, size_t len)
{
    uint8_t *copy = realloc(c->raw_frames[level], len ? len : 1);
    if (!copy) return SKIFF_ERR_NOMEM;
    memcpy(copy, frames, len);
    c->raw_frames[level] = copy;
    c->raw_len[level] = len;
    return 0;
}
