/*
 * `skiff serve` over hq-interop (HTTP/0.9 over QUIC, the interop runner's
 * transfer protocol): a request is "GET /path\r\n" on a client-initiated
 * bidirectional stream, the response the file's bytes and the stream's end;
 * a missing file resets the stream (HTTP/0.9 has no status).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

#define REQUEST_MAX 2048
#define CHUNK 65536

struct hq_request {
    uint64_t stream_id;
    char line[REQUEST_MAX];
    size_t line_len;
    int fd;             /* the file being sent, -1 before/after */
    uint64_t size, sent;
    uint8_t pending[CHUNK]; /* read from the file, not yet taken by the stream */
    size_t pending_off, pending_len;
    hq_request *next;
};

static hq_request *find_request(serve_conn *sc, uint64_t id, bool create)
{
    for (hq_request *r = sc->hq; r; r = r->next)
        if (r->stream_id == id) return r;
    if (!create) return NULL;
    hq_request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->stream_id = id;
    r->fd = -1;
    r->next = sc->hq;
    sc->hq = r;
    return r;
}

static void drop_request(serve_conn *sc, hq_request *r)
{
    for (hq_request **p = &sc->hq; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->fd >= 0) close(r->fd);
    free(r);
}

void serve_hq_free(serve_conn *sc)
{
    while (sc->hq) drop_request(sc, sc->hq);
}

/* Pushes file bytes into the stream until it takes no more or the file ends. */
static void pump(serve_conn *sc, hq_request *r)
{
    skiff_conn *c = sc->conn;
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
    if (r->fd < 0 && r->sent == r->size) drop_request(sc, r);
}

static void start_response(serve_ctx *ctx, serve_conn *sc, hq_request *r)
{
    skiff_conn *c = sc->conn;
    char path[REQUEST_MAX];
    if (sscanf(r->line, "GET %2047s", path) != 1) {
        fprintf(stderr, "skiff serve: malformed request on stream %llu\n",
                (unsigned long long)r->stream_id);
        skiff_conn_stream_reset(c, r->stream_id, 0x10c);
        drop_request(sc, r);
        return;
    }
    char decoded[REQUEST_MAX];
    r->fd = serve_decode_path(path, strlen(path), decoded, sizeof decoded) == 0
                ? serve_open_file(ctx->root, decoded, &r->size)
                : -1;
    ctx->requests++;
    printf("GET %s %s %llu hq-interop\n", path, r->fd >= 0 ? "200" : "404",
           (unsigned long long)(r->fd >= 0 ? r->size : 0));
    fflush(stdout);
    if (r->fd < 0) {
        skiff_conn_stream_reset(c, r->stream_id, 0x10c); /* hq-interop has no status line */
        drop_request(sc, r);
        return;
    }
    if (r->size == 0) {
        close(r->fd);
        r->fd = -1;
        skiff_conn_stream_write(c, r->stream_id, NULL, 0, true);
        drop_request(sc, r);
        return;
    }
    pump(sc, r);
}

/* A request starts when the client opens a stream; data arriving later for a
 * stream already answered (a retransmission) is not a new request. */
void serve_hq_opened(serve_ctx *ctx, serve_conn *sc, uint64_t id)
{
    (void)ctx;
    find_request(sc, id, true);
}

void serve_hq_readable(serve_ctx *ctx, serve_conn *sc, uint64_t id)
{
    hq_request *r = find_request(sc, id, false);
    if (!r) return;
    for (int guard = 0; guard < 64; guard++) {
        bool fin = false;
        uint8_t buf[512];
        skiff_ssize n = skiff_conn_stream_read(sc->conn, id, buf, sizeof buf, &fin);
        if (n < 0) return;
        if (r->fd < 0 && r->sent == 0) {
            size_t take = (size_t)n;
            if (r->line_len + take >= REQUEST_MAX) take = REQUEST_MAX - 1 - r->line_len;
            memcpy(r->line + r->line_len, buf, take);
            r->line_len += take;
            r->line[r->line_len] = 0;
            if (strstr(r->line, "\r\n") || strstr(r->line, "\n") || fin) {
                start_response(ctx, sc, r);
                return;
            }
        }
        if (n == 0 || fin) return;
    }
}

void serve_hq_writable(serve_ctx *ctx, serve_conn *sc, uint64_t id)
{
    (void)ctx;
    hq_request *r = find_request(sc, id, false);
    if (r && r->fd >= 0) pump(sc, r);
}
