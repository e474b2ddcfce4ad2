/* HTTP/3 message validation (RFC 9114 §4.1-§4.5, RFC 9110, RFC 9220). */
#include "h3/h3_error.h"
#include "h3/h3_message.h"
#include "test.h"

/* Fields from "name", "value" string pairs; NAME_LEN/VALUE_LEN let a test
 * put NUL bytes in. Each name and value is an exact heap copy, so ASan sees
 * any read past one. */
typedef struct section {
    skiff_h3_field f[16];
    size_t n;
} section;

static void add_n(section *s, const char *name, size_t nl, const char *value, size_t vl)
{
    skiff_h3_field *f = &s->f[s->n++];
    f->name = test_dup_exact((const uint8_t *)name, nl);
    f->name_len = nl;
    f->value = test_dup_exact((const uint8_t *)value, vl);
    f->value_len = vl;
}

static void add(section *s, const char *name, const char *value)
{
    add_n(s, name, strlen(name), value, strlen(value));
}

static void release(section *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((void *)s->f[i].name);
        free((void *)s->f[i].value);
    }
    s->n = 0;
}

/* A section from a NULL-terminated list of name, value, name, value ... */
static section make(const char *const *kv)
{
    section s = {.n = 0};
    for (size_t i = 0; kv[i]; i += 2)
        add(&s, kv[i], kv[i + 1]);
    return s;
}

static bool field_eq(const skiff_h3_field *f, const char *value)
{
    return f && f->value_len == strlen(value) && memcmp(f->value, value, f->value_len) == 0;
}

/* Expects the section to be malformed: H3_MESSAGE_ERROR, for the reason
 * want (so a test fails when a rule trips on something other than the one
 * it is about). */
static void expect_bad_ext(skiff_h3_section_kind kind, section s, bool ext, const char *want,
                           const char *label)
{
    skiff_h3_message_info info;
    const char *why = NULL;
    uint64_t rc = skiff_h3_message_validate(kind, s.f, s.n, ext, &info, &why);
    CHECK_U64(rc, SKIFF_H3_MESSAGE_ERROR);
    CHECK(why != NULL && strcmp(why, want) == 0);
    if (rc != SKIFF_H3_MESSAGE_ERROR || !why || strcmp(why, want) != 0)
        fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", label, why ? why : "(accepted)", want);
    release(&s);
}

static void expect_bad(skiff_h3_section_kind kind, section s, const char *want, const char *label)
{
    expect_bad_ext(kind, s, true, want, label);
}

