/* QUIC frames (RFC 9000 §12.4, §19; RFC 9221 §4): round trips, wire layout,
 * hostile input, the frame/packet-type table, ACK ranges and size helpers. */
#include "quic/frame.h"

#include "common/varint.h"
#include "test.h"

#define MAXV SKIFF_VARINT_MAX
#define FE SKIFF_ERR_FRAME_ENCODING
#define PV SKIFF_ERR_PROTOCOL_VIOLATION

static const uint8_t cid20[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t token16[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static uint8_t big[4096]; /* payload bytes: big[i] = i * 7 + 1 */

static void fill_big(void)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 1);
}

/* Decodes exactly p[0..n) from a heap copy of that size; returns the result
 * and the decoded frame (whose pointers are rebased onto p). */
static skiff_ssize decode_exact(skiff_frame *f, const uint8_t *p, size_t n)
{
    uint8_t *d = test_dup_exact(p, n);
    skiff_ssize rc = skiff_frame_decode(f, d, n);
    /* Pointers into d would dangle after free: rebase them onto p. */
    if (rc > 0) {
        const uint8_t **ptrs[4] = {NULL, NULL, NULL, NULL};
        switch (f->type) {
        case SKIFF_FRAME_ACK:
        case SKIFF_FRAME_ACK_ECN:
            ptrs[0] = &f->ack.ranges;
            break;
        case SKIFF_FRAME_CRYPTO:
            ptrs[0] = &f->crypto.data;
            break;
        case SKIFF_FRAME_NEW_TOKEN:
            ptrs[0] = &f->new_token.token;
            break;
        case SKIFF_FRAME_NEW_CONNECTION_ID:
            ptrs[0] = &f->new_connection_id.cid;
            ptrs[1] = &f->new_connection_id.reset_token;
            break;
        case SKIFF_FRAME_CONNECTION_CLOSE:
        case SKIFF_FRAME_CONNECTION_CLOSE_APP:
            ptrs[0] = &f->connection_close.reason;
            break;
        case SKIFF_FRAME_DATAGRAM:
        case SKIFF_FRAME_DATAGRAM_LEN:
            ptrs[0] = &f->datagram.data;
            break;
        default:
            if (skiff_frame_is_stream(f->type)) ptrs[0] = &f->stream.data;
        }
        for (int i = 0; ptrs[i]; i++) {
            CHECK(*ptrs[i] >= d && *ptrs[i] <= d + n); /* zero-copy: into the input */
            *ptrs[i] = p + (*ptrs[i] - d);
        }
    }
    free(d);
    return rc;
}

/*
 * Encodes f, checks the size helpers and every too-small buffer, decodes the
 * bytes back into *out and re-encodes them to the same bytes. Returns the
 * encoded length (0 on failure); the bytes are left in buf.
 */
static size_t round_trip(const skiff_frame *f, skiff_frame *out, uint8_t *buf, size_t cap)
{
    skiff_ssize n = skiff_frame_encode(buf, cap, f);
    CHECK(n > 0);
    if (n <= 0) return 0;
    CHECK_EQ(skiff_frame_size(f), n);
    CHECK_EQ(skiff_frame_encode(NULL, 0, f), n);
    /* Every buffer too small by any amount is refused (for long frames, the
     * first and last few sizes). */
    uint8_t small[8192];
    for (skiff_ssize c = 0; c < n; c++) {
        if (c == 64 && n > 128) c = n - 64;
        CHECK_EQ(skiff_frame_encode(small, (size_t)c, f), SKIFF_ERR_BUFFER_TOO_SMALL);
    }

    memset(out, 0xee, sizeof *out);
    CHECK_EQ(decode_exact(out, buf, (size_t)n), n);
    uint8_t again[8192];
    CHECK_EQ(skiff_frame_encode(again, sizeof again, out), n);
    CHECK_MEM(again, buf, (size_t)n);
    return (size_t)n;
}

/*
 * Every prefix of a valid encoding must fail with FRAME_ENCODING_ERROR, or,
 * for frames whose data runs to the end of the packet, decode from `open_at`
 * on as the same frame with less data.
 */
static void check_truncations(const uint8_t *p, size_t n, size_t open_at)
{
    for (size_t cut = 0; cut < n; cut++) {
        skiff_frame f;
        skiff_ssize rc = decode_exact(&f, p, cut);
        if (cut >= open_at)
            CHECK_EQ(rc, (skiff_ssize)cut);
        else
            CHECK_EQ(rc, FE);
        if (cut >= open_at ? rc != (skiff_ssize)cut : rc != FE)
            fprintf(stderr, "  truncation of type 0x%02x at %zu of %zu\n", p[0], cut, n);
    }
}

static void rt_and_truncate(const skiff_frame *f, skiff_frame *out)
{
    uint8_t buf[8192];
    size_t n = round_trip(f, out, buf, sizeof buf);
    check_truncations(buf, n, SIZE_MAX);
}

/* ---- Round trips with exact fields -------------------------------------- */

static void padding_ping_handshake_done(void)
{
    skiff_frame f = {.type = SKIFF_FRAME_PADDING, .padding = {.len = 1}}, g;
    uint8_t buf[2048];
    CHECK_EQ(round_trip(&f, &g, buf, sizeof buf), 1);
    CHECK_EQ(g.padding.len, 1);
    CHECK_EQ(buf[0], 0);
    f.padding.len = 1200;
    CHECK_EQ(round_trip(&f, &g, buf, sizeof buf), 1200);
    CHECK_EQ(g.padding.len, 1200);
    CHECK_EQ(skiff_frame_padding_encode(buf, 10, 0), SKIFF_ERR_INVALID_ARGUMENT);

    f.type = SKIFF_FRAME_PING;
    CHECK_EQ(round_trip(&f, &g, buf, sizeof buf), 1);
    CHECK_EQ(g.type, SKIFF_FRAME_PING);
    CHECK_EQ(buf[0], 0x01);
    check_truncations(buf, 1, SIZE_MAX);
    f.type = SKIFF_FRAME_HANDSHAKE_DONE;
    CHECK_EQ(round_trip(&f, &g, buf, sizeof buf), 1);
    CHECK_EQ(g.type, SKIFF_FRAME_HANDSHAKE_DONE);
    CHECK_EQ(buf[0], 0x1e);
}

