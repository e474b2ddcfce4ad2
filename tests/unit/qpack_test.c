/* QPACK encoder and decoder (RFC 9204): the examples of Appendix B byte for
 * byte, hostile input with its wire error, and encoder-to-decoder round
 * trips under random delivery orders, acknowledgments and eviction. */
#include "h3/h3_error.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3/qpack_wire.h"
#include "test.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- collecting decoded fields ---- */

#define MAX_FIELDS 64

typedef struct collected {
    size_t count;
    size_t name_len[MAX_FIELDS], value_len[MAX_FIELDS];
    uint8_t name[MAX_FIELDS][256], value[MAX_FIELDS][512];
    int fail_at; /* emit returns an error on this field (-1: never) */
} collected;

static int collect(void *ud, const skiff_h3_field *f)
{
    collected *c = ud;
    if ((int)c->count == c->fail_at) return SKIFF_ERR_INTERNAL;
    if (c->count == MAX_FIELDS || f->name_len > 256 || f->value_len > 512) abort();
    memcpy(c->name[c->count], f->name, f->name_len);
    memcpy(c->value[c->count], f->value, f->value_len);
    c->name_len[c->count] = f->name_len;
    c->value_len[c->count] = f->value_len;
    c->count++;
    return 0;
}

static void reset(collected *c)
{
    c->count = 0;
    c->fail_at = -1;
}

static bool field_is(const collected *c, size_t i, const char *name, const char *value)
{
    return i < c->count && c->name_len[i] == strlen(name) && c->value_len[i] == strlen(value) &&
           memcmp(c->name[i], name, c->name_len[i]) == 0 &&
           memcmp(c->value[i], value, c->value_len[i]) == 0;
}

static int feed_hex(skiff_qpack_decoder *d, const char *hex, uint64_t *wire)
{
    uint8_t buf[512];
    size_t n = test_hex(hex, buf, sizeof buf);
    uint8_t *exact = test_dup_exact(buf, n);
    int rc = skiff_qpack_decoder_feed_encoder_stream(d, exact, n, wire);
    free(exact);
    return rc;
}

static int decode_hex(skiff_qpack_decoder *d, uint64_t stream, const char *hex, collected *c,
                      uint64_t *wire)
{
    uint8_t buf[512];
    size_t n = test_hex(hex, buf, sizeof buf);
    uint8_t *exact = test_dup_exact(buf, n);
    reset(c);
    int rc = skiff_qpack_decode_section(d, stream, exact, n, collect, c, wire);
    free(exact);
    return rc;
}

/* The decoder-stream bytes queued now, as hex. */
static const char *taken(skiff_qpack_decoder *d)
{
    static char hex[256];
    uint8_t buf[100];
    size_t n = skiff_qpack_decoder_take_instructions(d, buf, sizeof buf);
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", buf[i]);
    hex[2 * n] = 0;
    return hex;
}

/* ---- RFC 9204 Appendix B ---- */

#define B2_ENCODER "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468"
#define B3_ENCODER "4a637573746f6d2d6b65790c637573746f6d2d76616c7565"
#define B4_ENCODER "02"
#define B5_ENCODER "810d637573746f6d2d76616c756532"

static void rfc_b1_literal_with_name_reference(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
    collected c;
    uint64_t wire = 0;
    CHECK_EQ(decode_hex(d, 0, "0000 510b 2f69 6e64 6578 2e68 746d 6c", &c, &wire), 0);
    CHECK_EQ(c.count, 1);
    CHECK(field_is(&c, 0, ":path", "/index.html"));
    CHECK(strcmp(taken(d), "") == 0); /* no dynamic reference: no acknowledgment */
    skiff_qpack_decoder_free(d);
}

/* B.2 to B.5 on one decoder, as the appendix runs them. */
static void rfc_b2_to_b5(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
    collected c;
    uint64_t wire = 0;

    /* B.2: capacity, two inserts, a section with post-base references. */
    CHECK_EQ(feed_hex(d, B2_ENCODER, &wire), 0);
    CHECK_U64(skiff_qpack_decoder_insert_count(d), 2);
    CHECK_EQ(decode_hex(d, 4, "0381 10 11", &c, &wire), 0);
    CHECK_EQ(c.count, 2);
    CHECK(field_is(&c, 0, ":authority", "www.example.com"));
    CHECK(field_is(&c, 1, ":path", "/sample/path"));
    CHECK(strcmp(taken(d), "84") == 0); /* Section Acknowledgment (stream=4) */

    /* B.3: a speculative insert, acknowledged by an increment. */
    CHECK_EQ(feed_hex(d, B3_ENCODER, &wire), 0);
    CHECK(strcmp(taken(d), "01") == 0); /* Insert Count Increment (1) */

    /* B.4: the section arrives before the Duplicate, blocks, and its stream is cancelled. */
    CHECK_EQ(decode_hex(d, 8, "0500 80 c1 81", &c, &wire), SKIFF_QPACK_BLOCKED);
    CHECK_EQ(c.count, 0);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), 1);
    skiff_qpack_decoder_cancel_stream(d, 8);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), 0);
    CHECK(strcmp(taken(d), "48") == 0); /* Stream Cancellation (stream=8) */
    CHECK_EQ(feed_hex(d, B4_ENCODER, &wire), 0);
    uint64_t id;
    CHECK(!skiff_qpack_decoder_pop_unblocked(d, &id));
    CHECK(strcmp(taken(d), "01") == 0);

    /* B.5: an insert that evicts entry 0. */
    CHECK_EQ(feed_hex(d, B5_ENCODER, &wire), 0);
    CHECK_U64(skiff_qpack_decoder_insert_count(d), 5);
    CHECK(strcmp(taken(d), "01") == 0);
    /* Required Insert Count 5 (encoded 6), Base 5: entries 4, 3, 2, 1 are there. */
    CHECK_EQ(decode_hex(d, 12, "0600 80 81 82 83", &c, &wire), 0);
    CHECK(field_is(&c, 0, "custom-key", "custom-value2"));
    CHECK(field_is(&c, 1, ":authority", "www.example.com"));
    CHECK(field_is(&c, 2, "custom-key", "custom-value"));
    CHECK(field_is(&c, 3, ":path", "/sample/path"));
    CHECK(strcmp(taken(d), "8c") == 0);
    /* Entry 0 was evicted: a reference to it fails the connection. */
    wire = 0;
    CHECK(decode_hex(d, 16, "0600 84", &c, &wire) < 0);
    CHECK_U64(wire, SKIFF_QPACK_DECOMPRESSION_FAILED);
    skiff_qpack_decoder_free(d);
}

