/*
 * The HTTP/3 connection (RFC 9114): setup, the unidirectional streams
 * (control §6.2.1, QPACK encoder and decoder RFC 9204 §4.2, push §4.6,
 * reserved types §6.2.3), SETTINGS (§7.2.4), GOAWAY and graceful shutdown
 * (§5.2), connection errors (§8), and the per-stream output queue. Request
 * streams are h3_request.c's.
 *
 * Everything received goes through the stream's frame reader (h3_frame.c);
 * everything sent is framed here and queued on the stream until the
 * transport takes it whole.
 */
#include <stdlib.h>
#include <string.h>

#include "common/varint.h"
#include "h3/h3_conn_internal.h"

/* A control frame (SETTINGS, GOAWAY, ...) is small: anything longer is
 * H3_EXCESSIVE_LOAD. A header section is bounded by the field section limit
 * plus QPACK's overhead. */
#define CONTROL_FRAME_MAX 16384
#define UNI_OUT_MAX (1u << 20) /* our QPACK instruction backlog on a slow stream */

void skiff_h3_config_default(skiff_h3_config *cfg, bool is_server)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->is_server = is_server;
    cfg->qpack_max_table_capacity = 4096;
    cfg->qpack_blocked_streams = 16;
    cfg->max_field_section_size = 65536;
    cfg->encoder_table_capacity = 4096;
    cfg->grease_seed = 0x5eed;
}

/* ---- streams and their output ---- */

h3_stream *h3_stream_get(skiff_h3_conn *h, uint64_t id, h3_stream_kind kind)
{
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    if (st) return st;
    st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->id = id;
    st->kind = kind;
    if (h3_stream_map_insert(&h->streams, st)) {
        free(st);
        return NULL;
    }
    return st;
}

void h3_stream_release(skiff_h3_conn *h, h3_stream *st)
{
    h3_stream_map_remove(&h->streams, st->id);
    if (st->reader_ready) skiff_h3_frame_reader_free(&st->reader);
    free(st->held);
    free(st->out);
    free(st);
}

void h3_stream_flush(skiff_h3_conn *h, h3_stream *st)
{
    if (h->closed) return;
    size_t off = 0;
    while (off < st->out_len) {
        skiff_ssize n = h->t.write(h->t.ctx, st->id, st->out + off, st->out_len - off,
                                   st->out_fin);
        if (n <= 0) break;
        off += (size_t)n;
    }
    if (off == st->out_len && st->out_len == 0 && st->out_fin) {
        /* Only the end of the stream was queued. */
        if (h->t.write(h->t.ctx, st->id, NULL, 0, true) == 0) st->out_fin = false;
        return;
    }
    if (off == st->out_len) st->out_fin = false; /* the write above carried the FIN */
    if (off && off < st->out_len) memmove(st->out, st->out + off, st->out_len - off);
    st->out_len -= off;
}

int h3_stream_queue(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len, bool fin)
{
    size_t need = st->out_len + len;
    if (need > st->out_cap) {
        size_t cap = st->out_cap ? st->out_cap : 256;
        while (cap < need) cap *= 2;
        uint8_t *out = realloc(st->out, cap);
        if (!out) return SKIFF_ERR_NOMEM;
        st->out = out;
        st->out_cap = cap;
    }
    if (len) memcpy(st->out + st->out_len, p, len);
    st->out_len += len;
    if (fin) st->out_fin = true;
    h3_stream_flush(h, st);
    return 0;
}

/* Moves QPACK's instructions to our encoder and decoder streams. */
void h3_flush_qpack(skiff_h3_conn *h)
{
    uint8_t buf[4096];
    size_t n;
    h3_stream *enc = h3_stream_map_find(&h->streams, h->encoder_out);
    h3_stream *dec = h3_stream_map_find(&h->streams, h->decoder_out);
    while (enc && (n = skiff_qpack_encoder_take_instructions(h->encoder, buf, sizeof buf)) > 0) {
        if (enc->out_len + n > UNI_OUT_MAX) {
            h3_conn_error(h, SKIFF_H3_EXCESSIVE_LOAD, "QPACK encoder stream backlog");
            return;
        }
        if (h3_stream_queue(h, enc, buf, n, false)) return;
    }
    while (dec && (n = skiff_qpack_decoder_take_instructions(h->decoder, buf, sizeof buf)) > 0) {
        if (dec->out_len + n > UNI_OUT_MAX) {
            h3_conn_error(h, SKIFF_H3_EXCESSIVE_LOAD, "QPACK decoder stream backlog");
            return;
        }
        if (h3_stream_queue(h, dec, buf, n, false)) return;
    }
}

