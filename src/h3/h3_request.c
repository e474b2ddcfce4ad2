/*
 * HTTP/3 request streams (RFC 9114 §4.1): one exchange per client-initiated
 * bidirectional stream, in both roles.
 *
 *   message = HEADERS (1xx HEADERS ...) [DATA ...] [HEADERS (trailers)] end
 *
 * Receiving runs each frame past the phase the message is in: DATA before
 * the header section, or anything after trailers, is H3_FRAME_UNEXPECTED for
 * the connection (§4.1); a malformed message (§4.1.2) is H3_MESSAGE_ERROR for
 * this stream only. A header section that waits for QPACK inserts parks the
 * stream (RFC 9204 §2.1.2): reading stops, so QUIC flow control holds the
 * peer back, and the bytes already read past it are kept until it resumes.
 *
 * Sending frames the application's header sections and body; a DATA frame is
 * written only when the transport takes it whole, so frames never tear.
 */
#include <stdlib.h>
#include <string.h>

#include "common/varint.h"
#include "h3/h3_conn_internal.h"

#define SECTION_STACK 4096

bool h3_request_finished(const h3_stream *st)
{
    return st->recv == H3_RECV_DONE && st->send_done;
}

void h3_request_maybe_release(skiff_h3_conn *h, h3_stream *st)
{
    bool over = st->aborted || (h3_request_finished(st) && st->out_len == 0 && !st->out_fin);
    if (!over || st->busy) return; /* a caller up the stack still holds it */
    if (st->qpack_blocked) skiff_qpack_decoder_cancel_stream(h->decoder, st->id);
    h3_stream_release(h, st);
    if (h->active_requests) h->active_requests--;
    if (!h->closed) h3_flush_qpack(h);
    h3_maybe_drained(h);
}

/* Ends the exchange here: what is still running in each direction is reset
 * (not when the peer did it), and the application hears of it once. */
void h3_request_abort(skiff_h3_conn *h, h3_stream *st, uint64_t code, bool by_peer)
{
    if (st->aborted) return;
    if (!h->closed) {
        if (!st->send_done) h->t.reset(h->t.ctx, st->id, code);
        if (st->recv != H3_RECV_DONE && !by_peer) {
            h->t.stop_sending(h->t.ctx, st->id, code);
            skiff_qpack_decoder_cancel_stream(h->decoder, st->id);
            st->qpack_blocked = false;
        }
    }
    st->recv = H3_RECV_DONE;
    st->send_done = true;
    st->out_len = 0;
    st->out_fin = false;
    st->aborted = true;
    if (h->cb.aborted) h->cb.aborted(h, st->id, code, by_peer, h->ud);
}

/* §4.1.2: a malformed message fails its stream, not the connection. */
static void message_error(skiff_h3_conn *h, h3_stream *st)
{
    h3_request_abort(h, st, SKIFF_H3_MESSAGE_ERROR, false);
}

/* ---- receiving ---- */

/* The section's fields were stored by offset while it grew: point them home. */
static void section_fix(h3_section *s)
{
    for (size_t i = 0; i < s->count; i++) {
        s->fields[i].name = s->bytes + (uintptr_t)s->fields[i].name;
        s->fields[i].value = s->bytes + (uintptr_t)s->fields[i].value;
    }
}

/* Server: a request whose header section is too large for us gets 431
 * (RFC 9114 §10.5.1) without its body being read. */
static void refuse_large_request(skiff_h3_conn *h, h3_stream *st)
{
    st->recv = H3_RECV_DONE;
    h->t.stop_sending(h->t.ctx, st->id, SKIFF_H3_NO_ERROR);
    skiff_h3_respond(h, st->id, 431, NULL, 0, false);
}

static bool no_body_status(int status) { return status == 204 || status == 304; }

/* A whole, decoded header section: check it against the message rules for
 * where the stream is, then hand it over. */
