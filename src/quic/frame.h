/*
 * QUIC frames (RFC 9000 §12.4, §19) and DATAGRAM (RFC 9221 §4): one struct per
 * frame, a tagged union, and pure encoders and decoders.
 *
 * Decoders only parse: they never touch connection state and never allocate.
 * They are zero-copy: every variable-length field (STREAM and CRYPTO data,
 * NEW_TOKEN token, NEW_CONNECTION_ID connection ID and reset token,
 * CONNECTION_CLOSE reason, DATAGRAM payload, ACK ranges) points into the
 * caller's buffer, which must outlive the decoded frame. Every rule that the
 * frame alone lets a receiver check is checked here (RFC section beside each
 * in frame.c); rules that need state (flow control, stream direction, CID
 * limits) belong to the modules that hold that state.
 *
 * Encoders write into a caller buffer `out[0..cap)` and return the bytes
 * written, SKIFF_ERR_BUFFER_TOO_SMALL (nothing useful written), or
 * SKIFF_ERR_INVALID_ARGUMENT when the frame breaks a rule of §19 (a value over
 * 2^62-1, an empty NEW_TOKEN, a CID of 0 or over 20 bytes, ...). Given
 * out == NULL, an encoder writes nothing and returns the size the frame would
 * take (or SKIFF_ERR_INVALID_ARGUMENT). The size helpers below let the packet
 * builder fit a frame before writing it.
 *
 * See docs/internals/frames.md.
 */
#ifndef SKIFF_QUIC_FRAME_H
#define SKIFF_QUIC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include "quic/packet_type.h"
#include "skiff/skiff.h"

/* Frame types (RFC 9000 §19, Table 3; RFC 9221 §4). */
#define SKIFF_FRAME_PADDING 0x00u
#define SKIFF_FRAME_PING 0x01u
#define SKIFF_FRAME_ACK 0x02u
#define SKIFF_FRAME_ACK_ECN 0x03u
#define SKIFF_FRAME_RESET_STREAM 0x04u
#define SKIFF_FRAME_STOP_SENDING 0x05u
#define SKIFF_FRAME_CRYPTO 0x06u
#define SKIFF_FRAME_NEW_TOKEN 0x07u
#define SKIFF_FRAME_STREAM 0x08u /* 0x08..0x0f: STREAM | OFF | LEN | FIN */
#define SKIFF_FRAME_STREAM_FIN 0x01u
#define SKIFF_FRAME_STREAM_LEN 0x02u
#define SKIFF_FRAME_STREAM_OFF 0x04u
#define SKIFF_FRAME_STREAM_LAST 0x0fu
#define SKIFF_FRAME_MAX_DATA 0x10u
#define SKIFF_FRAME_MAX_STREAM_DATA 0x11u
#define SKIFF_FRAME_MAX_STREAMS_BIDI 0x12u
#define SKIFF_FRAME_MAX_STREAMS_UNI 0x13u
#define SKIFF_FRAME_DATA_BLOCKED 0x14u
#define SKIFF_FRAME_STREAM_DATA_BLOCKED 0x15u
#define SKIFF_FRAME_STREAMS_BLOCKED_BIDI 0x16u
#define SKIFF_FRAME_STREAMS_BLOCKED_UNI 0x17u
#define SKIFF_FRAME_NEW_CONNECTION_ID 0x18u
#define SKIFF_FRAME_RETIRE_CONNECTION_ID 0x19u
#define SKIFF_FRAME_PATH_CHALLENGE 0x1au
#define SKIFF_FRAME_PATH_RESPONSE 0x1bu
#define SKIFF_FRAME_CONNECTION_CLOSE 0x1cu     /* transport error, carries a frame type */
#define SKIFF_FRAME_CONNECTION_CLOSE_APP 0x1du /* application error */
#define SKIFF_FRAME_HANDSHAKE_DONE 0x1eu
#define SKIFF_FRAME_DATAGRAM 0x30u     /* RFC 9221: payload runs to the end of the packet */
#define SKIFF_FRAME_DATAGRAM_LEN 0x31u /* RFC 9221: payload carries a length */

