/*
 * `skiff get`'s shared state: the downloads of one invocation over one QUIC
 * connection, and the two protocols that carry them (get_h3.c: HTTP/3,
 * get_hq.c: hq-interop, HTTP/0.9 over QUIC).
 */
#ifndef SKIFF_TOOLS_GET_H
#define SKIFF_TOOLS_GET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "h3/h3_conn.h"
#include "io/engine.h"

typedef struct download {
    const char *url;
    char path[2048];
    char out_path[4096];
    FILE *out; /* open while the download runs */
    bool started, done;
    uint64_t stream_id;
    uint64_t bytes;
    int status;            /* HTTP/3: the final response's status */
    bool has_length;
    uint64_t length;       /* its content-length */
} download;

typedef struct get_ctx {
    skiff_engine *engine;
    skiff_conn *conn;
    download *downloads;
    size_t count, next, finished, failed, active;
    bool handshake_done, closed, to_stdout, key_update;
    const char *session_file; /* tickets are saved here, and read to resume */
    bool got_ticket;
    skiff_time ticket_wait_until; /* done, but waiting a moment for a ticket */
    skiff_end_reason end;

    /* HTTP/3 */
    skiff_h3_conn *h3;
    /* Streams the server opened before HTTP/3 was attached (its control and
     * QPACK streams can arrive with the handshake's last packets). */
    uint64_t early_streams[16];
    size_t early_count;
    char authority[300]; /* :authority, as the URL wrote it */
    bool verbose, head_only, fail_http;
    size_t parallel_max;
    const char *method;          /* -X; NULL: GET (HEAD with -I) */
    char *header_names[32];      /* -H "Name: value", names lowercased */
    const char *header_values[32];
    size_t header_count;
    size_t http_errors;
    skiff_time started_at, connected_at;
    uint64_t total_bytes;
    bool progress;        /* a progress bar on a terminal */
    skiff_time progress_next;
} get_ctx;

/* get_hq.c */
void get_hq_start(get_ctx *ctx);
void get_hq_readable(get_ctx *ctx, uint64_t id);
void get_hq_reset(get_ctx *ctx, uint64_t id, uint64_t code);

/* get_h3.c: creates the HTTP/3 connection on ctx->conn. Returns 0 or 1 (reported). */
int get_h3_attach(get_ctx *ctx);
void get_h3_start(get_ctx *ctx);
/* Called from the loop: draws the progress bar when it is due. */
void get_progress_tick(get_ctx *ctx, bool last);

/* cmd_get.c */
int get_open_output(get_ctx *ctx, download *d);
void get_finish(get_ctx *ctx, download *d, bool ok);
download *get_find(get_ctx *ctx, uint64_t id);

#endif