static void deliver_section(skiff_h3_conn *h, h3_stream *st)
{
    h3_section *s = &h->section;
    section_fix(s);
    skiff_h3_section_kind kind = st->recv == H3_RECV_BODY ? SKIFF_H3_SECTION_TRAILERS
                                 : h->cfg.is_server       ? SKIFF_H3_SECTION_REQUEST
                                                          : SKIFF_H3_SECTION_RESPONSE;
    skiff_h3_message_info info;
    const char *why = NULL;
    if (skiff_h3_message_validate(kind, s->fields, s->count, h->cfg.enable_connect_protocol, &info,
                                  &why)) {
        message_error(h, st);
        return;
    }
    skiff_h3_head head = {.fields = s->fields, .count = s->count, .info = &info};
    switch (kind) {
    case SKIFF_H3_SECTION_TRAILERS:
        st->recv = H3_RECV_TRAILERS;
        if (h->cb.trailers) h->cb.trailers(h, st->id, &head, h->ud);
        return;
    case SKIFF_H3_SECTION_REQUEST:
        st->recv = H3_RECV_BODY;
        st->has_content_length = info.has_content_length;
        st->content_length = info.content_length;
        st->connect = info.is_connect;
        if (h->cb.request) h->cb.request(h, st->id, &head, h->ud);
        return;
    case SKIFF_H3_SECTION_RESPONSE:
        if (info.status < 200) { /* informational: the final response follows (§4.1) */
            if (h->cb.response) h->cb.response(h, st->id, &head, h->ud);
            return;
        }
        st->recv = H3_RECV_BODY;
        st->final_response = true;
        st->has_content_length = info.has_content_length;
        st->content_length = info.content_length;
        if (st->head_request || no_body_status(info.status)) {
            /* RFC 9110 §6.4.1: no content, whatever content-length says. */
            st->has_content_length = true;
            st->content_length = 0;
        }
        if (st->connect && info.status / 100 == 2) st->has_content_length = false;
        if (h->cb.response) h->cb.response(h, st->id, &head, h->ud);
        return;
    }
}

static void decode_result(skiff_h3_conn *h, h3_stream *st, int rv, uint64_t wire)
{
    if (rv == SKIFF_QPACK_BLOCKED) {
        st->qpack_blocked = true;
    } else if (rv == SKIFF_QPACK_TOO_LARGE) {
        if (h->cfg.is_server && st->recv == H3_RECV_HEADERS) refuse_large_request(h, st);
        else h3_request_abort(h, st, SKIFF_H3_EXCESSIVE_LOAD, false);
    } else if (rv < 0) {
        h3_conn_error(h, wire ? wire : SKIFF_H3_INTERNAL_ERROR, "QPACK field section");
    } else {
        deliver_section(h, st);
    }
    if (!h->closed) h3_flush_qpack(h);
}

/* Whether a frame of this type may start now (§4.1, §7.2). Returns 0 or
 * the connection error. */
static uint64_t frame_allowed(skiff_h3_conn *h, const h3_stream *st, uint64_t type)
{
    switch (type) {
    case SKIFF_H3_FRAME_HEADERS:
        return st->recv == H3_RECV_TRAILERS ? SKIFF_H3_FRAME_UNEXPECTED : 0;
    case SKIFF_H3_FRAME_DATA:
        return st->recv == H3_RECV_BODY ? 0 : SKIFF_H3_FRAME_UNEXPECTED;
    case SKIFF_H3_FRAME_PUSH_PROMISE:
        /* §7.2.5: a client never allowed a push (no MAX_PUSH_ID): any ID is
         * above its limit; a server never receives one. */
        return h->cfg.is_server ? SKIFF_H3_FRAME_UNEXPECTED : SKIFF_H3_ID_ERROR;
    case SKIFF_H3_FRAME_SETTINGS:
    case SKIFF_H3_FRAME_GOAWAY:
    case SKIFF_H3_FRAME_MAX_PUSH_ID:
    case SKIFF_H3_FRAME_CANCEL_PUSH: return SKIFF_H3_FRAME_UNEXPECTED;
    default: return skiff_h3_frame_is_http2_only(type) ? SKIFF_H3_FRAME_UNEXPECTED : 0;
    }
}

