/*
 * HTTP message rules for HTTP/3 (RFC 9114 §4.1–§4.4, RFC 9110, RFC 9220):
 * validates one decoded field section (request, response or trailers) and
 * picks out the pseudo-header fields and content-length. A section that
 * breaks a rule makes the message malformed: H3_MESSAGE_ERROR on that
 * stream only (§4.1.2).
 */
#ifndef SKIFF_H3_MESSAGE_H
#define SKIFF_H3_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h3/h3_field.h"

typedef enum skiff_h3_section_kind {
    SKIFF_H3_SECTION_REQUEST,
    SKIFF_H3_SECTION_RESPONSE,
    SKIFF_H3_SECTION_TRAILERS,
} skiff_h3_section_kind;

/* What a valid section holds. Pointers point into the validated fields. */
typedef struct skiff_h3_message_info {
    const skiff_h3_field *method, *scheme, *authority, *path, *protocol; /* requests; NULL: absent */
    const skiff_h3_field *host; /* the Host field, if any */
    int status;                 /* responses: 100..599 */
    bool has_content_length;
    uint64_t content_length;
    bool is_connect;          /* CONNECT (§4.4) */
    bool is_extended_connect; /* CONNECT with :protocol (RFC 9220) */
} skiff_h3_message_info;

/*
 * Checks fields against the rules for kind and fills *info. Returns 0, or
 * SKIFF_H3_MESSAGE_ERROR with *why set to a short static English reason
 * ("uppercase field name", "missing :path", ...). Rules:
 *  - names: non-empty, RFC 9110 token characters, no uppercase; values: no
 *    NUL, CR or LF (§4.2, §10.3);
 *  - no connection-specific fields (connection, keep-alive, proxy-connection,
 *    transfer-encoding, upgrade); te only with the value "trailers" (§4.2);
 *  - pseudo-headers: only the ones defined for the kind, each at most once,
 *    all before regular fields, none in trailers (§4.3);
 *  - requests: :method; CONNECT without :protocol carries :authority and no
 *    :scheme or :path (§4.4); otherwise :scheme and a non-empty :path, and for
 *    http/https an :authority or Host (equal when both); :protocol only with
 *    CONNECT and only when allow_extended_connect (SETTINGS_ENABLE_CONNECT_PROTOCOL);
 *  - responses: :status of three digits in 100..599, not 101 (§4.5);
 *  - content-length: digits only, repeated values equal.
 */
uint64_t skiff_h3_message_validate(skiff_h3_section_kind kind, const skiff_h3_field *fields,
                                   size_t count, bool allow_extended_connect,
                                   skiff_h3_message_info *info, const char **why);

#endif
