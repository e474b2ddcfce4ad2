/*
 * HTTP message validation for HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3, §4.4,
 * §4.5; RFC 9110 §5, §7.2, §8.6; RFC 9220 §3 / RFC 8441 §4): one pass over a
 * decoded field section checks each field and records the pseudo-header
 * fields, Host and Content-Length; then the rules for the section's kind are
 * checked on what was found. Any failure makes the message malformed, which
 * is H3_MESSAGE_ERROR (§4.1.2) with a short static reason.
 */
#include "h3/h3_message.h"

#include <string.h>

#include "h3/h3_error.h"

static bool eq(const uint8_t *p, size_t n, const char *s)
{
    size_t sn = strlen(s);
    return n == sn && memcmp(p, s, n) == 0;
}

static bool eq_nocase(const uint8_t *p, size_t n, const char *s)
{
    if (n != strlen(s)) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + ('a' - 'A'));
        if (c != (uint8_t)s[i]) return false;
    }
    return true;
}

static bool field_is(const skiff_h3_field *f, const char *name)
{
    return eq(f->name, f->name_len, name);
}

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const uint8_t *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(p[i])) return false;
    return true;
}

/* RFC 9114 §10.3, RFC 9110 §5.5: NUL, CR and LF are never valid in a value. */
static bool value_ok(const skiff_h3_field *f)
{
    for (size_t i = 0; i < f->value_len; i++) {
        uint8_t c = f->value[i];
        if (c == 0 || c == '\r' || c == '\n') return false;
    }
    return true;
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static bool is_scheme(const uint8_t *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))
            return false;
    }
    return true;
}

/*
 * RFC 9110 §8.6: Content-Length = 1*DIGIT. A list of identical values (as
 * left by a proxy that merged fields, "12, 12") counts as that one value;
 * OWS is allowed only around the commas. Folds the field's values into
 * *have / *value; returns a reason, or NULL when the value is valid and
 * agrees with any seen before.
 */
static const char *content_length(const skiff_h3_field *f, bool *have, uint64_t *value)
{
    const uint8_t *p = f->value, *end = f->value + f->value_len;
    for (;;) {
        const uint8_t *start = p;
        uint64_t v = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (v > (UINT64_MAX - d) / 10) return "content-length out of range";
            v = v * 10 + d;
            p++;
        }
        if (p == start) return "invalid content-length";
        if (*have && *value != v) return "conflicting content-length values";
        *have = true;
        *value = v;
        if (p == end) return NULL;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p != ',') return "invalid content-length";
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
}

/* RFC 9114 §4.3.1 (userinfo is deprecated and must not be sent for http and
 * https) and RFC 9110 §7.2 / §9.3.6 (Host and a CONNECT target are host and
 * port only): no '@' in an authority. */
static bool has_userinfo(const skiff_h3_field *f)
{
    return memchr(f->value, '@', f->value_len) != NULL;
}

/* The pseudo-header fields of §4.3.1 (requests, plus :protocol of RFC 9220
 * §3) and §4.3.2 (responses). */
enum { P_METHOD, P_SCHEME, P_AUTHORITY, P_PATH, P_PROTOCOL, P_STATUS, P_COUNT };
static const char *const pseudo_names[P_COUNT] = {":method", ":scheme",   ":authority",
                                                  ":path",   ":protocol", ":status"};

static const char *check_request(const skiff_h3_field *const *ps, bool allow_extended_connect,
                                 skiff_h3_message_info *info)
{
    const skiff_h3_field *method = ps[P_METHOD], *scheme = ps[P_SCHEME],
                         *authority = ps[P_AUTHORITY], *path = ps[P_PATH],
                         *protocol = ps[P_PROTOCOL];
    /* §4.3.1: every request carries :method, a method token (RFC 9110 §9.1). */
    if (!method) return "missing :method";
    if (!is_token(method->value, method->value_len)) return "invalid :method";
    info->is_connect = eq(method->value, method->value_len, "CONNECT");

    if (protocol) {
        /* RFC 9220 §3 (RFC 8441 §4): :protocol only on CONNECT, and only once
         * SETTINGS_ENABLE_CONNECT_PROTOCOL allowed it. */
        if (!info->is_connect) return ":protocol without CONNECT";
        if (!allow_extended_connect) return "extended CONNECT not enabled";
        if (protocol->value_len == 0) return "empty :protocol";
        info->is_extended_connect = true;
    } else if (info->is_connect) {
        /* §4.4: CONNECT names its target in :authority alone. */
        if (scheme || path) return "CONNECT with :scheme or :path";
        if (!authority || authority->value_len == 0) return "CONNECT without :authority";
        if (has_userinfo(authority)) return "userinfo in :authority";
        return NULL;
    }

    /* §4.3.1 (and RFC 8441 §4 for extended CONNECT): :scheme and :path. */
    if (!scheme) return "missing :scheme";
    if (!is_scheme(scheme->value, scheme->value_len)) return "invalid :scheme";
    if (!path) return "missing :path";
    if (path->value_len == 0) return "empty :path";
    bool web = eq_nocase(scheme->value, scheme->value_len, "http") ||
               eq_nocase(scheme->value, scheme->value_len, "https");
    if (!web) return NULL;

    /* §4.3.1: an http or https :path is origin-form ("/..."), or "*" for a
     * server-wide OPTIONS request. */
    if (eq(path->value, path->value_len, "*")) {
        if (!eq(method->value, method->value_len, "OPTIONS")) return "\"*\" :path without OPTIONS";
    } else if (path->value[0] != '/') {
        return ":path not starting with '/'";
    }
    /* §4.3.1: http and https need :authority or Host, neither empty, equal
     * when both are present, and without userinfo. */
    const skiff_h3_field *host = info->host;
    if (!authority && !host) return "missing :authority and host";
    if ((authority && authority->value_len == 0) || (host && host->value_len == 0))
        return "empty :authority or host";
    if (authority && host &&
        (authority->value_len != host->value_len ||
         memcmp(authority->value, host->value, host->value_len) != 0))
        return ":authority and host differ";
    if ((authority && has_userinfo(authority)) || (host && has_userinfo(host)))
        return "userinfo in :authority";
    return NULL;
}