static void on_data(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len)
{
    if (!len) return;
    if (st->has_content_length && st->content_length - st->body_received < len) {
        message_error(h, st); /* §4.1.2: more content than content-length */
        return;
    }
    st->body_received += len;
    if (h->cb.body) h->cb.body(h, st->id, p, len, h->ud);
}

/* Runs bytes through the stream's frames. Returns how many were used: fewer
 * than len only when a header section blocked or the exchange ended. */
static size_t request_input(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len)
{
    size_t used_total = 0;
    while (used_total < len && !h->closed && !st->aborted && st->recv != H3_RECV_DONE &&
           !st->qpack_blocked) {
        skiff_h3_frame_event ev;
        size_t used = skiff_h3_frame_reader_feed(&st->reader, p + used_total, len - used_total, &ev);
        used_total += used;
        uint64_t err;
        switch (ev.kind) {
        case SKIFF_H3_EVENT_ERROR: h3_conn_error(h, ev.error, "request stream frame"); break;
        case SKIFF_H3_EVENT_START:
            if ((err = frame_allowed(h, st, ev.type))) h3_conn_error(h, err, "frame not allowed on a request stream");
            break;
        case SKIFF_H3_EVENT_DATA: on_data(h, st, ev.payload, ev.len); break;
        case SKIFF_H3_EVENT_FRAME:
            if (ev.type == SKIFF_H3_FRAME_HEADERS) {
                uint64_t wire = 0;
                h3_section_reset(&h->section);
                int rv = skiff_qpack_decode_section(h->decoder, st->id, ev.payload, ev.len, h3_section_add,
                                                    &h->section, &wire);
                decode_result(h, st, rv, wire);
            }
            break;
        default: break;
        }
        if (!used && ev.kind == SKIFF_H3_EVENT_NONE) break;
    }
    return used_total;
}

/* The peer's side of the stream ended cleanly. */
static void request_fin(skiff_h3_conn *h, h3_stream *st)
{
    if (st->aborted || st->recv == H3_RECV_DONE) return;
    if (!skiff_h3_frame_reader_at_boundary(&st->reader)) {
        h3_conn_error(h, SKIFF_H3_FRAME_ERROR, "stream ended inside a frame"); /* §7.1 */
        return;
    }
    if (st->recv == H3_RECV_HEADERS) {
        /* No (final) header section: an incomplete request, or a malformed response. */
        h3_request_abort(h, st, h->cfg.is_server ? SKIFF_H3_REQUEST_INCOMPLETE : SKIFF_H3_MESSAGE_ERROR,
                         false);
        return;
    }
    if (st->has_content_length && st->body_received != st->content_length) {
        message_error(h, st); /* §4.1.2: content-length and DATA disagree */
        return;
    }
    st->recv = H3_RECV_DONE;
    if (h->cb.end) h->cb.end(h, st->id, h->ud);
}

/* Keeps input that a blocked section left unread. */
static int hold(h3_stream *st, const uint8_t *p, size_t len, bool fin)
{
    if (len) {
        uint8_t *held = realloc(st->held, st->held_len + len);
        if (!held) return SKIFF_ERR_NOMEM;
        memcpy(held + st->held_len, p, len);
        st->held = held;
        st->held_len += len;
    }
    st->held_fin |= fin;
    return 0;
}

static void ensure_reader(skiff_h3_conn *h, h3_stream *st)
{
    if (st->reader_ready) return;
    skiff_h3_frame_reader_init(&st->reader, (size_t)h->cfg.max_field_section_size + 1024);
    st->reader_ready = true;
}