#define SKIFF_FRAME_CID_MAX_LEN 20                        /* RFC 9000 §19.15 */
#define SKIFF_FRAME_RESET_TOKEN_LEN 16                    /* RFC 9000 §10.3 */
#define SKIFF_FRAME_PATH_DATA_LEN 8                       /* RFC 9000 §19.17 */
#define SKIFF_FRAME_MAX_STREAMS_LIMIT (UINT64_C(1) << 60) /* RFC 9000 §19.11, §19.14 */

static inline bool skiff_frame_is_stream(uint64_t type)
{
    return type >= SKIFF_FRAME_STREAM && type <= SKIFF_FRAME_STREAM_LAST;
}

/* A run of consecutive PADDING bytes, decoded as one frame (§19.1). */
typedef struct skiff_frame_padding {
    size_t len; /* >= 1 */
} skiff_frame_padding;

typedef struct skiff_frame_ecn_counts {
    uint64_t ect0, ect1, ce;
} skiff_frame_ecn_counts;

/*
 * ACK (§19.3). A decoded ACK keeps its Gap/ACK Range pairs as wire bytes
 * (`ranges`, `ranges_len`), already validated; walk them with
 * skiff_frame_ack_iter. `smallest` is the smallest acknowledged packet number,
 * worked out by the validation. skiff_frame_encode() writes the wire ranges
 * back verbatim; new ACKs are built from intervals with
 * skiff_frame_ack_encode_intervals().
 */
typedef struct skiff_frame_ack {
    uint64_t largest;
    uint64_t ack_delay; /* raw: the receiver scales it by its peer's ack_delay_exponent */
    uint64_t first_range;
    uint64_t range_count; /* Gap/ACK Range pairs after the first range */
    const uint8_t *ranges;
    size_t ranges_len;
    uint64_t smallest; /* decode only */
    bool has_ecn;      /* type 0x03 */
    skiff_frame_ecn_counts ecn;
} skiff_frame_ack;

/* One acknowledged interval [smallest, largest], both inclusive. */
typedef struct skiff_frame_ack_interval {
    uint64_t smallest;
    uint64_t largest;
} skiff_frame_ack_interval;

typedef struct skiff_frame_reset_stream {
    uint64_t stream_id;
    uint64_t app_error_code;
    uint64_t final_size;
} skiff_frame_reset_stream;

typedef struct skiff_frame_stop_sending {
    uint64_t stream_id;
    uint64_t app_error_code;
} skiff_frame_stop_sending;

typedef struct skiff_frame_crypto {
    uint64_t offset;
    const uint8_t *data;
    size_t len;
} skiff_frame_crypto;

typedef struct skiff_frame_new_token {
    const uint8_t *token;
    size_t len; /* >= 1 (§19.7) */
} skiff_frame_new_token;

/*
 * STREAM (§19.8). The encoders write the OFF bit only for a non-zero offset
 * (so a decoded 0x0c..0x0f frame with offset 0 re-encodes one byte shorter),
 * the LEN bit iff has_length, the FIN bit iff fin. Without has_length the data
 * runs to the end of the packet, so such a frame must be the packet's last.
 */
typedef struct skiff_frame_stream {
    uint64_t stream_id;
    uint64_t offset;
    const uint8_t *data;
    size_t len;
    bool fin;
    bool has_length;
} skiff_frame_stream;

typedef struct skiff_frame_max_data {
    uint64_t max;
} skiff_frame_max_data;

typedef struct skiff_frame_max_stream_data {
    uint64_t stream_id;
    uint64_t max;
} skiff_frame_max_stream_data;

typedef struct skiff_frame_max_streams {
    uint64_t max; /* <= 2^60 */
    bool bidi;    /* type 0x12; 0x13 when false */
} skiff_frame_max_streams;

typedef struct skiff_frame_data_blocked {
    uint64_t limit;
} skiff_frame_data_blocked;

