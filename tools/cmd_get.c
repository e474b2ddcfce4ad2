/*
 * `skiff get`: downloads one or more https URLs of one server over a single
 * QUIC connection, in parallel streams, byte-exact: HTTP/3 by default
 * (get_h3.c), hq-interop with --alpn hq-interop (get_hq.c). Exit status 0
 * only when every download completed (and, with -f, none had a status of
 * 400 or more, which gives 22 as curl does).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "get.h"
#include "tool.h"

#define MAX_URLS 100000

/* https://host[:port]/path → "host:port" and "/path". */
static int parse_url(const char *url, char *authority, size_t acap, char *host, size_t hcap,
                     char *path, size_t pcap, char *as_written, size_t wcap)
{
    const char *p = url;
    if (strncmp(p, "https://", 8) != 0) return -1;
    p += 8;
    const char *slash = strchr(p, '/');
    size_t alen = slash ? (size_t)(slash - p) : strlen(p);
    if (alen == 0 || alen >= acap || alen >= hcap) return -1;
    memcpy(authority, p, alen);
    authority[alen] = 0;
    if (alen >= wcap) return -1;
    memcpy(as_written, p, alen);
    as_written[alen] = 0;
    snprintf(path, pcap, "%s", slash ? slash : "/");
    /* host without port, for the certificate check */
    const char *hend = authority[0] == '[' ? strchr(authority, ']') : strrchr(authority, ':');
    size_t hlen = hend ? (size_t)(hend - authority) + (authority[0] == '[') : alen;
    if (authority[0] == '[') {
        memcpy(host, authority + 1, hlen - 2);
        host[hlen - 2] = 0;
    } else {
        memcpy(host, authority, hlen);
        host[hlen] = 0;
    }
    bool has_port = authority[0] == '[' ? (hend && hend[1] == ':') : hend != NULL;
    if (!has_port) {
        if (alen + 4 >= acap) return -1;
        strcat(authority, ":443");
    }
    return 0;
}

/* Opens the download's output; buffered, because data arrives packet by packet. */
int get_open_output(get_ctx *ctx, download *d)
{
    if (ctx->to_stdout) {
        d->out = stdout;
        return 0;
    }
    d->out = fopen(d->out_path, "wbe");
    if (!d->out) return tool_fail("%s: %s", d->out_path, strerror(errno));
    setvbuf(d->out, NULL, _IOFBF, 1 << 16);
    return 0;
}

download *get_find(get_ctx *ctx, uint64_t id)
{
    /* Streams are opened in order: client bidi IDs are 0, 4, 8, ... */
    size_t index = (size_t)(id / 4);
    if (index < ctx->count && ctx->downloads[index].started && ctx->downloads[index].stream_id == id)
        return &ctx->downloads[index];
    for (size_t i = 0; i < ctx->next; i++)
        if (ctx->downloads[i].stream_id == id) return &ctx->downloads[i];
    return NULL;
}

static bool is_h3(const get_ctx *ctx) { return ctx->h3 != NULL; }

static void start_downloads(get_ctx *ctx)
{
    if (is_h3(ctx)) get_h3_start(ctx);
    else get_hq_start(ctx);
}

void get_finish(get_ctx *ctx, download *d, bool ok)
{
    d->done = true;
    ctx->finished++;
    ctx->active--;
    if (!ok) ctx->failed++;
    if (d->out && fflush(d->out) != 0) {
        fprintf(stderr, "skiff get: %s: %s\n", d->out_path, strerror(errno));
        if (ok) ctx->failed++;
    }
    if (d->out && d->out != stdout) fclose(d->out);
    d->out = NULL;
    if (ctx->finished == ctx->count) {
        /* A server may send its session ticket after the last response:
         * wait for it a moment when asked to keep one. */
        if (ctx->session_file && !ctx->got_ticket) {
            ctx->ticket_wait_until = skiff_clock_now() + SKIFF_MS(500);
            return;
        }
        skiff_conn_close(ctx->conn, ctx->h3 ? SKIFF_H3_NO_ERROR : 0, "", skiff_clock_now());
        skiff_engine_kick(ctx->engine, ctx->conn);
    } else {
        start_downloads(ctx);
    }
}

