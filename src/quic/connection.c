/*
 * A QUIC connection: creation, the TLS glue's callbacks, keys per
 * encryption level (RFC 9001 §4.1.4, discarding per §4.9), transport
 * parameters (RFC 9000 §7.3, §7.4, §18) and the public accessors. The
 * receive and send paths, closing and streams are in conn_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/conn_internal.h"
#include "quic/stateless_reset.h"

#define DEFAULT_HANDSHAKE_TIMEOUT SKIFF_MS(10000)
#define INITIAL_CID_LEN 8 /* a client's first DCID: at least 8 bytes (RFC 9000 §7.2) */
#define SENT_HISTORY_MAX 32768

void skiff_conn_config_default(skiff_conn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->version = SKIFF_QUIC_V1;
    cfg->idle_timeout = SKIFF_MS(30000);
    cfg->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
    cfg->initial_max_data = 1u << 20;
    cfg->initial_max_stream_data = 256u << 10;
    cfg->max_data_window = 24u << 20;
    cfg->max_stream_window = 16u << 20;
    cfg->max_streams_bidi = 100;
    cfg->max_streams_uni = 100;
    cfg->max_udp_payload = 1452;
    cfg->cc = "newreno";
    cfg->cid_len = 8;
}

skiff_pn_space conn_space_of(skiff_crypto_level level)
{
    switch (level) {
    case SKIFF_LEVEL_INITIAL: return SKIFF_SPACE_INITIAL;
    case SKIFF_LEVEL_HANDSHAKE: return SKIFF_SPACE_HANDSHAKE;
    default: return SKIFF_SPACE_APPLICATION;
    }
}

/* ---- connection IDs ---- */

static int generate_cid(void *user, uint64_t seq, size_t len, skiff_cid *cid,
                        uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN])
{
    skiff_conn *c = user;
    (void)seq;
    cid->len = (uint8_t)len;
    c->cb.random(cid->bytes, len, c->ud);
    skiff_stateless_reset_token(c->cfg.static_key, cid->bytes, len, token);
    return 0;
}

static int cid_added(void *user, const skiff_cid *cid, uint64_t seq)
{
    skiff_conn *c = user;
    (void)seq;
    if (c->cb.cid_added) c->cb.cid_added(c, cid->bytes, cid->len, c->ud);
    return 0;
}

static void cid_retired(void *user, const skiff_cid *cid, uint64_t seq)
{
    skiff_conn *c = user;
    (void)seq;
    if (c->cb.cid_retired) c->cb.cid_retired(c, cid->bytes, cid->len, c->ud);
}

/* ---- keys ---- */

int conn_install_keys(skiff_conn *c, skiff_crypto_level level, bool write, skiff_cipher_suite suite,
                      const uint8_t *secret, size_t len)
{
    conn_level *l = &c->levels[level];
    skiff_packet_keys *k = write ? &l->tx : &l->rx;
    skiff_packet_keys_clear(k);
    return skiff_packet_keys_from_secret(k, suite, c->version, secret, len);
}

/* RFC 9001 §4.9: Initial keys go when the first Handshake packet is sent or
 * received; Handshake keys when the handshake is confirmed. */
void conn_discard_level(skiff_conn *c, skiff_crypto_level level)
{
    conn_level *l = &c->levels[level];
    if (l->discarded) return;
    l->discarded = true;
    skiff_packet_keys_clear(&l->tx);
    skiff_packet_keys_clear(&l->rx);
    skiff_stream_send_cleanup(&l->crypto_tx);
    skiff_stream_recv_cleanup(&l->crypto_rx);
    if (level != SKIFF_LEVEL_0RTT)
        skiff_recovery_discard_space(&c->recovery, conn_space_of(level), c->now);
}

/* RFC 9000 §8.1: the peer's address is proven; the amplification limit no
 * longer holds back sending, nor the PTO timer (RFC 9002 §6.2.2.1). */
