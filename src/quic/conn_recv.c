/*
 * The receive path: a datagram split into its packets (RFC 9000 §12.2),
 * each unprotected (RFC 9001 §5), checked for duplicates, and its frames
 * dispatched to the modules that own their state (RFC 9000 §19). Errors
 * found in frames close the connection with their §20.1 code; packets that
 * cannot be opened are dropped, as §12.2 and RFC 9001 §5.5 ask.
 */
#include <string.h>

#include "common/error.h"
#include "quic/conn_internal.h"
#include "quic/stateless_reset.h"

static skiff_crypto_level level_of(skiff_packet_type t)
{
    switch (t) {
    case SKIFF_PKT_INITIAL: return SKIFF_LEVEL_INITIAL;
    case SKIFF_PKT_HANDSHAKE: return SKIFF_LEVEL_HANDSHAKE;
    case SKIFF_PKT_0RTT: return SKIFF_LEVEL_0RTT;
    default: return SKIFF_LEVEL_1RTT;
    }
}

static int on_crypto_frame(skiff_conn *c, skiff_crypto_level level, const skiff_frame_crypto *f,
                           skiff_time now)
{
    conn_level *l = &c->levels[level];
    if (l->discarded) return 0; /* a retransmission of data we no longer need */
    uint64_t fresh = 0;
    int rv = skiff_stream_recv_on_data(&l->crypto_rx, f->offset, f->data, f->len, false,
                                       UINT64_MAX, &fresh);
    if (rv) return rv;
    if (fresh) c->rx_fresh_crypto = true;
    rv = conn_feed_crypto(c, level);
    if (rv) return rv;
    if (!c->handshake_complete && skiff_tls_handshake_complete(c->tls))
        conn_on_handshake_complete(c, now);
    return 0;
}

/* The client's handshake is confirmed (RFC 9001 §4.1.2): Handshake keys go
 * (§4.9.2) and Application Data gets a PTO (RFC 9002 §6.2.1). */
static void client_confirm(skiff_conn *c, skiff_time now)
{
    if (c->handshake_confirmed) return;
    c->handshake_confirmed = true;
    c->pmtu_probe_pending = c->pmtu_target > 0;
    skiff_recovery_set_handshake_confirmed(&c->recovery, now);
    conn_discard_level(c, SKIFF_LEVEL_HANDSHAKE);
}

static int on_handshake_done(skiff_conn *c, skiff_time now)
{
    /* RFC 9000 §19.20: only a server sends it. */
    if (c->role == SKIFF_ROLE_SERVER) return SKIFF_ERR_PROTOCOL_VIOLATION;
    client_confirm(c, now);
    return 0;
}

