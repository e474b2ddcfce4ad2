/* HTTP/3 frames (RFC 9114 §7): codecs, SETTINGS, grease and the frame reader. */
#include "common/varint.h"
#include "h3/h3_error.h"
#include "h3/h3_frame.h"
#include "test.h"

/* ---- Helpers ------------------------------------------------------------ */

/* A growing byte string: the test's own streams and event transcripts. */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_u64(bytes *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

/* A frame with a header of the given type and payload. */
static void put_frame(bytes *b, uint64_t type, const void *payload, size_t n)
{
    uint8_t h[16];
    skiff_ssize hl = skiff_h3_frame_header_encode(h, sizeof h, type, n);
    if (hl < 0) abort();
    put(b, h, (size_t)hl);
    put(b, payload, n);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Appends one event to a transcript that does not depend on how the input
 * was cut: DATA is recorded byte by byte, every other event whole. */
static void record(bytes *t, const skiff_h3_frame_event *ev)
{
    uint8_t k = (uint8_t)ev->kind;
    switch (ev->kind) {
    case SKIFF_H3_EVENT_NONE:
        break;
    case SKIFF_H3_EVENT_START:
        put(t, &k, 1);
        put_u64(t, ev->type);
        put_u64(t, ev->length);
        break;
    case SKIFF_H3_EVENT_DATA:
        for (size_t i = 0; i < ev->len; i++) {
            put(t, &k, 1);
            put(t, &ev->payload[i], 1);
        }
        break;
    case SKIFF_H3_EVENT_FRAME:
        put(t, &k, 1);
        put_u64(t, ev->type);
        put_u64(t, ev->len);
        put(t, ev->payload, ev->len);
        break;
    case SKIFF_H3_EVENT_ERROR:
        put(t, &k, 1);
        put_u64(t, ev->error);
        break;
    }
}

/*
 * Feeds in[0..len) to a fresh reader in chunks (chunk == 0: random sizes
 * from the seed, else that fixed size), each chunk copied to an exact heap
 * block so ASan sees any over-read, and returns the transcript. Feeding
 * stops at the first ERROR. *boundary says whether the reader ended between
 * frames.
 */
static bytes transcript(const uint8_t *in, size_t len, size_t max_payload, size_t chunk,
                        uint64_t seed, bool *boundary)
{
    bytes t = {0};
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, max_payload);
    rng_state = seed | 1;
    size_t off = 0;
    bool failed = false, consumed_ok = true;
    while (off < len && !failed) {
        size_t n = chunk ? chunk : 1 + (size_t)(rnd() % 97);
        if (n > len - off) n = len - off;
        uint8_t *c = test_dup_exact(in + off, n);
        size_t used = 0;
        skiff_h3_frame_event ev;
        do {
            size_t k = skiff_h3_frame_reader_feed(&r, c + used, n - used, &ev);
            consumed_ok &= k <= n - used;
            used += k;
            record(&t, &ev);
        } while (ev.kind != SKIFF_H3_EVENT_NONE && ev.kind != SKIFF_H3_EVENT_ERROR);
        failed = ev.kind == SKIFF_H3_EVENT_ERROR;
        consumed_ok &= failed || used == n; /* NONE only once all is consumed */
        free(c);
        off += n;
    }
    CHECK(consumed_ok);
    if (boundary) *boundary = skiff_h3_frame_reader_at_boundary(&r);
    skiff_h3_frame_reader_free(&r);
    return t;
}

/* Checks that one-piece, byte-by-byte and several random chunkings of the
 * input give the same transcript; returns the one-piece transcript. */
static bytes same_every_way(const uint8_t *in, size_t len, size_t max_payload)
{
    bool b0, b1;
    bytes whole = transcript(in, len, max_payload, len ? len : 1, 0, &b0);
    bytes bytewise = transcript(in, len, max_payload, 1, 0, &b1);
    CHECK_EQ(whole.len, bytewise.len);
    if (whole.len && whole.len == bytewise.len) CHECK_MEM(whole.p, bytewise.p, whole.len);
    CHECK_EQ(b0, b1);
    free(bytewise.p);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        bool bs;
        bytes cut = transcript(in, len, max_payload, 0, seed * 7919, &bs);
        CHECK_EQ(whole.len, cut.len);
        if (whole.len && whole.len == cut.len) CHECK_MEM(whole.p, cut.p, whole.len);
        CHECK_EQ(b0, bs);
        free(cut.p);
    }
    return whole;
}

/* Feeds one piece and collects the events themselves (payloads still point
 * into in). Returns the event count. */
static size_t events_of(skiff_h3_frame_reader *r, const uint8_t *in, size_t len,
                        skiff_h3_frame_event *evs, size_t cap)
{
    size_t n = 0, off = 0;
    skiff_h3_frame_event ev;
    do {
        off += skiff_h3_frame_reader_feed(r, in + off, len - off, &ev);
        if (ev.kind != SKIFF_H3_EVENT_NONE && n < cap) evs[n++] = ev;
    } while (ev.kind != SKIFF_H3_EVENT_NONE && ev.kind != SKIFF_H3_EVENT_ERROR);
    return n;
}

