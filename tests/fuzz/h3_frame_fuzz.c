/*
 * libFuzzer target: an HTTP/3 stream through the frame reader (RFC 9114 §7),
 * with each whole frame handed to its decoder: SETTINGS to the settings
 * decoder, GOAWAY / MAX_PUSH_ID / CANCEL_PUSH to the one-varint decoder, and
 * HEADERS to the message validator.
 *
 * Input: byte 0 picks max_payload (low 3 bits) and the chunking seed (the
 * rest); the remaining bytes are the stream, fed in chunks, each an exact
 * heap copy so ASan sees a read past it. A HEADERS payload is read crudely
 * as fields: its first byte picks the section kind (bits 0-1: 0 request,
 * 1 response, 2 or 3 trailers) and whether extended CONNECT is on (bit 2);
 * the rest splits on 0 bytes into name, value, name, ...
 *
 * Property: the events (DATA joined up) are the same as when the stream is
 * fed in one piece.
 */
#include <stdlib.h>
#include <string.h>

#include "h3/h3_error.h"
#include "h3/h3_frame.h"
#include "h3/h3_message.h"

#define MAX_FIELDS 64

/* FNV-1a over the events, independent of how DATA was cut. */
static void mix(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3u;
}

static void check_headers(const uint8_t *p, size_t n)
{
    if (n == 0) return;
    skiff_h3_section_kind kind =
        (p[0] & 3) == 3 ? SKIFF_H3_SECTION_TRAILERS : (skiff_h3_section_kind)(p[0] & 3);
    bool ext = (p[0] & 4) != 0;
    skiff_h3_field fields[MAX_FIELDS];
    size_t count = 0, i = 1;
    while (i < n && count < MAX_FIELDS) {
        const uint8_t *name = p + i, *z = memchr(name, 0, n - i);
        size_t nl = z ? (size_t)(z - name) : n - i;
        i += nl + (z != NULL);
        const uint8_t *value = p + i;
        size_t vl = 0;
        if (i < n) {
            z = memchr(value, 0, n - i);
            vl = z ? (size_t)(z - value) : n - i;
            i += vl + (z != NULL);
        }
        fields[count++] = (skiff_h3_field){name, nl, value, vl};
    }
    skiff_h3_message_info info;
    const char *why = NULL;
    uint64_t rc = skiff_h3_message_validate(kind, fields, count, ext, &info, &why);
    if (rc != 0 && (rc != SKIFF_H3_MESSAGE_ERROR || !why)) abort();
    if (rc == 0 && why) abort();
    if (rc == 0 && kind == SKIFF_H3_SECTION_RESPONSE && (info.status < 100 || info.status > 599))
        abort();
}

static void on_event(const skiff_h3_frame_event *ev, uint64_t *h)
{
    uint8_t k = (uint8_t)ev->kind;
    switch (ev->kind) {
    case SKIFF_H3_EVENT_NONE:
        return;
    case SKIFF_H3_EVENT_START:
        mix(h, &k, 1);
        mix(h, &ev->type, 8);
        mix(h, &ev->length, 8);
        return;
    case SKIFF_H3_EVENT_DATA:
        mix(h, ev->payload, ev->len);
        return;
    case SKIFF_H3_EVENT_ERROR:
        mix(h, &k, 1);
        mix(h, &ev->error, 8);
        return;
    case SKIFF_H3_EVENT_FRAME:
        break;
    }
    mix(h, &k, 1);
    mix(h, &ev->type, 8);
    mix(h, ev->payload, ev->len);
    uint64_t v;
    skiff_h3_settings s;
    switch (ev->type) {
    case SKIFF_H3_FRAME_SETTINGS: {
        uint64_t rc = skiff_h3_settings_decode(ev->payload, ev->len, &s);
        if (rc != 0 && rc != SKIFF_H3_SETTINGS_ERROR && rc != SKIFF_H3_FRAME_ERROR) abort();
        if (rc == 0) {
            /* What decodes re-encodes and decodes to the same settings. */
            uint8_t out[128];
            skiff_h3_settings again;
            skiff_ssize n = skiff_h3_settings_encode(out, sizeof out, &s, 0, 0);
            if (n < 2 || skiff_h3_settings_decode(out + 2, (size_t)n - 2, &again) != 0 ||
                s.qpack_max_table_capacity != again.qpack_max_table_capacity ||
                s.max_field_section_size != again.max_field_section_size ||
                s.qpack_blocked_streams != again.qpack_blocked_streams ||
                s.enable_connect_protocol != again.enable_connect_protocol ||
                s.h3_datagram != again.h3_datagram)
                abort();
        }
        break;
    }
    case SKIFF_H3_FRAME_GOAWAY:
    case SKIFF_H3_FRAME_MAX_PUSH_ID:
    case SKIFF_H3_FRAME_CANCEL_PUSH: {
        uint64_t rc = skiff_h3_frame_varint_decode(ev->payload, ev->len, &v);
        if (rc != 0 && rc != SKIFF_H3_FRAME_ERROR) abort();
        break;
    }
    case SKIFF_H3_FRAME_HEADERS:
        check_headers(ev->payload, ev->len);
        break;
    default:
        break;
    }
}

/* Feeds the stream in chunks (chunk 0: sizes from seed); returns the hash. */
static uint64_t run(const uint8_t *in, size_t len, size_t max_payload, size_t chunk, uint32_t seed)
{
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, max_payload);
    uint64_t h = 0xcbf29ce484222325u;
    size_t off = 0;
    bool failed = false;
    while (off < len && !failed) {
        seed = seed * 1103515245u + 12345u;
        size_t n = chunk ? chunk : 1 + (seed >> 16) % 64;
        if (n > len - off) n = len - off;
        uint8_t *c = malloc(n);
        if (!c) abort();
        memcpy(c, in + off, n);
        size_t used = 0;
        skiff_h3_frame_event ev;
        do {
            size_t k = skiff_h3_frame_reader_feed(&r, c + used, n - used, &ev);
            if (k > n - used) abort();
            used += k;
            on_event(&ev, &h);
        } while (ev.kind != SKIFF_H3_EVENT_NONE && ev.kind != SKIFF_H3_EVENT_ERROR);
        failed = ev.kind == SKIFF_H3_EVENT_ERROR;
        if (!failed && used != n) abort();
        free(c);
        off += n;
    }
    bool b = skiff_h3_frame_reader_at_boundary(&r);
    mix(&h, &b, 1);
    skiff_h3_frame_reader_free(&r);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const size_t limits[8] = {0, 1, 8, 16, 64, 256, 4096, 65536};
    size_t max_payload = limits[data[0] & 7];
    uint32_t seed = data[0] >> 3;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    uint64_t chunked = run(in, len, max_payload, 0, seed);
    uint64_t whole = run(in, len, max_payload, len ? len : 1, 0);
    if (chunked != whole) abort();
    return 0;
}