/* A run of zero bytes is one PADDING frame, whatever its alignment. */
static void padding_runs_are_one_frame(void)
{
    uint8_t pkt[64];
    for (size_t zeros = 1; zeros <= 40; zeros++) {
        for (size_t lead = 0; lead < 3; lead++) {
            memset(pkt, 0, sizeof pkt);
            for (size_t i = 0; i < lead; i++)
                pkt[i] = 0x01; /* PINGs */
            pkt[lead + zeros] = 0x01;
            size_t n = lead + zeros + 1;
            uint8_t *d = test_dup_exact(pkt, n);
            skiff_frame f;
            size_t pos = 0, frames = 0;
            while (pos < n) {
                skiff_ssize rc = skiff_frame_decode(&f, d + pos, n - pos);
                CHECK(rc > 0);
                if (rc <= 0) break;
                if (pos == lead) {
                    CHECK_EQ(f.type, SKIFF_FRAME_PADDING);
                    CHECK_EQ(f.padding.len, zeros);
                    CHECK_EQ(rc, (skiff_ssize)zeros);
                }
                pos += (size_t)rc;
                frames++;
            }
            CHECK_EQ(frames, lead + 2);
            free(d);
        }
    }
    /* Trailing padding to the end of the buffer. */
    memset(pkt, 0, sizeof pkt);
    uint8_t *d = test_dup_exact(pkt, 37);
    skiff_frame f;
    CHECK_EQ(skiff_frame_decode(&f, d, 37), 37);
    CHECK_EQ(f.padding.len, 37);
    free(d);
}

static void ack_round_trips(void)
{
    static const skiff_frame_ack_interval iv[] = {
        {1000, 1005}, {990, 997}, {900, 900}, {10, 800}, {0, 7}};
    uint8_t buf[8192];
    skiff_frame f, g;
    size_t written = 0;

    /* No ranges, no ECN, everything 0. */
    skiff_frame_ack_interval zero = {0, 0};
    skiff_ssize n = skiff_frame_ack_encode_intervals(buf, sizeof buf, &zero, 1, 0, NULL, &written);
    CHECK_EQ(n, 5);
    CHECK_EQ(written, 1);
    CHECK_MEM(buf, "\x02\x00\x00\x00\x00", 5);
    CHECK_EQ(decode_exact(&f, buf, 5), 5);
    CHECK_EQ(f.type, SKIFF_FRAME_ACK);
    CHECK_U64(f.ack.largest, 0);
    CHECK_U64(f.ack.smallest, 0);
    CHECK_EQ(f.ack.range_count, 0);
    CHECK(!f.ack.has_ecn);
    rt_and_truncate(&f, &g);

    /* Several ranges with ECN. */
    skiff_frame_ecn_counts ecn = {1, 2, MAXV};
    n = skiff_frame_ack_encode_intervals(buf, sizeof buf, iv, 5, 1234, &ecn, &written);
    CHECK(n > 0);
    CHECK_EQ(written, 5);
    CHECK_EQ(decode_exact(&f, buf, (size_t)n), n);
    CHECK_EQ(f.type, SKIFF_FRAME_ACK_ECN);
    CHECK(f.ack.has_ecn);
    CHECK_U64(f.ack.largest, 1005);
    CHECK_U64(f.ack.smallest, 0);
    CHECK_U64(f.ack.ack_delay, 1234);
    CHECK_U64(f.ack.first_range, 5);
    CHECK_EQ(f.ack.range_count, 4);
    CHECK_U64(f.ack.ecn.ect0, 1);
    CHECK_U64(f.ack.ecn.ect1, 2);
    CHECK_U64(f.ack.ecn.ce, MAXV);
    rt_and_truncate(&f, &g);
    CHECK_EQ(g.ack.range_count, 4);

    /* Boundaries: largest 2^62-1, everything acknowledged down to 0. */
    skiff_frame_ack_interval all = {0, MAXV};
    n = skiff_frame_ack_encode_intervals(buf, sizeof buf, &all, 1, MAXV, NULL, &written);
    CHECK_EQ(n, 1 + 8 + 8 + 1 + 8);
    CHECK_EQ(decode_exact(&f, buf, (size_t)n), n);
    CHECK_U64(f.ack.largest, MAXV);
    CHECK_U64(f.ack.smallest, 0);
    CHECK_U64(f.ack.ack_delay, MAXV);
    rt_and_truncate(&f, &g);

    /* Many ranges: 300 single packets, every other one (gap 0, length 0). */
    skiff_frame_ack_interval many[300];
    for (int i = 0; i < 300; i++)
        many[i].smallest = many[i].largest = 1000 - 2 * (uint64_t)i;
    n = skiff_frame_ack_encode_intervals(buf, sizeof buf, many, 300, 0, NULL, &written);
    CHECK_EQ(written, 300);
    CHECK_EQ(n, 1 + 2 + 1 + 2 + 1 + 299 * 2);
    CHECK_EQ(decode_exact(&f, buf, (size_t)n), n);
    CHECK_EQ(f.ack.range_count, 299);
    CHECK_U64(f.ack.smallest, 1000 - 598);
    rt_and_truncate(&f, &g);
}

static void simple_frames_round_trip(void)
{
    static const uint64_t vals[] = {0, 1, 63, 64, 16383, 16384, 1073741823, 1073741824, MAXV};
    skiff_frame f, g;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint64_t v = vals[i], w = vals[sizeof vals / sizeof vals[0] - 1 - i];

        memset(&f, 0, sizeof f);
        f.type = SKIFF_FRAME_RESET_STREAM;
        f.reset_stream = (skiff_frame_reset_stream){v, w, v};
        rt_and_truncate(&f, &g);
        CHECK_U64(g.reset_stream.stream_id, v);
        CHECK_U64(g.reset_stream.app_error_code, w);
        CHECK_U64(g.reset_stream.final_size, v);

        f.type = SKIFF_FRAME_STOP_SENDING;
        f.stop_sending = (skiff_frame_stop_sending){w, v};
        rt_and_truncate(&f, &g);
        CHECK_U64(g.stop_sending.stream_id, w);
        CHECK_U64(g.stop_sending.app_error_code, v);

        f.type = SKIFF_FRAME_MAX_DATA;
        f.max_data.max = v;
        rt_and_truncate(&f, &g);
        CHECK_U64(g.max_data.max, v);

        f.type = SKIFF_FRAME_MAX_STREAM_DATA;
        f.max_stream_data = (skiff_frame_max_stream_data){v, w};
        rt_and_truncate(&f, &g);
        CHECK_U64(g.max_stream_data.stream_id, v);
        CHECK_U64(g.max_stream_data.max, w);

        f.type = SKIFF_FRAME_DATA_BLOCKED;
        f.data_blocked.limit = w;
        rt_and_truncate(&f, &g);
        CHECK_U64(g.data_blocked.limit, w);

        f.type = SKIFF_FRAME_STREAM_DATA_BLOCKED;
        f.stream_data_blocked = (skiff_frame_stream_data_blocked){w, v};
        rt_and_truncate(&f, &g);
        CHECK_U64(g.stream_data_blocked.stream_id, w);
        CHECK_U64(g.stream_data_blocked.limit, v);

        f.type = SKIFF_FRAME_RETIRE_CONNECTION_ID;
        f.retire_connection_id.seq = v;
        rt_and_truncate(&f, &g);
        CHECK_U64(g.retire_connection_id.seq, v);

        uint64_t streams = v > SKIFF_FRAME_MAX_STREAMS_LIMIT ? SKIFF_FRAME_MAX_STREAMS_LIMIT : v;
        for (int bidi = 0; bidi < 2; bidi++) {
            f.type = bidi ? SKIFF_FRAME_MAX_STREAMS_BIDI : SKIFF_FRAME_MAX_STREAMS_UNI;
            f.max_streams = (skiff_frame_max_streams){streams, bidi};
            rt_and_truncate(&f, &g);
            CHECK_EQ(g.type, bidi ? 0x12 : 0x13);
            CHECK_U64(g.max_streams.max, streams);
            CHECK_EQ(g.max_streams.bidi, bidi);

            f.type = bidi ? SKIFF_FRAME_STREAMS_BLOCKED_BIDI : SKIFF_FRAME_STREAMS_BLOCKED_UNI;
            f.streams_blocked = (skiff_frame_streams_blocked){streams, bidi};
            rt_and_truncate(&f, &g);
            CHECK_EQ(g.type, bidi ? 0x16 : 0x17);
            CHECK_U64(g.streams_blocked.limit, streams);
            CHECK_EQ(g.streams_blocked.bidi, bidi);
        }
    }
}

