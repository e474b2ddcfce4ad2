/*
 * Packet assembly: header, in-place frames, padding, Length patch and
 * protection (RFC 9000 §12.2 coalescing, §14.1 Initial datagram size,
 * RFC 9001 §5.4.2 header-protection sample).
 */
#include "quic/packet_builder.h"

#include <string.h>

#include "quic/frame.h"

void skiff_builder_init(skiff_packet_builder *b, uint8_t *buf, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->dgram = buf;
    b->cap = cap;
}

int skiff_builder_begin(skiff_packet_builder *b, const skiff_packet_header *h, uint64_t pn,
                        size_t pn_len, const skiff_packet_keys *keys)
{
    if (b->open) return SKIFF_ERR_INVALID_ARGUMENT;
    b->hdr = *h;
    b->hdr.length = 0; /* patched in finish(); a 2-byte field covers any datagram */
    skiff_ssize hl = skiff_packet_header_encode(b->dgram + b->len, b->cap - b->len, &b->hdr, pn, pn_len);
    if (hl < 0) return (int)hl;
    if (b->len + (size_t)hl + 1 + SKIFF_PACKET_TAG_LEN > b->cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    b->open = true;
    b->keys = keys;
    b->pn = pn;
    b->pn_len = pn_len;
    b->start = b->len;
    b->payload_start = b->pos = b->len + (size_t)hl;
    b->ack_eliciting = b->in_flight = false;
    return 0;
}

void skiff_builder_commit(skiff_packet_builder *b, size_t n, uint64_t type)
{
    b->pos += n;
    if (skiff_frame_is_ack_eliciting(type)) b->ack_eliciting = true;
    if (skiff_frame_counts_in_flight(type)) b->in_flight = true;
}

skiff_ssize skiff_builder_finish(skiff_packet_builder *b, size_t pad_datagram_to)
{
    if (!b->open) return SKIFF_ERR_INVALID_ARGUMENT;
    /* The sample is 16 bytes from pn_offset + 4: pn + payload >= 4 (§5.4.2). */
    size_t min_payload = b->pn_len >= 4 ? 1 : 4 - b->pn_len;
    size_t payload = b->pos - b->payload_start;
    size_t pad = payload < min_payload ? min_payload - payload : 0;
    if (pad_datagram_to > b->cap) pad_datagram_to = b->cap;
    size_t end = b->pos + pad + SKIFF_PACKET_TAG_LEN;
    if (end < pad_datagram_to) pad += pad_datagram_to - end;
    if (b->pos + pad + SKIFF_PACKET_TAG_LEN > b->cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (pad) {
        memset(b->dgram + b->pos, 0, pad); /* PADDING frames (§19.1) */
        b->pos += pad;
        b->in_flight = true;
    }
    payload = b->pos - b->payload_start;
    uint8_t *pkt = b->dgram + b->start;
    size_t pn_offset = b->hdr.pn_offset;
    if (b->hdr.type != SKIFF_PKT_1RTT) {
        int rv = skiff_packet_header_patch_length(pkt, &b->hdr,
                                                  b->pn_len + payload + SKIFF_PACKET_TAG_LEN);
        if (rv) return rv;
    }
    skiff_ssize n = skiff_packet_protect(b->keys, pkt, pn_offset, b->pn_len, b->pn, payload,
                                         b->cap - b->start);
    if (n < 0) return n;
    if (b->hdr.type == SKIFF_PKT_INITIAL) {
        b->has_initial = true;
        if (b->ack_eliciting) b->ack_eliciting_initial = true;
    }
    b->len = b->start + (size_t)n;
    b->open = false;
    return n;
}

void skiff_builder_abandon(skiff_packet_builder *b)
{
    b->open = false;
    b->pos = b->len;
}