#define REQ(...) make((const char *const[]){__VA_ARGS__, NULL})
#define BAD_REQ(want, ...)                                                                         \
    expect_bad(SKIFF_H3_SECTION_REQUEST, REQ(__VA_ARGS__), want, #__VA_ARGS__)
#define BAD_RESP(want, ...)                                                                        \
    expect_bad(SKIFF_H3_SECTION_RESPONSE, REQ(__VA_ARGS__), want, #__VA_ARGS__)
#define BAD_TRAILERS(want, ...)                                                                    \
    expect_bad(SKIFF_H3_SECTION_TRAILERS, REQ(__VA_ARGS__), want, #__VA_ARGS__)

static uint64_t validate(skiff_h3_section_kind kind, section *s, bool ext,
                         skiff_h3_message_info *info)
{
    const char *why = "unset";
    uint64_t rc = skiff_h3_message_validate(kind, s->f, s->n, ext, info, &why);
    if (rc != 0)
        fprintf(stderr, "  refused: %s\n", why ? why : "(null)");
    else
        CHECK(why == NULL);
    return rc;
}

/* ---- Valid messages ----------------------------------------------------- */

static void valid_get(void)
{
    section s = REQ(":method", "GET", ":scheme", "https", ":authority", "example.com", ":path",
                    "/index.html?q=1", "user-agent", "skiff", "accept", "*/*", "te", "trailers",
                    "cookie", "a=b; c=d");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(info.method == &s.f[0] && field_eq(info.method, "GET"));
    CHECK(field_eq(info.scheme, "https"));
    CHECK(field_eq(info.authority, "example.com"));
    CHECK(field_eq(info.path, "/index.html?q=1"));
    CHECK(info.protocol == NULL && info.host == NULL);
    CHECK(!info.has_content_length && !info.is_connect && !info.is_extended_connect);
    CHECK_EQ(info.status, 0);
    release(&s);

    /* Host instead of :authority; an empty value; a non-web scheme with any
     * path and no authority at all. */
    s = REQ(":method", "GET", ":scheme", "http", ":path", "/", "host", "example.com:8080",
            "x-empty", "");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(info.authority == NULL && field_eq(info.host, "example.com:8080"));
    release(&s);
    s = REQ(":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/", "host",
            "a.example");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(field_eq(info.host, "a.example"));
    release(&s);
    s = REQ(":method", "GET", ":scheme", "urn", ":path", "isbn:0451450523");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    release(&s);
}

static void valid_post_with_content_length(void)
{
    section s = REQ(":method", "POST", ":scheme", "https", ":authority", "example.com", ":path",
                    "/upload", "content-type", "text/plain", "content-length", "1234");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(info.has_content_length);
    CHECK_U64(info.content_length, 1234);
    release(&s);

    /* RFC 9110 §8.6: a list of identical values, or repeated equal fields,
     * is one value; the largest uint64 fits. */
    s = REQ(":method", "POST", ":scheme", "https", ":authority", "e", ":path", "/",
            "content-length", "42, 42,42", "content-length", "42");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK_U64(info.content_length, 42);
    release(&s);
    s = REQ(":method", "POST", ":scheme", "https", ":authority", "e", ":path", "/",
            "content-length", "18446744073709551615");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK_U64(info.content_length, UINT64_MAX);
    release(&s);
    s = REQ(":method", "POST", ":scheme", "https", ":authority", "e", ":path", "/",
            "content-length", "0");
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(info.has_content_length);
    CHECK_U64(info.content_length, 0);
    release(&s);
}

static void valid_connect(void)
{
    section s = REQ(":method", "CONNECT", ":authority", "proxy.example:443");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(info.is_connect && !info.is_extended_connect);
    CHECK(info.scheme == NULL && info.path == NULL);
    CHECK(field_eq(info.authority, "proxy.example:443"));
    release(&s);
}

static void valid_extended_connect(void)
{
    section s = REQ(":method", "CONNECT", ":protocol", "connect-udp", ":scheme", "https",
                    ":authority", "proxy.example", ":path",
                    "/.well-known/masque/udp/192.0.2.6/443/", "capsule-protocol", "?1");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, true, &info), 0);
    CHECK(info.is_connect && info.is_extended_connect);
    CHECK(field_eq(info.protocol, "connect-udp"));
    CHECK(field_eq(info.path, "/.well-known/masque/udp/192.0.2.6/443/"));

    /* RFC 9220 §3: only once SETTINGS_ENABLE_CONNECT_PROTOCOL allowed it. */
    const char *why = NULL;
    CHECK_U64(skiff_h3_message_validate(SKIFF_H3_SECTION_REQUEST, s.f, s.n, false, &info, &why),
              SKIFF_H3_MESSAGE_ERROR);
    CHECK(why != NULL);
    CHECK(!info.is_connect && info.protocol == NULL); /* nothing filled on failure */
    release(&s);
}

static void valid_options_star(void)
{
    section s =
        REQ(":method", "OPTIONS", ":scheme", "https", ":authority", "example.com", ":path", "*");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_REQUEST, &s, false, &info), 0);
    CHECK(field_eq(info.path, "*"));
    release(&s);
}

static void valid_responses(void)
{
    static const struct {
        const char *status;
        int code;
    } ok[] = {{"200", 200}, {"404", 404}, {"100", 100}, {"103", 103}, {"599", 599}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        section s = REQ(":status", ok[i].status, "content-type", "text/html", "server", "skiff");
        skiff_h3_message_info info;
        CHECK_U64(validate(SKIFF_H3_SECTION_RESPONSE, &s, false, &info), 0);
        CHECK_EQ(info.status, ok[i].code);
        CHECK(info.method == NULL && info.path == NULL);
        release(&s);
    }
    section s = REQ(":status", "200", "content-length", "5");
    skiff_h3_message_info info;
    CHECK_U64(validate(SKIFF_H3_SECTION_RESPONSE, &s, false, &info), 0);
    CHECK(info.has_content_length);
    CHECK_U64(info.content_length, 5);
    release(&s);

    /* Trailers: regular fields only. */
    s = REQ("grpc-status", "0", "x-checksum", "abc");
    CHECK_U64(validate(SKIFF_H3_SECTION_TRAILERS, &s, false, &info), 0);
    release(&s);
    s.n = 0;
    CHECK_U64(validate(SKIFF_H3_SECTION_TRAILERS, &s, false, &info), 0);
}