static void crypto_token_cid_path_close_round_trip(void)
{
    skiff_frame f, g;
    static const size_t lens[] = {0, 1, 63, 64, 1000, 4096};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        static const uint64_t offs[] = {0, 1, 16384};
        for (size_t j = 0; j < 3; j++) {
            memset(&f, 0, sizeof f);
            f.type = SKIFF_FRAME_CRYPTO;
            f.crypto = (skiff_frame_crypto){offs[j], big, len};
            rt_and_truncate(&f, &g);
            CHECK_U64(g.crypto.offset, offs[j]);
            CHECK_EQ(g.crypto.len, len);
            CHECK_MEM(g.crypto.data, big, len);
        }
        /* offset + length at exactly 2^62-1 */
        f.crypto = (skiff_frame_crypto){MAXV - len, big, len};
        rt_and_truncate(&f, &g);
        CHECK_U64(g.crypto.offset, MAXV - len);

        if (len) {
            f.type = SKIFF_FRAME_NEW_TOKEN;
            f.new_token = (skiff_frame_new_token){big, len};
            rt_and_truncate(&f, &g);
            CHECK_EQ(g.new_token.len, len);
            CHECK_MEM(g.new_token.token, big, len);
        }

        for (int app = 0; app < 2; app++) {
            f.type = app ? SKIFF_FRAME_CONNECTION_CLOSE_APP : SKIFF_FRAME_CONNECTION_CLOSE;
            f.connection_close = (skiff_frame_connection_close){.error_code = app ? MAXV : 0x100,
                                                                .frame_type = app ? 0 : 0x1e,
                                                                .reason = big,
                                                                .reason_len = len,
                                                                .app = app};
            rt_and_truncate(&f, &g);
            CHECK_EQ(g.type, app ? 0x1d : 0x1c);
            CHECK_EQ(g.connection_close.app, app);
            CHECK_U64(g.connection_close.error_code, app ? MAXV : 0x100);
            CHECK_U64(g.connection_close.frame_type, app ? 0 : 0x1e);
            CHECK_EQ(g.connection_close.reason_len, len);
            CHECK_MEM(g.connection_close.reason, big, len);
        }

        for (int has_len = 0; has_len < 2; has_len++) {
            f.type = has_len ? SKIFF_FRAME_DATAGRAM_LEN : SKIFF_FRAME_DATAGRAM;
            f.datagram = (skiff_frame_datagram){big, len, has_len};
            uint8_t buf[8192];
            size_t n = round_trip(&f, &g, buf, sizeof buf);
            CHECK_EQ(n, 1 + (has_len ? skiff_varint_len(len) : 0) + len);
            check_truncations(buf, n, has_len ? SIZE_MAX : 1);
            CHECK_EQ(g.datagram.len, len);
            CHECK_EQ(g.datagram.has_length, has_len);
            CHECK_MEM(g.datagram.data, big, len);
        }
    }

    for (uint8_t cl = 1; cl <= 20; cl++) {
        static const uint64_t seqs[][2] = {{0, 0}, {5, 3}, {MAXV, MAXV}, {MAXV, 0}};
        for (size_t j = 0; j < 4; j++) {
            memset(&f, 0, sizeof f);
            f.type = SKIFF_FRAME_NEW_CONNECTION_ID;
            f.new_connection_id =
                (skiff_frame_new_connection_id){seqs[j][0], seqs[j][1], cid20, cl, token16};
            rt_and_truncate(&f, &g);
            CHECK_U64(g.new_connection_id.seq, seqs[j][0]);
            CHECK_U64(g.new_connection_id.retire_prior_to, seqs[j][1]);
            CHECK_EQ(g.new_connection_id.cid_len, cl);
            CHECK_MEM(g.new_connection_id.cid, cid20, cl);
            CHECK_MEM(g.new_connection_id.reset_token, token16, 16);
        }
    }

    for (int resp = 0; resp < 2; resp++) {
        memset(&f, 0, sizeof f);
        f.type = resp ? SKIFF_FRAME_PATH_RESPONSE : SKIFF_FRAME_PATH_CHALLENGE;
        memcpy(f.path_challenge.data, "\x00\xff\x10\x20\x30\x40\x50\x60", 8);
        rt_and_truncate(&f, &g);
        CHECK_EQ(g.type, resp ? 0x1b : 0x1a);
        CHECK_MEM(resp ? g.path_response.data : g.path_challenge.data,
                  "\x00\xff\x10\x20\x30\x40\x50\x60", 8);
    }
}

/* STREAM: each combination of OFF, LEN and FIN from hand-written bytes, then
 * encoder round trips over the field boundaries. */
