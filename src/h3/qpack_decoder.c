/*
 * QPACK decoder (RFC 9204 §2.2, §4.3, §4.4, §4.5).
 *
 * Three flows meet here:
 *   - the peer's encoder stream (§4.3) fills the dynamic table. Instructions
 *     are parsed straight from the caller's bytes; only an instruction cut
 *     by a chunk boundary is copied, into a buffer of at most the table
 *     capacity plus PARTIAL_SLACK (a valid instruction cannot be longer,
 *     unless its encoder chose a Huffman coding longer than the raw bytes).
 *     Lengths are checked against the capacity before the bytes are awaited.
 *   - field sections (§4.5) are decoded line by line into the caller's emit
 *     callback. Strings that are not Huffman-coded are handed out in place;
 *     Huffman-coded ones are decoded into one scratch buffer, reused, that
 *     never grows past the section limit. The decoded size (name + value +
 *     32 per field) is charged before each string is decoded: the declared
 *     length, or for Huffman its least possible decoded length, is checked
 *     first (so a huge declared string is refused before its bytes arrive),
 *     then the decoding itself stops at the remaining budget.
 *   - decoder-stream instructions (§4.4) are queued for the caller: Section
 *     Acknowledgment and Stream Cancellation as they happen, and, when the
 *     caller takes the queue, one Insert Count Increment for the inserts
 *     that no acknowledgment has covered (§2.2.2.3 allows the delay; it
 *     spares increments that a following acknowledgment makes redundant).
 *
 * A section whose Required Insert Count is above the inserts received is
 * blocked (§2.1.2): its field lines are copied (at most the section limit
 * plus BLOCKED_SLACK bytes) with its Required Insert Count and Base, and
 * decoded when the inserts arrive.
 */
#include "h3/qpack_decoder.h"

#include <stdlib.h>
#include <string.h>

#include "h3/h3_error.h"
#include "h3/qpack_huffman.h"
#include "h3/qpack_static.h"
#include "h3/qpack_table.h"
#include "h3/qpack_wire.h"

/* Bytes of prefixes a partial encoder instruction may need above its strings. */
#define PARTIAL_SLACK 512u
/* Bytes of encoded field lines a blocked section may have above the limit. */
#define BLOCKED_SLACK 1024u
/* The decoded-size ceiling whatever was announced (scratch and copies stay below it). */
#define HARD_SECTION_LIMIT (UINT64_C(16) << 20)
/* The scratch buffer's first size (never NULL once reserved, even for 0 bytes). */
#define SCRATCH_MIN 64u
/* Queued decoder-stream bytes the caller has not taken. */
#define OUT_CAP 65536u

typedef struct blocked_section {
    uint64_t stream_id;
    uint64_t ric;
    uint64_t base;
    uint8_t *lines; /* the field lines, after the prefix */
    size_t len;
    bool ready;  /* enough inserts arrived */
    bool popped; /* reported by pop_unblocked */
} blocked_section;

struct skiff_qpack_decoder {
    skiff_qpack_table table;
    uint64_t max_capacity;
    uint64_t max_entries; /* MaxEntries of §4.5.1.1 */
    uint64_t max_blocked;
    uint64_t section_limit;
    uint64_t known_received; /* the encoder's Known Received Count, as we told it */

    uint8_t *partial; /* an encoder instruction cut by a chunk boundary */
    size_t partial_len, partial_alloc, partial_cap;

    uint8_t *scratch; /* Huffman-decoded strings */
    size_t scratch_cap, scratch_max;

    uint8_t *out; /* decoder-stream bytes to send */
    size_t out_len, out_alloc;

    blocked_section *blocked;
    size_t nblocked, blocked_alloc;
};

/* A decoded string: in place (p: in the input, the static table or the
 * dynamic table, which the emit callback must therefore not change by
 * feeding this decoder), or at an offset of the scratch buffer, which may
 * move while the section is decoded. */
typedef struct str {
    const uint8_t *p;
    size_t off;
    size_t len;
    bool in_scratch;
} str;