void conn_address_validated(skiff_conn *c)
{
    c->address_validated = true;
    skiff_recovery_set_amplification_blocked(&c->recovery, false, c->now);
}

/* ---- TLS callbacks ---- */

static int tls_on_secret(void *ud, skiff_crypto_level level, bool is_write, skiff_cipher_suite suite,
                         const uint8_t *secret, size_t len)
{
    skiff_conn *c = ud;
    int rv = conn_install_keys(c, level, is_write, suite, secret, len);
    /* RFC 9002 §6.2.2.1: probes may go in the Handshake space from now on. */
    if (!rv && is_write)
        skiff_recovery_set_keys_available(&c->recovery, conn_space_of(level), c->now);
    return rv;
}

static int tls_on_crypto_data(void *ud, skiff_crypto_level level, const uint8_t *data, size_t len)
{
    skiff_conn *c = ud;
    skiff_ssize n = skiff_stream_send_write(&c->levels[level].crypto_tx, data, len, false);
    return n == (skiff_ssize)len ? 0 : SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED;
}

static bool cid_matches(const skiff_tp_cid *tp, const skiff_cid *cid)
{
    return tp->len == cid->len && memcmp(tp->data, cid->bytes, cid->len) == 0;
}

/* RFC 9000 §7.3: the CIDs of the handshake are authenticated through the
 * transport parameters; §7.4 and §18.2 for the values themselves. */
static int tls_on_peer_tp(void *ud, const uint8_t *data, size_t len)
{
    skiff_conn *c = ud;
    skiff_role sender = c->role == SKIFF_ROLE_CLIENT ? SKIFF_ROLE_SERVER : SKIFF_ROLE_CLIENT;
    skiff_transport_params *tp = &c->peer_tp;
    int rv = skiff_transport_params_decode(tp, data, len, sender);
    if (rv) return rv;
    if (len <= sizeof c->peer_tp_raw) {
        memcpy(c->peer_tp_raw, data, len);
        c->peer_tp_raw_len = len;
    }
    if (!tp->has_initial_source_connection_id ||
        !cid_matches(&tp->initial_source_connection_id, &c->initial_scid))
        return SKIFF_ERR_TRANSPORT_PARAMETER;
    if (c->role == SKIFF_ROLE_CLIENT) {
        if (!tp->has_original_destination_connection_id ||
            !cid_matches(&tp->original_destination_connection_id, &c->original_dcid))
            return SKIFF_ERR_TRANSPORT_PARAMETER;
        if (c->retry_scid.len ? !tp->has_retry_source_connection_id ||
                                    !cid_matches(&tp->retry_source_connection_id, &c->retry_scid)
                              : tp->has_retry_source_connection_id)
            return SKIFF_ERR_TRANSPORT_PARAMETER;
        if (tp->has_stateless_reset_token)
            skiff_cid_remote_set_initial_token(&c->remote_cids, tp->stateless_reset_token);
    }
    c->peer_tp_received = true;
    skiff_streams_set_peer_params(&c->streams, tp);
    skiff_cid_local_set_peer_limit(&c->local_cids, tp->active_connection_id_limit);
    skiff_recovery_set_peer_max_ack_delay(&c->recovery, SKIFF_MS(tp->max_ack_delay));
    /* §10.1: the effective idle timeout is the smaller of the non-zero values. */
    skiff_time peer_idle = SKIFF_MS(tp->max_idle_timeout);
    if (peer_idle && (!c->idle_timeout || peer_idle < c->idle_timeout)) c->idle_timeout = peer_idle;
    if (tp->max_udp_payload_size < c->max_datagram) c->max_datagram = (size_t)tp->max_udp_payload_size;
    /* A larger size to probe for once the handshake is confirmed (RFC 8899). */
    uint64_t target = c->cfg.max_udp_payload < tp->max_udp_payload_size ? c->cfg.max_udp_payload
                                                                        : tp->max_udp_payload_size;
    c->pmtu_target = target > c->max_datagram ? (size_t)target : 0;
    return 0;
}

