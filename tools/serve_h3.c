/*
 * `skiff serve` over HTTP/3: GET and HEAD of files under the root with
 * content-length, content-type from the extension and single byte ranges
 * (206, 416); 404 for what is not there, 405 (with allow) for other
 * methods. One log line per request on stdout:
 *     GET /path 200 1234 h3
 * A response body is streamed from the file as the connection takes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h3/h3_conn.h"
#include "serve.h"
#include "tool.h"

#define CHUNK 65536

struct h3_response {
    serve_conn *sc;
    uint64_t stream_id;
    int fd;
    uint64_t offset, remaining; /* of the file still to send */
    uint8_t *buf;
    size_t buf_off, buf_len;
    h3_response *prev, *next;
};

#define FIELD(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), strlen(v)}

static void response_free(h3_response *r)
{
    serve_conn *sc = r->sc;
    if (r->prev) r->prev->next = r->next;
    else sc->responses = r->next;
    if (r->next) r->next->prev = r->prev;
    if (sc->h3) skiff_h3_set_stream_data(sc->h3, r->stream_id, NULL);
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r);
}

/* Sends file bytes until the stream takes no more or the range is sent. */
static void pump(h3_response *r)
{
    skiff_h3_conn *h = r->sc->h3;
    for (int guard = 0; guard < 4096; guard++) {
        if (r->buf_off == r->buf_len && r->remaining) {
            size_t want = r->remaining < CHUNK ? (size_t)r->remaining : CHUNK;
            ssize_t n = pread(r->fd, r->buf, want, (off_t)r->offset);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) { /* the file shrank under us */
                skiff_h3_cancel(h, r->stream_id, SKIFF_H3_INTERNAL_ERROR);
                response_free(r);
                return;
            }
            r->buf_off = 0;
            r->buf_len = (size_t)n;
            r->offset += (uint64_t)n;
            r->remaining -= (uint64_t)n;
        }
        bool last = r->remaining == 0;
        skiff_ssize took = skiff_h3_write_body(h, r->stream_id, r->buf + r->buf_off,
                                               r->buf_len - r->buf_off, last);
        if (took < 0) { /* the client went away */
            response_free(r);
            return;
        }
        r->buf_off += (size_t)took;
        if (last && r->buf_off == r->buf_len) {
            response_free(r);
            return;
        }
        if (took == 0) return; /* wait for writable */
    }
}

static void log_request(serve_ctx *ctx, const skiff_h3_head *head, int status, uint64_t bytes)
{
    const skiff_h3_field *m = head->info->method, *p = head->info->path;
    ctx->requests++;
    printf("%.*s %.*s %d %llu h3\n", m ? (int)m->value_len : 1, m ? (const char *)m->value : "-",
           p ? (int)p->value_len : 1, p ? (const char *)p->value : "-", status, (unsigned long long)bytes);
    fflush(stdout);
}

static void respond_simple(skiff_h3_conn *h, uint64_t id, int status, const char *body,
                           const skiff_h3_field *extra, size_t extra_count, bool head_only)
{
    char len[24];
    snprintf(len, sizeof len, "%zu", strlen(body));
    skiff_h3_field f[8] = {FIELD("content-type", "text/plain; charset=utf-8"), FIELD("content-length", len),
                           FIELD("server", "skiff/" SKIFF_VERSION_STRING)};
    size_t n = 3;
    for (size_t i = 0; i < extra_count && n < 8; i++) f[n++] = extra[i];
    bool body_follows = !head_only && body[0];
    if (skiff_h3_respond(h, id, status, f, n, body_follows) == 0 && body_follows)
        skiff_h3_write_body(h, id, (const uint8_t *)body, strlen(body), true);
}

static bool method_is(const skiff_h3_field *m, const char *name)
{
    return m && m->value_len == strlen(name) && !memcmp(m->value, name, m->value_len);
}

static const skiff_h3_field *find_field(const skiff_h3_head *head, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < head->count; i++)
        if (head->fields[i].name_len == n && !memcmp(head->fields[i].name, name, n)) return &head->fields[i];
    return NULL;
}

