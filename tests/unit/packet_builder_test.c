/* Packet assembly: coalesced, padded, protected packets that a receiver opens. */
#include "quic/frame.h"
#include "quic/packet_builder.h"
#include "test.h"

static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t scid[4] = {9, 9, 9, 9};

/* Opens packet `pkt` of length n in place and returns its first frame. */
static int open_first_frame(const skiff_packet_keys *k, uint8_t *pkt, size_t n,
                            const skiff_packet_header *h, skiff_frame *f, uint64_t *pn,
                            skiff_ssize *plen)
{
    size_t pn_len;
    uint64_t trunc;
    if (skiff_packet_unprotect_header(k, pkt, n, h->pn_offset, &pn_len, &trunc)) return -1;
    *pn = skiff_pn_decode(SKIFF_PN_NONE, trunc, pn_len);
    *plen = skiff_packet_open(k, pkt, h->pn_offset + pn_len, *pn, n);
    if (*plen < 0) return -1;
    return skiff_frame_decode(f, pkt + h->pn_offset + pn_len, (size_t)*plen) > 0 ? 0 : -1;
}

static void coalesced_initial_handshake_and_1rtt(void)
{
    skiff_packet_keys ic = {0}, is = {0}, hs = {0}, ap = {0};
    uint8_t secret[32];
    memset(secret, 0x11, sizeof secret);
    CHECK_EQ(skiff_packet_keys_initial(SKIFF_QUIC_V1, dcid, 8, &ic, &is), 0);
    CHECK_EQ(skiff_packet_keys_from_secret(&hs, SKIFF_SUITE_AES_128_GCM_SHA256, SKIFF_QUIC_V1, secret, 32), 0);
    memset(secret, 0x22, sizeof secret);
    CHECK_EQ(skiff_packet_keys_from_secret(&ap, SKIFF_SUITE_CHACHA20_POLY1305_SHA256, SKIFF_QUIC_V1, secret, 32), 0);

    uint8_t dgram[1500];
    skiff_packet_builder b;
    skiff_builder_init(&b, dgram, 1452);
    size_t room;
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL, .version = SKIFF_QUIC_V1, .dcid = dcid,
                             .dcid_len = 8, .scid = scid, .scid_len = 4};
    CHECK_EQ(skiff_builder_begin(&b, &h, 0, 1, &ic), 0);
    uint8_t hello[300];
    memset(hello, 0x5a, sizeof hello);
    skiff_frame_crypto c = {.offset = 0, .data = hello, .len = sizeof hello};
    uint8_t *at = skiff_builder_cursor(&b, &room);
    skiff_ssize n = skiff_frame_crypto_encode(at, room, &c);
    CHECK(n > 0);
    skiff_builder_commit(&b, (size_t)n, SKIFF_FRAME_CRYPTO);
    skiff_ssize initial_len = skiff_builder_finish(&b, 0);
    CHECK(initial_len > 300);

    h.type = SKIFF_PKT_HANDSHAKE;
    CHECK_EQ(skiff_builder_begin(&b, &h, 7, 2, &hs), 0);
    at = skiff_builder_cursor(&b, &room);
    n = skiff_frame_ping_encode(at, room);
    skiff_builder_commit(&b, (size_t)n, SKIFF_FRAME_PING);
    CHECK(skiff_builder_finish(&b, 0) > 0);

    skiff_packet_header s = {.type = SKIFF_PKT_1RTT, .dcid = dcid, .dcid_len = 8};
    CHECK_EQ(skiff_builder_begin(&b, &s, 1000, 2, &ap), 0);
    at = skiff_builder_cursor(&b, &room);
    skiff_frame_stream st = {.stream_id = 0, .data = (const uint8_t *)"GET /\r\n", .len = 7, .fin = true,
                             .has_length = true /* padding follows */};
    n = skiff_frame_stream_encode(at, room, &st);
    skiff_builder_commit(&b, (size_t)n, SKIFF_FRAME_STREAM);
    CHECK(skiff_builder_finish(&b, SKIFF_MIN_INITIAL_DATAGRAM) > 0);
    CHECK_EQ(b.len, 1200);
    CHECK(b.has_initial && b.ack_eliciting_initial);

    /* The receiver's view. */
    skiff_datagram_iter it;
    skiff_packet_header r;
    const uint8_t *pkt;
    skiff_datagram_iter_init(&it, dgram, b.len, 8, 0);
    const skiff_packet_keys *keys[3] = {&ic, &hs, &ap};
    static const uint64_t pns[3] = {0, 7, 1000};
    static const uint64_t first_frame[3] = {SKIFF_FRAME_CRYPTO, SKIFF_FRAME_PING, 0x0b};
    for (int i = 0; i < 3; i++) {
        skiff_ssize len = skiff_datagram_iter_next(&it, &r, &pkt);
        CHECK(len > 0);
        skiff_frame f;
        uint64_t pn = 0;
        skiff_ssize plen = 0;
        CHECK_EQ(open_first_frame(keys[i], (uint8_t *)pkt, (size_t)len, &r, &f, &pn, &plen), 0);
        CHECK_U64(pn, pns[i]);
        CHECK_U64(f.type, first_frame[i]);
        if (i == 0) CHECK_MEM(f.crypto.data, hello, sizeof hello);
        if (i == 2) CHECK_MEM(f.stream.data, "GET /\r\n", 7);
    }
    CHECK_EQ(skiff_datagram_iter_next(&it, &r, &pkt), 0);
    skiff_packet_keys_clear(&ic);
    skiff_packet_keys_clear(&is);
    skiff_packet_keys_clear(&hs);
    skiff_packet_keys_clear(&ap);
}

/* A packet with a 1-byte packet number and a 1-byte frame still gets a
 * header-protection sample (RFC 9001 §5.4.2). */
static void tiny_packets_are_padded_for_the_sample(void)
{
    skiff_packet_keys k = {0};
    uint8_t secret[32] = {0};
    CHECK_EQ(skiff_packet_keys_from_secret(&k, SKIFF_SUITE_AES_128_GCM_SHA256, SKIFF_QUIC_V1, secret, 32), 0);
    uint8_t dgram[64];
    skiff_packet_builder b;
    skiff_builder_init(&b, dgram, sizeof dgram);
    skiff_packet_header s = {.type = SKIFF_PKT_1RTT};
    CHECK_EQ(skiff_builder_begin(&b, &s, 3, 1, &k), 0);
    size_t room;
    uint8_t *at = skiff_builder_cursor(&b, &room);
    skiff_builder_commit(&b, (size_t)skiff_frame_ping_encode(at, room), SKIFF_FRAME_PING);
    skiff_ssize n = skiff_builder_finish(&b, 0);
    CHECK_EQ(n, 1 + 1 + 3 + 16); /* header, pn, PING + 2 PADDING, tag */
    size_t pn_len;
    uint64_t trunc;
    CHECK_EQ(skiff_packet_unprotect_header(&k, dgram, (size_t)n, 1, &pn_len, &trunc), 0);
    CHECK_EQ(skiff_packet_open(&k, dgram, 2, 3, (size_t)n), 3);
    /* No room: a 20-byte datagram cannot hold header, frame and tag. */
    skiff_builder_init(&b, dgram, 18);
    CHECK_EQ(skiff_builder_begin(&b, &s, 3, 1, &k), SKIFF_ERR_BUFFER_TOO_SMALL);
    skiff_packet_keys_clear(&k);
}

int main(void)
{
    RUN(coalesced_initial_handshake_and_1rtt);
    RUN(tiny_packets_are_padded_for_the_sample);
    return test_report("packet_builder");
}
