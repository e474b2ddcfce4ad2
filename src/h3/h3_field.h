/*
 * One HTTP field (RFC 9110 §5) as HTTP/3 and QPACK pass it around: a name and
 * a value as bytes, not NUL-terminated, pointing into someone else's buffer.
 * Names are lowercase on the wire (RFC 9114 §4.2); pseudo-header names start
 * with ':' (§4.3).
 */
#ifndef SKIFF_H3_FIELD_H
#define SKIFF_H3_FIELD_H

#include <stddef.h>
#include <stdint.h>

typedef struct skiff_h3_field {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
} skiff_h3_field;

/* RFC 9114 §4.2.2: a field's size counts 32 bytes of overhead. */
#define SKIFF_H3_FIELD_OVERHEAD 32u

#endif
