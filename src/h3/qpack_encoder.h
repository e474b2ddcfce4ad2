/*
 * QPACK encoder (RFC 9204): writes field sections for HEADERS frames, using
 * the static table, Huffman coding when it is shorter, and a dynamic table in
 * the peer's decoder (inserted through our encoder stream) for fields that
 * repeat across requests.
 *
 * It never references an entry the peer may not have unless the peer's
 * SETTINGS_QPACK_BLOCKED_STREAMS allows one more blocked stream, never evicts
 * an entry that an unacknowledged section or insert still needs (§2.1.1),
 * and never exceeds the capacity the peer announced.
 *
 * Inputs: the peer's SETTINGS, field sections to encode, and the peer's
 * decoder-stream bytes (Section Acknowledgment, Stream Cancellation, Insert
 * Count Increment). Output: encoder-stream bytes to send.
 */
#ifndef SKIFF_H3_QPACK_ENCODER_H
#define SKIFF_H3_QPACK_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h3/h3_field.h"
#include "skiff/skiff.h"

typedef struct skiff_qpack_encoder skiff_qpack_encoder;

/* max_capacity: the most table memory we are willing to use for the peer,
 * whatever it allows (0: static table and literals only). Returns 0 or
 * SKIFF_ERR_NOMEM. */
int skiff_qpack_encoder_new(skiff_qpack_encoder **out, uint64_t max_capacity);
void skiff_qpack_encoder_free(skiff_qpack_encoder *e);

/* The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS.
 * Until called, the dynamic table is not used (both are 0 by default). The
 * encoder then queues a Set Dynamic Table Capacity of min(ours, theirs). */
void skiff_qpack_encoder_set_peer_settings(skiff_qpack_encoder *e, uint64_t max_table_capacity,
                                           uint64_t blocked_streams);

/* Encodes fields as one field section for stream_id into out[0..cap) (the
 * HEADERS payload). Encoder-stream instructions it needs are queued. Returns
 * the length, or SKIFF_ERR_BUFFER_TOO_SMALL / SKIFF_ERR_NOMEM (nothing is
 * then queued or referenced). */
skiff_ssize skiff_qpack_encode_section(skiff_qpack_encoder *e, uint64_t stream_id,
                                       const skiff_h3_field *fields, size_t count, uint8_t *out,
                                       size_t cap);

/* Bytes of the peer's decoder stream (RFC 9204 §4.4), in any chunking.
 * Returns 0, or a negative SKIFF_ERR_* with *wire_error =
 * SKIFF_QPACK_DECODER_STREAM_ERROR (an acknowledgment of a stream with no
 * outstanding section, an increment of 0 or past the inserts sent). */
int skiff_qpack_encoder_feed_decoder_stream(skiff_qpack_encoder *e, const uint8_t *p, size_t len,
                                            uint64_t *wire_error);

/* Moves up to cap bytes of queued encoder-stream instructions to out.
 * Returns the count. */
size_t skiff_qpack_encoder_take_instructions(skiff_qpack_encoder *e, uint8_t *out, size_t cap);

/* Entries inserted so far, and acknowledged by the peer (tests, stats). */
uint64_t skiff_qpack_encoder_insert_count(const skiff_qpack_encoder *e);
uint64_t skiff_qpack_encoder_known_received_count(const skiff_qpack_encoder *e);

#endif
