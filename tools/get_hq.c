/*
 * `skiff get` over hq-interop (HTTP/0.9 over QUIC, the interop runner's
 * transfer protocol): "GET /path\r\n" on a bidirectional stream, the file's
 * bytes back and the stream's end. No status, no headers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "get.h"
#include "tool.h"

void get_hq_start(get_ctx *ctx)
{
    while (ctx->next < ctx->count) {
        download *d = &ctx->downloads[ctx->next];
        uint64_t id;
        if (!d->out && get_open_output(ctx, d)) {
            ctx->next++, ctx->finished++, ctx->failed++;
            continue;
        }
        if (skiff_conn_stream_open(ctx->conn, true, &id) != 0) return; /* stream limit: later */
        char req[2100];
        int n = snprintf(req, sizeof req, "GET %s\r\n", d->path);
        if (skiff_conn_stream_write(ctx->conn, id, (const uint8_t *)req, (size_t)n, true) != n) {
            skiff_conn_stream_reset(ctx->conn, id, 0);
            return;
        }
        d->stream_id = id;
        d->started = true;
        ctx->next++;
        ctx->active++;
    }
}

void get_hq_readable(get_ctx *ctx, uint64_t id)
{
    download *d = get_find(ctx, id);
    if (!d || d->done) return;
    static uint8_t buf[65536];
    for (int guard = 0; guard < 1024; guard++) {
        bool fin = false;
        skiff_ssize n = skiff_conn_stream_read(ctx->conn, id, buf, sizeof buf, &fin);
        if (n < 0) {
            get_finish(ctx, d, false);
            return;
        }
        if (n > 0 && fwrite(buf, 1, (size_t)n, d->out) != (size_t)n) {
            fprintf(stderr, "skiff get: %s: %s\n", d->out_path, strerror(errno));
            get_finish(ctx, d, false);
            return;
        }
        d->bytes += (uint64_t)n;
        ctx->total_bytes += (uint64_t)n;
        if (fin) {
            get_finish(ctx, d, true);
            return;
        }
        if (n == 0) return;
    }
}

void get_hq_reset(get_ctx *ctx, uint64_t id, uint64_t code)
{
    download *d = get_find(ctx, id);
    if (!d || d->done) return;
    fprintf(stderr, "skiff get: %s: the server reset the stream (code 0x%llx)\n", d->url,
            (unsigned long long)code);
    get_finish(ctx, d, false);
}
