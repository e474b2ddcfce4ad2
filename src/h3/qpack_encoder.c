/*
 * QPACK encoder (RFC 9204 §2.1, §4.3, §4.4, §4.5; Appendix C's single-pass
 * algorithm plus reference tracking).
 *
 * For each field, in order of preference:
 *   1. an exact static match: Indexed Field Line (static);
 *   2. an exact dynamic match it may reference: Indexed Field Line, relative
 *      to Base (or post-base for entries inserted by this section);
 *   3. a field worth indexing that fits without evicting anything still
 *      needed: Insert (with a static or dynamic name reference, or a literal
 *      name) on the encoder stream, then an indexed reference to it if the
 *      section may block; the insert pays off in later sections anyway;
 *   4. a literal, with a static name reference, a dynamic one it may
 *      reference, or a literal name; N=1 for credentials (§7.1.3), which
 *      are never inserted.
 * Strings are Huffman-coded when that is shorter.
 *
 * References (§2.1.1, §2.1.2). Base is the Insert Count when the section
 * starts. An entry is "acknowledged" below the Known Received Count; a
 * section referencing any other entry may block its stream, which is allowed
 * only while fewer streams than the peer's SETTINGS_QPACK_BLOCKED_STREAMS
 * are blocking (a stream that already is costs nothing more). Eviction is
 * oldest first, so a section pins every entry from the oldest it references:
 * that entry's pins counter keeps it, and all newer ones, from eviction
 * until the section is acknowledged or its stream cancelled. Unacknowledged
 * inserts are never evicted either. When room cannot be made, literals.
 *
 * A section either succeeds or changes nothing: the dynamic table is used
 * only when the output buffer can hold the section even as literals, so
 * running out of room is detected before any insert.
 */
#include "h3/qpack_encoder.h"

#include <stdlib.h>
#include <string.h>

#include "h3/h3_error.h"
#include "h3/qpack_static.h"
#include "h3/qpack_table.h"
#include "h3/qpack_wire.h"

/* Outstanding sections with dynamic references, per stream (headers,
 * trailers, interim responses); past this, the stream gets literals. */
#define SECTIONS_PER_STREAM 8u
/* Streams with outstanding sections; past this, new streams get literals. */
#define MAX_STREAMS 1024u
/* The longest prefixed integer (62 bits). */
#define INT_MAX_LEN 10u

typedef struct out_section {
    uint64_t ric;     /* Required Insert Count */
    uint64_t min_ref; /* oldest entry referenced (pinned) */
} out_section;

/* The outstanding sections of one stream, oldest first (§2.2.2.1: a
 * Section Acknowledgment is for the earliest). */
typedef struct stream_refs {
    uint64_t stream_id;
    unsigned count;
    out_section sec[SECTIONS_PER_STREAM];
} stream_refs;

struct skiff_qpack_encoder {
    skiff_qpack_table table;
    uint64_t our_max;      /* the most table memory we give the peer */
    uint64_t max_entries;  /* MaxEntries (§4.5.1.1), from the peer's maximum */
    uint64_t peer_blocked; /* SETTINGS_QPACK_BLOCKED_STREAMS */
    bool settings_known;
    uint64_t known_received;

    stream_refs *streams;
    size_t nstreams, streams_alloc;

    uint8_t *out; /* encoder-stream bytes to send */
    size_t out_len, out_alloc, out_cap;

    uint8_t partial[2 * INT_MAX_LEN]; /* a decoder instruction cut by a chunk boundary */
    size_t partial_len;
};

int skiff_qpack_encoder_new(skiff_qpack_encoder **out, uint64_t max_capacity)
{
    skiff_qpack_encoder *e = calloc(1, sizeof *e);
    if (!e) return SKIFF_ERR_NOMEM;
    skiff_qpack_table_init(&e->table);
    e->our_max = max_capacity;
    *out = e;
    return 0;
}

void skiff_qpack_encoder_free(skiff_qpack_encoder *e)
{
    if (!e) return;
    skiff_qpack_table_free(&e->table);
    free(e->streams);
    free(e->out);
    free(e);
}

uint64_t skiff_qpack_encoder_insert_count(const skiff_qpack_encoder *e)
{
    return e->table.inserted;
}