/* ---- One test per rule ---------------------------------------------------- */

#define GET_HEAD ":method", "GET", ":scheme", "https", ":authority", "e.example", ":path", "/"
#define UPPER "uppercase field name"
#define NAME_CHAR "invalid character in field name"
#define VALUE_CHAR "invalid character in field value"

static void bad_field_names(void)
{
    /* §4.2: lowercase RFC 9110 tokens. */
    BAD_REQ(UPPER, GET_HEAD, "Accept", "*/*");
    BAD_REQ(UPPER, GET_HEAD, "x-Custom", "1");
    BAD_TRAILERS(UPPER, "Grpc-Status", "0");
    BAD_REQ(NAME_CHAR, GET_HEAD, "bad name", "1");
    BAD_REQ(NAME_CHAR, GET_HEAD, "bad:name", "1");
    BAD_REQ(NAME_CHAR, GET_HEAD, "x(y)", "1");
    BAD_RESP(NAME_CHAR, ":status", "200", "x\x7f", "1");
    BAD_RESP(NAME_CHAR, ":status", "200", "caf\xc3\xa9", "1");
    BAD_REQ("empty field name", GET_HEAD, "", "1");
    section s = REQ(GET_HEAD);
    add_n(&s, "a\0b", 3, "1", 1);
    expect_bad(SKIFF_H3_SECTION_REQUEST, s, NAME_CHAR, "NUL in name");
}

static void bad_field_values(void)
{
    /* §4.2, §10.3: no NUL, CR or LF in any value. */
    static const char *const bad[] = {"a\0b", "a\rb", "a\nb", "\r\n", "\0"};
    static const size_t lens[] = {3, 3, 3, 2, 1};
    for (size_t i = 0; i < 5; i++) {
        section s = REQ(GET_HEAD);
        add_n(&s, "x-value", 7, bad[i], lens[i]);
        expect_bad(SKIFF_H3_SECTION_REQUEST, s, VALUE_CHAR, "NUL/CR/LF in a value");
        s = REQ(":method", "GET", ":scheme", "https", ":authority", "e.example");
        add_n(&s, ":path", 5, bad[i], lens[i]);
        expect_bad(SKIFF_H3_SECTION_REQUEST, s, VALUE_CHAR, "NUL/CR/LF in :path");
        s = REQ(":status", "200");
        add_n(&s, "x-value", 7, bad[i], lens[i]);
        expect_bad(SKIFF_H3_SECTION_RESPONSE, s, VALUE_CHAR, "NUL/CR/LF in a response");
        s.n = 0;
        add_n(&s, "x-value", 7, bad[i], lens[i]);
        expect_bad(SKIFF_H3_SECTION_TRAILERS, s, VALUE_CHAR, "NUL/CR/LF in trailers");
    }
}

static void bad_pseudo_headers(void)
{
    /* §4.3: all before regular fields. */
    BAD_REQ("pseudo-header after regular field", ":method", "GET", ":scheme", "https", "accept",
            "*/*", ":authority", "e.example", ":path", "/");
    BAD_RESP("pseudo-header after regular field", "server", "x", ":status", "200");
    /* §4.3: only those defined. */
    BAD_REQ("unknown pseudo-header", GET_HEAD, ":foo", "bar");
    BAD_REQ("unknown pseudo-header", ":Method", "GET", ":scheme", "https", ":authority", "e",
            ":path", "/");
    BAD_REQ("unknown pseudo-header", ":", "x", GET_HEAD);
    BAD_RESP("unknown pseudo-header", ":status", "200", ":reason", "OK");
    /* §4.3.1, §4.3.2: each at most once. */
    BAD_REQ("duplicate pseudo-header", GET_HEAD, ":path", "/again");
    BAD_REQ("duplicate pseudo-header", ":method", "GET", ":method", "GET", ":scheme", "https",
            ":authority", "e", ":path", "/");
    BAD_RESP("duplicate pseudo-header", ":status", "200", ":status", "200");
    /* §4.3: those of the other kind of message. */
    BAD_REQ("response pseudo-header in a request", GET_HEAD, ":status", "200");
    BAD_RESP("request pseudo-header in a response", ":status", "200", ":method", "GET");
    BAD_RESP("request pseudo-header in a response", ":path", "/", ":status", "200");
    BAD_RESP("request pseudo-header in a response", ":status", "200", ":protocol", "websocket");
    /* §4.3: none in trailers. */
    BAD_TRAILERS("pseudo-header in trailers", ":status", "200");
    BAD_TRAILERS("pseudo-header in trailers", "x-a", "1", ":path", "/");
}

