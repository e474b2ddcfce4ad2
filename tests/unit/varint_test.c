/* Varints (RFC 9000 §16) and the bounds-checked cursors built on them. */
#include "common/varint.h"
#include "common/wire.h"
#include "test.h"

/* The examples of RFC 9000 §A.1 (Table "Sample Variable-Length Integer Decodings"). */
static void rfc_examples(void)
{
    static const struct {
        const char *hex;
        uint64_t value;
    } vectors[] = {
        {"c2197c5eff14e88c", 151288809941952652u},
        {"9d7f3e7d", 494878333u},
        {"7bbd", 15293u},
        {"25", 37u},
        {"4025", 37u}, /* non-minimal, still accepted */
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t buf[8];
        size_t n = test_hex(vectors[i].hex, buf, sizeof buf);
        uint8_t *exact = test_dup_exact(buf, n);
        uint64_t v = 0;
        CHECK_EQ(skiff_varint_decode(exact, n, &v), (skiff_ssize)n);
        CHECK_U64(v, vectors[i].value);
        free(exact);
    }
    uint8_t out[8];
    CHECK_EQ(skiff_varint_encode(out, 151288809941952652u) - out, 8);
    CHECK_MEM(out, "\xc2\x19\x7c\x5e\xff\x14\xe8\x8c", 8);
    CHECK_EQ(skiff_varint_encode(out, 15293) - out, 2);
    CHECK_MEM(out, "\x7b\xbd", 2);
}

static void every_length_round_trips_at_its_boundaries(void)
{
    static const uint64_t values[] = {0, 1, 63, 64, 16383, 16384, 1073741823, 1073741824,
                                      SKIFF_VARINT_MAX};
    static const size_t lens[] = {1, 1, 1, 2, 2, 4, 4, 8, 8};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t buf[8];
        CHECK_EQ(skiff_varint_len(values[i]), lens[i]);
        CHECK_EQ(skiff_varint_encode(buf, values[i]) - buf, (long)lens[i]);
        uint64_t v = 0;
        CHECK_EQ(skiff_varint_decode(buf, lens[i], &v), (skiff_ssize)lens[i]);
        CHECK_U64(v, values[i]);
    }
    CHECK_EQ(skiff_varint_len(SKIFF_VARINT_MAX + 1), 0);
}

static void non_minimal_encodings_decode(void)
{
    /* 5 in every length. */
    static const size_t lens[] = {1, 2, 4, 8};
    for (size_t i = 0; i < 4; i++) {
        uint8_t buf[8];
        CHECK_EQ(skiff_varint_encode_len(buf, 5, lens[i]) - buf, (long)lens[i]);
        uint64_t v = 0;
        CHECK_EQ(skiff_varint_decode(buf, lens[i], &v), (skiff_ssize)lens[i]);
        CHECK_U64(v, 5);
    }
}

static void truncation_is_rejected_at_every_position(void)
{
    uint8_t buf[8];
    skiff_varint_encode(buf, SKIFF_VARINT_MAX);
    for (size_t cut = 0; cut < 8; cut++) {
        uint8_t *exact = test_dup_exact(buf, cut);
        uint64_t v = 99;
        CHECK_EQ(skiff_varint_decode(exact, cut, &v), SKIFF_ERR_TRUNCATED);
        CHECK_U64(v, 99);
        free(exact);
    }
}

static void cursors_stop_at_their_ends(void)
{
    uint8_t buf[3] = {0x01, 0x02, 0x43};
    skiff_reader r = skiff_reader_make(buf, sizeof buf);
    uint16_t u16;
    uint32_t u32;
    uint64_t v = 0;
    CHECK_EQ(skiff_reader_u32(&r, &u32), SKIFF_ERR_TRUNCATED);
    CHECK_EQ(skiff_reader_left(&r), 3);
    CHECK_EQ(skiff_reader_u16(&r, &u16), 0);
    CHECK_EQ(u16, 0x0102);
    CHECK_EQ(skiff_reader_varint(&r, &v), SKIFF_ERR_TRUNCATED); /* 0x43: 2-byte varint */
    CHECK_EQ(skiff_reader_left(&r), 1);

    uint8_t out[3];
    skiff_writer w = skiff_writer_make(out, sizeof out);
    CHECK_EQ(skiff_writer_varint(&w, 16384), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_writer_varint(&w, 16383), 0);
    CHECK_EQ(skiff_writer_varint(&w, SKIFF_VARINT_MAX + 1), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_writer_u16(&w, 1), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_writer_u8(&w, 7), 0);
    CHECK_EQ(skiff_writer_left(&w), 0);
    CHECK_MEM(out, "\x7f\xff\x07", 3);
}

int main(void)
{
    RUN(rfc_examples);
    RUN(every_length_round_trips_at_its_boundaries);
    RUN(non_minimal_encodings_decode);
    RUN(truncation_is_rejected_at_every_position);
    RUN(cursors_stop_at_their_ends);
    return test_report("varint");
}