void h3_request_on_readable(skiff_h3_conn *h, h3_stream *st)
{
    ensure_reader(h, st);
    /* Server after GOAWAY: requests at or past the announced ID are refused
     * unprocessed (§5.2), so the client may retry them elsewhere. */
    if (h->cfg.is_server && h->goaway_sent && st->id >= h->goaway_sent_id && !st->aborted) {
        h3_request_abort(h, st, SKIFF_H3_REQUEST_REJECTED, false);
        h3_request_maybe_release(h, st);
        return;
    }
    st->busy++;
    for (int guard = 0; guard < H3_READS_MAX && !h->closed && !st->aborted && !st->qpack_blocked; guard++) {
        bool fin = false;
        skiff_ssize n = h->t.read(h->t.ctx, st->id, h->rbuf, H3_READ_CHUNK, &fin);
        if (n < 0) break;
        if (st->recv == H3_RECV_DONE) { /* reading abandoned: drop what still arrives */
            if (n == 0 || fin) break;
            continue;
        }
        size_t used = request_input(h, st, h->rbuf, (size_t)n);
        if (st->qpack_blocked) {
            if (hold(st, h->rbuf + used, (size_t)n - used, fin)) h3_conn_error(h, SKIFF_H3_INTERNAL_ERROR, "out of memory");
            break;
        }
        if (fin) {
            request_fin(h, st);
            break;
        }
        if (n == 0) break;
    }
    st->busy--;
    if (!h->closed) h3_request_maybe_release(h, st);
}

/* QPACK inserts arrived for the section this stream waits on. */
void h3_request_resume(skiff_h3_conn *h, h3_stream *st)
{
    if (!st->qpack_blocked) return;
    st->qpack_blocked = false;
    uint64_t wire = 0;
    h3_section_reset(&h->section);
    st->busy++;
    int rv = skiff_qpack_decoder_resume(h->decoder, st->id, h3_section_add, &h->section, &wire);
    decode_result(h, st, rv, wire);
    if (h->closed || st->aborted) {
        st->busy--;
        if (!h->closed) h3_request_maybe_release(h, st);
        return;
    }
    /* The bytes read past the section go through next, then the stream. */
    uint8_t *held = st->held;
    size_t held_len = st->held_len;
    bool fin = st->held_fin;
    st->held = NULL, st->held_len = 0, st->held_fin = false;
    size_t used = request_input(h, st, held, held_len);
    if (!h->closed && st->qpack_blocked) {
        if (hold(st, held + used, held_len - used, fin)) h3_conn_error(h, SKIFF_H3_INTERNAL_ERROR, "out of memory");
    } else if (!h->closed && fin) {
        request_fin(h, st);
    }
    free(held);
    st->busy--;
    if (!h->closed && !st->qpack_blocked && !fin && !st->aborted) h3_request_on_readable(h, st);
    else if (!h->closed) h3_request_maybe_release(h, st);
}

void h3_request_on_reset(skiff_h3_conn *h, h3_stream *st, uint64_t code)
{
    if (st->aborted) return;
    if (st->recv == H3_RECV_DONE && st->send_done) {
        /* Both messages were complete: nothing is lost. */
        h3_request_maybe_release(h, st);
        return;
    }
    /* §4.1.1: a reset request stream cancels the exchange, our half too. */
    if (st->qpack_blocked) skiff_qpack_decoder_cancel_stream(h->decoder, st->id);
    st->qpack_blocked = false;
    h3_request_abort(h, st, code, true);
    h3_request_maybe_release(h, st);
}

/* The peer no longer wants our message. With H3_NO_ERROR after a complete
 * response a server only declines the rest of a request body (§4.1), so a
 * client's request is then simply over; otherwise the exchange is cancelled. */
void h3_request_on_stop_sending(skiff_h3_conn *h, h3_stream *st, uint64_t code)
{
    if (st->aborted) return;
    st->out_len = 0;
    st->out_fin = false;
    if (st->send_done || (code == SKIFF_H3_NO_ERROR && !h->cfg.is_server)) {
        st->send_done = true;
        h3_request_maybe_release(h, st);
        return;
    }
    st->send_done = true; /* QUIC reset our half already */
    h3_request_abort(h, st, code, true);
    h3_request_maybe_release(h, st);
}

