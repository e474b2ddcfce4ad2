/*
 * QUIC frame codec: the frames of RFC 9000 §19 and DATAGRAM (RFC 9221 §4),
 * the frame/packet-type table of RFC 9000 §12.4 (Table 3), §12.5 and
 * §17.2.3, and the frame properties of RFC 9002 §2. The ACK frame, whose
 * ranges need more care, lives in frame_ack.c.
 *
 * The decoder is on the receive hot path, so it reads the type from the first
 * byte (every frame type skiff knows fits in one), looks up one table entry
 * for its properties, and decodes the body through the inline cursor helpers
 * of common/wire.h. Any read past the end of the input is a badly formatted
 * frame, FRAME_ENCODING_ERROR (RFC 9000 §20.1: "a frame that was badly
 * formatted -- for instance, a frame of an unknown type or an ACK frame that
 * has more acknowledgment ranges than the remainder of the packet could carry").
 *
 * Encoders work out the exact size first, then check the room once and write
 * without further checks. out == NULL asks any encoder for the size only,
 * which is how skiff_frame_size() shares their code.
 */
#include "quic/frame.h"

#include <string.h>

#include "common/varint.h"
#include "common/wire.h"

/* ---- Frame properties (RFC 9000 §12.4 Table 3, §12.5; RFC 9002 §2) ------- */

/* Packet types a frame may appear in, one bit per skiff_packet_type. */
#define P_I (1u << SKIFF_PKT_INITIAL)
#define P_0 (1u << SKIFF_PKT_0RTT)
#define P_H (1u << SKIFF_PKT_HANDSHAKE)
#define P_1 (1u << SKIFF_PKT_1RTT)
#define P_PKTS (P_I | P_0 | P_H | P_1)
#define KNOWN (1u << 8)
#define ELICIT (1u << 9)  /* ack-eliciting (RFC 9002 §2) */
#define PROBE (1u << 10)  /* probing frame (RFC 9000 §9.1) */
#define FLIGHT (1u << 11) /* makes a packet count in flight (RFC 9002 §2) */
#define ORDINARY (KNOWN | ELICIT | FLIGHT)

/*
 * Table 3 of RFC 9000 §12.4, with the 0-RTT exclusions of §12.5 ("it is not
 * possible to send the following frames in 0-RTT packets: ACK, CRYPTO,
 * HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE, and RETIRE_CONNECTION_ID"), and
 * CONNECTION_CLOSE 0x1d kept out of Initial and Handshake (§12.5, Table 3's
 * lower-case "ih"). Retry and Version Negotiation carry no frames.
 */
static const uint16_t frame_props[0x1f] = {
    [SKIFF_FRAME_PADDING] = P_PKTS | KNOWN | PROBE | FLIGHT,
    [SKIFF_FRAME_PING] = P_PKTS | ORDINARY,
    [SKIFF_FRAME_ACK] = P_I | P_H | P_1 | KNOWN,
    [SKIFF_FRAME_ACK_ECN] = P_I | P_H | P_1 | KNOWN,
    [SKIFF_FRAME_RESET_STREAM] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_STOP_SENDING] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_CRYPTO] = P_I | P_H | P_1 | ORDINARY,
    [SKIFF_FRAME_NEW_TOKEN] = P_1 | ORDINARY,
    [0x08] = P_0 | P_1 | ORDINARY,
    [0x09] = P_0 | P_1 | ORDINARY,
    [0x0a] = P_0 | P_1 | ORDINARY,
    [0x0b] = P_0 | P_1 | ORDINARY,
    [0x0c] = P_0 | P_1 | ORDINARY,
    [0x0d] = P_0 | P_1 | ORDINARY,
    [0x0e] = P_0 | P_1 | ORDINARY,
    [0x0f] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_MAX_DATA] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_MAX_STREAM_DATA] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_MAX_STREAMS_BIDI] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_MAX_STREAMS_UNI] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_DATA_BLOCKED] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_STREAM_DATA_BLOCKED] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_STREAMS_BLOCKED_BIDI] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_STREAMS_BLOCKED_UNI] = P_0 | P_1 | ORDINARY,
    [SKIFF_FRAME_NEW_CONNECTION_ID] = P_0 | P_1 | ORDINARY | PROBE,
    [SKIFF_FRAME_RETIRE_CONNECTION_ID] = P_1 | ORDINARY,
    [SKIFF_FRAME_PATH_CHALLENGE] = P_0 | P_1 | ORDINARY | PROBE,
    [SKIFF_FRAME_PATH_RESPONSE] = P_1 | ORDINARY | PROBE,
    [SKIFF_FRAME_CONNECTION_CLOSE] = P_PKTS | KNOWN,
    [SKIFF_FRAME_CONNECTION_CLOSE_APP] = P_0 | P_1 | KNOWN,
    [SKIFF_FRAME_HANDSHAKE_DONE] = P_1 | ORDINARY,
};