static void tls_on_keylog(void *ud, const char *line)
{
    skiff_conn *c = ud;
    if (c->cb.keylog) c->cb.keylog(c, line, c->ud);
}

/*
 * Session data, for resuming later (client):
 *   u16 length | the server's transport parameters (§7.4.1: 0-RTT respects them)
 *   u16 length | the latest NEW_TOKEN token (§8.1.3: skips address validation)
 *   the TLS session ticket
 * Emitted again whenever a ticket or a token arrives.
 */
static void emit_session(skiff_conn *c)
{
    if (!c->cb.session_ticket || !c->peer_tp_received || !c->ticket) return;
    size_t total = 2 + c->peer_tp_raw_len + 2 + c->new_token_len + c->ticket_len;
    uint8_t *blob = malloc(total), *p = blob;
    if (!blob) return; /* no resumption later: not worth failing this connection */
    *p++ = (uint8_t)(c->peer_tp_raw_len >> 8), *p++ = (uint8_t)c->peer_tp_raw_len;
    memcpy(p, c->peer_tp_raw, c->peer_tp_raw_len), p += c->peer_tp_raw_len;
    *p++ = (uint8_t)(c->new_token_len >> 8), *p++ = (uint8_t)c->new_token_len;
    memcpy(p, c->new_token, c->new_token_len), p += c->new_token_len;
    memcpy(p, c->ticket, c->ticket_len);
    c->cb.session_ticket(c, blob, total, c->ud);
    free(blob);
}

static int tls_on_session_ticket(void *ud, const uint8_t *data, size_t len)
{
    skiff_conn *c = ud;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return 0;
    memcpy(copy, data, len);
    free(c->ticket);
    c->ticket = copy;
    c->ticket_len = len;
    emit_session(c);
    return 0;
}

/* A NEW_TOKEN frame (RFC 9000 §19.7) for the next connection to this server. */
void conn_on_new_token(skiff_conn *c, const uint8_t *token, size_t len)
{
    if (len > sizeof c->new_token) return; /* longer than we keep: unused */
    memcpy(c->new_token, token, len);
    c->new_token_len = len;
    emit_session(c);
}

/* Applies remembered transport parameters so 0-RTT can open streams and
 * send within the limits the server gave last time (§7.4.1), and the token
 * the next Initials carry. Returns the TLS ticket part of the session data,
 * or NULL when the data is malformed. */
static const uint8_t *apply_session_data(skiff_conn *c, size_t *ticket_len)
{
    const uint8_t *d = c->cfg.session_data;
    size_t len = c->cfg.session_data_len;
    if (!d || len < 4) return NULL;
    size_t tp_len = (size_t)d[0] << 8 | d[1];
    if (tp_len > len - 4) return NULL;
    size_t token_len = (size_t)d[2 + tp_len] << 8 | d[3 + tp_len];
    if (token_len > len - 4 - tp_len || token_len > sizeof c->token) return NULL;
    skiff_transport_params tp;
    if (skiff_transport_params_decode(&tp, d + 2, tp_len, SKIFF_ROLE_SERVER)) return NULL;
    skiff_streams_set_peer_params(&c->streams, &tp);
    memcpy(c->token, d + 4 + tp_len, token_len);
    c->token_len = token_len;
    *ticket_len = len - 4 - tp_len - token_len;
    return d + 4 + tp_len + token_len;
}

static const skiff_tls_callbacks tls_callbacks = {
    .on_secret = tls_on_secret,
    .on_crypto_data = tls_on_crypto_data,
    .on_peer_transport_params = tls_on_peer_tp,
    .on_keylog = tls_on_keylog,
    .on_session_ticket = tls_on_session_ticket,
};