/* ---- decoded header sections ---- */

int h3_section_add(void *ud, const skiff_h3_field *f)
{
    h3_section *s = ud;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        skiff_h3_field *fields = realloc(s->fields, cap * sizeof *fields);
        if (!fields) return SKIFF_ERR_NOMEM;
        s->fields = fields;
        s->cap = cap;
    }
    size_t need = s->used + f->name_len + f->value_len;
    if (!s->bytes || need > s->bytes_cap) { /* allocated even for empty fields: fields point into it */
        size_t cap = s->bytes_cap ? s->bytes_cap : 1024;
        while (cap < need) cap *= 2;
        uint8_t *bytes = realloc(s->bytes, cap);
        if (!bytes) return SKIFF_ERR_NOMEM;
        /* Fields point into the bytes by offset until the section is whole. */
        s->bytes = bytes;
        s->bytes_cap = cap;
    }
    skiff_h3_field *dst = &s->fields[s->count++];
    if (f->name_len) memcpy(s->bytes + s->used, f->name, f->name_len);
    dst->name = (const uint8_t *)(uintptr_t)s->used;
    dst->name_len = f->name_len;
    s->used += f->name_len;
    if (f->value_len) memcpy(s->bytes + s->used, f->value, f->value_len);
    dst->value = (const uint8_t *)(uintptr_t)s->used;
    dst->value_len = f->value_len;
    s->used += f->value_len;
    return 0;
}

void h3_section_reset(h3_section *s)
{
    s->count = 0;
    s->used = 0;
}

/* ---- errors and shutdown ---- */

void h3_conn_error(skiff_h3_conn *h, uint64_t code, const char *reason)
{
    if (h->closed) return;
    h->closed = true;
    h->t.close(h->t.ctx, code, reason);
    if (h->cb.closing) h->cb.closing(h, code, reason, h->ud);
}

/* §5.2: after GOAWAY, the end comes once no exchange is left. A client
 * closes then: every response it waited for has arrived. A server must not:
 * closing at once could discard response bytes still unacknowledged, so its
 * I/O layer closes when skiff_h3_is_drained() and nothing is in flight (or
 * the client closes first). */
void h3_maybe_drained(skiff_h3_conn *h)
{
    if (h->closed || !h->goaway_sent || h->active_requests || h->cfg.is_server) return;
    h3_conn_error(h, SKIFF_H3_NO_ERROR, "");
}

bool skiff_h3_is_drained(const skiff_h3_conn *h)
{
    return h->goaway_sent && h->active_requests == 0;
}

/* ---- setup ---- */

static int open_uni(skiff_h3_conn *h, uint64_t type, uint64_t *id)
{
    int rv = h->t.open_stream(h->t.ctx, false, id);
    if (rv) return rv;
    h3_stream *st = h3_stream_get(h, *id, H3_KIND_LOCAL_UNI);
    if (!st) return SKIFF_ERR_NOMEM;
    uint8_t hdr[8];
    return h3_stream_queue(h, st, hdr, (size_t)(skiff_varint_encode(hdr, type) - hdr), false);
}

/* A reserved frame on the control stream and a reserved stream type, so a
 * peer that mishandles them is found early (§7.2.8, §6.2.3, §9). */
static void send_grease(skiff_h3_conn *h, h3_stream *control)
{
    uint8_t buf[32];
    uint64_t n = h->cfg.grease_seed;
    skiff_ssize len = skiff_h3_frame_header_encode(buf, sizeof buf, skiff_h3_grease_value(n + 1), 3);
    if (len > 0) {
        memcpy(buf + len, "skf", 3);
        h3_stream_queue(h, control, buf, (size_t)len + 3, false);
    }
    uint64_t id;
    if (open_uni(h, skiff_h3_grease_value(n + 2), &id) == 0) {
        h3_stream *st = h3_stream_map_find(&h->streams, id);
        if (st) h3_stream_queue(h, st, (const uint8_t *)"grease", 6, true);
    }
}