/* B.4 the other way: the Duplicate arrives and unblocks stream 8. */
static void rfc_b4_unblocked(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
    collected c;
    uint64_t wire = 0, id = 0;
    CHECK_EQ(feed_hex(d, B2_ENCODER B3_ENCODER, &wire), 0);
    CHECK(strcmp(taken(d), "03") == 0);
    CHECK_EQ(decode_hex(d, 8, "0500 80 c1 81", &c, &wire), SKIFF_QPACK_BLOCKED);
    CHECK(!skiff_qpack_decoder_pop_unblocked(d, &id));
    /* A second section on a blocked stream is the caller's bug. */
    CHECK_EQ(decode_hex(d, 8, "0000 c1", &c, &wire), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_qpack_decoder_resume(d, 8, collect, &c, &wire), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(feed_hex(d, B4_ENCODER, &wire), 0);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), 0);
    CHECK(skiff_qpack_decoder_pop_unblocked(d, &id));
    CHECK_U64(id, 8);
    CHECK(!skiff_qpack_decoder_pop_unblocked(d, &id));
    reset(&c);
    CHECK_EQ(skiff_qpack_decoder_resume(d, 8, collect, &c, &wire), 0);
    CHECK_EQ(c.count, 3);
    CHECK(field_is(&c, 0, ":authority", "www.example.com"));
    CHECK(field_is(&c, 1, ":path", "/"));
    CHECK(field_is(&c, 2, "custom-key", "custom-value"));
    /* The acknowledgment covers the duplicate: no increment needed. */
    CHECK(strcmp(taken(d), "88") == 0);
    skiff_qpack_decoder_free(d);
}

/* The encoder stream of B.2 to B.5 one byte at a time, then cut at every
 * position into two chunks: the same table and the same decoder stream. */
static void encoder_stream_in_any_chunking(void)
{
    uint8_t all[256];
    size_t n = test_hex(B2_ENCODER B3_ENCODER B4_ENCODER B5_ENCODER, all, sizeof all);
    for (size_t cut = 0; cut <= n + 1; cut++) {
        skiff_qpack_decoder *d;
        CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
        uint64_t wire = 0;
        if (cut == n + 1) {
            for (size_t i = 0; i < n; i++) {
                uint8_t *b = test_dup_exact(all + i, 1);
                CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, b, 1, &wire), 0);
                free(b);
            }
        } else {
            uint8_t *a = test_dup_exact(all, cut), *b = test_dup_exact(all + cut, n - cut);
            CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, a, cut, &wire), 0);
            CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, b, n - cut, &wire), 0);
            free(a);
            free(b);
        }
        CHECK_U64(skiff_qpack_decoder_insert_count(d), 5);
        CHECK(strcmp(taken(d), "05") == 0);
        collected c;
        CHECK_EQ(decode_hex(d, 0, "0600 80 81 82 83", &c, &wire), 0);
        CHECK(field_is(&c, 0, "custom-key", "custom-value2"));
        CHECK(field_is(&c, 3, ":path", "/sample/path"));
        skiff_qpack_decoder_free(d);
    }
}

/* ---- hostile input, each with its wire error ---- */

static void bad_field_sections(void)
{
    static const struct {
        const char *hex;
        const char *why;
    } v[] = {
        {"0600 84", "reference to an evicted entry"},
        {"0600 85", "relative index beyond Base"},
        {"0600 10", "post-base index at the Required Insert Count"},
        {"0600 4f00 00", "literal with a name reference beyond Base"},
        {"0600 0000", "post-base name reference at the Required Insert Count"},
        {"0000 80", "dynamic reference with Required Insert Count 0"},
        {"0000 ff24", "static index 99"},
        {"0000 5f54 00", "static name index 99"},
        {"0000 5181 00", "Huffman padding of zeros"},
        {"0000 5181 ff", "Huffman padding of 8 bits"},
        {"0000 5184 ffffffff", "Huffman EOS"},
        {"0d00", "Required Insert Count above 2 * MaxEntries"},
        {"0180", "negative Base"},
        {"ffffffffffffffffffffff01 00", "integer overflow in the prefix"},
        {"0000 5f ffffffffffffffffffff01", "integer overflow in an index"},
        {"", "empty"},
        {"06", "prefix cut"},
    };
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
    uint64_t wire = 0;
    CHECK_EQ(feed_hex(d, B2_ENCODER B3_ENCODER B4_ENCODER B5_ENCODER, &wire), 0);
    taken(d);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        collected c;
        wire = 0;
        int rc = decode_hex(d, 4 * i, v[i].hex, &c, &wire);
        if (rc >= 0 || wire != SKIFF_QPACK_DECOMPRESSION_FAILED)
            fprintf(stderr, "  accepted: %s (rc %d)\n", v[i].why, rc);
        CHECK(rc < 0);
        CHECK_U64(wire, SKIFF_QPACK_DECOMPRESSION_FAILED);
    }
    /* The emit callback's failure is ours, not the peer's. */
    collected c;
    reset(&c);
    c.fail_at = 1;
    uint8_t sec[] = {0x06, 0x00, 0x80, 0x81};
    CHECK_EQ(skiff_qpack_decode_section(d, 0, sec, sizeof sec, collect, &c, &wire),
             SKIFF_ERR_INTERNAL);
    CHECK_U64(wire, SKIFF_H3_INTERNAL_ERROR);
    skiff_qpack_decoder_free(d);
}