static void stream_frames(void)
{
    for (uint8_t type = 0x08; type <= 0x0f; type++) {
        uint8_t buf[32];
        size_t n = 0;
        buf[n++] = type;
        buf[n++] = 0x04; /* stream 4 */
        if (type & 0x04) {
            buf[n++] = 0x41;
            buf[n++] = 0x00;
        }                                 /* offset 256 */
        if (type & 0x02) buf[n++] = 0x05; /* length 5 */
        size_t hdr = n;
        memcpy(buf + n, "hello", 5);
        n += 5;
        skiff_frame f;
        CHECK_EQ(decode_exact(&f, buf, n), n);
        CHECK_EQ(f.type, type);
        CHECK_U64(f.stream.stream_id, 4);
        CHECK_U64(f.stream.offset, (type & 0x04) ? 256 : 0);
        CHECK_EQ(f.stream.len, 5);
        CHECK_MEM(f.stream.data, "hello", 5);
        CHECK_EQ(f.stream.fin, (type & 0x01) != 0);
        CHECK_EQ(f.stream.has_length, (type & 0x02) != 0);
        /* Re-encoding gives the same bytes: the offset is non-zero. */
        uint8_t again[32];
        CHECK_EQ(skiff_frame_encode(again, sizeof again, &f), n);
        CHECK_MEM(again, buf, n);
        check_truncations(buf, n, (type & 0x02) ? SIZE_MAX : hdr);

        /* A LEN-less frame followed by more bytes swallows them as data. */
        if (!(type & 0x02)) {
            buf[n] = 0x01;
            CHECK_EQ(decode_exact(&f, buf, n + 1), n + 1);
            CHECK_EQ(f.stream.len, 6);
        }
    }

    /* OFF bit with a zero offset is legal; the encoder drops the field. */
    uint8_t off0[] = {0x0e, 0x00, 0x00, 0x01, 0xaa};
    skiff_frame f, g;
    CHECK_EQ(decode_exact(&f, off0, sizeof off0), 5);
    CHECK_U64(f.stream.offset, 0);
    uint8_t out[16];
    CHECK_EQ(skiff_frame_encode(out, sizeof out, &f), 4);
    CHECK_MEM(out, "\x0a\x00\x01\xaa", 4);

    static const uint64_t ids[] = {0, 3, 64, MAXV};
    static const uint64_t offs[] = {0, 1, 16384, MAXV - 4096};
    static const size_t lens[] = {0, 1, 64, 4096};
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++)
            for (size_t c = 0; c < 4; c++)
                for (int bits = 0; bits < 4; bits++) {
                    bool fin = bits & 1, has_len = bits & 2;
                    memset(&f, 0, sizeof f);
                    f.type = SKIFF_FRAME_STREAM;
                    f.stream = (skiff_frame_stream){ids[a], offs[b], big, lens[c], fin, has_len};
                    uint8_t buf[8192];
                    size_t n = round_trip(&f, &g, buf, sizeof buf);
                    size_t hdr = skiff_frame_stream_header_size(ids[a], offs[b], lens[c], has_len);
                    CHECK_EQ(n, hdr + lens[c]);
                    CHECK_EQ(buf[0], 0x08 | (offs[b] ? 4 : 0) | (has_len ? 2 : 0) | fin);
                    CHECK_U64(g.stream.stream_id, ids[a]);
                    CHECK_U64(g.stream.offset, offs[b]);
                    CHECK_EQ(g.stream.len, lens[c]);
                    CHECK_EQ(g.stream.fin, fin);
                    CHECK_EQ(g.stream.has_length, has_len);
                    CHECK_MEM(g.stream.data, big, lens[c]);
                    if (c == 1) check_truncations(buf, n, has_len ? SIZE_MAX : hdr);
                    /* The header on its own matches the frame's start. */
                    uint8_t h[32];
                    CHECK_EQ(skiff_frame_stream_encode_header(h, sizeof h, &f.stream), hdr);
                    CHECK_MEM(h, buf, hdr);
                }
    /* offset + length = 2^62-1 exactly is allowed; one more is not. */
    f.stream = (skiff_frame_stream){0, MAXV - 5, big, 5, true, true};
    CHECK(skiff_frame_stream_encode(out, sizeof out, &f.stream) > 0);
    f.stream.len = 6;
    CHECK_EQ(skiff_frame_stream_encode(out, sizeof out, &f.stream), SKIFF_ERR_INVALID_ARGUMENT);
}

/* ---- The wire layout, by hand from RFC 9000 §19 ------------------------- */

static void check_hex(const skiff_frame *f, const char *hex)
{
    uint8_t want[256], got[256];
    size_t n = test_hex(hex, want, sizeof want);
    CHECK_EQ(skiff_frame_encode(got, sizeof got, f), n);
    CHECK_MEM(got, want, n);
    skiff_frame g;
    CHECK_EQ(decode_exact(&g, want, n), n);
    CHECK_EQ(g.type, want[0]);
}

static void encodings_match_the_rfc_layout(void)
{
    skiff_frame f = {.type = SKIFF_FRAME_MAX_DATA, .max_data = {15293}};
    check_hex(&f, "10 7bbd");
    f = (skiff_frame){.type = SKIFF_FRAME_STREAM,
                      .stream = {4, 256, (const uint8_t *)"hello", 5, false, true}};
    check_hex(&f, "0e 04 4100 05 68656c6c6f");
    f.stream.fin = true;
    f.stream.offset = 0;
    f.stream.has_length = false;
    check_hex(&f, "09 04 68656c6c6f");
    f = (skiff_frame){.type = SKIFF_FRAME_CRYPTO, .crypto = {0, (const uint8_t *)"\1\2\3", 3}};
    check_hex(&f, "06 00 03 010203");
    f = (skiff_frame){.type = SKIFF_FRAME_RESET_STREAM, .reset_stream = {1, 0x0c, 16384}};
    check_hex(&f, "04 01 0c 80004000");
    f = (skiff_frame){.type = SKIFF_FRAME_NEW_CONNECTION_ID,
                      .new_connection_id = {1, 0, (const uint8_t *)"\xa1\xa2\xa3\xa4", 4, token16}};
    check_hex(&f, "18 01 00 04 a1a2a3a4 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    f = (skiff_frame){.type = SKIFF_FRAME_CONNECTION_CLOSE,
                      .connection_close = {0x07, 0x06, (const uint8_t *)"abc", 3, false}};
    check_hex(&f, "1c 07 06 03 616263");
    f.connection_close.app = true;
    f.type = SKIFF_FRAME_CONNECTION_CLOSE_APP;
    check_hex(&f, "1d 07 03 616263");
    f = (skiff_frame){.type = SKIFF_FRAME_DATAGRAM_LEN,
                      .datagram = {(const uint8_t *)"xyz", 3, true}};
    check_hex(&f, "31 03 78797a");
    f.datagram.has_length = false;
    f.type = SKIFF_FRAME_DATAGRAM;
    check_hex(&f, "30 78797a");
    f = (skiff_frame){.type = SKIFF_FRAME_MAX_STREAMS_UNI, .max_streams = {100, false}};
    check_hex(&f, "13 4064");
    f = (skiff_frame){.type = SKIFF_FRAME_PATH_CHALLENGE};
    memcpy(f.path_challenge.data, "\1\2\3\4\5\6\7\x08", 8);
    check_hex(&f, "1a 0102030405060708");

    /* ACK: largest 100, delay 10, first range 3 ([97,100]), then gap 1 and
     * range 2: largest 97 - 1 - 2 = 94, so [92,94]. */
    static const skiff_frame_ack_interval iv[] = {{97, 100}, {92, 94}};
    uint8_t out[64], want[64];
    size_t written;
    size_t n = test_hex("02 4064 0a 01 03 01 02", want, sizeof want);
    CHECK_EQ(skiff_frame_ack_encode_intervals(out, sizeof out, iv, 2, 10, NULL, &written), n);
    CHECK_EQ(written, 2);
    CHECK_MEM(out, want, n);
    skiff_frame_ecn_counts ecn = {5, 0, 64};
    n = test_hex("03 4064 0a 01 03 01 02 05 00 4040", want, sizeof want);
    CHECK_EQ(skiff_frame_ack_encode_intervals(out, sizeof out, iv, 2, 10, &ecn, &written), n);
    CHECK_MEM(out, want, n);
}