static void replay_early_streams(get_ctx *ctx);

static void on_handshake_done(skiff_conn *c, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    ctx->handshake_done = true;
    ctx->connected_at = skiff_clock_now();
    fprintf(stderr, "skiff get: connected, alpn %s, %s, handshake %.1f ms\n", skiff_conn_alpn(ctx->conn),
            skiff_conn_cipher_name(ctx->conn), (double)(ctx->connected_at - ctx->started_at) / 1e6);
    if (ctx->key_update) skiff_conn_key_update(ctx->conn);
    if (skiff_conn_retried(ctx->conn)) fprintf(stderr, "skiff get: address validated by a Retry\n");
    if (ctx->session_file)
        fprintf(stderr, "skiff get: resumed %s\n", skiff_conn_resumed(ctx->conn) ? "yes" : "no");
    if (!ctx->h3 && !strcmp(skiff_conn_alpn(ctx->conn), "h3")) {
        if (get_h3_attach(ctx)) {
            skiff_conn_close(ctx->conn, SKIFF_H3_INTERNAL_ERROR, "", skiff_clock_now());
            return;
        }
        replay_early_streams(ctx);
    }
    start_downloads(ctx);
}

/* Keeps the newest ticket: written to a temporary file, then renamed. */
static void on_session_ticket(skiff_conn *c, const uint8_t *data, size_t len, void *ud)
{
    get_ctx *ctx = ud;
    if (!ctx->session_file) return;
    ctx->got_ticket = true;
    if (ctx->ticket_wait_until) {
        ctx->ticket_wait_until = 0;
        skiff_conn_close(c, ctx->h3 ? SKIFF_H3_NO_ERROR : 0, "", skiff_clock_now());
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", ctx->session_file);
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    bool ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0 || !ok || rename(tmp, ctx->session_file) != 0) unlink(tmp);
}

/* Reads a saved session into *data (malloc'd). Returns its length, 0 when there is none. */
static size_t load_session(const char *path, uint8_t **data)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint8_t *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (n == 0 || n == 65536) {
        free(buf);
        return 0;
    }
    *data = buf;
    return n;
}

static void on_streams_available(skiff_conn *c, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_streams_available(ctx->h3);
    else if (ctx->handshake_done) start_downloads(ctx);
}

static void on_readable(skiff_conn *c, uint64_t id, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_readable(ctx->h3, id);
    else get_hq_readable(ctx, id);
}

static void on_opened(skiff_conn *c, uint64_t id, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_opened(ctx->h3, id);
    else if (!ctx->handshake_done && ctx->early_count < sizeof ctx->early_streams / sizeof ctx->early_streams[0])
        ctx->early_streams[ctx->early_count++] = id;
}

/* Tells a freshly attached HTTP/3 connection about the streams that came first. */
static void replay_early_streams(get_ctx *ctx)
{
    for (size_t i = 0; i < ctx->early_count && ctx->h3; i++) {
        skiff_h3_conn_on_opened(ctx->h3, ctx->early_streams[i]);
        skiff_h3_conn_on_readable(ctx->h3, ctx->early_streams[i]);
    }
    ctx->early_count = 0;
}

static void on_writable(skiff_conn *c, uint64_t id, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_writable(ctx->h3, id);
}

static void on_reset(skiff_conn *c, uint64_t id, uint64_t code, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_reset(ctx->h3, id, code);
    else get_hq_reset(ctx, id, code);
}