static void on_request(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    serve_conn *sc = ud;
    serve_ctx *ctx = sc->ctx;
    const skiff_h3_message_info *info = head->info;
    bool get = method_is(info->method, "GET"), head_only = method_is(info->method, "HEAD");
    if (!get && !head_only) {
        skiff_h3_field allow[] = {FIELD("allow", "GET, HEAD")};
        respond_simple(h, id, 405, "method not allowed\n", allow, 1, false);
        log_request(ctx, head, 405, 0);
        return;
    }
    char path[4096];
    uint64_t size = 0;
    int fd = -1;
    if (info->path && serve_decode_path((const char *)info->path->value, info->path->value_len, path,
                                        sizeof path) == 0)
        fd = serve_open_file(ctx->root, path, &size);
    if (fd < 0) {
        respond_simple(h, id, 404, "not found\n", NULL, 0, head_only);
        log_request(ctx, head, 404, 0);
        return;
    }
    uint64_t first = 0, last = size ? size - 1 : 0;
    int status = 200;
    const skiff_h3_field *range = find_field(head, "range");
    char content_range[80] = "";
    if (range) {
        int r = serve_parse_range((const char *)range->value, range->value_len, size, &first, &last);
        if (r < 0) {
            close(fd);
            snprintf(content_range, sizeof content_range, "bytes */%llu", (unsigned long long)size);
            skiff_h3_field cr[] = {FIELD("content-range", content_range)};
            respond_simple(h, id, 416, "range not satisfiable\n", cr, 1, head_only);
            log_request(ctx, head, 416, 0);
            return;
        }
        if (r > 0) {
            status = 206;
            snprintf(content_range, sizeof content_range, "bytes %llu-%llu/%llu", (unsigned long long)first,
                     (unsigned long long)last, (unsigned long long)size);
        }
    }
    uint64_t length = size ? last - first + 1 : 0;
    char len[24];
    snprintf(len, sizeof len, "%llu", (unsigned long long)length);
    skiff_h3_field f[6] = {FIELD("content-type", serve_content_type(path)), FIELD("content-length", len),
                           FIELD("accept-ranges", "bytes"), FIELD("server", "skiff/" SKIFF_VERSION_STRING)};
    size_t n = 4;
    if (status == 206) f[n++] = (skiff_h3_field)FIELD("content-range", content_range);
    bool body_follows = get && length > 0;
    log_request(ctx, head, status, body_follows ? length : 0);
    if (skiff_h3_respond(h, id, status, f, n, body_follows) != 0 || !body_follows) {
        close(fd);
        return;
    }
    h3_response *r = calloc(1, sizeof *r);
    uint8_t *buf = malloc(CHUNK);
    if (!r || !buf) {
        free(r);
        free(buf);
        close(fd);
        skiff_h3_cancel(h, id, SKIFF_H3_INTERNAL_ERROR);
        return;
    }
    *r = (h3_response){.sc = sc, .stream_id = id, .fd = fd, .offset = first, .remaining = length, .buf = buf};
    r->next = sc->responses;
    if (r->next) r->next->prev = r;
    sc->responses = r;
    skiff_h3_set_stream_data(h, id, r);
    pump(r);
}

static void on_writable(skiff_h3_conn *h, uint64_t id, void *ud)
{
    (void)ud;
    h3_response *r = skiff_h3_stream_data(h, id);
    if (r) pump(r);
}

static void on_aborted(skiff_h3_conn *h, uint64_t id, uint64_t code, bool by_peer, void *ud)
{
    (void)code, (void)by_peer, (void)ud;
    h3_response *r = skiff_h3_stream_data(h, id);
    if (r) response_free(r);
}

static void on_closing(skiff_h3_conn *h, uint64_t code, const char *reason, void *ud)
{
    (void)h, (void)ud;
    if (code != SKIFF_H3_NO_ERROR) {
        const char *name = skiff_h3_error_name(code);
        fprintf(stderr, "skiff serve: closing a connection: %s (%s)\n", name ? name : "error", reason);
    }
}

int serve_h3_attach(serve_ctx *ctx, serve_conn *sc)
{
    (void)ctx;
    static const skiff_h3_callbacks cb = {.request = on_request,
                                          .writable = on_writable,
                                          .aborted = on_aborted,
                                          .closing = on_closing};
    return tool_h3_attach(&sc->h3, sc->conn, true, &cb, sc);
}

void serve_h3_free(serve_conn *sc)
{
    while (sc->responses) response_free(sc->responses);
    skiff_h3_conn_free(sc->h3);
    sc->h3 = NULL;
}