/* Hands TLS whatever became contiguous in a level's CRYPTO stream. */
int conn_feed_crypto(skiff_conn *c, skiff_crypto_level level)
{
    skiff_stream_recv *r = &c->levels[level].crypto_rx;
    for (int guard = 0; guard < 64; guard++) {
        const uint8_t *data;
        bool fin;
        size_t n = skiff_stream_recv_peek(r, &data, &fin);
        if (n == 0) return 0;
        int rv = skiff_tls_receive(c->tls, level, data, n);
        skiff_stream_recv_consume(r, n);
        if (rv) return rv;
    }
    return 0;
}

void conn_on_handshake_complete(skiff_conn *c, skiff_time now)
{
    (void)now;
    c->handshake_complete = true;
    c->state = CONN_ESTABLISHED;
    /* 0-RTT packets share the space but came before this one (RFC 9001 §4.1.2). */
    c->first_1rtt_pn = skiff_recovery_next_pn(&c->recovery, SKIFF_SPACE_APPLICATION);
    size_t len = 0;
    const char *alpn = skiff_tls_alpn(c->tls, &len);
    if (alpn && len < sizeof c->alpn) {
        memcpy(c->alpn, alpn, len);
        c->alpn[len] = 0;
    }
    if (c->role == SKIFF_ROLE_CLIENT && c->early_data_sent) {
        /* RFC 9001 §4.6.2: refused 0-RTT data is sent again in 1-RTT. */
        c->early_data_settled = true;
        if (!skiff_tls_early_data_accepted(c->tls)) conn_requeue_in_flight(c, SKIFF_SPACE_APPLICATION);
    }
    if (c->role == SKIFF_ROLE_CLIENT) conn_discard_level(c, SKIFF_LEVEL_0RTT);
    if (c->role == SKIFF_ROLE_SERVER) {
        /* RFC 9001 §4.1.2: the server's handshake is confirmed when it completes. */
        c->handshake_confirmed = true;
        c->pmtu_probe_pending = c->pmtu_target > 0;
        c->handshake_done_pending = true;
        conn_address_validated(c);
        skiff_recovery_set_handshake_confirmed(&c->recovery, c->now);
        conn_discard_level(c, SKIFF_LEVEL_HANDSHAKE);
        skiff_tls_send_session_ticket(c->tls);
        c->new_token_pending = c->new_token_len > 0; /* §8.1.3 */
    }
    skiff_cid_local_issue(&c->local_cids);
    if (!c->handshake_done_reported && c->cb.handshake_done) {
        c->handshake_done_reported = true;
        c->cb.handshake_done(c, c->ud);
    }
}

/* ---- creation ---- */

static int encode_local_tp(skiff_conn *c, uint8_t *buf, size_t cap, skiff_ssize *len)
{
    skiff_transport_params *tp = &c->local_tp;
    skiff_transport_params_init_default(tp);
    tp->max_idle_timeout = c->cfg.idle_timeout / SKIFF_MS(1);
    tp->max_udp_payload_size = 65527;
    tp->initial_max_data = c->cfg.initial_max_data;
    tp->initial_max_stream_data_bidi_local = c->cfg.initial_max_stream_data;
    tp->initial_max_stream_data_bidi_remote = c->cfg.initial_max_stream_data;
    tp->initial_max_stream_data_uni = c->cfg.initial_max_stream_data;
    tp->initial_max_streams_bidi = c->cfg.max_streams_bidi;
    tp->initial_max_streams_uni = c->cfg.max_streams_uni;
    tp->active_connection_id_limit = 4;
    tp->max_ack_delay = 25;
    const skiff_cid_entry *own = &c->local_cids.entries[0];
    tp->has_initial_source_connection_id = true;
    tp->initial_source_connection_id.len = own->cid.len;
    memcpy(tp->initial_source_connection_id.data, own->cid.bytes, own->cid.len);
    if (c->role == SKIFF_ROLE_SERVER) {
        tp->has_original_destination_connection_id = true;
        tp->original_destination_connection_id.len = c->original_dcid.len;
        memcpy(tp->original_destination_connection_id.data, c->original_dcid.bytes, c->original_dcid.len);
        tp->has_stateless_reset_token = true;
        memcpy(tp->stateless_reset_token, own->token, sizeof tp->stateless_reset_token);
        if (c->retried) {
            tp->has_retry_source_connection_id = true;
            tp->retry_source_connection_id.len = c->retry_scid.len;
            memcpy(tp->retry_source_connection_id.data, c->retry_scid.bytes, c->retry_scid.len);
        }
    }
    uint64_t grease;
    c->cb.random((uint8_t *)&grease, sizeof grease, c->ud);
    *len = skiff_transport_params_encode(buf, cap, tp, c->role, grease | 1);
    return *len < 0 ? (int)*len : 0;
}