uint64_t skiff_qpack_encoder_known_received_count(const skiff_qpack_encoder *e)
{
    return e->known_received;
}

/* ---- the encoder stream (§4.3) ---- */

/* Makes room for n more queued bytes, within out_cap. */
static bool out_reserve(skiff_qpack_encoder *e, size_t n)
{
    if (n > e->out_cap - e->out_len) return false;
    if (e->out_len + n <= e->out_alloc) return true;
    size_t alloc = e->out_alloc ? e->out_alloc * 2 : 256;
    if (alloc < e->out_len + n) alloc = e->out_len + n;
    if (alloc > e->out_cap) alloc = e->out_cap;
    uint8_t *p = realloc(e->out, alloc);
    if (!p) return false;
    e->out = p;
    e->out_alloc = alloc;
    return true;
}

size_t skiff_qpack_encoder_take_instructions(skiff_qpack_encoder *e, uint8_t *out, size_t cap)
{
    size_t n = e->out_len < cap ? e->out_len : cap;
    if (n == 0) return 0;
    memcpy(out, e->out, n);
    memmove(e->out, e->out + n, e->out_len - n);
    e->out_len -= n;
    return n;
}

void skiff_qpack_encoder_set_peer_settings(skiff_qpack_encoder *e, uint64_t max_table_capacity,
                                           uint64_t blocked_streams)
{
    e->peer_blocked = blocked_streams;
    if (e->settings_known) return; /* the capacity is settled once (RFC 9204 §3.2.3) */
    e->settings_known = true;
    e->max_entries = max_table_capacity / SKIFF_QPACK_ENTRY_OVERHEAD;
    uint64_t cap = e->our_max < max_table_capacity ? e->our_max : max_table_capacity;
    if (cap < SKIFF_QPACK_ENTRY_OVERHEAD) return; /* no entry would fit */
    /* Room for a burst of inserts (a full table) twice over, whatever the
     * caller's pace of taking them. */
    e->out_cap = (size_t)cap * 2 + 1024;
    if (skiff_qpack_table_set_capacity(&e->table, cap) != 0 || !out_reserve(e, INT_MAX_LEN)) {
        skiff_qpack_table_set_capacity(&e->table, 0);
        e->out_cap = 0;
        return; /* without memory, static table and literals only */
    }
    skiff_ssize n = skiff_qpack_int_encode(e->out + e->out_len, INT_MAX_LEN, 0x20, 5, cap);
    e->out_len += (size_t)n;
}

/* ---- looking fields up ---- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static bool name_is(const skiff_h3_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name_len == n && memcmp(f->name, name, n) == 0;
}

/* Credentials: never indexed, and marked so for intermediaries (§7.1.3). */
static bool sensitive(const skiff_h3_field *f)
{
    switch (f->name_len) {
    case 6:
        return name_is(f, "cookie");
    case 10:
        return name_is(f, "set-cookie");
    case 13:
        return name_is(f, "authorization");
    case 19:
        return name_is(f, "proxy-authorization");
    default:
        return false;
    }
}

/* Fields whose values rarely repeat: inserting them would only churn the table. */
static bool worth_indexing(const skiff_h3_field *f, uint64_t capacity)
{
    uint64_t size = (uint64_t)f->name_len + f->value_len + SKIFF_QPACK_ENTRY_OVERHEAD;
    if (size > capacity / 4 * 3) return false;
    static const char *const volatile_names[] = {
        ":path",         "content-length",    "etag",          "date",
        "last-modified", "if-modified-since", "if-none-match", "age",
        "expires",       "content-range",     "if-range",      "range",
        "x-request-id",
    };
    for (size_t i = 0; i < sizeof volatile_names / sizeof volatile_names[0]; i++)
        if (name_is(f, volatile_names[i])) return false;
    return true;
}

/* The newest dynamic entries equal to f and with f's name (UINT64_MAX: none). */
static void dynamic_find(const skiff_qpack_encoder *e, const skiff_h3_field *f, uint32_t name_hash,
                         uint32_t hash, uint64_t *exact, uint64_t *named)
{
    const skiff_qpack_table *t = &e->table;
    *exact = *named = UINT64_MAX;
    for (uint64_t i = t->inserted; i-- > t->dropped;) {
        const skiff_qpack_entry *en = &t->slots[i % t->nslots];
        if (en->name_hash != name_hash || en->name_len != f->name_len ||
            memcmp(skiff_qpack_entry_name(t, en), f->name, f->name_len) != 0)
            continue;
        if (*named == UINT64_MAX) *named = i;
        if (en->hash == hash && en->value_len == f->value_len &&
            memcmp(skiff_qpack_entry_value(t, en), f->value, f->value_len) == 0) {
            *exact = i;
            return;
        }
    }
}

