/*
 * skiff: QUIC, HTTP/3 and userspace TCP.
 *
 * The public API. Everything declared here is exported from libskiff; every
 * other symbol is hidden. Functions return 0 or a negative SKIFF_ERR_* code;
 * functions that return a length return a skiff_ssize that is either the
 * length or a negative SKIFF_ERR_* code.
 *
 * Library errors (negative, below) are kept apart from the error codes that
 * travel on the wire (RFC 9000 §20.1); skiff_err_transport_code() joins them.
 */
#ifndef SKIFF_SKIFF_H
#define SKIFF_SKIFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SKIFF_API __attribute__((visibility("default")))
#else
#define SKIFF_API
#endif

#define SKIFF_VERSION_STRING "0.1.0"

/* A length, or a negative SKIFF_ERR_* code. */
typedef ssize_t skiff_ssize;

/*
 * Time: nanoseconds on a monotonic clock. The protocol cores never read a
 * clock; every entry point takes `now` from the caller.
 */
typedef uint64_t skiff_time;
#define SKIFF_TIME_NEVER UINT64_MAX
#define SKIFF_MS(x) ((skiff_time)(x) * 1000000u)
#define SKIFF_US(x) ((skiff_time)(x) * 1000u)

/* QUIC versions skiff speaks. */
#define SKIFF_QUIC_V1 0x00000001u /* RFC 9000 */
#define SKIFF_QUIC_V2 0x6b3343cfu /* RFC 9369 */

/*
 * Library error codes. The comment names the wire error (RFC 9000 §20.1) that
 * skiff_err_transport_code() maps each one to, where there is one.
 */
enum {
    SKIFF_OK = 0,
    SKIFF_ERR_NOMEM = -1,            /* an allocation failed: INTERNAL_ERROR */
    SKIFF_ERR_INVALID_ARGUMENT = -2, /* the caller broke a precondition */
    SKIFF_ERR_BUFFER_TOO_SMALL = -3, /* the output does not fit the caller's buffer */
    SKIFF_ERR_TRUNCATED = -4,        /* the input ends inside a field (packet dropped) */
    SKIFF_ERR_INVALID_PACKET = -5,   /* a packet that must be dropped, not answered */
    SKIFF_ERR_UNSUPPORTED_VERSION = -6, /* a long header of a version we do not speak */
    SKIFF_ERR_DECRYPT = -7,          /* AEAD authentication failed (packet dropped) */
    SKIFF_ERR_CRYPTO = -8,           /* the crypto library failed: INTERNAL_ERROR */
    SKIFF_ERR_FRAME_ENCODING = -9,   /* FRAME_ENCODING_ERROR (0x07) */
    SKIFF_ERR_PROTOCOL_VIOLATION = -10,   /* PROTOCOL_VIOLATION (0x0a) */
    SKIFF_ERR_TRANSPORT_PARAMETER = -11,  /* TRANSPORT_PARAMETER_ERROR (0x08) */
    SKIFF_ERR_FLOW_CONTROL = -12,         /* FLOW_CONTROL_ERROR (0x03) */
    SKIFF_ERR_STREAM_LIMIT = -13,         /* STREAM_LIMIT_ERROR (0x04) */
    SKIFF_ERR_STREAM_STATE = -14,         /* STREAM_STATE_ERROR (0x05) */
    SKIFF_ERR_FINAL_SIZE = -15,           /* FINAL_SIZE_ERROR (0x06) */
    SKIFF_ERR_CONNECTION_ID_LIMIT = -16,  /* CONNECTION_ID_LIMIT_ERROR (0x09) */
    SKIFF_ERR_INVALID_TOKEN = -17,        /* INVALID_TOKEN (0x0b) */
    SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED = -18, /* CRYPTO_BUFFER_EXCEEDED (0x0d) */
    SKIFF_ERR_KEY_UPDATE = -19,           /* KEY_UPDATE_ERROR (0x0e) */
    SKIFF_ERR_AEAD_LIMIT_REACHED = -20,   /* AEAD_LIMIT_REACHED (0x0f) */
    SKIFF_ERR_INTERNAL = -21,             /* INTERNAL_ERROR (0x01) */
    SKIFF_ERR_CLOSED = -22,               /* the connection is closed (or closing) */
};

/* A short, fixed English description of a SKIFF_ERR_* code. Never NULL. */
SKIFF_API const char *skiff_strerror(int err);

/*
 * The RFC 9000 §20.1 transport error code that a connection closes with when
 * a function returned `err`, or UINT64_MAX when `err` does not close the
 * connection (for example a packet that is dropped).
 */
SKIFF_API uint64_t skiff_err_transport_code(int err);

/* The RFC 9000 §20.1 name of a transport error code ("FLOW_CONTROL_ERROR",
 * "CRYPTO_ERROR" for 0x100..0x1ff), or "unknown". Never NULL. */
SKIFF_API const char *skiff_transport_error_name(uint64_t code);

#ifdef __cplusplus
}
#endif
#endif
