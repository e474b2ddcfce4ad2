/*
 * The stream map: stream IDs and limits (RFC 9000 §2.1, §4.6, §19.11,
 * §19.14), connection flow control (§4.1, §19.9, §19.12), the per-frame
 * rules of §19.4, §19.5, §19.8, §19.10 and §19.13, implicit opening of
 * lower-numbered streams (§3.2), credit returned as streams finish, and the
 * work lists for the packet builder.
 *
 * Lookup is an open-addressing hash table keyed by stream ID (linear
 * probing, backward-shift deletion, load <= 1/2). IDs come from the peer,
 * but only within the limits we advertise, so the table is bounded by our
 * MAX_STREAMS plus the streams we opened.
 *
 * Two intrusive doubly linked lists thread through the streams: `send`,
 * the streams with data or a FIN to send, served round robin (a stream
 * moves to the back after each frame, so one large transfer cannot starve
 * the others), and `ctl`, the streams with a control frame pending. A stream
 * leaves a list lazily once the builder finds it has nothing left.
 */
#include "quic/streams.h"

#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS_LIMIT SKIFF_FRAME_MAX_STREAMS_LIMIT /* 2^60 (§4.6) */

/* ---- Types and IDs ---------------------------------------------------------- */

static unsigned local_type(const skiff_streams *m, bool bidi)
{
    return (bidi ? 0u : SKIFF_STREAM_ID_UNI) |
           (m->cfg.role == SKIFF_ROLE_SERVER ? SKIFF_STREAM_ID_SERVER : 0u);
}

static unsigned remote_type(const skiff_streams *m, bool bidi)
{
    return local_type(m, bidi) ^ SKIFF_STREAM_ID_SERVER;
}

static bool is_local(const skiff_streams *m, uint64_t id)
{
    return skiff_stream_id_is_local(id, m->cfg.role);
}

/* ---- Hash table ------------------------------------------------------------- */