/* ---- one section ---- */

typedef struct section {
    skiff_qpack_encoder *e;
    stream_refs *refs; /* NULL: no dynamic table for this section */
    uint64_t base;
    uint64_t drain; /* entries below this are about to be evicted: not referenced anew */
    uint64_t ric;
    uint64_t min_ref;
    bool may_block; /* may reference entries not yet acknowledged */
    uint8_t *w, *end;
} section;

/* Streams that a section with unacknowledged references may block (§2.1.2). */
static bool stream_blocking(const skiff_qpack_encoder *e, const stream_refs *s)
{
    for (unsigned i = 0; i < s->count; i++)
        if (s->sec[i].ric > e->known_received) return true;
    return false;
}

static bool may_reference(const section *s, uint64_t abs)
{
    return abs < s->e->known_received || s->may_block;
}

static void reference(section *s, uint64_t abs)
{
    if (abs + 1 > s->ric) s->ric = abs + 1;
    if (abs < s->min_ref) s->min_ref = abs;
}

/* Whether an entry of `size` can be added by evicting only entries that are
 * acknowledged and referenced by no outstanding section, this one included. */
static bool can_insert(const section *s, uint64_t size)
{
    const skiff_qpack_encoder *e = s->e;
    const skiff_qpack_table *t = &e->table;
    if (size > t->capacity) return false;
    uint64_t abs = t->dropped, freed = 0;
    while (t->size - freed + size > t->capacity) {
        if (abs >= t->inserted || abs >= e->known_received || abs >= s->min_ref) return false;
        const skiff_qpack_entry *en = &t->slots[abs % t->nslots];
        if (en->pins) return false;
        freed += skiff_qpack_entry_size(en);
        abs++;
    }
    return true;
}

static int put_int(section *s, uint8_t flags, unsigned prefix, uint64_t v)
{
    skiff_ssize n = skiff_qpack_int_encode(s->w, (size_t)(s->end - s->w), flags, prefix, v);
    if (n < 0) return (int)n;
    s->w += n;
    return 0;
}

static int put_string(section *s, uint8_t flags, unsigned prefix, const uint8_t *p, size_t n)
{
    skiff_ssize w = skiff_qpack_string_encode(s->w, (size_t)(s->end - s->w), flags, prefix, p, n);
    if (w < 0) return (int)w;
    s->w += w;
    return 0;
}

/* §4.5.2 / §4.5.3: an indexed line for dynamic entry abs. */
static int put_dynamic_indexed(section *s, uint64_t abs)
{
    reference(s, abs);
    if (abs < s->base) return put_int(s, 0x80, 6, s->base - 1 - abs);
    return put_int(s, 0x10, 4, abs - s->base);
}

/* §4.5.4 / §4.5.5: a literal with the name of dynamic entry abs. */
static int put_dynamic_named(section *s, uint64_t abs, const skiff_h3_field *f)
{
    reference(s, abs);
    int rc =
        abs < s->base ? put_int(s, 0x40, 4, s->base - 1 - abs) : put_int(s, 0x00, 3, abs - s->base);
    return rc ? rc : put_string(s, 0x00, 7, f->value, f->value_len);
}

/* §4.3.2 / §4.3.3 / §4.3.4: queues the insert of f (by static or dynamic
 * name reference, literal name, or as a duplicate of entry dup) and adds it
 * to our table. Returns false (nothing done) when the encoder stream has no
 * room for it. */