static void on_stopped(skiff_conn *c, uint64_t id, uint64_t code, void *ud)
{
    get_ctx *ctx = ud;
    (void)c;
    if (is_h3(ctx)) skiff_h3_conn_on_stop_sending(ctx->h3, id, code);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    get_ctx *ctx = ud;
    ctx->closed = true;
    ctx->end = *why;
    if (ctx->h3) skiff_h3_conn_on_closed(ctx->h3, why->kind == SKIFF_END_APPLICATION ? why->code : SKIFF_H3_INTERNAL_ERROR);
    if (ctx->session_file) fprintf(stderr, "skiff get: 0-RTT %s\n", skiff_conn_early_data(c));
    uint64_t initiated, followed;
    skiff_conn_key_update_counts(c, &initiated, &followed);
    if (initiated || followed || ctx->key_update)
        fprintf(stderr, "skiff get: key updates: initiated %llu, followed %llu\n",
                (unsigned long long)initiated, (unsigned long long)followed);
    skiff_engine_stop(ctx->engine);
}

static const char get_usage[] =
    "usage: skiff get [-o FILE | -O DIR] [--cacert FILE | --insecure] [--alpn LIST]\n"
    "                 [--keylog FILE] [--idle-timeout DUR]\n"
    "                 [--handshake-timeout DUR] [--keep-alive DUR]\n"
    "                 [--tls13-ciphers LIST]\n"
    "                 [--key-update] [--session-file FILE [--0rtt]]\n"
    "                 [-v] [-I] [-f] [-X METHOD] [-H 'Name: value']... [--parallel-max N] URL...\n"
    "Downloads the URLs (all of one server) over one QUIC connection: HTTP/3 (ALPN h3)\n"
    "by default, HTTP/0.9 with --alpn hq-interop.\n"
    "  -v                print the request and response headers on stderr\n"
    "  -I, --head        send HEAD and print the response headers\n"
    "  -f, --fail        exit 22 when a response has a status of 400 or more\n"
    "  -X, --request M   the request method (default GET)\n"
    "  -H, --header H    an extra request header, \"Name: value\" (up to 32)\n"
    "  --parallel-max N  requests in flight at once (default 100)\n";

/* Where each download goes: -o FILE, -O DIR/basename, or stdout. */
static void name_outputs(get_ctx *ctx, const char *out_file, const char *out_dir)
{
    for (size_t i = 0; i < ctx->count; i++) {
        download *d = &ctx->downloads[i];
        if (ctx->to_stdout) {
            snprintf(d->out_path, sizeof d->out_path, "(stdout)");
        } else if (out_file) {
            snprintf(d->out_path, sizeof d->out_path, "%s", out_file);
        } else {
            const char *base = strrchr(d->path, '/');
            base = base && base[1] ? base + 1 : "index.html";
            snprintf(d->out_path, sizeof d->out_path, "%s/%s", out_dir, base);
        }
    }
}

