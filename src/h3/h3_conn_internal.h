/*
 * The HTTP/3 connection's state, shared by h3_conn.c (setup, control and
 * QPACK streams, GOAWAY, errors), h3_request.c (request streams) and
 * h3_stream_map.c (streams by ID). Not for use outside src/h3/.
 */
#ifndef SKIFF_H3_CONN_INTERNAL_H
#define SKIFF_H3_CONN_INTERNAL_H

#include "h3/h3_conn.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"

/* What a stream carries. Peer unidirectional streams are UNI_PENDING until
 * their type varint is read (§6.2). */
typedef enum h3_stream_kind {
    H3_KIND_REQUEST,
    H3_KIND_UNI_PENDING,
    H3_KIND_CONTROL_IN,
    H3_KIND_ENCODER_IN, /* the peer's QPACK encoder stream: feeds our decoder */
    H3_KIND_DECODER_IN, /* the peer's QPACK decoder stream: feeds our encoder */
    H3_KIND_IGNORED_IN, /* unknown or reserved type: discarded */
    H3_KIND_LOCAL_UNI,  /* one of ours: control, encoder, decoder, grease */
} h3_stream_kind;

/* Where a request stream's incoming message stands (§4.1). */
typedef enum h3_recv_phase {
    H3_RECV_HEADERS,  /* waiting for the (next) header section */
    H3_RECV_BODY,     /* after the final header section: DATA or trailers */
    H3_RECV_TRAILERS, /* after trailers: only the stream's end may follow */
    H3_RECV_DONE,     /* message complete, or reading abandoned */
} h3_recv_phase;

typedef struct h3_stream {
    uint64_t id;
    h3_stream_kind kind;
    void *app_data;

    /* Receiving. */
    skiff_h3_frame_reader reader;
    bool reader_ready;
    h3_recv_phase recv;
    bool qpack_blocked;   /* a header section waits for QPACK inserts */
    uint8_t *held;        /* bytes read past a blocked section */
    size_t held_len;
    bool held_fin;        /* ... and the stream's end came with them */
    uint8_t uni_type[8];  /* UNI_PENDING: the type varint so far */
    size_t uni_type_len;
    bool has_content_length;
    uint64_t content_length, body_received;
    bool head_request;    /* client: a HEAD request's response has no body */
    bool connect;         /* CONNECT (§4.4): DATA is tunnel bytes */
    bool final_response;  /* client: a final (non-1xx) response arrived */

    /* Sending: framed bytes the transport has not taken yet. */
    uint8_t *out;
    size_t out_len, out_cap;
    bool out_fin;         /* end the stream once out drains */
    bool send_headers_sent, send_done;
    bool body_expected;   /* headers sent with body_follows */
    bool stop_sent;       /* we sent STOP_SENDING */
    bool aborted;         /* told to the application; no more callbacks */
    int busy;             /* being processed: not to be freed until done */
} h3_stream;

/* Streams by ID: open addressing with linear probing, grown at 50% load. */
typedef struct h3_stream_map {
    h3_stream **slots;
    size_t cap, count;
} h3_stream_map;

h3_stream *h3_stream_map_find(const h3_stream_map *m, uint64_t id);
int h3_stream_map_insert(h3_stream_map *m, h3_stream *st);
void h3_stream_map_remove(h3_stream_map *m, uint64_t id);
void h3_stream_map_free(h3_stream_map *m);

/* Decoded fields of one header section, copied out of QPACK's callback. */
typedef struct h3_section {
    skiff_h3_field *fields;
    size_t count, cap;
    uint8_t *bytes;
    size_t used, bytes_cap;
} h3_section;

#define H3_READ_CHUNK 16384 /* per connection: bytes read from a stream at once */
/* Reads per readable event: the loop ends when the stream has nothing more
 * (QUIC flow control bounds that); this only guards against a transport that
 * never says so. 64 MiB. */
#define H3_READS_MAX 4096

struct skiff_h3_conn {
    skiff_h3_config cfg;
    skiff_h3_callbacks cb;
    void *ud;
    skiff_h3_transport t;
    h3_stream_map streams;

    skiff_qpack_encoder *encoder;
    skiff_qpack_decoder *decoder;
    uint64_t control_out, encoder_out, decoder_out; /* our unidirectional streams */
    bool have_control_in, have_encoder_in, have_decoder_in;
    bool peer_settings_received;
    skiff_h3_settings peer;

    /* GOAWAY (§5.2). */
    bool goaway_sent, goaway_received;
    uint64_t goaway_sent_id, goaway_received_id;
    uint64_t next_request_id; /* server: one past the highest request stream seen */
    bool max_push_id_received;
    uint64_t max_push_id;

    size_t active_requests;
    bool closed;
    uint8_t *rbuf; /* one read chunk */
    h3_section section;
};

/* h3_conn.c */
void h3_conn_error(skiff_h3_conn *h, uint64_t code, const char *reason);
h3_stream *h3_stream_get(skiff_h3_conn *h, uint64_t id, h3_stream_kind kind);
void h3_stream_release(skiff_h3_conn *h, h3_stream *st);
/* Queues framed bytes (and maybe the end) on a stream, then flushes. */
int h3_stream_queue(skiff_h3_conn *h, h3_stream *st, const uint8_t *p, size_t len, bool fin);
void h3_stream_flush(skiff_h3_conn *h, h3_stream *st);
void h3_flush_qpack(skiff_h3_conn *h);
int h3_section_add(void *ud, const skiff_h3_field *f);
void h3_section_reset(h3_section *s);
void h3_maybe_drained(skiff_h3_conn *h);

/* Client- or server-initiated, bidirectional or not (RFC 9000 §2.1). */
static inline bool h3_id_is_bidi(uint64_t id) { return (id & 2) == 0; }
static inline bool h3_id_is_client(uint64_t id) { return (id & 1) == 0; }

/* h3_request.c */
void h3_request_on_readable(skiff_h3_conn *h, h3_stream *st);
void h3_request_on_reset(skiff_h3_conn *h, h3_stream *st, uint64_t code);
void h3_request_on_stop_sending(skiff_h3_conn *h, h3_stream *st, uint64_t code);
void h3_request_resume(skiff_h3_conn *h, h3_stream *st);
void h3_request_abort(skiff_h3_conn *h, h3_stream *st, uint64_t code, bool by_peer);
bool h3_request_finished(const h3_stream *st);
/* Frees a request stream once both directions are over. */
void h3_request_maybe_release(skiff_h3_conn *h, h3_stream *st);

#endif