static size_t slot_of(uint64_t id, size_t cap)
{
    return (size_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
}

skiff_stream *skiff_streams_find(const skiff_streams *m, uint64_t id)
{
    if (!m->table_cap) return NULL;
    for (size_t i = slot_of(id, m->table_cap);; i = (i + 1) & (m->table_cap - 1)) {
        skiff_stream *st = m->table[i];
        if (!st) return NULL;
        if (st->id == id) return st;
    }
}

static int table_insert(skiff_streams *m, skiff_stream *st)
{
    if ((m->count + 1) * 2 > m->table_cap) {
        size_t cap = m->table_cap ? m->table_cap * 2 : 16;
        skiff_stream **t = calloc(cap, sizeof *t);
        if (!t) return SKIFF_ERR_NOMEM;
        for (size_t i = 0; i < m->table_cap; i++) {
            if (!m->table[i]) continue;
            size_t j = slot_of(m->table[i]->id, cap);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = m->table[i];
        }
        free(m->table);
        m->table = t;
        m->table_cap = cap;
    }
    size_t i = slot_of(st->id, m->table_cap);
    while (m->table[i])
        i = (i + 1) & (m->table_cap - 1);
    m->table[i] = st;
    m->count++;
    return 0;
}

static void table_remove(skiff_streams *m, const skiff_stream *st)
{
    size_t mask = m->table_cap - 1, i = slot_of(st->id, m->table_cap);
    while (m->table[i] != st)
        i = (i + 1) & mask;
    /* Backward-shift deletion: pull later entries of the probe run into the
     * hole unless they would then sit before their home slot. */
    for (size_t j = (i + 1) & mask; m->table[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m->table[j]->id, m->table_cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->table[i] = m->table[j];
            i = j;
        }
    }
    m->table[i] = NULL;
    m->count--;
}

/* ---- Lists -------------------------------------------------------------------- */

static void send_link(skiff_streams *m, skiff_stream *st)
{
    if (st->in_send_list) return;
    st->in_send_list = true;
    st->send_next = NULL;
    st->send_prev = m->send_tail;
    if (m->send_tail)
        m->send_tail->send_next = st;
    else
        m->send_head = st;
    m->send_tail = st;
}

static void send_unlink(skiff_streams *m, skiff_stream *st)
{
    if (!st->in_send_list) return;
    st->in_send_list = false;
    if (st->send_prev)
        st->send_prev->send_next = st->send_next;
    else
        m->send_head = st->send_next;
    if (st->send_next)
        st->send_next->send_prev = st->send_prev;
    else
        m->send_tail = st->send_prev;
    st->send_prev = st->send_next = NULL;
}

static void ctl_link(skiff_streams *m, skiff_stream *st)
{
    if (st->in_ctl_list) return;
    st->in_ctl_list = true;
    st->ctl_next = NULL;
    st->ctl_prev = m->ctl_tail;
    if (m->ctl_tail)
        m->ctl_tail->ctl_next = st;
    else
        m->ctl_head = st;
    m->ctl_tail = st;
}

static void ctl_unlink(skiff_streams *m, skiff_stream *st)
{
    if (!st->in_ctl_list) return;
    st->in_ctl_list = false;
    if (st->ctl_prev)
        st->ctl_prev->ctl_next = st->ctl_next;
    else
        m->ctl_head = st->ctl_next;
    if (st->ctl_next)
        st->ctl_next->ctl_prev = st->ctl_prev;
    else
        m->ctl_tail = st->ctl_prev;
    st->ctl_prev = st->ctl_next = NULL;
}

/* Puts the stream on the lists its pending work calls for. */
static void schedule(skiff_streams *m, skiff_stream *st)
{
    if (st->has_send && skiff_stream_send_has_pending(&st->send)) send_link(m, st);
    if (skiff_stream_has_control(st)) ctl_link(m, st);
}

/* ---- Creating and freeing streams ------------------------------------------ */

static void stream_params(const skiff_streams *m, uint64_t id, skiff_stream_params *p)
{
    bool local = is_local(m, id), uni = skiff_stream_id_is_uni(id);
    memset(p, 0, sizeof *p);
    p->send_buffer = m->cfg.send_buffer;
    p->recv_max_window = m->cfg.max_stream_window;
    p->recv_max_ranges = m->cfg.recv_max_ranges;
    /* §18.2: bidi_local applies to streams opened by the endpoint that sent
     * the parameter, bidi_remote to streams opened by the other one. */
    if (uni) {
        p->send_limit = local ? m->peer.max_stream_data_uni : 0;
        p->recv_window = local ? 0 : m->cfg.stream_window_uni;
    } else if (local) {
        p->send_limit = m->peer.max_stream_data_bidi_remote;
        p->recv_window = m->cfg.stream_window_bidi_local;
    } else {
        p->send_limit = m->peer.max_stream_data_bidi_local;
        p->recv_window = m->cfg.stream_window_bidi_remote;
    }
}

static int create_stream(skiff_streams *m, uint64_t id, skiff_stream **out)
{
    skiff_stream *st = malloc(sizeof *st);
    if (!st) return SKIFF_ERR_NOMEM;
    skiff_stream_params p;
    stream_params(m, id, &p);
    skiff_stream_init(st, id, m->cfg.role, m->pool, &p);
    int rv = table_insert(m, st);
    if (rv) {
        skiff_stream_cleanup(st);
        free(st);
        return rv;
    }
    if (out) *out = st;
    return 0;
}

/* §4.6: "endpoints ... send MAX_STREAMS frames as streams are closed" -- here
 * once an eighth of the initial credit has come back: few frames, yet a
 * client keeping 100 requests in flight (HTTP/3) is never starved for long. */
static void return_stream_credit(skiff_streams *m, unsigned t)
{
    skiff_streams_type *ty = &m->types[t];
    ty->finished++;
    uint64_t want = ty->initial + ty->finished;
    if (want > MAX_STREAMS_LIMIT) want = MAX_STREAMS_LIMIT;
    uint64_t step = ty->initial / 8 ? ty->initial / 8 : 1;
    if (want >= ty->limit + step) {
        ty->limit = want;
        ty->update_pending = true;
    }
}

static void destroy_stream(skiff_streams *m, skiff_stream *st)
{
    send_unlink(m, st);
    ctl_unlink(m, st);
    table_remove(m, st);
    skiff_stream_cleanup(st);
    free(st);
}

static void maybe_free(skiff_streams *m, skiff_stream *st)
{
    if (!skiff_stream_is_finished(st)) return;
    bool remote = !is_local(m, st->id);
    unsigned t = (unsigned)(st->id & 3);
    destroy_stream(m, st);
    if (remote) return_stream_credit(m, t);
}

/* ---- Set-up ---------------------------------------------------------------------- */

int skiff_streams_init(skiff_streams *m, const skiff_streams_config *cfg)
{
    if (cfg->max_streams_bidi > MAX_STREAMS_LIMIT || cfg->max_streams_uni > MAX_STREAMS_LIMIT)
        return SKIFF_ERR_INVALID_ARGUMENT;
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    skiff_stream_pool_init(&m->own_pool, cfg->pool_max_free);
    m->pool = cfg->pool ? cfg->pool : &m->own_pool;
    for (unsigned t = 0; t < 4; t++)
        m->types[t].blocked_at = UINT64_MAX;
    skiff_streams_type *rb = &m->types[remote_type(m, true)];
    skiff_streams_type *ru = &m->types[remote_type(m, false)];
    rb->limit = rb->initial = rb->sent_limit = cfg->max_streams_bidi;
    ru->limit = ru->initial = ru->sent_limit = cfg->max_streams_uni;
    skiff_fc_send_init(&m->tx_fc, 0);
    skiff_fc_recv_init(&m->rx_fc, cfg->conn_window, cfg->max_conn_window);
    return 0;
}

void skiff_streams_free(skiff_streams *m)
{
    for (size_t i = 0; i < m->table_cap; i++) {
        if (!m->table[i]) continue;
        skiff_stream_cleanup(m->table[i]);
        free(m->table[i]);
    }
    free(m->table);
    m->table = NULL;
    m->table_cap = m->count = 0;
    m->send_head = m->send_tail = m->ctl_head = m->ctl_tail = NULL;
    skiff_stream_pool_cleanup(&m->own_pool);
}

void skiff_streams_set_peer_limits(skiff_streams *m, const skiff_streams_peer_limits *p)
{
    m->peer = *p;
    skiff_fc_send_on_max(&m->tx_fc, p->max_data);
    skiff_streams_type *lb = &m->types[local_type(m, true)];
    skiff_streams_type *lu = &m->types[local_type(m, false)];
    uint64_t b = p->max_streams_bidi < MAX_STREAMS_LIMIT ? p->max_streams_bidi : MAX_STREAMS_LIMIT;
    uint64_t u = p->max_streams_uni < MAX_STREAMS_LIMIT ? p->max_streams_uni : MAX_STREAMS_LIMIT;
    if (b > lb->limit) {
        lb->limit = b;
        lb->blocked_pending = false;
    }
    if (u > lu->limit) {
        lu->limit = u;
        lu->blocked_pending = false;
    }
    /* Streams opened before the parameters (0-RTT) get the new limits. */
    for (size_t i = 0; i < m->table_cap; i++) {
        skiff_stream *st = m->table[i];
        if (!st || !st->has_send) continue;
        skiff_stream_params sp;
        stream_params(m, st->id, &sp);
        if (skiff_fc_send_on_max(&st->tx_fc, sp.send_limit)) schedule(m, st);
    }
}

void skiff_streams_set_peer_params(skiff_streams *m, const skiff_transport_params *tp)
{
    skiff_streams_peer_limits p = {
        .max_data = tp->initial_max_data,
        .max_stream_data_bidi_local = tp->initial_max_stream_data_bidi_local,
        .max_stream_data_bidi_remote = tp->initial_max_stream_data_bidi_remote,
        .max_stream_data_uni = tp->initial_max_stream_data_uni,
        .max_streams_bidi = tp->initial_max_streams_bidi,
        .max_streams_uni = tp->initial_max_streams_uni,
    };
    skiff_streams_set_peer_limits(m, &p);
}

/* ---- Frame checks ------------------------------------------------------------- */

/*
 * The stream a frame from the peer refers to. `peer_sends` is true for frames
 * about data the peer sends (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED) and
 * false for frames about data we send (MAX_STREAM_DATA, STOP_SENDING).
 * *out is NULL (and 0 returned) for a stream that was freed.
 */
static int stream_for_frame(skiff_streams *m, uint64_t id, bool peer_sends, skiff_stream **out)
{
    *out = NULL;
    bool local = is_local(m, id), uni = skiff_stream_id_is_uni(id);
    /* §19.4, §19.8, §19.13: STREAM, RESET_STREAM, STREAM_DATA_BLOCKED for a
     * send-only stream (a local unidirectional one) -> STREAM_STATE_ERROR. */
    if (peer_sends && local && uni) return SKIFF_ERR_STREAM_STATE;
    /* §19.5, §19.10: STOP_SENDING, MAX_STREAM_DATA for a receive-only stream
     * (a remote unidirectional one) -> STREAM_STATE_ERROR. */
    if (!peer_sends && !local && uni) return SKIFF_ERR_STREAM_STATE;
    unsigned t = (unsigned)(id & 3);
    uint64_t n = id >> 2;
    if (local) {
        /* §19.5, §19.8, §19.10: a frame for a locally initiated stream that
         * has not yet been created -> STREAM_STATE_ERROR. */
        if (n >= m->types[t].opened) return SKIFF_ERR_STREAM_STATE;
        *out = skiff_streams_find(m, id);
        return 0;
    }
    /* §4.6: "An endpoint that receives a frame with a stream ID exceeding the
     * limit it has sent MUST treat this as a connection error of type
     * STREAM_LIMIT_ERROR". */
    if (n >= m->types[t].limit) return SKIFF_ERR_STREAM_LIMIT;
    /* §3.2: opening a stream opens every lower-numbered one of its type. */
    while (m->types[t].opened <= n) {
        int rv = create_stream(m, (m->types[t].opened << 2) | t, NULL);
        if (rv) return rv;
        m->types[t].opened++;
    }
    *out = skiff_streams_find(m, id);
    return 0;
}

/* Credits `n` consumed bytes to the stream and the connection windows. With
 * tune false (discarded data), no auto-tuning sample is taken. */
static void credit(skiff_streams *m, skiff_stream *st, uint64_t n, bool tune, skiff_time now,
                   skiff_time srtt)
{
    if (!n) return;
    skiff_fc_recv *sf = &st->rx_fc, *cf = &m->rx_fc;
    uint64_t window = sf->window;
    skiff_fc_recv_on_consumed(sf, n, tune ? now : sf->last_update, tune ? srtt : 0);
    /* When a stream's window grows, keep the connection window 1.5x ahead of
     * it so that the connection limit does not undo the stream's tuning. (A
     * configured connection window smaller than the stream windows is left
     * alone: it is how a user bounds a connection's memory.) */
    if (sf->window > window) skiff_fc_recv_ensure_window(cf, sf->window + sf->window / 2);
    skiff_fc_recv_on_consumed(cf, n, tune ? now : cf->last_update, tune ? srtt : 0);
    schedule(m, st);
}

/* ---- Frames from the peer ------------------------------------------------------- */

int skiff_streams_on_stream(skiff_streams *m, const skiff_frame_stream *f)
{
    skiff_stream *st;
    int rv = stream_for_frame(m, f->stream_id, true, &st);
    if (rv || !st) return rv;
    uint64_t before = st->recv.read_off, fresh;
    rv = skiff_stream_recv_on_data(&st->recv, f->offset, f->data, f->len, f->fin, st->rx_fc.limit,
                                   &fresh);
    if (rv) return rv;
    skiff_fc_recv_on_offset(&st->rx_fc, st->recv.highest); /* within the limit: checked */
    rv = skiff_fc_recv_on_bytes(&m->rx_fc, fresh);
    if (rv) return rv;
    credit(m, st, st->recv.read_off - before, false, 0, 0); /* discarded after STOP_SENDING */
    maybe_free(m, st);
    return 0;
}

int skiff_streams_on_reset_stream(skiff_streams *m, const skiff_frame_reset_stream *f)
{
    skiff_stream *st;
    int rv = stream_for_frame(m, f->stream_id, true, &st);
    if (rv || !st) return rv;
    uint64_t before = st->recv.read_off, fresh;
    rv = skiff_stream_recv_on_reset(&st->recv, f->final_size, f->app_error_code, st->rx_fc.limit,
                                    &fresh);
    if (rv) return rv;
    skiff_fc_recv_on_offset(&st->rx_fc, st->recv.highest);
    rv = skiff_fc_recv_on_bytes(&m->rx_fc, fresh);
    if (rv) return rv;
    /* The abandoned bytes will never be read: their connection credit goes
     * back to the peer (§4.5: both endpoints count the final size). */
    credit(m, st, st->recv.read_off - before, false, 0, 0);
    maybe_free(m, st);
    return 0;
}

int skiff_streams_on_stop_sending(skiff_streams *m, const skiff_frame_stop_sending *f)
{
    skiff_stream *st;
    int rv = stream_for_frame(m, f->stream_id, false, &st);
    if (rv || !st) return rv;
    if (!st->peer_stopped) {
        st->peer_stopped = true;
        st->peer_stop_code = f->app_error_code;
    }
    /* §3.5: "An endpoint that receives a STOP_SENDING frame MUST send a
     * RESET_STREAM frame if the stream is in the 'Ready' or 'Send' state";
     * in Data Sent it MAY, and skiff does, copying the code as it SHOULD. */
    skiff_stream_send_reset(&st->send, f->app_error_code);
    send_unlink(m, st);
    schedule(m, st);
    return 0;
}

int skiff_streams_on_max_data(skiff_streams *m, const skiff_frame_max_data *f)
{
    skiff_fc_send_on_max(&m->tx_fc, f->max);
    return 0;
}

int skiff_streams_on_max_stream_data(skiff_streams *m, const skiff_frame_max_stream_data *f)
{
    skiff_stream *st;
    int rv = stream_for_frame(m, f->stream_id, false, &st);
    if (rv || !st) return rv;
    if (skiff_fc_send_on_max(&st->tx_fc, f->max)) schedule(m, st);
    return 0;
}

int skiff_streams_on_max_streams(skiff_streams *m, const skiff_frame_max_streams *f)
{
    skiff_streams_type *ty = &m->types[local_type(m, f->bidi)];
    /* §19.11: "MAX_STREAMS frames that do not increase the stream limit MUST
     * be ignored." (The decoder refused values over 2^60.) */
    if (f->max > ty->limit) {
        ty->limit = f->max;
        ty->blocked_pending = false;
    }
    return 0;
}

int skiff_streams_on_stream_data_blocked(skiff_streams *m, const skiff_frame_stream_data_blocked *f)
{
    skiff_stream *st;
    return stream_for_frame(m, f->stream_id, true, &st); /* opens it; otherwise advisory */
}

/* ---- The application ---------------------------------------------------------- */

int skiff_streams_open(skiff_streams *m, bool bidi, uint64_t *id)
{
    unsigned t = local_type(m, bidi);
    skiff_streams_type *ty = &m->types[t];
    if (ty->opened >= ty->limit) {
        /* §4.6: "an endpoint SHOULD send a STREAMS_BLOCKED frame", once per limit. */
        if (ty->blocked_at != ty->limit) {
            ty->blocked_at = ty->limit;
            ty->blocked_pending = true;
        }
        return SKIFF_ERR_STREAM_LIMIT;
    }
    uint64_t sid = (ty->opened << 2) | t;
    int rv = create_stream(m, sid, NULL);
    if (rv) return rv;
    ty->opened++;
    *id = sid;
    return 0;
}

bool skiff_streams_accept(skiff_streams *m, bool bidi, uint64_t *id)
{
    unsigned t = remote_type(m, bidi);
    skiff_streams_type *ty = &m->types[t];
    while (ty->accepted < ty->opened) {
        uint64_t sid = (ty->accepted++ << 2) | t;
        if (skiff_streams_find(m, sid)) {
            *id = sid;
            return true;
        }
    }
    return false;
}

skiff_ssize skiff_streams_write(skiff_streams *m, uint64_t id, const uint8_t *data, size_t len,
                                bool fin)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->has_send) return SKIFF_ERR_STREAM_STATE;
    skiff_ssize n = skiff_stream_send_write(&st->send, data, len, fin);
    if (n >= 0) schedule(m, st);
    return n;
}