/* RFC 9221 §4: "DATAGRAM frames MUST only be sent in 0-RTT and 1-RTT packets";
 * §5.2: they are ack-eliciting. */
#define DATAGRAM_PROPS (P_0 | P_1 | ORDINARY)

static inline unsigned props_of(uint64_t type)
{
    if (type < sizeof frame_props / sizeof frame_props[0]) return frame_props[type];
    if (type == SKIFF_FRAME_DATAGRAM || type == SKIFF_FRAME_DATAGRAM_LEN) return DATAGRAM_PROPS;
    return 0;
}

bool skiff_frame_allowed(uint64_t type, skiff_packet_type pt)
{
    if ((unsigned)pt >= SKIFF_PKT_TYPE_COUNT) return false;
    return (props_of(type) & (1u << pt)) != 0;
}

bool skiff_frame_is_ack_eliciting(uint64_t type)
{
    return (props_of(type) & ELICIT) != 0;
}

bool skiff_frame_counts_in_flight(uint64_t type)
{
    return (props_of(type) & FLIGHT) != 0;
}

bool skiff_frame_is_probing(uint64_t type)
{
    return (props_of(type) & PROBE) != 0;
}

const char *skiff_frame_name(uint64_t type)
{
    static const char *const names[0x1f] = {
        "PADDING",
        "PING",
        "ACK",
        "ACK_ECN",
        "RESET_STREAM",
        "STOP_SENDING",
        "CRYPTO",
        "NEW_TOKEN",
        "STREAM",
        "STREAM",
        "STREAM",
        "STREAM",
        "STREAM",
        "STREAM",
        "STREAM",
        "STREAM",
        "MAX_DATA",
        "MAX_STREAM_DATA",
        "MAX_STREAMS_BIDI",
        "MAX_STREAMS_UNI",
        "DATA_BLOCKED",
        "STREAM_DATA_BLOCKED",
        "STREAMS_BLOCKED_BIDI",
        "STREAMS_BLOCKED_UNI",
        "NEW_CONNECTION_ID",
        "RETIRE_CONNECTION_ID",
        "PATH_CHALLENGE",
        "PATH_RESPONSE",
        "CONNECTION_CLOSE",
        "CONNECTION_CLOSE_APP",
        "HANDSHAKE_DONE",
    };
    if (type < sizeof names / sizeof names[0]) return names[type];
    if (type == SKIFF_FRAME_DATAGRAM) return "DATAGRAM";
    if (type == SKIFF_FRAME_DATAGRAM_LEN) return "DATAGRAM_LEN";
    return "UNKNOWN";
}

/* ---- Decoding ------------------------------------------------------------ */

/* One varint field; false when the frame ends inside it. */
static inline bool get(skiff_reader *r, uint64_t *v)
{
    return skiff_reader_varint(r, v) == 0;
}

/* A length-prefixed field: the length must not run past the input (§12.4). */
static inline bool get_bytes(skiff_reader *r, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (!get(r, &len) || len > skiff_reader_left(r)) return false;
    *p = r->pos;
    *n = (size_t)len;
    r->pos += len;
    return true;
}

/*
 * The length of the run of zero bytes at p (p[0] == 0 already). Padding
 * fills whole Initial packets, so the run is scanned a word at a time.
 */
static inline size_t zero_run(const uint8_t *p, size_t len)
{
    size_t i = 1;
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w) break;
        i += 8;
    }
    while (i < len && p[i] == 0)
        i++;
    return i;
}

/* Two varint fields: §19.5 STOP_SENDING, §19.10 MAX_STREAM_DATA, §19.13
 * STREAM_DATA_BLOCKED. */
static inline int get2(skiff_reader *r, uint64_t *a, uint64_t *b)
{
    return get(r, a) && get(r, b) ? 0 : SKIFF_ERR_FRAME_ENCODING;
}

/* §19.6: CRYPTO. */
static inline int decode_crypto(skiff_reader *r, skiff_frame_crypto *f)
{
    if (!get(r, &f->offset) || !get_bytes(r, &f->data, &f->len)) return SKIFF_ERR_FRAME_ENCODING;
    /* §19.6: "The largest offset delivered on a stream -- the sum of the
     * offset and data length -- cannot exceed 2^62-1": FRAME_ENCODING_ERROR. */
    if (f->len > SKIFF_VARINT_MAX - f->offset) return SKIFF_ERR_FRAME_ENCODING;
    return 0;
}