int skiff_h3_conn_new(skiff_h3_conn **out, const skiff_h3_config *cfg,
                      const skiff_h3_callbacks *cb, void *ud, const skiff_h3_transport *t)
{
    skiff_h3_conn *h = calloc(1, sizeof *h);
    if (!h) return SKIFF_ERR_NOMEM;
    h->cfg = *cfg;
    if (cb) h->cb = *cb;
    h->ud = ud;
    h->t = *t;
    skiff_h3_settings_default(&h->peer);
    h->rbuf = malloc(H3_READ_CHUNK);
    int rv = h->rbuf ? 0 : SKIFF_ERR_NOMEM;
    if (!rv) rv = skiff_qpack_encoder_new(&h->encoder, cfg->encoder_table_capacity);
    if (!rv)
        rv = skiff_qpack_decoder_new(&h->decoder, cfg->qpack_max_table_capacity,
                                     cfg->qpack_blocked_streams, cfg->max_field_section_size);
    if (rv) {
        skiff_h3_conn_free(h);
        return rv;
    }
    /* §6.2.1: the control stream opens with SETTINGS. */
    rv = open_uni(h, SKIFF_H3_STREAM_CONTROL, &h->control_out);
    h3_stream *control = rv ? NULL : h3_stream_map_find(&h->streams, h->control_out);
    if (control) {
        skiff_h3_settings s;
        skiff_h3_settings_default(&s);
        s.qpack_max_table_capacity = cfg->qpack_max_table_capacity;
        s.qpack_blocked_streams = cfg->qpack_blocked_streams;
        s.max_field_section_size = cfg->max_field_section_size;
        s.enable_connect_protocol = cfg->enable_connect_protocol;
        s.h3_datagram = cfg->h3_datagram;
        uint8_t buf[128];
        uint64_t gid = cfg->no_grease ? 0 : skiff_h3_grease_value(cfg->grease_seed);
        skiff_ssize n = skiff_h3_settings_encode(buf, sizeof buf, &s, gid, cfg->grease_seed & 0xffff);
        rv = n < 0 ? (int)n : h3_stream_queue(h, control, buf, (size_t)n, false);
    }
    if (!rv) rv = open_uni(h, SKIFF_H3_STREAM_QPACK_ENCODER, &h->encoder_out);
    if (!rv) rv = open_uni(h, SKIFF_H3_STREAM_QPACK_DECODER, &h->decoder_out);
    if (rv) {
        /* RFC 9114 §6.2: the peer must allow our three streams. */
        skiff_h3_conn_free(h);
        return rv;
    }
    if (!cfg->no_grease) send_grease(h, control);
    *out = h;
    return 0;
}

void skiff_h3_conn_free(skiff_h3_conn *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->streams.cap; i++) {
        h3_stream *st = h->streams.slots[i];
        if (!st) continue;
        if (st->reader_ready) skiff_h3_frame_reader_free(&st->reader);
        free(st->held);
        free(st->out);
        free(st);
    }
    h3_stream_map_free(&h->streams);
    skiff_qpack_encoder_free(h->encoder);
    skiff_qpack_decoder_free(h->decoder);
    free(h->rbuf);
    free(h->section.fields);
    free(h->section.bytes);
    free(h);
}

void *skiff_h3_conn_user_data(const skiff_h3_conn *h) { return h->ud; }
bool skiff_h3_is_closed(const skiff_h3_conn *h) { return h->closed; }
size_t skiff_h3_active_requests(const skiff_h3_conn *h) { return h->active_requests; }

const skiff_h3_settings *skiff_h3_peer_settings(const skiff_h3_conn *h)
{
    return h->peer_settings_received ? &h->peer : NULL;
}

int skiff_h3_set_stream_data(skiff_h3_conn *h, uint64_t stream_id, void *data)
{
    h3_stream *st = h3_stream_map_find(&h->streams, stream_id);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    st->app_data = data;
    return 0;
}

void *skiff_h3_stream_data(const skiff_h3_conn *h, uint64_t stream_id)
{
    h3_stream *st = h3_stream_map_find(&h->streams, stream_id);
    return st ? st->app_data : NULL;
}

/* ---- the peer's control stream ---- */

