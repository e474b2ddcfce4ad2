/*
 * The QPACK static table (RFC 9204 §3.1, Appendix A): 99 fixed fields,
 * indexed from 0, and the lookups the encoder makes in it.
 */
#ifndef SKIFF_H3_QPACK_STATIC_H
#define SKIFF_H3_QPACK_STATIC_H

#include <stddef.h>
#include <stdint.h>

#define SKIFF_QPACK_STATIC_COUNT 99u

typedef struct skiff_qpack_static_entry {
    const char *name;
    const char *value;
    uint8_t name_len;
    uint8_t value_len;
} skiff_qpack_static_entry;

extern const skiff_qpack_static_entry skiff_qpack_static_table[SKIFF_QPACK_STATIC_COUNT];

/* The index of the entry equal to name: value, or -1. *name_index is set to
 * the lowest index of an entry with that name (whatever its value), or -1. */
int skiff_qpack_static_find(const uint8_t *name, size_t name_len, const uint8_t *value,
                            size_t value_len, int *name_index);

#endif