static void bad_encoder_streams(void)
{
    static const char *const v[] = {
        "3fbe01",                     /* capacity 221 above our 220 */
        "3fbd01 ff24 00",             /* static name index 99 */
        "3fbd01 80 00",               /* dynamic name reference, empty table */
        "3fbd01 00",                  /* duplicate, empty table */
        "3fbd01 c0 7fffff03",         /* value larger than the table, not yet sent */
        "3fbd01 5fffff03",            /* name larger than the table, not yet sent */
        "3fbd01 c0 ffffffff03",       /* Huffman value whose least length is too large */
        "3fbd01 c0 8100",             /* bad Huffman padding */
        "3fffffffffffffffffffffff01", /* integer overflow */
        "c0 00",                      /* insert into a table of capacity 0 */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        skiff_qpack_decoder *d;
        CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
        uint64_t wire = 0;
        int rc = feed_hex(d, v[i], &wire);
        if (rc >= 0) fprintf(stderr, "  accepted encoder stream %s\n", v[i]);
        CHECK(rc < 0);
        CHECK_U64(wire, SKIFF_QPACK_ENCODER_STREAM_ERROR);
        skiff_qpack_decoder_free(d);
    }
    /* An entry that just fits (220 = 10 + 178 + 32) is accepted, one more byte is not. */
    for (int extra = 0; extra < 2; extra++) {
        skiff_qpack_decoder *d;
        CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 65536), 0);
        uint8_t ins[300];
        size_t n = test_hex("3fbd01 c0", ins, sizeof ins); /* :authority */
        size_t vlen = 178 + (size_t)extra;
        n += (size_t)skiff_qpack_int_encode(ins + n, sizeof ins - n, 0, 7, vlen);
        memset(ins + n, 'a', vlen);
        n += vlen;
        uint64_t wire = 0;
        uint8_t *exact = test_dup_exact(ins, n);
        int rc = skiff_qpack_decoder_feed_encoder_stream(d, exact, n, &wire);
        free(exact);
        CHECK_EQ(rc < 0, extra);
        if (extra) CHECK_U64(wire, SKIFF_QPACK_ENCODER_STREAM_ERROR);
        skiff_qpack_decoder_free(d);
    }
}

static void blocked_stream_limit(void)
{
    for (uint64_t max = 0; max <= 2; max++) {
        skiff_qpack_decoder *d;
        CHECK_EQ(skiff_qpack_decoder_new(&d, 220, max, 65536), 0);
        collected c;
        uint64_t wire = 0;
        for (uint64_t s = 0; s < max; s++)
            CHECK_EQ(decode_hex(d, 4 * s, "0200 80", &c, &wire), SKIFF_QPACK_BLOCKED);
        CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), max);
        CHECK(decode_hex(d, 100, "0200 80", &c, &wire) < 0);
        CHECK_U64(wire, SKIFF_QPACK_DECOMPRESSION_FAILED);
        /* A cancelled stream frees its place. */
        if (max > 0) {
            skiff_qpack_decoder_cancel_stream(d, 0);
            CHECK_EQ(decode_hex(d, 100, "0200 80", &c, &wire), SKIFF_QPACK_BLOCKED);
        }
        skiff_qpack_decoder_free(d);
    }
}

/* SETTINGS_MAX_FIELD_SECTION_SIZE: refused from the declared length, before
 * the bytes are there (so before anything is allocated for them). */
static void section_size_limit(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 1, 1000), 0);
    collected c;
    uint64_t wire = 0;
    uint8_t buf[64];
    static const struct {
        uint8_t first;   /* the line's first byte */
        unsigned prefix; /* of the declared length */
        bool huffman;
        bool literal_name;
    } v[] = {
        {0x51, 7, false, false}, /* :path with a 1 MB value */
        {0x51, 7, true, false},  /* the same, Huffman-coded */
        {0x20, 3, false, true},  /* a 1 MB literal name */
        {0x20, 3, true, true},   /* the same, Huffman-coded */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = 0;
        buf[n++] = 0;
        buf[n++] = 0;
        uint8_t h = v[i].huffman ? (uint8_t)(1u << v[i].prefix) : 0;
        if (v[i].literal_name) {
            n += (size_t)skiff_qpack_int_encode(buf + n, sizeof buf - n, (uint8_t)(v[i].first | h),
                                                3, 1 << 20);
        } else {
            buf[n++] = v[i].first;
            n += (size_t)skiff_qpack_int_encode(buf + n, sizeof buf - n, h, 7, 1 << 20);
        }
        memcpy(buf + n, "abcdefgh", 8); /* 8 of the 1 MB */
        n += 8;
        uint8_t *exact = test_dup_exact(buf, n);
        reset(&c);
        CHECK_EQ(skiff_qpack_decode_section(d, 0, exact, n, collect, &c, &wire),
                 SKIFF_QPACK_TOO_LARGE);
        free(exact);
        CHECK_EQ(c.count, 0);
    }
    /* Fields that fit one by one but not together: 30 times :path=/ + 64 bytes
     * is 30 * 102 bytes; the tenth passes 1000. */
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    uint8_t sec[4096];
    memcpy(sec, buf, n);
    for (int i = 0; i < 30; i++) {
        sec[n++] = 0x51;
        sec[n++] = 64;
        memset(sec + n, 'x', 64);
        n += 64;
    }
    reset(&c);
    CHECK_EQ(skiff_qpack_decode_section(d, 0, sec, n, collect, &c, &wire), SKIFF_QPACK_TOO_LARGE);
    CHECK_EQ(c.count, 9); /* 9 * 101 = 909; the tenth would make 1010 */
    CHECK(strcmp(taken(d), "") == 0);

    /* With dynamic references, the too-large section is still acknowledged. */
    CHECK_EQ(feed_hex(d, B2_ENCODER, &wire), 0);
    CHECK(strcmp(taken(d), "02") == 0);
    n = 0;
    sec[n++] = 0x03;
    sec[n++] = 0x81;
    for (int i = 0; i < 30; i++)
        sec[n++] = 0x10; /* 30 times :authority, 57 bytes each */
    reset(&c);
    CHECK_EQ(skiff_qpack_decode_section(d, 8, sec, n, collect, &c, &wire), SKIFF_QPACK_TOO_LARGE);
    CHECK_EQ(c.count, 17);
    CHECK(strcmp(taken(d), "88") == 0);

    /* Limit 0: even an empty field is too large, an empty section is fine. */
    skiff_qpack_decoder *z;
    CHECK_EQ(skiff_qpack_decoder_new(&z, 0, 0, 0), 0);
    CHECK_EQ(decode_hex(z, 0, "0000", &c, &wire), 0);
    CHECK_EQ(decode_hex(z, 0, "0000 c1", &c, &wire), SKIFF_QPACK_TOO_LARGE);
    skiff_qpack_decoder_free(z);
    skiff_qpack_decoder_free(d);
}

