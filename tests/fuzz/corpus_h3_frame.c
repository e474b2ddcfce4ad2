/*
 * Seeds for the h3_frame fuzz target: byte 0 picks max_payload and the
 * chunking (see h3_frame_fuzz.c), then the frames of one HTTP/3 stream,
 * written with the library's own encoders. HEADERS payloads use the target's
 * crude field layout: a kind byte (0 request, 1 response, 2 trailers; +4
 * allows extended CONNECT), then name NUL value NUL ...
 */
#include <string.h>

#include "corpus.h"
#include "h3/h3_frame.h"

typedef struct seed {
    uint8_t p[4096];
    size_t len;
} seed;

static void start(seed *s, uint8_t config)
{
    s->p[0] = config;
    s->len = 1;
}

static void add_raw(seed *s, const void *p, size_t n)
{
    if (n > sizeof s->p - s->len) return;
    memcpy(s->p + s->len, p, n);
    s->len += n;
}

static void add_frame(seed *s, uint64_t type, const void *payload, size_t n)
{
    uint8_t h[16];
    skiff_ssize hl = skiff_h3_frame_header_encode(h, sizeof h, type, n);
    if (hl < 0) return;
    add_raw(s, h, (size_t)hl);
    add_raw(s, payload, n);
}

static void add_varint_frame(seed *s, uint64_t type, uint64_t value)
{
    uint8_t f[16];
    skiff_ssize n = skiff_h3_frame_varint_encode(f, sizeof f, type, value);
    if (n > 0) add_raw(s, f, (size_t)n);
}

/* A HEADERS frame from a kind byte and name/value strings (NULL-ended). */
static void add_headers(seed *s, uint8_t kind, const char *const *kv)
{
    uint8_t payload[1024];
    size_t n = 0;
    payload[n++] = kind;
    for (size_t i = 0; kv[i]; i++) {
        size_t l = strlen(kv[i]);
        if (n + l + 1 > sizeof payload) break;
        memcpy(payload + n, kv[i], l);
        n += l;
        payload[n++] = 0;
    }
    add_frame(s, SKIFF_H3_FRAME_HEADERS, payload, n);
}

#define FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void write_seed(const seed *s)
{
    corpus_write_seed("h3_frame", s->p, s->len);
}

