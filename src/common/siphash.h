/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit pseudorandom function for short inputs. skiff uses it
 * wherever a secret must turn a few header fields into an unpredictable
 * number: TCP initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987).
 */
#ifndef SKIFF_COMMON_SIPHASH_H
#define SKIFF_COMMON_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SKIFF_SIPHASH_KEY_LEN 16

/*
 * SipHash-2-4 of data[0..len) under the 128-bit key. The key's bytes are read
 * as two little-endian 64-bit words, as in the paper; the result is the 64-bit
 * value whose little-endian encoding is the paper's 8-byte output.
 */
uint64_t skiff_siphash24(const uint8_t key[SKIFF_SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