int conn_handle_frames(skiff_conn *c, const skiff_packet_header *h, skiff_crypto_level level,
                       const uint8_t *payload, size_t len, bool *ack_eliciting, skiff_time now)
{
    size_t off = 0;
    *ack_eliciting = false;
    if (len == 0) {
        conn_close_transport(c, SKIFF_ERR_PROTOCOL_VIOLATION, 0, "empty packet", now); /* §12.4 */
        return SKIFF_ERR_PROTOCOL_VIOLATION;
    }
    while (off < len) {
        skiff_frame f;
        skiff_ssize n = skiff_frame_decode_in(&f, payload + off, len - off, h->type);
        if (n < 0) {
            uint64_t type = payload[off];
            conn_close_transport(c, (int)n, type, "malformed frame", now);
            return (int)n;
        }
        off += (size_t)n;
        if (skiff_frame_is_ack_eliciting(f.type)) *ack_eliciting = true;
        int rv = 0;
        switch (f.type) {
        case SKIFF_FRAME_PADDING:
        case SKIFF_FRAME_PING: break;
        case SKIFF_FRAME_ACK:
        case SKIFF_FRAME_ACK_ECN: {
            skiff_pn_space space = conn_space_of(level);
            unsigned exponent = space == SKIFF_SPACE_APPLICATION && c->peer_tp_received
                                    ? (unsigned)c->peer_tp.ack_delay_exponent
                                    : 3;
            skiff_time delay = SKIFF_US(f.ack.ack_delay << exponent);
            rv = skiff_recovery_on_ack(&c->recovery, space, &f.ack, delay, now,
                                       &conn_recovery_callbacks, c);
            /* RFC 9001 §4.1.2: a client MAY take an acknowledgment of a 1-RTT
             * packet as confirmation. Without it, a lost HANDSHAKE_DONE
             * leaves the client with no PTO for its requests (RFC 9002
             * §6.2.1) until the server's own backed-off probe gets through. */
            if (!rv && c->role == SKIFF_ROLE_CLIENT && c->handshake_complete &&
                space == SKIFF_SPACE_APPLICATION && f.ack.largest >= c->first_1rtt_pn)
                client_confirm(c, now);
            break;
        }
        case SKIFF_FRAME_CRYPTO: rv = on_crypto_frame(c, level, &f.crypto, now); break;
        case SKIFF_FRAME_NEW_TOKEN:
            if (c->role == SKIFF_ROLE_SERVER) rv = SKIFF_ERR_PROTOCOL_VIOLATION; /* §19.7 */
            else conn_on_new_token(c, f.new_token.token, f.new_token.len);
            break;
        case SKIFF_FRAME_NEW_CONNECTION_ID:
            rv = skiff_cid_remote_on_new(&c->remote_cids, &f.new_connection_id);
            break;
        case SKIFF_FRAME_RETIRE_CONNECTION_ID:
            rv = skiff_cid_local_on_retire(&c->local_cids, f.retire_connection_id.seq, h->dcid,
                                           h->dcid_len);
            break;
        case SKIFF_FRAME_PATH_CHALLENGE:
            memcpy(c->path_response, f.path_challenge.data, sizeof c->path_response);
            c->path_response_pending = true;
            break;
        case SKIFF_FRAME_PATH_RESPONSE: break; /* no path validation outstanding yet */
        case SKIFF_FRAME_CONNECTION_CLOSE:
        case SKIFF_FRAME_CONNECTION_CLOSE_APP:
            conn_enter_draining(c, &f.connection_close, now);
            return 0;
        case SKIFF_FRAME_HANDSHAKE_DONE: rv = on_handshake_done(c, now); break;
        case SKIFF_FRAME_DATAGRAM:
        case SKIFF_FRAME_DATAGRAM_LEN:
            rv = SKIFF_ERR_PROTOCOL_VIOLATION; /* RFC 9221 §3: not negotiated */
            break;
        default: rv = conn_on_stream_frame(c, f.type, &f, now); break;
        }
        if (rv) {
            uint64_t code = skiff_err_transport_code(rv);
            if (code == SKIFF_TE_NONE) code = SKIFF_TE_INTERNAL_ERROR;
            if (f.type == SKIFF_FRAME_CRYPTO && c->tls &&
                skiff_tls_error_code(c->tls) != SKIFF_TE_NONE) {
                c->close_code = skiff_tls_error_code(c->tls);
                conn_close_transport(c, rv, f.type, "TLS handshake failed", now);
            } else {
                conn_close_transport(c, rv, f.type, skiff_strerror(rv), now);
            }
            return rv;
        }
        if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return 0;
    }
    return 0;
}

/*
 * During the handshake, an ack-eliciting Initial or Handshake packet that
 * brings no new handshake data is the peer probing: it has not heard from
 * us. Our unacknowledged handshake data goes again at once rather than at
 * our own PTO, which loss may have backed off (RFC 9002 §6.2.3 leaves the
 * unblocking to the client; answering its probe at once shortens the wait).
 */
static void answer_probe(skiff_conn *c)
{
    static const skiff_crypto_level levels[] = {SKIFF_LEVEL_INITIAL, SKIFF_LEVEL_HANDSHAKE};
    for (size_t i = 0; i < 2; i++) {
        conn_level *l = &c->levels[levels[i]];
        skiff_stream_send *tx = &l->crypto_tx;
        if (!l->discarded && tx->max_sent > tx->acked_end)
            skiff_stream_send_on_lost(tx, tx->acked_end, (size_t)(tx->max_sent - tx->acked_end), false);
    }
}

/* A server's first Handshake packet proves the client's address (§8.1),
 * and either side drops its Initial keys (RFC 9001 §4.9.1). */
static void after_handshake_packet(skiff_conn *c)
{
    if (c->role == SKIFF_ROLE_SERVER) conn_address_validated(c);
    if (c->role == SKIFF_ROLE_SERVER) conn_discard_level(c, SKIFF_LEVEL_INITIAL);
}

/*
 * A Retry (RFC 9000 §17.2.5): the client checks its integrity tag against the
 * DCID it first used, accepts only one and only before any Initial from the
 * server, then sends its Initials again to the Retry's SCID, with the token
 * and with Initial keys from that new DCID (RFC 9001 §5.2).
 */
