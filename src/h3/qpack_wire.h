/*
 * QPACK primitives (RFC 9204 §4.1): N-bit prefix integers (RFC 7541 §5.1)
 * and string literals with an H bit (RFC 7541 §5.2).
 *
 * A prefixed integer shares its first byte with a few flag bits above the
 * prefix; `flags` carries those bits when encoding. A string literal is an
 * H bit just above its length's prefix (bit `prefix`), the length, then the
 * bytes, Huffman-coded when H is set.
 */
#ifndef SKIFF_H3_QPACK_WIRE_H
#define SKIFF_H3_QPACK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* Largest integer accepted on the wire: QPACK needs 62 bits (§4.1.1). */
#define SKIFF_QPACK_INT_MAX ((UINT64_C(1) << 62) - 1)

/* The encoded length of v with a prefix of `prefix` bits (1..8). */
size_t skiff_qpack_int_len(uint64_t v, unsigned prefix);

/* Writes v with a `prefix`-bit prefix, OR-ing flags into the first byte.
 * Returns the length or SKIFF_ERR_BUFFER_TOO_SMALL. */
skiff_ssize skiff_qpack_int_encode(uint8_t *out, size_t cap, uint8_t flags, unsigned prefix,
                                   uint64_t v);

/* Reads an integer with a `prefix`-bit prefix from p[0..len) (the bits above
 * the prefix are ignored). Returns the bytes consumed, SKIFF_ERR_TRUNCATED,
 * or SKIFF_ERR_PROTOCOL_VIOLATION for a value above SKIFF_QPACK_INT_MAX or an
 * encoding longer than such a value needs (an endless run of 0x80 bytes). */
skiff_ssize skiff_qpack_int_decode(const uint8_t *p, size_t len, unsigned prefix, uint64_t *v);

/* The encoded length of a string literal of s[0..n) with a `prefix`-bit
 * length: Huffman-coded when that is shorter. *huffman tells which. */
size_t skiff_qpack_string_len(const uint8_t *s, size_t n, unsigned prefix, bool *huffman);

/* Writes a string literal (Huffman-coded when shorter), OR-ing flags into the
 * first byte. Returns the length or SKIFF_ERR_BUFFER_TOO_SMALL. */
skiff_ssize skiff_qpack_string_encode(uint8_t *out, size_t cap, uint8_t flags, unsigned prefix,
                                      const uint8_t *s, size_t n);

/* Reads a string literal's header: the H bit and the declared length of the
 * bytes that follow (not checked against len: the caller checks limits on
 * the declared length before it waits for, or rejects, missing bytes).
 * Returns the header's length or an error of skiff_qpack_int_decode. */
skiff_ssize skiff_qpack_string_header(const uint8_t *p, size_t len, unsigned prefix, bool *huffman,
                                      uint64_t *str_len);

#endif