/* ---- sending ---- */

/* Encodes a header section as a HEADERS frame queued on the stream. */
static int send_section(skiff_h3_conn *h, h3_stream *st, const skiff_h3_field *fields, size_t count,
                        bool fin)
{
    size_t bound = 16;
    for (size_t i = 0; i < count; i++) bound += fields[i].name_len + fields[i].value_len + 16;
    uint8_t stack[SECTION_STACK];
    uint8_t *buf = bound <= sizeof stack ? stack : malloc(bound);
    if (!buf) return SKIFF_ERR_NOMEM;
    const size_t hdr = 9; /* room for the frame header in front */
    skiff_ssize n = skiff_qpack_encode_section(h->encoder, st->id, fields, count, buf + hdr, bound - hdr);
    int rv = (int)(n < 0 ? n : 0);
    if (!rv) {
        uint8_t head[16];
        skiff_ssize hl = skiff_h3_frame_header_encode(head, sizeof head, SKIFF_H3_FRAME_HEADERS, (uint64_t)n);
        memcpy(buf + hdr - (size_t)hl, head, (size_t)hl);
        h3_flush_qpack(h); /* the inserts it refers to go first */
        rv = h3_stream_queue(h, st, buf + hdr - (size_t)hl, (size_t)hl + (size_t)n, fin);
    }
    if (buf != stack) free(buf);
    return rv;
}

static bool field_is(const skiff_h3_field *f, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    return f->name_len == nl && !memcmp(f->name, name, nl) && f->value_len == vl &&
           !memcmp(f->value, value, vl);
}

int skiff_h3_request(skiff_h3_conn *h, const skiff_h3_field *fields, size_t count,
                     bool body_follows, uint64_t *stream_id)
{
    if (h->cfg.is_server) return SKIFF_ERR_INVALID_ARGUMENT;
    if (h->closed || h->goaway_received || h->goaway_sent) return SKIFF_ERR_CLOSED;
    uint64_t id;
    int rv = h->t.open_stream(h->t.ctx, true, &id);
    if (rv) return rv;
    h3_stream *st = h3_stream_get(h, id, H3_KIND_REQUEST);
    if (!st) return SKIFF_ERR_NOMEM;
    h->active_requests++;
    ensure_reader(h, st);
    for (size_t i = 0; i < count; i++) {
        if (field_is(&fields[i], ":method", "HEAD")) st->head_request = true;
        if (field_is(&fields[i], ":method", "CONNECT")) st->connect = true;
    }
    st->body_expected = body_follows;
    st->send_done = !body_follows;
    st->send_headers_sent = true;
    rv = send_section(h, st, fields, count, !body_follows);
    if (rv) {
        h3_request_abort(h, st, SKIFF_H3_INTERNAL_ERROR, false);
        h3_request_maybe_release(h, st);
        return rv;
    }
    *stream_id = id;
    return 0;
}

static h3_stream *sending_stream(skiff_h3_conn *h, uint64_t id)
{
    if (h->closed) return NULL;
    h3_stream *st = h3_stream_map_find(&h->streams, id);
    return st && st->kind == H3_KIND_REQUEST && !st->aborted ? st : NULL;
}