static void bad_request_pseudo_sets(void)
{
    /* §4.3.1: :method, :scheme and a non-empty :path. */
    BAD_REQ("missing :method", ":scheme", "https", ":authority", "e.example", ":path", "/");
    BAD_REQ("missing :scheme", ":method", "GET", ":authority", "e.example", ":path", "/");
    BAD_REQ("missing :path", ":method", "GET", ":scheme", "https", ":authority", "e.example");
    BAD_REQ("empty :path", ":method", "GET", ":scheme", "https", ":authority", "e.example", ":path",
            "");
    BAD_REQ("invalid :method", ":method", "", ":scheme", "https", ":authority", "e", ":path", "/");
    BAD_REQ("invalid :method", ":method", "G T", ":scheme", "https", ":authority", "e", ":path",
            "/");
    BAD_REQ("invalid :scheme", ":method", "GET", ":scheme", "", ":authority", "e", ":path", "/");
    BAD_REQ("invalid :scheme", ":method", "GET", ":scheme", "ht tp", ":authority", "e", ":path",
            "/");
    BAD_REQ("invalid :scheme", ":method", "GET", ":scheme", "1http", ":authority", "e", ":path",
            "/");
    /* §4.3.1: an http(s) :path is "/..." or "*" for OPTIONS only. */
    BAD_REQ("\"*\" :path without OPTIONS", ":method", "GET", ":scheme", "https", ":authority",
            "e.example", ":path", "*");
    BAD_REQ(":path not starting with '/'", ":method", "GET", ":scheme", "https", ":authority",
            "e.example", ":path", "index");
    BAD_REQ(":path not starting with '/'", ":method", "OPTIONS", ":scheme", "http", ":authority",
            "e.example", ":path", "**");
    /* §4.4: CONNECT carries :authority only. */
    BAD_REQ("CONNECT with :scheme or :path", ":method", "CONNECT", ":authority", "p.example:443",
            ":path", "/");
    BAD_REQ("CONNECT with :scheme or :path", ":method", "CONNECT", ":authority", "p.example:443",
            ":scheme", "https");
    BAD_REQ("CONNECT without :authority", ":method", "CONNECT");
    BAD_REQ("CONNECT without :authority", ":method", "CONNECT", ":authority", "");
    BAD_REQ("CONNECT without :authority", ":method", "CONNECT", "host", "p.example:443");
    BAD_REQ("userinfo in :authority", ":method", "CONNECT", ":authority", "u@p.example:443");
    /* RFC 9220 §3: :protocol only with CONNECT, and only when enabled. */
    BAD_REQ(":protocol without CONNECT", ":method", "GET", ":protocol", "websocket", ":scheme",
            "https", ":authority", "e", ":path", "/");
    expect_bad_ext(SKIFF_H3_SECTION_REQUEST,
                   REQ(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https",
                       ":authority", "e.example", ":path", "/chat"),
                   false, "extended CONNECT not enabled", "extended CONNECT not enabled");
    BAD_REQ("missing :scheme", ":method", "CONNECT", ":protocol", "websocket", ":authority",
            "e.example");
    BAD_REQ("missing :authority and host", ":method", "CONNECT", ":protocol", "websocket",
            ":scheme", "https", ":path", "/");
    BAD_REQ("empty :protocol", ":method", "CONNECT", ":protocol", "", ":scheme", "https",
            ":authority", "e", ":path", "/");
}