/* ---- SETTINGS ----------------------------------------------------------- */

static void settings_round_trip_with_every_setting(void)
{
    skiff_h3_settings s = {.qpack_max_table_capacity = 4096,
                           .max_field_section_size = 16384,
                           .qpack_blocked_streams = 100,
                           .enable_connect_protocol = true,
                           .h3_datagram = true};
    uint8_t out[128];
    uint64_t gid = skiff_h3_grease_value(7);
    skiff_ssize n = skiff_h3_settings_encode(out, sizeof out, &s, gid, 0x1234);
    CHECK(n > 2);
    CHECK_EQ(out[0], SKIFF_H3_FRAME_SETTINGS);
    CHECK_EQ(out[1], (size_t)n - 2); /* the payload is under 64 bytes */

    uint8_t *exact = test_dup_exact(out + 2, (size_t)n - 2);
    skiff_h3_settings d;
    memset(&d, 0xa5, sizeof d);
    CHECK_U64(skiff_h3_settings_decode(exact, (size_t)n - 2, &d), 0);
    CHECK_U64(d.qpack_max_table_capacity, 4096);
    CHECK_U64(d.max_field_section_size, 16384);
    CHECK_U64(d.qpack_blocked_streams, 100);
    CHECK(d.enable_connect_protocol);
    CHECK(d.h3_datagram);
    free(exact);

    /* Largest values, no grease. */
    s.qpack_max_table_capacity = SKIFF_VARINT_MAX;
    s.max_field_section_size = SKIFF_VARINT_MAX;
    s.qpack_blocked_streams = SKIFF_VARINT_MAX;
    n = skiff_h3_settings_encode(out, sizeof out, &s, 0, 0);
    CHECK(n > 0);
    CHECK_U64(skiff_h3_settings_decode(out + 2, (size_t)n - 2, &d), 0);
    CHECK_U64(d.qpack_max_table_capacity, SKIFF_VARINT_MAX);
    CHECK_U64(d.max_field_section_size, SKIFF_VARINT_MAX);
    CHECK_U64(d.qpack_blocked_streams, SKIFF_VARINT_MAX);

    /* Defaults only: an empty SETTINGS frame, which decodes to the defaults. */
    skiff_h3_settings def;
    skiff_h3_settings_default(&def);
    CHECK_U64(def.max_field_section_size, UINT64_MAX);
    n = skiff_h3_settings_encode(out, sizeof out, &def, 0, 0);
    CHECK_EQ(n, 2);
    CHECK_MEM(out, "\x04\x00", 2);
    memset(&d, 0xa5, sizeof d);
    CHECK_U64(skiff_h3_settings_decode(out + 2, 0, &d), 0);
    CHECK_U64(d.qpack_max_table_capacity, 0);
    CHECK_U64(d.max_field_section_size, UINT64_MAX);
    CHECK_U64(d.qpack_blocked_streams, 0);
    CHECK(!d.enable_connect_protocol);
    CHECK(!d.h3_datagram);

    /* Only the grease pair. */
    n = skiff_h3_settings_encode(out, sizeof out, &def, 0x21, 5);
    CHECK_EQ(n, 4);
    CHECK_MEM(out, "\x04\x02\x21\x05", 4);

    /* Too small a buffer at every size; a non-reserved grease id; a value
     * that is no varint. */
    s.qpack_max_table_capacity = 4096;
    n = skiff_h3_settings_encode(out, sizeof out, &s, 0x21, 1);
    for (skiff_ssize cap = 0; cap < n; cap++)
        CHECK_EQ(skiff_h3_settings_encode(out, (size_t)cap, &s, 0x21, 1),
                 SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_h3_settings_encode(out, sizeof out, &s, 0x22, 1), SKIFF_ERR_INVALID_ARGUMENT);
    s.qpack_blocked_streams = SKIFF_VARINT_MAX + 1;
    CHECK_EQ(skiff_h3_settings_encode(out, sizeof out, &s, 0, 0), SKIFF_ERR_INVALID_ARGUMENT);
}