int skiff_h3_respond(skiff_h3_conn *h, uint64_t stream_id, int status, const skiff_h3_field *fields,
                     size_t count, bool body_follows)
{
    if (!h->cfg.is_server || status < 100 || status > 599 || status == 101) return SKIFF_ERR_INVALID_ARGUMENT;
    h3_stream *st = sending_stream(h, stream_id);
    if (!st) return h->closed ? SKIFF_ERR_CLOSED : SKIFF_ERR_INVALID_ARGUMENT;
    if (st->send_headers_sent) return SKIFF_ERR_STREAM_STATE;
    skiff_h3_field stack[32];
    skiff_h3_field *all = count + 1 <= 32 ? stack : malloc((count + 1) * sizeof *all);
    if (!all) return SKIFF_ERR_NOMEM;
    char code[4] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10), (char)('0' + status % 10), 0};
    all[0] = (skiff_h3_field){(const uint8_t *)":status", 7, (const uint8_t *)code, 3};
    if (count) memcpy(all + 1, fields, count * sizeof *fields);
    bool informational = status < 200;
    bool fin = !informational && !body_follows;
    int rv = send_section(h, st, all, count + 1, fin);
    if (all != stack) free(all);
    if (rv) return rv;
    if (informational) return 0;
    st->send_headers_sent = true;
    st->body_expected = body_follows;
    if (fin) {
        st->send_done = true;
        /* §4.1: a complete response may stop a request body still coming. */
        if (st->recv != H3_RECV_DONE) {
            h->t.stop_sending(h->t.ctx, st->id, SKIFF_H3_NO_ERROR);
            st->recv = H3_RECV_DONE;
        }
        h3_request_maybe_release(h, st);
    }
    return 0;
}

skiff_ssize skiff_h3_write_body(skiff_h3_conn *h, uint64_t stream_id, const uint8_t *data,
                                size_t len, bool fin)
{
    h3_stream *st = sending_stream(h, stream_id);
    if (!st) return h->closed ? SKIFF_ERR_CLOSED : SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->send_headers_sent || !st->body_expected || st->send_done) return SKIFF_ERR_STREAM_STATE;
    if (st->out_len) {
        h3_stream_flush(h, st);
        if (st->out_len) return 0;
    }
    size_t cap = h->t.writable(h->t.ctx, stream_id);
    size_t take = 0;
    skiff_ssize w = 0;
    if (len) {
        if (cap <= 9) return 0;
        take = len < cap - 9 ? len : cap - 9;
        uint8_t head[16];
        skiff_ssize hl = skiff_h3_frame_header_encode(head, sizeof head, SKIFF_H3_FRAME_DATA, take);
        w = h->t.write(h->t.ctx, stream_id, head, (size_t)hl, false);
        if (w == hl) w = h->t.write(h->t.ctx, stream_id, data, take, fin && take == len);
        else if (w >= 0) w = SKIFF_ERR_INTERNAL; /* the capacity said it would fit */
    } else if (fin) {
        w = h->t.write(h->t.ctx, stream_id, NULL, 0, true);
    }
    if (w < 0) {
        /* The peer stopped the stream (STOP_SENDING reset it under us). */
        h3_request_abort(h, st, SKIFF_H3_REQUEST_CANCELLED, true);
        h3_request_maybe_release(h, st);
        return SKIFF_ERR_STREAM_STATE;
    }
    if (fin && take == len) {
        st->send_done = true;
        h3_request_maybe_release(h, st);
    }
    return (skiff_ssize)take;
}

int skiff_h3_write_trailers(skiff_h3_conn *h, uint64_t stream_id, const skiff_h3_field *fields,
                            size_t count)
{
    h3_stream *st = sending_stream(h, stream_id);
    if (!st) return h->closed ? SKIFF_ERR_CLOSED : SKIFF_ERR_INVALID_ARGUMENT;
    if (!st->send_headers_sent || st->send_done) return SKIFF_ERR_STREAM_STATE;
    int rv = send_section(h, st, fields, count, true);
    if (rv) return rv;
    st->send_done = true;
    h3_request_maybe_release(h, st);
    return 0;
}

int skiff_h3_cancel(skiff_h3_conn *h, uint64_t stream_id, uint64_t code)
{
    h3_stream *st = sending_stream(h, stream_id);
    if (!st) return h->closed ? SKIFF_ERR_CLOSED : SKIFF_ERR_INVALID_ARGUMENT;
    h3_request_abort(h, st, code, false);
    h3_request_maybe_release(h, st);
    return 0;
}