static int on_retry(skiff_conn *c, const uint8_t *pkt, size_t len, const skiff_packet_header *h)
{
    if (c->role != SKIFF_ROLE_CLIENT || c->retried || c->dcid_switched) return 1;
    if (h->version != c->version || h->token_len > sizeof c->token) return 1;
    if (skiff_retry_integrity_verify(c->version, c->original_dcid.bytes, c->original_dcid.len, pkt, len))
        return 1;
    if (h->scid_len == c->original_dcid.len && !memcmp(h->scid, c->original_dcid.bytes, h->scid_len))
        return 1; /* §17.2.5.2: the SCID must differ from the DCID it answers */
    c->retried = true;
    c->retry_scid.len = h->scid_len;
    memcpy(c->retry_scid.bytes, h->scid, h->scid_len);
    memcpy(c->token, h->token, h->token_len);
    c->token_len = h->token_len;
    skiff_cid_remote_set_initial(&c->remote_cids, h->scid, h->scid_len);
    conn_level *l = &c->levels[SKIFF_LEVEL_INITIAL];
    skiff_packet_keys_clear(&l->tx);
    skiff_packet_keys_clear(&l->rx);
    if (skiff_packet_keys_initial(c->version, h->scid, h->scid_len, &l->tx, &l->rx)) return 1;
    /* Everything sent in Initials goes again, from the start (§17.2.5.3). */
    if (l->crypto_tx.max_sent) skiff_stream_send_on_lost(&l->crypto_tx, 0, (size_t)l->crypto_tx.max_sent, false);
    return 0;
}

/*
 * RFC 9000 §10.3.1: a datagram none of whose packets could be processed may
 * be a stateless reset: it ends the connection when its last 16 bytes equal
 * the reset token of a connection ID we have sent to (compared in constant
 * time). The connection then sends nothing more (it drains).
 */
static bool check_stateless_reset(skiff_conn *c, const uint8_t tail[SKIFF_STATELESS_RESET_MIN_LEN],
                                  skiff_time now)
{
    uint8_t tokens[SKIFF_CID_REMOTE_MAX][SKIFF_STATELESS_RESET_TOKEN_LEN];
    size_t n = skiff_cid_remote_tokens(&c->remote_cids, tokens, SKIFF_CID_REMOTE_MAX);
    if (!n || !skiff_stateless_reset_matches(tail, SKIFF_STATELESS_RESET_MIN_LEN,
                                             (const uint8_t(*)[SKIFF_STATELESS_RESET_TOKEN_LEN])tokens, n))
        return false;
    if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return false;
    c->end = (skiff_end_reason){.kind = SKIFF_END_STATELESS_RESET, .remote = true};
    c->state = CONN_DRAINING;
    c->close_deadline = now + 3 * skiff_recovery_pto_duration(&c->recovery);
    conn_report_end(c);
    return true;
}

bool skiff_conn_check_stateless_reset(skiff_conn *c, const uint8_t *dgram, size_t len, skiff_time now)
{
    if (len < SKIFF_STATELESS_RESET_MIN_LEN) return false;
    c->now = now;
    return check_stateless_reset(c, dgram + len - SKIFF_STATELESS_RESET_MIN_LEN, now);
}

/*
 * Version Negotiation (RFC 9000 §6.2): only a client that has processed no
 * packet from the server yet acts on one, and not when it lists the version
 * the client chose (a forged or late VN); otherwise the versions have no
 * overlap and the connection ends with both lists in its reason.
 */
static int on_version_negotiation(skiff_conn *c, const skiff_packet_header *h, skiff_time now)
{
    (void)now;
    if (c->role != SKIFF_ROLE_CLIENT || c->dcid_switched || c->retried || c->state != CONN_HANDSHAKING)
        return 1;
    skiff_end_reason r = {.kind = SKIFF_END_VERSION_NEGOTIATION, .remote = true};
    r.ours[r.ours_count++] = c->version;
    for (size_t i = 0; i < h->versions_count; i++) {
        uint32_t v = skiff_version_negotiation_version(h, i);
        if (v == c->version) return 1; /* §6.2: "MUST ignore" */
        if (r.theirs_count < sizeof r.theirs / sizeof r.theirs[0]) r.theirs[r.theirs_count++] = v;
    }
    c->end = r;
    c->state = CONN_CLOSED; /* nothing to say to a server we cannot speak to */
    conn_report_end(c);
    return SKIFF_ERR_UNSUPPORTED_VERSION;
}

