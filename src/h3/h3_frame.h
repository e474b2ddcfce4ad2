/*
 * HTTP/3 frames and stream types (RFC 9114 §6.2, §7): codecs that only parse
 * and write, plus a streaming frame reader that cuts a stream's bytes into
 * frames whatever their chunking. No connection state lives here.
 *
 *   frame = type (varint) | length (varint) | payload (length bytes)
 */
#ifndef SKIFF_H3_FRAME_H
#define SKIFF_H3_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* Frame types (§7.2). */
#define SKIFF_H3_FRAME_DATA 0x00u
#define SKIFF_H3_FRAME_HEADERS 0x01u
#define SKIFF_H3_FRAME_CANCEL_PUSH 0x03u
#define SKIFF_H3_FRAME_SETTINGS 0x04u
#define SKIFF_H3_FRAME_PUSH_PROMISE 0x05u
#define SKIFF_H3_FRAME_GOAWAY 0x07u
#define SKIFF_H3_FRAME_MAX_PUSH_ID 0x0du

/* Unidirectional stream types (§6.2, RFC 9204 §4.2). */
#define SKIFF_H3_STREAM_CONTROL 0x00u
#define SKIFF_H3_STREAM_PUSH 0x01u
#define SKIFF_H3_STREAM_QPACK_ENCODER 0x02u
#define SKIFF_H3_STREAM_QPACK_DECODER 0x03u

/* Setting identifiers (§7.2.4.1, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1). */
#define SKIFF_H3_SETTING_QPACK_MAX_TABLE_CAPACITY 0x01u
#define SKIFF_H3_SETTING_MAX_FIELD_SECTION_SIZE 0x06u
#define SKIFF_H3_SETTING_QPACK_BLOCKED_STREAMS 0x07u
#define SKIFF_H3_SETTING_ENABLE_CONNECT_PROTOCOL 0x08u
#define SKIFF_H3_SETTING_H3_DATAGRAM 0x33u

/* HTTP/2 frame types that HTTP/3 reserves (PRIORITY, PING, WINDOW_UPDATE,
 * CONTINUATION, §7.2.8): receiving one is H3_FRAME_UNEXPECTED. */
bool skiff_h3_frame_is_http2_only(uint64_t type);

/* Reserved values 0x1f * N + 0x21 of frame types, stream types and setting
 * identifiers (§7.2.8, §6.2.3, §7.2.4.1): sent as grease, ignored on receipt. */
bool skiff_h3_is_grease(uint64_t value);
/* The reserved value for n, with n reduced so the result fits a varint. */
uint64_t skiff_h3_grease_value(uint64_t n);

/* Writes a frame header (type, length). Returns its length, or
 * SKIFF_ERR_BUFFER_TOO_SMALL. */
skiff_ssize skiff_h3_frame_header_encode(uint8_t *out, size_t cap, uint64_t type, uint64_t length);

/* A whole GOAWAY, MAX_PUSH_ID or CANCEL_PUSH frame: one varint payload.
 * Returns its length, or SKIFF_ERR_BUFFER_TOO_SMALL. */
skiff_ssize skiff_h3_frame_varint_encode(uint8_t *out, size_t cap, uint64_t type, uint64_t value);

/* The payload of a one-varint frame. Returns 0, or SKIFF_H3_FRAME_ERROR when
 * the payload is not exactly one varint (§7.1). */
uint64_t skiff_h3_frame_varint_decode(const uint8_t *payload, size_t len, uint64_t *value);

/* The settings HTTP/3 knows, with the values that apply until the peer's
 * SETTINGS arrive (§7.2.4.2: the defaults). */
typedef struct skiff_h3_settings {
    uint64_t qpack_max_table_capacity; /* default 0 */
    uint64_t max_field_section_size;   /* default UINT64_MAX: unlimited */
    uint64_t qpack_blocked_streams;    /* default 0 */
    bool enable_connect_protocol;      /* RFC 9220, default false */
    bool h3_datagram;                  /* RFC 9297, default false */
} skiff_h3_settings;

void skiff_h3_settings_default(skiff_h3_settings *s);

/* Writes a whole SETTINGS frame with every value that differs from its
 * default, plus one reserved setting (grease_id must be a reserved value, or
 * 0 for none) carrying grease_value. Returns its length, or
 * SKIFF_ERR_BUFFER_TOO_SMALL. */
skiff_ssize skiff_h3_settings_encode(uint8_t *out, size_t cap, const skiff_h3_settings *s,
                                     uint64_t grease_id, uint64_t grease_value);

/* Parses a SETTINGS payload over the defaults. Returns 0, or the wire error:
 * SKIFF_H3_SETTINGS_ERROR for an identifier seen twice, an HTTP/2 setting
 * (0x00, 0x02..0x05, §7.2.4.1), or a boolean setting above 1;
 * SKIFF_H3_FRAME_ERROR for a payload that ends inside a varint. Unknown
 * identifiers are ignored. */
uint64_t skiff_h3_settings_decode(const uint8_t *payload, size_t len, skiff_h3_settings *out);

/*
 * The frame reader: feed it a stream's bytes as they arrive; it yields one
 * event per call.
 *   START       a frame header was read (type, length): lets the caller
 *               check frame order before any payload;
 *   DATA        part of a DATA frame's payload (pointing into the input;
 *               never buffered, so a body is streamed);
 *   FRAME       the whole payload of any other frame the reader does not
 *               skip (pointing into the input when it arrived in one piece,
 *               else into the reader's buffer), valid until the next call;
 *   ERROR       .error holds the wire error (H3_EXCESSIVE_LOAD for a frame
 *               longer than max_payload that would be buffered);
 *   NONE        all input consumed with no event.
 * Frames of unknown or reserved types get a START and are then skipped
 * without buffering (§9: ignored). The returned count says how much input
 * the call consumed; call again with the rest.
 */
typedef enum skiff_h3_frame_event_kind {
    SKIFF_H3_EVENT_NONE,
    SKIFF_H3_EVENT_START,
    SKIFF_H3_EVENT_DATA,
    SKIFF_H3_EVENT_FRAME,
    SKIFF_H3_EVENT_ERROR,
} skiff_h3_frame_event_kind;

typedef struct skiff_h3_frame_event {
    skiff_h3_frame_event_kind kind;
    uint64_t type;
    uint64_t length; /* START: the frame's declared length */
    const uint8_t *payload;
    size_t len;
    uint64_t error;
} skiff_h3_frame_event;

typedef struct skiff_h3_frame_reader {
    int state;
    uint8_t head[16]; /* a type or length varint split across inputs */
    size_t head_len;
    uint64_t type, length, done; /* the current frame; payload bytes seen */
    uint8_t *buf;                /* payload of a frame that arrived in pieces */
    size_t buf_cap;
    size_t max_payload;
} skiff_h3_frame_reader;

/* max_payload bounds a buffered (non-DATA, known-type) frame. */
void skiff_h3_frame_reader_init(skiff_h3_frame_reader *r, size_t max_payload);
void skiff_h3_frame_reader_free(skiff_h3_frame_reader *r);

/* Consumes input up to and including the next event. */
size_t skiff_h3_frame_reader_feed(skiff_h3_frame_reader *r, const uint8_t *in, size_t len,
                                  skiff_h3_frame_event *ev);

/* Whether the reader sits between frames (a stream may end only there: else
 * H3_FRAME_ERROR, §7.1). */
bool skiff_h3_frame_reader_at_boundary(const skiff_h3_frame_reader *r);

#endif