/* §19.8: STREAM, its type bits saying which fields are present. */
static inline int decode_stream(skiff_reader *r, uint64_t type, skiff_frame_stream *f)
{
    uint64_t len;
    f->offset = 0;
    if (!get(r, &f->stream_id)) return SKIFF_ERR_FRAME_ENCODING;
    if ((type & SKIFF_FRAME_STREAM_OFF) && !get(r, &f->offset)) return SKIFF_ERR_FRAME_ENCODING;
    if (type & SKIFF_FRAME_STREAM_LEN) {
        if (!get(r, &len) || len > skiff_reader_left(r)) return SKIFF_ERR_FRAME_ENCODING;
    } else {
        len =
            skiff_reader_left(r); /* "the Stream Data field ... extends to the end of the packet" */
    }
    /* §19.8: offset + length beyond 2^62-1 is a FRAME_ENCODING_ERROR (or
     * FLOW_CONTROL_ERROR; the frame alone shows the former). */
    if (len > SKIFF_VARINT_MAX - f->offset) return SKIFF_ERR_FRAME_ENCODING;
    f->data = r->pos;
    f->len = (size_t)len;
    r->pos += len;
    f->fin = (type & SKIFF_FRAME_STREAM_FIN) != 0;
    f->has_length = (type & SKIFF_FRAME_STREAM_LEN) != 0;
    return 0;
}

/* §19.11 MAX_STREAMS and §19.14 STREAMS_BLOCKED: a count of streams, which
 * cannot exceed 2^60 since no stream ID beyond 2^62-1 can be encoded. */
static inline int decode_stream_count(skiff_reader *r, uint64_t *v)
{
    if (!get(r, v) || *v > SKIFF_FRAME_MAX_STREAMS_LIMIT) return SKIFF_ERR_FRAME_ENCODING;
    return 0;
}

/* §19.15: NEW_CONNECTION_ID. */
static inline int decode_new_connection_id(skiff_reader *r, skiff_frame_new_connection_id *f)
{
    if (!get(r, &f->seq) || !get(r, &f->retire_prior_to) || skiff_reader_u8(r, &f->cid_len) ||
        f->cid_len == 0 || f->cid_len > SKIFF_FRAME_CID_MAX_LEN ||
        skiff_reader_bytes(r, f->cid_len, &f->cid) ||
        skiff_reader_bytes(r, SKIFF_FRAME_RESET_TOKEN_LEN, &f->reset_token))
        return SKIFF_ERR_FRAME_ENCODING;
    /* §19.15: "Receiving a value in the Retire Prior To field that is greater
     * than that in the Sequence Number field MUST be treated as a connection
     * error of type FRAME_ENCODING_ERROR." */
    if (f->retire_prior_to > f->seq) return SKIFF_ERR_FRAME_ENCODING;
    return 0;
}

/* §19.17, §19.18: PATH_CHALLENGE and PATH_RESPONSE carry 8 opaque bytes. */
static inline int decode_path_data(skiff_reader *r, skiff_frame_path_data *f)
{
    if (skiff_reader_left(r) < SKIFF_FRAME_PATH_DATA_LEN) return SKIFF_ERR_FRAME_ENCODING;
    memcpy(f->data, r->pos, SKIFF_FRAME_PATH_DATA_LEN);
    r->pos += SKIFF_FRAME_PATH_DATA_LEN;
    return 0;
}

/* §19.19: CONNECTION_CLOSE; only 0x1c carries the offending frame's type. */
static inline int decode_connection_close(skiff_reader *r, uint64_t type,
                                          skiff_frame_connection_close *f)
{
    f->app = type == SKIFF_FRAME_CONNECTION_CLOSE_APP;
    f->frame_type = 0;
    if (!get(r, &f->error_code) || (!f->app && !get(r, &f->frame_type)) ||
        !get_bytes(r, &f->reason, &f->reason_len))
        return SKIFF_ERR_FRAME_ENCODING;
    return 0;
}

/* RFC 9221 §4: DATAGRAM; 0x30 runs to the end of the packet. */
static inline int decode_datagram(skiff_reader *r, uint64_t type, skiff_frame_datagram *f)
{
    f->has_length = type == SKIFF_FRAME_DATAGRAM_LEN;
    if (f->has_length) {
        if (!get_bytes(r, &f->data, &f->len)) return SKIFF_ERR_FRAME_ENCODING;
    } else {
        f->data = r->pos;
        f->len = skiff_reader_left(r);
        r->pos = r->end;
    }
    return 0;
}

/*
 * The one decoder; `pt_mask` is the packet type's bit, or 0 for no packet
 * type check. Inlined into both entry points so the check costs nothing when
 * it is not asked for.
 */
