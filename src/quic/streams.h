/*
 * The stream map of a connection (RFC 9000 §2.1, §3, §4, §19.4-§19.14):
 * stream IDs and their limits, lookup, connection-level flow control, the
 * checks of each stream frame against the stream's type and state, and the
 * two work lists the packet builder walks: streams with data to send (round
 * robin) and streams with a control frame to send.
 *
 * Ownership: the map allocates streams and frees a stream as soon as both of
 * its halves are finished (skiff_stream_is_finished), returning MAX_STREAMS
 * credit for streams the peer opened. The application therefore refers to
 * streams by ID; a pointer from the map is only valid until the next call
 * that may finish the stream (acks, reads, resets). A frame for an ID that
 * was opened and has since been freed is ignored.
 */
#ifndef SKIFF_QUIC_STREAMS_H
#define SKIFF_QUIC_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/flow_control.h"
#include "quic/frame.h"
#include "quic/role.h"
#include "quic/stream.h"
#include "quic/transport_params.h"

typedef struct skiff_streams_config {
    skiff_role role;
    /* What we advertise (our transport parameters, §18.2). */
    uint64_t max_streams_bidi;          /* initial_max_streams_bidi */
    uint64_t max_streams_uni;           /* initial_max_streams_uni */
    uint64_t stream_window_bidi_local;  /* initial_max_stream_data_bidi_local */
    uint64_t stream_window_bidi_remote; /* initial_max_stream_data_bidi_remote */
    uint64_t stream_window_uni;         /* initial_max_stream_data_uni */
    uint64_t conn_window;               /* initial_max_data */
    /* Auto-tuning caps (e.g. 16 MiB per stream, 24 MiB per connection). */
    uint64_t max_stream_window;
    uint64_t max_conn_window;
    size_t send_buffer;     /* per-stream send buffer cap */
    size_t recv_max_ranges; /* per-stream receive gap cap (0: the default) */
    /* The chunk pool to take buffers from, shared with the CRYPTO streams;
     * NULL: the map keeps its own, holding at most pool_max_free spare chunks. */
    skiff_stream_pool *pool;
    size_t pool_max_free;
} skiff_streams_config;

/* The peer's transport parameters that bound what we send. */
typedef struct skiff_streams_peer_limits {
    uint64_t max_data;
    uint64_t max_stream_data_bidi_local;  /* for streams the peer opens */
    uint64_t max_stream_data_bidi_remote; /* for bidirectional streams we open */
    uint64_t max_stream_data_uni;         /* for unidirectional streams we open */
    uint64_t max_streams_bidi;
    uint64_t max_streams_uni;
} skiff_streams_peer_limits;

/* Per stream type (the two low ID bits). */
typedef struct skiff_streams_type {
    uint64_t opened; /* streams of this type opened so far: the next index */
    uint64_t limit;  /* local type: the peer's MAX_STREAMS; remote: ours */
    /* Local types: STREAMS_BLOCKED (§19.14), one per limit value. */
    uint64_t blocked_at;
    bool blocked_pending;
    /* Remote types: credit returned as streams finish (§4.6). */
    uint64_t initial;    /* our initial limit: the streams the peer may have open */
    uint64_t finished;   /* streams freed */
    uint64_t sent_limit; /* the largest MAX_STREAMS sent */
    bool update_pending;
    uint64_t accepted; /* streams handed to the application by accept */
} skiff_streams_type;

typedef struct skiff_streams {
    skiff_streams_config cfg;
    skiff_stream_pool *pool; /* cfg.pool or own_pool */
    skiff_stream_pool own_pool;
    skiff_stream **table; /* open addressing, linear probing, by ID */
    size_t table_cap;     /* a power of two */
    size_t count;
    skiff_streams_type types[4]; /* indexed by id & 3 */
    skiff_streams_peer_limits peer;
    skiff_fc_send tx_fc; /* the peer's MAX_DATA */
    skiff_fc_recv rx_fc; /* our MAX_DATA */
    skiff_stream *send_head, *send_tail;
    skiff_stream *ctl_head, *ctl_tail;
} skiff_streams;

/* Returns 0 or SKIFF_ERR_INVALID_ARGUMENT (a limit over 2^60). */
int skiff_streams_init(skiff_streams *m, const skiff_streams_config *cfg);
/* Frees every stream (and the pool if the map owns it). */
void skiff_streams_free(skiff_streams *m);

/* The peer's transport parameters arrived: limits only ever rise. */
void skiff_streams_set_peer_limits(skiff_streams *m, const skiff_streams_peer_limits *p);
/* The same, taken from the peer's transport parameters (§18.2). */
void skiff_streams_set_peer_params(skiff_streams *m, const skiff_transport_params *tp);

/* ---- The application ---------------------------------------------------- */

/*
 * Opens a local stream. Returns 0 and *id; SKIFF_ERR_STREAM_LIMIT when the
 * peer's MAX_STREAMS allows no more (a STREAMS_BLOCKED is then queued; wait
 * for MAX_STREAMS); SKIFF_ERR_NOMEM.
 */
