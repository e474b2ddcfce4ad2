/* Packet headers (RFC 9000 §17), coalescing (§12.2) and packet numbers (Appendix A). */
#include "quic/packet_header.h"
#include "test.h"

static const uint8_t rfc_dcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t rfc_server_scid[] = {0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5};

/* RFC 9001 §A.2: the client Initial's unprotected header. */
static void rfc9001_client_initial_header(void)
{
    uint8_t expected[64], out[64];
    size_t n = test_hex("c300000001088394c8f03e5157080000449e00000002", expected, sizeof expected);
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V1,
                             .dcid = rfc_dcid,
                             .dcid_len = 8,
                             .length = 1182};
    CHECK_EQ(skiff_packet_header_encode(out, sizeof out, &h, 2, 4), (skiff_ssize)n);
    CHECK_MEM(out, expected, n);
    CHECK_EQ(h.pn_offset, 18);
    CHECK_EQ(h.length_offset, 16);

    /* Decoding needs the whole packet: the header plus 1182 bytes. */
    uint8_t pkt[1200] = {0};
    memcpy(pkt, expected, n);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, sizeof pkt, 0, 0), 1200);
    CHECK_EQ(d.type, SKIFF_PKT_INITIAL);
    CHECK_U64(d.version, SKIFF_QUIC_V1);
    CHECK_EQ(d.dcid_len, 8);
    CHECK_MEM(d.dcid, rfc_dcid, 8);
    CHECK_EQ(d.scid_len, 0);
    CHECK_EQ(d.token_len, 0);
    CHECK_U64(d.length, 1182);
    CHECK_EQ(d.pn_offset, 18);
    CHECK_EQ(skiff_pn_len_from_first(d.first_byte), 4);
}

/* RFC 9001 §A.3: the server Initial's unprotected header (2-byte packet number 1). */
static void rfc9001_server_initial_header(void)
{
    uint8_t expected[64], out[64];
    size_t n = test_hex("c1000000010008f067a5502a4262b50040750001", expected, sizeof expected);
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V1,
                             .scid = rfc_server_scid,
                             .scid_len = 8,
                             .length = 0x75};
    CHECK_EQ(skiff_packet_header_encode(out, sizeof out, &h, 1, 2), (skiff_ssize)n);
    CHECK_MEM(out, expected, n);
}

/* RFC 9369 §A.2: v2 numbers the Initial type 0b01, so the first byte is 0xd3. */
static void rfc9369_client_initial_header(void)
{
    uint8_t expected[64], out[64];
    size_t n = test_hex("d36b3343cf088394c8f03e5157080000449e00000002", expected, sizeof expected);
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V2,
                             .dcid = rfc_dcid,
                             .dcid_len = 8,
                             .length = 1182};
    CHECK_EQ(skiff_packet_header_encode(out, sizeof out, &h, 2, 4), (skiff_ssize)n);
    CHECK_MEM(out, expected, n);
    uint8_t pkt[1200] = {0};
    memcpy(pkt, expected, n);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, sizeof pkt, 0, 0), 1200);
    CHECK_EQ(d.type, SKIFF_PKT_INITIAL);
    CHECK_U64(d.version, SKIFF_QUIC_V2);
}

/* v2 long-header types all map back to what they were encoded as. */
static void v2_long_types_round_trip(void)
{
    static const skiff_packet_type types[] = {SKIFF_PKT_INITIAL, SKIFF_PKT_0RTT,
                                              SKIFF_PKT_HANDSHAKE};
    static const uint32_t versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2};
    for (size_t v = 0; v < 2; v++)
        for (size_t t = 0; t < 3; t++) {
            uint8_t pkt[128] = {0};
            skiff_packet_header h = {.type = types[t],
                                     .version = versions[v],
                                     .dcid = rfc_dcid,
                                     .dcid_len = 8,
                                     .scid = rfc_server_scid,
                                     .scid_len = 8,
                                     .length = 40};
            skiff_ssize hl = skiff_packet_header_encode(pkt, sizeof pkt, &h, 7, 1);
            CHECK(hl > 0);
            skiff_packet_header d;
            CHECK_EQ(skiff_packet_header_decode(&d, pkt, (size_t)hl + 39, 0, 0), hl + 39);
            CHECK_EQ(d.type, types[t]);
            CHECK_U64(d.version, versions[v]);
            CHECK_EQ(d.pn_offset, (size_t)hl - 1);
        }
}

