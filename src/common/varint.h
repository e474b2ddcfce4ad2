/*
 * QUIC variable-length integers (RFC 9000 §16).
 *
 * The two most significant bits of the first byte give the length: 00 = 1
 * byte (6-bit value), 01 = 2 bytes (14-bit), 10 = 4 bytes (30-bit), 11 = 8
 * bytes (62-bit). Decoding accepts non-minimal encodings (§16: "values do not
 * need to be encoded on the minimum number of bytes"); encoding is minimal
 * unless a length is forced, as for a length field reserved before its value
 * is known.
 *
 * These are inline because every frame and header on the hot path uses them.
 */
#ifndef SKIFF_COMMON_VARINT_H
#define SKIFF_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_VARINT_MAX ((UINT64_C(1) << 62) - 1)

/* The minimal encoded length of v: 1, 2, 4 or 8; 0 if v > 2^62-1. */
static inline size_t skiff_varint_len(uint64_t v)
{
    if (v < 64) return 1;
    if (v < 16384) return 2;
    if (v < 1073741824) return 4;
    if (v <= SKIFF_VARINT_MAX) return 8;
    return 0;
}

/* The encoded length announced by a first byte. */
static inline size_t skiff_varint_len_from_first(uint8_t first)
{
    return (size_t)1 << (first >> 6);
}

/*
 * Writes v in exactly `len` bytes (1, 2, 4 or 8) and returns the byte after it.
 * The caller has checked that v fits in len and that the buffer has room.
 */
static inline uint8_t *skiff_varint_encode_len(uint8_t *p, uint64_t v, size_t len)
{
    switch (len) {
    case 1: p[0] = (uint8_t)v; return p + 1;
    case 2:
        p[0] = (uint8_t)(0x40 | (v >> 8));
        p[1] = (uint8_t)v;
        return p + 2;
    case 4:
        p[0] = (uint8_t)(0x80 | (v >> 24));
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
        return p + 4;
    default:
        p[0] = (uint8_t)(0xc0 | (v >> 56));
        p[1] = (uint8_t)(v >> 48);
        p[2] = (uint8_t)(v >> 40);
        p[3] = (uint8_t)(v >> 32);
        p[4] = (uint8_t)(v >> 24);
        p[5] = (uint8_t)(v >> 16);
        p[6] = (uint8_t)(v >> 8);
        p[7] = (uint8_t)v;
        return p + 8;
    }
}

/* Writes v minimally (v <= 2^62-1, room checked) and returns the byte after it. */
static inline uint8_t *skiff_varint_encode(uint8_t *p, uint64_t v)
{
    return skiff_varint_encode_len(p, v, skiff_varint_len(v));
}

/*
 * Decodes one varint from p[0..len). Returns the number of bytes consumed, or
 * SKIFF_ERR_TRUNCATED if the buffer ends inside it.
 */
static inline skiff_ssize skiff_varint_decode(const uint8_t *p, size_t len, uint64_t *out)
{
    if (len == 0) return SKIFF_ERR_TRUNCATED;
    size_t n = skiff_varint_len_from_first(p[0]);
    if (n > len) return SKIFF_ERR_TRUNCATED;
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < n; i++) v = (v << 8) | p[i];
    *out = v;
    return (skiff_ssize)n;
}

#endif