int skiff_qpack_decoder_new(skiff_qpack_decoder **out, uint64_t max_table_capacity,
                            uint64_t max_blocked_streams, uint64_t max_field_section_size)
{
    skiff_qpack_decoder *d = calloc(1, sizeof *d);
    if (!d) return SKIFF_ERR_NOMEM;
    skiff_qpack_table_init(&d->table);
    d->max_capacity = max_table_capacity;
    d->max_entries = max_table_capacity / SKIFF_QPACK_ENTRY_OVERHEAD;
    d->max_blocked = max_blocked_streams;
    d->section_limit =
        max_field_section_size < HARD_SECTION_LIMIT ? max_field_section_size : HARD_SECTION_LIMIT;
    uint64_t cap =
        max_table_capacity < HARD_SECTION_LIMIT ? max_table_capacity : HARD_SECTION_LIMIT;
    d->partial_cap = (size_t)cap + PARTIAL_SLACK;
    d->scratch_max = (size_t)(d->section_limit > cap ? d->section_limit : cap) + SCRATCH_MIN;
    *out = d;
    return 0;
}

void skiff_qpack_decoder_free(skiff_qpack_decoder *d)
{
    if (!d) return;
    skiff_qpack_table_free(&d->table);
    for (size_t i = 0; i < d->nblocked; i++)
        free(d->blocked[i].lines);
    free(d->blocked);
    free(d->partial);
    free(d->scratch);
    free(d->out);
    free(d);
}

/* ---- decoder stream out (§4.4) ---- */

static int queue_int(skiff_qpack_decoder *d, uint8_t flags, unsigned prefix, uint64_t v)
{
    size_t need = d->out_len + skiff_qpack_int_len(v, prefix);
    if (need > OUT_CAP) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (need > d->out_alloc) {
        size_t alloc = d->out_alloc ? d->out_alloc * 2 : 64;
        if (alloc < need) alloc = need;
        if (alloc > OUT_CAP) alloc = OUT_CAP;
        uint8_t *p = realloc(d->out, alloc);
        if (!p) return SKIFF_ERR_NOMEM;
        d->out = p;
        d->out_alloc = alloc;
    }
    skiff_ssize n =
        skiff_qpack_int_encode(d->out + d->out_len, d->out_alloc - d->out_len, flags, prefix, v);
    if (n < 0) return (int)n;
    d->out_len += (size_t)n;
    return 0;
}

/* §4.4.1: 1xxxxxxx stream id; the encoder's Known Received Count rises to
 * the section's Required Insert Count (§2.1.4). */
static int queue_section_ack(skiff_qpack_decoder *d, uint64_t stream_id, uint64_t ric)
{
    int rc = queue_int(d, 0x80, 7, stream_id);
    if (rc == 0 && ric > d->known_received) d->known_received = ric;
    return rc;
}

/* §4.4.3: 00xxxxxx increment, for inserts nothing has acknowledged yet. */
static void queue_insert_count_increment(skiff_qpack_decoder *d)
{
    uint64_t inc = d->table.inserted - d->known_received;
    if (inc > 0 && queue_int(d, 0x00, 6, inc) == 0) d->known_received = d->table.inserted;
}

size_t skiff_qpack_decoder_take_instructions(skiff_qpack_decoder *d, uint8_t *out, size_t cap)
{
    /* Increments go out when the caller collects, after the acknowledgments
     * queued so far: one increment covers every insert they did not
     * (§2.2.2.3 lets the decoder coalesce them). */
    queue_insert_count_increment(d);
    size_t n = d->out_len < cap ? d->out_len : cap;
    if (n == 0) return 0;
    memcpy(out, d->out, n);
    memmove(d->out, d->out + n, d->out_len - n);
    d->out_len -= n;
    return n;
}

/* ---- strings ---- */

static int reserve_scratch(skiff_qpack_decoder *d, size_t need)
{
    if (need <= d->scratch_cap && d->scratch) return 0;
    size_t cap = d->scratch_cap * 2;
    if (cap < need) cap = need;
    if (cap < SCRATCH_MIN) cap = SCRATCH_MIN;
    if (cap > d->scratch_max) cap = d->scratch_max;
    if (cap < need) return SKIFF_ERR_INTERNAL; /* callers stay within scratch_max */
    uint8_t *p = realloc(d->scratch, cap);
    if (!p) return SKIFF_ERR_NOMEM;
    d->scratch = p;
    d->scratch_cap = cap;
    return 0;
}

static const uint8_t *str_ptr(const skiff_qpack_decoder *d, const str *s)
{
    return s->in_scratch ? d->scratch + s->off : s->p;
}