skiff_ssize skiff_streams_read(skiff_streams *m, uint64_t id, uint8_t *dst, size_t cap, bool *fin,
                               skiff_time now, skiff_time srtt)
{
    skiff_stream *st = skiff_streams_find(m, id);
    *fin = false;
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->has_recv) return SKIFF_ERR_STREAM_STATE;
    uint64_t before = st->recv.read_off;
    skiff_ssize n = skiff_stream_recv_read(&st->recv, dst, cap, fin);
    if (n < 0) return n;
    credit(m, st, st->recv.read_off - before, true, now, srtt);
    maybe_free(m, st);
    return n;
}

bool skiff_streams_take_reset(skiff_streams *m, uint64_t id, uint64_t *code)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st || !st->has_recv || !skiff_stream_recv_take_reset(&st->recv, code)) return false;
    maybe_free(m, st);
    return true;
}

int skiff_streams_reset(skiff_streams *m, uint64_t id, uint64_t code)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->has_send) return SKIFF_ERR_STREAM_STATE;
    skiff_stream_send_reset(&st->send, code);
    send_unlink(m, st);
    schedule(m, st);
    return 0;
}

int skiff_streams_stop_sending(skiff_streams *m, uint64_t id, uint64_t code)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->has_recv) return SKIFF_ERR_STREAM_STATE;
    uint64_t before = st->recv.read_off;
    skiff_stream_stop_sending(st, code);
    credit(m, st, st->recv.read_off - before, false, 0, 0);
    schedule(m, st);
    maybe_free(m, st);
    return 0;
}

