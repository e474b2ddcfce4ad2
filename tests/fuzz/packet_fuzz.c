/*
 * libFuzzer target: one datagram through the header codec and, with null
 * crypto (the payload taken as plaintext), the frame decoder, the way a
 * connection walks a received datagram.
 *
 * Input: byte 0 picks the short-header DCID length (0..20) and whether the
 * fixed bit may be zero; the rest is the datagram.
 *
 * Besides crashes and out-of-bounds reads (ASan), it checks two properties:
 * every decoded frame re-encodes, and the re-encoding decodes to a frame of
 * the same type and size; every ACK's intervals come out in strictly
 * descending order.
 */
#include <stdlib.h>

#include "quic/frame.h"
#include "quic/packet_header.h"

static void check_ack(const skiff_frame_ack *ack)
{
    skiff_frame_ack_iter it;
    skiff_frame_ack_interval iv;
    uint64_t prev_smallest = UINT64_MAX;
    bool first = true;
    skiff_frame_ack_iter_init(&it, ack);
    while (skiff_frame_ack_iter_next(&it, &iv)) {
        if (iv.smallest > iv.largest) abort();
        if (!first && iv.largest + 1 >= prev_smallest) abort();
        prev_smallest = iv.smallest;
        first = false;
    }
    if (first || prev_smallest != ack->smallest) abort();
}

static void check_reencode(const skiff_frame *f, size_t consumed)
{
    static uint8_t out[2048];
    if (consumed > sizeof out) return; /* a long STREAM, DATAGRAM or PADDING run */
    skiff_ssize size = skiff_frame_size(f);
    skiff_ssize n = skiff_frame_encode(out, sizeof out, f);
    if (n < 0 || n != size) abort();
    skiff_frame again;
    if (skiff_frame_decode(&again, out, (size_t)n) != n) abort();
    /* STREAM drops the OFF bit for offset 0; every other type must match. */
    if (again.type != f->type && !(skiff_frame_is_stream(f->type) && skiff_frame_is_stream(again.type)))
        abort();
}

static void decode_frames(const uint8_t *p, size_t len, skiff_packet_type type)
{
    size_t off = 0;
    for (int guard = 0; off < len && guard < 4096; guard++) {
        skiff_frame f;
        skiff_ssize n = skiff_frame_decode_in(&f, p + off, len - off, type);
        if (n <= 0) return;
        if ((size_t)n > len - off) abort();
        if (f.type == SKIFF_FRAME_ACK || f.type == SKIFF_FRAME_ACK_ECN) check_ack(&f.ack);
        check_reencode(&f, (size_t)n);
        off += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t short_dcid_len = data[0] % 21;
    unsigned flags = (data[0] & 0x80) ? SKIFF_HDR_ALLOW_ZERO_FIXED_BIT : 0;
    skiff_datagram_iter it;
    skiff_datagram_iter_init(&it, data + 1, size - 1, short_dcid_len, flags);
    skiff_packet_header h;
    const uint8_t *pkt;
    for (int guard = 0; guard < 64; guard++) {
        skiff_ssize n = skiff_datagram_iter_next(&it, &h, &pkt);
        if (n <= 0) break;
        if (h.type == SKIFF_PKT_RETRY || h.type == SKIFF_PKT_VERSION_NEGOTIATION) {
            for (size_t i = 0; i < h.versions_count; i++)
                (void)skiff_version_negotiation_version(&h, i);
            continue;
        }
        size_t pn_len = skiff_pn_len_from_first(h.first_byte);
        if (h.pn_offset + pn_len > (size_t)n) continue;
        decode_frames(pkt + h.pn_offset + pn_len, (size_t)n - h.pn_offset - pn_len, h.type);
    }
    return 0;
}
