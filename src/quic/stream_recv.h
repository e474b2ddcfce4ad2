/*
 * The receiving half of a QUIC stream (RFC 9000 §2.2, §3.2, §4.5), also the
 * receiving side of each CRYPTO stream (§7.5, §19.6).
 *
 * Out-of-order data is written straight into pooled chunks at its offset
 * (stream_send.h's skiff_stream_chunks), and `received` records which
 * offsets at or above the read offset have arrived. Chunks are allocated
 * only when data lands in them, so an idle stream holds no buffer, and a
 * chunk returns to the pool once the application has read past it. Memory
 * is bounded by the flow-control window (the caller passes the limit) or,
 * for CRYPTO, by crypto_cap bytes beyond the read offset.
 *
 *   0        read_off     contiguous end      highest     limit
 *   |--read--|--readable---|--holes and data--|--- free ---|
 *
 * A peer that scatters tiny fragments across the window would make
 * `received` grow one range per fragment. It is capped (max_ranges): a
 * fragment that would need one more range than that is refused with
 * SKIFF_ERR_PROTOCOL_VIOLATION for a stream (the connection closes) and
 * SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED for CRYPTO. Dropping instead is not an
 * option: the packet carrying it would still be acknowledged, so the peer
 * would never send the bytes again and the stream would stall.
 */
#ifndef SKIFF_QUIC_STREAM_RECV_H
#define SKIFF_QUIC_STREAM_RECV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/range_set.h"
#include "quic/stream_send.h"
#include "skiff/skiff.h"

#define SKIFF_STREAM_RECV_MAX_RANGES 1024 /* default gap cap of a stream */
#define SKIFF_CRYPTO_RECV_MAX_RANGES 64   /* gap cap of a CRYPTO stream */
#define SKIFF_CRYPTO_BUFFER_CAP 65536     /* CRYPTO bytes buffered beyond the read offset */
#define SKIFF_FINAL_SIZE_UNKNOWN UINT64_MAX

typedef struct skiff_stream_recv {
    skiff_stream_pool *pool;
    skiff_stream_chunks chunks;
    skiff_range_set received; /* offsets that arrived, at or above read_off */
    uint64_t read_off;        /* consumed by the application (or discarded) */
    uint64_t highest;         /* the largest offset received (end of the data) */
    uint64_t final_size;      /* SKIFF_FINAL_SIZE_UNKNOWN until a FIN or RESET_STREAM */
    uint64_t crypto_cap;      /* 0 for a stream; the CRYPTO buffering cap otherwise */
    uint64_t reset_code;
    bool reset;      /* a RESET_STREAM arrived (Reset Recvd) */
    bool reset_read; /* the application was told (Reset Read) */
    bool fin_read;   /* the application read up to the FIN (Data Read) */
    bool discard;    /* the application stopped reading (STOP_SENDING, §3.5) */
} skiff_stream_recv;

/* A stream's receiving half: at most max_ranges gaps tracked (0: the default). */
void skiff_stream_recv_init(skiff_stream_recv *r, skiff_stream_pool *pool, size_t max_ranges);
/* A CRYPTO stream's: no flow control, no FIN; SKIFF_CRYPTO_BUFFER_CAP. */
void skiff_stream_recv_init_crypto(skiff_stream_recv *r, skiff_stream_pool *pool);
void skiff_stream_recv_cleanup(skiff_stream_recv *r);

/*
 * A STREAM (or CRYPTO) frame's data [offset, offset + len), with its FIN.
 * `limit` is the flow-control limit for the stream (ignored for CRYPTO).
 * *fresh is set to how far the highest received offset moved (the
 * connection-level flow control counts that). Duplicates and overlaps are
 * accepted (the first copy of a byte is kept). Returns 0 or:
 *   SKIFF_ERR_FINAL_SIZE     data beyond a known final size, a FIN at a
 *                            different final size, or a final size below
 *                            data already received (§4.5);
 *   SKIFF_ERR_FLOW_CONTROL   data beyond `limit` (§4.1);
 *   SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED  CRYPTO data more than crypto_cap
 *                            beyond the read offset, or too fragmented (§7.5);
 *   SKIFF_ERR_PROTOCOL_VIOLATION      stream data too fragmented (see above);
 *   SKIFF_ERR_NOMEM.
 */
int skiff_stream_recv_on_data(skiff_stream_recv *r, uint64_t offset, const uint8_t *data,
                              size_t len, bool fin, uint64_t limit, uint64_t *fresh);

/*
 * A RESET_STREAM with `final_size` and `code` (§19.4). The same final size
 * rules as on_data apply, and final_size beyond `limit` is FLOW_CONTROL. A
 * stream whose data has all arrived (Data Recvd) keeps it and ignores the
 * reset (§3.2 makes the transition optional); otherwise the buffer is
 * dropped and read_off jumps to final_size. *fresh as for on_data.
 */
int skiff_stream_recv_on_reset(skiff_stream_recv *r, uint64_t final_size, uint64_t code,
                               uint64_t limit, uint64_t *fresh);

/*
 * Copies up to cap contiguous bytes from the read offset into dst. *fin is
 * set when the returned bytes end at the final size (then the stream is
 * Data Read). Returns the byte count, 0 when nothing is readable yet (or
 * after a reset: see skiff_stream_recv_take_reset).
 */
skiff_ssize skiff_stream_recv_read(skiff_stream_recv *r, uint8_t *dst, size_t cap, bool *fin);

/* Zero-copy: the readable bytes at the read offset that sit in one chunk
 * (*data, returned length), and whether they end at the FIN. */
size_t skiff_stream_recv_peek(const skiff_stream_recv *r, const uint8_t **data, bool *fin);
/* Consumes n bytes (at most what peek and readable returned). */
void skiff_stream_recv_consume(skiff_stream_recv *r, size_t n);

/* Bytes readable now. */
uint64_t skiff_stream_recv_readable(const skiff_stream_recv *r);

/* After a reset: the application learns it (Reset Read). False if no reset. */
bool skiff_stream_recv_take_reset(skiff_stream_recv *r, uint64_t *code);

/* The application no longer reads (STOP_SENDING): buffered and later data
 * is discarded and counted as read, and a later reset is taken as read. */
void skiff_stream_recv_stop(skiff_stream_recv *r);

/* Every byte up to a known final size has arrived. */
bool skiff_stream_recv_all_received(const skiff_stream_recv *r);

#endif
