/*
 * Seeds for the qpack_decoder fuzz target (tests/fuzz/qpack_decoder_fuzz.c),
 * written with our own QPACK encoder so they are valid in the target's
 * format: a settings byte, then records of kind, 2-byte length, payload.
 */
#include <string.h>

#include "corpus.h"
#include "h3/h3_field.h"
#include "h3/qpack_encoder.h"

#define F(n, v)                                                                                    \
    {                                                                                              \
        (const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1                   \
    }

static const skiff_h3_field request[] = {
    F(":method", "GET"),        F(":scheme", "https"),        F(":authority", "example.com"),
    F(":path", "/index.html"),  F("user-agent", "skiff/0.1"), F("accept", "*/*"),
    F("accept-language", "en"), F("cookie", "session=abc"),
};

static const skiff_h3_field response[] = {
    F(":status", "200"),      F("content-type", "text/html; charset=utf-8"),
    F("server", "skiff"),     F("cache-control", "private, max-age=60"),
    F("x-custom", "a value"), F("content-length", "1234"),
};

#undef F

typedef struct seed {
    uint8_t buf[8192];
    size_t len;
} seed;

static void record(seed *s, uint8_t kind, const uint8_t *p, size_t n)
{
    if (s->len + 3 + n > sizeof s->buf) return;
    s->buf[s->len++] = kind;
    s->buf[s->len++] = (uint8_t)(n >> 8);
    s->buf[s->len++] = (uint8_t)n;
    if (n) memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* Encoder stream then section (or section first, blocking), for `rounds`
 * sections alternating request and response fields. */
static void write_seed(uint8_t settings, uint64_t capacity, uint64_t blocked, int rounds,
                       bool section_first)
{
    skiff_qpack_encoder *e;
    if (skiff_qpack_encoder_new(&e, capacity)) return;
    skiff_qpack_encoder_set_peer_settings(e, capacity, blocked);
    seed s = {.len = 0};
    s.buf[s.len++] = settings;
    for (int i = 0; i < rounds; i++) {
        const skiff_h3_field *f = i % 2 ? response : request;
        size_t count =
            i % 2 ? sizeof response / sizeof response[0] : sizeof request / sizeof request[0];
        uint8_t section[1024], ins[2048];
        uint8_t kind = (uint8_t)(1 + 6 * (i % 8)); /* a section on stream 4 * (i % 8) */
        skiff_ssize n =
            skiff_qpack_encode_section(e, 4 * (uint64_t)(i % 8), f, count, section, sizeof section);
        size_t k = skiff_qpack_encoder_take_instructions(e, ins, sizeof ins);
        if (n < 0) break;
        if (section_first) {
            record(&s, kind, section, (size_t)n);
            record(&s, 0, ins, k);
            record(&s, 4, NULL, 0);
        } else {
            record(&s, 0, ins, k);
            record(&s, kind, section, (size_t)n);
        }
        record(&s, 3, NULL, 0);
    }
    record(&s, 2, NULL, 0);
    corpus_write_seed("qpack_decoder", s.buf, s.len);
    skiff_qpack_encoder_free(e);
}

void corpus_qpack_seeds(void)
{
    /* settings: bits 0-1 capacity (0, 64, 220, 4096), 2-3 blocked (0, 1, 4, 16),
     * 4-5 section limit (0, 100, 4096, unlimited). */
    write_seed(0x20, 0, 0, 2, false);     /* static table only */
    write_seed(0x2a, 220, 4, 4, false);   /* small table, evictions */
    write_seed(0x2f, 4096, 16, 6, false); /* large table */
    write_seed(0x2f, 4096, 16, 4, true);  /* sections before their inserts */
    write_seed(0x1f, 4096, 16, 3, false); /* a limit of 100: too large */
}
