/*
 * An in-memory QUIC stand-in for HTTP/3 tests: two endpoints (client and
 * server) joined by streams that are plain byte queues, one per direction,
 * with FIN, RESET_STREAM, STOP_SENDING and CONNECTION_CLOSE. Either side may
 * run a real skiff_h3_conn or be driven by hand with raw bytes, which is how
 * the bad-input tests send what no correct peer would.
 *
 * Delivery is explicit: h3_pipe_run() tells each side about readable and
 * reset streams until nothing changes, so tests control ordering (for
 * example, holding back the QPACK encoder stream to block a request).
 */
#ifndef SKIFF_TESTS_H3_PIPE_H
#define SKIFF_TESTS_H3_PIPE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h3/h3_conn.h"

#define PIPE_MAX_STREAMS 1024

typedef struct pipe_dir {
    uint8_t *data;
    size_t len, cap, read_off;
    size_t told_len; /* bytes there were when the reader was last told: like
                      * QUIC, a reader hears of new bytes once, not again */
    bool fin, fin_told, fin_notified;
    bool reset, reset_told;
    uint64_t reset_code;
} pipe_dir;

typedef struct pipe_stream {
    uint64_t id;
    pipe_dir dir[2]; /* [0]: client to server, [1]: server to client */
    bool stop_sent[2];
    uint64_t stop_code[2]; /* STOP_SENDING sent by side i */
    bool stop_told[2];     /* side i was told of the other's STOP_SENDING */
    bool opened_told[2];   /* side i was told the peer opened it */
    bool held;             /* not delivered until released */
} pipe_stream;

typedef struct h3_pipe h3_pipe;

typedef struct pipe_side {
    h3_pipe *pipe;
    int role; /* 0 client, 1 server */
    skiff_h3_conn *h3;
    uint64_t next_bidi, next_uni;
    size_t bidi_limit, uni_limit; /* streams the peer allows us to open */
    size_t bidi_opened, uni_opened;
    size_t write_cap; /* what writable() reports */
    bool closed;
    uint64_t close_code;
    char close_reason[128];
} pipe_side;

struct h3_pipe {
    pipe_side side[2];
    pipe_stream streams[PIPE_MAX_STREAMS];
    size_t count;
};

static inline pipe_stream *pipe_find(h3_pipe *p, uint64_t id, bool create)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->streams[i].id == id) return &p->streams[i];
    if (!create || p->count == PIPE_MAX_STREAMS) return NULL;
    pipe_stream *s = &p->streams[p->count++];
    memset(s, 0, sizeof *s);
    s->id = id;
    return s;
}

static inline void pipe_append(pipe_dir *d, const uint8_t *data, size_t len)
{
    if (d->len + len > d->cap) {
        size_t cap = d->cap ? d->cap : 256;
        while (cap < d->len + len) cap *= 2;
        d->data = realloc(d->data, cap);
        d->cap = cap;
    }
    if (len) memcpy(d->data + d->len, data, len);
    d->len += len;
}

static int pipe_open(void *ctx, bool bidi, uint64_t *id)
{
    pipe_side *s = ctx;
    if (s->closed) return SKIFF_ERR_CLOSED;
    if (bidi ? s->bidi_opened >= s->bidi_limit : s->uni_opened >= s->uni_limit) return SKIFF_ERR_STREAM_LIMIT;
    uint64_t base = (uint64_t)s->role | (bidi ? 0 : 2);
    *id = base + 4 * (bidi ? s->next_bidi++ : s->next_uni++);
    if (bidi) s->bidi_opened++;
    else s->uni_opened++;
    pipe_find(s->pipe, *id, true);
    return 0;
}

static size_t pipe_writable(void *ctx, uint64_t id)
{
    pipe_side *s = ctx;
    pipe_stream *st = pipe_find(s->pipe, id, false);
    if (!st || s->closed) return 0;
    pipe_dir *d = &st->dir[s->role];
    return d->fin || d->reset ? 0 : s->write_cap;
}

static skiff_ssize pipe_write(void *ctx, uint64_t id, const uint8_t *data, size_t len, bool fin)
{
    pipe_side *s = ctx;
    pipe_stream *st = pipe_find(s->pipe, id, false);
    if (s->closed) return SKIFF_ERR_CLOSED;
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    pipe_dir *d = &st->dir[s->role];
    if (d->fin || d->reset) return SKIFF_ERR_STREAM_STATE;
    size_t n = len < s->write_cap ? len : s->write_cap;
    pipe_append(d, data, n);
    if (fin && n == len) d->fin = true;
    return (skiff_ssize)n;
}