static void on_settings(skiff_h3_conn *h, const uint8_t *p, size_t len)
{
    skiff_h3_settings s;
    uint64_t err = skiff_h3_settings_decode(p, len, &s);
    if (err) {
        h3_conn_error(h, err, "bad SETTINGS");
        return;
    }
    h->peer = s;
    h->peer_settings_received = true;
    skiff_qpack_encoder_set_peer_settings(h->encoder, s.qpack_max_table_capacity,
                                          s.qpack_blocked_streams);
    h3_flush_qpack(h);
    if (h->cb.peer_settings) h->cb.peer_settings(h, &s, h->ud);
}

/* §5.2, §7.2.6: a server's GOAWAY names a client-initiated bidirectional
 * stream; the IDs never grow. Requests at or above it were not processed. */
static void on_goaway(skiff_h3_conn *h, uint64_t id)
{
    if (!h->cfg.is_server && (id & 3) != 0) {
        h3_conn_error(h, SKIFF_H3_ID_ERROR, "GOAWAY names no request stream");
        return;
    }
    if (h->goaway_received && id > h->goaway_received_id) {
        h3_conn_error(h, SKIFF_H3_ID_ERROR, "GOAWAY ID increased");
        return;
    }
    h->goaway_received = true;
    h->goaway_received_id = id;
    if (!h->cfg.is_server) {
        /* Abort (as rejected, so safe to retry) what the server will not process. */
        size_t n = 0;
        uint64_t *ids = malloc((h->streams.count + 1) * sizeof *ids);
        if (!ids) {
            h3_conn_error(h, SKIFF_H3_INTERNAL_ERROR, "out of memory");
            return;
        }
        for (size_t i = 0; i < h->streams.cap; i++) {
            h3_stream *st = h->streams.slots[i];
            if (st && st->kind == H3_KIND_REQUEST && st->id >= id && !st->aborted) ids[n++] = st->id;
        }
        for (size_t i = 0; i < n && !h->closed; i++) {
            h3_stream *st = h3_stream_map_find(&h->streams, ids[i]);
            if (!st) continue;
            /* On the wire the client cancels; the application hears "rejected". */
            if (!st->send_done) h->t.reset(h->t.ctx, st->id, SKIFF_H3_REQUEST_CANCELLED);
            if (st->recv != H3_RECV_DONE) h->t.stop_sending(h->t.ctx, st->id, SKIFF_H3_REQUEST_CANCELLED);
            st->send_done = true;
            st->recv = H3_RECV_DONE;
            h3_request_abort(h, st, SKIFF_H3_REQUEST_REJECTED, true);
            h3_request_maybe_release(h, st);
        }
        free(ids);
    }
    if (h->cb.goaway && !h->closed) h->cb.goaway(h, id, h->ud);
    /* A client told to go away answers with its own GOAWAY and closes once
     * its last response is in (h3_maybe_drained). */
    if (!h->cfg.is_server && !h->closed && !h->goaway_sent) skiff_h3_shutdown(h);
}

static void on_control_frame(skiff_h3_conn *h, const skiff_h3_frame_event *ev)
{
    uint64_t v;
    uint64_t err;
    switch (ev->type) {
    case SKIFF_H3_FRAME_SETTINGS: on_settings(h, ev->payload, ev->len); break;
    case SKIFF_H3_FRAME_GOAWAY:
        if ((err = skiff_h3_frame_varint_decode(ev->payload, ev->len, &v))) h3_conn_error(h, err, "bad GOAWAY");
        else on_goaway(h, v);
        break;
    case SKIFF_H3_FRAME_MAX_PUSH_ID:
        /* §7.2.7: only a client sends it; the value never falls. */
        if (!h->cfg.is_server) {
            h3_conn_error(h, SKIFF_H3_FRAME_UNEXPECTED, "MAX_PUSH_ID from a server");
        } else if ((err = skiff_h3_frame_varint_decode(ev->payload, ev->len, &v))) {
            h3_conn_error(h, err, "bad MAX_PUSH_ID");
        } else if (h->max_push_id_received && v < h->max_push_id) {
            h3_conn_error(h, SKIFF_H3_ID_ERROR, "MAX_PUSH_ID decreased");
        } else {
            h->max_push_id_received = true;
            h->max_push_id = v;
        }
        break;
    case SKIFF_H3_FRAME_CANCEL_PUSH:
        /* §7.2.3: we never promise a push nor allow one, so every push ID
         * it can name is one we never mentioned or allowed. */
        if ((err = skiff_h3_frame_varint_decode(ev->payload, ev->len, &v))) h3_conn_error(h, err, "bad CANCEL_PUSH");
        else h3_conn_error(h, SKIFF_H3_ID_ERROR, "CANCEL_PUSH of a push never promised");
        break;
    default: break;
    }
}

