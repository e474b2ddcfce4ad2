/*
 * libFuzzer target: one QPACK decoder (RFC 9204) fed an encoder stream,
 * field sections and cancellations in any order.
 *
 * Input: byte 0 chooses the settings (table capacity, blocked streams,
 * section size limit); then records of 1 byte kind, 2 bytes length (big
 * endian), payload:
 *   kind % 6 == 0  encoder-stream bytes
 *   kind % 6 == 1  a field section on stream 4 * (kind / 6 % 8)
 *   kind % 6 == 2  cancel that stream
 *   kind % 6 == 3  take the decoder-stream bytes (in pieces of the payload's length)
 *   kind % 6 == 4  resume every unblocked stream
 *   kind % 6 == 5  the payload as decoder-stream bytes for an encoder
 * Properties: no crash, no leak, and every field emitted keeps the section
 * within the size limit.
 */
#include <stdlib.h>
#include <string.h>

#include "h3/h3_error.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"

static const uint64_t capacities[4] = {0, 64, 220, 4096};
static const uint64_t blocked[4] = {0, 1, 4, 16};
static const uint64_t limits[4] = {0, 100, 4096, UINT64_MAX};

typedef struct sink {
    uint64_t limit;
    uint64_t size;
    unsigned sum;
} sink;

static int emit(void *ud, const skiff_h3_field *f)
{
    sink *s = ud;
    s->size += f->name_len + f->value_len + SKIFF_H3_FIELD_OVERHEAD;
    if (s->size > s->limit) abort();
    for (size_t i = 0; i < f->name_len; i++)
        s->sum += f->name[i];
    for (size_t i = 0; i < f->value_len; i++)
        s->sum += f->value[i];
    return 0;
}

static bool decoded(int rc)
{
    return rc == 0 || rc == SKIFF_QPACK_BLOCKED || rc == SKIFF_QPACK_TOO_LARGE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint64_t limit = limits[data[0] >> 4 & 3];
    skiff_qpack_decoder *d;
    skiff_qpack_encoder *e;
    if (skiff_qpack_decoder_new(&d, capacities[data[0] & 3], blocked[data[0] >> 2 & 3], limit))
        return 0;
    if (skiff_qpack_encoder_new(&e, 4096)) {
        skiff_qpack_decoder_free(d);
        return 0;
    }
    skiff_qpack_encoder_set_peer_settings(e, 4096, 16);
    bool dead = false; /* after a connection error, only the encoder side goes on */
    sink s = {.limit = limit};
    size_t pos = 1;
    while (size - pos >= 3) {
        uint8_t kind = data[pos];
        size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += 3;
        if (len > size - pos) len = size - pos;
        /* An exact copy, so reads past the record are caught. */
        uint8_t *p = malloc(len ? len : 1);
        if (!p) break;
        memcpy(p, data + pos, len);
        pos += len;
        uint64_t stream = 4 * (uint64_t)(kind / 6 % 8), wire = 0, id;
        int rc = 0;
        switch (kind % 6) {
        case 0:
            if (!dead) rc = skiff_qpack_decoder_feed_encoder_stream(d, p, len, &wire);
            break;
        case 1:
            s.size = 0;
            if (!dead) rc = skiff_qpack_decode_section(d, stream, p, len, emit, &s, &wire);
            if (rc == SKIFF_ERR_INVALID_ARGUMENT)
                rc = 0; /* the stream already waits: a caller bug */
            break;
        case 2:
            if (!dead) skiff_qpack_decoder_cancel_stream(d, stream);
            break;
        case 3: {
            uint8_t out[256];
            size_t piece = len % sizeof out + 1;
            while (skiff_qpack_decoder_take_instructions(d, out, piece) > 0) {
            }
            break;
        }
        case 4:
            while (!dead && skiff_qpack_decoder_pop_unblocked(d, &id)) {
                s.size = 0;
                rc = skiff_qpack_decoder_resume(d, id, emit, &s, &wire);
                if (rc == SKIFF_QPACK_BLOCKED) abort(); /* resume never blocks */
                if (!decoded(rc)) break;
            }
            break;
        case 5:
            if (skiff_qpack_encoder_feed_decoder_stream(e, p, len, &wire) &&
                wire != SKIFF_QPACK_DECODER_STREAM_ERROR)
                abort();
            wire = 0;
            break;
        }
        if (!decoded(rc)) {
            /* A decoder error closes the connection, with a QPACK code. */
            if (wire != SKIFF_QPACK_DECOMPRESSION_FAILED &&
                wire != SKIFF_QPACK_ENCODER_STREAM_ERROR && wire != SKIFF_H3_INTERNAL_ERROR &&
                wire != SKIFF_H3_EXCESSIVE_LOAD)
                abort();
            dead = true;
        }
        free(p);
    }
    skiff_qpack_decoder_free(d);
    skiff_qpack_encoder_free(e);
    return 0;
}