/* Least decoded length of a declared string, for the checks made before its bytes are needed. */
static uint64_t least_len(bool huffman, uint64_t declared)
{
    if (!huffman) return declared;
    if (declared > SIZE_MAX) return declared / 4; /* 32-bit size_t: still far too large */
    return skiff_qpack_huffman_decoded_min((size_t)declared);
}

/* Decodes the string body src[0..n) (Huffman-coded or not) into *s, using
 * scratch from *scratch_used on, at most budget bytes once decoded. Returns
 * 0, SKIFF_ERR_BUFFER_TOO_SMALL (over budget), or a negative error. */
static int decode_body(skiff_qpack_decoder *d, const uint8_t *src, size_t n, bool huffman,
                       uint64_t budget, size_t *scratch_used, str *s)
{
    if (!huffman) {
        if (n > budget) return SKIFF_ERR_BUFFER_TOO_SMALL;
        *s = (str){.p = src, .len = n};
        return 0;
    }
    size_t want = skiff_qpack_huffman_decoded_max(n);
    if (want > budget) want = (size_t)budget;
    int rc = reserve_scratch(d, *scratch_used + want);
    if (rc) return rc;
    skiff_ssize len = skiff_qpack_huffman_decode(d->scratch + *scratch_used, want, src, n);
    if (len < 0) return (int)len;
    *s = (str){.off = *scratch_used, .len = (size_t)len, .in_scratch = true};
    *scratch_used += (size_t)len;
    return 0;
}

/* ---- encoder stream in (§4.3) ---- */

/* A string literal's parts, once its header is read. */
typedef struct lit {
    const uint8_t *body;
    uint64_t len;
    bool huffman;
} lit;

/* Reads a string header at p[*pos..len). Returns 0 or a negative error
 * (SKIFF_ERR_TRUNCATED when the header itself is cut). */
static int read_lit(const uint8_t *p, size_t len, size_t *pos, unsigned prefix, lit *l)
{
    skiff_ssize n = skiff_qpack_string_header(p + *pos, len - *pos, prefix, &l->huffman, &l->len);
    if (n < 0) return (int)n;
    *pos += (size_t)n;
    l->body = p + *pos;
    return 0;
}

static void mark_unblocked(skiff_qpack_decoder *d)
{
    for (size_t i = 0; i < d->nblocked; i++)
        if (!d->blocked[i].ready && d->blocked[i].ric <= d->table.inserted)
            d->blocked[i].ready = true;
}

/* Inserts name (already resolved) with the value literal v, or the entry
 * dup when duplicating. name may point into the table: it is copied to the
 * scratch buffer first, since the insert may evict or move it (§3.2.2). */
static int insert(skiff_qpack_decoder *d, const uint8_t *name, size_t name_len, bool name_in_table,
                  const lit *v)
{
    uint64_t budget = d->table.capacity - SKIFF_QPACK_ENTRY_OVERHEAD - name_len;
    size_t used = 0;
    str sv = {0};
    if (name_in_table) {
        int rc = reserve_scratch(d, name_len + (v->huffman ? 0 : (size_t)v->len));
        if (rc) return rc;
        memcpy(d->scratch, name, name_len);
        used = name_len;
    }
    int rc = decode_body(d, v->body, (size_t)v->len, v->huffman, budget, &used, &sv);
    if (rc) return rc == SKIFF_ERR_BUFFER_TOO_SMALL ? SKIFF_ERR_PROTOCOL_VIOLATION : rc;
    const uint8_t *value = str_ptr(d, &sv);
    if (name_in_table) {
        if (!sv.in_scratch && sv.len) {
            memcpy(d->scratch + name_len, value, sv.len); /* the value may sit in the table too */
            value = d->scratch + name_len;
        }
        name = d->scratch;
    }
    rc = skiff_qpack_table_insert(&d->table, name, name_len, value, sv.len);
    return rc ? SKIFF_ERR_PROTOCOL_VIOLATION : 0;
}

/* Parses and applies one encoder instruction at p[0..len). Returns the bytes
 * it took, SKIFF_ERR_TRUNCATED if it is not all there yet (every limit that
 * its declared lengths can break has been checked by then), or a negative
 * error. */
