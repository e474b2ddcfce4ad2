/*
 * Initial sequence numbers (RFC 6528 §3):
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a timer that ticks every 4 microseconds, read from the caller's `now`;
 * F is SipHash-2-4 under a 128-bit secret that the caller draws at random
 * once (per process, or rotated rarely: a new key makes new ISNs jump, which
 * RFC 6528 §3 allows). Equal tuples get ISNs that advance with time, so a new
 * incarnation of a connection starts above the old one's sequence space
 * (RFC 9293 §3.4.1), while an off-path attacker cannot predict F.
 */
#ifndef SKIFF_TCP_ISN_H
#define SKIFF_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"
#include "tcp/segment.h"

#define SKIFF_TCP_ISN_KEY_LEN 16

/* The largest encoding of skiff_tcp_tuple_encode. */
#define SKIFF_TCP_TUPLE_MAX_LEN 37

/*
 * Writes a canonical byte string for the 4-tuple into out (at least
 * SKIFF_TCP_TUPLE_MAX_LEN bytes): family, local address (4 or 16 bytes),
 * local port, remote address, remote port, ports big-endian. Bytes of ip[]
 * beyond an IPv4 address are not included. Returns the length written.
 * Used as hash input by the ISN generator and by SYN cookies.
 */
size_t skiff_tcp_tuple_encode(uint8_t *out, const skiff_tcp_addr *local,
                              const skiff_tcp_addr *remote);

/* The ISN for a connection from local to remote at `now` (RFC 6528 §3). */
uint32_t skiff_tcp_isn(const uint8_t key[SKIFF_TCP_ISN_KEY_LEN], const skiff_tcp_addr *local,
                       const skiff_tcp_addr *remote, skiff_time now);

#endif
