/*
 * Seeds for the h3_conn fuzz target (records of selector, length, bytes; see
 * h3_conn_fuzz.c): a control stream with SETTINGS, QPACK streams, and
 * requests encoded by the library's own QPACK encoder, with and without the
 * dynamic table (so a seed exercises blocking and resuming).
 */
#include <string.h>

#include "corpus.h"
#include "h3/h3_frame.h"
#include "h3/qpack_encoder.h"

typedef struct seed {
    uint8_t p[8192];
    size_t len;
} seed;

/* One record per at most 255 bytes. */
static void record(seed *s, unsigned which, bool fin, const uint8_t *p, size_t n)
{
    do {
        size_t take = n > 255 ? 255 : n;
        if (s->len + 2 + take > sizeof s->p) return;
        s->p[s->len++] = (uint8_t)(which | (fin && take == n ? 8 : 0));
        s->p[s->len++] = (uint8_t)take;
        memcpy(s->p + s->len, p, take);
        s->len += take;
        p += take, n -= take;
    } while (n);
}

static void control(seed *s)
{
    uint8_t buf[64] = {SKIFF_H3_STREAM_CONTROL};
    skiff_h3_settings st;
    skiff_h3_settings_default(&st);
    st.qpack_max_table_capacity = 4096;
    st.qpack_blocked_streams = 16;
    skiff_ssize n = skiff_h3_settings_encode(buf + 1, sizeof buf - 1, &st, skiff_h3_grease_value(3), 7);
    if (n > 0) record(s, 4, false, buf, (size_t)n + 1);
}

#define F(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1}

/* A GET (or POST with a body and trailers) on client stream `which`. */
static void request(seed *s, skiff_qpack_encoder *enc, unsigned which, bool post)
{
    skiff_h3_field get[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "example.com"),
                            F(":path", "/index.html"), F("user-agent", "seed")};
    skiff_h3_field pst[] = {F(":method", "POST"), F(":scheme", "https"), F(":authority", "example.com"),
                            F(":path", "/up"), F("content-length", "3")};
    uint8_t section[512], frame[600];
    skiff_ssize n = skiff_qpack_encode_section(enc, 4u * which, post ? pst : get, 5, section, sizeof section);
    if (n < 0) return;
    skiff_ssize h = skiff_h3_frame_header_encode(frame, sizeof frame, SKIFF_H3_FRAME_HEADERS, (uint64_t)n);
    memcpy(frame + h, section, (size_t)n);
    size_t len = (size_t)(h + n);
    if (post) {
        static const uint8_t body[] = {0x00, 0x03, 'a', 'b', 'c'};
        memcpy(frame + len, body, sizeof body);
        len += sizeof body;
        skiff_h3_field trailer[] = {F("x-sum", "1")};
        n = skiff_qpack_encode_section(enc, 4u * which, trailer, 1, section, sizeof section);
        if (n > 0) {
            h = skiff_h3_frame_header_encode(frame + len, sizeof frame - len, SKIFF_H3_FRAME_HEADERS, (uint64_t)n);
            memcpy(frame + len + h, section, (size_t)n);
            len += (size_t)(h + n);
        }
    }
    record(s, which, true, frame, len);
}

static void encoder_stream(seed *s, skiff_qpack_encoder *enc)
{
    uint8_t buf[4096] = {SKIFF_H3_STREAM_QPACK_ENCODER};
    size_t n = skiff_qpack_encoder_take_instructions(enc, buf + 1, sizeof buf - 1);
    record(s, 5, false, buf, n + 1);
}

void corpus_h3_conn_seeds(void)
{
    for (int dynamic = 0; dynamic < 2; dynamic++) {
        seed s = {.len = 0};
        skiff_qpack_encoder *enc = NULL;
        if (skiff_qpack_encoder_new(&enc, dynamic ? 4096 : 0)) return;
        if (dynamic) skiff_qpack_encoder_set_peer_settings(enc, 4096, 16);
        control(&s);
        request(&s, enc, 0, false);
        request(&s, enc, 1, true);
        /* With the table, the inserts go after the requests: they block first. */
        if (dynamic) encoder_stream(&s, enc);
        corpus_write_seed("h3_conn", s.p, s.len);
        skiff_qpack_encoder_free(enc);
    }
}