static skiff_ssize encoder_instruction(skiff_qpack_decoder *d, const uint8_t *p, size_t len)
{
    skiff_qpack_table *t = &d->table;
    size_t pos = 0;
    uint64_t v;
    skiff_ssize n;
    if (p[0] & 0x80) {
        /* §4.3.2 Insert with Name Reference: 1Txxxxxx index, value. */
        n = skiff_qpack_int_decode(p, len, 6, &v);
        if (n < 0) return n;
        pos = (size_t)n;
        const uint8_t *name;
        size_t name_len;
        bool in_table = false;
        if (p[0] & 0x40) {
            if (v >= SKIFF_QPACK_STATIC_COUNT) return SKIFF_ERR_PROTOCOL_VIOLATION;
            name = (const uint8_t *)skiff_qpack_static_table[v].name;
            name_len = skiff_qpack_static_table[v].name_len;
        } else {
            if (v >= t->inserted) return SKIFF_ERR_PROTOCOL_VIOLATION;
            const skiff_qpack_entry *e = skiff_qpack_table_get(t, t->inserted - 1 - v);
            if (!e) return SKIFF_ERR_PROTOCOL_VIOLATION;
            name = skiff_qpack_entry_name(t, e);
            name_len = e->name_len;
            in_table = true;
        }
        lit val;
        int rc = read_lit(p, len, &pos, 7, &val);
        if (rc) return rc;
        if (name_len + SKIFF_QPACK_ENTRY_OVERHEAD > t->capacity ||
            least_len(val.huffman, val.len) > t->capacity - SKIFF_QPACK_ENTRY_OVERHEAD - name_len)
            return SKIFF_ERR_PROTOCOL_VIOLATION;
        if (val.len > len - pos) return SKIFF_ERR_TRUNCATED;
        rc = insert(d, name, name_len, in_table, &val);
        return rc ? rc : (skiff_ssize)(pos + val.len);
    }
    if (p[0] & 0x40) {
        /* §4.3.3 Insert with Literal Name: 01Hxxxxx name, value. */
        lit nam, val;
        int rc = read_lit(p, len, &pos, 5, &nam);
        if (rc) return rc;
        if (t->capacity < SKIFF_QPACK_ENTRY_OVERHEAD ||
            least_len(nam.huffman, nam.len) > t->capacity - SKIFF_QPACK_ENTRY_OVERHEAD)
            return SKIFF_ERR_PROTOCOL_VIOLATION;
        if (nam.len > len - pos) return SKIFF_ERR_TRUNCATED;
        pos += (size_t)nam.len;
        rc = read_lit(p, len, &pos, 7, &val);
        if (rc) return rc;
        if (least_len(val.huffman, val.len) >
            t->capacity - SKIFF_QPACK_ENTRY_OVERHEAD - least_len(nam.huffman, nam.len))
            return SKIFF_ERR_PROTOCOL_VIOLATION;
        if (val.len > len - pos) return SKIFF_ERR_TRUNCATED;
        /* Both are here: decode the name, then insert with the value. */
        size_t used = 0;
        str sn = {0};
        rc = decode_body(d, nam.body, (size_t)nam.len, nam.huffman,
                         t->capacity - SKIFF_QPACK_ENTRY_OVERHEAD, &used, &sn);
        if (rc) return rc == SKIFF_ERR_BUFFER_TOO_SMALL ? SKIFF_ERR_PROTOCOL_VIOLATION : rc;
        if (sn.in_scratch) {
            /* The value decodes after the name in scratch: insert() with a
             * name "in table" copies it first, so hand it a stable copy. */
            uint64_t budget = t->capacity - SKIFF_QPACK_ENTRY_OVERHEAD - sn.len;
            str sv = {0};
            rc = decode_body(d, val.body, (size_t)val.len, val.huffman, budget, &used, &sv);
            if (rc) return rc == SKIFF_ERR_BUFFER_TOO_SMALL ? SKIFF_ERR_PROTOCOL_VIOLATION : rc;
            rc = skiff_qpack_table_insert(t, d->scratch + sn.off, sn.len, str_ptr(d, &sv), sv.len);
            if (rc) return SKIFF_ERR_PROTOCOL_VIOLATION;
        } else {
            rc = insert(d, sn.p, sn.len, false, &val);
            if (rc) return rc;
        }
        return (skiff_ssize)(pos + val.len);
    }
    if (p[0] & 0x20) {
        /* §4.3.1 Set Dynamic Table Capacity: 001xxxxx capacity. */
        n = skiff_qpack_int_decode(p, len, 5, &v);
        if (n < 0) return n;
        if (v > d->max_capacity) return SKIFF_ERR_PROTOCOL_VIOLATION;
        int rc = skiff_qpack_table_set_capacity(t, v);
        return rc ? rc : n;
    }
    /* §4.3.4 Duplicate: 000xxxxx relative index. */
    n = skiff_qpack_int_decode(p, len, 5, &v);
    if (n < 0) return n;
    if (v >= t->inserted) return SKIFF_ERR_PROTOCOL_VIOLATION;
    const skiff_qpack_entry *e = skiff_qpack_table_get(t, t->inserted - 1 - v);
    if (!e) return SKIFF_ERR_PROTOCOL_VIOLATION;
    lit val = {.body = skiff_qpack_entry_value(t, e), .len = e->value_len};
    int rc = insert(d, skiff_qpack_entry_name(t, e), e->name_len, true, &val);
    return rc ? rc : n;
}

