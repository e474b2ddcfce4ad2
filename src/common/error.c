/*
 * Error descriptions and the one mapping from library errors to the transport
 * error codes of RFC 9000 §20.1.
 */
#include "common/error.h"

const char *skiff_strerror(int err)
{
    switch (err) {
    case SKIFF_OK: return "success";
    case SKIFF_ERR_NOMEM: return "out of memory";
    case SKIFF_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SKIFF_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case SKIFF_ERR_TRUNCATED: return "input truncated";
    case SKIFF_ERR_INVALID_PACKET: return "invalid packet";
    case SKIFF_ERR_UNSUPPORTED_VERSION: return "unsupported QUIC version";
    case SKIFF_ERR_DECRYPT: return "packet authentication failed";
    case SKIFF_ERR_CRYPTO: return "crypto library failure";
    case SKIFF_ERR_FRAME_ENCODING: return "frame encoding error";
    case SKIFF_ERR_PROTOCOL_VIOLATION: return "protocol violation";
    case SKIFF_ERR_TRANSPORT_PARAMETER: return "transport parameter error";
    case SKIFF_ERR_FLOW_CONTROL: return "flow control error";
    case SKIFF_ERR_STREAM_LIMIT: return "stream limit error";
    case SKIFF_ERR_STREAM_STATE: return "stream state error";
    case SKIFF_ERR_FINAL_SIZE: return "final size error";
    case SKIFF_ERR_CONNECTION_ID_LIMIT: return "connection ID limit error";
    case SKIFF_ERR_INVALID_TOKEN: return "invalid token";
    case SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED: return "crypto buffer exceeded";
    case SKIFF_ERR_KEY_UPDATE: return "key update error";
    case SKIFF_ERR_AEAD_LIMIT_REACHED: return "AEAD limit reached";
    case SKIFF_ERR_INTERNAL: return "internal error";
    case SKIFF_ERR_CLOSED: return "connection closed";
    }
    return "unknown error";
}

uint64_t skiff_err_transport_code(int err)
{
    switch (err) {
    case SKIFF_ERR_NOMEM:
    case SKIFF_ERR_CRYPTO:
    case SKIFF_ERR_INTERNAL: return SKIFF_TE_INTERNAL_ERROR;
    case SKIFF_ERR_FRAME_ENCODING: return SKIFF_TE_FRAME_ENCODING_ERROR;
    case SKIFF_ERR_PROTOCOL_VIOLATION: return SKIFF_TE_PROTOCOL_VIOLATION;
    case SKIFF_ERR_TRANSPORT_PARAMETER: return SKIFF_TE_TRANSPORT_PARAMETER_ERROR;
    case SKIFF_ERR_FLOW_CONTROL: return SKIFF_TE_FLOW_CONTROL_ERROR;
    case SKIFF_ERR_STREAM_LIMIT: return SKIFF_TE_STREAM_LIMIT_ERROR;
    case SKIFF_ERR_STREAM_STATE: return SKIFF_TE_STREAM_STATE_ERROR;
    case SKIFF_ERR_FINAL_SIZE: return SKIFF_TE_FINAL_SIZE_ERROR;
    case SKIFF_ERR_CONNECTION_ID_LIMIT: return SKIFF_TE_CONNECTION_ID_LIMIT_ERROR;
    case SKIFF_ERR_INVALID_TOKEN: return SKIFF_TE_INVALID_TOKEN;
    case SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED: return SKIFF_TE_CRYPTO_BUFFER_EXCEEDED;
    case SKIFF_ERR_KEY_UPDATE: return SKIFF_TE_KEY_UPDATE_ERROR;
    case SKIFF_ERR_AEAD_LIMIT_REACHED: return SKIFF_TE_AEAD_LIMIT_REACHED;
    }
    return SKIFF_TE_NONE;
}

const char *skiff_transport_error_name(uint64_t code)
{
    static const char *const names[] = {
        "NO_ERROR",
        "INTERNAL_ERROR",
        "CONNECTION_REFUSED",
        "FLOW_CONTROL_ERROR",
        "STREAM_LIMIT_ERROR",
        "STREAM_STATE_ERROR",
        "FINAL_SIZE_ERROR",
        "FRAME_ENCODING_ERROR",
        "TRANSPORT_PARAMETER_ERROR",
        "CONNECTION_ID_LIMIT_ERROR",
        "PROTOCOL_VIOLATION",
        "INVALID_TOKEN",
        "APPLICATION_ERROR",
        "CRYPTO_BUFFER_EXCEEDED",
        "KEY_UPDATE_ERROR",
        "AEAD_LIMIT_REACHED",
        "NO_VIABLE_PATH",
    };
    if (code < sizeof(names) / sizeof(names[0])) return names[code];
    if (code >= SKIFF_TE_CRYPTO_ERROR_BASE && code <= 0x1ffu) return "CRYPTO_ERROR";
    return "unknown";
}