/* ---- The packet builder -------------------------------------------------------- */

bool skiff_streams_next_stream_frame(skiff_streams *m, uint64_t max_len, skiff_stream **out,
                                     uint64_t *offset, size_t *len, bool *fin)
{
    skiff_stream *st = m->send_head;
    while (st) {
        skiff_stream *next = st->send_next;
        if (!skiff_stream_send_has_pending(&st->send)) {
            send_unlink(m, st);
            st = next;
            continue;
        }
        /* New bytes need both stream and connection credit (§4.1). */
        uint64_t conn_credit = skiff_fc_send_credit(&m->tx_fc);
        uint64_t limit = st->send.max_sent + conn_credit;
        if (limit > st->tx_fc.limit || limit < conn_credit) limit = st->tx_fc.limit;
        if (skiff_stream_send_next(&st->send, max_len, limit, offset, len, fin)) {
            *out = st;
            return true;
        }
        if (skiff_stream_send_flow_blocked(&st->send, limit)) {
            if (st->send.max_sent >= st->tx_fc.limit) {
                skiff_fc_send_note_blocked(&st->tx_fc);
                schedule(m, st);
            }
            if (conn_credit == 0) skiff_fc_send_note_blocked(&m->tx_fc);
        }
        st = next;
    }
    return false;
}

