/*
 * `skiff serve`: serves the files under ROOT over QUIC, in HTTP/3 (serve_h3.c)
 * or hq-interop (serve_hq.c) as each connection's ALPN chose; both are
 * offered by default. SIGTERM or SIGINT stops it gracefully: every HTTP/3
 * connection gets a GOAWAY and finishes the requests in flight, hq-interop
 * ones are closed, and the process exits once they are gone (or after 10 s).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"
#include "tool.h"

static volatile sig_atomic_t stop_requested;

/* The state of a connection, made at its first event; HTTP/3 is attached
 * as soon as TLS has chosen h3 (at the handshake, or earlier for 0-RTT). */
static serve_conn *conn_state(serve_ctx *ctx, skiff_conn *c)
{
    serve_conn *sc = skiff_conn_app_data(c);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc) return NULL;
        sc->conn = c;
        sc->ctx = ctx;
        sc->next = ctx->conns;
        if (sc->next) sc->next->prev = sc;
        ctx->conns = sc;
        skiff_conn_set_app_data(c, sc);
    }
    if (!sc->h3 && !strcmp(skiff_conn_alpn(c), "h3")) {
        int rv = serve_h3_attach(ctx, sc);
        if (rv) {
            fprintf(stderr, "skiff serve: HTTP/3: %s\n", tool_error_text(rv));
            skiff_conn_close(c, SKIFF_H3_INTERNAL_ERROR, "", skiff_conn_now(c));
            return NULL;
        }
        if (ctx->shutting_down) skiff_h3_shutdown(sc->h3);
    }
    return sc;
}

static void on_handshake_done(skiff_conn *c, void *ud)
{
    serve_ctx *ctx = ud;
    if (ctx->key_update) skiff_conn_key_update(c);
    if (skiff_conn_resumed(c))
        fprintf(stderr, "skiff serve: resumed session, 0-RTT %s\n", skiff_conn_early_data(c));
    conn_state(ctx, c);
}

static void on_opened(skiff_conn *c, uint64_t id, void *ud)
{
    serve_ctx *ctx = ud;
    serve_conn *sc = conn_state(ctx, c);
    if (sc && sc->h3) skiff_h3_conn_on_opened(sc->h3, id);
    else if (sc) serve_hq_opened(ctx, sc, id);
}

static void on_readable(skiff_conn *c, uint64_t id, void *ud)
{
    serve_ctx *ctx = ud;
    serve_conn *sc = conn_state(ctx, c);
    if (!sc) return;
    if (sc->h3) skiff_h3_conn_on_readable(sc->h3, id);
    else serve_hq_readable(ctx, sc, id);
}

static void on_writable(skiff_conn *c, uint64_t id, void *ud)
{
    serve_ctx *ctx = ud;
    serve_conn *sc = skiff_conn_app_data(c);
    if (!sc) return;
    if (sc->h3) skiff_h3_conn_on_writable(sc->h3, id);
    else serve_hq_writable(ctx, sc, id);
}

static void on_reset(skiff_conn *c, uint64_t id, uint64_t code, void *ud)
{
    (void)ud;
    serve_conn *sc = skiff_conn_app_data(c);
    if (sc && sc->h3) skiff_h3_conn_on_reset(sc->h3, id, code);
}

static void on_stopped(skiff_conn *c, uint64_t id, uint64_t code, void *ud)
{
    (void)ud;
    serve_conn *sc = skiff_conn_app_data(c);
    if (sc && sc->h3) skiff_h3_conn_on_stop_sending(sc->h3, id, code);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    serve_ctx *ctx = ud;
    uint64_t initiated, followed;
    skiff_conn_key_update_counts(c, &initiated, &followed);
    if (initiated || followed)
        fprintf(stderr, "skiff serve: key updates: initiated %llu, followed %llu\n",
                (unsigned long long)initiated, (unsigned long long)followed);
    serve_conn *sc = skiff_conn_app_data(c);
    if (sc) {
        /* The close may come from inside the HTTP/3 layer (a connection
         * error it raised): its state is freed later, from the loop. */
        if (sc->h3) skiff_h3_conn_on_closed(sc->h3, SKIFF_H3_NO_ERROR);
        if (sc->prev) sc->prev->next = sc->next;
        else ctx->conns = sc->next;
        if (sc->next) sc->next->prev = sc->prev;
        sc->conn = NULL;
        sc->prev = NULL;
        sc->next = ctx->ended;
        ctx->ended = sc;
        skiff_conn_set_app_data(c, NULL);
    }
    bool clean = why->kind == SKIFF_END_APPLICATION && (why->code == 0 || why->code == SKIFF_H3_NO_ERROR);
    if (!clean) {
        char line[512];
        fprintf(stderr, "skiff serve: connection ended: %s\n",
                skiff_end_reason_format(why, line, sizeof line));
    }
}