/* A blocked section is copied only up to the limit (plus slack); past it,
 * TOO_LARGE, and a Stream Cancellation since nothing will acknowledge it. */
static void blocked_section_too_large(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 220, 4, 100), 0);
    uint8_t sec[2000];
    memset(sec, 0x80, sizeof sec);
    sec[0] = 0x02;
    sec[1] = 0x00;
    uint64_t wire = 0;
    collected c;
    reset(&c);
    CHECK_EQ(skiff_qpack_decode_section(d, 4, sec, sizeof sec, collect, &c, &wire),
             SKIFF_QPACK_TOO_LARGE);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), 0);
    CHECK(strcmp(taken(d), "44") == 0);
    CHECK_EQ(skiff_qpack_decode_section(d, 8, sec, 100, collect, &c, &wire), SKIFF_QPACK_BLOCKED);
    skiff_qpack_decoder_free(d);
}

/* An instruction cut across calls is kept in a buffer of at most the table
 * capacity plus 512 bytes: a (Huffman-inflated) value longer than that,
 * arriving in pieces, is refused once the buffer is full. */
static void partial_instruction_bound(void)
{
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_decoder_new(&d, 4096, 4, 65536), 0);
    uint8_t head[16];
    size_t n = test_hex("3fe11f c0", head, sizeof head);
    n += (size_t)skiff_qpack_int_encode(head + n, sizeof head - n, 0x80, 7, 6000);
    uint64_t wire = 0;
    CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, head, n, &wire), 0);
    uint8_t chunk[1000];
    memset(chunk, 0xff, sizeof chunk);
    int rc = 0, chunks = 0;
    while (rc == 0 && chunks < 10) {
        rc = skiff_qpack_decoder_feed_encoder_stream(d, chunk, sizeof chunk, &wire);
        chunks++;
    }
    CHECK(rc < 0);
    CHECK_EQ(chunks, 5); /* 4 + 5000 bytes pass 4096 + 512 */
    CHECK_U64(wire, SKIFF_QPACK_ENCODER_STREAM_ERROR);
    skiff_qpack_decoder_free(d);
}

static void bad_decoder_streams(void)
{
    static const char *const v[] = {
        "00",                       /* Insert Count Increment of 0 */
        "02",                       /* increment past the 1 insert sent */
        "84",                       /* acknowledgment of a stream with nothing outstanding */
        "ffffffffffffffffffffff01", /* integer overflow */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        skiff_qpack_encoder *e;
        CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
        skiff_qpack_encoder_set_peer_settings(e, 4096, 16);
        skiff_h3_field f = {(const uint8_t *)"x-a", 3, (const uint8_t *)"1", 1};
        uint8_t out[64];
        CHECK(skiff_qpack_encode_section(e, 0, &f, 1, out, sizeof out) > 0);
        CHECK_U64(skiff_qpack_encoder_insert_count(e), 1);
        uint8_t buf[16];
        size_t n = test_hex(v[i], buf, sizeof buf);
        uint64_t wire = 0;
        CHECK_EQ(skiff_qpack_encoder_feed_decoder_stream(e, buf, n, &wire),
                 SKIFF_ERR_PROTOCOL_VIOLATION);
        CHECK_U64(wire, SKIFF_QPACK_DECODER_STREAM_ERROR);
        skiff_qpack_encoder_free(e);
    }
}

/* ---- the encoder ---- */

static const skiff_h3_field *request(size_t *count)
{
#define F(n, v)                                                                                    \
    {                                                                                              \
        (const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1                   \
    }
    static const skiff_h3_field fields[] = {
        F(":method", "GET"),
        F(":scheme", "https"),
        F(":authority", "www.example.com"),
        F(":path", "/static/app.js?v=1234"),
        F("user-agent", "skiff/0.1 (x86_64-linux-gnu)"),
        F("accept", "*/*"),
        F("accept-encoding", "gzip, deflate, br"),
        F("accept-language", "en-US,en;q=0.9"),
    };
#undef F
    *count = sizeof fields / sizeof fields[0];
    return fields;
}

static void check_decodes_to(skiff_qpack_decoder *d, uint64_t stream, const uint8_t *p, size_t n,
                             const skiff_h3_field *f, size_t count)
{
    collected c;
    reset(&c);
    uint64_t wire = 0;
    uint8_t *exact = test_dup_exact(p, n);
    CHECK_EQ(skiff_qpack_decode_section(d, stream, exact, n, collect, &c, &wire), 0);
    free(exact);
    CHECK_EQ(c.count, count);
    for (size_t i = 0; i < count && i < c.count; i++) {
        CHECK_EQ(c.name_len[i], f[i].name_len);
        CHECK_EQ(c.value_len[i], f[i].value_len);
        CHECK_MEM(c.name[i], f[i].name, f[i].name_len);
        CHECK_MEM(c.value[i], f[i].value, f[i].value_len);
    }
}

static void move_encoder_stream(skiff_qpack_encoder *e, skiff_qpack_decoder *d)
{
    uint8_t buf[8192];
    size_t n;
    uint64_t wire = 0;
    while ((n = skiff_qpack_encoder_take_instructions(e, buf, sizeof buf)) > 0)
        CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, buf, n, &wire), 0);
}