static int conn_new(skiff_conn **out, const skiff_conn_config *cfg, const skiff_conn_callbacks *cb,
                    void *ud, const skiff_path *path, skiff_role role, skiff_time now)
{
    if (!cb->random || !cfg->credentials || !cfg->static_key || cfg->cid_len < 4 ||
        cfg->cid_len > SKIFF_MAX_CID_LEN || cfg->version != SKIFF_QUIC_V1)
        return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_conn *c = calloc(1, sizeof *c);
    if (!c) return SKIFF_ERR_NOMEM;
    c->cfg = *cfg;
    c->cb = *cb;
    c->ud = ud;
    c->role = role;
    c->version = cfg->version;
    c->state = CONN_HANDSHAKING;
    c->path = *path;
    c->created = now;
    c->now = now;
    c->idle_timeout = cfg->idle_timeout;
    c->idle_deadline = SKIFF_TIME_NEVER;
    c->rx_phase_first_pn = UINT64_MAX;
    c->pacing_at = SKIFF_TIME_NEVER;
    c->close_deadline = SKIFF_TIME_NEVER;
    c->max_datagram = SKIFF_MIN_INITIAL_DATAGRAM;
    if (!c->cfg.handshake_timeout) c->cfg.handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
    skiff_streams_config sc = {
        .role = role,
        .max_streams_bidi = cfg->max_streams_bidi,
        .max_streams_uni = cfg->max_streams_uni,
        .stream_window_bidi_local = cfg->initial_max_stream_data,
        .stream_window_bidi_remote = cfg->initial_max_stream_data,
        .stream_window_uni = cfg->initial_max_stream_data,
        .conn_window = cfg->initial_max_data,
        .max_stream_window = cfg->max_stream_window,
        .max_conn_window = cfg->max_data_window,
        .send_buffer = 1u << 20,
        .pool_max_free = 256,
    };
    int rv = skiff_streams_init(&c->streams, &sc);
    if (rv) {
        free(c);
        return rv;
    }
    for (int l = 0; l < SKIFF_LEVEL_COUNT; l++) {
        skiff_stream_send_init(&c->levels[l].crypto_tx, c->streams.pool, 1u << 20);
        skiff_stream_recv_init_crypto(&c->levels[l].crypto_rx, c->streams.pool);
    }
    for (int s = 0; s < SKIFF_SPACE_COUNT; s++) {
        skiff_ack_tracker_init(&c->spaces[s].acks, (skiff_pn_space)s, SKIFF_ACK_TRACKER_DEFAULT_MAX_RANGES);
        skiff_ack_tracker_set_max_ack_delay(&c->spaces[s].acks, SKIFF_MS(25));
        c->spaces[s].largest_rx = SKIFF_PN_NONE;
    }
    skiff_recovery_config rc;
    skiff_recovery_config_default(&rc);
    rc.cc = cfg->cc && !strcmp(cfg->cc, "cubic") ? SKIFF_CC_CUBIC : SKIFF_CC_NEWRENO;
    rc.max_datagram_size = SKIFF_MIN_INITIAL_DATAGRAM;
    rc.history_cap = SENT_HISTORY_MAX;
    rc.is_server = role == SKIFF_ROLE_SERVER;
    /* A burst of one GSO send (45 datagrams of 1452 bytes fit 64 KiB): the
     * pacer spaces such bursts, not single datagrams, so one wake-up of the
     * I/O engine moves a full batch. */
    rc.pacer_burst_packets = 44;
    rv = skiff_recovery_init(&c->recovery, &rc, now);
    if (rv) {
        skiff_conn_free(c);
        return rv;
    }
    skiff_cid_remote_init(&c->remote_cids, 4);
    *out = c;
    return 0;
}