static void settings_decode_errors(void)
{
    static const struct {
        const char *hex;
        uint64_t error;
    } cases[] = {
        {"0110 0120", SKIFF_H3_SETTINGS_ERROR},      /* QPACK_MAX_TABLE_CAPACITY twice */
        {"0601 0700 0602", SKIFF_H3_SETTINGS_ERROR}, /* MAX_FIELD_SECTION_SIZE twice */
        {"0701 0701", SKIFF_H3_SETTINGS_ERROR},      /* even with equal values */
        {"0801 0800", SKIFF_H3_SETTINGS_ERROR},
        {"3301 3301", SKIFF_H3_SETTINGS_ERROR},
        {"0000", SKIFF_H3_SETTINGS_ERROR}, /* HTTP/2 reserved identifiers */
        {"0201", SKIFF_H3_SETTINGS_ERROR},
        {"0301", SKIFF_H3_SETTINGS_ERROR},
        {"0401", SKIFF_H3_SETTINGS_ERROR},
        {"0501", SKIFF_H3_SETTINGS_ERROR},
        {"4002 01", SKIFF_H3_SETTINGS_ERROR}, /* non-minimal, still 0x02 */
        {"0802", SKIFF_H3_SETTINGS_ERROR},    /* ENABLE_CONNECT_PROTOCOL = 2 */
        {"3302", SKIFF_H3_SETTINGS_ERROR},    /* H3_DATAGRAM = 2 */
        {"0880 0000 02", SKIFF_H3_SETTINGS_ERROR},
        {"40", SKIFF_H3_FRAME_ERROR},         /* identifier truncated */
        {"06", SKIFF_H3_FRAME_ERROR},         /* no value */
        {"06 80 0000", SKIFF_H3_FRAME_ERROR}, /* value truncated */
        {"0101 c0", SKIFF_H3_FRAME_ERROR},    /* second identifier truncated */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[32];
        size_t n = test_hex(cases[i].hex, buf, sizeof buf);
        uint8_t *exact = test_dup_exact(buf, n);
        skiff_h3_settings d;
        skiff_h3_settings_default(&d);
        d.qpack_blocked_streams = 77; /* a failed decode leaves *out alone */
        uint64_t rc = skiff_h3_settings_decode(exact, n, &d);
        CHECK_U64(rc, cases[i].error);
        if (rc != cases[i].error) fprintf(stderr, "  case %zu: %s\n", i, cases[i].hex);
        CHECK_U64(d.qpack_blocked_streams, 77);
        free(exact);
    }

    /* Unknown and reserved identifiers are ignored, even twice. */
    uint8_t buf[32];
    size_t n = test_hex("21 05 21 06 3f 00 0110 4040 00", buf, sizeof buf);
    uint8_t *exact = test_dup_exact(buf, n);
    skiff_h3_settings d;
    CHECK_U64(skiff_h3_settings_decode(exact, n, &d), 0);
    CHECK_U64(d.qpack_max_table_capacity, 0x10);
    free(exact);
}

/* ---- Grease and codecs -------------------------------------------------- */

static void grease_values(void)
{
    CHECK_U64(skiff_h3_grease_value(0), 0x21);
    CHECK_U64(skiff_h3_grease_value(1), 0x40);
    CHECK_U64(skiff_h3_grease_value(2), 0x5f);
    CHECK_U64(skiff_h3_grease_value(3), 0x7e);
    /* The largest N whose value fits in 62 bits gives the largest value. */
    uint64_t max_n = (SKIFF_VARINT_MAX - 0x21) / 0x1f;
    CHECK_U64(skiff_h3_grease_value(max_n), 0x3ffffffffffffffeu);
    CHECK_U64(skiff_h3_grease_value(max_n + 1), 0x21);
    CHECK(skiff_h3_grease_value(UINT64_MAX) <= SKIFF_VARINT_MAX);
    CHECK(skiff_h3_is_grease(skiff_h3_grease_value(UINT64_MAX)));
    for (uint64_t n = 0; n < 1000; n++) {
        uint64_t v = skiff_h3_grease_value(n * 0x123456789u);
        CHECK(v <= SKIFF_VARINT_MAX && skiff_h3_is_grease(v));
    }
    CHECK(skiff_h3_is_grease(0x21));
    CHECK(skiff_h3_is_grease(0x3ffffffffffffffeu));
    CHECK(!skiff_h3_is_grease(0));
    CHECK(!skiff_h3_is_grease(0x20));
    CHECK(!skiff_h3_is_grease(0x22));
    CHECK(!skiff_h3_is_grease(0x3f));
    CHECK(!skiff_h3_is_grease(SKIFF_H3_FRAME_HEADERS));

    static const uint64_t h2[] = {0x02, 0x06, 0x08, 0x09};
    for (size_t i = 0; i < 4; i++)
        CHECK(skiff_h3_frame_is_http2_only(h2[i]));
    static const uint64_t h3[] = {0x00, 0x01, 0x03, 0x04, 0x05, 0x07, 0x0d, 0x21};
    for (size_t i = 0; i < 8; i++)
        CHECK(!skiff_h3_frame_is_http2_only(h3[i]));
}

