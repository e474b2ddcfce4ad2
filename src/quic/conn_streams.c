/*
 * The connection's side of streams (RFC 9000 §2-§4, §19.4-§19.14): the
 * application's stream calls, the stream frames received, STREAM and
 * stream control frames written into packets, and their acknowledgment or
 * loss. The stream map (streams.c) holds the state; this file connects it
 * to packets and to the application's callbacks.
 */
#include <string.h>

#include "quic/conn_internal.h"
#include "quic/stream.h"

/* Worst case of a STREAM frame's header with a Length: type, id, offset, length. */
#define STREAM_HEADER_MAX (1 + 8 + 8 + 2)

static bool usable(const skiff_conn *c)
{
    return c->state == CONN_HANDSHAKING || c->state == CONN_ESTABLISHED;
}

/* ---- the application's calls ---- */

int skiff_conn_stream_open(skiff_conn *c, bool bidi, uint64_t *stream_id)
{
    if (!usable(c)) return SKIFF_ERR_CLOSED;
    return skiff_streams_open(&c->streams, bidi, stream_id);
}

skiff_ssize skiff_conn_stream_write(skiff_conn *c, uint64_t stream_id, const uint8_t *data,
                                    size_t len, bool fin)
{
    if (!usable(c)) return SKIFF_ERR_CLOSED;
    return skiff_streams_write(&c->streams, stream_id, data, len, fin);
}

skiff_ssize skiff_conn_stream_read(skiff_conn *c, uint64_t stream_id, uint8_t *out, size_t cap,
                                   bool *fin)
{
    if (!usable(c)) return SKIFF_ERR_CLOSED;
    return skiff_streams_read(&c->streams, stream_id, out, cap, fin, c->now,
                              skiff_recovery_smoothed_rtt(&c->recovery));
}

skiff_time skiff_conn_now(const skiff_conn *c) { return c->now; }

bool skiff_conn_quiescent(const skiff_conn *c)
{
    return skiff_recovery_bytes_in_flight(&c->recovery) == 0 && !c->streams.send_head;
}

size_t skiff_conn_stream_writable(const skiff_conn *c, uint64_t stream_id)
{
    if (!usable(c)) return 0;
    const skiff_stream *st = skiff_streams_find(&c->streams, stream_id);
    return st && st->has_send ? skiff_stream_send_writable(&st->send) : 0;
}

int skiff_conn_stream_reset(skiff_conn *c, uint64_t stream_id, uint64_t code)
{
    if (!usable(c)) return SKIFF_ERR_CLOSED;
    return skiff_streams_reset(&c->streams, stream_id, code);
}

int skiff_conn_stream_stop_sending(skiff_conn *c, uint64_t stream_id, uint64_t code)
{
    if (!usable(c)) return SKIFF_ERR_CLOSED;
    return skiff_streams_stop_sending(&c->streams, stream_id, code);
}

/* ---- notifications, deferred so callbacks never run inside recovery ---- */

static void want_writable(skiff_conn *c, uint64_t id)
{
    for (size_t i = 0; i < c->notify_count; i++)
        if (c->notify[i] == id) return;
    if (c->notify_count < sizeof c->notify / sizeof c->notify[0]) c->notify[c->notify_count++] = id;
    else c->notify_overflow = true; /* too many to list: notify every stream */
}

void conn_notify_streams(skiff_conn *c)
{
    /* The callbacks may write and so change the list: take a copy. */
    uint64_t ids[sizeof c->notify / sizeof c->notify[0]];
    size_t n = c->notify_count;
    memcpy(ids, c->notify, n * sizeof ids[0]);
    c->notify_count = 0;
    if (c->notify_overflow) {
        c->notify_overflow = false;
        n = 0;
        for (size_t i = 0; i < c->streams.table_cap && n < sizeof ids / sizeof ids[0]; i++) {
            skiff_stream *st = c->streams.table[i];
            if (st && st->has_send && skiff_stream_send_writable(&st->send) > 0) ids[n++] = st->id;
        }
        if (n == sizeof ids / sizeof ids[0]) c->notify_overflow = true; /* the rest next time */
    }
    for (size_t i = 0; i < n && usable(c); i++) {
        if (ids[i] == UINT64_MAX) {
            if (c->cb.streams_available) c->cb.streams_available(c, c->ud);
            continue;
        }
        skiff_stream *st = skiff_streams_find(&c->streams, ids[i]);
        if (st && st->has_send && skiff_stream_send_writable(&st->send) > 0 && c->cb.stream_writable)
            c->cb.stream_writable(c, ids[i], c->ud);
    }
}