static int start_tls(skiff_conn *c)
{
    uint8_t tp[SKIFF_TRANSPORT_PARAMS_MAX_LEN];
    skiff_ssize tp_len;
    int rv = encode_local_tp(c, tp, sizeof tp, &tp_len);
    if (rv) return rv;
    size_t ticket_len = 0;
    const uint8_t *ticket = c->role == SKIFF_ROLE_CLIENT ? apply_session_data(c, &ticket_len) : NULL;
    skiff_tls_config tc = {
        .role = c->role,
        .credentials = c->cfg.credentials,
        .server_name = c->cfg.server_name,
        .alpn = c->cfg.alpn,
        .alpn_count = c->cfg.alpn_count,
        .transport_params = tp,
        .transport_params_len = (size_t)tp_len,
        .session_data = ticket,
        .session_data_len = ticket_len,
        .enable_0rtt = c->cfg.enable_0rtt,
    };
    rv = skiff_tls_new(&c->tls, &tc, &tls_callbacks, c);
    if (rv) return rv;
    return c->role == SKIFF_ROLE_CLIENT ? skiff_tls_start(c->tls) : 0;
}

static int init_local_cids(skiff_conn *c)
{
    skiff_cid cid0;
    uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN];
    generate_cid(c, 0, c->cfg.cid_len, &cid0, token);
    skiff_cid_callbacks cc = {.generate = generate_cid, .on_added = cid_added,
                              .on_retired = cid_retired, .user = c};
    return skiff_cid_local_init(&c->local_cids, &cc, &cid0, token);
}

int skiff_conn_client_new(skiff_conn **out, const skiff_conn_config *cfg,
                          const skiff_conn_callbacks *cb, void *ud, const skiff_path *path,
                          skiff_time now)
{
    skiff_conn *c;
    int rv = conn_new(&c, cfg, cb, ud, path, SKIFF_ROLE_CLIENT, now);
    if (rv) return rv;
    c->original_dcid.len = INITIAL_CID_LEN;
    cb->random(c->original_dcid.bytes, INITIAL_CID_LEN, ud);
    rv = init_local_cids(c);
    if (!rv) rv = skiff_cid_remote_set_initial(&c->remote_cids, c->original_dcid.bytes, c->original_dcid.len);
    if (!rv) rv = skiff_packet_keys_initial(c->version, c->original_dcid.bytes, c->original_dcid.len,
                                            &c->levels[SKIFF_LEVEL_INITIAL].tx,
                                            &c->levels[SKIFF_LEVEL_INITIAL].rx);
    if (!rv) rv = start_tls(c);
    if (rv) {
        skiff_conn_free(c);
        return rv;
    }
    /* A client has validated its peer's address by definition (§8.1). */
    c->address_validated = true;
    conn_touch_idle(c, now, false);
    *out = c;
    return 0;
}