static const char *check_response(const skiff_h3_field *const *ps, skiff_h3_message_info *info)
{
    const skiff_h3_field *status = ps[P_STATUS];
    /* §4.3.2: a response carries :status, a three-digit code (RFC 9110 §15). */
    if (!status) return "missing :status";
    if (status->value_len != 3) return "invalid :status";
    int code = 0;
    for (size_t i = 0; i < 3; i++) {
        uint8_t c = status->value[i];
        if (c < '0' || c > '9') return "invalid :status";
        code = code * 10 + (c - '0');
    }
    if (code < 100 || code > 599) return ":status out of range";
    /* §4.5: HTTP/3 has no 101 (Switching Protocols). */
    if (code == 101) return ":status 101";
    info->status = code;
    return NULL;
}

/* Checks one regular field; returns a reason or NULL. */
static const char *check_regular(const skiff_h3_field *f, skiff_h3_section_kind kind,
                                 skiff_h3_message_info *info)
{
    /* §4.2: names are lowercase RFC 9110 tokens (§5.1); §10.3: values hold
     * no NUL, CR or LF. */
    for (size_t i = 0; i < f->name_len; i++) {
        uint8_t c = f->name[i];
        if (c >= 'A' && c <= 'Z') return "uppercase field name";
        if (!is_tchar(c)) return "invalid character in field name";
    }
    if (!value_ok(f)) return "invalid character in field value";

    /* §4.2: connection-specific fields have no place in HTTP/3. */
    if (field_is(f, "connection") || field_is(f, "keep-alive") || field_is(f, "proxy-connection") ||
        field_is(f, "transfer-encoding") || field_is(f, "upgrade"))
        return "connection-specific field";
    /* §4.2: te may appear, with no value other than "trailers". */
    if (field_is(f, "te") && !eq_nocase(f->value, f->value_len, "trailers"))
        return "te other than trailers";
    if (field_is(f, "content-length"))
        return content_length(f, &info->has_content_length, &info->content_length);
    if (field_is(f, "host")) {
        /* RFC 9110 §7.2: one Host per request (RFC 9112 §3.2 refuses more). */
        if (info->host && kind == SKIFF_H3_SECTION_REQUEST) return "duplicate host";
        if (!info->host) info->host = f;
    }
    return NULL;
}

uint64_t skiff_h3_message_validate(skiff_h3_section_kind kind, const skiff_h3_field *fields,
                                   size_t count, bool allow_extended_connect,
                                   skiff_h3_message_info *info, const char **why)
{
    memset(info, 0, sizeof *info);
    *why = NULL;
    const skiff_h3_field *ps[P_COUNT] = {0};
    bool regular_seen = false;
    const char *err = NULL;

    for (size_t i = 0; i < count && !err; i++) {
        const skiff_h3_field *f = &fields[i];
        /* §4.2 (RFC 9110 §5.1): a name is at least one character. */
        if (f->name_len == 0) {
            err = "empty field name";
        } else if (f->name[0] != ':') {
            regular_seen = true;
            err = check_regular(f, kind, info);
        } else if (kind == SKIFF_H3_SECTION_TRAILERS) {
            err = "pseudo-header in trailers"; /* §4.3 */
        } else if (regular_seen) {
            err = "pseudo-header after regular field"; /* §4.3 */
        } else {
            int p = 0;
            while (p < P_COUNT && !field_is(f, pseudo_names[p]))
                p++;
            /* §4.3: only the pseudo-headers defined for the message kind, each
             * once (§4.3.1, §4.3.2). */
            if (p == P_COUNT)
                err = "unknown pseudo-header";
            else if (kind == SKIFF_H3_SECTION_REQUEST && p == P_STATUS)
                err = "response pseudo-header in a request";
            else if (kind == SKIFF_H3_SECTION_RESPONSE && p != P_STATUS)
                err = "request pseudo-header in a response";
            else if (ps[p])
                err = "duplicate pseudo-header";
            else if (!value_ok(f))
                err = "invalid character in field value";
            else
                ps[p] = f;
        }
    }
    if (!err && kind == SKIFF_H3_SECTION_REQUEST)
        err = check_request(ps, allow_extended_connect, info);
    else if (!err && kind == SKIFF_H3_SECTION_RESPONSE)
        err = check_response(ps, info);

    if (err) {
        memset(info, 0, sizeof *info);
        *why = err;
        return SKIFF_H3_MESSAGE_ERROR;
    }
    info->method = ps[P_METHOD];
    info->scheme = ps[P_SCHEME];
    info->authority = ps[P_AUTHORITY];
    info->path = ps[P_PATH];
    info->protocol = ps[P_PROTOCOL];
    return 0;
}
