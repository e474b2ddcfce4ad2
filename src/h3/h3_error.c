/* Names of the HTTP/3 and QPACK error codes, for logs and end reasons. */
#include "h3/h3_error.h"

#include <stddef.h>

const char *skiff_h3_error_name(uint64_t code)
{
    static const char *const h3[] = {
        "H3_NO_ERROR",           "H3_GENERAL_PROTOCOL_ERROR", "H3_INTERNAL_ERROR",
        "H3_STREAM_CREATION_ERROR", "H3_CLOSED_CRITICAL_STREAM", "H3_FRAME_UNEXPECTED",
        "H3_FRAME_ERROR",        "H3_EXCESSIVE_LOAD",         "H3_ID_ERROR",
        "H3_SETTINGS_ERROR",     "H3_MISSING_SETTINGS",       "H3_REQUEST_REJECTED",
        "H3_REQUEST_CANCELLED",  "H3_REQUEST_INCOMPLETE",     "H3_MESSAGE_ERROR",
        "H3_CONNECT_ERROR",      "H3_VERSION_FALLBACK"};
    if (code >= SKIFF_H3_NO_ERROR && code <= SKIFF_H3_VERSION_FALLBACK) return h3[code - SKIFF_H3_NO_ERROR];
    switch (code) {
    case SKIFF_QPACK_DECOMPRESSION_FAILED: return "QPACK_DECOMPRESSION_FAILED";
    case SKIFF_QPACK_ENCODER_STREAM_ERROR: return "QPACK_ENCODER_STREAM_ERROR";
    case SKIFF_QPACK_DECODER_STREAM_ERROR: return "QPACK_DECODER_STREAM_ERROR";
    case SKIFF_H3_DATAGRAM_ERROR: return "H3_DATAGRAM_ERROR";
    default: return NULL;
    }
}