static void move_decoder_stream(skiff_qpack_decoder *d, skiff_qpack_encoder *e)
{
    uint8_t buf[8192];
    size_t n;
    uint64_t wire = 0;
    while ((n = skiff_qpack_decoder_take_instructions(d, buf, sizeof buf)) > 0)
        CHECK_EQ(skiff_qpack_encoder_feed_decoder_stream(e, buf, n, &wire), 0);
}

/* Without a dynamic table: static references and literals, no encoder stream. */
static void encoder_static_only(void)
{
    skiff_qpack_encoder *e;
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
    CHECK_EQ(skiff_qpack_decoder_new(&d, 0, 0, 65536), 0);
    skiff_qpack_encoder_set_peer_settings(e, 0, 0);
    size_t count;
    const skiff_h3_field *f = request(&count);
    uint8_t out[512], buf[16];
    skiff_ssize n = skiff_qpack_encode_section(e, 0, f, count, out, sizeof out);
    CHECK(n > 0);
    CHECK_EQ(out[0], 0);
    CHECK_EQ(out[1], 0);
    CHECK_EQ(out[2], 0xc0 | 17); /* :method GET */
    CHECK_EQ(out[3], 0xc0 | 23); /* :scheme https */
    CHECK_EQ(skiff_qpack_encoder_take_instructions(e, buf, sizeof buf), 0);
    check_decodes_to(d, 0, out, (size_t)n, f, count);
    /* Too small a buffer: an error, and nothing changed. */
    CHECK_EQ(skiff_qpack_encode_section(e, 0, f, count, out, (size_t)n - 1),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_qpack_encode_section(e, 0, f, count, out, (size_t)n), n);
    skiff_qpack_encoder_free(e);
    skiff_qpack_decoder_free(d);
}

