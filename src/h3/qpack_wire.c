/*
 * QPACK integers and string literals (RFC 9204 §4.1.1, §4.1.2; RFC 7541
 * §5.1, §5.2).
 *
 * An integer below 2^N - 1 fits in its N-bit prefix; otherwise the prefix is
 * all ones and the rest, v - (2^N - 1), follows in 7-bit groups, least
 * significant first, the top bit of each byte saying "more". Decoding stops
 * at 62 bits (§4.1.1) so a peer cannot overflow the value or make us read
 * an endless run of continuation bytes.
 */
#include "h3/qpack_wire.h"

#include <string.h>

#include "h3/qpack_huffman.h"

size_t skiff_qpack_int_len(uint64_t v, unsigned prefix)
{
    uint64_t max = (UINT64_C(1) << prefix) - 1;
    if (v < max) return 1;
    size_t n = 2;
    for (v -= max; v >= 128; v >>= 7)
        n++;
    return n;
}

skiff_ssize skiff_qpack_int_encode(uint8_t *out, size_t cap, uint8_t flags, unsigned prefix,
                                   uint64_t v)
{
    size_t n = skiff_qpack_int_len(v, prefix);
    if (n > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    uint64_t max = (UINT64_C(1) << prefix) - 1;
    if (v < max) {
        out[0] = (uint8_t)(flags | v);
        return 1;
    }
    out[0] = (uint8_t)(flags | max);
    v -= max;
    size_t i = 1;
    for (; v >= 128; v >>= 7)
        out[i++] = (uint8_t)(0x80 | (v & 0x7f));
    out[i++] = (uint8_t)v;
    return (skiff_ssize)i;
}

skiff_ssize skiff_qpack_int_decode(const uint8_t *p, size_t len, unsigned prefix, uint64_t *v)
{
    if (len == 0) return SKIFF_ERR_TRUNCATED;
    uint64_t max = (UINT64_C(1) << prefix) - 1;
    uint64_t value = p[0] & max;
    if (value < max) {
        *v = value;
        return 1;
    }
    /* 62 bits are at most 9 groups of 7: a tenth continuation byte, or
     * bits beyond 2^62, cannot belong to a valid value. */
    for (size_t i = 1, shift = 0; i < len; i++, shift += 7) {
        uint64_t group = p[i] & 0x7f;
        if (shift > 56) return SKIFF_ERR_PROTOCOL_VIOLATION;
        value += group << shift;
        if (value > SKIFF_QPACK_INT_MAX) return SKIFF_ERR_PROTOCOL_VIOLATION;
        if (!(p[i] & 0x80)) {
            *v = value;
            return (skiff_ssize)(i + 1);
        }
    }
    return SKIFF_ERR_TRUNCATED;
}

size_t skiff_qpack_string_len(const uint8_t *s, size_t n, unsigned prefix, bool *huffman)
{
    size_t h = skiff_qpack_huffman_encoded_len(s, n);
    *huffman = h < n;
    size_t body = *huffman ? h : n;
    return skiff_qpack_int_len(body, prefix) + body;
}

skiff_ssize skiff_qpack_string_encode(uint8_t *out, size_t cap, uint8_t flags, unsigned prefix,
                                      const uint8_t *s, size_t n)
{
    size_t h = skiff_qpack_huffman_encoded_len(s, n);
    bool huffman = h < n;
    size_t body = huffman ? h : n;
    skiff_ssize hl = skiff_qpack_int_encode(
        out, cap, (uint8_t)(flags | (huffman ? 1u << prefix : 0)), prefix, body);
    if (hl < 0) return hl;
    if (cap - (size_t)hl < body) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (huffman)
        skiff_qpack_huffman_encode(out + hl, s, n);
    else if (n)
        memcpy(out + hl, s, n);
    return hl + (skiff_ssize)body;
}

skiff_ssize skiff_qpack_string_header(const uint8_t *p, size_t len, unsigned prefix, bool *huffman,
                                      uint64_t *str_len)
{
    if (len == 0) return SKIFF_ERR_TRUNCATED;
    *huffman = (p[0] >> prefix) & 1;
    return skiff_qpack_int_decode(p, len, prefix, str_len);
}
