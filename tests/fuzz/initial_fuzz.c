/*
 * libFuzzer target: a client's first datagram through everything a server
 * does before it has any state (RFC 9001 §5.2, §5.4, RFC 9000 §A.3): Initial
 * keys from the DCID, header-protection removal, packet-number recovery,
 * AEAD open, and the frames of what decrypts. Random bytes rarely pass the
 * AEAD, so the interesting part is that every failure is clean; the seeds
 * from the corpus generator are real protected packets that do decrypt.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/frame.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"

static void open_initial(uint8_t *pkt, size_t len, const skiff_packet_header *h)
{
    skiff_packet_keys client = {0}, server = {0};
    if (skiff_packet_keys_initial(h->version, h->dcid, h->dcid_len, &client, &server) != 0) abort();
    size_t pn_len = 0;
    uint64_t truncated = 0;
    if (skiff_packet_unprotect_header(&client, pkt, len, h->pn_offset, &pn_len, &truncated) == 0) {
        uint64_t pn = skiff_pn_decode(SKIFF_PN_NONE, truncated, pn_len);
        skiff_ssize plen = skiff_packet_open(&client, pkt, h->pn_offset + pn_len, pn, len);
        if (plen > (skiff_ssize)len) abort();
        const uint8_t *payload = pkt + h->pn_offset + pn_len;
        for (size_t off = 0; plen > 0 && off < (size_t)plen;) {
            skiff_frame f;
            skiff_ssize n = skiff_frame_decode_in(&f, payload + off, (size_t)plen - off, h->type);
            if (n <= 0) break;
            off += (size_t)n;
        }
    }
    skiff_packet_keys_clear(&client);
    skiff_packet_keys_clear(&server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* opened in place */
    if (!copy) return 0;
    memcpy(copy, data, size);
    skiff_datagram_iter it;
    skiff_packet_header h;
    const uint8_t *pkt;
    skiff_datagram_iter_init(&it, copy, size, 0, 0);
    for (int guard = 0; guard < 16; guard++) {
        skiff_ssize n = skiff_datagram_iter_next(&it, &h, &pkt);
        if (n <= 0) break;
        if (h.type == SKIFF_PKT_INITIAL) open_initial(copy + (pkt - copy), (size_t)n, &h);
    }
    free(copy);
    return 0;
}
