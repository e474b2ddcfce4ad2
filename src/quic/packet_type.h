/*
 * The kinds of QUIC packet (RFC 9000 §17), independent of version: QUIC v2
 * (RFC 9369 §3.2) numbers the long-header types differently on the wire, and
 * the header codec translates.
 */
#ifndef SKIFF_QUIC_PACKET_TYPE_H
#define SKIFF_QUIC_PACKET_TYPE_H

typedef enum skiff_packet_type {
    SKIFF_PKT_INITIAL,
    SKIFF_PKT_0RTT,
    SKIFF_PKT_HANDSHAKE,
    SKIFF_PKT_RETRY,
    SKIFF_PKT_1RTT, /* short header */
    SKIFF_PKT_VERSION_NEGOTIATION,
} skiff_packet_type;

#define SKIFF_PKT_TYPE_COUNT 6

#endif