static void varint_frame_codecs(void)
{
    uint8_t out[32];
    CHECK_EQ(skiff_h3_frame_header_encode(out, sizeof out, SKIFF_H3_FRAME_HEADERS, 300), 3);
    CHECK_MEM(out, "\x01\x41\x2c", 3);
    CHECK_EQ(skiff_h3_frame_header_encode(out, 2, SKIFF_H3_FRAME_HEADERS, 300),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_h3_frame_header_encode(out, sizeof out, SKIFF_VARINT_MAX + 1, 0),
             SKIFF_ERR_INVALID_ARGUMENT);

    /* GOAWAY with stream ID 8: 07 01 08. */
    CHECK_EQ(skiff_h3_frame_varint_encode(out, sizeof out, SKIFF_H3_FRAME_GOAWAY, 8), 3);
    CHECK_MEM(out, "\x07\x01\x08", 3);
    CHECK_EQ(
        skiff_h3_frame_varint_encode(out, sizeof out, SKIFF_H3_FRAME_MAX_PUSH_ID, SKIFF_VARINT_MAX),
        10);
    for (size_t cap = 0; cap < 10; cap++)
        CHECK_EQ(
            skiff_h3_frame_varint_encode(out, cap, SKIFF_H3_FRAME_MAX_PUSH_ID, SKIFF_VARINT_MAX),
            SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(
        skiff_h3_frame_varint_encode(out, sizeof out, SKIFF_H3_FRAME_GOAWAY, SKIFF_VARINT_MAX + 1),
        SKIFF_ERR_INVALID_ARGUMENT);
    uint64_t v = 0;
    uint8_t *exact = test_dup_exact(out + 2, 8);
    CHECK_U64(skiff_h3_frame_varint_decode(exact, 8, &v), 0);
    CHECK_U64(v, SKIFF_VARINT_MAX);
    free(exact);
}

/* §7.1: a one-varint payload that ends early or has bytes left over. */
static void one_varint_payload_errors(void)
{
    static const char *const bad[] = {"",      "40",      "80 0000", "c0 0000 0000 0000",
                                      "05 00", "4005 00", "00 00 00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[16];
        size_t n = test_hex(bad[i], buf, sizeof buf);
        uint8_t *exact = test_dup_exact(buf, n);
        uint64_t v;
        CHECK_U64(skiff_h3_frame_varint_decode(exact, n, &v), SKIFF_H3_FRAME_ERROR);
        free(exact);
    }

    /* Through the reader: a GOAWAY whose declared length cuts its varint,
     * and a CANCEL_PUSH with a byte too many. */
    bytes s = {0};
    put_frame(&s, SKIFF_H3_FRAME_GOAWAY, "\x40", 1);
    put_frame(&s, SKIFF_H3_FRAME_CANCEL_PUSH, "\x05\x00", 2);
    put_frame(&s, SKIFF_H3_FRAME_MAX_PUSH_ID, "\x44\x00", 2);
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 64);
    skiff_h3_frame_event evs[8];
    size_t n = events_of(&r, s.p, s.len, evs, 8);
    CHECK_EQ(n, 6);
    uint64_t v = 0;
    CHECK_EQ(evs[1].kind, SKIFF_H3_EVENT_FRAME);
    CHECK_U64(skiff_h3_frame_varint_decode(evs[1].payload, evs[1].len, &v), SKIFF_H3_FRAME_ERROR);
    CHECK_EQ(evs[3].kind, SKIFF_H3_EVENT_FRAME);
    CHECK_U64(skiff_h3_frame_varint_decode(evs[3].payload, evs[3].len, &v), SKIFF_H3_FRAME_ERROR);
    CHECK_EQ(evs[5].kind, SKIFF_H3_EVENT_FRAME);
    CHECK_U64(skiff_h3_frame_varint_decode(evs[5].payload, evs[5].len, &v), 0);
    CHECK_U64(v, 0x400);
    skiff_h3_frame_reader_free(&r);
    free(s.p);
}

/* ---- The reader --------------------------------------------------------- */

/* Every frame type HTTP/3 defines or reserves, plus unknown and grease ones,
 * with a few headers in long non-minimal encodings. */