static int stream_error(uint64_t *wire_error, int rc)
{
    *wire_error = rc == SKIFF_ERR_NOMEM || rc == SKIFF_ERR_INTERNAL
                      ? SKIFF_H3_INTERNAL_ERROR
                      : SKIFF_QPACK_ENCODER_STREAM_ERROR;
    return rc == SKIFF_ERR_TRUNCATED ? SKIFF_ERR_PROTOCOL_VIOLATION : rc;
}

int skiff_qpack_decoder_feed_encoder_stream(skiff_qpack_decoder *d, const uint8_t *p, size_t len,
                                            uint64_t *wire_error)
{
    if (d->partial_len > 0 && len > 0) {
        /* Complete the cut instruction: append what fits, parse again. */
        size_t old = d->partial_len;
        size_t take = d->partial_cap - old < len ? d->partial_cap - old : len;
        if (old + take > d->partial_alloc) {
            size_t alloc = d->partial_alloc * 2 > old + take ? d->partial_alloc * 2 : old + take;
            if (alloc > d->partial_cap) alloc = d->partial_cap;
            uint8_t *np = realloc(d->partial, alloc);
            if (!np) return stream_error(wire_error, SKIFF_ERR_NOMEM);
            d->partial = np;
            d->partial_alloc = alloc;
        }
        memcpy(d->partial + old, p, take);
        d->partial_len = old + take;
        skiff_ssize n = encoder_instruction(d, d->partial, d->partial_len);
        if (n == SKIFF_ERR_TRUNCATED) {
            if (d->partial_len == d->partial_cap)
                return stream_error(wire_error, SKIFF_ERR_PROTOCOL_VIOLATION);
            mark_unblocked(d);
            return 0;
        }
        if (n < 0) return stream_error(wire_error, (int)n);
        p += (size_t)n - old;
        len -= (size_t)n - old;
        d->partial_len = 0;
    }
    while (len > 0) {
        skiff_ssize n = encoder_instruction(d, p, len);
        if (n == SKIFF_ERR_TRUNCATED) {
            if (len >= d->partial_cap)
                return stream_error(wire_error, SKIFF_ERR_PROTOCOL_VIOLATION);
            if (len > d->partial_alloc) {
                size_t alloc = len < 64 ? 64 : len;
                if (alloc > d->partial_cap) alloc = d->partial_cap;
                uint8_t *np = realloc(d->partial, alloc);
                if (!np) return stream_error(wire_error, SKIFF_ERR_NOMEM);
                d->partial = np;
                d->partial_alloc = alloc;
            }
            memcpy(d->partial, p, len);
            d->partial_len = len;
            break;
        }
        if (n < 0) return stream_error(wire_error, (int)n);
        p += n;
        len -= (size_t)n;
    }
    mark_unblocked(d);
    return 0;
}

/* ---- field sections (§4.5) ---- */

/* §4.5.1: Required Insert Count (§4.5.1.1) and Base (§4.5.1.2). Returns the
 * prefix length or a negative error. */
