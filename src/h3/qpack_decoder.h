/*
 * QPACK decoder (RFC 9204): turns the field sections of HEADERS frames back
 * into fields, with the static table, Huffman-coded strings and a dynamic
 * table that the peer's encoder fills through its encoder stream.
 *
 * The HTTP/3 connection feeds it three inputs and takes one output:
 *   - encoder-stream bytes from the peer  (skiff_qpack_decoder_feed_encoder_stream)
 *   - field sections from HEADERS frames   (skiff_qpack_decode_section)
 *   - streams that were reset or abandoned (skiff_qpack_decoder_cancel_stream)
 *   - decoder-stream bytes to send back   (skiff_qpack_decoder_take_instructions):
 *     Section Acknowledgment, Stream Cancellation, Insert Count Increment.
 *
 * Limits the peer cannot raise: the table capacity and blocked-stream count we
 * announced in SETTINGS, SETTINGS_MAX_FIELD_SECTION_SIZE on the decoded size
 * (checked before a string is decoded or stored, against decompression bombs),
 * and bounded buffers for partial instructions and blocked sections.
 */
#ifndef SKIFF_H3_QPACK_DECODER_H
#define SKIFF_H3_QPACK_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h3/h3_field.h"
#include "skiff/skiff.h"

typedef struct skiff_qpack_decoder skiff_qpack_decoder;

/* decode_section results besides 0 (decoded) and negative errors. */
#define SKIFF_QPACK_BLOCKED 1   /* waits for inserts; resumes through pop_unblocked */
#define SKIFF_QPACK_TOO_LARGE 2 /* decoded size would pass max_field_section_size */

/* Called once per decoded field, in order. The bytes are valid only during
 * the call. Return 0 to go on, or a negative SKIFF_ERR_* to stop decoding
 * (decode_section then returns it, with *wire_error = SKIFF_H3_INTERNAL_ERROR). */
typedef int (*skiff_qpack_emit)(void *ud, const skiff_h3_field *field);

/* max_table_capacity and max_blocked_streams are what we announce in
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY / SETTINGS_QPACK_BLOCKED_STREAMS;
 * max_field_section_size what we announce in SETTINGS_MAX_FIELD_SECTION_SIZE
 * (RFC 9114 §4.2.2; sizes count name + value + 32 per field).
 * Returns 0 or SKIFF_ERR_NOMEM. */
int skiff_qpack_decoder_new(skiff_qpack_decoder **out, uint64_t max_table_capacity,
                            uint64_t max_blocked_streams, uint64_t max_field_section_size);
void skiff_qpack_decoder_free(skiff_qpack_decoder *d);

/* Bytes of the peer's encoder stream (RFC 9204 §4.3), in any chunking; a
 * partial instruction is kept for the next call. Returns 0, or a negative
 * SKIFF_ERR_* with *wire_error = SKIFF_QPACK_ENCODER_STREAM_ERROR (a capacity
 * above ours, a reference to a missing entry, an entry larger than the table,
 * bad Huffman, an integer overflow). Inserts may unblock sections: see
 * skiff_qpack_decoder_pop_unblocked. */
int skiff_qpack_decoder_feed_encoder_stream(skiff_qpack_decoder *d, const uint8_t *p, size_t len,
                                            uint64_t *wire_error);

/* Decodes one encoded field section (a HEADERS frame's payload) of stream_id,
 * calling emit for each field. Returns
 *   0                      all fields emitted; a Section Acknowledgment is
 *                          queued when the section used the dynamic table;
 *   SKIFF_QPACK_BLOCKED    its Required Insert Count is above the inserts
 *                          received: the decoder keeps a copy and nothing is
 *                          emitted yet (RFC 9204 §2.1.2);
 *   SKIFF_QPACK_TOO_LARGE  the decoded size would pass the limit: decoding
 *                          stopped before the offending string was decoded
 *                          (fields already emitted are to be discarded);
 *   negative SKIFF_ERR_*   *wire_error = SKIFF_QPACK_DECOMPRESSION_FAILED
 *                          (bad prefix, reference to an evicted or missing
 *                          entry, bad Huffman or padding, more blocked
 *                          streams than announced, truncation), or the
 *                          emit callback's failure. */
int skiff_qpack_decode_section(skiff_qpack_decoder *d, uint64_t stream_id, const uint8_t *p,
                               size_t len, skiff_qpack_emit emit, void *ud, uint64_t *wire_error);

/* After feed_encoder_stream: a blocked stream whose section can now be
 * decoded. Returns true and sets *stream_id, once per such stream; the caller
 * then calls skiff_qpack_decoder_resume for it. */
bool skiff_qpack_decoder_pop_unblocked(skiff_qpack_decoder *d, uint64_t *stream_id);

/* Decodes the stored section of an unblocked stream (results as decode_section,
 * never BLOCKED). */
int skiff_qpack_decoder_resume(skiff_qpack_decoder *d, uint64_t stream_id, skiff_qpack_emit emit,
                               void *ud, uint64_t *wire_error);

/* The stream was reset or abandoned before its sections were decoded: drops
 * a blocked section and queues a Stream Cancellation (RFC 9204 §4.4.2) when
 * the dynamic table has a capacity. */
void skiff_qpack_decoder_cancel_stream(skiff_qpack_decoder *d, uint64_t stream_id);

/* Moves up to cap bytes of queued decoder-stream instructions to out (a byte
 * stream: an instruction may be split across calls). Returns the count. */
size_t skiff_qpack_decoder_take_instructions(skiff_qpack_decoder *d, uint8_t *out, size_t cap);

/* Blocked streams now, and entries inserted so far (for tests and stats). */
size_t skiff_qpack_decoder_blocked_streams(const skiff_qpack_decoder *d);
uint64_t skiff_qpack_decoder_insert_count(const skiff_qpack_decoder *d);

#endif
