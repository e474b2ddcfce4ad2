/*
 * The sending half of a QUIC stream (RFC 9000 §2.2, §3.1, §3.5, §4.5),
 * also the sending side of each CRYPTO stream (§19.6: CRYPTO data is a
 * stream without flow control, FIN or reset).
 *
 * The application's bytes are copied into fixed-size chunks that come from a
 * pool shared by every stream of a connection (skiff_stream_pool), so a large
 * write never reallocates and copies what is already buffered; a chunk goes
 * back to the pool once everything in it has been acknowledged.
 *
 *   0            acked_end            max_sent          written
 *   |--- freed ----|--acked/unacked----|----- unsent -----|
 *                  ^ chunks are held from here (rounded down to a chunk)
 *
 * `pending` holds the offsets to (re)transmit: new data is appended to it
 * and lost data is put back; `acked` holds acknowledged ranges above
 * acked_end. The packet builder asks skiff_stream_send_next() what to send,
 * copies the bytes with skiff_stream_send_copy(), and reports what became of
 * each frame through on_sent / on_acked / on_lost.
 *
 * The chunk storage (pool + chunk ring) is shared with the receiving half
 * (stream_recv.h) and lives here.
 */
#ifndef SKIFF_QUIC_STREAM_SEND_H
#define SKIFF_QUIC_STREAM_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/range_set.h"
#include "skiff/skiff.h"

#define SKIFF_STREAM_CHUNK_SIZE 16384u /* bytes per buffer chunk (a power of two) */

/*
 * A free list of chunks shared by the streams of a connection. Chunks beyond
 * max_free go back to the allocator, so an idle connection does not keep the
 * memory of its busiest moment. `live` counts chunks handed out and not yet
 * returned (tests use it to see that acknowledged data is freed).
 */
typedef struct skiff_stream_pool {
    void *free_list; /* singly linked through the first bytes of each chunk */
    size_t free_count;
    size_t max_free;
    size_t live;
} skiff_stream_pool;

void skiff_stream_pool_init(skiff_stream_pool *p, size_t max_free);
/* Frees the cached chunks; every chunk must have been returned. */
void skiff_stream_pool_cleanup(skiff_stream_pool *p);
/* A chunk of SKIFF_STREAM_CHUNK_SIZE bytes (uninitialised), or NULL. */
uint8_t *skiff_stream_pool_get(skiff_stream_pool *p);
void skiff_stream_pool_put(skiff_stream_pool *p, uint8_t *chunk);

/*
 * The chunks that hold a window of stream offsets: chunk k holds offsets
 * [k * CHUNK, (k + 1) * CHUNK). Slots form a power-of-two ring indexed by
 * k, for chunks k in [base, base + cap); NULL slots are not allocated yet.
 */
typedef struct skiff_stream_chunks {
    uint8_t **slots;
    size_t cap;    /* slots (a power of two, or 0) */
    uint64_t base; /* the lowest chunk index held */
} skiff_stream_chunks;

/* The chunk holding `offset`, allocated if `alloc` (NULL on failure, or when
 * not allocated and !alloc). Offsets below base are gone. */
uint8_t *skiff_stream_chunks_at(skiff_stream_chunks *c, skiff_stream_pool *p, uint64_t offset,
                                bool alloc);
/* Copies data into [offset, offset + len), allocating chunks. Returns 0 or
 * SKIFF_ERR_NOMEM (some chunks may then have been filled). */
int skiff_stream_chunks_write(skiff_stream_chunks *c, skiff_stream_pool *p, uint64_t offset,
                              const uint8_t *data, size_t len);
/* Copies [offset, offset + len) out; every chunk in it must exist. */
void skiff_stream_chunks_read(const skiff_stream_chunks *c, uint64_t offset, uint8_t *dst,
                              size_t len);
/* Returns to the pool every chunk that lies wholly below `offset`. */
void skiff_stream_chunks_release_below(skiff_stream_chunks *c, skiff_stream_pool *p,
                                       uint64_t offset);
/* Returns every chunk and frees the ring. */
void skiff_stream_chunks_free(skiff_stream_chunks *c, skiff_stream_pool *p);

#define SKIFF_STREAM_SEND_MAX_RANGES 256 /* cap of the pending and acked sets */