/* ---- frames received ---- */

static void announce_new_streams(skiff_conn *c)
{
    uint64_t id;
    for (int bidi = 1; bidi >= 0; bidi--)
        for (int guard = 0; guard < 1024 && skiff_streams_accept(&c->streams, bidi, &id); guard++)
            if (c->cb.stream_opened) c->cb.stream_opened(c, id, c->ud);
}

int conn_on_stream_frame(skiff_conn *c, uint64_t type, const skiff_frame *f, skiff_time now)
{
    (void)now;
    int rv;
    uint64_t code;
    if (skiff_frame_is_stream(type)) {
        rv = skiff_streams_on_stream(&c->streams, &f->stream);
        if (rv) return rv;
        announce_new_streams(c);
        skiff_stream *st = skiff_streams_find(&c->streams, f->stream.stream_id);
        if (st && st->has_recv && c->cb.stream_readable &&
            (skiff_stream_recv_readable(&st->recv) > 0 || skiff_stream_recv_all_received(&st->recv)))
            c->cb.stream_readable(c, f->stream.stream_id, c->ud);
        return 0;
    }
    switch (type) {
    case SKIFF_FRAME_RESET_STREAM:
        rv = skiff_streams_on_reset_stream(&c->streams, &f->reset_stream);
        if (rv) return rv;
        announce_new_streams(c);
        if (skiff_streams_take_reset(&c->streams, f->reset_stream.stream_id, &code) && c->cb.stream_reset)
            c->cb.stream_reset(c, f->reset_stream.stream_id, code, c->ud);
        return 0;
    case SKIFF_FRAME_STOP_SENDING: {
        const skiff_stream *before = skiff_streams_find(&c->streams, f->stop_sending.stream_id);
        bool known = before && before->peer_stopped;
        rv = skiff_streams_on_stop_sending(&c->streams, &f->stop_sending);
        if (rv) return rv;
        announce_new_streams(c);
        /* §3.5: the send side is now reset; the application hears it once. */
        const skiff_stream *st = skiff_streams_find(&c->streams, f->stop_sending.stream_id);
        if (st && st->peer_stopped && !known && c->cb.stream_stopped)
            c->cb.stream_stopped(c, f->stop_sending.stream_id, f->stop_sending.app_error_code, c->ud);
        return 0;
    }
    case SKIFF_FRAME_MAX_DATA:
        rv = skiff_streams_on_max_data(&c->streams, &f->max_data);
        return rv;
    case SKIFF_FRAME_MAX_STREAM_DATA:
        rv = skiff_streams_on_max_stream_data(&c->streams, &f->max_stream_data);
        if (!rv) want_writable(c, f->max_stream_data.stream_id);
        return rv;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI:
        rv = skiff_streams_on_max_streams(&c->streams, &f->max_streams);
        if (!rv) want_writable(c, UINT64_MAX);
        return rv;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        return skiff_streams_on_stream_data_blocked(&c->streams, &f->stream_data_blocked);
    case SKIFF_FRAME_DATA_BLOCKED:
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI: return 0;
    }
    return SKIFF_ERR_FRAME_ENCODING;
}

/* ---- frames sent ---- */

size_t conn_write_stream_frames(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec,
                                skiff_time now)
{
    (void)now;
    size_t frames = 0;
    while (rec->frame_count < SKIFF_SENT_FRAMES_MAX) {
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        if (room <= STREAM_HEADER_MAX) break;
        skiff_stream *st;
        uint64_t offset;
        size_t len;
        bool fin;
        if (!skiff_streams_next_stream_frame(&c->streams, room - STREAM_HEADER_MAX, &st, &offset, &len, &fin))
            break;
        skiff_frame_stream fs = {.stream_id = st->id, .offset = offset, .len = len, .fin = fin,
                                 .has_length = true};
        skiff_ssize h = skiff_frame_stream_encode_header(at, room, &fs);
        if (h < 0 || (size_t)h + len > room) break;
        skiff_stream_send_copy(&st->send, offset, len, at + h);
        skiff_builder_commit(b, (size_t)h + len, SKIFF_FRAME_STREAM);
        skiff_streams_on_stream_sent(&c->streams, st, offset, len, fin);
        rec->frames[rec->frame_count++] = (skiff_sent_frame){
            .kind = SENT_STREAM, .flags = fin, .len16 = (uint16_t)len, .a = st->id, .b = offset};
        frames++;
    }
    return frames;
}