/* ---- ACK ranges ------------------------------------------------------------ */

static size_t collect(const skiff_frame_ack *ack, skiff_frame_ack_interval *iv, size_t cap)
{
    skiff_frame_ack_iter it;
    skiff_frame_ack_iter_init(&it, ack);
    size_t n = 0;
    skiff_frame_ack_interval x;
    while (skiff_frame_ack_iter_next(&it, &x)) {
        if (n < cap) iv[n] = x;
        n++;
    }
    return n;
}

static void ack_iterator_gives_the_intervals(void)
{
    /* largest 50, first range 2 -> [48,50]; gap 0 -> largest 46, range 1 ->
     * [45,46]; gap 3 -> 40, range 0 -> [40,40]; gap 37 -> 1, range 1 -> [0,1]. */
    uint8_t wire[32];
    size_t n = test_hex("02 32 00 03 02  00 01  03 00  25 01", wire, sizeof wire);
    skiff_frame f;
    CHECK_EQ(decode_exact(&f, wire, n), n);
    CHECK_U64(f.ack.smallest, 0);
    skiff_frame_ack_interval got[8];
    CHECK_EQ(collect(&f.ack, got, 8), 4);
    static const uint64_t want[4][2] = {{48, 50}, {45, 46}, {40, 40}, {0, 1}};
    for (int i = 0; i < 4; i++) {
        CHECK_U64(got[i].smallest, want[i][0]);
        CHECK_U64(got[i].largest, want[i][1]);
    }

    /* Intervals in, intervals out, through the wire. */
    skiff_frame_ack_interval in[64];
    uint64_t pn = UINT64_C(1) << 40;
    for (int i = 0; i < 64; i++) {
        in[i].largest = pn;
        in[i].smallest = pn - (uint64_t)(i * 37 % 300);
        pn = in[i].smallest - 2 - (uint64_t)(i * 1009 % 20000);
    }
    uint8_t buf[2048];
    size_t written;
    skiff_ssize len = skiff_frame_ack_encode_intervals(buf, sizeof buf, in, 64, 7, NULL, &written);
    CHECK(len > 0);
    CHECK_EQ(written, 64);
    CHECK_EQ(decode_exact(&f, buf, (size_t)len), len);
    skiff_frame_ack_interval out[64];
    CHECK_EQ(collect(&f.ack, out, 64), 64);
    for (int i = 0; i < 64; i++) {
        CHECK_U64(out[i].smallest, in[i].smallest);
        CHECK_U64(out[i].largest, in[i].largest);
    }
    CHECK_U64(f.ack.smallest, in[63].smallest);
}

static void ack_underflow_and_hostile_counts(void)
{
    static const char *bad[] = {
        "02 05 00 00 06",                           /* first range 6 > largest 5 */
        "02 05 00 01 03 00 00",                     /* [2,5], gap 0 -> largest 0: fine... */
        "02 05 00 01 03 01 00",                     /* [2,5], gap 1 -> largest -1 */
        "02 05 00 01 02 00 02",                     /* [3,5], gap 0 -> largest 1, range 2 -> -1 */
        "02 05 00 01 05 00 00",                     /* [0,5], then gap 0 -> -2 */
        "02 7fff 00 01 00 bfffffff 00",             /* gap far beyond */
        "02 05 00 02 00 00 00",                     /* count 2, one range present */
        "02 05 00 c0000000ffffffff 00 00 00 00 00", /* count 2^32-1 with 4 bytes left */
        "02 05 00 ffffffffffffffff 00",             /* count 2^62-1 */
        "03 05 00 00 00 01 02",                     /* ECN counts truncated */
    };
    static const int want[] = {FE, 0, FE, FE, FE, FE, FE, FE, FE, FE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t wire[64];
        size_t n = test_hex(bad[i], wire, sizeof wire);
        skiff_frame f;
        skiff_ssize rc = decode_exact(&f, wire, n);
        if (want[i] == 0) {
            CHECK_EQ(rc, n);
            CHECK_U64(f.ack.smallest, 0);
        } else {
            CHECK_EQ(rc, want[i]);
        }
        if (want[i] == 0 ? rc != (skiff_ssize)n : rc != want[i])
            fprintf(stderr, "  case %zu: %s\n", i, bad[i]);
    }
}

/* The encoder fits as many ranges as the budget allows, counting the Range
 * Count field's growth from one byte to two at 64 ranges. */
static void ack_encoder_budget(void)
{
    enum { N = 200 };
    skiff_frame_ack_interval iv[N];
    for (int i = 0; i < N; i++)
        iv[i].smallest = iv[i].largest = 100000 - 2 * (uint64_t)i;
    /* type + largest (4) + delay (1) + first range (1) */
    const size_t fixed = 1 + 4 + 1 + 1;
    uint8_t buf[1024];
    for (size_t cap = 0; cap < fixed + 2 + 2 * N + 4; cap++) {
        size_t written = 12345;
        skiff_ssize n = skiff_frame_ack_encode_intervals(buf, cap, iv, N, 0, NULL, &written);
        if (cap < fixed + 1) {
            CHECK_EQ(n, SKIFF_ERR_BUFFER_TOO_SMALL);
            continue;
        }
        size_t best = 0; /* the most ranges c with fixed + len(c) + 2c <= cap */
        for (size_t c = 0; c < N; c++)
            if (fixed + skiff_varint_len(c) + 2 * c <= cap) best = c;
        CHECK_EQ(written, best + 1);
        CHECK_EQ(n, (skiff_ssize)(fixed + skiff_varint_len(best) + 2 * best));
        CHECK(n <= (skiff_ssize)cap);
        skiff_frame f;
        CHECK_EQ(decode_exact(&f, buf, (size_t)n), n);
        CHECK_EQ(f.ack.range_count, best);
        CHECK_U64(f.ack.smallest, iv[best].smallest);
    }
    /* The dry run (out == NULL) agrees. */
    size_t w1, w2;
    CHECK_EQ(skiff_frame_ack_encode_intervals(NULL, 100, iv, N, 0, NULL, &w1),
             skiff_frame_ack_encode_intervals(buf, 100, iv, N, 0, NULL, &w2));
    CHECK_EQ(w1, w2);

    /* Invalid interval lists. */
    static const skiff_frame_ack_interval adjacent[] = {{10, 20}, {5, 9}};
    static const skiff_frame_ack_interval overlap[] = {{10, 20}, {5, 10}};
    static const skiff_frame_ack_interval ascending[] = {{10, 20}, {30, 40}};
    static const skiff_frame_ack_interval inverted[] = {{20, 10}};
    static const skiff_frame_ack_interval inverted2[] = {{10, 20}, {7, 5}};
    static const skiff_frame_ack_interval too_big[] = {{0, MAXV + 1}};
    static const skiff_frame_ack_interval near_zero[] = {{1, 5}, {0, 0}};
    static const skiff_frame_ack_interval ok[] = {{10, 20}, {5, 8}};
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, ok, 0, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, adjacent, 2, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, overlap, 2, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, ascending, 2, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, inverted, 1, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, inverted2, 2, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, too_big, 1, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, near_zero, 2, 0, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, ok, 2, MAXV + 1, NULL, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    skiff_frame_ecn_counts bad_ecn = {0, MAXV + 1, 0};
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, ok, 2, 0, &bad_ecn, NULL),
             SKIFF_ERR_INVALID_ARGUMENT);
    size_t written;
    CHECK_EQ(skiff_frame_ack_encode_intervals(buf, 64, ok, 2, 0, NULL, &written), 7);
    CHECK_EQ(written, 2);
    CHECK_MEM(buf, "\x02\x14\x00\x01\x0a\x00\x03", 7);
}

