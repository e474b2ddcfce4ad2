/*
 * Bounds-checked cursors over byte buffers, used by every wire codec.
 *
 * A reader never reads past `end`: each getter returns SKIFF_ERR_TRUNCATED
 * and leaves the cursor where it was when the field does not fit. A writer
 * never writes past `end`: each putter returns SKIFF_ERR_BUFFER_TOO_SMALL.
 * Multi-byte integers are in network byte order.
 *
 * Invariant of both: pos <= end.
 */
#ifndef SKIFF_COMMON_WIRE_H
#define SKIFF_COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/varint.h"

typedef struct skiff_reader {
    const uint8_t *pos;
    const uint8_t *end;
} skiff_reader;

typedef struct skiff_writer {
    uint8_t *pos;
    uint8_t *end;
} skiff_writer;

static inline skiff_reader skiff_reader_make(const uint8_t *p, size_t len)
{
    skiff_reader r = {p, p + len};
    return r;
}

static inline size_t skiff_reader_left(const skiff_reader *r)
{
    return (size_t)(r->end - r->pos);
}

static inline int skiff_reader_u8(skiff_reader *r, uint8_t *v)
{
    if (r->pos == r->end) return SKIFF_ERR_TRUNCATED;
    *v = *r->pos++;
    return 0;
}

static inline int skiff_reader_u16(skiff_reader *r, uint16_t *v)
{
    if (skiff_reader_left(r) < 2) return SKIFF_ERR_TRUNCATED;
    *v = (uint16_t)((r->pos[0] << 8) | r->pos[1]);
    r->pos += 2;
    return 0;
}

static inline int skiff_reader_u32(skiff_reader *r, uint32_t *v)
{
    if (skiff_reader_left(r) < 4) return SKIFF_ERR_TRUNCATED;
    *v = ((uint32_t)r->pos[0] << 24) | ((uint32_t)r->pos[1] << 16) | ((uint32_t)r->pos[2] << 8) |
         r->pos[3];
    r->pos += 4;
    return 0;
}

static inline int skiff_reader_varint(skiff_reader *r, uint64_t *v)
{
    skiff_ssize n = skiff_varint_decode(r->pos, skiff_reader_left(r), v);
    if (n < 0) return (int)n;
    r->pos += n;
    return 0;
}

/* Points *p at the next n bytes (no copy) and skips them. */
static inline int skiff_reader_bytes(skiff_reader *r, size_t n, const uint8_t **p)
{
    if (skiff_reader_left(r) < n) return SKIFF_ERR_TRUNCATED;
    *p = r->pos;
    r->pos += n;
    return 0;
}

static inline skiff_writer skiff_writer_make(uint8_t *p, size_t cap)
{
    skiff_writer w = {p, p + cap};
    return w;
}

static inline size_t skiff_writer_left(const skiff_writer *w)
{
    return (size_t)(w->end - w->pos);
}

static inline int skiff_writer_u8(skiff_writer *w, uint8_t v)
{
    if (w->pos == w->end) return SKIFF_ERR_BUFFER_TOO_SMALL;
    *w->pos++ = v;
    return 0;
}

static inline int skiff_writer_u16(skiff_writer *w, uint16_t v)
{
    if (skiff_writer_left(w) < 2) return SKIFF_ERR_BUFFER_TOO_SMALL;
    w->pos[0] = (uint8_t)(v >> 8);
    w->pos[1] = (uint8_t)v;
    w->pos += 2;
    return 0;
}

static inline int skiff_writer_u32(skiff_writer *w, uint32_t v)
{
    if (skiff_writer_left(w) < 4) return SKIFF_ERR_BUFFER_TOO_SMALL;
    w->pos[0] = (uint8_t)(v >> 24);
    w->pos[1] = (uint8_t)(v >> 16);
    w->pos[2] = (uint8_t)(v >> 8);
    w->pos[3] = (uint8_t)v;
    w->pos += 4;
    return 0;
}

/* Minimal encoding; SKIFF_ERR_INVALID_ARGUMENT if v > 2^62-1. */
static inline int skiff_writer_varint(skiff_writer *w, uint64_t v)
{
    size_t n = skiff_varint_len(v);
    if (n == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    if (skiff_writer_left(w) < n) return SKIFF_ERR_BUFFER_TOO_SMALL;
    w->pos = skiff_varint_encode_len(w->pos, v, n);
    return 0;
}

static inline int skiff_writer_bytes(skiff_writer *w, const void *p, size_t n)
{
    if (skiff_writer_left(w) < n) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (n) memcpy(w->pos, p, n);
    w->pos += n;
    return 0;
}

#endif