static void free_ended(serve_ctx *ctx)
{
    while (ctx->ended) {
        serve_conn *sc = ctx->ended;
        ctx->ended = sc->next;
        serve_h3_free(sc);
        serve_hq_free(sc);
        free(sc);
    }
}

/* GOAWAY on every HTTP/3 connection (they close themselves once drained),
 * CONNECTION_CLOSE on the others. */
static void begin_shutdown(serve_ctx *ctx)
{
    ctx->shutting_down = true;
    for (serve_conn *sc = ctx->conns, *next; sc; sc = next) {
        next = sc->next;
        if (sc->h3) skiff_h3_shutdown(sc->h3);
        else skiff_conn_close(sc->conn, 0, "server stopping", skiff_clock_now());
        skiff_engine_kick(ctx->engine, sc->conn);
    }
}

/* An HTTP/3 connection with no exchange left after its GOAWAY closes once
 * the client has acknowledged every byte (RFC 9114 §5.2). */
static void close_drained(serve_ctx *ctx)
{
    for (serve_conn *sc = ctx->conns, *next; sc; sc = next) {
        next = sc->next;
        if (sc->h3 && skiff_h3_is_drained(sc->h3) && !skiff_h3_is_closed(sc->h3) &&
            skiff_conn_quiescent(sc->conn)) {
            skiff_conn_close(sc->conn, SKIFF_H3_NO_ERROR, "", skiff_clock_now());
            skiff_engine_kick(ctx->engine, sc->conn);
        }
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char serve_usage[] =
    "usage: skiff serve [--listen ADDR:PORT] [--cert FILE --key FILE] [--alpn LIST]\n"
    "                   [--keylog FILE] [--idle-timeout DUR]\n"
    "                   [--handshake-timeout DUR] [--keep-alive DUR]\n"
    "                   [--tls13-ciphers LIST]\n"
    "                   [--key-update] [--retry] [--0rtt] [--reset-key HEX] ROOT\n"
    "Serves the files under ROOT over HTTP/3 and hq-interop (ALPNs h3,hq-interop;\n"
    "--alpn narrows the list). Without --cert, a fresh self-signed certificate for\n"
    "localhost is made at start. SIGTERM/SIGINT: GOAWAY, finish requests, exit.\n";

int skiff_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, 0, 'l'}, {"cert", required_argument, 0, 'c'},
        {"key", required_argument, 0, 'k'},    {"retry", no_argument, 0, 'R'},
        {"reset-key", required_argument, 0, 'X'},
        {"help", no_argument, 0, 'h'},         TOOL_OPTIONS_LONG, {0, 0, 0, 0}};
    const char *listen = "127.0.0.1:4433", *cert = NULL, *key = NULL;
    tool_options common;
    tool_options_init(&common);
    common.alpn = "h3,hq-interop";
    serve_ctx ctx = {0};
    bool retry = false;
    const char *reset_key = NULL; /* hex: keep stateless reset tokens across restarts */
    int opt, taken;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': listen = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'R': retry = true; break;
        case 'X': reset_key = optarg; break;
        case 'h': fputs(serve_usage, stdout); return 0;
        default:
            if ((taken = tool_options_parse(&common, opt, optarg)) > 0) break;
            if (taken < 0) return 1;
            fputs(serve_usage, stderr);
            return 2;
        }
    }
    ctx.key_update = common.key_update;
    if (optind != argc - 1) {
        fputs(serve_usage, stderr);
        return 2;
    }
    if (!!cert != !!key) return tool_fail("--cert and --key go together");
    ctx.root = argv[optind];
    struct stat st;
    if (stat(ctx.root, &st) != 0 || !S_ISDIR(st.st_mode))
        return tool_fail("%s: not a directory", ctx.root);

    uint8_t *cert_pem = NULL, *key_pem = NULL;
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_SERVER, .cert_file = cert, .key_file = key,
                                       .priority = tool_options_priority(&common)};
    if (!cert) {
        if (skiff_tls_self_signed(time(NULL), &cert_pem, &cc.cert_pem_len, &key_pem, &cc.key_pem_len))
            return tool_fail("cannot make a certificate");
        cc.cert_pem = cert_pem;
        cc.key_pem = key_pem;
    }
    skiff_tls_credentials *creds = NULL;
    int rv = skiff_tls_credentials_new(&creds, &cc);
    free(cert_pem);
    free(key_pem);
    if (rv) return tool_fail("certificate: %s", skiff_strerror(rv));

    static const skiff_conn_callbacks cb = {
        .handshake_done = on_handshake_done, .stream_opened = on_opened, .stream_readable = on_readable,
        .stream_writable = on_writable, .stream_reset = on_reset, .stream_stopped = on_stopped, .closed = on_closed};
    skiff_engine_config ec = {.callbacks = &cb, .user_data = &ctx, .keylog_file = common.keylog,
                              .require_retry = retry};
    if (tool_options_apply(&common, &ec.conn) ||
        (reset_key && tool_parse_hex_key(reset_key, common.static_key, sizeof common.static_key))) {
        if (reset_key) tool_fail("bad --reset-key: want %zu bytes in hex", sizeof common.static_key);
        skiff_tls_credentials_free(creds);
        tool_options_free(&common);
        return 1;
    }
    ec.conn.credentials = creds;

    rv = skiff_engine_new(&ctx.engine, &ec);
    if (!rv) rv = skiff_engine_listen(ctx.engine, listen);
    if (rv) {
        skiff_engine_free(ctx.engine);
        skiff_tls_credentials_free(creds);
        tool_options_free(&common);
        return tool_fail("cannot listen on %s: %s", listen, tool_error_text(rv));
    }
    char shown[64];
    printf("skiff serve: listening on %s (alpn %s), serving %s\n",
           skiff_addr_format(skiff_engine_local_addr(ctx.engine), shown, sizeof shown), common.alpn,
           ctx.root);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop_requested) {
        skiff_engine_run(ctx.engine, skiff_clock_now() + SKIFF_MS(200));
        free_ended(&ctx);
    }
    begin_shutdown(&ctx);
    size_t left = skiff_engine_connection_count(ctx.engine);
    if (left) fprintf(stderr, "skiff serve: stopping: GOAWAY sent on %zu connections\n", left);
    skiff_time give_up = skiff_clock_now() + SKIFF_MS(10000);
    while (skiff_engine_connection_count(ctx.engine) && skiff_clock_now() < give_up) {
        skiff_engine_run(ctx.engine, skiff_clock_now() + SKIFF_MS(20));
        free_ended(&ctx);
        close_drained(&ctx);
    }
    uint64_t retries = skiff_engine_retries_sent(ctx.engine);
    uint64_t resets = skiff_engine_resets_sent(ctx.engine);
    skiff_engine_free(ctx.engine);
    /* Connections still open when the engine went away never reported an end. */
    while (ctx.conns) {
        serve_conn *sc = ctx.conns;
        ctx.conns = sc->next;
        sc->next = ctx.ended;
        ctx.ended = sc;
    }
    free_ended(&ctx);
    skiff_tls_credentials_free(creds);
    tool_options_free(&common);
    fprintf(stderr, "skiff serve: stopped after %lu requests, %llu retries, %llu stateless resets\n",
            ctx.requests, (unsigned long long)retries, (unsigned long long)resets);
    return 0;
}