static void bad_authority_and_host(void)
{
    /* §4.3.1: http(s) needs one of them, non-empty, equal, no userinfo. */
    BAD_REQ("missing :authority and host", ":method", "GET", ":scheme", "https", ":path", "/");
    BAD_REQ("missing :authority and host", ":method", "GET", ":scheme", "http", ":path", "/");
    BAD_REQ("empty :authority or host", ":method", "GET", ":scheme", "https", ":authority", "",
            ":path", "/");
    BAD_REQ("empty :authority or host", ":method", "GET", ":scheme", "https", ":path", "/", "host",
            "");
    BAD_REQ(":authority and host differ", ":method", "GET", ":scheme", "https", ":authority",
            "a.example", ":path", "/", "host", "b.example");
    BAD_REQ(":authority and host differ", ":method", "GET", ":scheme", "https", ":authority",
            "a.example", ":path", "/", "host", "a.example:443");
    BAD_REQ("userinfo in :authority", ":method", "GET", ":scheme", "https", ":authority",
            "user@a.example", ":path", "/");
    BAD_REQ("userinfo in :authority", ":method", "GET", ":scheme", "http", ":authority",
            "u:p@a.example", ":path", "/");
    BAD_REQ("userinfo in :authority", ":method", "GET", ":scheme", "https", ":path", "/", "host",
            "u@a.example");
    BAD_REQ("duplicate host", ":method", "GET", ":scheme", "https", ":path", "/", "host",
            "a.example", "host", "a.example");
}

static void bad_connection_specific_fields(void)
{
    /* §4.2. */
    static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
                                        "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < 5; i++) {
        expect_bad(SKIFF_H3_SECTION_REQUEST, REQ(GET_HEAD, names[i], "x"),
                   "connection-specific field", names[i]);
        expect_bad(SKIFF_H3_SECTION_RESPONSE, REQ(":status", "200", names[i], "x"),
                   "connection-specific field", names[i]);
        expect_bad(SKIFF_H3_SECTION_TRAILERS, REQ(names[i], "x"), "connection-specific field",
                   names[i]);
    }
    BAD_REQ("te other than trailers", GET_HEAD, "te", "gzip");
    BAD_REQ("te other than trailers", GET_HEAD, "te", "trailers, gzip");
    BAD_REQ("te other than trailers", GET_HEAD, "te", "");
}

static void bad_status(void)
{
    /* §4.3.2, §4.5. */
    BAD_RESP(":status 101", ":status", "101");
    BAD_RESP("invalid :status", ":status", "20");
    BAD_RESP("invalid :status", ":status", "2000");
    BAD_RESP("invalid :status", ":status", "abc");
    BAD_RESP("invalid :status", ":status", "2x0");
    BAD_RESP("invalid :status", ":status", "+20");
    BAD_RESP("invalid :status", ":status", "");
    BAD_RESP(":status out of range", ":status", "600");
    BAD_RESP(":status out of range", ":status", "099");
    BAD_RESP("missing :status", "content-type", "text/plain");
    section s = {.n = 0};
    expect_bad(SKIFF_H3_SECTION_RESPONSE, s, "missing :status", "empty response");
    expect_bad(SKIFF_H3_SECTION_REQUEST, s, "missing :method", "empty request");
}

static void bad_content_length(void)
{
    /* RFC 9110 §8.6: 1*DIGIT; lists only of equal values. */
    static const char *const bad[] = {"12a", "-1", "+1",   " 12",  "12 ", "",   ",",
                                      "1,",  ",1", "1,,1", "0x10", "1 2", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad(SKIFF_H3_SECTION_REQUEST, REQ(GET_HEAD, "content-length", bad[i]),
                   "invalid content-length", bad[i]);
    BAD_REQ("content-length out of range", GET_HEAD, "content-length", "18446744073709551616");
    BAD_REQ("content-length out of range", GET_HEAD, "content-length", "99999999999999999999");
    BAD_REQ("conflicting content-length values", GET_HEAD, "content-length", "1, 2");
    BAD_REQ("conflicting content-length values", GET_HEAD, "content-length", "1", "content-length",
            "2");
    BAD_RESP("conflicting content-length values", ":status", "200", "content-length", "10",
             "content-length", "10, 11");
}

int main(void)
{
    RUN(valid_get);
    RUN(valid_post_with_content_length);
    RUN(valid_connect);
    RUN(valid_extended_connect);
    RUN(valid_options_star);
    RUN(valid_responses);
    RUN(bad_field_names);
    RUN(bad_field_values);
    RUN(bad_pseudo_headers);
    RUN(bad_request_pseudo_sets);
    RUN(bad_authority_and_host);
    RUN(bad_connection_specific_fields);
    RUN(bad_status);
    RUN(bad_content_length);
    return test_report("h3_message");
}