static skiff_ssize read_prefix(const skiff_qpack_decoder *d, const uint8_t *p, size_t len,
                               uint64_t *ric, uint64_t *base)
{
    uint64_t enc, delta;
    skiff_ssize n1 = skiff_qpack_int_decode(p, len, 8, &enc);
    if (n1 < 0) return n1;
    if (enc == 0) {
        *ric = 0;
    } else {
        uint64_t full_range = 2 * d->max_entries;
        if (enc > full_range) return SKIFF_ERR_PROTOCOL_VIOLATION;
        uint64_t max_value = d->table.inserted + d->max_entries;
        uint64_t r = max_value / full_range * full_range + enc - 1;
        if (r > max_value) {
            if (r <= full_range) return SKIFF_ERR_PROTOCOL_VIOLATION;
            r -= full_range;
        }
        if (r == 0) return SKIFF_ERR_PROTOCOL_VIOLATION;
        *ric = r;
    }
    if ((size_t)n1 == len) return SKIFF_ERR_TRUNCATED;
    bool negative = p[n1] & 0x80;
    skiff_ssize n2 = skiff_qpack_int_decode(p + n1, len - (size_t)n1, 7, &delta);
    if (n2 < 0) return n2;
    if (negative) {
        if (delta >= *ric) return SKIFF_ERR_PROTOCOL_VIOLATION; /* Base would be negative */
        *base = *ric - delta - 1;
    } else {
        if (delta > UINT64_MAX - *ric) return SKIFF_ERR_PROTOCOL_VIOLATION;
        *base = *ric + delta;
    }
    return n1 + n2;
}

/* The dynamic entry of a field line: absolute index abs, below the Required
 * Insert Count and not evicted (§2.2.3), or NULL. */
static const skiff_qpack_entry *field_ref(const skiff_qpack_decoder *d, uint64_t ric, uint64_t abs)
{
    return abs < ric ? skiff_qpack_table_get(&d->table, abs) : NULL;
}

/* Relative index (§3.2.5) or post-base index (§3.2.6) to absolute, or UINT64_MAX. */
static uint64_t relative(uint64_t base, uint64_t idx)
{
    return idx < base ? base - 1 - idx : UINT64_MAX;
}

static uint64_t post_base(uint64_t base, uint64_t idx)
{
    return idx <= UINT64_MAX - 1 - base ? base + idx : UINT64_MAX;
}

/* Decodes field lines p[0..len) of a section with Required Insert Count ric
 * and Base base. Returns 0, SKIFF_QPACK_TOO_LARGE, or a negative error with
 * *wire_error set. */
