/*
 * A misbehaving HTTP/3 client for tests: it completes a QUIC handshake with
 * ALPN h3, then writes raw bytes on streams it opens, exactly as given (no
 * HTTP/3 layer to correct them), and prints how the connection ended. Each
 * STREAM argument is KIND:HEX with KIND one of uni, uni-fin, bidi, bidi-fin
 * (-fin ends the stream after the bytes).
 *   usage: skiff-h3bad ADDR:PORT STREAM...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/engine.h"

static skiff_engine *engine;
static int ended;
static char **specs;
static int spec_count;

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void on_handshake_done(skiff_conn *c, void *ud)
{
    (void)ud;
    for (int i = 0; i < spec_count; i++) {
        const char *colon = strchr(specs[i], ':');
        if (!colon) continue;
        bool bidi = !strncmp(specs[i], "bidi", 4);
        bool fin = strstr(specs[i], "-fin:") != NULL;
        uint8_t bytes[512];
        size_t n = parse_hex(colon + 1, bytes, sizeof bytes);
        uint64_t id;
        if (skiff_conn_stream_open(c, bidi, &id) != 0) {
            fprintf(stderr, "h3bad: cannot open stream %d\n", i);
            continue;
        }
        skiff_conn_stream_write(c, id, bytes, n, fin);
    }
    skiff_engine_kick(engine, c);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    (void)c, (void)ud;
    char line[512];
    printf("h3bad: %s\n", skiff_end_reason_format(why, line, sizeof line));
    fflush(stdout);
    ended = 1;
    skiff_engine_stop(engine);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: skiff-h3bad ADDR:PORT KIND:HEX...\n");
        return 2;
    }
    specs = argv + 2;
    spec_count = argc - 2;
    skiff_tls_credentials *creds;
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_CLIENT, .insecure = true};
    if (skiff_tls_credentials_new(&creds, &cc)) return 1;
    static const char *const alpn[] = {"h3"};
    static const skiff_conn_callbacks cb = {.handshake_done = on_handshake_done, .closed = on_closed};
    uint8_t key[32] = {0};
    skiff_engine_config ec = {.callbacks = &cb};
    skiff_conn_config_default(&ec.conn);
    ec.conn.credentials = creds;
    ec.conn.alpn = alpn;
    ec.conn.alpn_count = 1;
    ec.conn.server_name = "localhost";
    ec.conn.static_key = key;
    skiff_conn *conn;
    if (skiff_engine_new(&engine, &ec) || skiff_engine_connect(engine, argv[1], &conn)) return 1;
    skiff_engine_run(engine, skiff_clock_now() + SKIFF_MS(10000));
    skiff_engine_free(engine);
    skiff_tls_credentials_free(creds);
    return ended ? 0 : 1;
}
