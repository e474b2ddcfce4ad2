/*
 * An HTTP/3 connection (RFC 9114), client or server, on top of any QUIC
 * connection. It never sees QUIC internals: it opens, reads, writes and
 * resets streams through the narrow skiff_h3_transport interface (bound to a
 * skiff_conn by h3_quic.c, or to in-memory pipes by the tests), and is told
 * when a stream is readable, writable or reset.
 *
 * It owns: the control streams and SETTINGS (§6.2.1, §7.2.4), the QPACK
 * encoder and decoder and their streams (RFC 9204 §4.2), request streams
 * (§4.1: HEADERS, DATA, trailers), GOAWAY (§5.2), the message rules (§4.2 to
 * §4.4, in h3_message.c) and every error of §8.1 where the RFC names it.
 * Server push is never offered: MAX_PUSH_ID is never sent, so a push stream or
 * PUSH_PROMISE received is H3_ID_ERROR (§4.6).
 *
 * Like the QUIC core, it reads no clock and touches no socket.
 */
#ifndef SKIFF_H3_CONN_H
#define SKIFF_H3_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h3/h3_error.h"
#include "h3/h3_field.h"
#include "h3/h3_frame.h"
#include "h3/h3_message.h"
#include "skiff/skiff.h"

typedef struct skiff_h3_conn skiff_h3_conn;

/* The QUIC streams HTTP/3 runs on. Each function takes ctx first. */
typedef struct skiff_h3_transport {
    void *ctx;
    /* 0 and *id, or a negative error (no stream credit now: SKIFF_ERR_STREAM_LIMIT). */
    int (*open_stream)(void *ctx, bool bidi, uint64_t *id);
    /* Bytes write would accept now. */
    size_t (*writable)(void *ctx, uint64_t id);
    skiff_ssize (*write)(void *ctx, uint64_t id, const uint8_t *data, size_t len, bool fin);
    /* Bytes read (0: none now), *fin at the stream's end; or a negative error. */
    skiff_ssize (*read)(void *ctx, uint64_t id, uint8_t *out, size_t cap, bool *fin);
    int (*reset)(void *ctx, uint64_t id, uint64_t code);        /* RESET_STREAM */
    int (*stop_sending)(void *ctx, uint64_t id, uint64_t code); /* STOP_SENDING */
    /* CONNECTION_CLOSE with an application (HTTP/3) code. */
    void (*close)(void *ctx, uint64_t code, const char *reason);
} skiff_h3_transport;

/* A received header section: the fields in wire order, and what the message
 * rules picked out of them. Valid only during the callback. */
typedef struct skiff_h3_head {
    const skiff_h3_field *fields;
    size_t count;
    const skiff_h3_message_info *info;
} skiff_h3_head;

typedef struct skiff_h3_callbacks {
    /* Server: a valid request's header section. */
    void (*request)(skiff_h3_conn *h, uint64_t stream_id, const skiff_h3_head *head, void *ud);
    /* Client: a response's header section; informational (1xx) ones come
     * first, each through this callback, then the final one. */
    void (*response)(skiff_h3_conn *h, uint64_t stream_id, const skiff_h3_head *head, void *ud);
    /* Body bytes (DATA payloads), in order, as they arrive. */
    void (*body)(skiff_h3_conn *h, uint64_t stream_id, const uint8_t *data, size_t len, void *ud);
    void (*trailers)(skiff_h3_conn *h, uint64_t stream_id, const skiff_h3_head *head, void *ud);
    /* The peer's message is complete (its stream ended where it may). */
    void (*end)(skiff_h3_conn *h, uint64_t stream_id, void *ud);
    /* The exchange on this stream failed: reset by the peer (by_peer), or
     * ended here for a malformed message, a rejection after GOAWAY, a
     * cancellation or the connection's end. No more callbacks for it. */
    void (*aborted)(skiff_h3_conn *h, uint64_t stream_id, uint64_t code, bool by_peer, void *ud);
    /* Body writes may be accepted again. */
    void (*writable)(skiff_h3_conn *h, uint64_t stream_id, void *ud);
    /* Client: skiff_h3_request may succeed again (stream credit came back). */
    void (*can_request)(skiff_h3_conn *h, void *ud);
    /* The peer's GOAWAY (§5.2): the stream ID (from a server) or push ID. */
    void (*goaway)(skiff_h3_conn *h, uint64_t id, void *ud);
    void (*peer_settings)(skiff_h3_conn *h, const skiff_h3_settings *s, void *ud);
    /* The connection was closed by this HTTP/3 layer (an error, or a
     * graceful shutdown that drained): code and a short reason. */
    void (*closing)(skiff_h3_conn *h, uint64_t code, const char *reason, void *ud);
} skiff_h3_callbacks;