static int decode_lines(skiff_qpack_decoder *d, uint64_t ric, uint64_t base, const uint8_t *p,
                        size_t len, skiff_qpack_emit emit, void *ud, uint64_t *wire_error)
{
    const uint64_t limit = d->section_limit;
    uint64_t used = 0; /* decoded size so far */
    size_t pos = 0;
    *wire_error = SKIFF_QPACK_DECOMPRESSION_FAILED;
    while (pos < len) {
        const uint8_t *q = p + pos;
        size_t left = len - pos;
        uint8_t b = q[0];
        uint64_t idx;
        skiff_ssize n;
        str name = {0}, value = {0};
        const skiff_qpack_entry *e = NULL;
        bool indexed = false;
        size_t scratch_used = 0;
        lit nam = {0}, val = {0};

        if (limit - used < SKIFF_H3_FIELD_OVERHEAD) return SKIFF_QPACK_TOO_LARGE;
        used += SKIFF_H3_FIELD_OVERHEAD;

        if (b & 0x80) {
            /* §4.5.2 Indexed Field Line: 1Txxxxxx. */
            n = skiff_qpack_int_decode(q, left, 6, &idx);
            if (n < 0) return (int)n;
            indexed = true;
            if (b & 0x40) {
                if (idx >= SKIFF_QPACK_STATIC_COUNT) return SKIFF_ERR_PROTOCOL_VIOLATION;
                const skiff_qpack_static_entry *s = &skiff_qpack_static_table[idx];
                name = (str){.p = (const uint8_t *)s->name, .len = s->name_len};
                value = (str){.p = (const uint8_t *)s->value, .len = s->value_len};
            } else if (!(e = field_ref(d, ric, relative(base, idx)))) {
                return SKIFF_ERR_PROTOCOL_VIOLATION;
            }
        } else if (b & 0x40) {
            /* §4.5.4 Literal Field Line with Name Reference: 01NTxxxx. */
            n = skiff_qpack_int_decode(q, left, 4, &idx);
            if (n < 0) return (int)n;
            if (b & 0x10) {
                if (idx >= SKIFF_QPACK_STATIC_COUNT) return SKIFF_ERR_PROTOCOL_VIOLATION;
                const skiff_qpack_static_entry *s = &skiff_qpack_static_table[idx];
                name = (str){.p = (const uint8_t *)s->name, .len = s->name_len};
            } else if (!(e = field_ref(d, ric, relative(base, idx)))) {
                return SKIFF_ERR_PROTOCOL_VIOLATION;
            }
        } else if (b & 0x20) {
            /* §4.5.6 Literal Field Line with Literal Name: 001NHxxx. */
            size_t at = 0;
            int rc = read_lit(q, left, &at, 3, &nam);
            if (rc) return rc;
            if (least_len(nam.huffman, nam.len) > limit - used) return SKIFF_QPACK_TOO_LARGE;
            if (nam.len > left - at) return SKIFF_ERR_TRUNCATED;
            rc = decode_body(d, nam.body, (size_t)nam.len, nam.huffman, limit - used, &scratch_used,
                             &name);
            if (rc == SKIFF_ERR_BUFFER_TOO_SMALL) return SKIFF_QPACK_TOO_LARGE;
            if (rc) return rc;
            n = (skiff_ssize)(at + nam.len);
        } else if (b & 0x10) {
            /* §4.5.3 Indexed Field Line with Post-Base Index: 0001xxxx. */
            n = skiff_qpack_int_decode(q, left, 4, &idx);
            if (n < 0) return (int)n;
            indexed = true;
            if (!(e = field_ref(d, ric, post_base(base, idx)))) return SKIFF_ERR_PROTOCOL_VIOLATION;
        } else {
            /* §4.5.5 Literal Field Line with Post-Base Name Reference: 0000Nxxx. */
            n = skiff_qpack_int_decode(q, left, 3, &idx);
            if (n < 0) return (int)n;
            if (!(e = field_ref(d, ric, post_base(base, idx)))) return SKIFF_ERR_PROTOCOL_VIOLATION;
        }
        pos += (size_t)n;

        if (e) {
            name = (str){.p = skiff_qpack_entry_name(&d->table, e), .len = e->name_len};
            if (indexed)
                value = (str){.p = skiff_qpack_entry_value(&d->table, e), .len = e->value_len};
        }
        if (name.len > limit - used) return SKIFF_QPACK_TOO_LARGE;
        used += name.len;
        if (!indexed) {
            /* The value: a string literal with a 7-bit prefix. */
            int rc = read_lit(p, len, &pos, 7, &val);
            if (rc) return rc;
            if (least_len(val.huffman, val.len) > limit - used) return SKIFF_QPACK_TOO_LARGE;
            if (val.len > len - pos) return SKIFF_ERR_TRUNCATED;
            rc = decode_body(d, val.body, (size_t)val.len, val.huffman, limit - used, &scratch_used,
                             &value);
            if (rc == SKIFF_ERR_BUFFER_TOO_SMALL) return SKIFF_QPACK_TOO_LARGE;
            if (rc) return rc;
            pos += (size_t)val.len;
        } else if (value.len > limit - used) {
            return SKIFF_QPACK_TOO_LARGE;
        }
        used += value.len;

        skiff_h3_field f = {str_ptr(d, &name), name.len, str_ptr(d, &value), value.len};
        int rc = emit(ud, &f);
        if (rc < 0) {
            *wire_error = SKIFF_H3_INTERNAL_ERROR;
            return rc;
        }
    }
    return 0;
}

static blocked_section *find_blocked(skiff_qpack_decoder *d, uint64_t stream_id)
{
    for (size_t i = 0; i < d->nblocked; i++)
        if (d->blocked[i].stream_id == stream_id) return &d->blocked[i];
    return NULL;
}

static void drop_blocked(skiff_qpack_decoder *d, blocked_section *b)
{
    free(b->lines);
    *b = d->blocked[--d->nblocked];
}

size_t skiff_qpack_decoder_blocked_streams(const skiff_qpack_decoder *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nblocked; i++)
        n += !d->blocked[i].ready;
    return n;
}

uint64_t skiff_qpack_decoder_insert_count(const skiff_qpack_decoder *d)
{
    return d->table.inserted;
}

/* §4.4.2: 01xxxxxx stream id; useless when the table cannot hold anything (§2.2.2.2). */
static void queue_stream_cancellation(skiff_qpack_decoder *d, uint64_t stream_id)
{
    if (d->max_capacity > 0) (void)queue_int(d, 0x40, 6, stream_id);
}

/* Decodes lines and acknowledges the section when it used the dynamic table
 * (§2.2.2.1), also when it was too large: its inserts were all received, so
 * the acknowledgment is true, and it releases the encoder's references. */