/* Runs the control stream's frames: SETTINGS first and once (§6.2.1,
 * §7.2.4), no DATA, HEADERS or PUSH_PROMISE (§7.2), no HTTP/2 types (§7.2.8). */
static void control_input(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len)
{
    while (len && !h->closed) {
        skiff_h3_frame_event ev;
        size_t used = skiff_h3_frame_reader_feed(&st->reader, p, len, &ev);
        p += used, len -= used;
        if (ev.kind == SKIFF_H3_EVENT_ERROR) {
            h3_conn_error(h, ev.error, "control stream frame");
            return;
        }
        if (ev.kind != SKIFF_H3_EVENT_START && ev.kind != SKIFF_H3_EVENT_FRAME) continue;
        if (ev.kind == SKIFF_H3_EVENT_START) {
            if (!h->peer_settings_received && ev.type != SKIFF_H3_FRAME_SETTINGS) {
                h3_conn_error(h, SKIFF_H3_MISSING_SETTINGS, "first control frame is not SETTINGS");
                return;
            }
            bool unexpected = ev.type == SKIFF_H3_FRAME_DATA || ev.type == SKIFF_H3_FRAME_HEADERS ||
                              ev.type == SKIFF_H3_FRAME_PUSH_PROMISE ||
                              skiff_h3_frame_is_http2_only(ev.type) ||
                              (ev.type == SKIFF_H3_FRAME_SETTINGS && h->peer_settings_received);
            if (unexpected) {
                h3_conn_error(h, SKIFF_H3_FRAME_UNEXPECTED, "frame not allowed on the control stream");
                return;
            }
            continue;
        }
        on_control_frame(h, &ev);
    }
}

/* ---- the peer's unidirectional streams ---- */

static void encoder_input(skiff_h3_conn *h, const uint8_t *p, size_t len)
{
    uint64_t wire = 0;
    if (skiff_qpack_decoder_feed_encoder_stream(h->decoder, p, len, &wire)) {
        h3_conn_error(h, wire ? wire : SKIFF_QPACK_ENCODER_STREAM_ERROR, "QPACK encoder stream");
        return;
    }
    uint64_t id;
    while (!h->closed && skiff_qpack_decoder_pop_unblocked(h->decoder, &id)) {
        h3_stream *st = h3_stream_map_find(&h->streams, id);
        if (st && st->kind == H3_KIND_REQUEST) h3_request_resume(h, st);
    }
    h3_flush_qpack(h);
}

static void decoder_input(skiff_h3_conn *h, const uint8_t *p, size_t len)
{
    uint64_t wire = 0;
    if (skiff_qpack_encoder_feed_decoder_stream(h->encoder, p, len, &wire))
        h3_conn_error(h, wire ? wire : SKIFF_QPACK_DECODER_STREAM_ERROR, "QPACK decoder stream");
}

/* §6.2: the first varint says what the stream is. Returns false when the
 * stream's bytes are to go no further. */