static bytes every_frame_type(void)
{
    bytes s = {0};
    uint8_t buf[256];
    skiff_h3_settings set = {.qpack_max_table_capacity = 4096,
                             .max_field_section_size = 65536,
                             .qpack_blocked_streams = 16,
                             .h3_datagram = true};
    skiff_ssize n = skiff_h3_settings_encode(buf, sizeof buf, &set, skiff_h3_grease_value(3), 42);
    put(&s, buf, (size_t)n);
    n = skiff_h3_frame_varint_encode(buf, sizeof buf, SKIFF_H3_FRAME_GOAWAY, 1u << 20);
    put(&s, buf, (size_t)n);
    n = skiff_h3_frame_varint_encode(buf, sizeof buf, SKIFF_H3_FRAME_MAX_PUSH_ID, 3);
    put(&s, buf, (size_t)n);
    n = skiff_h3_frame_varint_encode(buf, sizeof buf, SKIFF_H3_FRAME_CANCEL_PUSH, 2);
    put(&s, buf, (size_t)n);
    put_frame(&s, skiff_h3_grease_value(1000), "grease", 6);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    put_frame(&s, SKIFF_H3_FRAME_HEADERS, buf, 200);
    put_frame(&s, SKIFF_H3_FRAME_DATA, "hello, ", 7);
    put_frame(&s, SKIFF_H3_FRAME_DATA, "", 0);
    put_frame(&s, SKIFF_H3_FRAME_DATA, buf, 150);
    put_frame(&s, SKIFF_H3_FRAME_PUSH_PROMISE, "\x01\x00\x00", 3);
    put_frame(&s, 0x02, "\x00\x00\x00\x00\x10", 5); /* PRIORITY */
    put_frame(&s, 0x06, "pingping", 8);             /* PING */
    put_frame(&s, 0x08, "\x00\x00\x10\x00", 4);     /* WINDOW_UPDATE */
    put_frame(&s, 0x09, "", 0);                     /* CONTINUATION */
    put_frame(&s, SKIFF_H3_FRAME_SETTINGS, "", 0);
    /* HEADERS with the type and length in 8 bytes each. */
    uint8_t h[16];
    skiff_varint_encode_len(h, SKIFF_H3_FRAME_HEADERS, 8);
    skiff_varint_encode_len(h + 8, 4, 8);
    put(&s, h, 16);
    put(&s, "\x00\x00\xd1\xd7", 4);
    /* DATA with a 4-byte length and an 8-byte unknown type. */
    skiff_varint_encode_len(h, SKIFF_H3_FRAME_DATA, 1);
    skiff_varint_encode_len(h + 1, 3, 4);
    put(&s, h, 5);
    put(&s, "end", 3);
    put_frame(&s, 0x3fffffffffffff00u, "x", 1);
    return s;
}

static void every_type_every_chunking(void)
{
    bytes s = every_frame_type();
    bytes t = same_every_way(s.p, s.len, 1024);

    /* The one-piece events, checked one by one. */
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 1024);
    skiff_h3_frame_event evs[64];
    size_t n = events_of(&r, s.p, s.len, evs, 64);
    static const struct {
        skiff_h3_frame_event_kind kind;
        uint64_t type;
        size_t len; /* FRAME / DATA: payload length; START: declared length */
    } want[] = {
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_SETTINGS, 15},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_SETTINGS, 15},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_GOAWAY, 4},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_GOAWAY, 4},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_MAX_PUSH_ID, 1},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_MAX_PUSH_ID, 1},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_CANCEL_PUSH, 1},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_CANCEL_PUSH, 1},
        {SKIFF_H3_EVENT_START, 0x1f * 1000 + 0x21, 6}, /* grease: skipped */
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_HEADERS, 200},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_HEADERS, 200},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_DATA, 7},
        {SKIFF_H3_EVENT_DATA, SKIFF_H3_FRAME_DATA, 7},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_DATA, 0}, /* no DATA event */
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_DATA, 150},
        {SKIFF_H3_EVENT_DATA, SKIFF_H3_FRAME_DATA, 150},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_PUSH_PROMISE, 3},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_PUSH_PROMISE, 3},
        {SKIFF_H3_EVENT_START, 0x02, 5},
        {SKIFF_H3_EVENT_FRAME, 0x02, 5},
        {SKIFF_H3_EVENT_START, 0x06, 8},
        {SKIFF_H3_EVENT_FRAME, 0x06, 8},
        {SKIFF_H3_EVENT_START, 0x08, 4},
        {SKIFF_H3_EVENT_FRAME, 0x08, 4},
        {SKIFF_H3_EVENT_START, 0x09, 0},
        {SKIFF_H3_EVENT_FRAME, 0x09, 0},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_SETTINGS, 0},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_SETTINGS, 0},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_HEADERS, 4},
        {SKIFF_H3_EVENT_FRAME, SKIFF_H3_FRAME_HEADERS, 4},
        {SKIFF_H3_EVENT_START, SKIFF_H3_FRAME_DATA, 3},
        {SKIFF_H3_EVENT_DATA, SKIFF_H3_FRAME_DATA, 3},
        {SKIFF_H3_EVENT_START, 0x3fffffffffffff00u, 1},
    };
    size_t nw = sizeof want / sizeof want[0];
    CHECK_EQ(n, nw);
    for (size_t i = 0; i < n && i < nw; i++) {
        CHECK_EQ(evs[i].kind, want[i].kind);
        CHECK_U64(evs[i].type, want[i].type);
        if (want[i].kind == SKIFF_H3_EVENT_START)
            CHECK_U64(evs[i].length, want[i].len);
        else
            CHECK_EQ(evs[i].len, want[i].len);
        /* In one piece, every payload points into the input. */
        if (want[i].kind != SKIFF_H3_EVENT_START && evs[i].len > 0)
            CHECK(evs[i].payload >= s.p && evs[i].payload + evs[i].len <= s.p + s.len);
    }
    CHECK(r.buf == NULL); /* nothing was copied */
    CHECK(skiff_h3_frame_reader_at_boundary(&r));

    /* The decoded contents. */
    skiff_h3_settings set;
    CHECK_U64(skiff_h3_settings_decode(evs[1].payload, evs[1].len, &set), 0);
    CHECK_U64(set.max_field_section_size, 65536);
    CHECK(set.h3_datagram && !set.enable_connect_protocol);
    uint64_t v = 0;
    CHECK_U64(skiff_h3_frame_varint_decode(evs[3].payload, evs[3].len, &v), 0);
    CHECK_U64(v, 1u << 20);
    CHECK_MEM(evs[12].payload, "hello, ", 7);
    CHECK_MEM(evs[29].payload, "\x00\x00\xd1\xd7", 4);
    CHECK_MEM(evs[31].payload, "end", 3);
    skiff_h3_frame_reader_free(&r);

    /* Byte by byte, the buffered payloads come from the reader's buffer. */
    skiff_h3_frame_reader_init(&r, 1024);
    skiff_h3_frame_event ev;
    size_t frames = 0;
    for (size_t i = 0; i < s.len; i++) {
        size_t k = 0;
        do {
            k += skiff_h3_frame_reader_feed(&r, s.p + i + k, 1 - k, &ev);
            if (ev.kind == SKIFF_H3_EVENT_FRAME) {
                frames++;
                if (ev.len > 1) CHECK(ev.payload == r.buf);
            }
        } while (ev.kind != SKIFF_H3_EVENT_NONE);
    }
    CHECK_EQ(frames, 12);
    CHECK(r.buf_cap >= 200 && r.buf_cap <= 1024);
    skiff_h3_frame_reader_free(&r);
    free(t.p);
    free(s.p);
}