void skiff_streams_on_stream_sent(skiff_streams *m, skiff_stream *st, uint64_t offset, size_t len,
                                  bool fin)
{
    uint64_t fresh = skiff_stream_send_on_sent(&st->send, offset, len, fin);
    skiff_fc_send_on_sent(&st->tx_fc, fresh);
    skiff_fc_send_on_sent(&m->tx_fc, fresh);
    send_unlink(m, st); /* to the back of the round robin */
    if (skiff_stream_send_has_pending(&st->send)) send_link(m, st);
}

void skiff_streams_on_stream_acked(skiff_streams *m, uint64_t id, uint64_t offset, size_t len,
                                   bool fin)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st || !st->has_send) return;
    skiff_stream_send_on_acked(&st->send, offset, len, fin);
    maybe_free(m, st);
}

void skiff_streams_on_stream_lost(skiff_streams *m, uint64_t id, uint64_t offset, size_t len,
                                  bool fin)
{
    skiff_stream *st = skiff_streams_find(m, id);
    if (!st || !st->has_send) return;
    skiff_stream_send_on_lost(&st->send, offset, len, fin);
    schedule(m, st);
}

bool skiff_streams_next_control(skiff_streams *m, skiff_frame *f)
{
    uint64_t v;
    memset(f, 0, sizeof *f);
    if (skiff_fc_recv_update_frame(&m->rx_fc, &v)) {
        f->type = SKIFF_FRAME_MAX_DATA;
        f->max_data.max = v;
        return true;
    }
    if (skiff_fc_send_blocked_frame(&m->tx_fc, &v)) {
        f->type = SKIFF_FRAME_DATA_BLOCKED;
        f->data_blocked.limit = v;
        return true;
    }
    for (int bidi = 1; bidi >= 0; bidi--) {
        const skiff_streams_type *ty = &m->types[remote_type(m, bidi)];
        if (ty->update_pending) {
            f->type = bidi ? SKIFF_FRAME_MAX_STREAMS_BIDI : SKIFF_FRAME_MAX_STREAMS_UNI;
            f->max_streams = (skiff_frame_max_streams){ty->limit, bidi};
            return true;
        }
        ty = &m->types[local_type(m, bidi)];
        if (ty->blocked_pending) {
            f->type = bidi ? SKIFF_FRAME_STREAMS_BLOCKED_BIDI : SKIFF_FRAME_STREAMS_BLOCKED_UNI;
            f->streams_blocked = (skiff_frame_streams_blocked){ty->limit, bidi};
            return true;
        }
    }
    while (m->ctl_head) {
        if (skiff_stream_control_frame(m->ctl_head, f)) return true;
        ctl_unlink(m, m->ctl_head);
    }
    return false;
}