static inline skiff_ssize decode(skiff_frame *f, const uint8_t *p, size_t len, unsigned pt_mask)
{
    if (len == 0) return SKIFF_ERR_FRAME_ENCODING;
    uint64_t type = p[0];
    if (type >= 0x40) {
        /* A type longer than one byte. §12.4: "the frame type MUST use the
         * shortest possible encoding ... An endpoint MAY treat the receipt of
         * a frame type that uses a longer encoding than necessary as a
         * connection error of type PROTOCOL_VIOLATION." A minimally encoded
         * one is a type skiff does not know: FRAME_ENCODING_ERROR. */
        skiff_ssize n = skiff_varint_decode(p, len, &type);
        if (n < 0) return SKIFF_ERR_FRAME_ENCODING;
        if (skiff_varint_len(type) != (size_t)n) return SKIFF_ERR_PROTOCOL_VIOLATION;
        return SKIFF_ERR_FRAME_ENCODING;
    }
    unsigned props = props_of(type);
    if (!(props & KNOWN)) return SKIFF_ERR_FRAME_ENCODING;                  /* §12.4 */
    if (pt_mask && !(props & pt_mask)) return SKIFF_ERR_PROTOCOL_VIOLATION; /* §12.4, §12.5 */
    f->type = type;

    skiff_reader r = skiff_reader_make(p + 1, len - 1);
    int rc = 0;
    switch (type) {
    case SKIFF_FRAME_PADDING:
        /* §19.1: consecutive PADDING bytes are one frame here; the receiver
         * has nothing to do per byte. */
        f->padding.len = zero_run(p, len);
        return (skiff_ssize)f->padding.len;
    case SKIFF_FRAME_PING:
    case SKIFF_FRAME_HANDSHAKE_DONE:
        return 1;
    case SKIFF_FRAME_ACK:
    case SKIFF_FRAME_ACK_ECN:
        rc = skiff_frame_ack_decode_body(&r, type == SKIFF_FRAME_ACK_ECN, &f->ack);
        break;
    case SKIFF_FRAME_RESET_STREAM:
        if (!get(&r, &f->reset_stream.stream_id) || !get(&r, &f->reset_stream.app_error_code) ||
            !get(&r, &f->reset_stream.final_size))
            rc = SKIFF_ERR_FRAME_ENCODING;
        break;
    case SKIFF_FRAME_STOP_SENDING:
        rc = get2(&r, &f->stop_sending.stream_id, &f->stop_sending.app_error_code);
        break;
    case SKIFF_FRAME_CRYPTO:
        rc = decode_crypto(&r, &f->crypto);
        break;
    case SKIFF_FRAME_NEW_TOKEN:
        /* §19.7: "A client MUST treat receipt of a NEW_TOKEN frame with an
         * empty Token field as a connection error of type FRAME_ENCODING_ERROR." */
        if (!get_bytes(&r, &f->new_token.token, &f->new_token.len) || f->new_token.len == 0)
            rc = SKIFF_ERR_FRAME_ENCODING;
        break;
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
        rc = decode_stream(&r, type, &f->stream);
        break;
    case SKIFF_FRAME_MAX_DATA:
        if (!get(&r, &f->max_data.max)) rc = SKIFF_ERR_FRAME_ENCODING;
        break;
    case SKIFF_FRAME_MAX_STREAM_DATA:
        rc = get2(&r, &f->max_stream_data.stream_id, &f->max_stream_data.max);
        break;
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI:
        f->max_streams.bidi = type == SKIFF_FRAME_MAX_STREAMS_BIDI;
        rc = decode_stream_count(&r, &f->max_streams.max);
        break;
    case SKIFF_FRAME_DATA_BLOCKED:
        if (!get(&r, &f->data_blocked.limit)) rc = SKIFF_ERR_FRAME_ENCODING;
        break;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        rc = get2(&r, &f->stream_data_blocked.stream_id, &f->stream_data_blocked.limit);
        break;
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI:
        f->streams_blocked.bidi = type == SKIFF_FRAME_STREAMS_BLOCKED_BIDI;
        rc = decode_stream_count(&r, &f->streams_blocked.limit);
        break;
    case SKIFF_FRAME_NEW_CONNECTION_ID:
        rc = decode_new_connection_id(&r, &f->new_connection_id);
        break;
    case SKIFF_FRAME_RETIRE_CONNECTION_ID:
        if (!get(&r, &f->retire_connection_id.seq)) rc = SKIFF_ERR_FRAME_ENCODING;
        break;
    case SKIFF_FRAME_PATH_CHALLENGE:
        rc = decode_path_data(&r, &f->path_challenge);
        break;
    case SKIFF_FRAME_PATH_RESPONSE:
        rc = decode_path_data(&r, &f->path_response);
        break;
    case SKIFF_FRAME_CONNECTION_CLOSE:
    case SKIFF_FRAME_CONNECTION_CLOSE_APP:
        rc = decode_connection_close(&r, type, &f->connection_close);
        break;
    case SKIFF_FRAME_DATAGRAM:
    case SKIFF_FRAME_DATAGRAM_LEN:
        rc = decode_datagram(&r, type, &f->datagram);
        break;
    default:
        return SKIFF_ERR_FRAME_ENCODING; /* unreachable: the table knows no other */
    }
    if (rc) return rc;
    return (skiff_ssize)(r.pos - p);
}

