/*
 * A server for lifecycle tests: it accepts connections and, a given time
 * after each handshake, closes it with an application error code and reason
 * (seed 003's CloseWithError), then prints how each connection ended.
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

static void on_handshake_done(skiff_conn *c, void *ud)
{
    (void)ud;
    pending = c;
    close_at = skiff_clock_now() + after;
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    (void)ud;
    char line[512];
    printf("closer: %s\n", skiff_end_reason_format(why, line, sizeof line));
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
    after = SKIFF_MS(strtoull(argv[4], NULL, 10));
    code = strtoull(argv[5], NULL, 0);
    reason = argv[6];
    skiff_tls_credentials *creds;
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_SERVER, .cert_file = argv[2], .key_file = argv[3]};
    if (skiff_tls_credentials_new(&creds, &cc)) return 1;
    static const char *const alpn[] = {"hq-interop"};
    static const skiff_conn_callbacks cb = {.handshake_done = on_handshake_done, .closed = on_closed};
    uint8_t key[32] = {1};
    skiff_engine_config ec = {.callbacks = &cb};
    skiff_conn_config_default(&ec.conn);
    ec.conn.credentials = creds;
    ec.conn.alpn = alpn;
    ec.conn.alpn_count = 1;
    ec.conn.static_key = key;
    if (skiff_engine_new(&engine, &ec) || skiff_engine_listen(engine, argv[1])) return 1;
    char shown[64];
    printf("closer: listening on %s\n", skiff_addr_format(skiff_engine_local_addr(engine), shown, sizeof shown));
    fflush(stdout);
    skiff_time deadline = skiff_clock_now() + SKIFF_MS(15000);
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