/* §9: unknown types are skipped whatever their length, without buffering
 * (max_payload is far below the longest). */
static void unknown_types_skipped(void)
{
    bytes s = {0};
    uint8_t *big = calloc(1, 100000);
    put_frame(&s, 0x2a, "", 0);
    put_frame(&s, 0x2b, "z", 1);
    put_frame(&s, 0x4242, big, 100000);
    put_frame(&s, skiff_h3_grease_value(0), big, 70000); /* reserved type */
    put_frame(&s, 0x3ffffffffffffffeu, "", 0);           /* the largest reserved type */
    put_frame(&s, SKIFF_H3_FRAME_HEADERS, "\x00\x00", 2);
    free(big);

    bytes t = same_every_way(s.p, s.len, 16);
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 16);
    skiff_h3_frame_event evs[16];
    size_t n = events_of(&r, s.p, s.len, evs, 16);
    CHECK_EQ(n, 7);
    CHECK_U64(evs[0].type, 0x2a);
    CHECK_U64(evs[1].type, 0x2b);
    CHECK_U64(evs[2].type, 0x4242);
    CHECK_U64(evs[2].length, 100000);
    CHECK_U64(evs[3].type, 0x21);
    CHECK_U64(evs[3].length, 70000);
    CHECK_U64(evs[4].type, 0x3ffffffffffffffeu);
    for (size_t i = 0; i < 6 && i < n; i++)
        CHECK_EQ(evs[i].kind, SKIFF_H3_EVENT_START);
    CHECK_EQ(evs[6].kind, SKIFF_H3_EVENT_FRAME);
    CHECK_U64(evs[6].type, SKIFF_H3_FRAME_HEADERS);
    CHECK(r.buf == NULL);
    skiff_h3_frame_reader_free(&r);

    /* Skipped in small pieces: no buffer either. */
    skiff_h3_frame_reader_init(&r, 16);
    skiff_h3_frame_event ev;
    size_t off = 0;
    while (off < s.len - 4) { /* all but the HEADERS frame */
        size_t c = s.len - 4 - off < 1000 ? s.len - 4 - off : 1000;
        size_t k = 0;
        do
            k += skiff_h3_frame_reader_feed(&r, s.p + off + k, c - k, &ev);
        while (ev.kind != SKIFF_H3_EVENT_NONE);
        off += c;
    }
    CHECK(r.buf == NULL);
    CHECK(skiff_h3_frame_reader_at_boundary(&r));
    skiff_h3_frame_reader_free(&r);
    free(t.p);
    free(s.p);
}

/* A frame that would be buffered and is longer than max_payload is refused
 * at its header (H3_EXCESSIVE_LOAD), and the reader stays failed. DATA and
 * unknown frames of that size are fine. */