int skiff_streams_open(skiff_streams *m, bool bidi, uint64_t *id);

/* The next stream the peer opened that the application has not seen yet. */
bool skiff_streams_accept(skiff_streams *m, bool bidi, uint64_t *id);

/* The stream with this ID, or NULL (never opened, or finished and freed). */
skiff_stream *skiff_streams_find(const skiff_streams *m, uint64_t id);

/* Writes to a stream (stream_send.h's rules). SKIFF_ERR_INVALID_ARGUMENT for
 * an unknown ID, SKIFF_ERR_STREAM_STATE for a stream we cannot send on. */
skiff_ssize skiff_streams_write(skiff_streams *m, uint64_t id, const uint8_t *data, size_t len,
                                bool fin);

/*
 * Reads from a stream and returns the credit to the peer (stream and
 * connection windows, auto-tuned with `now` and the smoothed RTT). *fin as
 * for skiff_stream_recv_read. SKIFF_ERR_INVALID_ARGUMENT for an unknown ID,
 * SKIFF_ERR_STREAM_STATE for a stream we cannot receive on.
 */
skiff_ssize skiff_streams_read(skiff_streams *m, uint64_t id, uint8_t *dst, size_t cap, bool *fin,
                               skiff_time now, skiff_time srtt);

/* Whether the peer reset the stream, and its code; the application has
 * then been told (Reset Read) and the stream may be freed. */
bool skiff_streams_take_reset(skiff_streams *m, uint64_t id, uint64_t *code);

/* Abandons sending (RESET_STREAM, §3.1) / receiving (STOP_SENDING, §3.5).
 * Return 0 or SKIFF_ERR_INVALID_ARGUMENT / SKIFF_ERR_STREAM_STATE. */
int skiff_streams_reset(skiff_streams *m, uint64_t id, uint64_t code);
int skiff_streams_stop_sending(skiff_streams *m, uint64_t id, uint64_t code);

/* ---- Frames from the peer ------------------------------------------------- */
/*
 * Each returns 0 or the connection error: SKIFF_ERR_STREAM_STATE (a frame a
 * stream of that type cannot receive, or for a local stream not yet opened),
 * SKIFF_ERR_STREAM_LIMIT (a remote stream beyond our MAX_STREAMS, §4.6),
 * SKIFF_ERR_FLOW_CONTROL, SKIFF_ERR_FINAL_SIZE, SKIFF_ERR_PROTOCOL_VIOLATION
 * (too fragmented), SKIFF_ERR_NOMEM.
 */
int skiff_streams_on_stream(skiff_streams *m, const skiff_frame_stream *f);
int skiff_streams_on_reset_stream(skiff_streams *m, const skiff_frame_reset_stream *f);
int skiff_streams_on_stop_sending(skiff_streams *m, const skiff_frame_stop_sending *f);
int skiff_streams_on_max_data(skiff_streams *m, const skiff_frame_max_data *f);
int skiff_streams_on_max_stream_data(skiff_streams *m, const skiff_frame_max_stream_data *f);
int skiff_streams_on_max_streams(skiff_streams *m, const skiff_frame_max_streams *f);
int skiff_streams_on_stream_data_blocked(skiff_streams *m,
                                         const skiff_frame_stream_data_blocked *f);

/* ---- The packet builder ----------------------------------------------------- */

/*
 * The next STREAM frame: the first stream of the round-robin list that can
 * send within its own and the connection's credit, at most max_len bytes.
 * Streams held back by credit get their (STREAM_)DATA_BLOCKED queued.
 * Returns false when no stream can send.
 */
bool skiff_streams_next_stream_frame(skiff_streams *m, uint64_t max_len, skiff_stream **st,
                                     uint64_t *offset, size_t *len, bool *fin);
/* The frame from next_stream_frame was written (its data copied with
 * skiff_stream_send_copy): the stream goes to the back of the list. */
void skiff_streams_on_stream_sent(skiff_streams *m, skiff_stream *st, uint64_t offset, size_t len,
                                  bool fin);
void skiff_streams_on_stream_acked(skiff_streams *m, uint64_t id, uint64_t offset, size_t len,
                                   bool fin);
void skiff_streams_on_stream_lost(skiff_streams *m, uint64_t id, uint64_t offset, size_t len,
                                  bool fin);

/*
 * The next control frame: MAX_DATA, DATA_BLOCKED, MAX_STREAMS,
 * STREAMS_BLOCKED, then the streams' RESET_STREAM, STOP_SENDING,
 * MAX_STREAM_DATA, STREAM_DATA_BLOCKED. The same frame comes back until
 * on_control_sent reports it written.
 */
bool skiff_streams_next_control(skiff_streams *m, skiff_frame *f);
void skiff_streams_on_control_sent(skiff_streams *m, const skiff_frame *f);
void skiff_streams_on_control_acked(skiff_streams *m, const skiff_frame *f);
void skiff_streams_on_control_lost(skiff_streams *m, const skiff_frame *f);

#endif
