/*
 * Packet number spaces (RFC 9000 §12.3) and encryption levels (RFC 9001
 * §4.1.4). 0-RTT and 1-RTT packets share the application data space.
 */
#ifndef SKIFF_QUIC_PN_SPACE_H
#define SKIFF_QUIC_PN_SPACE_H

typedef enum skiff_pn_space {
    SKIFF_SPACE_INITIAL,
    SKIFF_SPACE_HANDSHAKE,
    SKIFF_SPACE_APPLICATION,
} skiff_pn_space;

#define SKIFF_SPACE_COUNT 3

typedef enum skiff_crypto_level {
    SKIFF_LEVEL_INITIAL,
    SKIFF_LEVEL_0RTT,
    SKIFF_LEVEL_HANDSHAKE,
    SKIFF_LEVEL_1RTT,
} skiff_crypto_level;

#define SKIFF_LEVEL_COUNT 4

#endif