static void excessive_load(void)
{
    static const uint64_t buffered[] = {SKIFF_H3_FRAME_HEADERS, SKIFF_H3_FRAME_SETTINGS,
                                        SKIFF_H3_FRAME_PUSH_PROMISE, SKIFF_H3_FRAME_GOAWAY, 0x06};
    for (size_t i = 0; i < sizeof buffered / sizeof buffered[0]; i++) {
        uint8_t h[16];
        skiff_ssize hl = skiff_h3_frame_header_encode(h, sizeof h, buffered[i], 101);
        uint8_t *exact = test_dup_exact(h, (size_t)hl);
        skiff_h3_frame_reader r;
        skiff_h3_frame_reader_init(&r, 100);
        skiff_h3_frame_event ev;
        size_t k = skiff_h3_frame_reader_feed(&r, exact, (size_t)hl, &ev);
        CHECK_EQ(k, (size_t)hl);
        CHECK_EQ(ev.kind, SKIFF_H3_EVENT_ERROR);
        CHECK_U64(ev.error, SKIFF_H3_EXCESSIVE_LOAD);
        CHECK_U64(ev.type, buffered[i]);
        CHECK_U64(ev.length, 101);
        CHECK(r.buf == NULL);
        CHECK(!skiff_h3_frame_reader_at_boundary(&r));
        /* Sticky, with or without more input. */
        CHECK_EQ(skiff_h3_frame_reader_feed(&r, exact, (size_t)hl, &ev), 0);
        CHECK_EQ(ev.kind, SKIFF_H3_EVENT_ERROR);
        CHECK_U64(ev.error, SKIFF_H3_EXCESSIVE_LOAD);
        skiff_h3_frame_reader_feed(&r, NULL, 0, &ev);
        CHECK_EQ(ev.kind, SKIFF_H3_EVENT_ERROR);
        free(exact);
        skiff_h3_frame_reader_free(&r);
    }

    /* Exactly max_payload is accepted; split so it must be buffered. */
    bytes s = {0};
    uint8_t payload[100] = {1};
    put_frame(&s, SKIFF_H3_FRAME_HEADERS, payload, 100);
    put_frame(&s, SKIFF_H3_FRAME_DATA, payload, 100);
    put_frame(&s, SKIFF_H3_FRAME_DATA, NULL, 0);
    put_frame(&s, 0x21, NULL, 0);
    bytes t = same_every_way(s.p, s.len, 100);
    free(t.p);
    /* DATA far above the limit streams through. */
    bytes d = {0};
    uint8_t big[5000] = {0};
    put_frame(&d, SKIFF_H3_FRAME_DATA, big, sizeof big);
    t = same_every_way(d.p, d.len, 100);
    free(t.p);
    /* The error lands in the transcript after the frames before it. */
    put_frame(&s, SKIFF_H3_FRAME_HEADERS, big, 101);
    t = same_every_way(s.p, s.len, 100);
    CHECK(t.len > 9 && t.p[t.len - 9] == SKIFF_H3_EVENT_ERROR);
    free(t.p);
    free(s.p);
    free(d.p);
}

static void at_boundary_only_between_frames(void)
{
    bytes s = {0};
    put_frame(&s, SKIFF_H3_FRAME_HEADERS, "abc", 3);
    put_frame(&s, SKIFF_H3_FRAME_DATA, "de", 2);
    put_frame(&s, SKIFF_H3_FRAME_DATA, "", 0);
    put_frame(&s, 0x21, "skip", 4);
    put_frame(&s, SKIFF_H3_FRAME_SETTINGS, "", 0);
    /* Where each frame ends in the stream. */
    static const size_t ends[] = {5, 9, 11, 17, 19};

    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 64);
    CHECK(skiff_h3_frame_reader_at_boundary(&r));
    /* No input at all: nothing happens. */
    skiff_h3_frame_event none;
    CHECK_EQ(skiff_h3_frame_reader_feed(&r, NULL, 0, &none), 0);
    CHECK_EQ(none.kind, SKIFF_H3_EVENT_NONE);
    CHECK(skiff_h3_frame_reader_at_boundary(&r));
    size_t e = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t *c = test_dup_exact(s.p + i, 1);
        skiff_h3_frame_event ev;
        size_t k = 0;
        do
            k += skiff_h3_frame_reader_feed(&r, c + k, 1 - k, &ev);
        while (ev.kind != SKIFF_H3_EVENT_NONE);
        free(c);
        /* An empty feed mid-frame changes nothing either. */
        CHECK_EQ(skiff_h3_frame_reader_feed(&r, NULL, 0, &ev), 0);
        CHECK_EQ(ev.kind, SKIFF_H3_EVENT_NONE);
        bool at_end = e < 5 && i + 1 == ends[e];
        if (at_end) e++;
        CHECK_EQ(skiff_h3_frame_reader_at_boundary(&r), at_end);
        if (skiff_h3_frame_reader_at_boundary(&r) != at_end) fprintf(stderr, "  at byte %zu\n", i);
    }
    CHECK_EQ(e, 5);
    skiff_h3_frame_reader_free(&r);
    free(s.p);
}

/* A caller that feeds only while it has input left still sees the FRAME of
 * an empty SETTINGS (or any empty buffered frame) that ends its input. */