static uint64_t stream_frame_id(const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_RESET_STREAM:
        return f->reset_stream.stream_id;
    case SKIFF_FRAME_STOP_SENDING:
        return f->stop_sending.stream_id;
    case SKIFF_FRAME_MAX_STREAM_DATA:
        return f->max_stream_data.stream_id;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        return f->stream_data_blocked.stream_id;
    default:
        return UINT64_MAX;
    }
}

void skiff_streams_on_control_sent(skiff_streams *m, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_MAX_DATA:
        skiff_fc_recv_on_update_sent(&m->rx_fc, f->max_data.max);
        return;
    case SKIFF_FRAME_DATA_BLOCKED:
        skiff_fc_send_on_blocked_sent(&m->tx_fc);
        return;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI: {
        skiff_streams_type *ty = &m->types[remote_type(m, f->max_streams.bidi)];
        if (f->max_streams.max > ty->sent_limit) ty->sent_limit = f->max_streams.max;
        if (f->max_streams.max == ty->limit) ty->update_pending = false;
        return;
    }
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI:
        m->types[local_type(m, f->streams_blocked.bidi)].blocked_pending = false;
        return;
    default:
        break;
    }
    skiff_stream *st = skiff_streams_find(m, stream_frame_id(f));
    if (!st) return;
    skiff_stream_on_control_sent(st, f);
    if (!skiff_stream_has_control(st)) ctl_unlink(m, st);
}