/* The second identical request is all indexed references, once acknowledged. */
static void encoder_dynamic_table(void)
{
    skiff_qpack_encoder *e;
    skiff_qpack_decoder *d;
    CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
    CHECK_EQ(skiff_qpack_decoder_new(&d, 4096, 16, 65536), 0);
    skiff_qpack_encoder_set_peer_settings(e, 4096, 16);
    size_t count;
    const skiff_h3_field *f = request(&count);
    uint8_t out[512];
    skiff_ssize n1 = skiff_qpack_encode_section(e, 0, f, count, out, sizeof out);
    CHECK(n1 > 0);
    /* :authority, user-agent and accept-language inserted (not :path). */
    CHECK_U64(skiff_qpack_encoder_insert_count(e), 3);
    move_encoder_stream(e, d);
    check_decodes_to(d, 0, out, (size_t)n1, f, count);
    move_decoder_stream(d, e);
    CHECK_U64(skiff_qpack_encoder_known_received_count(e), 3);
    skiff_ssize n2 = skiff_qpack_encode_section(e, 4, f, count, out, sizeof out);
    CHECK(n2 > 0 && n2 <= n1); /* relative indices now, as short as the post-base ones */
    CHECK_U64(skiff_qpack_encoder_insert_count(e), 3);
    check_decodes_to(d, 4, out, (size_t)n2, f, count);

    /* A buffer of the size the HTTP/3 layer gives (16 bytes per field over
     * the name and value) is enough for the table to be used. */
    skiff_h3_field h[1] = {{(const uint8_t *)"x-fresh", 7, (const uint8_t *)"abc", 3}};
    skiff_ssize nh = skiff_qpack_encode_section(e, 12, h, 1, out, 7 + 7 + 3 + 16);
    CHECK(nh > 0);
    CHECK_U64(skiff_qpack_encoder_insert_count(e), 4);
    move_encoder_stream(e, d);
    check_decodes_to(d, 12, out, (size_t)nh, h, 1);

    /* Too small a buffer with the table in use: an error, nothing queued or inserted. */
    skiff_h3_field g[2] = {{(const uint8_t *)"x-new", 5, (const uint8_t *)"value", 5}, f[2]};
    uint8_t buf[64];
    CHECK_EQ(skiff_qpack_encode_section(e, 8, g, 2, out, 6), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_U64(skiff_qpack_encoder_insert_count(e), 4);
    CHECK_EQ(skiff_qpack_encoder_take_instructions(e, buf, sizeof buf), 0);
    skiff_qpack_encoder_free(e);
    skiff_qpack_decoder_free(d);
}

/* Credentials are never inserted, and carry N=1. */
static void encoder_never_indexes_credentials(void)
{
    skiff_qpack_encoder *e;
    CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
    skiff_qpack_encoder_set_peer_settings(e, 4096, 16);
    skiff_h3_field f[3] = {
        {(const uint8_t *)"authorization", 13, (const uint8_t *)"Bearer abc", 10},
        {(const uint8_t *)"cookie", 6, (const uint8_t *)"a=b", 3},
        {(const uint8_t *)"x-secret-ish", 12, (const uint8_t *)"v", 1},
    };
    uint8_t out[128];
    for (int round = 0; round < 2; round++) {
        skiff_ssize n = skiff_qpack_encode_section(e, 0, f, 2, out, sizeof out);
        CHECK(n > 4);
        CHECK_EQ(out[2], 0x7f); /* 01 N=1 T=1, index 84 = 15 + 69 */
        CHECK_EQ(out[3], 69);
        CHECK_U64(skiff_qpack_encoder_insert_count(e), 0);
    }
    CHECK(skiff_qpack_encode_section(e, 0, f + 2, 1, out, sizeof out) > 0);
    CHECK_U64(skiff_qpack_encoder_insert_count(e), 1);
    skiff_qpack_encoder_free(e);
}

/* With no blocked streams allowed, nothing unacknowledged is referenced;
 * with 2, at most 2 streams are blocked at the decoder. */
static void encoder_respects_blocked_streams(void)
{
    for (uint64_t allowed = 0; allowed <= 2; allowed += 2) {
        skiff_qpack_encoder *e;
        skiff_qpack_decoder *d;
        CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
        CHECK_EQ(skiff_qpack_decoder_new(&d, 4096, allowed, 65536), 0);
        skiff_qpack_encoder_set_peer_settings(e, 4096, allowed);
        uint8_t out[5][256];
        skiff_ssize n[5];
        char value[5][16];
        skiff_h3_field f[5];
        for (int s = 0; s < 5; s++) {
            snprintf(value[s], sizeof value[s], "v%d", s);
            f[s] = (skiff_h3_field){(const uint8_t *)"x-key", 5, (const uint8_t *)value[s],
                                    strlen(value[s])};
            n[s] = skiff_qpack_encode_section(e, 4 * (uint64_t)s, &f[s], 1, out[s], sizeof out[s]);
            CHECK(n[s] > 0);
        }
        CHECK_U64(skiff_qpack_encoder_insert_count(e), 5);
        /* The sections overtake the encoder stream. */
        int blocked = 0;
        for (int s = 0; s < 5; s++) {
            collected c;
            reset(&c);
            uint64_t wire = 0;
            int rc = skiff_qpack_decode_section(d, 4 * (uint64_t)s, out[s], (size_t)n[s], collect,
                                                &c, &wire);
            CHECK(rc == 0 || rc == SKIFF_QPACK_BLOCKED);
            blocked += rc == SKIFF_QPACK_BLOCKED;
        }
        CHECK_EQ(blocked, (int)allowed);
        CHECK_EQ(skiff_qpack_decoder_blocked_streams(d), allowed);
        move_encoder_stream(e, d);
        uint64_t id;
        int resumed = 0;
        while (skiff_qpack_decoder_pop_unblocked(d, &id)) {
            collected c;
            reset(&c);
            uint64_t wire = 0;
            CHECK_EQ(skiff_qpack_decoder_resume(d, id, collect, &c, &wire), 0);
            CHECK(field_is(&c, 0, "x-key", value[id / 4]));
            resumed++;
        }
        CHECK_EQ(resumed, (int)allowed);
        move_decoder_stream(d, e);
        CHECK_U64(skiff_qpack_encoder_known_received_count(e), 5);
        skiff_qpack_encoder_free(e);
        skiff_qpack_decoder_free(d);
    }
}

/* Sections cut at every byte: an error or a prefix of the fields, never a crash. */
static void truncated_sections(void)
{
    skiff_qpack_encoder *e;
    skiff_qpack_decoder *d,
        *cuts; /* cuts sees the same inserts, and its acknowledgments go nowhere */
    CHECK_EQ(skiff_qpack_encoder_new(&e, 4096), 0);
    CHECK_EQ(skiff_qpack_decoder_new(&d, 4096, 16, 65536), 0);
    CHECK_EQ(skiff_qpack_decoder_new(&cuts, 4096, 16, 65536), 0);
    skiff_qpack_encoder_set_peer_settings(e, 4096, 16);
    size_t count;
    const skiff_h3_field *f = request(&count);
    uint8_t out[512], ins[512];
    for (int round = 0; round < 2; round++) {
        skiff_ssize n = skiff_qpack_encode_section(e, 0, f, count, out, sizeof out);
        size_t k = skiff_qpack_encoder_take_instructions(e, ins, sizeof ins);
        uint64_t wire = 0;
        CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(d, ins, k, &wire), 0);
        CHECK_EQ(skiff_qpack_decoder_feed_encoder_stream(cuts, ins, k, &wire), 0);
        int failures = 0;
        for (size_t cut = 0; cut < (size_t)n; cut++) {
            collected c;
            reset(&c);
            wire = 0;
            uint8_t *exact = test_dup_exact(out, cut);
            int rc = skiff_qpack_decode_section(cuts, 4 * cut, exact, cut, collect, &c, &wire);
            free(exact);
            if (rc < 0) {
                CHECK_U64(wire, SKIFF_QPACK_DECOMPRESSION_FAILED);
                failures++;
            } else {
                CHECK_EQ(rc, 0); /* cut between two lines */
                CHECK(c.count < count);
                for (size_t i = 0; i < c.count; i++)
                    CHECK_MEM(c.value[i], f[i].value, f[i].value_len);
            }
        }
        CHECK(failures > (int)n / 2);
        check_decodes_to(d, 0, out, (size_t)n, f, count);
        move_decoder_stream(d, e);
    }
    skiff_qpack_encoder_free(e);
    skiff_qpack_decoder_free(d);
    skiff_qpack_decoder_free(cuts);
}

/* ---- random round trips ---- */

#define STREAMS 24
#define MAX_PENDING 6

typedef struct sent_section {
    uint8_t *bytes;
    size_t len;
    size_t count;
    skiff_h3_field fields[MAX_FIELDS];
    uint8_t *store; /* the fields' bytes */
} sent_section;

typedef struct sim_stream {
    sent_section pending[MAX_PENDING]; /* in order */
    size_t npending;
    bool blocked;
    uint64_t id; /* a new stream id once cancelled: ids are never reused */
} sim_stream;

typedef struct sim {
    skiff_qpack_encoder *e;
    skiff_qpack_decoder *d;
    sim_stream streams[STREAMS];
    uint8_t *enc_bytes; /* encoder stream in flight */
    size_t enc_len;
    uint8_t *dec_bytes; /* decoder stream in flight */
    size_t dec_len;
    uint64_t max_blocked;
    long sections, failures, blocked_seen;
} sim;