/* RFC 9001 §A.4: the Retry packet (tag 04a265ba2eff4d829058fb3f0f2496ba). */
static void rfc9001_retry(void)
{
    uint8_t pkt[64], out[64];
    size_t n = test_hex("ff000000010008f067a5502a4262b5746f6b656e"
                        "04a265ba2eff4d829058fb3f0f2496ba",
                        pkt, sizeof pkt);
    skiff_packet_header h = {.version = SKIFF_QUIC_V1,
                             .scid = rfc_server_scid,
                             .scid_len = 8,
                             .token = (const uint8_t *)"token",
                             .token_len = 5};
    CHECK_EQ(skiff_retry_encode(out, sizeof out, &h, 0x0f), (skiff_ssize)n - 16);
    CHECK_MEM(out, pkt, n - 16);

    uint8_t *exact = test_dup_exact(pkt, n);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, exact, n, 8, 0), (skiff_ssize)n);
    CHECK_EQ(d.type, SKIFF_PKT_RETRY);
    CHECK_EQ(d.token_len, 5);
    CHECK_MEM(d.token, "token", 5);
    CHECK(d.retry_tag == exact + n - 16);
    /* A Retry with no token is invalid (§17.2.5.2). */
    CHECK_EQ(skiff_packet_header_decode(&d, exact, n - 5, 8, 0), SKIFF_ERR_INVALID_PACKET);
    free(exact);
    h.token_len = 0;
    CHECK_EQ(skiff_retry_encode(out, sizeof out, &h, 0), SKIFF_ERR_INVALID_ARGUMENT);
}

/* RFC 9001 §A.5: a short header with an empty DCID and 3-byte packet number. */
static void rfc9001_short_header(void)
{
    uint8_t out[16];
    skiff_packet_header h = {.type = SKIFF_PKT_1RTT};
    CHECK_EQ(skiff_packet_header_encode(out, sizeof out, &h, 654360564, 3), 4);
    CHECK_MEM(out, "\x42\x00\xbf\xf4", 4);
    CHECK_EQ(h.pn_offset, 1);
    CHECK_U64(skiff_pn_decode(654360563, 0x00bff4, 3), 654360564);
}

static void short_header_bits_and_cids(void)
{
    uint8_t cid[20], pkt[64] = {0};
    for (int i = 0; i < 20; i++) cid[i] = (uint8_t)(0xa0 + i);
    skiff_packet_header h = {
        .type = SKIFF_PKT_1RTT, .dcid = cid, .dcid_len = 20, .spin = true, .key_phase = true};
    CHECK_EQ(skiff_packet_header_encode(pkt, sizeof pkt, &h, 0x1234, 2), 23);
    CHECK_EQ(pkt[0], 0x40 | 0x20 | 0x04 | 0x01);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, 50, 20, 0), 50);
    CHECK_EQ(d.type, SKIFF_PKT_1RTT);
    CHECK(d.spin);
    CHECK_EQ(d.dcid_len, 20);
    CHECK_MEM(d.dcid, cid, 20);
    CHECK_EQ(d.pn_offset, 21);
    /* A 20-byte DCID in a 20-byte datagram has no room for the first byte. */
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, 20, 20, 0), SKIFF_ERR_TRUNCATED);
}

static void initial_token_and_20_byte_cids(void)
{
    uint8_t cid[20], token[100], pkt[512] = {0};
    for (int i = 0; i < 20; i++) cid[i] = (uint8_t)i;
    for (int i = 0; i < 100; i++) token[i] = (uint8_t)(255 - i);
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V1,
                             .dcid = cid,
                             .dcid_len = 20,
                             .scid = cid,
                             .scid_len = 20,
                             .token = token,
                             .token_len = 100,
                             .length = 300};
    skiff_ssize hl = skiff_packet_header_encode(pkt, sizeof pkt, &h, SKIFF_PN_MAX, 4);
    CHECK_EQ(hl, 1 + 4 + 21 + 21 + 2 + 100 + 2 + 4);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, sizeof pkt, 0, 0), (skiff_ssize)h.pn_offset + 300);
    CHECK_EQ(d.token_len, 100);
    CHECK_MEM(d.token, token, 100);
    CHECK_MEM(d.scid, cid, 20);
    /* Patch the length the way the builder does. */
    CHECK_EQ(skiff_packet_header_patch_length(pkt, &h, 299), 0);
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, sizeof pkt, 0, 0), (skiff_ssize)h.pn_offset + 299);
    CHECK_EQ(skiff_packet_header_patch_length(pkt, &h, 16384), SKIFF_ERR_INVALID_ARGUMENT);
    /* A 21-byte CID cannot be encoded in v1. */
    uint8_t big[21] = {0};
    h.dcid = big;
    h.dcid_len = 21;
    CHECK_EQ(skiff_packet_header_encode(pkt, sizeof pkt, &h, 0, 1), SKIFF_ERR_INVALID_ARGUMENT);
}