static bool insert(section *s, const skiff_h3_field *f, int static_name, uint64_t dyn_name,
                   uint64_t dup, uint32_t name_hash, uint32_t hash)
{
    skiff_qpack_encoder *e = s->e;
    skiff_qpack_table *t = &e->table;
    bool h;
    size_t need;
    if (dup != UINT64_MAX)
        need = skiff_qpack_int_len(t->inserted - 1 - dup, 5);
    else if (static_name >= 0)
        need = skiff_qpack_int_len((uint64_t)static_name, 6);
    else if (dyn_name != UINT64_MAX)
        need = skiff_qpack_int_len(t->inserted - 1 - dyn_name, 6);
    else
        need = skiff_qpack_string_len(f->name, f->name_len, 5, &h);
    if (dup == UINT64_MAX) need += skiff_qpack_string_len(f->value, f->value_len, 7, &h);
    if (!out_reserve(e, need)) return false;

    uint8_t *w = e->out + e->out_len, *end = e->out + e->out_alloc;
    if (dup != UINT64_MAX) {
        w += skiff_qpack_int_encode(w, (size_t)(end - w), 0x00, 5, t->inserted - 1 - dup);
    } else {
        if (static_name >= 0)
            w += skiff_qpack_int_encode(w, (size_t)(end - w), 0xc0, 6, (uint64_t)static_name);
        else if (dyn_name != UINT64_MAX)
            w += skiff_qpack_int_encode(w, (size_t)(end - w), 0x80, 6, t->inserted - 1 - dyn_name);
        else
            w += skiff_qpack_string_encode(w, (size_t)(end - w), 0x40, 5, f->name, f->name_len);
        w += skiff_qpack_string_encode(w, (size_t)(end - w), 0x00, 7, f->value, f->value_len);
    }
    e->out_len = (size_t)(w - e->out);

    skiff_qpack_table_insert(t, f->name, f->name_len, f->value, f->value_len);
    skiff_qpack_entry *en = skiff_qpack_table_get(t, t->inserted - 1);
    en->name_hash = name_hash;
    en->hash = hash;
    return true;
}

static int encode_field(section *s, const skiff_h3_field *f)
{
    int static_name;
    int exact = skiff_qpack_static_find(f->name, f->name_len, f->value, f->value_len, &static_name);
    if (exact >= 0) return put_int(s, 0xc0, 6, (uint64_t)exact); /* §4.5.2, T=1 */

    bool never = sensitive(f);
    if (s->refs && !never) {
        skiff_qpack_encoder *e = s->e;
        uint32_t name_hash = fnv1a(2166136261u, f->name, f->name_len);
        uint32_t hash = fnv1a(name_hash, f->value, f->value_len);
        uint64_t abs, named;
        dynamic_find(e, f, name_hash, hash, &abs, &named);
        if (abs != UINT64_MAX && abs >= s->drain && may_reference(s, abs))
            return put_dynamic_indexed(s, abs);
        /* Insert what is missing, and refresh (duplicate) what is draining,
         * unless the one copy there is still unacknowledged. */
        bool add = abs == UINT64_MAX ? worth_indexing(f, e->table.capacity)
                                     : abs < s->drain && abs < e->known_received;
        if (add &&
            can_insert(s, (uint64_t)f->name_len + f->value_len + SKIFF_QPACK_ENTRY_OVERHEAD) &&
            insert(s, f, static_name, named >= s->drain ? named : UINT64_MAX, abs, name_hash,
                   hash)) {
            uint64_t fresh = e->table.inserted - 1;
            if (may_reference(s, fresh)) return put_dynamic_indexed(s, fresh);
            if (named != UINT64_MAX && !skiff_qpack_table_get(&e->table, named)) named = UINT64_MAX;
        }
        if (static_name < 0 && named != UINT64_MAX && named >= s->drain && may_reference(s, named))
            return put_dynamic_named(s, named, f);
    }
    /* §4.5.4 with a static name (01NT, T=1), or §4.5.6 (001NH). */
    int rc = static_name >= 0
                 ? put_int(s, (uint8_t)(0x50 | (never ? 0x20 : 0)), 4, (uint64_t)static_name)
                 : put_string(s, (uint8_t)(0x20 | (never ? 0x10 : 0)), 3, f->name, f->name_len);
    return rc ? rc : put_string(s, 0x00, 7, f->value, f->value_len);
}

static stream_refs *find_stream(skiff_qpack_encoder *e, uint64_t stream_id)
{
    for (size_t i = 0; i < e->nstreams; i++)
        if (e->streams[i].stream_id == stream_id) return &e->streams[i];
    return NULL;
}

