/*
 * `skiff get` over HTTP/3: one request per URL on the connection, up to
 * --parallel-max in flight, each response's body into its output. With -v
 * the request and response header sections go to stderr ("> " and "< "
 * lines, like curl); with -I the request is HEAD and the response's header
 * section goes to stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "get.h"
#include "tool.h"

#define FIELD(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), strlen(v)}

static void print_fields(FILE *out, const char *prefix, const skiff_h3_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%.*s: %.*s\n", prefix, (int)f[i].name_len, (const char *)f[i].name,
                (int)f[i].value_len, (const char *)f[i].value);
}

void get_h3_start(get_ctx *ctx)
{
    while (ctx->next < ctx->count && ctx->active < ctx->parallel_max) {
        download *d = &ctx->downloads[ctx->next];
        if (!d->out && !ctx->head_only && get_open_output(ctx, d)) {
            ctx->next++, ctx->finished++, ctx->failed++;
            continue;
        }
        const char *method = ctx->method ? ctx->method : ctx->head_only ? "HEAD" : "GET";
        skiff_h3_field req[6 + 32] = {
            FIELD(":method", method), FIELD(":scheme", "https"),
            FIELD(":authority", ctx->authority),               FIELD(":path", d->path),
            FIELD("user-agent", "skiff/" SKIFF_VERSION_STRING), FIELD("accept", "*/*"),
        };
        size_t n = 6;
        for (size_t i = 0; i < ctx->header_count; i++) {
            const char *name = ctx->header_names[i];
            /* A header given with -H replaces a default one of the same name. */
            size_t at = n;
            for (size_t k = 4; k < n; k++)
                if (req[k].name_len == strlen(name) && !memcmp(req[k].name, name, req[k].name_len)) at = k;
            req[at] = (skiff_h3_field){(const uint8_t *)name, strlen(name), (const uint8_t *)ctx->header_values[i],
                                       strlen(ctx->header_values[i])};
            if (at == n) n++;
        }
        uint64_t id;
        int rv = skiff_h3_request(ctx->h3, req, n, false, &id);
        if (rv == SKIFF_ERR_STREAM_LIMIT) return; /* can_request brings us back */
        if (rv) {
            fprintf(stderr, "skiff get: %s: %s\n", d->url,
                    rv == SKIFF_ERR_CLOSED ? "the server is going away (GOAWAY)" : tool_error_text(rv));
            ctx->next++, ctx->finished++, ctx->failed++;
            if (d->out && d->out != stdout) fclose(d->out);
            d->out = NULL;
            continue;
        }
        if (ctx->verbose) print_fields(stderr, "> ", req, n);
        skiff_h3_set_stream_data(ctx->h3, id, d);
        d->stream_id = id;
        d->started = true;
        ctx->next++;
        ctx->active++;
    }
    /* Every output failed before a request went out: nothing will end the connection. */
    if (ctx->count && ctx->finished == ctx->count && ctx->active == 0 && !ctx->closed)
        skiff_conn_close(ctx->conn, SKIFF_H3_NO_ERROR, "", skiff_clock_now());
}

static download *download_of(skiff_h3_conn *h, uint64_t id)
{
    download *d = skiff_h3_stream_data(h, id);
    return d && !d->done ? d : NULL;
}

static void on_response(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    get_ctx *ctx = ud;
    download *d = download_of(h, id);
    if (!d) return;
    if (ctx->verbose) print_fields(stderr, "< ", head->fields, head->count);
    if (head->info->status < 200) return;
    d->status = head->info->status;
    d->has_length = head->info->has_content_length;
    d->length = head->info->content_length;
    if (ctx->head_only) {
        printf("HTTP/3 %d\n", d->status);
        for (size_t i = 0; i < head->count; i++)
            if (head->fields[i].name[0] != ':')
                printf("%.*s: %.*s\n", (int)head->fields[i].name_len, (const char *)head->fields[i].name,
                       (int)head->fields[i].value_len, (const char *)head->fields[i].value);
        printf("\n");
        fflush(stdout);
    }
}

static void on_body(skiff_h3_conn *h, uint64_t id, const uint8_t *data, size_t len, void *ud)
{
    get_ctx *ctx = ud;
    download *d = download_of(h, id);
    if (!d) return;
    if (d->out && fwrite(data, 1, len, d->out) != len) {
        fprintf(stderr, "skiff get: %s: %s\n", d->out_path, strerror(errno));
        skiff_h3_cancel(h, id, SKIFF_H3_REQUEST_CANCELLED);
        get_finish(ctx, d, false);
        return;
    }
    d->bytes += len;
    ctx->total_bytes += len;
}

