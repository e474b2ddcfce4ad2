/*
 * QUIC transport parameters (RFC 9000 §7.4, §18): the struct an endpoint
 * fills to describe itself and reads to learn about its peer, and the codec
 * for the quic_transport_parameters TLS extension's body, a sequence of
 *
 *   Transport Parameter { ID (i), Length (i), Value (..) }
 *
 * Also the parameters of RFC 9221 (max_datagram_frame_size), RFC 9368
 * (version_information) and RFC 9287 (grease_quic_bit).
 *
 * The struct owns no memory: connection IDs, tokens and the version list are
 * stored inline, so it can be copied by assignment and kept for 0-RTT.
 */
#ifndef SKIFF_QUIC_TRANSPORT_PARAMS_H
#define SKIFF_QUIC_TRANSPORT_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/role.h"
#include "skiff/skiff.h"

/* Transport parameter IDs (RFC 9000 §18.2, RFC 9221 §3, RFC 9368 §3, RFC 9287 §3). */
#define SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID UINT64_C(0x00)
#define SKIFF_TP_MAX_IDLE_TIMEOUT UINT64_C(0x01)
#define SKIFF_TP_STATELESS_RESET_TOKEN UINT64_C(0x02)
#define SKIFF_TP_MAX_UDP_PAYLOAD_SIZE UINT64_C(0x03)
#define SKIFF_TP_INITIAL_MAX_DATA UINT64_C(0x04)
#define SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL UINT64_C(0x05)
#define SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE UINT64_C(0x06)
#define SKIFF_TP_INITIAL_MAX_STREAM_DATA_UNI UINT64_C(0x07)
#define SKIFF_TP_INITIAL_MAX_STREAMS_BIDI UINT64_C(0x08)
#define SKIFF_TP_INITIAL_MAX_STREAMS_UNI UINT64_C(0x09)
#define SKIFF_TP_ACK_DELAY_EXPONENT UINT64_C(0x0a)
#define SKIFF_TP_MAX_ACK_DELAY UINT64_C(0x0b)
#define SKIFF_TP_DISABLE_ACTIVE_MIGRATION UINT64_C(0x0c)
#define SKIFF_TP_PREFERRED_ADDRESS UINT64_C(0x0d)
#define SKIFF_TP_ACTIVE_CONNECTION_ID_LIMIT UINT64_C(0x0e)
#define SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID UINT64_C(0x0f)
#define SKIFF_TP_RETRY_SOURCE_CONNECTION_ID UINT64_C(0x10)
#define SKIFF_TP_VERSION_INFORMATION UINT64_C(0x11)
#define SKIFF_TP_MAX_DATAGRAM_FRAME_SIZE UINT64_C(0x20)
#define SKIFF_TP_GREASE_QUIC_BIT UINT64_C(0x2ab2)

/* RFC defaults (RFC 9000 §18.2) and limits. */
#define SKIFF_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE 65527
#define SKIFF_TP_DEFAULT_ACK_DELAY_EXPONENT 3
#define SKIFF_TP_DEFAULT_MAX_ACK_DELAY 25 /* ms */
#define SKIFF_TP_DEFAULT_ACTIVE_CONNECTION_ID_LIMIT 2
#define SKIFF_TP_MIN_MAX_UDP_PAYLOAD_SIZE 1200
#define SKIFF_TP_MAX_ACK_DELAY_EXPONENT 20
#define SKIFF_TP_MAX_ACK_DELAY_LIMIT (1u << 14) /* max_ack_delay must be below this */
#define SKIFF_TP_MAX_STREAMS_LIMIT (UINT64_C(1) << 60) /* RFC 9000 §4.6 */

#define SKIFF_TP_CID_MAX_LEN 20 /* RFC 9000 §17.2, for QUIC v1 and v2 */
#define SKIFF_TP_RESET_TOKEN_LEN 16

/* How many of the peer's available versions are kept; further ones are still
 * checked but not stored (available_total counts them all), except that a
 * client's Chosen Version is always kept, in the last slot if need be. */
#define SKIFF_TP_MAX_AVAILABLE_VERSIONS 16

/* The most parameters a decoded blob may hold, known, unknown and grease
 * together. A peer sends about twenty; the cap bounds the duplicate scan. */
#define SKIFF_TP_MAX_PARAMS 64

/* An upper bound on skiff_transport_params_encode()'s output for any valid
 * struct (every parameter at its longest, plus the grease parameter). */
#define SKIFF_TRANSPORT_PARAMS_MAX_LEN 512

/* A buffer size that skiff_transport_params_format() always fits in. */
#define SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN 2048

/* A connection ID carried in a transport parameter, stored inline. */
typedef struct skiff_tp_cid {
    uint8_t len; /* 0..SKIFF_TP_CID_MAX_LEN */
    uint8_t data[SKIFF_TP_CID_MAX_LEN];
} skiff_tp_cid;

/* preferred_address (RFC 9000 §18.2, Figure 22). An all-zero address and
 * port means the server offers no address of that family. */
typedef struct skiff_tp_preferred_address {
    uint8_t ipv4[4];
    uint16_t ipv4_port;
    uint8_t ipv6[16];
    uint16_t ipv6_port;
    skiff_tp_cid cid; /* never zero-length */
    uint8_t stateless_reset_token[SKIFF_TP_RESET_TOKEN_LEN];
} skiff_tp_preferred_address;

