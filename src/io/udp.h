/*
 * UDP sockets for QUIC on Linux: batched receive (recvmmsg) with GRO, batched
 * send (sendmmsg) with GSO, ECN marks in both directions, and the local
 * address each datagram arrived on (for servers bound to a wildcard).
 *
 * GRO (UDP_GRO) lets the kernel hand over several datagrams of one flow as
 * one buffer with a segment size; GSO (UDP_SEGMENT) lets us hand the kernel
 * one buffer of equal-sized datagrams. Each halves the CPU per byte on its
 * side. Both are probed at socket creation and used when available.
 */
#ifndef SKIFF_IO_UDP_H
#define SKIFF_IO_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "skiff/skiff.h"

typedef struct skiff_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} skiff_addr;

typedef struct skiff_udp {
    int fd;
    int family;
    bool gso;    /* UDP_SEGMENT works */
    bool gro;    /* UDP_GRO enabled */
    skiff_addr local;
} skiff_udp;

/* One received buffer: one datagram, or with GRO several of `segment_size`
 * bytes each (the last may be shorter). */
typedef struct skiff_udp_rx {
    uint8_t *data;
    size_t len;
    size_t segment_size; /* == len when not coalesced */
    skiff_addr peer;
    skiff_addr local; /* the address the datagram was sent to */
    uint8_t ecn;      /* the IP ECN codepoint (0..3) */
} skiff_udp_rx;

/* One buffer to send: `len` bytes, split by the kernel into datagrams of
 * `segment_size` (0: one datagram). */
typedef struct skiff_udp_tx {
    const uint8_t *data;
    size_t len;
    size_t segment_size;
    const skiff_addr *peer;
    uint8_t ecn;
} skiff_udp_tx;

/* Parses "127.0.0.1:4433", "[::1]:4433" or "localhost:4433" (numeric only
 * for names other than localhost). Returns 0 or SKIFF_ERR_INVALID_ARGUMENT. */
int skiff_addr_parse(skiff_addr *a, const char *text);

/* "127.0.0.1:4433" / "[::1]:4433" into buf. */
const char *skiff_addr_format(const skiff_addr *a, char *buf, size_t cap);

bool skiff_addr_equal(const skiff_addr *a, const skiff_addr *b);

/* The port, in host byte order; and setting it. */
uint16_t skiff_addr_port(const skiff_addr *a);
void skiff_addr_set_port(skiff_addr *a, uint16_t port);

/* A non-blocking UDP socket bound to `local` (port 0: any), with ECN and
 * local-address reporting, GRO and GSO where the kernel has them.
 * Returns 0 or a negative errno. */
int skiff_udp_open(skiff_udp *u, const skiff_addr *local);
void skiff_udp_close(skiff_udp *u);

/*
 * Receives up to `max` buffers without blocking into rx[], each pointing
 * into `buf` (max * per_buf bytes; per_buf should be 64 KiB with GRO).
 * Returns the number received (0 when nothing is waiting) or a negative errno.
 */
int skiff_udp_recv(skiff_udp *u, skiff_udp_rx *rx, size_t max, uint8_t *buf, size_t per_buf);

/*
 * Sends tx[0..n) with one sendmmsg. Returns how many were sent (the rest
 * would block: try again when writable) or a negative errno.
 */
int skiff_udp_send(skiff_udp *u, const skiff_udp_tx *tx, size_t n);

#endif