int skiff_conn_server_new(skiff_conn **out, const skiff_conn_config *cfg,
                          const skiff_conn_callbacks *cb, void *ud, const skiff_path *path,
                          const uint8_t *dcid, size_t dcid_len, const uint8_t *scid,
                          size_t scid_len, const uint8_t *odcid, size_t odcid_len, skiff_time now)
{
    if (!odcid) odcid = dcid, odcid_len = dcid_len;
    /* §7.2: a client's first DCID has at least 8 bytes. */
    if (odcid_len < INITIAL_CID_LEN || odcid_len > SKIFF_MAX_CID_LEN ||
        dcid_len > SKIFF_MAX_CID_LEN || scid_len > SKIFF_MAX_CID_LEN)
        return SKIFF_ERR_INVALID_PACKET;
    skiff_conn *c;
    int rv = conn_new(&c, cfg, cb, ud, path, SKIFF_ROLE_SERVER, now);
    if (rv) return rv;
    c->original_dcid.len = (uint8_t)odcid_len;
    memcpy(c->original_dcid.bytes, odcid, odcid_len);
    if (odcid != dcid) {
        /* After a Retry: the client's address is proven (§8.1.2), and the
         * Retry's SCID, which the client now uses, goes into our transport
         * parameters (§7.3). */
        c->retried = true;
        c->address_validated = true;
        c->retry_scid.len = (uint8_t)dcid_len;
        memcpy(c->retry_scid.bytes, dcid, dcid_len);
    }
    c->initial_scid.len = (uint8_t)scid_len;
    memcpy(c->initial_scid.bytes, scid, scid_len);
    rv = init_local_cids(c);
    if (!rv) rv = skiff_cid_remote_set_initial(&c->remote_cids, scid, scid_len);
    /* The server protects with the server keys and opens with the client's. */
    if (!rv) rv = skiff_packet_keys_initial(c->version, dcid, dcid_len,
                                            &c->levels[SKIFF_LEVEL_INITIAL].rx,
                                            &c->levels[SKIFF_LEVEL_INITIAL].tx);
    if (!rv) rv = start_tls(c);
    if (rv) {
        skiff_conn_free(c);
        return rv;
    }
    conn_touch_idle(c, now, false);
    *out = c;
    return 0;
}

void skiff_conn_free(skiff_conn *c)
{
    if (!c) return;
    skiff_tls_free(c->tls);
    free(c->ticket);
    for (int l = 0; l < SKIFF_LEVEL_COUNT; l++) free(c->raw_frames[l]);
    conn_free_key_update(c);
    for (int l = 0; l < SKIFF_LEVEL_COUNT; l++) {
        skiff_packet_keys_clear(&c->levels[l].tx);
        skiff_packet_keys_clear(&c->levels[l].rx);
        skiff_stream_send_cleanup(&c->levels[l].crypto_tx);
        skiff_stream_recv_cleanup(&c->levels[l].crypto_rx);
    }
    for (int s = 0; s < SKIFF_SPACE_COUNT; s++) skiff_ack_tracker_free(&c->spaces[s].acks);
    skiff_recovery_free(&c->recovery);
    skiff_cid_remote_free(&c->remote_cids);
    skiff_streams_free(&c->streams); /* last: the CRYPTO streams used its pool */
    free(c);
}

/* ---- accessors ---- */

bool skiff_conn_is_established(const skiff_conn *c)
{
    return c->state == CONN_ESTABLISHED;
}

bool skiff_conn_is_closed(const skiff_conn *c)
{
    return c->state == CONN_CLOSED;
}

const char *skiff_conn_alpn(const skiff_conn *c)
{
    /* A server reading 0-RTT streams needs the protocol before the handshake
     * completes: TLS has chosen it once the ClientHello was processed. */
    if (!c->alpn[0] && c->tls) {
        size_t len = 0;
        const char *alpn = skiff_tls_alpn(c->tls, &len);
        if (alpn && len < sizeof c->alpn) {
            char *cache = (char *)c->alpn; /* a cache of what TLS already decided */
            memcpy(cache, alpn, len);
            cache[len] = 0;
        }
    }
    return c->alpn;
}

bool skiff_conn_resumed(const skiff_conn *c)
{
    return c->tls && skiff_tls_resumed(c->tls);
}

bool skiff_conn_early_data_possible(const skiff_conn *c)
{
    const conn_level *l = &c->levels[SKIFF_LEVEL_0RTT];
    return c->role == SKIFF_ROLE_CLIENT && !l->discarded && skiff_packet_keys_installed(&l->tx);
}