/* The stream's record, created if need be; NULL when the dynamic table
 * should not be used for it (too many outstanding sections, no memory). */
static stream_refs *refs_for(skiff_qpack_encoder *e, uint64_t stream_id)
{
    stream_refs *r = find_stream(e, stream_id);
    if (r) return r->count < SECTIONS_PER_STREAM ? r : NULL;
    if (e->nstreams == MAX_STREAMS) return NULL;
    if (e->nstreams == e->streams_alloc) {
        size_t alloc = e->streams_alloc ? e->streams_alloc * 2 : 8;
        stream_refs *p = realloc(e->streams, alloc * sizeof *p);
        if (!p) return NULL;
        e->streams = p;
        e->streams_alloc = alloc;
    }
    r = &e->streams[e->nstreams];
    r->stream_id = stream_id;
    r->count = 0;
    return r; /* counted in nstreams once a section is recorded */
}

/* The draining entries: once the table is three quarters full, the oldest
 * quarter of the capacity. New references go elsewhere, so those entries
 * lose their pins and can be evicted to make room. */
static uint64_t drain_point(const skiff_qpack_table *t)
{
    uint64_t abs = t->dropped;
    if (t->size <= t->capacity / 4 * 3) return abs;
    for (uint64_t freed = 0; abs < t->inserted && freed < t->capacity / 4; abs++)
        freed += skiff_qpack_entry_size(&t->slots[abs % t->nslots]);
    return abs;
}

static size_t blocking_streams(const skiff_qpack_encoder *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nstreams; i++)
        n += stream_blocking(e, &e->streams[i]);
    return n;
}

skiff_ssize skiff_qpack_encode_section(skiff_qpack_encoder *e, uint64_t stream_id,
                                       const skiff_h3_field *fields, size_t count, uint8_t *out,
                                       size_t cap)
{
    section s = {.e = e, .base = e->table.inserted, .min_ref = UINT64_MAX};
    size_t reserve = 2; /* a prefix of 0, 0 */
    if (e->table.capacity > 0 && (s.refs = refs_for(e, stream_id)) != NULL) {
        /* Use the table only if the section fits whatever representation
         * each field gets: a literal (Huffman only when shorter) or an
         * index, below base + count, in as few as 3 prefix bits. */
        size_t index_len = skiff_qpack_int_len(s.base + count, 3), bound = 0;
        for (size_t i = 0; i < count && bound <= cap; i++) {
            const skiff_h3_field *f = &fields[i];
            size_t name = skiff_qpack_int_len(f->name_len, 3) + f->name_len;
            bound += (name > index_len ? name : index_len) + skiff_qpack_int_len(f->value_len, 7) +
                     f->value_len;
        }
        reserve =
            skiff_qpack_int_len(2 * e->max_entries, 8) + skiff_qpack_int_len(s.base + count, 7);
        if (bound > cap || cap - bound < reserve) {
            s.refs = NULL;
            reserve = 2;
        }
    }
    if (cap < reserve) return SKIFF_ERR_BUFFER_TOO_SMALL;
    if (s.refs) {
        bool already = s.refs < e->streams + e->nstreams && stream_blocking(e, s.refs);
        s.may_block = already || blocking_streams(e) < e->peer_blocked;
        s.drain = drain_point(&e->table);
    }
    s.w = out + reserve;
    s.end = out + cap;
    for (size_t i = 0; i < count; i++) {
        int rc = encode_field(&s, &fields[i]);
        if (rc) return rc; /* only without the dynamic table: nothing changed */
    }
    size_t lines = (size_t)(s.w - (out + reserve));

    /* §4.5.1: the prefix, now that the Required Insert Count is known. */
    uint8_t prefix[2 * INT_MAX_LEN];
    size_t plen = 2;
    if (s.ric == 0) {
        prefix[0] = prefix[1] = 0;
    } else {
        uint64_t enc = s.ric % (2 * e->max_entries) + 1;
        size_t n1 = (size_t)skiff_qpack_int_encode(prefix, sizeof prefix, 0x00, 8, enc);
        skiff_ssize n2 = s.base >= s.ric ? skiff_qpack_int_encode(prefix + n1, sizeof prefix - n1,
                                                                  0x00, 7, s.base - s.ric)
                                         : skiff_qpack_int_encode(prefix + n1, sizeof prefix - n1,
                                                                  0x80, 7, s.ric - s.base - 1);
        plen = n1 + (size_t)n2;
        /* Record the section: its oldest reference stays pinned until acknowledged. */
        if (s.refs == e->streams + e->nstreams) e->nstreams++;
        s.refs->sec[s.refs->count++] = (out_section){.ric = s.ric, .min_ref = s.min_ref};
        skiff_qpack_table_get(&e->table, s.min_ref)->pins++;
    }
    if (plen != reserve) memmove(out + plen, out + reserve, lines);
    memcpy(out, prefix, plen);
    return (skiff_ssize)(plen + lines);
}