typedef struct skiff_h3_config {
    bool is_server;
    uint64_t qpack_max_table_capacity; /* our decoder's table; default 4096 */
    uint64_t qpack_blocked_streams;    /* default 16 */
    uint64_t max_field_section_size;   /* default 65536 */
    uint64_t encoder_table_capacity;   /* most we use of the peer's table; default 4096 */
    bool enable_connect_protocol;      /* RFC 9220 */
    bool h3_datagram;                  /* RFC 9297 */
    bool no_grease;                    /* grease is sent unless this is set */
    uint64_t grease_seed;              /* picks the reserved values sent */
} skiff_h3_config;

void skiff_h3_config_default(skiff_h3_config *cfg, bool is_server);

/* Creates the connection and opens its control stream (SETTINGS first),
 * QPACK encoder and decoder streams, and a reserved (grease) stream when
 * stream credit allows. Returns 0 or SKIFF_ERR_NOMEM. */
int skiff_h3_conn_new(skiff_h3_conn **out, const skiff_h3_config *cfg,
                      const skiff_h3_callbacks *cb, void *ud, const skiff_h3_transport *t);
void skiff_h3_conn_free(skiff_h3_conn *h);
void *skiff_h3_conn_user_data(const skiff_h3_conn *h);

/* Transport events. A stream the peer opens is announced (on_opened)
 * before its first readable event. */
void skiff_h3_conn_on_opened(skiff_h3_conn *h, uint64_t stream_id);
void skiff_h3_conn_on_readable(skiff_h3_conn *h, uint64_t stream_id);
void skiff_h3_conn_on_writable(skiff_h3_conn *h, uint64_t stream_id);
void skiff_h3_conn_on_reset(skiff_h3_conn *h, uint64_t stream_id, uint64_t code);
/* The peer's STOP_SENDING: our sending half of the stream is gone. */
void skiff_h3_conn_on_stop_sending(skiff_h3_conn *h, uint64_t stream_id, uint64_t code);
void skiff_h3_conn_on_streams_available(skiff_h3_conn *h);
/* The QUIC connection ended: every open exchange is aborted (code). */
void skiff_h3_conn_on_closed(skiff_h3_conn *h, uint64_t code);

/* Client: sends a request's header section (pseudo-headers first) on a new
 * stream. With body_follows the body comes through skiff_h3_write_body;
 * without, the stream ends after the headers. Returns 0 and *stream_id,
 * SKIFF_ERR_STREAM_LIMIT (wait for can_request), or SKIFF_ERR_CLOSED (the
 * server's GOAWAY or the connection's end refuses new requests). */
int skiff_h3_request(skiff_h3_conn *h, const skiff_h3_field *fields, size_t count,
                     bool body_follows, uint64_t *stream_id);

/* Server: answers a request with status and header fields (no
 * pseudo-headers; :status is added). Returns 0 or a negative error. */
int skiff_h3_respond(skiff_h3_conn *h, uint64_t stream_id, int status, const skiff_h3_field *fields,
                     size_t count, bool body_follows);

/* Writes body bytes as DATA frames; fin ends the message. Returns the bytes
 * taken (maybe fewer than len, even 0: wait for the writable callback), or
 * a negative error. */
skiff_ssize skiff_h3_write_body(skiff_h3_conn *h, uint64_t stream_id, const uint8_t *data,
                                size_t len, bool fin);

/* Ends the message with a trailer section (no pseudo-headers). */
int skiff_h3_write_trailers(skiff_h3_conn *h, uint64_t stream_id, const skiff_h3_field *fields,
                            size_t count);

/* Abandons an exchange: RESET_STREAM and STOP_SENDING with code
 * (H3_REQUEST_CANCELLED from a client, H3_REQUEST_REJECTED from a server
 * that did not process it, H3_VERSION_FALLBACK for "retry over HTTP/1.1"). */
int skiff_h3_cancel(skiff_h3_conn *h, uint64_t stream_id, uint64_t code);

/* Graceful shutdown (§5.2): sends GOAWAY (a server names the first request
 * it will not process; a client sends push ID 0) and refuses newer requests
 * with H3_REQUEST_REJECTED. A client closes the connection with H3_NO_ERROR
 * once its exchanges finish; a server becomes drained (below) and leaves the
 * close to its I/O layer, which knows when the last response bytes are
 * acknowledged. */
int skiff_h3_shutdown(skiff_h3_conn *h);
/* GOAWAY sent and no exchange left. */
bool skiff_h3_is_drained(const skiff_h3_conn *h);

/* Per-exchange application pointer. */
int skiff_h3_set_stream_data(skiff_h3_conn *h, uint64_t stream_id, void *data);
void *skiff_h3_stream_data(const skiff_h3_conn *h, uint64_t stream_id);

/* Request exchanges open now (either direction still running). */
size_t skiff_h3_active_requests(const skiff_h3_conn *h);
bool skiff_h3_is_closed(const skiff_h3_conn *h);
/* The peer's settings, once its SETTINGS arrived (else NULL). */
const skiff_h3_settings *skiff_h3_peer_settings(const skiff_h3_conn *h);

#endif