static const char *const names[] = {
    ":authority",    ":path",        "user-agent",      "accept",  "cookie",
    "authorization", "content-type", "x-custom-header", "x-trace", "cache-control",
    ":status",       "set-cookie",   "x-long",          "etag",    "via",
};

static void random_field(skiff_h3_field *f, uint8_t **store)
{
    uint8_t *p = *store;
    const char *name = names[rnd() % (sizeof names / sizeof names[0])];
    size_t nl = strlen(name);
    if (rnd() % 10 == 0) {
        nl = 1 + rnd() % 40; /* a random lowercase name */
        for (size_t i = 0; i < nl; i++)
            p[i] = (uint8_t)('a' + rnd() % 26);
    } else {
        memcpy(p, name, nl);
    }
    f->name = p;
    f->name_len = nl;
    p += nl;
    size_t vl;
    uint64_t kind = rnd() % 10;
    if (kind < 5) {
        /* From a small pool, so that values repeat. */
        vl = (size_t)snprintf((char *)p, 32, "value-%d", (int)(rnd() % 8));
    } else if (kind < 8) {
        vl = rnd() % 24;
        for (size_t i = 0; i < vl; i++)
            p[i] = (uint8_t)rnd();
    } else {
        vl = 60 + rnd() % 140; /* large: eviction pressure at 220 */
        uint8_t c = (uint8_t)('a' + rnd() % 4);
        for (size_t i = 0; i < vl; i++)
            p[i] = (uint8_t)(c + i % 3);
    }
    f->value = p;
    f->value_len = vl;
    *store = p + vl;
}

static void append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n)
{
    uint8_t *b = realloc(*buf, *len + n + 1);
    if (!b) abort();
    memcpy(b + *len, p, n);
    *buf = b;
    *len += n;
}

static void take_front(uint8_t **buf, size_t *len, size_t n)
{
    memmove(*buf, *buf + n, *len - n);
    *len -= n;
}

static void free_section(sent_section *s)
{
    free(s->bytes);
    free(s->store);
}

static void pop_front(sim_stream *st)
{
    free_section(&st->pending[0]);
    memmove(st->pending, st->pending + 1, --st->npending * sizeof st->pending[0]);
}

static void check_section(sim *s, const sent_section *sec, const collected *c)
{
    bool same = c->count == sec->count;
    for (size_t i = 0; same && i < c->count; i++)
        same = c->name_len[i] == sec->fields[i].name_len &&
               c->value_len[i] == sec->fields[i].value_len &&
               memcmp(c->name[i], sec->fields[i].name, c->name_len[i]) == 0 &&
               memcmp(c->value[i], sec->fields[i].value, c->value_len[i]) == 0;
    CHECK(same);
    s->sections++;
}

static void sim_encode(sim *s)
{
    size_t id = rnd() % STREAMS;
    sim_stream *st = &s->streams[id];
    if (st->npending == MAX_PENDING) return;
    sent_section *sec = &st->pending[st->npending];
    memset(sec, 0, sizeof *sec);
    sec->count = rnd() % 13;
    sec->store = malloc(sec->count * 256 + 1);
    uint8_t *p = sec->store;
    for (size_t i = 0; i < sec->count; i++)
        random_field(&sec->fields[i], &p);
    uint8_t out[8192];
    size_t cap = rnd() % 8 == 0 ? rnd() % 200 : sizeof out; /* sometimes too small */
    uint64_t before = skiff_qpack_encoder_insert_count(s->e);
    skiff_ssize n = skiff_qpack_encode_section(s->e, st->id, sec->fields, sec->count, out, cap);
    if (n < 0) {
        CHECK_EQ(n, SKIFF_ERR_BUFFER_TOO_SMALL);
        CHECK_U64(skiff_qpack_encoder_insert_count(s->e), before);
        free(sec->store);
        return;
    }
    sec->bytes = malloc((size_t)n);
    memcpy(sec->bytes, out, (size_t)n);
    sec->len = (size_t)n;
    st->npending++;
    uint8_t buf[8192];
    size_t k;
    while ((k = skiff_qpack_encoder_take_instructions(s->e, buf, 1 + rnd() % sizeof buf)) > 0)
        append(&s->enc_bytes, &s->enc_len, buf, k);
}

static void sim_resume_unblocked(sim *s)
{
    uint64_t id;
    while (skiff_qpack_decoder_pop_unblocked(s->d, &id)) {
        sim_stream *st = &s->streams[id / 4 % STREAMS];
        CHECK(st->blocked);
        collected c;
        reset(&c);
        uint64_t wire = 0;
        int rc = skiff_qpack_decoder_resume(s->d, id, collect, &c, &wire);
        CHECK_EQ(rc, 0);
        if (rc != 0) s->failures++;
        check_section(s, &st->pending[0], &c);
        st->blocked = false;
        pop_front(st);
    }
}

static void sim_deliver_encoder_stream(sim *s, size_t max)
{
    size_t n = s->enc_len < max ? s->enc_len : max;
    if (n == 0) return;
    uint8_t *exact = test_dup_exact(s->enc_bytes, n);
    uint64_t wire = 0;
    int rc = skiff_qpack_decoder_feed_encoder_stream(s->d, exact, n, &wire);
    CHECK_EQ(rc, 0);
    if (rc) s->failures++;
    free(exact);
    take_front(&s->enc_bytes, &s->enc_len, n);
    sim_resume_unblocked(s);
}