typedef struct skiff_frame_stream_data_blocked {
    uint64_t stream_id;
    uint64_t limit;
} skiff_frame_stream_data_blocked;

typedef struct skiff_frame_streams_blocked {
    uint64_t limit; /* <= 2^60 */
    bool bidi;      /* type 0x16; 0x17 when false */
} skiff_frame_streams_blocked;

typedef struct skiff_frame_new_connection_id {
    uint64_t seq;
    uint64_t retire_prior_to; /* <= seq */
    const uint8_t *cid;
    uint8_t cid_len;            /* 1..20 */
    const uint8_t *reset_token; /* SKIFF_FRAME_RESET_TOKEN_LEN bytes */
} skiff_frame_new_connection_id;

typedef struct skiff_frame_retire_connection_id {
    uint64_t seq;
} skiff_frame_retire_connection_id;

/* PATH_CHALLENGE and PATH_RESPONSE (§19.17, §19.18): 8 bytes, copied so
 * that a response can be queued after the packet buffer is gone. */
typedef struct skiff_frame_path_data {
    uint8_t data[SKIFF_FRAME_PATH_DATA_LEN];
} skiff_frame_path_data;

typedef struct skiff_frame_connection_close {
    uint64_t error_code;
    uint64_t frame_type; /* 0x1c only: the frame that triggered the error, 0 if unknown */
    const uint8_t *reason;
    size_t reason_len;
    bool app; /* type 0x1d: an application error, no frame type */
} skiff_frame_connection_close;

typedef struct skiff_frame_datagram {
    const uint8_t *data;
    size_t len;
    bool has_length; /* type 0x31; without it the payload runs to the packet's end */
} skiff_frame_datagram;

/*
 * Any frame. `type` is the type as on the wire (0x08..0x0f for STREAM, 0x03
 * for ACK with ECN, ...); the member to read follows from it. For the types
 * that come in variants, skiff_frame_encode() uses `type` only to pick the
 * member and takes the variant from the member's own fields (has_ecn, bidi,
 * app, fin/has_length, has_length), which the decoder sets to match.
 */
typedef struct skiff_frame {
    uint64_t type;
    union {
        skiff_frame_padding padding;
        skiff_frame_ack ack;
        skiff_frame_reset_stream reset_stream;
        skiff_frame_stop_sending stop_sending;
        skiff_frame_crypto crypto;
        skiff_frame_new_token new_token;
        skiff_frame_stream stream;
        skiff_frame_max_data max_data;
        skiff_frame_max_stream_data max_stream_data;
        skiff_frame_max_streams max_streams;
        skiff_frame_data_blocked data_blocked;
        skiff_frame_stream_data_blocked stream_data_blocked;
        skiff_frame_streams_blocked streams_blocked;
        skiff_frame_new_connection_id new_connection_id;
        skiff_frame_retire_connection_id retire_connection_id;
        skiff_frame_path_data path_challenge;
        skiff_frame_path_data path_response;
        skiff_frame_connection_close connection_close;
        skiff_frame_datagram datagram;
    };
} skiff_frame;

/* ---- Decoding ---------------------------------------------------------- */

/*
 * Decodes the frame at the start of p[0..len) into *f. Returns the bytes it
 * occupies (>= 1), or:
 *   SKIFF_ERR_FRAME_ENCODING      an unknown type, a truncated frame (also
 *                                 len == 0), a length beyond the buffer, or a
 *                                 value outside its §19 limits
 *   SKIFF_ERR_PROTOCOL_VIOLATION  a frame type not in its shortest encoding (§12.4)
 * On error *f is unspecified.
 */
skiff_ssize skiff_frame_decode(skiff_frame *f, const uint8_t *p, size_t len);

/*
 * As skiff_frame_decode(), for a frame received in a packet of type `pt`;
 * also returns SKIFF_ERR_PROTOCOL_VIOLATION for a known frame that the packet
 * type may not carry (skiff_frame_allowed()).
 */
skiff_ssize skiff_frame_decode_in(skiff_frame *f, const uint8_t *p, size_t len,
                                  skiff_packet_type pt);