static void version_negotiation(void)
{
    uint8_t pkt[128];
    const uint32_t versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2, 0x1a2a3a4a};
    skiff_ssize n = skiff_version_negotiation_encode(pkt, sizeof pkt, rfc_dcid, 8,
                                                     rfc_server_scid, 8, versions, 3, 0x35);
    CHECK_EQ(n, 1 + 4 + 9 + 9 + 12);
    CHECK_EQ(pkt[0], 0x80 | 0x35);
    uint8_t *exact = test_dup_exact(pkt, (size_t)n);
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, exact, (size_t)n, 0, 0), n);
    CHECK_EQ(d.type, SKIFF_PKT_VERSION_NEGOTIATION);
    CHECK_EQ(d.versions_count, 3);
    CHECK_U64(skiff_version_negotiation_version(&d, 0), SKIFF_QUIC_V1);
    CHECK_U64(skiff_version_negotiation_version(&d, 1), SKIFF_QUIC_V2);
    CHECK_U64(skiff_version_negotiation_version(&d, 2), 0x1a2a3a4a);
    CHECK(skiff_version_is_grease(0x1a2a3a4a));
    CHECK(!skiff_version_is_grease(SKIFF_QUIC_V1));
    /* A version list that is not a whole number of versions, or empty. */
    CHECK_EQ(skiff_packet_header_decode(&d, exact, (size_t)n - 1, 0, 0), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_packet_header_decode(&d, exact, (size_t)n - 12, 0, 0), SKIFF_ERR_INVALID_PACKET);
    free(exact);
}

/* RFC 8999 §5.1: a server must read the CIDs of any version, up to 255 bytes,
 * to answer it with Version Negotiation. */
static void unknown_version_keeps_the_invariants(void)
{
    uint8_t pkt[600] = {0};
    size_t i = 0;
    pkt[i++] = 0xc0;
    pkt[i++] = 0xff, pkt[i++] = 0x00, pkt[i++] = 0x00, pkt[i++] = 0x1d; /* draft-29 */
    pkt[i++] = 200;
    for (int k = 0; k < 200; k++) pkt[i++] = (uint8_t)k;
    pkt[i++] = 3;
    pkt[i++] = 9, pkt[i++] = 8, pkt[i++] = 7;
    skiff_packet_header d;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, 1200, 0, 0), SKIFF_ERR_UNSUPPORTED_VERSION);
    CHECK_U64(d.version, 0xff00001d);
    CHECK_EQ(d.dcid_len, 200);
    CHECK_EQ(d.dcid[199], 199);
    CHECK_EQ(d.scid_len, 3);
    CHECK_MEM(d.scid, "\x09\x08\x07", 3);
    /* The same CID length under v1 is invalid (RFC 9000 §17.2). */
    pkt[1] = 0, pkt[4] = 1;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, 1200, 0, 0), SKIFF_ERR_INVALID_PACKET);
}

static void fixed_bit_and_reserved_bits(void)
{
    uint8_t pkt[64] = {0};
    skiff_packet_header h = {.type = SKIFF_PKT_HANDSHAKE, .version = SKIFF_QUIC_V1, .length = 30};
    skiff_ssize hl = skiff_packet_header_encode(pkt, sizeof pkt, &h, 1, 1);
    skiff_packet_header d;
    pkt[0] &= (uint8_t)~SKIFF_HEADER_FIXED_BIT;
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, (size_t)hl + 29, 0, 0), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_packet_header_decode(&d, pkt, (size_t)hl + 29, 0,
                                        SKIFF_HDR_ALLOW_ZERO_FIXED_BIT),
             hl + 29);
    uint8_t short_pkt[30] = {0x01};
    CHECK_EQ(skiff_packet_header_decode(&d, short_pkt, 30, 0, 0), SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_packet_check_reserved_bits(0xc3, true), 0);
    CHECK_EQ(skiff_packet_check_reserved_bits(0xc7, true), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(skiff_packet_check_reserved_bits(0x47, false), 0);
    CHECK_EQ(skiff_packet_check_reserved_bits(0x50, false), SKIFF_ERR_PROTOCOL_VIOLATION);
}