typedef struct skiff_stream_send {
    skiff_stream_pool *pool;
    skiff_stream_chunks chunks;
    size_t buffer_cap;       /* most unacknowledged bytes held: written - acked_end */
    uint64_t written;        /* bytes the application wrote */
    uint64_t max_sent;       /* end of the highest byte sent: new data starts here */
    uint64_t acked_end;      /* everything below is acknowledged (and freed) */
    skiff_range_set pending; /* offsets to (re)transmit */
    skiff_range_set acked;   /* acknowledged ranges above acked_end */
    bool started;            /* a STREAM or STREAM_DATA_BLOCKED frame went out (Ready -> Send) */
    bool fin;                /* the application ended the stream: final size = written */
    bool fin_pending;        /* the FIN still has to be (re)sent */
    bool fin_sent;
    bool fin_acked;
    bool reset;         /* the stream was reset: no more data is sent */
    bool reset_pending; /* the RESET_STREAM still has to be (re)sent */
    bool reset_sent;
    bool reset_acked;
    uint64_t reset_code; /* application error code of the RESET_STREAM */
    uint64_t final_size; /* valid once fin or reset */
} skiff_stream_send;

/* buffer_cap: the most bytes written but not yet acknowledged (>= 1). */
void skiff_stream_send_init(skiff_stream_send *s, skiff_stream_pool *pool, size_t buffer_cap);
/* Returns every chunk and frees the range sets. */
void skiff_stream_send_cleanup(skiff_stream_send *s);

/*
 * Copies up to len bytes of data into the send buffer; with fin, the stream
 * ends after them if they all fit. Returns the bytes accepted (0 when the
 * buffer is full: wait until acknowledgments free room),
 * SKIFF_ERR_STREAM_STATE after a FIN or a reset, SKIFF_ERR_INVALID_ARGUMENT
 * past offset 2^62 - 1 (§19.8), or SKIFF_ERR_NOMEM.
 */
skiff_ssize skiff_stream_send_write(skiff_stream_send *s, const uint8_t *data, size_t len,
                                    bool fin);

/* Bytes the application could write now. */
size_t skiff_stream_send_writable(const skiff_stream_send *s);

/*
 * What to send next: the lowest pending range, at most max_len bytes, and
 * new data (at or above max_sent) only below flow_limit_offset; lost data
 * below max_sent needs no new credit (§4.1 counts the largest offset sent).
 * fin is set when the range ends at the final size and the FIN is pending; a
 * FIN alone is offered as len == 0. Returns false when there is nothing to
 * send within the limits.
 */
bool skiff_stream_send_next(const skiff_stream_send *s, uint64_t max_len,
                            uint64_t flow_limit_offset, uint64_t *offset, size_t *len, bool *fin);

/* Whether data is waiting that the flow limit alone holds back. */
bool skiff_stream_send_flow_blocked(const skiff_stream_send *s, uint64_t flow_limit_offset);

/* Whether anything (data or a FIN) waits to be sent, regardless of limits. */
bool skiff_stream_send_has_pending(const skiff_stream_send *s);

/* Copies [offset, offset + len) into dst; the range must be held (offered by
 * skiff_stream_send_next and not yet acknowledged). */
void skiff_stream_send_copy(const skiff_stream_send *s, uint64_t offset, size_t len, uint8_t *dst);

/* A frame carrying [offset, offset + len) (and the FIN) was sent. Returns the
 * number of new bytes (beyond the previous max_sent), for connection credit. */
uint64_t skiff_stream_send_on_sent(skiff_stream_send *s, uint64_t offset, size_t len, bool fin);
/* It was acknowledged: chunks wholly below the contiguous acknowledged
 * offset go back to the pool. */
void skiff_stream_send_on_acked(skiff_stream_send *s, uint64_t offset, size_t len, bool fin);
/* It was lost: what is not already acknowledged is queued again. */
void skiff_stream_send_on_lost(skiff_stream_send *s, uint64_t offset, size_t len, bool fin);

/*
 * The application (or a STOP_SENDING, §3.5) abandons the stream: no more data
 * is sent or retransmitted, the buffer is freed, and a RESET_STREAM with
 * `code` and final size = the largest offset sent is queued (§19.4). Does
 * nothing once all data was acknowledged or a reset already happened.
 */
void skiff_stream_send_reset(skiff_stream_send *s, uint64_t code);

/* The RESET_STREAM to send, when one is pending. */
bool skiff_stream_send_reset_frame(const skiff_stream_send *s, uint64_t *code,
                                   uint64_t *final_size);
void skiff_stream_send_on_reset_sent(skiff_stream_send *s);
void skiff_stream_send_on_reset_acked(skiff_stream_send *s);
void skiff_stream_send_on_reset_lost(skiff_stream_send *s);

/* Every byte and the FIN acknowledged (Data Recvd, §3.1). */
static inline bool skiff_stream_send_all_acked(const skiff_stream_send *s)
{
    return s->fin && s->fin_acked && s->acked_end == s->final_size;
}

#endif