void skiff_streams_on_control_acked(skiff_streams *m, const skiff_frame *f)
{
    skiff_stream *st = skiff_streams_find(m, stream_frame_id(f));
    if (!st) return;
    skiff_stream_on_control_acked(st, f);
    maybe_free(m, st);
}

void skiff_streams_on_control_lost(skiff_streams *m, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_MAX_DATA:
        skiff_fc_recv_on_update_lost(&m->rx_fc, f->max_data.max);
        return;
    case SKIFF_FRAME_DATA_BLOCKED:
        skiff_fc_send_on_blocked_lost(&m->tx_fc, f->data_blocked.limit);
        return;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI: {
        /* §13.3: resend the current limit if the lost one was the latest. */
        skiff_streams_type *ty = &m->types[remote_type(m, f->max_streams.bidi)];
        if (f->max_streams.max >= ty->sent_limit) ty->update_pending = true;
        return;
    }
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI: {
        skiff_streams_type *ty = &m->types[local_type(m, f->streams_blocked.bidi)];
        if (f->streams_blocked.limit == ty->limit && ty->opened >= ty->limit)
            ty->blocked_pending = true;
        return;
    }
    default:
        break;
    }
    skiff_stream *st = skiff_streams_find(m, stream_frame_id(f));
    if (!st) return;
    skiff_stream_on_control_lost(st, f);
    schedule(m, st);
}