skiff_ssize skiff_frame_decode(skiff_frame *f, const uint8_t *p, size_t len)
{
    return decode(f, p, len, 0);
}

skiff_ssize skiff_frame_decode_in(skiff_frame *f, const uint8_t *p, size_t len,
                                  skiff_packet_type pt)
{
    /* Retry and Version Negotiation carry no frames; an out-of-range type
     * likewise allows none. */
    unsigned mask = (unsigned)pt < SKIFF_PKT_TYPE_COUNT ? 1u << pt : 1u << 15;
    return decode(f, p, len, mask);
}

/* ---- Encoding ------------------------------------------------------------ */

/* Every value a varint field can hold has bits 62 and 63 clear, so OR-ing the
 * fields of a frame and testing once finds any that is too large. */
static inline bool varints_ok(uint64_t any)
{
    return any <= SKIFF_VARINT_MAX;
}

/* The size check every encoder ends with; out == NULL asks for the size. */
static inline skiff_ssize room(const uint8_t *out, size_t cap, size_t size)
{
    if (out && size > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    return (skiff_ssize)size;
}

#define vlen skiff_varint_len
#define put skiff_varint_encode

/* A frame of a one-byte type followed by `n` varints (all types fit one byte). */
static skiff_ssize encode_varints(uint8_t *out, size_t cap, uint64_t type, uint64_t a, uint64_t b,
                                  uint64_t c, int n)
{
    if (!varints_ok(a | b | c)) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t size = 1 + vlen(a) + (n > 1 ? vlen(b) : 0) + (n > 2 ? vlen(c) : 0);
    skiff_ssize rc = room(out, cap, size);
    if (rc < 0 || !out) return rc;
    uint8_t *p = out;
    *p++ = (uint8_t)type;
    p = put(p, a);
    if (n > 1) p = put(p, b);
    if (n > 2) put(p, c);
    return rc;
}

skiff_ssize skiff_frame_padding_encode(uint8_t *out, size_t cap, size_t len)
{
    if (len == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_ssize rc = room(out, cap, len);
    if (rc > 0 && out) memset(out, 0, len);
    return rc;
}

static skiff_ssize encode_type_only(uint8_t *out, size_t cap, uint8_t type)
{
    skiff_ssize rc = room(out, cap, 1);
    if (rc > 0 && out) out[0] = type;
    return rc;
}

skiff_ssize skiff_frame_ping_encode(uint8_t *out, size_t cap)
{
    return encode_type_only(out, cap, SKIFF_FRAME_PING);
}

skiff_ssize skiff_frame_handshake_done_encode(uint8_t *out, size_t cap)
{
    return encode_type_only(out, cap, SKIFF_FRAME_HANDSHAKE_DONE);
}

skiff_ssize skiff_frame_reset_stream_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_reset_stream *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_RESET_STREAM, f->stream_id, f->app_error_code,
                          f->final_size, 3);
}

skiff_ssize skiff_frame_stop_sending_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_stop_sending *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_STOP_SENDING, f->stream_id, f->app_error_code, 0,
                          2);
}

skiff_ssize skiff_frame_max_data_encode(uint8_t *out, size_t cap, const skiff_frame_max_data *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_MAX_DATA, f->max, 0, 0, 1);
}

skiff_ssize skiff_frame_max_stream_data_encode(uint8_t *out, size_t cap,
                                               const skiff_frame_max_stream_data *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_MAX_STREAM_DATA, f->stream_id, f->max, 0, 2);
}

skiff_ssize skiff_frame_max_streams_encode(uint8_t *out, size_t cap,
                                           const skiff_frame_max_streams *f)
{
    if (f->max > SKIFF_FRAME_MAX_STREAMS_LIMIT) return SKIFF_ERR_INVALID_ARGUMENT; /* §19.11 */
    return encode_varints(out, cap,
                          f->bidi ? SKIFF_FRAME_MAX_STREAMS_BIDI : SKIFF_FRAME_MAX_STREAMS_UNI,
                          f->max, 0, 0, 1);
}

skiff_ssize skiff_frame_data_blocked_encode(uint8_t *out, size_t cap,
                                            const skiff_frame_data_blocked *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_DATA_BLOCKED, f->limit, 0, 0, 1);
}

skiff_ssize skiff_frame_stream_data_blocked_encode(uint8_t *out, size_t cap,
                                                   const skiff_frame_stream_data_blocked *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_STREAM_DATA_BLOCKED, f->stream_id, f->limit, 0, 2);
}

