/*
 * The Huffman code of HPACK (RFC 7541 §5.2, Appendix B), which QPACK string
 * literals use when their H bit is set (RFC 9204 §4.1.2).
 *
 * Decoding is strict: the EOS symbol inside a string, padding longer than 7
 * bits and padding that is not a prefix of EOS (all ones) are errors
 * (RFC 7541 §5.2).
 */
#ifndef SKIFF_H3_QPACK_HUFFMAN_H
#define SKIFF_H3_QPACK_HUFFMAN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* The most bytes n Huffman-coded bytes can decode to (the shortest code has
 * 5 bits). Never overflows. */
static inline size_t skiff_qpack_huffman_decoded_max(size_t n)
{
    return n / 5 * 8 + n % 5 * 8 / 5;
}

/* The fewest bytes n Huffman-coded bytes can decode to: at least 8n - 7 bits
 * are codes (the rest is padding) and the longest code has 30 bits. */
static inline size_t skiff_qpack_huffman_decoded_min(size_t n)
{
    if (n == 0) return 0;
    if (n > SIZE_MAX / 8) return SIZE_MAX / 30;
    return (n * 8 - 7) / 30;
}

/* The length of s[0..n) once Huffman-coded, padding included. */
size_t skiff_qpack_huffman_encoded_len(const uint8_t *s, size_t n);

/* Writes s[0..n) Huffman-coded to out, which has room for
 * skiff_qpack_huffman_encoded_len(s, n) bytes. Returns that length. */
size_t skiff_qpack_huffman_encode(uint8_t *out, const uint8_t *s, size_t n);

/* Decodes src[0..n) into out[0..cap). Returns the decoded length,
 * SKIFF_ERR_BUFFER_TOO_SMALL if it does not fit in cap (checked before each
 * byte is written, so cap bounds the work and the memory), or
 * SKIFF_ERR_PROTOCOL_VIOLATION for EOS, bad padding or a cut-off code. */
skiff_ssize skiff_qpack_huffman_decode(uint8_t *out, size_t cap, const uint8_t *src, size_t n);

#endif