static void on_end(skiff_h3_conn *h, uint64_t id, void *ud)
{
    get_ctx *ctx = ud;
    download *d = download_of(h, id);
    if (!d) return;
    if (ctx->count <= 10 || d->status >= 400)
        fprintf(stderr, "skiff get: %s: %d, %llu bytes\n", d->url, d->status, (unsigned long long)d->bytes);
    bool ok = !(ctx->fail_http && d->status >= 400);
    if (d->status >= 400) ctx->http_errors++;
    get_finish(ctx, d, ok);
}

static void on_aborted(skiff_h3_conn *h, uint64_t id, uint64_t code, bool by_peer, void *ud)
{
    get_ctx *ctx = ud;
    download *d = download_of(h, id);
    if (!d) return;
    const char *name = skiff_h3_error_name(code);
    const char *hint = code == SKIFF_H3_VERSION_FALLBACK   ? " (the server asks to retry over HTTP/1.1)"
                       : code == SKIFF_H3_REQUEST_REJECTED ? " (not processed; safe to retry)"
                                                           : "";
    fprintf(stderr, "skiff get: %s: %s 0x%llx%s%s%s\n", d->url,
            by_peer ? "the server reset the request with" : "request failed with",
            (unsigned long long)code, name ? " " : "", name ? name : "", hint);
    get_finish(ctx, d, false);
}

static void on_can_request(skiff_h3_conn *h, void *ud)
{
    (void)h;
    get_h3_start(ud);
}

static void on_goaway(skiff_h3_conn *h, uint64_t id, void *ud)
{
    (void)h, (void)ud;
    fprintf(stderr, "skiff get: the server is going away (GOAWAY, stream %llu)\n", (unsigned long long)id);
}

static void on_closing(skiff_h3_conn *h, uint64_t code, const char *reason, void *ud)
{
    (void)h, (void)ud;
    if (code != SKIFF_H3_NO_ERROR) {
        const char *name = skiff_h3_error_name(code);
        fprintf(stderr, "skiff get: closing the connection: %s (%s)\n", name ? name : "error", reason);
    }
}

int get_h3_attach(get_ctx *ctx)
{
    static const skiff_h3_callbacks cb = {.response = on_response,
                                          .body = on_body,
                                          .end = on_end,
                                          .aborted = on_aborted,
                                          .can_request = on_can_request,
                                          .goaway = on_goaway,
                                          .closing = on_closing};
    int rv = tool_h3_attach(&ctx->h3, ctx->conn, false, &cb, ctx);
    if (rv) return tool_fail("HTTP/3: %s", tool_error_text(rv));
    return 0;
}

/* A curl-like progress line, redrawn every 200 ms once a transfer has run
 * for a second, only on a terminal. */
void get_progress_tick(get_ctx *ctx, bool last)
{
    if (!ctx->progress || ctx->head_only) return;
    skiff_time now = skiff_clock_now();
    if (!last && (now < ctx->started_at + SKIFF_MS(1000) || now < ctx->progress_next)) return;
    if (last && ctx->progress_next == 0) return; /* never drawn: nothing to finish */
    ctx->progress_next = now + SKIFF_MS(200);
    uint64_t total = 0;
    bool known = true;
    for (size_t i = 0; i < ctx->count; i++) {
        if (ctx->downloads[i].has_length) total += ctx->downloads[i].length;
        else known = false;
    }
    double secs = (double)(now - ctx->started_at) / 1e9;
    double rate = secs > 0 ? (double)ctx->total_bytes / secs / 1e6 : 0;
    if (known && total)
        fprintf(stderr, "\r%5.1f%%  %8.1f MB of %.1f MB  %7.1f MB/s  %zu/%zu files",
                100.0 * (double)ctx->total_bytes / (double)total, (double)ctx->total_bytes / 1e6,
                (double)total / 1e6, rate, ctx->finished, ctx->count);
    else
        fprintf(stderr, "\r%8.1f MB  %7.1f MB/s  %zu/%zu files", (double)ctx->total_bytes / 1e6, rate,
                ctx->finished, ctx->count);
    if (last) fputc('\n', stderr);
    fflush(stderr);
}