skiff_ssize skiff_frame_streams_blocked_encode(uint8_t *out, size_t cap,
                                               const skiff_frame_streams_blocked *f)
{
    if (f->limit > SKIFF_FRAME_MAX_STREAMS_LIMIT) return SKIFF_ERR_INVALID_ARGUMENT; /* §19.14 */
    return encode_varints(
        out, cap, f->bidi ? SKIFF_FRAME_STREAMS_BLOCKED_BIDI : SKIFF_FRAME_STREAMS_BLOCKED_UNI,
        f->limit, 0, 0, 1);
}

skiff_ssize skiff_frame_retire_connection_id_encode(uint8_t *out, size_t cap,
                                                    const skiff_frame_retire_connection_id *f)
{
    return encode_varints(out, cap, SKIFF_FRAME_RETIRE_CONNECTION_ID, f->seq, 0, 0, 1);
}

/* §19.6 CRYPTO: the header; `data` is written by the caller, or below. */
static skiff_ssize crypto_header(uint8_t *out, size_t cap, const skiff_frame_crypto *f,
                                 size_t extra)
{
    if (f->offset > SKIFF_VARINT_MAX || f->len > SKIFF_VARINT_MAX - f->offset)
        return SKIFF_ERR_INVALID_ARGUMENT;
    size_t hdr = 1 + vlen(f->offset) + vlen(f->len);
    if (!out) return (skiff_ssize)hdr;
    if (hdr + extra > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    uint8_t *p = out;
    *p++ = SKIFF_FRAME_CRYPTO;
    p = put(p, f->offset);
    put(p, f->len);
    return (skiff_ssize)hdr;
}

skiff_ssize skiff_frame_crypto_encode_header(uint8_t *out, size_t cap, const skiff_frame_crypto *f)
{
    return crypto_header(out, cap, f, 0);
}

skiff_ssize skiff_frame_crypto_encode(uint8_t *out, size_t cap, const skiff_frame_crypto *f)
{
    skiff_ssize hdr = crypto_header(out, cap, f, f->len);
    if (hdr < 0) return hdr;
    if (out && f->len) memcpy(out + hdr, f->data, f->len);
    return hdr + (skiff_ssize)f->len;
}

size_t skiff_frame_crypto_header_size(uint64_t offset, size_t len)
{
    if (offset > SKIFF_VARINT_MAX || len > SKIFF_VARINT_MAX - offset) return 0;
    return 1 + vlen(offset) + vlen(len);
}

/* §19.8 STREAM: the header; the data is written by the caller, or below. */
static skiff_ssize stream_header(uint8_t *out, size_t cap, const skiff_frame_stream *f,
                                 size_t extra)
{
    size_t hdr = skiff_frame_stream_header_size(f->stream_id, f->offset, f->len, f->has_length);
    if (hdr == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!out) return (skiff_ssize)hdr;
    if (hdr + extra > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    uint8_t type = SKIFF_FRAME_STREAM;
    if (f->offset) type |= SKIFF_FRAME_STREAM_OFF;
    if (f->has_length) type |= SKIFF_FRAME_STREAM_LEN;
    if (f->fin) type |= SKIFF_FRAME_STREAM_FIN;
    uint8_t *p = out;
    *p++ = type;
    p = put(p, f->stream_id);
    if (f->offset) p = put(p, f->offset);
    if (f->has_length) put(p, f->len);
    return (skiff_ssize)hdr;
}

skiff_ssize skiff_frame_stream_encode_header(uint8_t *out, size_t cap, const skiff_frame_stream *f)
{
    return stream_header(out, cap, f, 0);
}

skiff_ssize skiff_frame_stream_encode(uint8_t *out, size_t cap, const skiff_frame_stream *f)
{
    skiff_ssize hdr = stream_header(out, cap, f, f->len);
    if (hdr < 0) return hdr;
    if (out && f->len) memcpy(out + hdr, f->data, f->len);
    return hdr + (skiff_ssize)f->len;
}

size_t skiff_frame_stream_header_size(uint64_t stream_id, uint64_t offset, size_t len,
                                      bool has_length)
{
    /* §19.8: offset + length must stay within 2^62-1. */
    if (!varints_ok(stream_id | offset) || len > SKIFF_VARINT_MAX - offset) return 0;
    return 1 + vlen(stream_id) + (offset ? vlen(offset) : 0) + (has_length ? vlen(len) : 0);
}

/*
 * The most data that fits in `avail` bytes after a Length field, which itself
 * grows with the data: try each varint size and keep the best.
 */
static size_t fit_with_length(size_t avail)
{
    static const uint64_t max_of_len[4] = {63, 16383, 1073741823, SKIFF_VARINT_MAX};
    static const size_t lens[4] = {1, 2, 4, 8};
    size_t best = 0;
    for (int i = 0; i < 4 && avail > lens[i]; i++) {
        uint64_t d = avail - lens[i];
        if (d > max_of_len[i]) d = max_of_len[i];
        if (d > best) best = (size_t)d;
    }
    return best;
}

/* The data that fits in `avail` bytes, capped so that offset + data <= 2^62-1. */
static size_t fit_data(size_t avail, bool has_length, uint64_t offset)
{
    size_t d = has_length ? fit_with_length(avail) : avail;
    if (d > SKIFF_VARINT_MAX - offset) d = (size_t)(SKIFF_VARINT_MAX - offset);
    return d;
}

size_t skiff_frame_stream_max_data(uint64_t stream_id, uint64_t offset, size_t space,
                                   bool has_length)
{
    if (!varints_ok(stream_id | offset)) return 0;
    size_t hdr = 1 + vlen(stream_id) + (offset ? vlen(offset) : 0);
    if (space <= hdr) return 0;
    return fit_data(space - hdr, has_length, offset);
}

size_t skiff_frame_crypto_max_data(uint64_t offset, size_t space)
{
    if (offset > SKIFF_VARINT_MAX) return 0;
    size_t hdr = 1 + vlen(offset);
    if (space <= hdr) return 0;
    return fit_data(space - hdr, true, offset);
}

size_t skiff_frame_datagram_max_data(size_t space, bool has_length)
{
    if (space <= 1) return 0;
    return has_length ? fit_with_length(space - 1) : space - 1;
}

/* §19.7 NEW_TOKEN. */
skiff_ssize skiff_frame_new_token_encode(uint8_t *out, size_t cap, const skiff_frame_new_token *f)
{
    if (f->len == 0 || f->len > SKIFF_VARINT_MAX) return SKIFF_ERR_INVALID_ARGUMENT; /* §19.7 */
    skiff_ssize rc = room(out, cap, 1 + vlen(f->len) + f->len);
    if (rc < 0 || !out) return rc;
    uint8_t *p = out;
    *p++ = SKIFF_FRAME_NEW_TOKEN;
    p = put(p, f->len);
    memcpy(p, f->token, f->len);
    return rc;
}

/* §19.15 NEW_CONNECTION_ID. */
skiff_ssize skiff_frame_new_connection_id_encode(uint8_t *out, size_t cap,
                                                 const skiff_frame_new_connection_id *f)
{
    if (!varints_ok(f->seq | f->retire_prior_to) || f->retire_prior_to > f->seq ||
        f->cid_len == 0 || f->cid_len > SKIFF_FRAME_CID_MAX_LEN)
        return SKIFF_ERR_INVALID_ARGUMENT;
    size_t size =
        1 + vlen(f->seq) + vlen(f->retire_prior_to) + 1 + f->cid_len + SKIFF_FRAME_RESET_TOKEN_LEN;
    skiff_ssize rc = room(out, cap, size);
    if (rc < 0 || !out) return rc;
    uint8_t *p = out;
    *p++ = SKIFF_FRAME_NEW_CONNECTION_ID;
    p = put(p, f->seq);
    p = put(p, f->retire_prior_to);
    *p++ = f->cid_len;
    memcpy(p, f->cid, f->cid_len);
    memcpy(p + f->cid_len, f->reset_token, SKIFF_FRAME_RESET_TOKEN_LEN);
    return rc;
}

/* §19.17, §19.18. */
static skiff_ssize encode_path_data(uint8_t *out, size_t cap, uint8_t type,
                                    const skiff_frame_path_data *f)
{
    skiff_ssize rc = room(out, cap, 1 + SKIFF_FRAME_PATH_DATA_LEN);
    if (rc < 0 || !out) return rc;
    out[0] = type;
    memcpy(out + 1, f->data, SKIFF_FRAME_PATH_DATA_LEN);
    return rc;
}

skiff_ssize skiff_frame_path_challenge_encode(uint8_t *out, size_t cap,
                                              const skiff_frame_path_data *f)
{
    return encode_path_data(out, cap, SKIFF_FRAME_PATH_CHALLENGE, f);
}

skiff_ssize skiff_frame_path_response_encode(uint8_t *out, size_t cap,
                                             const skiff_frame_path_data *f)
{
    return encode_path_data(out, cap, SKIFF_FRAME_PATH_RESPONSE, f);
}

/* §19.19 CONNECTION_CLOSE. */
skiff_ssize skiff_frame_connection_close_encode(uint8_t *out, size_t cap,
                                                const skiff_frame_connection_close *f)
{
    uint64_t ft = f->app ? 0 : f->frame_type;
    if (!varints_ok(f->error_code | ft | (uint64_t)f->reason_len))
        return SKIFF_ERR_INVALID_ARGUMENT;
    size_t size =
        1 + vlen(f->error_code) + (f->app ? 0 : vlen(ft)) + vlen(f->reason_len) + f->reason_len;
    skiff_ssize rc = room(out, cap, size);
    if (rc < 0 || !out) return rc;
    uint8_t *p = out;
    *p++ = f->app ? SKIFF_FRAME_CONNECTION_CLOSE_APP : SKIFF_FRAME_CONNECTION_CLOSE;
    p = put(p, f->error_code);
    if (!f->app) p = put(p, ft);
    p = put(p, f->reason_len);
    if (f->reason_len) memcpy(p, f->reason, f->reason_len);
    return rc;
}

/* RFC 9221 §4 DATAGRAM. */
skiff_ssize skiff_frame_datagram_encode(uint8_t *out, size_t cap, const skiff_frame_datagram *f)
{
    if (f->len > SKIFF_VARINT_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t size = 1 + (f->has_length ? vlen(f->len) : 0) + f->len;
    skiff_ssize rc = room(out, cap, size);
    if (rc < 0 || !out) return rc;
    uint8_t *p = out;
    *p++ = f->has_length ? SKIFF_FRAME_DATAGRAM_LEN : SKIFF_FRAME_DATAGRAM;
    if (f->has_length) p = put(p, f->len);
    if (f->len) memcpy(p, f->data, f->len);
    return rc;
}

/* Dispatch on the frame's family; out == NULL gives the size. */
static skiff_ssize encode_any(uint8_t *out, size_t cap, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_PADDING:
        return skiff_frame_padding_encode(out, cap, f->padding.len);
    case SKIFF_FRAME_PING:
        return skiff_frame_ping_encode(out, cap);
    case SKIFF_FRAME_ACK:
    case SKIFF_FRAME_ACK_ECN:
        return skiff_frame_ack_encode(out, cap, &f->ack);
    case SKIFF_FRAME_RESET_STREAM:
        return skiff_frame_reset_stream_encode(out, cap, &f->reset_stream);
    case SKIFF_FRAME_STOP_SENDING:
        return skiff_frame_stop_sending_encode(out, cap, &f->stop_sending);
    case SKIFF_FRAME_CRYPTO:
        return skiff_frame_crypto_encode(out, cap, &f->crypto);
    case SKIFF_FRAME_NEW_TOKEN:
        return skiff_frame_new_token_encode(out, cap, &f->new_token);
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
        return skiff_frame_stream_encode(out, cap, &f->stream);
    case SKIFF_FRAME_MAX_DATA:
        return skiff_frame_max_data_encode(out, cap, &f->max_data);
    case SKIFF_FRAME_MAX_STREAM_DATA:
        return skiff_frame_max_stream_data_encode(out, cap, &f->max_stream_data);
    case SKIFF_FRAME_MAX_STREAMS_BIDI:
    case SKIFF_FRAME_MAX_STREAMS_UNI:
        return skiff_frame_max_streams_encode(out, cap, &f->max_streams);
    case SKIFF_FRAME_DATA_BLOCKED:
        return skiff_frame_data_blocked_encode(out, cap, &f->data_blocked);
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        return skiff_frame_stream_data_blocked_encode(out, cap, &f->stream_data_blocked);
    case SKIFF_FRAME_STREAMS_BLOCKED_BIDI:
    case SKIFF_FRAME_STREAMS_BLOCKED_UNI:
        return skiff_frame_streams_blocked_encode(out, cap, &f->streams_blocked);
    case SKIFF_FRAME_NEW_CONNECTION_ID:
        return skiff_frame_new_connection_id_encode(out, cap, &f->new_connection_id);
    case SKIFF_FRAME_RETIRE_CONNECTION_ID:
        return skiff_frame_retire_connection_id_encode(out, cap, &f->retire_connection_id);
    case SKIFF_FRAME_PATH_CHALLENGE:
        return skiff_frame_path_challenge_encode(out, cap, &f->path_challenge);
    case SKIFF_FRAME_PATH_RESPONSE:
        return skiff_frame_path_response_encode(out, cap, &f->path_response);
    case SKIFF_FRAME_CONNECTION_CLOSE:
    case SKIFF_FRAME_CONNECTION_CLOSE_APP:
        return skiff_frame_connection_close_encode(out, cap, &f->connection_close);
    case SKIFF_FRAME_HANDSHAKE_DONE:
        return skiff_frame_handshake_done_encode(out, cap);
    case SKIFF_FRAME_DATAGRAM:
    case SKIFF_FRAME_DATAGRAM_LEN:
        return skiff_frame_datagram_encode(out, cap, &f->datagram);
    default:
        return SKIFF_ERR_INVALID_ARGUMENT;
    }
}

skiff_ssize skiff_frame_encode(uint8_t *out, size_t cap, const skiff_frame *f)
{
    return encode_any(out, cap, f);
}

skiff_ssize skiff_frame_size(const skiff_frame *f)
{
    return encode_any(NULL, 0, f);
}