/* version_information (RFC 9368 §3). */
typedef struct skiff_tp_version_information {
    uint32_t chosen_version;
    uint32_t available[SKIFF_TP_MAX_AVAILABLE_VERSIONS];
    size_t available_count; /* entries of available[] in use */
    size_t available_total; /* on decode: how many the peer sent (>= available_count) */
} skiff_tp_version_information;

/*
 * Every transport parameter skiff knows. Integer parameters always hold a
 * value (the default when absent); the has_* flags mark the parameters whose
 * absence means something different from any value.
 */
typedef struct skiff_transport_params {
    uint64_t max_idle_timeout; /* ms; 0 = no idle timeout */
    uint64_t max_udp_payload_size;
    uint64_t initial_max_data;
    uint64_t initial_max_stream_data_bidi_local;
    uint64_t initial_max_stream_data_bidi_remote;
    uint64_t initial_max_stream_data_uni;
    uint64_t initial_max_streams_bidi;
    uint64_t initial_max_streams_uni;
    uint64_t ack_delay_exponent;
    uint64_t max_ack_delay; /* ms */
    uint64_t active_connection_id_limit;
    uint64_t max_datagram_frame_size; /* RFC 9221; meaningful when has_max_datagram_frame_size */
    bool disable_active_migration;
    bool grease_quic_bit; /* RFC 9287: the sender accepts a zero QUIC bit */

    bool has_original_destination_connection_id; /* server only */
    bool has_initial_source_connection_id;
    bool has_retry_source_connection_id;         /* server only */
    bool has_stateless_reset_token;              /* server only */
    bool has_preferred_address;                  /* server only */
    bool has_version_information;
    bool has_max_datagram_frame_size;

    skiff_tp_cid original_destination_connection_id;
    skiff_tp_cid initial_source_connection_id;
    skiff_tp_cid retry_source_connection_id;
    uint8_t stateless_reset_token[SKIFF_TP_RESET_TOKEN_LEN];
    skiff_tp_preferred_address preferred_address;
    skiff_tp_version_information version_information;
} skiff_transport_params;

/* Sets every parameter to its RFC 9000 §18.2 default: max_udp_payload_size
 * 65527, ack_delay_exponent 3, max_ack_delay 25, active_connection_id_limit
 * 2, everything else 0, false or absent. */
void skiff_transport_params_init_default(skiff_transport_params *tp);

/*
 * Encodes `tp` as sent by `sender` into out[0..cap). Integer parameters are
 * written only when they differ from their default, the others only when
 * present (or true); a client never writes the server-only parameters
 * (RFC 9000 §18.2), whatever the struct holds. Parameters are written in
 * ID order, with one reserved grease parameter (RFC 9000 §18.1) whose ID,
 * value and position derive from `grease_seed`; a seed of 0 writes none.
 *
 * `out` may be NULL only when cap is 0. The output is deterministic: the
 * same struct, role and seed give the same bytes.
 *
 * Returns the bytes written, or
 *   SKIFF_ERR_BUFFER_TOO_SMALL  out cannot hold the encoding
 *                               (SKIFF_TRANSPORT_PARAMS_MAX_LEN always can)
 *   SKIFF_ERR_INVALID_ARGUMENT  a value the decoder below would reject
 *                               (so a peer would too), one that does not fit
 *                               a varint, or NULL out with a non-zero cap
 */
skiff_ssize skiff_transport_params_encode(uint8_t *out, size_t cap,
                                          const skiff_transport_params *tp, skiff_role sender,
                                          uint64_t grease_seed);

/*
 * Decodes the transport parameters that `sender` sent, in[0..len). Starts
 * from the defaults; ignores parameters it does not know (RFC 9000 §7.4.2),
 * grease included. Never reads outside in[0..len).
 *
 * Returns 0, or SKIFF_ERR_TRANSPORT_PARAMETER (TRANSPORT_PARAMETER_ERROR)
 * for a truncated or malformed parameter, a duplicate ID, more than
 * SKIFF_TP_MAX_PARAMS parameters, a server-only parameter from a client or
 * a value outside its permitted range. On error *tp is left unchanged.
 *
 * It checks each parameter on its own; whether the connection IDs match
 * the ones the handshake used, and whether the mandatory ones are there at
 * all (RFC 9000 §7.3), is for the connection to check.
 */
int skiff_transport_params_decode(skiff_transport_params *tp, const uint8_t *in, size_t len,
                                  skiff_role sender);

/*
 * Writes one "name: value\n" line per parameter into buf[0..cap), NUL
 * terminated: integer parameters always (their effective value, in
 * decimal), the others only when present or true. Names are the RFC's;
 * connection IDs and tokens are in lowercase hex ("(empty)" for a
 * zero-length CID), versions as 0x%08x.
 *
 * Returns the length written (without the NUL), or
 * SKIFF_ERR_BUFFER_TOO_SMALL (buf then holds as many whole lines as fit).
 */
skiff_ssize skiff_transport_params_format(char *buf, size_t cap,
                                          const skiff_transport_params *tp);

#endif
