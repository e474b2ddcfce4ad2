/*
 * HTTP/3 frame codecs and the streaming frame reader (RFC 9114 §7).
 *
 * The codecs write and parse the frame header (§7.1), the frames whose
 * payload is one varint (CANCEL_PUSH §7.2.3, GOAWAY §7.2.6, MAX_PUSH_ID
 * §7.2.7) and SETTINGS (§7.2.4, with RFC 9204 §5, RFC 9220 §3 and RFC 9297
 * §2.1.1 for the settings those add). They hold no connection state.
 *
 * The reader turns a stream's bytes, however they are cut, into a sequence
 * of events. Its states, one frame at a time:
 *
 *        +-------+  type   +--------+  length  +----------------------+
 *   +--> | TYPE  | ------> | LENGTH | -------> | DATA | BUFFER | SKIP  |
 *   |    +-------+         +--------+  START   +----------------------+
 *   |                                                    |
 *   +----------------------------------------------------+ payload done
 *
 * A varint of the header may arrive split, so its bytes are gathered in
 * r->head before it is decoded. DATA payloads are handed out as they come,
 * unknown types are skipped (§9), and every other known type is buffered
 * whole, bounded by max_payload, zero-copy when it arrived in one input
 * (a buffered frame of length 0 passes through EMPTY: see there).
 */
#include "h3/h3_frame.h"

#include <stdlib.h>
#include <string.h>

#include "common/varint.h"
#include "common/wire.h"
#include "h3/h3_error.h"

/* ---- Reserved values ---------------------------------------------------- */

bool skiff_h3_frame_is_http2_only(uint64_t type)
{
    /* §7.2.8 and §11.2.1: PRIORITY 0x02, PING 0x06, WINDOW_UPDATE 0x08,
     * CONTINUATION 0x09 are reserved and never valid in HTTP/3. */
    return type == 0x02 || type == 0x06 || type == 0x08 || type == 0x09;
}

#define GREASE_BASE 0x21u
#define GREASE_STEP 0x1fu
/* The largest N with 0x1f * N + 0x21 <= 2^62-1. */
#define GREASE_MAX_N ((SKIFF_VARINT_MAX - GREASE_BASE) / GREASE_STEP)

bool skiff_h3_is_grease(uint64_t value)
{
    /* §7.2.8, §6.2.3, §7.2.4.1: 0x1f * N + 0x21 for N >= 0. */
    return value >= GREASE_BASE && (value - GREASE_BASE) % GREASE_STEP == 0;
}

uint64_t skiff_h3_grease_value(uint64_t n)
{
    return GREASE_STEP * (n % (GREASE_MAX_N + 1)) + GREASE_BASE;
}

/* ---- Codecs ------------------------------------------------------------- */