static bool classify_uni(skiff_h3_conn *h, h3_stream *st, uint64_t type)
{
    bool *have = NULL;
    switch (type) {
    case SKIFF_H3_STREAM_CONTROL: st->kind = H3_KIND_CONTROL_IN, have = &h->have_control_in; break;
    case SKIFF_H3_STREAM_QPACK_ENCODER: st->kind = H3_KIND_ENCODER_IN, have = &h->have_encoder_in; break;
    case SKIFF_H3_STREAM_QPACK_DECODER: st->kind = H3_KIND_DECODER_IN, have = &h->have_decoder_in; break;
    case SKIFF_H3_STREAM_PUSH:
        /* §6.2.2: only servers push, and only after MAX_PUSH_ID, which we never send. */
        h3_conn_error(h, h->cfg.is_server ? SKIFF_H3_STREAM_CREATION_ERROR : SKIFF_H3_ID_ERROR,
                      "push stream without MAX_PUSH_ID");
        return false;
    default:
        /* §6.2, §9: unknown and reserved types are read no further. */
        st->kind = H3_KIND_IGNORED_IN;
        h->t.stop_sending(h->t.ctx, st->id, SKIFF_H3_STREAM_CREATION_ERROR);
        return false;
    }
    if (*have) {
        h3_conn_error(h, SKIFF_H3_STREAM_CREATION_ERROR, "a second control or QPACK stream");
        return false;
    }
    *have = true;
    if (st->kind == H3_KIND_CONTROL_IN) {
        skiff_h3_frame_reader_init(&st->reader, CONTROL_FRAME_MAX);
        st->reader_ready = true;
    }
    return true;
}

static void uni_input(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len)
{
    if (st->kind == H3_KIND_UNI_PENDING) {
        while (len && st->uni_type_len < sizeof st->uni_type) {
            st->uni_type[st->uni_type_len++] = *p++;
            len--;
            if (st->uni_type_len == skiff_varint_len_from_first(st->uni_type[0])) break;
        }
        if (st->uni_type_len < skiff_varint_len_from_first(st->uni_type[0])) return;
        uint64_t type;
        skiff_varint_decode(st->uni_type, st->uni_type_len, &type);
        if (!classify_uni(h, st, type)) return;
    }
    if (!len) return;
    switch (st->kind) {
    case H3_KIND_CONTROL_IN: control_input(h, st, p, len); break;
    case H3_KIND_ENCODER_IN: encoder_input(h, p, len); break;
    case H3_KIND_DECODER_IN: decoder_input(h, p, len); break;
    default: break;
    }
}

static bool is_critical(const h3_stream *st)
{
    return st->kind == H3_KIND_CONTROL_IN || st->kind == H3_KIND_ENCODER_IN ||
           st->kind == H3_KIND_DECODER_IN;
}

static void read_uni(skiff_h3_conn *h, h3_stream *st)
{
    for (int guard = 0; guard < H3_READS_MAX && !h->closed; guard++) {
        bool fin = false;
        skiff_ssize n = h->t.read(h->t.ctx, st->id, h->rbuf, H3_READ_CHUNK, &fin);
        if (n < 0) return;
        if (n > 0 && st->kind != H3_KIND_IGNORED_IN) uni_input(h, st, h->rbuf, (size_t)n);
        if (h->closed) return;
        if (fin) {
            /* §6.2.1, RFC 9204 §4.2: closing a critical stream ends the connection. */
            if (is_critical(st)) {
                h3_conn_error(h, SKIFF_H3_CLOSED_CRITICAL_STREAM, "critical stream closed");
                return;
            }
            h3_stream_release(h, st);
            return;
        }
        if (n == 0) return;
    }
}

/* ---- transport events ---- */

/* The peer opened a stream: its state starts here, so that bytes arriving
 * later for a stream whose exchange is over (a retransmission, say) are
 * never taken for a new one. */
void skiff_h3_conn_on_opened(skiff_h3_conn *h, uint64_t id)
{
    if (h->closed) return;
    bool ours = h3_id_is_client(id) != h->cfg.is_server;
    if (ours || h3_stream_map_find(&h->streams, id)) return;
    if (h3_id_is_bidi(id)) {
        /* §6.1: requests go on client-initiated bidirectional streams only. */
        if (!h3_id_is_client(id)) {
            h3_conn_error(h, SKIFF_H3_STREAM_CREATION_ERROR, "server-initiated bidirectional stream");
            return;
        }
        if (!h3_stream_get(h, id, H3_KIND_REQUEST)) {
            h3_conn_error(h, SKIFF_H3_INTERNAL_ERROR, "out of memory");
            return;
        }
        h->active_requests++;
        if (id >= h->next_request_id) h->next_request_id = id + 4;
        return;
    }
    if (!h3_stream_get(h, id, H3_KIND_UNI_PENDING)) h3_conn_error(h, SKIFF_H3_INTERNAL_ERROR, "out of memory");
}

