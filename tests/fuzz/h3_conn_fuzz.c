/*
 * libFuzzer target: an HTTP/3 server connection (src/h3/h3_conn.c,
 * h3_request.c, QPACK) fed hostile stream bytes through the in-memory pipe
 * of tests/unit/h3_pipe.h. The input is a list of records:
 *   byte 0: stream selector (bits 0-2: which of 8 client streams, bit 3: end
 *           the stream, bit 4: reset it), byte 1: length, then that many bytes.
 * Streams 0-3 are client bidirectional (IDs 0, 4, 8, 12), 4-7 unidirectional
 * (IDs 2, 6, 10, 14). After each record the server runs; it must never crash,
 * leak, or keep running after it closed.
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/h3_pipe.h"

static void on_request(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    (void)head, (void)ud;
    static const skiff_h3_field f[] = {{(const uint8_t *)"content-length", 14, (const uint8_t *)"2", 1}};
    if (skiff_h3_respond(h, id, 200, f, 1, true) == 0) skiff_h3_write_body(h, id, (const uint8_t *)"ok", 2, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static h3_pipe pipe;
    h3_pipe_init(&pipe);
    skiff_h3_config cfg;
    skiff_h3_config_default(&cfg, true);
    cfg.qpack_blocked_streams = 2;
    cfg.max_field_section_size = 4096;
    static const skiff_h3_callbacks cb = {.request = on_request};
    skiff_h3_transport t = h3_pipe_transport(&pipe.side[1]);
    if (skiff_h3_conn_new(&pipe.side[1].h3, &cfg, &cb, NULL, &t) != 0) return 0;
    size_t i = 0;
    while (i + 2 <= size && !pipe.side[1].closed) {
        uint8_t sel = data[i], len = data[i + 1];
        i += 2;
        if (len > size - i) len = (uint8_t)(size - i);
        unsigned which = sel & 7;
        uint64_t id = which < 4 ? 4u * which : 2 + 4u * (which - 4);
        pipe_stream *st = pipe_find(&pipe, id, true);
        if (st && !st->dir[0].fin && !st->dir[0].reset) {
            h3_pipe_raw(&pipe, 0, id, data + i, len, (sel & 8) != 0);
            if (sel & 16) {
                st->dir[0].reset = true;
                st->dir[0].reset_code = 0x10c;
            }
        }
        i += len;
        h3_pipe_run(&pipe);
    }
    h3_pipe_free(&pipe);
    return 0;
}