/*
 * Walks the intervals a decoded ACK acknowledges, largest first:
 *
 *   skiff_frame_ack_iter it;
 *   skiff_frame_ack_iter_init(&it, &f.ack);
 *   while (skiff_frame_ack_iter_next(&it, &iv)) ...
 */
typedef struct skiff_frame_ack_iter {
    const uint8_t *pos;
    const uint8_t *end;
    uint64_t left;     /* Gap/ACK Range pairs not yet read */
    uint64_t largest;  /* the frame's largest, until the first interval is out */
    uint64_t first;    /* the frame's first range, likewise */
    uint64_t smallest; /* smallest of the interval returned last */
    bool started;
} skiff_frame_ack_iter;

void skiff_frame_ack_iter_init(skiff_frame_ack_iter *it, const skiff_frame_ack *ack);

/* Sets *iv to the next interval and returns true, or returns false at the end
 * (or at the first inconsistency, for an ACK that was not decoded). */
bool skiff_frame_ack_iter_next(skiff_frame_ack_iter *it, skiff_frame_ack_interval *iv);

/* ---- Encoding ---------------------------------------------------------- */

/* The encoded size of *f, or SKIFF_ERR_INVALID_ARGUMENT. */
skiff_ssize skiff_frame_size(const skiff_frame *f);

/* Writes *f, dispatching on f->type (see above). */
skiff_ssize skiff_frame_encode(uint8_t *out, size_t cap, const skiff_frame *f);

/* `len` PADDING bytes (len >= 1). */
skiff_ssize skiff_frame_padding_encode(uint8_t *out, size_t cap, size_t len);
skiff_ssize skiff_frame_ping_encode(uint8_t *out, size_t cap);
skiff_ssize skiff_frame_handshake_done_encode(uint8_t *out, size_t cap);

/* An ACK with its wire ranges as decoded (a round trip writes the same bytes). */
skiff_ssize skiff_frame_ack_encode(uint8_t *out, size_t cap, const skiff_frame_ack *f);

/*
 * Builds an ACK from `n` >= 1 intervals in descending order, disjoint and not
 * adjacent (what ACK tracking holds). `cap` is the byte budget: the first
 * interval must fit, then as many more as fit are written, newest first, and
 * *written (may be NULL) tells how many. `ecn` NULL writes type 0x02, else
 * 0x03 with its counts. Returns bytes written, SKIFF_ERR_BUFFER_TOO_SMALL when
 * not even the first interval fits, SKIFF_ERR_INVALID_ARGUMENT for n == 0,
 * intervals out of order, overlapping or adjacent, or values over 2^62-1.
 */
skiff_ssize skiff_frame_ack_encode_intervals(uint8_t *out, size_t cap,
                                             const skiff_frame_ack_interval *iv, size_t n,
                                             uint64_t ack_delay, const skiff_frame_ecn_counts *ecn,
                                             size_t *written);

skiff_ssize skiff_frame_reset_stream_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_reset_stream *f);
skiff_ssize skiff_frame_stop_sending_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_stop_sending *f);
skiff_ssize skiff_frame_crypto_encode(uint8_t *out, size_t cap, const skiff_frame_crypto *f);
skiff_ssize skiff_frame_new_token_encode(uint8_t *out, size_t cap, const skiff_frame_new_token *f);
skiff_ssize skiff_frame_stream_encode(uint8_t *out, size_t cap, const skiff_frame_stream *f);
skiff_ssize skiff_frame_max_data_encode(uint8_t *out, size_t cap, const skiff_frame_max_data *f);
skiff_ssize skiff_frame_max_stream_data_encode(uint8_t *out, size_t cap,
                                               const skiff_frame_max_stream_data *f);
skiff_ssize skiff_frame_max_streams_encode(uint8_t *out, size_t cap,
                                           const skiff_frame_max_streams *f);