void skiff_h3_conn_on_readable(skiff_h3_conn *h, uint64_t id)
{
    if (h->closed) return;
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    if (!st) return; /* never opened, or over */
    if (st->kind == H3_KIND_REQUEST) {
        h3_request_on_readable(h, st);
        return;
    }
    if (st->kind == H3_KIND_LOCAL_UNI) return;
    if (st->kind == H3_KIND_IGNORED_IN) {
        /* Drain what arrives anyway, so flow control moves. */
        bool fin = false;
        for (int guard = 0; guard < H3_READS_MAX; guard++) {
            skiff_ssize n = h->t.read(h->t.ctx, id, h->rbuf, H3_READ_CHUNK, &fin);
            if (n <= 0 || fin) break;
        }
        if (fin) h3_stream_release(h, st);
        return;
    }
    read_uni(h, st);
}

void skiff_h3_conn_on_writable(skiff_h3_conn *h, uint64_t id)
{
    if (h->closed) return;
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    if (!st) return;
    h3_stream_flush(h, st);
    if (st->kind != H3_KIND_REQUEST) return;
    if (st->out_len == 0 && st->body_expected && !st->send_done && !st->aborted && h->cb.writable)
        h->cb.writable(h, id, h->ud);
    st = h3_stream_map_find(&h->streams, id); /* the callback may have ended it */
    if (st && !h->closed) h3_request_maybe_release(h, st);
}

void skiff_h3_conn_on_reset(skiff_h3_conn *h, uint64_t id, uint64_t code)
{
    if (h->closed) return;
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    if (!st) return;
    if (is_critical(st)) {
        h3_conn_error(h, SKIFF_H3_CLOSED_CRITICAL_STREAM, "critical stream reset");
        return;
    }
    if (st->kind == H3_KIND_REQUEST) {
        h3_request_on_reset(h, st, code);
        return;
    }
    if (st->kind != H3_KIND_LOCAL_UNI) h3_stream_release(h, st);
}

void skiff_h3_conn_on_stop_sending(skiff_h3_conn *h, uint64_t id, uint64_t code)
{
    if (h->closed) return;
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    if (!st) return;
    /* §6.2.1, RFC 9204 §4.2: our critical streams must stay open. */
    if (st->kind == H3_KIND_LOCAL_UNI &&
        (id == h->control_out || id == h->encoder_out || id == h->decoder_out)) {
        h3_conn_error(h, SKIFF_H3_CLOSED_CRITICAL_STREAM, "critical stream stopped");
        return;
    }
    if (st->kind == H3_KIND_REQUEST) h3_request_on_stop_sending(h, st, code);
}

void skiff_h3_conn_on_streams_available(skiff_h3_conn *h)
{
    if (!h->closed && !h->cfg.is_server && !h->goaway_received && h->cb.can_request)
        h->cb.can_request(h, h->ud);
}

void skiff_h3_conn_on_closed(skiff_h3_conn *h, uint64_t code)
{
    for (size_t i = 0; i < h->streams.cap; i++) {
        h3_stream *st = h->streams.slots[i];
        if (st && st->kind == H3_KIND_REQUEST && !st->aborted && !h3_request_finished(st)) {
            st->aborted = true;
            if (h->cb.aborted) h->cb.aborted(h, st->id, code, true, h->ud);
        }
    }
    h->closed = true;
}

/* ---- graceful shutdown ---- */

int skiff_h3_shutdown(skiff_h3_conn *h)
{
    if (h->closed) return SKIFF_ERR_CLOSED;
    if (h->goaway_sent) return 0;
    h3_stream *control = h3_stream_map_find(&h->streams, h->control_out);
    if (!control) return SKIFF_ERR_INTERNAL;
    /* A server names the first request it will not process: everything it
     * has seen so far goes on. A client never allowed pushes: push ID 0. */
    h->goaway_sent_id = h->cfg.is_server ? h->next_request_id : 0;
    uint8_t buf[16];
    skiff_ssize n = skiff_h3_frame_varint_encode(buf, sizeof buf, SKIFF_H3_FRAME_GOAWAY, h->goaway_sent_id);
    if (n < 0) return (int)n;
    int rv = h3_stream_queue(h, control, buf, (size_t)n, false);
    if (rv) return rv;
    h->goaway_sent = true;
    h3_maybe_drained(h);
    return 0;
}