static int finish_section(skiff_qpack_decoder *d, uint64_t stream_id, uint64_t ric, uint64_t base,
                          const uint8_t *p, size_t len, skiff_qpack_emit emit, void *ud,
                          uint64_t *wire_error)
{
    int rc = decode_lines(d, ric, base, p, len, emit, ud, wire_error);
    if (rc < 0) return rc == SKIFF_ERR_TRUNCATED ? SKIFF_ERR_PROTOCOL_VIOLATION : rc;
    int ack = ric > 0 ? queue_section_ack(d, stream_id, ric) : 0;
    if (ack) {
        /* The caller left OUT_CAP bytes of instructions untaken. */
        *wire_error = ack == SKIFF_ERR_NOMEM ? SKIFF_H3_INTERNAL_ERROR : SKIFF_H3_EXCESSIVE_LOAD;
        return ack;
    }
    return rc;
}

int skiff_qpack_decode_section(skiff_qpack_decoder *d, uint64_t stream_id, const uint8_t *p,
                               size_t len, skiff_qpack_emit emit, void *ud, uint64_t *wire_error)
{
    *wire_error = SKIFF_QPACK_DECOMPRESSION_FAILED;
    if (find_blocked(d, stream_id)) {
        *wire_error = SKIFF_H3_INTERNAL_ERROR; /* one section at a time per stream */
        return SKIFF_ERR_INVALID_ARGUMENT;
    }
    uint64_t ric, base;
    skiff_ssize n = read_prefix(d, p, len, &ric, &base);
    if (n < 0) return SKIFF_ERR_PROTOCOL_VIOLATION;
    if (ric <= d->table.inserted)
        return finish_section(d, stream_id, ric, base, p + n, len - (size_t)n, emit, ud,
                              wire_error);

    /* §2.1.2: blocked until the inserts up to ric arrive. */
    if (skiff_qpack_decoder_blocked_streams(d) >= d->max_blocked)
        return SKIFF_ERR_PROTOCOL_VIOLATION;
    size_t lines = len - (size_t)n;
    if (lines > d->section_limit + BLOCKED_SLACK) {
        queue_stream_cancellation(d, stream_id); /* nothing will acknowledge it */
        return SKIFF_QPACK_TOO_LARGE;
    }
    if (d->nblocked == d->blocked_alloc) {
        size_t alloc = d->blocked_alloc ? d->blocked_alloc * 2 : 4;
        blocked_section *nb = realloc(d->blocked, alloc * sizeof *nb);
        if (!nb) goto nomem;
        d->blocked = nb;
        d->blocked_alloc = alloc;
    }
    uint8_t *copy = malloc(lines ? lines : 1);
    if (!copy) goto nomem;
    if (lines) memcpy(copy, p + n, lines);
    d->blocked[d->nblocked++] = (blocked_section){
        .stream_id = stream_id, .ric = ric, .base = base, .lines = copy, .len = lines};
    return SKIFF_QPACK_BLOCKED;
nomem:
    *wire_error = SKIFF_H3_INTERNAL_ERROR;
    return SKIFF_ERR_NOMEM;
}

bool skiff_qpack_decoder_pop_unblocked(skiff_qpack_decoder *d, uint64_t *stream_id)
{
    for (size_t i = 0; i < d->nblocked; i++) {
        if (d->blocked[i].ready && !d->blocked[i].popped) {
            d->blocked[i].popped = true;
            *stream_id = d->blocked[i].stream_id;
            return true;
        }
    }
    return false;
}

int skiff_qpack_decoder_resume(skiff_qpack_decoder *d, uint64_t stream_id, skiff_qpack_emit emit,
                               void *ud, uint64_t *wire_error)
{
    blocked_section *b = find_blocked(d, stream_id);
    if (!b || !b->ready) {
        *wire_error = SKIFF_H3_INTERNAL_ERROR;
        return SKIFF_ERR_INVALID_ARGUMENT;
    }
    /* Detach the section first: emit may cancel other streams. */
    blocked_section s = *b;
    *b = d->blocked[--d->nblocked];
    int rc = finish_section(d, s.stream_id, s.ric, s.base, s.lines, s.len, emit, ud, wire_error);
    free(s.lines);
    return rc;
}

void skiff_qpack_decoder_cancel_stream(skiff_qpack_decoder *d, uint64_t stream_id)
{
    blocked_section *b = find_blocked(d, stream_id);
    if (b) drop_blocked(d, b);
    queue_stream_cancellation(d, stream_id);
}
