/*
 * `skiff serve`'s shared state: the server, and per QUIC connection the
 * protocol its ALPN chose (serve_h3.c: HTTP/3, serve_hq.c: hq-interop).
 */
#ifndef SKIFF_TOOLS_SERVE_H
#define SKIFF_TOOLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h3/h3_conn.h"
#include "io/engine.h"

typedef struct hq_request hq_request;
typedef struct h3_response h3_response;

typedef struct serve_ctx serve_ctx;

typedef struct serve_conn {
    serve_ctx *ctx;
    skiff_conn *conn;
    skiff_h3_conn *h3;       /* ALPN h3 */
    hq_request *hq;          /* ALPN hq-interop: requests in progress */
    h3_response *responses;  /* HTTP/3 responses in progress */
    struct serve_conn *prev, *next;
} serve_conn;

struct serve_ctx {
    const char *root;
    bool key_update; /* initiate a key update on every connection */
    skiff_engine *engine;
    unsigned long requests;
    serve_conn *conns;   /* every connection with state, for shutdown */
    serve_conn *ended;   /* closed: freed from the loop, not inside callbacks */
    bool shutting_down;
};

/* serve_hq.c */
void serve_hq_opened(serve_ctx *ctx, serve_conn *sc, uint64_t id);
void serve_hq_readable(serve_ctx *ctx, serve_conn *sc, uint64_t id);
void serve_hq_writable(serve_ctx *ctx, serve_conn *sc, uint64_t id);
void serve_hq_free(serve_conn *sc);

/* serve_h3.c: Returns 0 or a negative error. */
int serve_h3_attach(serve_ctx *ctx, serve_conn *sc);
void serve_h3_free(serve_conn *sc);

/* Files under the root (serve_files.c). */
/* Opens ROOT + path (already percent-decoded, starting with '/'), refusing
 * anything that climbs out of ROOT; a path ending in '/' means its
 * index.html. Returns the descriptor (size in *size) or -1. */
int serve_open_file(const char *root, const char *path, uint64_t *size);
/* Percent-decodes a request target's path (dropping any query) into out.
 * Returns 0, or -1 for a bad escape, a NUL or a path too long. */
int serve_decode_path(const char *target, size_t len, char *out, size_t cap);
/* The media type for a file name's extension ("text/html; charset=utf-8", ...). */
const char *serve_content_type(const char *path);

/* A single byte range of a Range field (RFC 9110 §14.1.2) against a file of
 * size bytes. Returns 1 with [*first, *last] when it applies, 0 when the
 * field is to be ignored (absent, not bytes, several ranges, malformed), -1
 * when unsatisfiable (416). */
int serve_parse_range(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

#endif
