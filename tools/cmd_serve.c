/*
 * `skiff serve`: serves the files under ROOT over QUIC. This stage speaks
 * hq-interop (HTTP/0.9 over QUIC, the interop runner's transfer protocol):
 * a request is "GET /path\r\n" on a client-initiated bidirectional stream,
 * the response the file's bytes and a FIN. HTTP/3 comes in its own issue.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/engine.h"
#include "tool.h"

#define REQUEST_MAX 2048
#define CHUNK 65536

typedef struct hq_request {
    uint64_t stream_id;
    char line[REQUEST_MAX];
    size_t line_len;
    int fd;             /* the file being sent, -1 before/after */
    uint64_t size, sent;
    uint8_t pending[CHUNK]; /* read from the file, not yet taken by the stream */
    size_t pending_off, pending_len;
    struct hq_request *next;
} hq_request;

typedef struct serve_ctx {
    const char *root;
    bool key_update; /* initiate a key update on every connection */
    skiff_engine *engine;
    unsigned long requests;
} serve_ctx;

static volatile sig_atomic_t stop_requested;

static hq_request **requests_of(skiff_conn *c)
{
    hq_request **head = skiff_conn_app_data(c);
    if (!head) {
        head = calloc(1, sizeof *head);
        skiff_conn_set_app_data(c, head);
    }
    return head;
}

static hq_request *find_request(skiff_conn *c, uint64_t id, bool create)
{
    hq_request **head = requests_of(c);
    if (!head) return NULL;
    for (hq_request *r = *head; r; r = r->next)
        if (r->stream_id == id) return r;
    if (!create) return NULL;
    hq_request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->stream_id = id;
    r->fd = -1;
    r->next = *head;
    *head = r;
    return r;
}

static void drop_request(skiff_conn *c, hq_request *r)
{
    hq_request **head = requests_of(c);
    for (hq_request **p = head; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->fd >= 0) close(r->fd);
    free(r);
}

