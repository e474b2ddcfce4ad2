/*
 * Assembling protected packets into one datagram (RFC 9000 §12.2: several
 * packets of different levels coalesced), frames written in place, with no
 * copy of the payload: the caller encodes each frame straight at the cursor,
 * the builder then pads, patches the Length field and protects in place.
 *
 *   datagram: [ packet 1 (Initial) | packet 2 (Handshake) | packet 3 (1-RTT) ]
 *   packet:   [ header .. pn | frames ... | padding | 16-byte tag ]
 *                            ^payload_start ^pos
 */
#ifndef SKIFF_QUIC_PACKET_BUILDER_H
#define SKIFF_QUIC_PACKET_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/packet_header.h"
#include "quic/packet_protection.h"

#define SKIFF_MIN_INITIAL_DATAGRAM 1200 /* RFC 9000 §14.1 */

typedef struct skiff_packet_builder {
    uint8_t *dgram;
    size_t cap;  /* the datagram may not grow past this (path MTU budget) */
    size_t len;  /* bytes of finished packets */
    /* The packet being built. */
    bool open;
    skiff_packet_header hdr;
    const skiff_packet_keys *keys;
    uint64_t pn;
    size_t pn_len;
    size_t start;         /* offset of its first byte in dgram */
    size_t payload_start; /* offset of its first frame byte */
    size_t pos;           /* offset where the next frame goes */
    bool ack_eliciting;
    bool in_flight;
    bool has_initial; /* the datagram carries an Initial packet */
    bool ack_eliciting_initial;
} skiff_packet_builder;

/* Starts a datagram in buf[0..cap). */
void skiff_builder_init(skiff_packet_builder *b, uint8_t *buf, size_t cap);

/*
 * Opens a packet with header *h (type, version, CIDs, token; Length is
 * patched later) and packet number pn written in pn_len bytes. Returns 0, or
 * SKIFF_ERR_BUFFER_TOO_SMALL when the header, one frame byte and the tag do
 * not fit what is left of the datagram.
 */
int skiff_builder_begin(skiff_packet_builder *b, const skiff_packet_header *h, uint64_t pn,
                        size_t pn_len, const skiff_packet_keys *keys);

/* Where the next frame goes, and how many bytes it may take. */
static inline uint8_t *skiff_builder_cursor(const skiff_packet_builder *b, size_t *room)
{
    size_t end = b->cap - SKIFF_PACKET_TAG_LEN;
    *room = end > b->pos ? end - b->pos : 0;
    return b->dgram + b->pos;
}

/* Records that an n-byte frame of `type` was written at the cursor. */
void skiff_builder_commit(skiff_packet_builder *b, size_t n, uint64_t type);

/* Bytes of frames in the open packet. */
static inline size_t skiff_builder_payload_len(const skiff_packet_builder *b)
{
    return b->pos - b->payload_start;
}

/*
 * Pads and protects the open packet. `pad_datagram_to` > 0 pads with PADDING
 * frames so the whole datagram reaches that size (the Initial rule of
 * RFC 9000 §14.1; pass it for the last packet of a datagram that carries an
 * Initial). Always pads enough for the header-protection sample (RFC 9001
 * §5.4.2). Padding goes after the last frame, so a frame whose data runs to
 * the end of the packet (STREAM or DATAGRAM without a Length) may only be
 * last in a packet that needs no padding. Returns the packet's protected
 * length or a negative error.
 */
skiff_ssize skiff_builder_finish(skiff_packet_builder *b, size_t pad_datagram_to);

/* Drops the open packet (nothing of it stays in the datagram). */
void skiff_builder_abandon(skiff_packet_builder *b);

#endif