/* ---- the decoder stream (§4.4) ---- */

static void drop_section(skiff_qpack_encoder *e, const out_section *sec)
{
    skiff_qpack_entry *en = skiff_qpack_table_get(&e->table, sec->min_ref);
    if (en && en->pins) en->pins--;
}

static void drop_stream(skiff_qpack_encoder *e, stream_refs *r)
{
    e->streams[r - e->streams] = e->streams[--e->nstreams];
}

/* One decoder instruction at p[0..len): returns its length,
 * SKIFF_ERR_TRUNCATED, or SKIFF_ERR_PROTOCOL_VIOLATION. */
static skiff_ssize decoder_instruction(skiff_qpack_encoder *e, const uint8_t *p, size_t len)
{
    uint64_t v;
    skiff_ssize n;
    if (p[0] & 0x80) {
        /* §4.4.1 Section Acknowledgment. */
        if ((n = skiff_qpack_int_decode(p, len, 7, &v)) < 0) return n;
        stream_refs *r = find_stream(e, v);
        if (!r || r->count == 0) return SKIFF_ERR_PROTOCOL_VIOLATION;
        out_section sec = r->sec[0];
        drop_section(e, &sec);
        memmove(r->sec, r->sec + 1, --r->count * sizeof r->sec[0]);
        if (r->count == 0) drop_stream(e, r);
        if (sec.ric > e->known_received) e->known_received = sec.ric; /* §2.1.4 */
    } else if (p[0] & 0x40) {
        /* §4.4.2 Stream Cancellation. */
        if ((n = skiff_qpack_int_decode(p, len, 6, &v)) < 0) return n;
        stream_refs *r = find_stream(e, v);
        if (r) {
            for (unsigned i = 0; i < r->count; i++)
                drop_section(e, &r->sec[i]);
            drop_stream(e, r);
        }
    } else {
        /* §4.4.3 Insert Count Increment. */
        if ((n = skiff_qpack_int_decode(p, len, 6, &v)) < 0) return n;
        if (v == 0 || v > e->table.inserted - e->known_received)
            return SKIFF_ERR_PROTOCOL_VIOLATION;
        e->known_received += v;
    }
    return n;
}

int skiff_qpack_encoder_feed_decoder_stream(skiff_qpack_encoder *e, const uint8_t *p, size_t len,
                                            uint64_t *wire_error)
{
    while (len > 0) {
        skiff_ssize n;
        if (e->partial_len > 0) {
            /* Instructions are one integer: complete the cut one. */
            size_t old = e->partial_len;
            size_t take = sizeof e->partial - old < len ? sizeof e->partial - old : len;
            memcpy(e->partial + old, p, take);
            n = decoder_instruction(e, e->partial, old + take);
            if (n == SKIFF_ERR_TRUNCATED && old + take < sizeof e->partial) {
                e->partial_len = old + take;
                return 0;
            }
            if (n < 0) break;
            e->partial_len = 0;
            p += (size_t)n - old;
            len -= (size_t)n - old;
            continue;
        }
        n = decoder_instruction(e, p, len);
        if (n == SKIFF_ERR_TRUNCATED && len < sizeof e->partial) {
            memcpy(e->partial, p, len);
            e->partial_len = len;
            return 0;
        }
        if (n < 0) break;
        p += n;
        len -= (size_t)n;
    }
    if (len == 0) return 0;
    *wire_error = SKIFF_QPACK_DECODER_STREAM_ERROR;
    return SKIFF_ERR_PROTOCOL_VIOLATION;
}