/* Maps "/a/b.txt" under root, refusing anything that climbs out of it. */
static int open_under_root(const char *root, const char *path, uint64_t *size)
{
    if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./") ||
        (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
        return -1;
    char full[4096];
    if (snprintf(full, sizeof full, "%s%s", root, path) >= (int)sizeof full) return -1;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

/* Pushes file bytes into the stream until it takes no more or the file ends. */
static void pump(skiff_conn *c, hq_request *r)
{
    for (int guard = 0; guard < 4096 && r->fd >= 0; guard++) {
        if (r->pending_off == r->pending_len) {
            ssize_t n = read(r->fd, r->pending, CHUNK);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close(r->fd);
                r->fd = -1;
                skiff_conn_stream_write(c, r->stream_id, NULL, 0, true);
                break;
            }
            r->pending_off = 0;
            r->pending_len = (size_t)n;
        }
        bool last = r->sent + (r->pending_len - r->pending_off) == r->size;
        skiff_ssize took = skiff_conn_stream_write(c, r->stream_id, r->pending + r->pending_off,
                                                   r->pending_len - r->pending_off, last);
        if (took <= 0) break; /* the send buffer is full: wait for stream_writable */
        r->pending_off += (size_t)took;
        r->sent += (uint64_t)took;
        if (last && r->pending_off == r->pending_len) {
            close(r->fd);
            r->fd = -1;
        }
    }
    if (r->fd < 0 && r->sent == r->size) drop_request(c, r);
}

static void start_response(serve_ctx *ctx, skiff_conn *c, hq_request *r)
{
    char path[REQUEST_MAX];
    if (sscanf(r->line, "GET %2047s", path) != 1) {
        fprintf(stderr, "skiff serve: malformed request on stream %llu\n",
                (unsigned long long)r->stream_id);
        skiff_conn_stream_reset(c, r->stream_id, 0x10c);
        drop_request(c, r);
        return;
    }
    r->fd = open_under_root(ctx->root, path, &r->size);
    ctx->requests++;
    printf("GET %s %s %llu\n", path, r->fd >= 0 ? "200" : "404",
           (unsigned long long)(r->fd >= 0 ? r->size : 0));
    fflush(stdout);
    if (r->fd < 0) {
        skiff_conn_stream_reset(c, r->stream_id, 0x10c); /* hq-interop has no status line */
        drop_request(c, r);
        return;
    }
    if (r->size == 0) {
        close(r->fd);
        r->fd = -1;
        skiff_conn_stream_write(c, r->stream_id, NULL, 0, true);
        drop_request(c, r);
        return;
    }
    pump(c, r);
}

/* A request starts when the client opens a stream; data arriving later for a
 * stream already answered (a retransmission) is not a new request. */
static void on_opened(skiff_conn *c, uint64_t id, void *ud)
{
    (void)ud;
    find_request(c, id, true);
}

static void on_readable(skiff_conn *c, uint64_t id, void *ud)
{
    serve_ctx *ctx = ud;
    hq_request *r = find_request(c, id, false);
    if (!r) return;
    for (int guard = 0; guard < 64; guard++) {
        bool fin = false;
        uint8_t buf[512];
        skiff_ssize n = skiff_conn_stream_read(c, id, buf, sizeof buf, &fin);
        if (n < 0) return;
        if (r->fd < 0 && r->sent == 0) {
            size_t take = (size_t)n;
            if (r->line_len + take >= REQUEST_MAX) take = REQUEST_MAX - 1 - r->line_len;
            memcpy(r->line + r->line_len, buf, take);
            r->line_len += take;
            r->line[r->line_len] = 0;
            if (strstr(r->line, "\r\n") || strstr(r->line, "\n") || fin) {
                start_response(ctx, c, r);
                return;
            }
        }
        if (n == 0 || fin) return;
    }
}

static void on_writable(skiff_conn *c, uint64_t id, void *ud)
{
    (void)ud;
    hq_request *r = find_request(c, id, false);
    if (r && r->fd >= 0) pump(c, r);
}

static void on_handshake_done(skiff_conn *c, void *ud)
{
    serve_ctx *ctx = ud;
    if (ctx->key_update) skiff_conn_key_update(c);
    if (skiff_conn_resumed(c))
        fprintf(stderr, "skiff serve: resumed session, 0-RTT %s\n", skiff_conn_early_data(c));
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    (void)ud;
    uint64_t initiated, followed;
    skiff_conn_key_update_counts(c, &initiated, &followed);
    if (initiated || followed)
        fprintf(stderr, "skiff serve: key updates: initiated %llu, followed %llu\n",
                (unsigned long long)initiated, (unsigned long long)followed);
    hq_request **head = skiff_conn_app_data(c);
    if (head) {
        while (*head) drop_request(c, *head);
        free(head);
        skiff_conn_set_app_data(c, NULL);
    }
    if (why->kind != SKIFF_END_APPLICATION || why->code != 0) {
        char line[512];
        fprintf(stderr, "skiff serve: connection ended: %s\n",
                skiff_end_reason_format(why, line, sizeof line));
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
    "Serves the files under ROOT over QUIC (ALPN hq-interop). Without --cert, a fresh\n"
    "self-signed certificate for localhost is made at start.\n";

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
        .stream_writable = on_writable, .closed = on_closed};
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
    while (!stop_requested) skiff_engine_run(ctx.engine, skiff_clock_now() + SKIFF_MS(200));
    uint64_t retries = skiff_engine_retries_sent(ctx.engine);
    uint64_t resets = skiff_engine_resets_sent(ctx.engine);
    skiff_engine_free(ctx.engine);
    skiff_tls_credentials_free(creds);
    tool_options_free(&common);
    fprintf(stderr, "skiff serve: stopped after %lu requests, %llu retries, %llu stateless resets\n",
            ctx.requests, (unsigned long long)retries, (unsigned long long)resets);
    return 0;
}