/* RFC 9000 §A.2 and §A.3 worked examples, and the edges of the number space. */
static void packet_number_encoding(void)
{
    CHECK_EQ(skiff_pn_encode_len(0xac5c02, 0xabe8b3), 2);
    CHECK_EQ(skiff_pn_encode_len(0xace8fe, 0xabe8b3), 3);
    CHECK_EQ(skiff_pn_encode_len(0, SKIFF_PN_NONE), 1);
    CHECK_EQ(skiff_pn_encode_len(1u << 30, SKIFF_PN_NONE), 4);
    CHECK_U64(skiff_pn_decode(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
    CHECK_U64(skiff_pn_decode(SKIFF_PN_NONE, 0, 1), 0);
    CHECK_U64(skiff_pn_decode(SKIFF_PN_NONE, 5, 4), 5);
    /* Wrapping forward and backward across a window. */
    CHECK_U64(skiff_pn_decode(0xff, 0x01, 1), 0x101);
    CHECK_U64(skiff_pn_decode(0x101, 0xff, 1), 0xff);
    /* Never above 2^62-1. */
    CHECK_U64(skiff_pn_decode(SKIFF_PN_MAX - 1, 0xff, 1), SKIFF_PN_MAX);
    CHECK_U64(skiff_pn_decode(SKIFF_PN_MAX - 1, 0x00, 1), SKIFF_PN_MAX - 0xff);
    /* Every encodable distance decodes back exactly. */
    for (uint64_t largest = 1000; largest < 1000 + 300; largest += 7)
        for (uint64_t gap = 1; gap < 70000; gap = gap * 3 + 1) {
            uint64_t pn = largest + gap;
            size_t len = skiff_pn_encode_len(pn, largest);
            uint64_t trunc = pn & ((UINT64_C(1) << (8 * len)) - 1);
            CHECK_U64(skiff_pn_decode(largest, trunc, len), pn);
        }
}

static size_t build_coalesced(uint8_t *d, size_t cap)
{
    size_t off = 0;
    skiff_packet_header h = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V1,
                             .dcid = rfc_dcid,
                             .dcid_len = 8,
                             .length = 50};
    off += (size_t)skiff_packet_header_encode(d + off, cap - off, &h, 0, 1) + 49;
    h.type = SKIFF_PKT_HANDSHAKE;
    h.length = 60;
    off += (size_t)skiff_packet_header_encode(d + off, cap - off, &h, 0, 1) + 59;
    h.type = SKIFF_PKT_1RTT;
    off += (size_t)skiff_packet_header_encode(d + off, cap - off, &h, 0, 1) + 40;
    return off;
}

static void coalesced_packets_split(void)
{
    uint8_t dgram[400] = {0};
    size_t len = build_coalesced(dgram, sizeof dgram);
    skiff_datagram_iter it;
    skiff_packet_header h;
    const uint8_t *pkt = NULL;
    skiff_datagram_iter_init(&it, dgram, len, 8, 0);
    static const skiff_packet_type want[] = {SKIFF_PKT_INITIAL, SKIFF_PKT_HANDSHAKE,
                                             SKIFF_PKT_1RTT};
    size_t offset = 0;
    for (int i = 0; i < 3; i++) {
        skiff_ssize n = skiff_datagram_iter_next(&it, &h, &pkt);
        CHECK(n > 0);
        CHECK_EQ(h.type, want[i]);
        CHECK(pkt == dgram + offset);
        offset += (size_t)(n > 0 ? n : 0);
    }
    CHECK_EQ(offset, len);
    CHECK_EQ(skiff_datagram_iter_next(&it, &h, &pkt), 0);

    /* A second packet for another connection ID ends the datagram (§12.2). */
    uint8_t other[] = {9, 9, 9, 9, 9, 9, 9, 9};
    skiff_packet_header a = {.type = SKIFF_PKT_INITIAL,
                             .version = SKIFF_QUIC_V1,
                             .dcid = rfc_dcid,
                             .dcid_len = 8,
                             .length = 30};
    uint8_t two[200] = {0};
    size_t first = (size_t)skiff_packet_header_encode(two, sizeof two, &a, 0, 1) + 29;
    a.dcid = other;
    size_t second = (size_t)skiff_packet_header_encode(two + first, sizeof two - first, &a, 0, 1) + 29;
    skiff_datagram_iter_init(&it, two, first + second, 8, 0);
    CHECK_EQ(skiff_datagram_iter_next(&it, &h, &pkt), (skiff_ssize)first);
    CHECK_EQ(skiff_datagram_iter_next(&it, &h, &pkt), 0);

    /* A Length running past the datagram drops the rest of it. */
    skiff_datagram_iter_init(&it, dgram, 80, 8, 0);
    CHECK(skiff_datagram_iter_next(&it, &h, &pkt) > 0);
    CHECK_EQ(skiff_datagram_iter_next(&it, &h, &pkt), SKIFF_ERR_TRUNCATED);
    CHECK_EQ(skiff_datagram_iter_next(&it, &h, &pkt), 0);
}

/* Every header type cut at every byte: an error, never a read past the end. */
static void truncation_at_every_byte(void)
{
    uint8_t cid[20] = {1, 2, 3};
    const uint32_t versions[] = {SKIFF_QUIC_V1};
    uint8_t pkts[5][128] = {{0}};
    size_t lens[5];
    skiff_packet_header h = {.version = SKIFF_QUIC_V1,
                             .dcid = cid,
                             .dcid_len = 20,
                             .scid = cid,
                             .scid_len = 5,
                             .token = (const uint8_t *)"tok",
                             .token_len = 3,
                             .length = 20};
    h.type = SKIFF_PKT_INITIAL;
    lens[0] = (size_t)skiff_packet_header_encode(pkts[0], 128, &h, 0, 1) + 19;
    h.type = SKIFF_PKT_HANDSHAKE;
    lens[1] = (size_t)skiff_packet_header_encode(pkts[1], 128, &h, 0, 1) + 19;
    h.type = SKIFF_PKT_0RTT;
    lens[2] = (size_t)skiff_packet_header_encode(pkts[2], 128, &h, 0, 1) + 19;
    lens[3] = (size_t)skiff_version_negotiation_encode(pkts[3], 128, cid, 20, cid, 5, versions,
                                                       1, 0);
    lens[4] = (size_t)skiff_retry_encode(pkts[4], 128, &h, 0) + 16;
    for (int k = 0; k < 5; k++) {
        skiff_packet_header d;
        uint8_t *full = test_dup_exact(pkts[k], lens[k]);
        CHECK_EQ(skiff_packet_header_decode(&d, full, lens[k], 20, 0), (skiff_ssize)lens[k]);
        free(full);
        for (size_t cut = 0; cut < lens[k]; cut++) {
            uint8_t *exact = test_dup_exact(pkts[k], cut);
            skiff_ssize rv = skiff_packet_header_decode(&d, exact, cut, 20, 0);
            /* A Retry runs to the end of the datagram, so a cut one is
             * still well formed (its integrity tag then fails). */
            if (k == 4 && rv > 0) CHECK_EQ(rv, (skiff_ssize)cut);
            else CHECK(rv == SKIFF_ERR_TRUNCATED || rv == SKIFF_ERR_INVALID_PACKET);
            free(exact);
        }
    }
}

int main(void)
{
    RUN(rfc9001_client_initial_header);
    RUN(rfc9001_server_initial_header);
    RUN(rfc9369_client_initial_header);
    RUN(v2_long_types_round_trip);
    RUN(rfc9001_retry);
    RUN(rfc9001_short_header);
    RUN(short_header_bits_and_cids);
    RUN(initial_token_and_20_byte_cids);
    RUN(version_negotiation);
    RUN(unknown_version_keeps_the_invariants);
    RUN(fixed_bit_and_reserved_bits);
    RUN(packet_number_encoding);
    RUN(coalesced_packets_split);
    RUN(truncation_at_every_byte);
    return test_report("packet_header");
}
