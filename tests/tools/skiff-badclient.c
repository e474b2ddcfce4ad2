/*
 * A misbehaving QUIC client for tests: it completes a handshake with a
 * server, then sends the frames given in hex, exactly as given, in a 1-RTT
 * packet, and prints how the connection ended. It shows that a server closes
 * the offending connection with the right code and serves the others on.
 *   usage: skiff-badclient ADDR:PORT HEXFRAMES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/engine.h"
#include "quic/conn_internal.h"

static uint8_t frames[256];
static size_t frames_len;
static skiff_engine *engine;
static skiff_conn *conn;
static int ended;

static void on_handshake_done(skiff_conn *c, void *ud)
{
    (void)ud;
    conn_test_inject(c, SKIFF_LEVEL_1RTT, frames, frames_len);
    skiff_engine_kick(engine, c);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    (void)c;
    (void)ud;
    char line[512];
    printf("badclient: %s\n", skiff_end_reason_format(why, line, sizeof line));
    fflush(stdout);
    ended = 1;
    skiff_engine_stop(engine);
}

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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: skiff-badclient ADDR:PORT HEXFRAMES\n");
        return 2;
    }
    frames_len = parse_hex(argv[2], frames, sizeof frames);
    skiff_tls_credentials *creds;
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_CLIENT, .insecure = true};
    if (skiff_tls_credentials_new(&creds, &cc)) return 1;
    static const char *const alpn[] = {"hq-interop"};
    static const skiff_conn_callbacks cb = {.handshake_done = on_handshake_done, .closed = on_closed};
    uint8_t key[32] = {0};
    skiff_engine_config ec = {.callbacks = &cb};
    skiff_conn_config_default(&ec.conn);
    ec.conn.credentials = creds;
    ec.conn.alpn = alpn;
    ec.conn.alpn_count = 1;
    ec.conn.server_name = "localhost";
    ec.conn.static_key = key;
    if (skiff_engine_new(&engine, &ec) || skiff_engine_connect(engine, argv[1], &conn)) return 1;
    skiff_engine_run(engine, skiff_clock_now() + SKIFF_MS(10000));
    skiff_engine_free(engine);
    skiff_tls_credentials_free(creds);
    return ended ? 0 : 1;
}