/* ---- Hostile input ------------------------------------------------------- */

static void expect(const char *hex, skiff_ssize want)
{
    uint8_t wire[128];
    size_t n = test_hex(hex, wire, sizeof wire);
    skiff_frame f;
    skiff_ssize rc = decode_exact(&f, wire, n);
    CHECK_EQ(rc, want);
    if (rc != want) fprintf(stderr, "  input: %s\n", hex);
}

static void oversized_lengths_and_limits(void)
{
    /* Lengths beyond the buffer (§12.4 FRAME_ENCODING_ERROR). */
    expect("06 00 04 010203", FE);           /* CRYPTO */
    expect("06 00 ffffffffffffffff 01", FE); /* CRYPTO, length 2^62-1 */
    expect("07 04 010203", FE);              /* NEW_TOKEN */
    expect("0a 00 04 010203", FE);           /* STREAM with LEN */
    expect("0b 00 bfffffff 01", FE);
    expect("1c 00 00 02 61", FE); /* CONNECTION_CLOSE reason */
    expect("1d 00 4002 61", FE);  /* non-minimal length 2, 1 byte */
    expect("31 02 01", FE);       /* DATAGRAM with length */
    expect("18 01 00 05 01020304 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", FE); /* CID 5, 4 given */

    /* §19.8: offset + length > 2^62-1. */
    expect("0e 00 ffffffffffffffff 01 aa", FE);
    expect("0c 00 ffffffffffffffff aa", FE);     /* no LEN: the rest of the packet */
    expect("0c 00 ffffffffffffffff", 1 + 1 + 8); /* empty data at the top offset is fine */
    expect("0e 00 fffffffffffffffe 01 aa", 1 + 1 + 8 + 1 + 1);
    /* §19.6: the same for CRYPTO. */
    expect("06 ffffffffffffffff 01 aa", FE);
    expect("06 fffffffffffffffe 01 aa", 1 + 8 + 1 + 1);
    /* §19.11, §19.14: at most 2^60 streams. */
    expect("12 d000000000000000", 9);
    expect("12 d000000000000001", FE);
    expect("13 d000000000000001", FE);
    expect("16 d000000000000001", FE);
    expect("17 ffffffffffffffff", FE);
    expect("17 d000000000000000", 9);
    /* §19.15: CID length 1..20, Retire Prior To <= Sequence Number. */
    expect("18 01 00 00 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", FE);
    expect("18 01 00 15 0102030405060708090a0b0c0d0e0f101112131415 "
           "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
           FE);
    expect("18 01 02 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", FE);
    expect("18 02 02 01 aa a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", 21);
    /* §19.7: an empty token. */
    expect("07 00", FE);
    /* §19.19: 0x1d has no Frame Type field: "1d 07 06 03" is code 7, a
     * 6-byte reason of which 1 byte is there. */
    expect("1d 07 06 03", FE);
    expect("1d 07 01 03", 4);
    expect("1c 07 06 00", 4);
}

static void unknown_and_non_minimal_types(void)
{
    /* Unknown one-byte types: every value below 0x40 that is not a frame. */
    for (unsigned t = 0x1f; t < 0x40; t++) {
        if (t == 0x30 || t == 0x31) continue;
        uint8_t b[2] = {(uint8_t)t, 0x00};
        skiff_frame f;
        CHECK_EQ(decode_exact(&f, b, 2), FE);
        CHECK(!skiff_frame_allowed(t, SKIFF_PKT_1RTT));
    }
    expect("4040 00", FE);          /* 2-byte type 0x40, minimal, unknown */
    expect("7fff", FE);             /* 2-byte type 0x3fff */
    expect("80004000", FE);         /* 4-byte type 0x4000 */
    expect("c000000040000000", FE); /* 8-byte type 2^30 */
    expect("40", FE);               /* truncated 2-byte type */
    expect("c0000000", FE);         /* truncated 8-byte type */
    /* §12.4: a type in a longer encoding than necessary. */
    expect("4001", PV);                 /* PING in two bytes */
    expect("4000", PV);                 /* PADDING in two bytes */
    expect("4008 00", PV);              /* STREAM */
    expect("80000002 00 00 00 00", PV); /* ACK in four bytes */
    expect("c000000000000006 00 00", PV);
    expect("4030", PV);     /* DATAGRAM */
    expect("401f", PV);     /* unknown and non-minimal: the latter is seen first */
    expect("80000040", PV); /* 0x40 in four bytes */
    expect("", FE);         /* nothing at all */
}

/* ---- The frame/packet-type table (RFC 9000 §12.4 Table 3, §12.5) --------- */

/*
 * The "Pkts" column of Table 3, written out here from the RFC, with the
 * §12.5 0-RTT exclusions applied (which remove RETIRE_CONNECTION_ID from 0-RTT)
 * and DATAGRAM from RFC 9221 §4. I = Initial, H = Handshake, 0 = 0-RTT,
 * 1 = 1-RTT; CONNECTION_CLOSE 0x1d is "ih01" in the table, i.e. not in I/H.
 */
static const struct {
    uint64_t type;
    const char *pkts;
} table3[] = {
    {0x00, "IH01"}, {0x01, "IH01"}, {0x02, "IH_1"}, {0x03, "IH_1"}, {0x04, "__01"}, {0x05, "__01"},
    {0x06, "IH_1"}, {0x07, "___1"}, {0x08, "__01"}, {0x09, "__01"}, {0x0a, "__01"}, {0x0b, "__01"},
    {0x0c, "__01"}, {0x0d, "__01"}, {0x0e, "__01"}, {0x0f, "__01"}, {0x10, "__01"}, {0x11, "__01"},
    {0x12, "__01"}, {0x13, "__01"}, {0x14, "__01"}, {0x15, "__01"}, {0x16, "__01"}, {0x17, "__01"},
    {0x18, "__01"}, {0x19, "___1"}, {0x1a, "__01"}, {0x1b, "___1"}, {0x1c, "IH01"}, {0x1d, "__01"},
    {0x1e, "___1"}, {0x30, "__01"}, {0x31, "__01"},
};