/* A control frame is recorded as its type and two values, enough to rebuild it. */
static void control_to_record(const skiff_frame *f, skiff_sent_frame *r)
{
    *r = (skiff_sent_frame){.kind = SENT_CONTROL, .flags = (uint8_t)f->type};
    switch (f->type) {
    case SKIFF_FRAME_RESET_STREAM: r->a = f->reset_stream.stream_id, r->b = f->reset_stream.app_error_code; break;
    case SKIFF_FRAME_STOP_SENDING: r->a = f->stop_sending.stream_id, r->b = f->stop_sending.app_error_code; break;
    case SKIFF_FRAME_MAX_STREAM_DATA: r->a = f->max_stream_data.stream_id, r->b = f->max_stream_data.max; break;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED: r->a = f->stream_data_blocked.stream_id, r->b = f->stream_data_blocked.limit; break;
    case SKIFF_FRAME_MAX_DATA: r->a = f->max_data.max; break;
    case SKIFF_FRAME_DATA_BLOCKED: r->a = f->data_blocked.limit; break;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI: r->a = f->max_streams.max; break;
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI: r->a = f->streams_blocked.limit; break;
    }
}

static skiff_frame control_from_record(const skiff_sent_frame *r)
{
    skiff_frame f = {.type = r->flags};
    switch (f.type) {
    case SKIFF_FRAME_RESET_STREAM: f.reset_stream = (skiff_frame_reset_stream){.stream_id = r->a, .app_error_code = r->b}; break;
    case SKIFF_FRAME_STOP_SENDING: f.stop_sending = (skiff_frame_stop_sending){.stream_id = r->a, .app_error_code = r->b}; break;
    case SKIFF_FRAME_MAX_STREAM_DATA: f.max_stream_data = (skiff_frame_max_stream_data){.stream_id = r->a, .max = r->b}; break;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED: f.stream_data_blocked = (skiff_frame_stream_data_blocked){.stream_id = r->a, .limit = r->b}; break;
    case SKIFF_FRAME_MAX_DATA: f.max_data.max = r->a; break;
    case SKIFF_FRAME_DATA_BLOCKED: f.data_blocked.limit = r->a; break;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI:
        f.max_streams = (skiff_frame_max_streams){.max = r->a, .bidi = f.type == SKIFF_FRAME_MAX_STREAMS_BIDI};
        break;
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI:
        f.streams_blocked = (skiff_frame_streams_blocked){.limit = r->a, .bidi = f.type == SKIFF_FRAME_STREAMS_BLOCKED_BIDI};
        break;
    }
    return f;
}

size_t conn_write_stream_control(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec)
{
    size_t frames = 0;
    skiff_frame f;
    while (rec->frame_count < SKIFF_SENT_FRAMES_MAX && skiff_streams_next_control(&c->streams, &f)) {
        size_t room;
        uint8_t *at = skiff_builder_cursor(b, &room);
        skiff_ssize n = skiff_frame_encode(at, room, &f);
        if (n <= 0) break;
        skiff_builder_commit(b, (size_t)n, f.type);
        skiff_streams_on_control_sent(&c->streams, &f);
        control_to_record(&f, &rec->frames[rec->frame_count++]);
        frames++;
    }
    return frames;
}

void conn_stream_frame_acked(skiff_conn *c, const skiff_sent_frame *f)
{
    if (f->kind == SENT_STREAM) {
        skiff_streams_on_stream_acked(&c->streams, f->a, f->b, f->len16, f->flags & 1);
        want_writable(c, f->a);
    } else if (f->kind == SENT_CONTROL) {
        skiff_frame fr = control_from_record(f);
        skiff_streams_on_control_acked(&c->streams, &fr);
    }
}

void conn_stream_frame_lost(skiff_conn *c, const skiff_sent_frame *f)
{
    if (f->kind == SENT_STREAM) {
        skiff_streams_on_stream_lost(&c->streams, f->a, f->b, f->len16, f->flags & 1);
    } else if (f->kind == SENT_CONTROL) {
        skiff_frame fr = control_from_record(f);
        skiff_streams_on_control_lost(&c->streams, &fr);
    }
}