static void empty_frame_at_end_of_input(void)
{
    bytes s = {0};
    put_frame(&s, 0x21, "", 0);
    put_frame(&s, SKIFF_H3_FRAME_SETTINGS, "", 0);
    put_frame(&s, SKIFF_H3_FRAME_DATA, "", 0);
    put_frame(&s, 0x09, "", 0);
    uint8_t nonminimal[] = {SKIFF_H3_FRAME_GOAWAY, 0x80, 0, 0, 0}; /* length 0 in 4 bytes */
    put(&s, nonminimal, sizeof nonminimal);
    static const skiff_h3_frame_event_kind want[] = {
        SKIFF_H3_EVENT_START, SKIFF_H3_EVENT_START, SKIFF_H3_EVENT_FRAME, SKIFF_H3_EVENT_START,
        SKIFF_H3_EVENT_START, SKIFF_H3_EVENT_FRAME, SKIFF_H3_EVENT_START, SKIFF_H3_EVENT_FRAME};
    for (size_t chunk = 1; chunk <= s.len; chunk++) {
        skiff_h3_frame_reader r;
        skiff_h3_frame_reader_init(&r, 64);
        skiff_h3_frame_event evs[16];
        size_t n = 0;
        for (size_t off = 0; off < s.len; off += chunk) {
            size_t len = s.len - off < chunk ? s.len - off : chunk;
            uint8_t *c = test_dup_exact(s.p + off, len), *p = c;
            while (len) { /* the loop of a caller that stops when input runs out */
                skiff_h3_frame_event ev;
                size_t k = skiff_h3_frame_reader_feed(&r, p, len, &ev);
                p += k, len -= k;
                if (ev.kind != SKIFF_H3_EVENT_NONE && n < 16) evs[n++] = ev;
            }
            free(c);
        }
        CHECK_EQ(n, sizeof want / sizeof want[0]);
        for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++) {
            CHECK_EQ(evs[i].kind, want[i]);
            if (evs[i].kind == SKIFF_H3_EVENT_FRAME) CHECK(evs[i].payload && evs[i].len == 0);
        }
        CHECK_U64(evs[7].type, SKIFF_H3_FRAME_GOAWAY);
        CHECK(skiff_h3_frame_reader_at_boundary(&r));
        skiff_h3_frame_reader_free(&r);
    }
    free(s.p);
}

/* In steady state the reader reuses its buffer: no allocation per frame. */
static void buffer_reused(void)
{
    bytes s = {0};
    uint8_t p[300];
    for (size_t i = 0; i < sizeof p; i++)
        p[i] = (uint8_t)i;
    for (int i = 0; i < 50; i++)
        put_frame(&s, SKIFF_H3_FRAME_HEADERS, p, 100 + (size_t)(i % 3) * 100);
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 4096);
    const uint8_t *first = NULL;
    size_t cap = 0, frames = 0;
    for (size_t off = 0; off < s.len; off += 7) {
        size_t c = s.len - off < 7 ? s.len - off : 7, k = 0;
        skiff_h3_frame_event ev;
        do {
            k += skiff_h3_frame_reader_feed(&r, s.p + off + k, c - k, &ev);
            if (ev.kind != SKIFF_H3_EVENT_FRAME) continue;
            CHECK_MEM(ev.payload, p, ev.len);
            if (++frames == 3) first = r.buf, cap = r.buf_cap;
            if (frames > 3) CHECK(r.buf == first && r.buf_cap == cap);
        } while (ev.kind != SKIFF_H3_EVENT_NONE);
    }
    CHECK_EQ(frames, 50);
    skiff_h3_frame_reader_free(&r);
    free(s.p);
}

/* Hostile bytes: whatever the cut, the same events, and no over-read (each
 * chunk is an exact heap copy). */
static void random_input_every_chunking(void)
{
    for (uint64_t round = 0; round < 300; round++) {
        rng_state = round * 0x2545f4914f6cdd1du + 1;
        size_t len = (size_t)(rnd() % 400);
        uint8_t in[400];
        for (size_t i = 0; i < len; i++) {
            uint64_t x = rnd();
            /* Mostly small types and lengths so that frames complete. */
            in[i] = (uint8_t)((x & 3) ? (x >> 8) % 16 : x >> 16);
        }
        uint64_t saved = rng_state;
        bytes t = same_every_way(in, len, (size_t)(saved % 64));
        free(t.p);
    }
}

int main(void)
{
    RUN(settings_round_trip_with_every_setting);
    RUN(settings_decode_errors);
    RUN(grease_values);
    RUN(varint_frame_codecs);
    RUN(one_varint_payload_errors);
    RUN(every_type_every_chunking);
    RUN(unknown_types_skipped);
    RUN(excessive_load);
    RUN(at_boundary_only_between_frames);
    RUN(empty_frame_at_end_of_input);
    RUN(buffer_reused);
    RUN(random_input_every_chunking);
    return test_report("h3_frame");
}