static bool table_allows(const char *pkts, skiff_packet_type pt)
{
    switch (pt) {
    case SKIFF_PKT_INITIAL:
        return pkts[0] == 'I';
    case SKIFF_PKT_HANDSHAKE:
        return pkts[1] == 'H';
    case SKIFF_PKT_0RTT:
        return pkts[2] == '0';
    case SKIFF_PKT_1RTT:
        return pkts[3] == '1';
    default:
        return false; /* Retry and Version Negotiation carry no frames */
    }
}

/* A valid encoding of a frame of `type`. */
static size_t sample(uint64_t type, uint8_t *buf, size_t cap)
{
    skiff_frame f;
    memset(&f, 0, sizeof f);
    f.type = type;
    switch (type) {
    case SKIFF_FRAME_PADDING:
        f.padding.len = 3;
        break;
    case SKIFF_FRAME_ACK:
    case SKIFF_FRAME_ACK_ECN: {
        static const skiff_frame_ack_interval iv[] = {{10, 20}, {1, 4}};
        skiff_frame_ecn_counts ecn = {1, 2, 3};
        return (size_t)skiff_frame_ack_encode_intervals(
            buf, cap, iv, 2, 3, type == SKIFF_FRAME_ACK_ECN ? &ecn : NULL, NULL);
    }
    case SKIFF_FRAME_CRYPTO:
        f.crypto = (skiff_frame_crypto){5, big, 10};
        break;
    case SKIFF_FRAME_NEW_TOKEN:
        f.new_token = (skiff_frame_new_token){big, 10};
        break;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
        f.max_streams.bidi = true;
        break;
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
        f.streams_blocked.bidi = true;
        break;
    case SKIFF_FRAME_NEW_CONNECTION_ID:
        f.new_connection_id = (skiff_frame_new_connection_id){3, 1, cid20, 8, token16};
        break;
    case SKIFF_FRAME_CONNECTION_CLOSE:
    case SKIFF_FRAME_CONNECTION_CLOSE_APP:
        f.connection_close =
            (skiff_frame_connection_close){1, 0, big, 4, type == SKIFF_FRAME_CONNECTION_CLOSE_APP};
        break;
    case SKIFF_FRAME_DATAGRAM:
    case SKIFF_FRAME_DATAGRAM_LEN:
        f.datagram = (skiff_frame_datagram){big, 7, type == SKIFF_FRAME_DATAGRAM_LEN};
        break;
    default:
        if (skiff_frame_is_stream(type)) {
            f.stream = (skiff_frame_stream){4, (type & 4) ? 100 : 0, big, 9, type & 1, type & 2};
        }
    }
    skiff_ssize n = skiff_frame_encode(buf, cap, &f);
    return n > 0 ? (size_t)n : 0;
}

static void frames_allowed_by_packet_type(void)
{
    for (size_t i = 0; i < sizeof table3 / sizeof table3[0]; i++) {
        uint8_t buf[128];
        size_t n = sample(table3[i].type, buf, sizeof buf);
        CHECK(n > 0);
        CHECK_EQ(buf[0], table3[i].type);
        uint8_t *d = test_dup_exact(buf, n);
        for (int pt = 0; pt < SKIFF_PKT_TYPE_COUNT; pt++) {
            bool want = table_allows(table3[i].pkts, (skiff_packet_type)pt);
            CHECK_EQ(skiff_frame_allowed(table3[i].type, (skiff_packet_type)pt), want);
            skiff_frame f;
            skiff_ssize rc = skiff_frame_decode_in(&f, d, n, (skiff_packet_type)pt);
            CHECK_EQ(rc, want ? (skiff_ssize)n : PV);
            if (rc != (want ? (skiff_ssize)n : PV))
                fprintf(stderr, "  type 0x%02" PRIx64 " in packet type %d\n", table3[i].type, pt);
            if (want) CHECK_U64(f.type, table3[i].type);
        }
        /* Without a packet type every known frame decodes. */
        skiff_frame f;
        CHECK_EQ(skiff_frame_decode(&f, d, n), n);
        free(d);
    }
    /* Unknown types are FRAME_ENCODING_ERROR in every packet type, and a
     * non-minimal type is PROTOCOL_VIOLATION even where the frame is allowed. */
    for (int pt = 0; pt < SKIFF_PKT_TYPE_COUNT; pt++) {
        skiff_frame f;
        uint8_t unk[2] = {0x1f, 0x00}, nonmin[2] = {0x40, 0x01};
        uint8_t *d = test_dup_exact(unk, 2);
        CHECK_EQ(skiff_frame_decode_in(&f, d, 2, (skiff_packet_type)pt), FE);
        free(d);
        d = test_dup_exact(nonmin, 2);
        CHECK_EQ(skiff_frame_decode_in(&f, d, 2, (skiff_packet_type)pt), PV);
        free(d);
        CHECK(!skiff_frame_allowed(0x40, (skiff_packet_type)pt));
        CHECK(!skiff_frame_allowed(0x1f, (skiff_packet_type)pt));
    }
    CHECK(!skiff_frame_allowed(SKIFF_FRAME_PING, (skiff_packet_type)SKIFF_PKT_TYPE_COUNT));
    /* A frame that is not allowed is refused before its body is read. */
    uint8_t trunc_crypto[1] = {0x06};
    skiff_frame f;
    CHECK_EQ(skiff_frame_decode_in(&f, trunc_crypto, 1, SKIFF_PKT_0RTT), PV);
    CHECK_EQ(skiff_frame_decode_in(&f, trunc_crypto, 1, SKIFF_PKT_INITIAL), FE);
}

static void frame_properties(void)
{
    for (uint64_t t = 0; t < 0x50; t++) {
        bool known = t <= 0x1e || t == 0x30 || t == 0x31;
        bool not_eliciting = t == 0x00 || t == 0x02 || t == 0x03 || t == 0x1c || t == 0x1d;
        CHECK_EQ(skiff_frame_is_ack_eliciting(t), known && !not_eliciting);
        CHECK_EQ(skiff_frame_counts_in_flight(t), known && (!not_eliciting || t == 0x00));
        bool probing = t == 0x00 || t == 0x18 || t == 0x1a || t == 0x1b;
        CHECK_EQ(skiff_frame_is_probing(t), probing);
        CHECK_EQ(strcmp(skiff_frame_name(t), "UNKNOWN") != 0, known);
        CHECK_EQ(skiff_frame_is_stream(t), t >= 0x08 && t <= 0x0f);
    }
    CHECK(strcmp(skiff_frame_name(0x00), "PADDING") == 0);
    CHECK(strcmp(skiff_frame_name(0x03), "ACK_ECN") == 0);
    CHECK(strcmp(skiff_frame_name(0x0d), "STREAM") == 0);
    CHECK(strcmp(skiff_frame_name(0x18), "NEW_CONNECTION_ID") == 0);
    CHECK(strcmp(skiff_frame_name(0x1e), "HANDSHAKE_DONE") == 0);
    CHECK(strcmp(skiff_frame_name(0x31), "DATAGRAM_LEN") == 0);
    CHECK(strcmp(skiff_frame_name(UINT64_MAX), "UNKNOWN") == 0);
}

