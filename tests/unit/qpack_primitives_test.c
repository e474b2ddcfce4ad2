/* QPACK building blocks: the Huffman code (RFC 7541 §5.2, Appendix B),
 * prefixed integers and string literals (RFC 7541 §5.1, RFC 9204 §4.1), the
 * static table (RFC 9204 Appendix A) and the dynamic table ring (§3.2). */
#include "h3/qpack_huffman.h"
#include "h3/qpack_static.h"
#include "h3/qpack_table.h"
#include "h3/qpack_wire.h"
#include "test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* RFC 7541 Appendix C.4 and C.6: Huffman-coded strings of the examples. */
static void huffman_rfc_examples(void)
{
    static const struct {
        const char *text, *hex;
    } v[] = {
        {"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
        {"no-cache", "a8eb10649cbf"},
        {"custom-key", "25a849e95ba97d7f"},
        {"custom-value", "25a849e95bb8e8b4bf"},
        {"302", "6402"},
        {"307", "640eff"},
        {"private", "aec3771a4b"},
        {"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
        {"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
        {"gzip", "9bd9ab"},
        {"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
         "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d500"
         "7"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t want[64], got[64], back[64];
        size_t n = test_hex(v[i].hex, want, sizeof want);
        size_t len = strlen(v[i].text);
        const uint8_t *text = (const uint8_t *)v[i].text;
        CHECK_EQ(skiff_qpack_huffman_encoded_len(text, len), n);
        CHECK_EQ(skiff_qpack_huffman_encode(got, text, len), n);
        CHECK_MEM(got, want, n);
        uint8_t *exact = test_dup_exact(want, n);
        CHECK_EQ(skiff_qpack_huffman_decode(back, sizeof back, exact, n), (skiff_ssize)len);
        CHECK_MEM(back, text, len);
        /* One byte short of room: refused, not overrun. */
        CHECK_EQ(skiff_qpack_huffman_decode(back, len - 1, exact, n), SKIFF_ERR_BUFFER_TOO_SMALL);
        free(exact);
    }
}

static void huffman_round_trips_every_length(void)
{
    for (size_t len = 0; len <= 300; len++) {
        for (int kind = 0; kind < 2; kind++) {
            uint8_t s[300], enc[300 * 4], dec[300];
            for (size_t i = 0; i < len; i++)
                s[i] =
                    kind ? (uint8_t)rnd() : (uint8_t)("abcdefghijklmnop/-.0123456789"[rnd() % 29]);
            size_t n = skiff_qpack_huffman_encode(enc, s, len);
            CHECK_EQ(n, skiff_qpack_huffman_encoded_len(s, len));
            CHECK(skiff_qpack_huffman_decoded_max(n) >= len);
            CHECK(skiff_qpack_huffman_decoded_min(n) <= len);
            uint8_t *exact = test_dup_exact(enc, n);
            CHECK_EQ(skiff_qpack_huffman_decode(dec, len, exact, n), (skiff_ssize)len);
            CHECK_MEM(dec, s, len);
            free(exact);
        }
    }
}

static void huffman_rejects_bad_strings(void)
{
    uint8_t out[16];
    static const struct {
        const char *hex;
        skiff_ssize want;
    } v[] = {
        {"ffffffff", SKIFF_ERR_PROTOCOL_VIOLATION},   /* EOS (30 ones) */
        {"1fffffffff", SKIFF_ERR_PROTOCOL_VIOLATION}, /* 'a', then EOS */
        {"ff", SKIFF_ERR_PROTOCOL_VIOLATION},         /* 8 bits of padding */
        {"1fff", SKIFF_ERR_PROTOCOL_VIOLATION},       /* 'a', then 11 bits of padding */
        {"06", SKIFF_ERR_PROTOCOL_VIOLATION},         /* '0', then padding 110 */
        {"fe", SKIFF_ERR_PROTOCOL_VIOLATION},         /* a cut code with a 0 */
        {"07", 1},                                    /* '0', then padding 111 */
        {"1f", 1},                                    /* 'a', then padding 111 */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t in[8];
        size_t n = test_hex(v[i].hex, in, sizeof in);
        uint8_t *exact = test_dup_exact(in, n);
        CHECK_EQ(skiff_qpack_huffman_decode(out, sizeof out, exact, n), v[i].want);
        free(exact);
    }
    /* The bounds the decoder uses before decoding. */
    CHECK_EQ(skiff_qpack_huffman_decoded_max(5), 8);
    CHECK_EQ(skiff_qpack_huffman_decoded_max(0), 0);
    CHECK_EQ(skiff_qpack_huffman_decoded_min(30), 7);
    CHECK_EQ(skiff_qpack_huffman_decoded_min(1), 0);
}

/* RFC 7541 C.1 and the 62-bit limit of RFC 9204 §4.1.1. */
static void prefix_integers(void)
{
    uint8_t buf[16];
    CHECK_EQ(skiff_qpack_int_encode(buf, sizeof buf, 0xe0, 5, 10), 1);
    CHECK_EQ(buf[0], 0xea);
    CHECK_EQ(skiff_qpack_int_encode(buf, sizeof buf, 0, 5, 1337), 3);
    CHECK_MEM(buf, "\x1f\x9a\x0a", 3);
    CHECK_EQ(skiff_qpack_int_encode(buf, sizeof buf, 0, 8, 42), 1);
    CHECK_EQ(buf[0], 42);
    CHECK_EQ(skiff_qpack_int_encode(buf, 2, 0, 5, 1337), SKIFF_ERR_BUFFER_TOO_SMALL);

    static const uint64_t values[] = {0,
                                      1,
                                      6,
                                      7,
                                      8,
                                      30,
                                      31,
                                      127,
                                      128,
                                      254,
                                      255,
                                      256,
                                      16383,
                                      UINT64_C(1) << 32,
                                      SKIFF_QPACK_INT_MAX};
    for (unsigned prefix = 1; prefix <= 8; prefix++) {
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
            skiff_ssize n = skiff_qpack_int_encode(buf, sizeof buf, 0, prefix, values[i]);
            CHECK(n > 0);
            CHECK_EQ(n, (skiff_ssize)skiff_qpack_int_len(values[i], prefix));
            buf[0] |= (uint8_t)(0xff << prefix); /* flag bits are ignored */
            uint64_t v = 0;
            uint8_t *exact = test_dup_exact(buf, (size_t)n);
            CHECK_EQ(skiff_qpack_int_decode(exact, (size_t)n, prefix, &v), n);
            CHECK_U64(v, values[i]);
            for (size_t cut = 0; cut < (size_t)n; cut++)
                CHECK_EQ(skiff_qpack_int_decode(exact, cut, prefix, &v), SKIFF_ERR_TRUNCATED);
            free(exact);
        }
        /* 2^62 is one too many. */
        skiff_ssize n = skiff_qpack_int_encode(buf, sizeof buf, 0, prefix, SKIFF_QPACK_INT_MAX + 1);
        uint64_t v;
        CHECK_EQ(skiff_qpack_int_decode(buf, (size_t)n, prefix, &v), SKIFF_ERR_PROTOCOL_VIOLATION);
    }
    /* Overflow of 64 bits, and an endless run of zero continuations. */
    uint8_t big[12];
    test_hex("ffffffffffffffffffffff01", big, sizeof big);
    uint64_t v;
    CHECK_EQ(skiff_qpack_int_decode(big, sizeof big, 8, &v), SKIFF_ERR_PROTOCOL_VIOLATION);
    uint8_t zeros[14] = {0x1f};
    memset(zeros + 1, 0x80, 12);
    CHECK_EQ(skiff_qpack_int_decode(zeros, sizeof zeros, 5, &v), SKIFF_ERR_PROTOCOL_VIOLATION);
    /* A few zero continuations are fine (non-minimal, but valid). */
    CHECK_EQ(skiff_qpack_int_decode((const uint8_t *)"\x1f\x80\x80\x00", 4, 5, &v), 4);
    CHECK_U64(v, 31);
}

static void string_literals(void)
{
    uint8_t buf[64];
    bool h;
    uint64_t len;
    /* Huffman when shorter: RFC 7541 C.4.1's value with a 7-bit prefix. */
    const uint8_t *www = (const uint8_t *)"www.example.com";
    CHECK_EQ(skiff_qpack_string_len(www, 15, 7, &h), 13);
    CHECK(h);
    CHECK_EQ(skiff_qpack_string_encode(buf, sizeof buf, 0, 7, www, 15), 13);
    CHECK_EQ(buf[0], 0x8c);
    CHECK_EQ(skiff_qpack_string_header(buf, 13, 7, &h, &len), 1);
    CHECK(h);
    CHECK_U64(len, 12);
    /* Raw when Huffman is longer: bytes with long codes, H clear. */
    const uint8_t raw[3] = {0x00, 0xff, 0x80};
    CHECK_EQ(skiff_qpack_string_encode(buf, sizeof buf, 0x20, 3, raw, 3), 4);
    CHECK_EQ(buf[0], 0x23);
    CHECK_EQ(skiff_qpack_string_header(buf, 4, 3, &h, &len), 1);
    CHECK(!h);
    CHECK_U64(len, 3);
    CHECK_EQ(skiff_qpack_string_encode(buf, 3, 0, 7, raw, 3), SKIFF_ERR_BUFFER_TOO_SMALL);
}

static void static_table_lookups(void)
{
    CHECK_EQ(SKIFF_QPACK_STATIC_COUNT, 99);
    for (int i = 0; i < (int)SKIFF_QPACK_STATIC_COUNT; i++) {
        const skiff_qpack_static_entry *s = &skiff_qpack_static_table[i];
        CHECK_EQ(strlen(s->name), s->name_len);
        CHECK_EQ(strlen(s->value), s->value_len);
        int name_idx;
        CHECK_EQ(skiff_qpack_static_find((const uint8_t *)s->name, s->name_len,
                                         (const uint8_t *)s->value, s->value_len, &name_idx),
                 i);
        CHECK(name_idx >= 0 && name_idx <= i);
        CHECK(strcmp(skiff_qpack_static_table[name_idx].name, s->name) == 0);
        for (int j = 0; j < name_idx; j++)
            CHECK(strcmp(skiff_qpack_static_table[j].name, s->name) != 0);
    }
    int name_idx;
    CHECK_EQ(skiff_qpack_static_find((const uint8_t *)":status", 7, (const uint8_t *)"201", 3,
                                     &name_idx),
             -1);
    CHECK_EQ(name_idx, 24);
    CHECK_EQ(
        skiff_qpack_static_find((const uint8_t *)":path", 5, (const uint8_t *)"/", 1, &name_idx),
        1);
    CHECK_EQ(skiff_qpack_static_find((const uint8_t *)"x-frame-options", 15,
                                     (const uint8_t *)"sameorigin", 10, &name_idx),
             98);
    CHECK_EQ(
        skiff_qpack_static_find((const uint8_t *)"x-custom", 8, (const uint8_t *)"", 0, &name_idx),
        -1);
    CHECK_EQ(name_idx, -1);
    CHECK_EQ(skiff_qpack_static_find((const uint8_t *)"", 0, (const uint8_t *)"", 0, &name_idx),
             -1);
    uint8_t long_name[40];
    memset(long_name, 'a', sizeof long_name);
    CHECK_EQ(skiff_qpack_static_find(long_name, sizeof long_name, long_name, 0, &name_idx), -1);
}

/* A model of the table: what each live entry must hold. */
typedef struct model_entry {
    uint8_t name[64], value[200];
    size_t nlen, vlen;
} model_entry;

static void check_against_model(const skiff_qpack_table *t, const model_entry *m, uint64_t first)
{
    uint64_t size = 0;
    for (uint64_t i = t->dropped; i < t->inserted; i++) {
        const skiff_qpack_entry *e = skiff_qpack_table_get(t, i);
        const model_entry *me = &m[i - first];
        if (!e) {
            CHECK(e != NULL);
            return;
        }
        CHECK_EQ(e->name_len, me->nlen);
        CHECK_EQ(e->value_len, me->vlen);
        CHECK_MEM(skiff_qpack_entry_name(t, e), me->name, me->nlen);
        CHECK_MEM(skiff_qpack_entry_value(t, e), me->value, me->vlen);
        size += skiff_qpack_entry_size(e);
    }
    CHECK_U64(size, t->size);
    CHECK(t->size <= t->capacity);
    CHECK(skiff_qpack_table_get(t, t->inserted) == NULL);
    if (t->dropped > 0) CHECK(skiff_qpack_table_get(t, t->dropped - 1) == NULL);
}

/* Random inserts and capacity changes against a model: every live entry
 * keeps its bytes through wrap-arounds, compactions and regrowth. */
static void dynamic_table_ring(void)
{
    static const uint64_t caps[] = {32, 64, 220, 1000, 4096};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        skiff_qpack_table t;
        skiff_qpack_table_init(&t);
        CHECK_EQ(skiff_qpack_table_set_capacity(&t, caps[c]), 0);
        model_entry *m = calloc(20000, sizeof *m);
        if (!m) abort();
        for (int step = 0; step < 20000; step++) {
            if (rnd() % 500 == 0) {
                /* Shrink or grow, within the first capacity's double. */
                uint64_t cap = rnd() % (2 * caps[c] + 1);
                CHECK_EQ(skiff_qpack_table_set_capacity(&t, cap), 0);
                CHECK(t.size <= cap);
                CHECK(t.ring_cap <= 2 * caps[c]);
                continue;
            }
            model_entry *me = &m[t.inserted];
            me->nlen = rnd() % (rnd() % 4 == 0 ? 64 : 8);
            me->vlen = rnd() % (rnd() % 4 == 0 ? 200 : 16);
            for (size_t i = 0; i < me->nlen; i++)
                me->name[i] = (uint8_t)rnd();
            for (size_t i = 0; i < me->vlen; i++)
                me->value[i] = (uint8_t)rnd();
            uint64_t before = t.inserted;
            int rc = skiff_qpack_table_insert(&t, me->name, me->nlen, me->value, me->vlen);
            if (me->nlen + me->vlen + 32 > t.capacity) {
                CHECK_EQ(rc, SKIFF_ERR_INVALID_ARGUMENT);
                CHECK_U64(t.inserted, before);
            } else {
                CHECK_EQ(rc, 0);
                CHECK_U64(t.inserted, before + 1);
            }
            if (t.inserted >= 20000 - 1) break;
            check_against_model(&t, m, 0);
        }
        /* Memory stays bounded by the largest capacity. */
        CHECK(t.nslots <= 2 * caps[c] / 32 + 1);
        free(m);
        skiff_qpack_table_free(&t);
    }
}

/* RFC 9204 §3.2.2 / B.5: eviction order and sizes. */
static void dynamic_table_eviction(void)
{
    skiff_qpack_table t;
    skiff_qpack_table_init(&t);
    CHECK_EQ(skiff_qpack_table_set_capacity(&t, 220), 0);
    const uint8_t *a = (const uint8_t *)":authority", *w = (const uint8_t *)"www.example.com";
    CHECK_EQ(skiff_qpack_table_insert(&t, a, 10, w, 15), 0);
    CHECK_EQ(skiff_qpack_table_insert(&t, (const uint8_t *)":path", 5,
                                      (const uint8_t *)"/sample/path", 12),
             0);
    CHECK_U64(t.size, 106);
    CHECK_EQ(skiff_qpack_table_insert(&t, (const uint8_t *)"custom-key", 10,
                                      (const uint8_t *)"custom-value", 12),
             0);
    CHECK_EQ(skiff_qpack_table_insert(&t, a, 10, w, 15), 0);
    CHECK_U64(t.size, 217);
    CHECK_EQ(skiff_qpack_table_insert(&t, (const uint8_t *)"custom-key", 10,
                                      (const uint8_t *)"custom-value2", 13),
             0);
    CHECK_U64(t.size, 215);
    CHECK_U64(t.dropped, 1);
    CHECK(skiff_qpack_table_get(&t, 0) == NULL);
    CHECK_EQ(skiff_qpack_table_insert(&t, a, 200, w, 0), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_qpack_table_set_capacity(&t, 0), 0);
    CHECK_U64(t.size, 0);
    CHECK_U64(t.dropped, 5);
    skiff_qpack_table_free(&t);
}

int main(void)
{
    RUN(huffman_rfc_examples);
    RUN(huffman_round_trips_every_length);
    RUN(huffman_rejects_bad_strings);
    RUN(prefix_integers);
    RUN(string_literals);
    RUN(static_table_lookups);
    RUN(dynamic_table_ring);
    RUN(dynamic_table_eviction);
    return test_report("qpack_primitives");
}
