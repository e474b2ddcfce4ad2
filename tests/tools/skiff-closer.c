/*
 * A server for lifecycle tests: it accepts connections and, a given time
 * after each handshake, closes it with an application error code and reason
 * (seed 003's CloseWithError; AFTER_MS -1: never), then prints how each
 * connection ended and how long after its handshake. CLOSER_IDLE_MS and
 * CLOSER_KEEP_ALIVE_MS in the environment set its idle timeout and
 * keep-alive period.
 *   usage: skiff-closer ADDR:PORT CERT KEY AFTER_MS CODE REASON
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/engine.h"

static skiff_engine *engine;
static uint64_t code;
static const char *reason;
static skiff_time after;
static skiff_conn *pending; /* the connection to close, and when */
static skiff_time close_at;
static int ended;
static skiff_time connected_at;

static void on_handshake_done(skiff_conn *c, void *ud)
{
    (void)ud;
    connected_at = skiff_clock_now();
    if (after == SKIFF_TIME_NEVER) return;
    pending = c;
    close_at = connected_at + after;
}

/* Any request gets an empty response, so clients go on to hold the connection. */
static void on_readable(skiff_conn *c, uint64_t id, void *ud)
{
    (void)ud;
    uint8_t buf[512];
    bool fin = false;
    for (int guard = 0; guard < 16; guard++) {
        skiff_ssize n = skiff_conn_stream_read(c, id, buf, sizeof buf, &fin);
        if (n <= 0 || fin) break;
    }
    if (fin) skiff_conn_stream_write(c, id, NULL, 0, true);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    (void)ud;
    char line[512];
    printf("closer: %s\n", skiff_end_reason_format(why, line, sizeof line));
    printf("closer: ended %.3f s after the handshake\n", (skiff_clock_now() - connected_at) / 1e9);
    fflush(stdout);
    if (c == pending) pending = NULL;
    ended++;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: skiff-closer ADDR:PORT CERT KEY AFTER_MS CODE REASON\n");
        return 2;
    }
    after = argv[4][0] == '-' ? SKIFF_TIME_NEVER : SKIFF_MS(strtoull(argv[4], NULL, 10));
    code = strtoull(argv[5], NULL, 0);
    reason = argv[6];
    skiff_tls_credentials *creds;
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_SERVER, .cert_file = argv[2], .key_file = argv[3]};
    if (skiff_tls_credentials_new(&creds, &cc)) return 1;
    static const char *const alpn[] = {"hq-interop"};
    static const skiff_conn_callbacks cb = {.handshake_done = on_handshake_done,
                                            .stream_readable = on_readable, .closed = on_closed};
    uint8_t key[32] = {1};
    skiff_engine_config ec = {.callbacks = &cb};
    skiff_conn_config_default(&ec.conn);
    ec.conn.credentials = creds;
    ec.conn.alpn = alpn;
    ec.conn.alpn_count = 1;
    ec.conn.static_key = key;
    const char *idle = getenv("CLOSER_IDLE_MS"), *keep = getenv("CLOSER_KEEP_ALIVE_MS");
    if (idle) ec.conn.idle_timeout = SKIFF_MS(strtoull(idle, NULL, 10));
    if (keep) ec.conn.keep_alive = SKIFF_MS(strtoull(keep, NULL, 10));
    if (skiff_engine_new(&engine, &ec) || skiff_engine_listen(engine, argv[1])) return 1;
    char shown[64];
    printf("closer: listening on %s\n", skiff_addr_format(skiff_engine_local_addr(engine), shown, sizeof shown));
    fflush(stdout);
    skiff_time deadline = skiff_clock_now() + SKIFF_MS(40000);
    while (!ended && skiff_clock_now() < deadline) {
        skiff_engine_run(engine, skiff_clock_now() + SKIFF_MS(20));
        if (pending && skiff_clock_now() >= close_at) {
            skiff_conn *c = pending; /* the closed callback clears `pending` */
            skiff_conn_close(c, code, reason, skiff_clock_now());
            skiff_engine_kick(engine, c);
        }
    }
    skiff_engine_run(engine, skiff_clock_now() + SKIFF_MS(200)); /* let the close go out */
    skiff_engine_free(engine);
    skiff_tls_credentials_free(creds);
    return ended ? 0 : 1;
}