skiff_ssize skiff_h3_frame_header_encode(uint8_t *out, size_t cap, uint64_t type, uint64_t length)
{
    size_t tl = skiff_varint_len(type), ll = skiff_varint_len(length);
    if (tl == 0 || ll == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    if (cap < tl + ll) return SKIFF_ERR_BUFFER_TOO_SMALL;
    uint8_t *p = skiff_varint_encode_len(out, type, tl);
    p = skiff_varint_encode_len(p, length, ll);
    return (skiff_ssize)(p - out);
}

skiff_ssize skiff_h3_frame_varint_encode(uint8_t *out, size_t cap, uint64_t type, uint64_t value)
{
    size_t vl = skiff_varint_len(value);
    if (vl == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_ssize hl = skiff_h3_frame_header_encode(out, cap, type, vl);
    if (hl < 0) return hl;
    if (cap - (size_t)hl < vl) return SKIFF_ERR_BUFFER_TOO_SMALL;
    skiff_varint_encode_len(out + hl, value, vl);
    return hl + (skiff_ssize)vl;
}

uint64_t skiff_h3_frame_varint_decode(const uint8_t *payload, size_t len, uint64_t *value)
{
    /* §7.1: a payload that ends early or carries bytes after its fields is
     * H3_FRAME_ERROR. */
    skiff_ssize n = skiff_varint_decode(payload, len, value);
    if (n < 0 || (size_t)n != len) return SKIFF_H3_FRAME_ERROR;
    return 0;
}

void skiff_h3_settings_default(skiff_h3_settings *s)
{
    /* §7.2.4.2: each setting starts at its default value. */
    s->qpack_max_table_capacity = 0;
    s->max_field_section_size = UINT64_MAX;
    s->qpack_blocked_streams = 0;
    s->enable_connect_protocol = false;
    s->h3_datagram = false;
}

/* Adds one identifier/value pair to the writer w; out of room is reported
 * once, by the caller, from the final size. */
static int put_setting(skiff_writer *w, uint64_t id, uint64_t value)
{
    int rc = skiff_writer_varint(w, id);
    if (rc == 0) rc = skiff_writer_varint(w, value);
    return rc;
}

skiff_ssize skiff_h3_settings_encode(uint8_t *out, size_t cap, const skiff_h3_settings *s,
                                     uint64_t grease_id, uint64_t grease_value)
{
    if (grease_id != 0 && (!skiff_h3_is_grease(grease_id) || grease_id > SKIFF_VARINT_MAX))
        return SKIFF_ERR_INVALID_ARGUMENT;

    /* The payload first, into a scratch buffer large enough for every pair
     * (6 pairs of two 8-byte varints), then the header in front of it. */
    uint8_t payload[6 * 16];
    skiff_writer w = skiff_writer_make(payload, sizeof payload);
    int rc = 0;
    if (s->qpack_max_table_capacity != 0)
        rc |=
            put_setting(&w, SKIFF_H3_SETTING_QPACK_MAX_TABLE_CAPACITY, s->qpack_max_table_capacity);
    if (s->max_field_section_size != UINT64_MAX)
        rc |= put_setting(&w, SKIFF_H3_SETTING_MAX_FIELD_SECTION_SIZE, s->max_field_section_size);
    if (s->qpack_blocked_streams != 0)
        rc |= put_setting(&w, SKIFF_H3_SETTING_QPACK_BLOCKED_STREAMS, s->qpack_blocked_streams);
    if (s->enable_connect_protocol)
        rc |= put_setting(&w, SKIFF_H3_SETTING_ENABLE_CONNECT_PROTOCOL, 1);
    if (s->h3_datagram) rc |= put_setting(&w, SKIFF_H3_SETTING_H3_DATAGRAM, 1);
    if (grease_id != 0) rc |= put_setting(&w, grease_id, grease_value);
    if (rc != 0) return SKIFF_ERR_INVALID_ARGUMENT; /* a value above 2^62-1 */

    size_t plen = (size_t)(w.pos - payload);
    skiff_ssize hl = skiff_h3_frame_header_encode(out, cap, SKIFF_H3_FRAME_SETTINGS, plen);
    if (hl < 0) return hl;
    if (cap - (size_t)hl < plen) return SKIFF_ERR_BUFFER_TOO_SMALL;
    memcpy(out + hl, payload, plen);
    return hl + (skiff_ssize)plen;
}

uint64_t skiff_h3_settings_decode(const uint8_t *payload, size_t len, skiff_h3_settings *out)
{
    skiff_h3_settings s;
    skiff_h3_settings_default(&s);
    skiff_reader r = skiff_reader_make(payload, len);
    uint32_t seen = 0; /* bit id for each known identifier (all below 64) */
    while (skiff_reader_left(&r) > 0) {
        uint64_t id, value;
        /* §7.1: a payload ending inside a field is H3_FRAME_ERROR. */
        if (skiff_reader_varint(&r, &id) != 0 || skiff_reader_varint(&r, &value) != 0)
            return SKIFF_H3_FRAME_ERROR;
        /* §7.2.4.1: the HTTP/2 settings without an HTTP/3 counterpart (§11.2.2:
         * 0x00, 0x02..0x05) are an H3_SETTINGS_ERROR on receipt. */
        if (id == 0x00 || (id >= 0x02 && id <= 0x05)) return SKIFF_H3_SETTINGS_ERROR;
        bool known = true;
        switch (id) {
        case SKIFF_H3_SETTING_QPACK_MAX_TABLE_CAPACITY:
            s.qpack_max_table_capacity = value;
            break;
        case SKIFF_H3_SETTING_MAX_FIELD_SECTION_SIZE:
            s.max_field_section_size = value;
            break;
        case SKIFF_H3_SETTING_QPACK_BLOCKED_STREAMS:
            s.qpack_blocked_streams = value;
            break;
        case SKIFF_H3_SETTING_ENABLE_CONNECT_PROTOCOL:
            /* RFC 9220 §3: only 0 or 1; anything else is H3_SETTINGS_ERROR. */
            if (value > 1) return SKIFF_H3_SETTINGS_ERROR;
            s.enable_connect_protocol = value == 1;
            break;
        case SKIFF_H3_SETTING_H3_DATAGRAM:
            /* RFC 9297 §2.1.1: only 0 or 1, else H3_SETTINGS_ERROR. */
            if (value > 1) return SKIFF_H3_SETTINGS_ERROR;
            s.h3_datagram = value == 1;
            break;
        default: /* §7.2.4.1, §9: unknown identifiers are ignored */
            known = false;
            break;
        }
        /* §7.2.4: an identifier must not occur twice; we treat it as
         * H3_SETTINGS_ERROR for the identifiers we act on. */
        if (known) {
            uint32_t bit = UINT32_C(1) << (id & 31);
            if (seen & bit) return SKIFF_H3_SETTINGS_ERROR;
            seen |= bit;
        }
    }
    *out = s;
    return 0;
}

/* ---- The frame reader --------------------------------------------------- */

/* What an empty payload points at, so a caller never gets NULL. */
static const uint8_t empty[1];

enum {
    ST_TYPE,   /* gathering the type varint */
    ST_LENGTH, /* gathering the length varint */
    ST_DATA,   /* handing out a DATA payload */
    ST_BUFFER, /* collecting a whole payload */
    ST_SKIP,   /* discarding an unknown frame's payload */
    ST_EMPTY,  /* a buffered frame of length 0: its FRAME is next */
    ST_ERROR,  /* sticky: every further feed repeats the error */
};

/* Known frames that are collected whole: those of §7.2 other than DATA, and
 * the HTTP/2-only types, so the caller sees them and can refuse them. */
static bool is_buffered(uint64_t type)
{
    switch (type) {
    case SKIFF_H3_FRAME_HEADERS:
    case SKIFF_H3_FRAME_CANCEL_PUSH:
    case SKIFF_H3_FRAME_SETTINGS:
    case SKIFF_H3_FRAME_PUSH_PROMISE:
    case SKIFF_H3_FRAME_GOAWAY:
    case SKIFF_H3_FRAME_MAX_PUSH_ID:
        return true;
    default:
        return skiff_h3_frame_is_http2_only(type);
    }
}

void skiff_h3_frame_reader_init(skiff_h3_frame_reader *r, size_t max_payload)
{
    memset(r, 0, sizeof *r);
    r->state = ST_TYPE;
    r->max_payload = max_payload;
}

void skiff_h3_frame_reader_free(skiff_h3_frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = 0;
}

bool skiff_h3_frame_reader_at_boundary(const skiff_h3_frame_reader *r)
{
    return r->state == ST_TYPE && r->head_len == 0;
}

/*
 * Moves bytes of one varint from the input (len > 0) into r->head. Returns
 * the bytes taken; *value is set and r->head emptied once the varint is whole.
 */
static size_t gather_varint(skiff_h3_frame_reader *r, const uint8_t *in, size_t len, bool *whole,
                            uint64_t *value)
{
    *whole = false;
    size_t need = skiff_varint_len_from_first(r->head_len ? r->head[0] : in[0]);
    size_t take = need - r->head_len;
    if (take > len) take = len;
    memcpy(r->head + r->head_len, in, take);
    r->head_len += take;
    if (r->head_len == need) {
        (void)skiff_varint_decode(r->head, need, value);
        r->head_len = 0;
        *whole = true;
    }
    return take;
}

static void set_event(skiff_h3_frame_event *ev, const skiff_h3_frame_reader *r,
                      skiff_h3_frame_event_kind kind)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->type = r->type;
    ev->length = r->length;
}

/* Enters the sticky error state. The reader keeps the wire error in `done`,
 * which has no other use once no payload is being read. */
static void fail(skiff_h3_frame_reader *r, skiff_h3_frame_event *ev, uint64_t error)
{
    r->state = ST_ERROR;
    r->done = error;
    set_event(ev, r, SKIFF_H3_EVENT_ERROR);
    ev->error = error;
}

/* Makes r->buf hold at least n bytes (n <= max_payload). Grows geometrically
 * within max_payload, so a run of growing frames reallocates only a few times
 * and steady state never allocates. */
static bool reserve(skiff_h3_frame_reader *r, size_t n)
{
    if (n <= r->buf_cap) return true;
    size_t cap = r->buf_cap < 32 ? 64 : r->buf_cap * 2;
    if (cap > r->max_payload) cap = r->max_payload;
    if (cap < n) cap = n;
    uint8_t *b = realloc(r->buf, cap);
    if (!b) return false;
    r->buf = b;
    r->buf_cap = cap;
    return true;
}

size_t skiff_h3_frame_reader_feed(skiff_h3_frame_reader *r, const uint8_t *in, size_t len,
                                  skiff_h3_frame_event *ev)
{
    size_t off = 0;
    for (;;) {
        size_t left = len - off;
        bool whole;
        uint64_t v;
        switch (r->state) {
        case ST_ERROR:
            fail(r, ev, r->done);
            return off;

        case ST_TYPE:
            if (left == 0) goto none;
            off += gather_varint(r, in + off, left, &whole, &v);
            if (!whole) goto none;
            r->type = v;
            r->state = ST_LENGTH;
            break;

        case ST_LENGTH:
            if (left == 0) goto none;
            off += gather_varint(r, in + off, left, &whole, &v);
            if (!whole) goto none;
            r->length = v;
            r->done = 0;
            if (r->type == SKIFF_H3_FRAME_DATA) {
                /* §7.2.1: a body is streamed, never collected. */
                r->state = r->length ? ST_DATA : ST_TYPE;
            } else if (is_buffered(r->type)) {
                /* §7.1 leaves frame size limits to the endpoint; a frame we
                 * would have to hold and cannot is H3_EXCESSIVE_LOAD (§8.1).
                 * The error takes the place of START, with type and length
                 * set, before a byte is buffered. */
                if (r->length > r->max_payload) {
                    fail(r, ev, SKIFF_H3_EXCESSIVE_LOAD);
                    return off;
                }
                if (r->length == 0) {
                    /* START leaves the header's last byte unread, and the
                     * FRAME takes it: so a caller that stops feeding once
                     * its input is used up still gets the FRAME. */
                    r->state = ST_EMPTY;
                    set_event(ev, r, SKIFF_H3_EVENT_START);
                    return off - 1;
                }
                r->state = ST_BUFFER;
            } else {
                r->state = r->length ? ST_SKIP : ST_TYPE; /* §9: ignored */
            }
            set_event(ev, r, SKIFF_H3_EVENT_START);
            return off;

        case ST_DATA: {
            if (left == 0) goto none;
            uint64_t rest = r->length - r->done;
            size_t n = rest < left ? (size_t)rest : left;
            set_event(ev, r, SKIFF_H3_EVENT_DATA);
            ev->payload = in + off;
            ev->len = n;
            r->done += n;
            if (r->done == r->length) r->state = ST_TYPE;
            return off + n;
        }

        case ST_SKIP: {
            uint64_t rest = r->length - r->done;
            size_t n = rest < left ? (size_t)rest : left;
            off += n;
            r->done += n;
            if (r->done < r->length) goto none;
            r->state = ST_TYPE;
            break;
        }

        case ST_EMPTY:
            if (left == 0) goto none;
            set_event(ev, r, SKIFF_H3_EVENT_FRAME);
            ev->payload = empty;
            r->state = ST_TYPE;
            return off + 1;

        case ST_BUFFER: {
            size_t flen = (size_t)r->length; /* <= max_payload, so fits */
            if (r->done == 0 && left >= flen) {
                /* The whole payload is in this input: no copy. */
                set_event(ev, r, SKIFF_H3_EVENT_FRAME);
                ev->payload = in + off;
                ev->len = flen;
                r->state = ST_TYPE;
                return off + flen;
            }
            if (left == 0) goto none;
            if (!reserve(r, flen)) {
                fail(r, ev, SKIFF_H3_INTERNAL_ERROR);
                return off;
            }
            size_t n = flen - (size_t)r->done;
            if (n > left) n = left;
            memcpy(r->buf + r->done, in + off, n);
            off += n;
            r->done += n;
            if (r->done < flen) goto none;
            set_event(ev, r, SKIFF_H3_EVENT_FRAME);
            ev->payload = r->buf;
            ev->len = flen;
            r->state = ST_TYPE;
            return off;
        }
        }
    }
none:
    set_event(ev, r, SKIFF_H3_EVENT_NONE);
    return off;
}