void corpus_h3_frame_seeds(void)
{
    seed s;

    /* A control stream: SETTINGS with every setting and grease, GOAWAY, a
     * grease frame, MAX_PUSH_ID, CANCEL_PUSH. */
    skiff_h3_settings set = {.qpack_max_table_capacity = 4096,
                             .max_field_section_size = 16384,
                             .qpack_blocked_streams = 100,
                             .enable_connect_protocol = true,
                             .h3_datagram = true};
    uint8_t buf[128];
    start(&s, 0x05);
    skiff_ssize n = skiff_h3_settings_encode(buf, sizeof buf, &set, skiff_h3_grease_value(9), 7);
    if (n > 0) add_raw(&s, buf, (size_t)n);
    add_varint_frame(&s, SKIFF_H3_FRAME_GOAWAY, 0x40);
    add_frame(&s, skiff_h3_grease_value(77), "grease", 6);
    add_varint_frame(&s, SKIFF_H3_FRAME_MAX_PUSH_ID, 1000);
    add_varint_frame(&s, SKIFF_H3_FRAME_CANCEL_PUSH, 3);
    write_seed(&s);

    /* An empty SETTINGS alone. */
    skiff_h3_settings def;
    skiff_h3_settings_default(&def);
    start(&s, 0x0c);
    n = skiff_h3_settings_encode(buf, sizeof buf, &def, 0, 0);
    if (n > 0) add_raw(&s, buf, (size_t)n);
    write_seed(&s);

    /* A request stream: HEADERS, DATA, DATA. */
    start(&s, 0x2d);
    add_headers(&s, 0,
                FIELDS(":method", "POST", ":scheme", "https", ":authority", "example.com", ":path",
                       "/upload", "content-type", "text/plain", "content-length", "11"));
    add_frame(&s, SKIFF_H3_FRAME_DATA, "hello ", 6);
    add_frame(&s, SKIFF_H3_FRAME_DATA, "world", 5);
    write_seed(&s);

    /* A response stream: an interim response, the final one, a body, an
     * unknown frame, trailers. */
    start(&s, 0x16);
    add_headers(&s, 1, FIELDS(":status", "103", "link", "</style.css>; rel=preload"));
    add_headers(&s, 1, FIELDS(":status", "200", "content-length", "5, 5", "te", "trailers"));
    add_frame(&s, SKIFF_H3_FRAME_DATA, "body!", 5);
    add_frame(&s, 0x2a, "?", 1);
    add_headers(&s, 2, FIELDS("grpc-status", "0"));
    write_seed(&s);

    /* Extended CONNECT, then a long DATA frame (streamed past max_payload). */
    start(&s, 0x45);
    add_headers(&s, 4,
                FIELDS(":method", "CONNECT", ":protocol", "connect-udp", ":scheme", "https",
                       ":authority", "proxy.example", ":path",
                       "/.well-known/masque/udp/192.0.2.6/443/", "capsule-protocol", "?1"));
    uint8_t body[600];
    memset(body, 0xab, sizeof body);
    add_frame(&s, SKIFF_H3_FRAME_DATA, body, sizeof body);
    write_seed(&s);

    /* Plain CONNECT and OPTIONS *. */
    start(&s, 0x1e);
    add_headers(&s, 0, FIELDS(":method", "CONNECT", ":authority", "proxy.example:443"));
    add_headers(
        &s, 0,
        FIELDS(":method", "OPTIONS", ":scheme", "http", ":path", "*", "host", "example.com"));
    write_seed(&s);

    /* Malformed messages: each breaks one rule. */
    start(&s, 0x06);
    add_headers(&s, 0, FIELDS(":method", "GET", ":scheme", "https", "Host", "x", ":path", "/"));
    add_headers(&s, 0,
                FIELDS(":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/",
                       "connection", "close"));
    add_headers(&s, 1, FIELDS(":status", "101"));
    add_headers(&s, 0,
                FIELDS(":method", "GET", ":protocol", "ws", ":scheme", "https", ":authority", "u@a",
                       ":path", "/", "content-length", "1, 2"));
    write_seed(&s);

    /* The HTTP/2-only types, a reserved type with an 8-byte length, and the
     * one-varint frames cut short or with a byte too many. */
    start(&s, 0x04);
    add_frame(&s, 0x02, "\x00\x00\x00\x00\x10", 5);
    add_frame(&s, 0x06, "pingping", 8);
    add_frame(&s, 0x08, "\x00\x00\x10\x00", 4);
    add_frame(&s, 0x09, "", 0);
    add_raw(&s, "\x21\xc0\x00\x00\x00\x00\x00\x00\x02zz", 11);
    add_frame(&s, SKIFF_H3_FRAME_GOAWAY, "\x40", 1);
    add_frame(&s, SKIFF_H3_FRAME_CANCEL_PUSH, "\x01\x02", 2);
    add_frame(&s, SKIFF_H3_FRAME_PUSH_PROMISE, "\x00\x00\x00", 3);
    write_seed(&s);

    /* A SETTINGS frame with an HTTP/2 identifier and one with a duplicate. */
    start(&s, 0x03);
    add_frame(&s, SKIFF_H3_FRAME_SETTINGS, "\x02\x01", 2);
    write_seed(&s);
    start(&s, 0x03);
    add_frame(&s, SKIFF_H3_FRAME_SETTINGS, "\x06\x10\x01\x00\x06\x20", 6);
    write_seed(&s);

    /* HEADERS longer than a small max_payload: H3_EXCESSIVE_LOAD. */
    start(&s, 0x02);
    add_headers(&s, 1, FIELDS(":status", "200", "server", "skiff"));
    write_seed(&s);
}
