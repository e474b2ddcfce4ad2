/* The HTTP/3 transport over a skiff_conn (see h3_quic.h). */
#include "h3/h3_quic.h"

static int open_stream(void *ctx, bool bidi, uint64_t *id)
{
    return skiff_conn_stream_open(ctx, bidi, id);
}

static size_t writable(void *ctx, uint64_t id) { return skiff_conn_stream_writable(ctx, id); }

static skiff_ssize write_stream(void *ctx, uint64_t id, const uint8_t *data, size_t len, bool fin)
{
    return skiff_conn_stream_write(ctx, id, data, len, fin);
}

static skiff_ssize read_stream(void *ctx, uint64_t id, uint8_t *out, size_t cap, bool *fin)
{
    return skiff_conn_stream_read(ctx, id, out, cap, fin);
}

static int reset(void *ctx, uint64_t id, uint64_t code) { return skiff_conn_stream_reset(ctx, id, code); }

static int stop_sending(void *ctx, uint64_t id, uint64_t code)
{
    return skiff_conn_stream_stop_sending(ctx, id, code);
}

static void close_conn(void *ctx, uint64_t code, const char *reason)
{
    skiff_conn_close(ctx, code, reason, skiff_conn_now(ctx));
}

void skiff_h3_quic_transport(skiff_h3_transport *t, skiff_conn *c)
{
    *t = (skiff_h3_transport){.ctx = c,
                              .open_stream = open_stream,
                              .writable = writable,
                              .write = write_stream,
                              .read = read_stream,
                              .reset = reset,
                              .stop_sending = stop_sending,
                              .close = close_conn};
}