/* Returns 0 when processed, 1 when dropped, negative when the connection closed. */
static int process_packet(skiff_conn *c, uint8_t *pkt, size_t len, const skiff_packet_header *h,
                          uint8_t ecn, skiff_time now)
{
    if (h->type == SKIFF_PKT_RETRY) return on_retry(c, pkt, len, h);
    if (h->type == SKIFF_PKT_VERSION_NEGOTIATION) return on_version_negotiation(c, h, now);
    if (h->type != SKIFF_PKT_1RTT && h->version != c->version) return 1;
    skiff_crypto_level level = level_of(h->type);
    conn_level *l = &c->levels[level];
    if (l->discarded || !skiff_packet_keys_installed(&l->rx)) return 1;
    skiff_pn_space space = conn_space_of(level);
    conn_space *sp = &c->spaces[space];

    size_t pn_len;
    uint64_t truncated;
    if (skiff_packet_unprotect_header(&l->rx, pkt, len, h->pn_offset, &pn_len, &truncated)) return 1;
    uint64_t pn = skiff_pn_decode(sp->largest_rx, truncated, pn_len);
    if (skiff_ack_tracker_is_duplicate(&sp->acks, pn)) return 1;
    size_t header_len = h->pn_offset + pn_len;
    const skiff_packet_keys *keys = &l->rx;
    if (level == SKIFF_LEVEL_1RTT) {
        keys = conn_rx_keys_for(c, (pkt[0] & SKIFF_SHORT_KEY_PHASE) != 0, pn);
        if (!keys) return 1;
    }
    skiff_ssize plen = skiff_packet_open(keys, pkt, header_len, pn, len);
    if (plen < 0) return 1;
    if (level == SKIFF_LEVEL_1RTT && conn_after_open(c, keys, pn)) {
        conn_close_transport(c, SKIFF_ERR_KEY_UPDATE, 0, "key update failed", now);
        return SKIFF_ERR_KEY_UPDATE;
    }
    /* Only now, with the packet authenticated, may its header bits count. */
    if (skiff_packet_check_reserved_bits(pkt[0], h->type != SKIFF_PKT_1RTT)) {
        conn_close_transport(c, SKIFF_ERR_PROTOCOL_VIOLATION, 0, "reserved bits set", now);
        return SKIFF_ERR_PROTOCOL_VIOLATION;
    }
    if (c->role == SKIFF_ROLE_CLIENT && h->type == SKIFF_PKT_INITIAL && !c->dcid_switched) {
        /* RFC 9000 §7.2: the client adopts the server's SCID as its DCID. */
        c->dcid_switched = true;
        c->initial_scid.len = h->scid_len;
        memcpy(c->initial_scid.bytes, h->scid, h->scid_len);
        skiff_cid_remote_set_initial(&c->remote_cids, h->scid, h->scid_len);
    }
    if (h->type == SKIFF_PKT_HANDSHAKE) after_handshake_packet(c);

    bool ack_eliciting = false;
    c->rx_fresh_crypto = false;
    int rv = conn_handle_frames(c, h, level, pkt + header_len, (size_t)plen, &ack_eliciting, now);
    if (rv) return rv;
    if (ack_eliciting && !c->rx_fresh_crypto && !c->handshake_confirmed &&
        (level == SKIFF_LEVEL_INITIAL || level == SKIFF_LEVEL_HANDSHAKE))
        answer_probe(c);
    if (c->levels[level].discarded && level != SKIFF_LEVEL_1RTT) return 0;
    skiff_ack_tracker_on_packet(&sp->acks, pn, ack_eliciting, ecn, now);
    if (sp->largest_rx == SKIFF_PN_NONE || pn > sp->largest_rx) sp->largest_rx = pn;
    conn_touch_idle(c, now, true);
    return 0;
}

int skiff_conn_receive(skiff_conn *c, const skiff_path *path, uint8_t *dgram, size_t len,
                       uint8_t ecn, skiff_time now)
{
    (void)path;
    c->now = now;
    if (c->state == CONN_CLOSED || c->state == CONN_DRAINING) return 0;
    if (c->state == CONN_CLOSING) {
        /* §10.2.1: answer with CONNECTION_CLOSE, at a bounded rate. */
        c->close_send_pending = true;
        return 0;
    }
    c->bytes_received += len;
    /* The last 16 bytes may be a stateless reset token; keep them before
     * decryption, which works in place, changes them. */
    uint8_t tail[SKIFF_STATELESS_RESET_MIN_LEN]; /* the token is its last 16 bytes */
    if (len >= sizeof tail) memcpy(tail, dgram + len - sizeof tail, sizeof tail);
    skiff_datagram_iter it;
    skiff_datagram_iter_init(&it, dgram, len, c->cfg.cid_len, 0);
    skiff_packet_header h;
    const uint8_t *pkt;
    bool processed = false;
    for (int guard = 0; guard < 16; guard++) {
        skiff_ssize n = skiff_datagram_iter_next(&it, &h, &pkt);
        if (n <= 0) break;
        int rv = process_packet(c, dgram + (pkt - dgram), (size_t)n, &h, ecn, now);
        if (rv < 0) break;
        if (rv == 0) processed = true;
    }
    if (!processed && len >= SKIFF_STATELESS_RESET_MIN_LEN) check_stateless_reset(c, tail, now);
    conn_notify_streams(c);
    return 0;
}
