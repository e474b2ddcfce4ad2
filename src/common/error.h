/*
 * Library error codes (include/skiff/skiff.h) and the wire error codes of
 * RFC 9000 §20.1, kept apart and joined by skiff_err_transport_code().
 */
#ifndef SKIFF_COMMON_ERROR_H
#define SKIFF_COMMON_ERROR_H

#include "skiff/skiff.h"

/* RFC 9000 §20.1 transport error codes. */
#define SKIFF_TE_NO_ERROR 0x00u
#define SKIFF_TE_INTERNAL_ERROR 0x01u
#define SKIFF_TE_CONNECTION_REFUSED 0x02u
#define SKIFF_TE_FLOW_CONTROL_ERROR 0x03u
#define SKIFF_TE_STREAM_LIMIT_ERROR 0x04u
#define SKIFF_TE_STREAM_STATE_ERROR 0x05u
#define SKIFF_TE_FINAL_SIZE_ERROR 0x06u
#define SKIFF_TE_FRAME_ENCODING_ERROR 0x07u
#define SKIFF_TE_TRANSPORT_PARAMETER_ERROR 0x08u
#define SKIFF_TE_CONNECTION_ID_LIMIT_ERROR 0x09u
#define SKIFF_TE_PROTOCOL_VIOLATION 0x0au
#define SKIFF_TE_INVALID_TOKEN 0x0bu
#define SKIFF_TE_APPLICATION_ERROR 0x0cu
#define SKIFF_TE_CRYPTO_BUFFER_EXCEEDED 0x0du
#define SKIFF_TE_KEY_UPDATE_ERROR 0x0eu
#define SKIFF_TE_AEAD_LIMIT_REACHED 0x0fu
#define SKIFF_TE_NO_VIABLE_PATH 0x10u
#define SKIFF_TE_CRYPTO_ERROR_BASE 0x100u /* 0x100 + TLS alert (RFC 9001 §4.8) */

/* A value that cannot be a wire code: the error does not close the connection. */
#define SKIFF_TE_NONE UINT64_MAX

#endif