const char *skiff_conn_early_data(const skiff_conn *c)
{
    if (c->role == SKIFF_ROLE_SERVER)
        return c->tls && skiff_tls_early_data_accepted(c->tls) ? "accepted" : "not sent";
    if (!c->early_data_sent) return "not sent";
    if (!c->early_data_settled) return "pending";
    return skiff_tls_early_data_accepted(c->tls) ? "accepted" : "rejected";
}

int skiff_conn_set_new_token(skiff_conn *c, const uint8_t *token, size_t len)
{
    if (c->role != SKIFF_ROLE_SERVER || len == 0 || len > sizeof c->new_token)
        return SKIFF_ERR_INVALID_ARGUMENT;
    memcpy(c->new_token, token, len);
    c->new_token_len = len;
    if (c->handshake_complete) c->new_token_pending = true;
    return 0;
}

void skiff_conn_set_address_validated(skiff_conn *c)
{
    conn_address_validated(c);
}

bool skiff_conn_retried(const skiff_conn *c)
{
    return c->retried;
}

const char *skiff_conn_cipher_name(const skiff_conn *c)
{
    switch (c->tls ? skiff_tls_cipher_suite(c->tls) : 0) {
    case SKIFF_SUITE_AES_128_GCM_SHA256: return "TLS_AES_128_GCM_SHA256";
    case SKIFF_SUITE_AES_256_GCM_SHA384: return "TLS_AES_256_GCM_SHA384";
    case SKIFF_SUITE_CHACHA20_POLY1305_SHA256: return "TLS_CHACHA20_POLY1305_SHA256";
    }
    return "none";
}

void *skiff_conn_user_data(const skiff_conn *c)
{
    return c->ud;
}

void skiff_conn_set_app_data(skiff_conn *c, void *data)
{
    c->app_data = data;
}

void *skiff_conn_app_data(const skiff_conn *c)
{
    return c->app_data;
}

skiff_time skiff_conn_deadline(const skiff_conn *c)
{
    if (c->state == CONN_CLOSED) return SKIFF_TIME_NEVER;
    if (c->state == CONN_CLOSING || c->state == CONN_DRAINING) return c->close_deadline;
    skiff_time d = skiff_recovery_timer(&c->recovery);
    static const skiff_crypto_level level_of_space[] = {SKIFF_LEVEL_INITIAL, SKIFF_LEVEL_HANDSHAKE,
                                                        SKIFF_LEVEL_1RTT};
    for (int s = 0; s < SKIFF_SPACE_COUNT; s++) {
        if (c->levels[level_of_space[s]].discarded) continue; /* nothing can be sent there */
        skiff_time a = skiff_ack_tracker_deadline(&c->spaces[s].acks);
        if (a < d) d = a;
    }
    skiff_time t = conn_close_deadline(c);
    if (t < d) d = t;
    if (c->pacing_at < d) d = c->pacing_at;
    skiff_time k = conn_keep_alive_deadline(c);
    if (k < d) d = k;
    return d;
}

void skiff_conn_on_timeout(skiff_conn *c, skiff_time now)
{
    c->now = now;
    if (c->pacing_at <= now) c->pacing_at = SKIFF_TIME_NEVER; /* the next send may go */
    if (conn_keep_alive_deadline(c) <= now) {
        c->probes_pending[SKIFF_SPACE_APPLICATION] = 1; /* a PING, like a probe */
        c->last_ack_eliciting_sent = now; /* no second one before it goes */
    }
    conn_check_timeouts(c, now);
    if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return;
    if (skiff_recovery_timer(&c->recovery) <= now) {
        skiff_recovery_probe probe = {0};
        skiff_recovery_on_timeout(&c->recovery, now, &conn_recovery_callbacks, c, &probe);
        for (int s = 0; s < SKIFF_SPACE_COUNT; s++) {
            c->probes_pending[s] += probe.packets[s];
            if (probe.packets[s]) conn_requeue_in_flight(c, (skiff_pn_space)s);
        }
    }
}
