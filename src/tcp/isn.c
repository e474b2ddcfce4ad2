/*
 * Initial sequence numbers, RFC 6528 §3 (which updates RFC 9293 §3.4.1):
 * ISN = M + F(4-tuple, secret), with M the 4-microsecond clock of RFC 9293
 * §3.4.1 taken from the caller's `now` and F the low 32 bits of SipHash-2-4
 * (src/common/siphash.c) over a tag byte and the encoded 4-tuple. The tag
 * keeps these hashes apart from SYN-cookie hashes should a caller ever use
 * one key for both.
 */
#include "tcp/isn.h"

#include <string.h>

#include "common/siphash.h"

#define ISN_TAG 'I'
#define NS_PER_TICK 4000 /* RFC 9293 §3.4.1: M ticks every 4 microseconds */

static uint8_t *put_addr(uint8_t *p, const skiff_tcp_addr *a)
{
    size_t n = a->family == 4 ? 4 : 16;
    memcpy(p, a->ip, n);
    p += n;
    *p++ = (uint8_t)(a->port >> 8);
    *p++ = (uint8_t)a->port;
    return p;
}

size_t skiff_tcp_tuple_encode(uint8_t *out, const skiff_tcp_addr *local,
                              const skiff_tcp_addr *remote)
{
    uint8_t *p = out;
    *p++ = local->family;
    p = put_addr(p, local);
    p = put_addr(p, remote);
    return (size_t)(p - out);
}

uint32_t skiff_tcp_isn(const uint8_t key[SKIFF_TCP_ISN_KEY_LEN], const skiff_tcp_addr *local,
                       const skiff_tcp_addr *remote, skiff_time now)
{
    uint8_t in[1 + SKIFF_TCP_TUPLE_MAX_LEN];
    in[0] = ISN_TAG;
    size_t n = 1 + skiff_tcp_tuple_encode(in + 1, local, remote);
    uint32_t f = (uint32_t)skiff_siphash24(key, in, n);
    uint32_t m = (uint32_t)(now / NS_PER_TICK); /* wraps every ~4.8 hours */
    return m + f;
}