int skiff_cmd_get(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"output-dir", required_argument, 0, 'O'},
        {"cacert", required_argument, 0, 'C'}, {"insecure", no_argument, 0, 'k'},
        {"session-file", required_argument, 0, 'S'}, {"help", no_argument, 0, 'h'},
        {"verbose", no_argument, 0, 'v'},      {"head", no_argument, 0, 'I'},
        {"fail", no_argument, 0, 'f'},         {"parallel-max", required_argument, 0, 'P'},
        {"request", required_argument, 0, 'X'}, {"header", required_argument, 0, 'E'},
        TOOL_OPTIONS_LONG, {0, 0, 0, 0}};
    const char *out_file = NULL, *out_dir = NULL, *cacert = NULL;
    tool_options common;
    tool_options_init(&common);
    common.alpn = "h3";
    bool insecure = false, verbose = false, head_only = false, fail_http = false;
    unsigned long parallel_max = 100;
    char *end;
    const char *method = NULL;
    char *header_names[32];
    const char *header_values[32];
    size_t header_count = 0;
    const char *session_file = NULL;
    int opt, taken;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:O:khvIfX:H:", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out_file = optarg; break;
        case 'O': out_dir = optarg; break;
        case 'C': cacert = optarg; break;
        case 'k': insecure = true; break;
        case 'S': session_file = optarg; break;
        case 'v': verbose = true; break;
        case 'I': head_only = true; break;
        case 'f': fail_http = true; break;
        case 'P':
            parallel_max = strtoul(optarg, &end, 10);
            if (*end || parallel_max == 0 || parallel_max > 100000) return tool_fail("bad --parallel-max '%s'", optarg);
            break;
        case 'X': method = optarg; break;
        case 'H':
        case 'E': {
            /* curl's -H: "Name: value"; HTTP/3 wants the name in lowercase (RFC 9114 §4.2). */
            char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || header_count == 32) return tool_fail("bad -H '%s': want \"Name: value\"", optarg);
            *colon = 0;
            for (char *q = optarg; *q; q++) *q = (char)tolower((unsigned char)*q);
            const char *value = colon + 1;
            while (*value == ' ' || *value == '\t') value++;
            header_names[header_count] = optarg;
            header_values[header_count++] = value;
            break;
        }
        case 'h': fputs(get_usage, stdout); return 0;
        default:
            if ((taken = tool_options_parse(&common, opt, optarg)) > 0) break;
            if (taken < 0) return 1;
            fputs(get_usage, stderr);
            return 2;
        }
    }
    size_t count = (size_t)(argc - optind);
    if (count == 0 || count > MAX_URLS) {
        fputs(get_usage, stderr);
        return 2;
    }
    if (out_file && out_dir) return tool_fail("-o and -O go apart");
    if (out_file && count > 1) return tool_fail("-o takes one URL; use -O DIR for several");

    get_ctx ctx = {.count = count, .to_stdout = !out_file && !out_dir, .key_update = common.key_update,
                   .session_file = session_file, .verbose = verbose, .head_only = head_only,
                   .fail_http = fail_http, .parallel_max = parallel_max, .method = method,
                   .header_count = header_count,
                   .progress = isatty(STDERR_FILENO) && !verbose};
    for (size_t i = 0; i < header_count; i++) {
        ctx.header_names[i] = header_names[i];
        ctx.header_values[i] = header_values[i];
    }
    uint8_t *session = NULL;
    size_t session_len = session_file ? load_session(session_file, &session) : 0;
    if (ctx.to_stdout && count > 1) return tool_fail("several URLs need -O DIR");
    ctx.downloads = calloc(count, sizeof *ctx.downloads);
    if (!ctx.downloads) return tool_fail("out of memory");
    char authority[300] = "", host[300] = "";
    for (size_t i = 0; i < count; i++) {
        char a[300], h[300], w[300];
        download *d = &ctx.downloads[i];
        d->url = argv[optind + (int)i];
        if (parse_url(d->url, a, sizeof a, h, sizeof h, d->path, sizeof d->path, w, sizeof w)) {
            free(ctx.downloads);
            return tool_fail("%s: not an https:// URL", d->url);
        }
        if (i == 0) {
            strcpy(authority, a);
            strcpy(host, h);
            strcpy(ctx.authority, w);
        } else if (strcmp(a, authority)) {
            free(ctx.downloads);
            return tool_fail("all URLs must name one server (%s, %s)", authority, a);
        }
    }
    name_outputs(&ctx, out_file, out_dir);
    int status = 0;
    /* Fail before connecting when the first output cannot be written. */
    if (!head_only && get_open_output(&ctx, &ctx.downloads[0])) status = 1;
    skiff_tls_credentials *creds = NULL;
    skiff_engine_config ec = {.user_data = &ctx, .keylog_file = common.keylog};
    if (!status) status = tool_options_apply(&common, &ec.conn);
    if (!status) {
        skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_CLIENT, .ca_file = cacert, .insecure = insecure,
                                           .priority = tool_options_priority(&common)};
        int rv = skiff_tls_credentials_new(&creds, &cc);
        if (rv) status = tool_fail("trust anchors: %s", skiff_strerror(rv));
    }
    if (!status) {
        static const skiff_conn_callbacks cb = {.handshake_done = on_handshake_done,
                                                .stream_opened = on_opened,
                                                .stream_readable = on_readable,
                                                .stream_writable = on_writable,
                                                .stream_reset = on_reset, .stream_stopped = on_stopped,
                                                .streams_available = on_streams_available,
                                                .session_ticket = on_session_ticket,
                                                .closed = on_closed};
        ec.callbacks = &cb;
        ec.conn.credentials = creds;
        ec.conn.server_name = host;
        ec.conn.session_data = session;
        ec.conn.session_data_len = session_len;
        char target[320];
        snprintf(target, sizeof target, "%s", authority);
        if (!strncmp(target, "localhost:", 10)) snprintf(target, sizeof target, "127.0.0.1:%s", authority + 10);
        ctx.started_at = skiff_clock_now();
        int rv = skiff_engine_new(&ctx.engine, &ec);
        if (!rv) rv = skiff_engine_connect(ctx.engine, target, &ctx.conn);
        if (rv) status = tool_fail("cannot connect to %s: %s", authority, tool_error_text(rv));
        /* Resuming with 0-RTT: the requests go out in the first flight. */
        if (!status && skiff_conn_early_data_possible(ctx.conn)) {
            if (!strcmp(ec.conn.alpn[0], "h3") && get_h3_attach(&ctx)) status = 1;
            if (!status) start_downloads(&ctx);
            skiff_engine_kick(ctx.engine, ctx.conn);
        }
        /* The connection's own timers (handshake, idle) bound this loop. */
        while (!status && !ctx.closed) {
            skiff_engine_run(ctx.engine, skiff_clock_now() + SKIFF_MS(100));
            get_progress_tick(&ctx, false);
            if (ctx.ticket_wait_until && skiff_clock_now() >= ctx.ticket_wait_until) {
                ctx.ticket_wait_until = 0;
                skiff_conn_close(ctx.conn, ctx.h3 ? SKIFF_H3_NO_ERROR : 0, "", skiff_clock_now());
                skiff_engine_kick(ctx.engine, ctx.conn);
            }
        }
        get_progress_tick(&ctx, true);
        if (!status && ctx.finished == ctx.count && ctx.failed == 0) {
            status = 0;
            double secs = (double)(skiff_clock_now() - (ctx.connected_at ? ctx.connected_at : ctx.started_at)) / 1e9;
            if (ctx.count > 1 || ctx.total_bytes >= 1000000)
                fprintf(stderr, "skiff get: %zu response%s, %llu bytes in %.3f s, %.1f MB/s\n", ctx.count, ctx.count == 1 ? "" : "s",
                        (unsigned long long)ctx.total_bytes, secs, secs > 0 ? (double)ctx.total_bytes / secs / 1e6 : 0.0);
        } else if (!status) {
            char line[512];
            bool clean = ctx.end.kind == SKIFF_END_APPLICATION && !ctx.end.remote &&
                         (ctx.end.code == 0 || ctx.end.code == SKIFF_H3_NO_ERROR);
            if (ctx.end.kind != SKIFF_END_NONE && !clean)
                fprintf(stderr, "skiff get: %s\n", skiff_end_reason_format(&ctx.end, line, sizeof line));
            status = tool_fail("%zu of %zu downloads failed", ctx.count - (ctx.finished - ctx.failed), ctx.count);
        }
        if (status == 1 && ctx.fail_http && ctx.http_errors) status = 22; /* curl -f */
        skiff_h3_conn_free(ctx.h3);
        skiff_engine_free(ctx.engine);
    }
    for (size_t i = 0; i < count; i++)
        if (ctx.downloads[i].out && ctx.downloads[i].out != stdout) fclose(ctx.downloads[i].out);
    skiff_tls_credentials_free(creds);
    tool_options_free(&common);
    free(ctx.downloads);
    free(session);
    return status;
}