static skiff_ssize pipe_read(void *ctx, uint64_t id, uint8_t *out, size_t cap, bool *fin)
{
    pipe_side *s = ctx;
    *fin = false;
    pipe_stream *st = pipe_find(s->pipe, id, false);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    pipe_dir *d = &st->dir[1 - s->role];
    if (d->reset) return SKIFF_ERR_STREAM_STATE;
    size_t n = d->len - d->read_off;
    if (n > cap) n = cap;
    if (n) memcpy(out, d->data + d->read_off, n);
    d->read_off += n;
    if (d->fin && d->read_off == d->len) {
        *fin = !d->fin_told;
        d->fin_told = true;
    }
    return (skiff_ssize)n;
}

static int pipe_reset(void *ctx, uint64_t id, uint64_t code)
{
    pipe_side *s = ctx;
    pipe_stream *st = pipe_find(s->pipe, id, false);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    pipe_dir *d = &st->dir[s->role];
    if (!d->reset && !(d->fin && d->read_off == d->len)) {
        d->reset = true;
        d->reset_code = code;
    }
    return 0;
}

/* Like QUIC (RFC 9000 §3.5): the peer answers STOP_SENDING with RESET_STREAM. */
static int pipe_stop(void *ctx, uint64_t id, uint64_t code)
{
    pipe_side *s = ctx;
    pipe_stream *st = pipe_find(s->pipe, id, false);
    if (!st) return SKIFF_ERR_INVALID_ARGUMENT;
    st->stop_sent[s->role] = true;
    st->stop_code[s->role] = code;
    pipe_dir *d = &st->dir[1 - s->role];
    if (!d->reset && !d->fin) {
        d->reset = true;
        d->reset_code = code;
    }
    return 0;
}

static void pipe_close(void *ctx, uint64_t code, const char *reason)
{
    pipe_side *s = ctx;
    if (s->closed) return;
    s->closed = true;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
}

static inline void h3_pipe_init(h3_pipe *p)
{
    memset(p, 0, sizeof *p);
    for (int r = 0; r < 2; r++) {
        p->side[r] = (pipe_side){.pipe = p, .role = r, .bidi_limit = 100, .uni_limit = 8, .write_cap = 1 << 20};
    }
}

static inline skiff_h3_transport h3_pipe_transport(pipe_side *s)
{
    return (skiff_h3_transport){.ctx = s, .open_stream = pipe_open, .writable = pipe_writable,
                                .write = pipe_write, .read = pipe_read, .reset = pipe_reset,
                                .stop_sending = pipe_stop, .close = pipe_close};
}

/* Raw bytes from one side on a stream (created if new). */
static inline void h3_pipe_raw(h3_pipe *p, int from, uint64_t id, const uint8_t *data, size_t len, bool fin)
{
    pipe_stream *st = pipe_find(p, id, true);
    pipe_append(&st->dir[from], data, len);
    if (fin) st->dir[from].fin = true;
}

/* Tells each side with an h3 connection about readable, finished, reset
 * and writable streams until nothing is left to tell. */
static inline void h3_pipe_run(h3_pipe *p)
{
    for (int round = 0; round < 10000; round++) {
        bool any = false;
        for (size_t i = 0; i < p->count; i++) {
            pipe_stream *st = &p->streams[i];
            if (st->held) continue;
            for (int r = 0; r < 2; r++) {
                pipe_side *s = &p->side[r];
                if (!s->h3 || s->closed || p->side[1 - r].closed) continue;
                pipe_dir *in = &st->dir[1 - r];
                bool peer_opened = (int)(st->id & 1) != r;
                if (peer_opened && !st->opened_told[r] && (in->len || in->fin || in->reset)) {
                    st->opened_told[r] = true;
                    skiff_h3_conn_on_opened(s->h3, st->id);
                    any = true;
                }
                if (st->stop_sent[1 - r] && !st->stop_told[r]) {
                    st->stop_told[r] = true;
                    skiff_h3_conn_on_stop_sending(s->h3, st->id, st->stop_code[1 - r]);
                    any = true;
                } else if (in->reset && !in->reset_told) {
                    in->reset_told = true;
                    skiff_h3_conn_on_reset(s->h3, st->id, in->reset_code);
                    any = true;
                } else if (!in->reset && (in->len > in->told_len || (in->fin && !in->fin_told && !in->fin_notified))) {
                    in->told_len = in->len;
                    in->fin_notified = in->fin;
                    skiff_h3_conn_on_readable(s->h3, st->id);
                    any = true;
                }
            }
        }
        if (!any) return;
    }
}

/* Lets a side take more (after a small write_cap) and tells it every stream is writable. */
static inline void h3_pipe_writable(h3_pipe *p, int r)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->side[r].h3 && !p->side[r].closed) skiff_h3_conn_on_writable(p->side[r].h3, p->streams[i].id);
}

static inline void h3_pipe_free(h3_pipe *p)
{
    for (int r = 0; r < 2; r++) skiff_h3_conn_free(p->side[r].h3);
    for (size_t i = 0; i < p->count; i++) {
        free(p->streams[i].dir[0].data);
        free(p->streams[i].dir[1].data);
    }
}

#endif