/* ---- Encoders refuse frames §19 forbids ---------------------------------- */

static void encoders_refuse_invalid_frames(void)
{
    uint8_t buf[256];
    skiff_frame f;
    memset(&f, 0, sizeof f);
    f.type = SKIFF_FRAME_MAX_DATA;
    f.max_data.max = MAXV + 1;
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_RESET_STREAM;
    f.reset_stream = (skiff_frame_reset_stream){0, 0, UINT64_MAX};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_MAX_STREAMS_BIDI;
    f.max_streams = (skiff_frame_max_streams){SKIFF_FRAME_MAX_STREAMS_LIMIT + 1, true};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_STREAMS_BLOCKED_UNI;
    f.streams_blocked = (skiff_frame_streams_blocked){SKIFF_FRAME_MAX_STREAMS_LIMIT + 1, false};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_NEW_TOKEN;
    f.new_token = (skiff_frame_new_token){big, 0};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_NEW_CONNECTION_ID;
    f.new_connection_id = (skiff_frame_new_connection_id){1, 0, cid20, 0, token16};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.new_connection_id.cid_len = 21;
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.new_connection_id.cid_len = 20;
    f.new_connection_id.retire_prior_to = 2;
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_CRYPTO;
    f.crypto = (skiff_frame_crypto){MAXV, big, 1};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_STREAM;
    f.stream = (skiff_frame_stream){MAXV + 1, 0, big, 1, false, true};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_ACK;
    f.ack = (skiff_frame_ack){.largest = 3, .first_range = 4};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_CONNECTION_CLOSE;
    f.connection_close = (skiff_frame_connection_close){.error_code = MAXV + 1};
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = 0x1f;
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_frame_size(&f), SKIFF_ERR_INVALID_ARGUMENT);
    f.type = SKIFF_FRAME_DATAGRAM;
    CHECK_EQ(skiff_frame_encode(buf, sizeof buf, &f), 1);
}

/* ---- Size helpers ---------------------------------------------------------- */

/* The answer must fit, and one byte more must not (unless capped). */
static void size_helpers_fit_exactly(void)
{
    static const uint64_t ids[] = {0, 63, 64, 16384, MAXV};
    static const uint64_t offs[] = {0, 1, 16383, 1073741824};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 4; b++)
            for (int has_len = 0; has_len < 2; has_len++)
                for (size_t space = 0; space < 17000; space += (space < 200 ? 1 : 7)) {
                    size_t d = skiff_frame_stream_max_data(ids[a], offs[b], space, has_len);
                    size_t h = skiff_frame_stream_header_size(ids[a], offs[b], d, has_len);
                    if (d == 0) {
                        CHECK(skiff_frame_stream_header_size(ids[a], offs[b], 1, has_len) + 1 >
                              space);
                        continue;
                    }
                    CHECK(h + d <= space);
                    CHECK(skiff_frame_stream_header_size(ids[a], offs[b], d + 1, has_len) + d + 1 >
                          space);
                }
    for (size_t space = 0; space < 17000; space++) {
        size_t d = skiff_frame_crypto_max_data(16384, space);
        if (d) CHECK(skiff_frame_crypto_header_size(16384, d) + d <= space);
        CHECK(skiff_frame_crypto_header_size(16384, d + 1) + d + 1 > space);
        skiff_frame_datagram dg = {big, 0, true};
        d = skiff_frame_datagram_max_data(space, true);
        dg.len = d;
        if (d) CHECK(skiff_frame_datagram_encode(NULL, 0, &dg) <= (skiff_ssize)space);
        dg.len = d + 1;
        CHECK(skiff_frame_datagram_encode(NULL, 0, &dg) > (skiff_ssize)space);
        CHECK_EQ(skiff_frame_datagram_max_data(space, false), space ? space - 1 : 0);
    }
    /* Near the top of the offset space the data is capped at 2^62-1. */
    CHECK_EQ(skiff_frame_stream_max_data(0, MAXV - 10, 1000, true), 10);
    CHECK_EQ(skiff_frame_stream_max_data(0, MAXV, 1000, false), 0);
    CHECK_EQ(skiff_frame_crypto_max_data(MAXV - 3, 1000), 3);
    /* Spot values from the varint boundaries: 1 + 1 (id) + 2 (len) + 16383. */
    CHECK_EQ(skiff_frame_stream_max_data(0, 0, 16387, true), 16383);
    CHECK_EQ(skiff_frame_stream_max_data(0, 0, 16388, true), 16383);
    CHECK_EQ(skiff_frame_stream_max_data(0, 0, 66, true), 63);
    CHECK_EQ(skiff_frame_stream_max_data(0, 0, 67, true), 63);
    CHECK_EQ(skiff_frame_stream_max_data(0, 0, 68, true), 64);
    CHECK_EQ(skiff_frame_stream_header_size(MAXV + 1, 0, 0, false), 0);
    CHECK_EQ(skiff_frame_stream_header_size(0, MAXV, 1, false), 0);
}

/* A packet of mixed frames decodes frame by frame to its exact end. */
static void a_packet_of_frames(void)
{
    uint8_t pkt[1500];
    size_t n = 0;
    uint64_t types[] = {0x01, 0x02, 0x06, 0x0a, 0x18, 0x1a, 0x31, 0x10, 0x1d, 0x00, 0x0c};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        n += sample(types[i], pkt + n, sizeof pkt - n);
    uint8_t *d = test_dup_exact(pkt, n);
    size_t pos = 0, i = 0;
    while (pos < n) {
        skiff_frame f;
        skiff_ssize rc = skiff_frame_decode_in(&f, d + pos, n - pos, SKIFF_PKT_1RTT);
        CHECK(rc > 0);
        if (rc <= 0) break;
        CHECK_U64(f.type, types[i]);
        pos += (size_t)rc;
        i++;
    }
    CHECK_EQ(pos, n);
    CHECK_EQ(i, sizeof types / sizeof types[0]);
    free(d);
}

int main(void)
{
    fill_big();
    RUN(padding_ping_handshake_done);
    RUN(padding_runs_are_one_frame);
    RUN(ack_round_trips);
    RUN(simple_frames_round_trip);
    RUN(crypto_token_cid_path_close_round_trip);
    RUN(stream_frames);
    RUN(encodings_match_the_rfc_layout);
    RUN(ack_iterator_gives_the_intervals);
    RUN(ack_underflow_and_hostile_counts);
    RUN(ack_encoder_budget);
    RUN(oversized_lengths_and_limits);
    RUN(unknown_and_non_minimal_types);
    RUN(frames_allowed_by_packet_type);
    RUN(frame_properties);
    RUN(encoders_refuse_invalid_frames);
    RUN(size_helpers_fit_exactly);
    RUN(a_packet_of_frames);
    return test_report("frame");
}