static void sim_deliver_section(sim *s, size_t id)
{
    sim_stream *st = &s->streams[id];
    if (st->npending == 0 || st->blocked) return;
    collected c;
    reset(&c);
    uint64_t wire = 0;
    sent_section *sec = &st->pending[0];
    uint8_t *exact = test_dup_exact(sec->bytes, sec->len);
    int rc = skiff_qpack_decode_section(s->d, st->id, exact, sec->len, collect, &c, &wire);
    free(exact);
    CHECK(rc == 0 || rc == SKIFF_QPACK_BLOCKED);
    if (rc < 0) {
        fprintf(stderr, "  section failed: rc %d wire 0x%" PRIx64 "\n", rc, wire);
        s->failures++;
        pop_front(st);
        return;
    }
    CHECK(skiff_qpack_decoder_blocked_streams(s->d) <= s->max_blocked);
    if (rc == SKIFF_QPACK_BLOCKED) {
        CHECK_EQ(c.count, 0);
        st->blocked = true;
        s->blocked_seen++;
        return;
    }
    check_section(s, sec, &c);
    pop_front(st);
}

static void sim_deliver_decoder_stream(sim *s, size_t max)
{
    uint8_t buf[4096];
    size_t k;
    while ((k = skiff_qpack_decoder_take_instructions(s->d, buf, 1 + rnd() % sizeof buf)) > 0)
        append(&s->dec_bytes, &s->dec_len, buf, k);
    size_t n = s->dec_len < max ? s->dec_len : max;
    if (n == 0) return;
    uint64_t wire = 0;
    int rc = skiff_qpack_encoder_feed_decoder_stream(s->e, s->dec_bytes, n, &wire);
    CHECK_EQ(rc, 0);
    if (rc) s->failures++;
    take_front(&s->dec_bytes, &s->dec_len, n);
}

static void sim_cancel(sim *s, size_t id)
{
    sim_stream *st = &s->streams[id];
    skiff_qpack_decoder_cancel_stream(s->d, st->id);
    while (st->npending)
        pop_front(st);
    st->blocked = false;
    st->id += 4 * STREAMS;
}

static void round_trip(uint64_t peer_capacity, uint64_t our_capacity, uint64_t blocked, int steps)
{
    sim s = {0};
    s.max_blocked = blocked;
    CHECK_EQ(skiff_qpack_encoder_new(&s.e, our_capacity), 0);
    CHECK_EQ(skiff_qpack_decoder_new(&s.d, peer_capacity, blocked, 1 << 20), 0);
    skiff_qpack_encoder_set_peer_settings(s.e, peer_capacity, blocked);
    for (size_t id = 0; id < STREAMS; id++)
        s.streams[id].id = 4 * id;
    for (int step = 0; step < steps; step++) {
        uint64_t a = rnd() % 100;
        if (a < 35)
            sim_encode(&s);
        else if (a < 47)
            sim_deliver_encoder_stream(&s, 1 + rnd() % 300);
        else if (a < 85)
            sim_deliver_section(&s, rnd() % STREAMS);
        else if (a < 98)
            sim_deliver_decoder_stream(&s, 1 + rnd() % 64);
        else
            sim_cancel(&s, rnd() % STREAMS);
    }
    /* Drain: every section decodes, every insert is acknowledged. */
    sim_deliver_encoder_stream(&s, SIZE_MAX);
    for (size_t id = 0; id < STREAMS; id++)
        while (s.streams[id].npending && !s.streams[id].blocked)
            sim_deliver_section(&s, id);
    for (size_t id = 0; id < STREAMS; id++)
        CHECK_EQ(s.streams[id].npending, 0);
    sim_deliver_decoder_stream(&s, SIZE_MAX);
    CHECK_EQ(s.failures, 0);
    CHECK_U64(skiff_qpack_decoder_insert_count(s.d), skiff_qpack_encoder_insert_count(s.e));
    CHECK_U64(skiff_qpack_encoder_known_received_count(s.e), skiff_qpack_encoder_insert_count(s.e));
    CHECK(s.sections > steps / 10);
    uint64_t capacity = peer_capacity < our_capacity ? peer_capacity : our_capacity;
    if (capacity) {
        /* More inserts than the table can hold: evictions happened. */
        CHECK(skiff_qpack_encoder_insert_count(s.e) > capacity / 32);
        if (blocked == 0 || capacity >= 4096) CHECK_EQ(s.blocked_seen > 0, blocked > 0);
    } else {
        CHECK_U64(skiff_qpack_encoder_insert_count(s.e), 0);
        CHECK_EQ(s.blocked_seen, 0);
    }
    if (getenv("QPACK_SIM_STATS"))
        fprintf(stderr,
                "  cap %4" PRIu64 " blocked %2" PRIu64 ": %ld sections, %" PRIu64
                " inserts, %ld blocked\n",
                capacity, blocked, s.sections, skiff_qpack_encoder_insert_count(s.e),
                s.blocked_seen);
    for (size_t id = 0; id < STREAMS; id++)
        sim_cancel(&s, id);
    free(s.enc_bytes);
    free(s.dec_bytes);
    skiff_qpack_encoder_free(s.e);
    skiff_qpack_decoder_free(s.d);
}

static void round_trips(void)
{
    static const uint64_t caps[][2] = {{0, 4096},   {220, 220},  {4096, 4096},
                                       {4096, 220}, {220, 4096}, {4096, 0}};
    static const uint64_t blocked[] = {0, 16};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
        for (size_t b = 0; b < 2; b++)
            for (int seed = 0; seed < 4; seed++)
                round_trip(caps[c][0], caps[c][1], blocked[b], 4000);
}

int main(void)
{
    RUN(rfc_b1_literal_with_name_reference);
    RUN(rfc_b2_to_b5);
    RUN(rfc_b4_unblocked);
    RUN(encoder_stream_in_any_chunking);
    RUN(bad_field_sections);
    RUN(bad_encoder_streams);
    RUN(blocked_stream_limit);
    RUN(section_size_limit);
    RUN(blocked_section_too_large);
    RUN(partial_instruction_bound);
    RUN(bad_decoder_streams);
    RUN(encoder_static_only);
    RUN(encoder_dynamic_table);
    RUN(encoder_never_indexes_credentials);
    RUN(encoder_respects_blocked_streams);
    RUN(truncated_sections);
    RUN(round_trips);
    return test_report("qpack");
}
