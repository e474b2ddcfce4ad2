/*
 * SYN cookies (RFC 4987 §3.6): under a SYN flood a listener answers a SYN
 * without keeping any state, encoding what it must remember in the ISN of its
 * SYN-ACK; the handshake's final ACK (ack = cookie + 1, seq = peer ISN + 1)
 * brings it back.
 *
 *     31      27 26  24 23                                     0
 *    +----------+------+----------------------------------------+
 *    | t mod 32 | MSS  | low 24 bits of SipHash-2-4(key, t, MSS, |
 *    | (5 bits) | idx  |   peer ISN, 4-tuple)                    |
 *    +----------+------+----------------------------------------+
 *
 * t counts 64-second periods of `now`. A cookie is accepted while the current
 * period is t or t + 1 (64 to 128 seconds). The MSS index selects one of the
 * 8 values of skiff_tcp_syncookie_mss(); the peer's MSS is rounded down to
 * one of them. The hash covers the full t, the MSS index and the peer's ISN,
 * so changing any bit of the cookie, the tuple or the peer's sequence number
 * fails validation (but for a 2^-24 chance per guess).
 *
 * Only the MSS survives. Window scale, SACK-permitted and timestamps are not
 * encoded, so a connection made from a cookie runs without them: the SYN-ACK
 * sent with a cookie should offer none of them (RFC 4987 §3.6 lists this
 * loss as the price of cookies). Use a key of its own, drawn at random.
 */
#ifndef SKIFF_TCP_SYNCOOKIE_H
#define SKIFF_TCP_SYNCOOKIE_H

#include <stdint.h>

#include "skiff/skiff.h"
#include "tcp/segment.h"

#define SKIFF_TCP_SYNCOOKIE_KEY_LEN 16
#define SKIFF_TCP_SYNCOOKIE_MSS_COUNT 8
#define SKIFF_TCP_SYNCOOKIE_PERIOD ((skiff_time)64 * 1000000000u) /* ns */

/* The MSS of table entry index (0..7, ascending: 536 ... 1460); 0 for an
 * index out of range. */
uint16_t skiff_tcp_syncookie_mss(int index);

/*
 * The cookie to use as our ISN in the SYN-ACK answering a SYN from remote to
 * local with sequence number peer_isn and MSS option peer_mss (without the
 * option, pass the default of RFC 9293 §3.7.1: 536 for IPv4, 1220 for IPv6).
 * The MSS is rounded down to a table entry; one below 536 becomes 536.
 */
uint32_t skiff_tcp_syncookie_make(const uint8_t key[SKIFF_TCP_SYNCOOKIE_KEY_LEN],
                                  const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                                  uint32_t peer_isn, uint16_t peer_mss, skiff_time now);

/*
 * Validates the cookie carried by a handshake's final ACK from remote to
 * local: pass cookie = SEG.ACK - 1 and peer_isn = SEG.SEQ - 1. Returns the
 * MSS index (0..7; see skiff_tcp_syncookie_mss) or SKIFF_ERR_INVALID_PACKET
 * for a forged, altered or expired cookie.
 */
int skiff_tcp_syncookie_check(const uint8_t key[SKIFF_TCP_SYNCOOKIE_KEY_LEN],
                              const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                              uint32_t peer_isn, uint32_t cookie, skiff_time now);

#endif