skiff_ssize skiff_frame_data_blocked_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_data_blocked *f);
skiff_ssize skiff_frame_stream_data_blocked_encode(uint8_t *out, size_t cap,
                                                   const skiff_frame_stream_data_blocked *f);
skiff_ssize skiff_frame_streams_blocked_encode(uint8_t *out, size_t cap,
                                               const skiff_frame_streams_blocked *f);
skiff_ssize skiff_frame_new_connection_id_encode(uint8_t *out, size_t cap,
                                                 const skiff_frame_new_connection_id *f);
skiff_ssize skiff_frame_retire_connection_id_encode(uint8_t *out, size_t cap,
                                                    const skiff_frame_retire_connection_id *f);
skiff_ssize skiff_frame_path_challenge_encode(uint8_t *out, size_t cap,
                                              const skiff_frame_path_data *f);
skiff_ssize skiff_frame_path_response_encode(uint8_t *out, size_t cap,
                                             const skiff_frame_path_data *f);
skiff_ssize skiff_frame_connection_close_encode(uint8_t *out, size_t cap,
                                                const skiff_frame_connection_close *f);
skiff_ssize skiff_frame_datagram_encode(uint8_t *out, size_t cap, const skiff_frame_datagram *f);

/* ---- Sizes, for the packet builder ------------------------------------- */

/*
 * STREAM and CRYPTO headers written on their own, so the builder can copy the
 * data from wherever the send buffer keeps it: everything of the frame except
 * its f->len data bytes (f->data is not read). Same returns as the encoders.
 */
skiff_ssize skiff_frame_stream_encode_header(uint8_t *out, size_t cap, const skiff_frame_stream *f);
skiff_ssize skiff_frame_crypto_encode_header(uint8_t *out, size_t cap, const skiff_frame_crypto *f);

/* The size of a STREAM frame's header (all but the data); 0 if a value is
 * over 2^62-1. */
size_t skiff_frame_stream_header_size(uint64_t stream_id, uint64_t offset, size_t len,
                                      bool has_length);

/*
 * The most data bytes a STREAM frame for (stream_id, offset) can carry in
 * `space` bytes, header included, also capped so that offset + data stays
 * within 2^62-1; 0 if not even a header and one byte fit. With has_length
 * the Length field's own size is accounted for.
 */
size_t skiff_frame_stream_max_data(uint64_t stream_id, uint64_t offset, size_t space,
                                   bool has_length);

size_t skiff_frame_crypto_header_size(uint64_t offset, size_t len);
size_t skiff_frame_crypto_max_data(uint64_t offset, size_t space);
size_t skiff_frame_datagram_max_data(size_t space, bool has_length);

/* ---- Frame properties -------------------------------------------------- */

/* Whether a packet of type `pt` may carry this frame type (RFC 9000 §12.4
 * Table 3, §12.5, §17.2.3; RFC 9221 §4). False for unknown types. */
bool skiff_frame_allowed(uint64_t type, skiff_packet_type pt);

/* RFC 9002 §2: every frame but ACK, PADDING and CONNECTION_CLOSE elicits an
 * acknowledgment. False for unknown types. */
bool skiff_frame_is_ack_eliciting(uint64_t type);

/* RFC 9002 §2: a packet is in flight if it has an ack-eliciting frame or
 * PADDING; this says whether this frame makes it so. */
bool skiff_frame_counts_in_flight(uint64_t type);

/* RFC 9000 §9.1: PADDING, PATH_CHALLENGE, PATH_RESPONSE and NEW_CONNECTION_ID
 * are probing frames; a packet of only these does not migrate a connection. */
bool skiff_frame_is_probing(uint64_t type);

/* The RFC name ("STREAM", "ACK", ...), or "UNKNOWN". Never NULL. */
const char *skiff_frame_name(uint64_t type);

/* Internal to the codec: frame.c's decoder calls frame_ack.c for the body of
 * an ACK (`r` just past the type). Returns 0 or SKIFF_ERR_FRAME_ENCODING. */
int skiff_frame_ack_decode_body(skiff_reader *r, bool ecn, skiff_frame_ack *f);

#endif
