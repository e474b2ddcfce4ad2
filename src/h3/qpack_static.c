/*
 * The QPACK static table (RFC 9204 Appendix A) and the encoder's lookups in
 * it (§3.1): an exact match (name and value) becomes an Indexed Field Line,
 * a name match a Literal Field Line with Name Reference.
 *
 * Lookup cost is a few comparisons, not a scan of 99 entries: the 52
 * distinct names are sorted by length, by_len[] gives the slice of names of
 * each length (at most 6), and each name lists the indices of its entries
 * (at most 14, for :status) in pool[]. These three arrays are derived from
 * the table; the test checks every entry finds itself.
 */
#include "h3/qpack_static.h"

#include <string.h>

const skiff_qpack_static_entry skiff_qpack_static_table[SKIFF_QPACK_STATIC_COUNT] = {
    /* clang-format off */
    {":authority", "", 10, 0}, /* 0 */
    {":path", "/", 5, 1}, /* 1 */
    {"age", "0", 3, 1}, /* 2 */
    {"content-disposition", "", 19, 0}, /* 3 */
    {"content-length", "0", 14, 1}, /* 4 */
    {"cookie", "", 6, 0}, /* 5 */
    {"date", "", 4, 0}, /* 6 */
    {"etag", "", 4, 0}, /* 7 */
    {"if-modified-since", "", 17, 0}, /* 8 */
    {"if-none-match", "", 13, 0}, /* 9 */
    {"last-modified", "", 13, 0}, /* 10 */
    {"link", "", 4, 0}, /* 11 */
    {"location", "", 8, 0}, /* 12 */
    {"referer", "", 7, 0}, /* 13 */
    {"set-cookie", "", 10, 0}, /* 14 */
    {":method", "CONNECT", 7, 7}, /* 15 */
    {":method", "DELETE", 7, 6}, /* 16 */
    {":method", "GET", 7, 3}, /* 17 */
    {":method", "HEAD", 7, 4}, /* 18 */
    {":method", "OPTIONS", 7, 7}, /* 19 */
    {":method", "POST", 7, 4}, /* 20 */
    {":method", "PUT", 7, 3}, /* 21 */
    {":scheme", "http", 7, 4}, /* 22 */
    {":scheme", "https", 7, 5}, /* 23 */
    {":status", "103", 7, 3}, /* 24 */
    {":status", "200", 7, 3}, /* 25 */
    {":status", "304", 7, 3}, /* 26 */
    {":status", "404", 7, 3}, /* 27 */
    {":status", "503", 7, 3}, /* 28 */
    {"accept", "*/*", 6, 3}, /* 29 */
    {"accept", "application/dns-message", 6, 23}, /* 30 */
    {"accept-encoding", "gzip, deflate, br", 15, 17}, /* 31 */
    {"accept-ranges", "bytes", 13, 5}, /* 32 */
    {"access-control-allow-headers", "cache-control", 28, 13}, /* 33 */
    {"access-control-allow-headers", "content-type", 28, 12}, /* 34 */
    {"access-control-allow-origin", "*", 27, 1}, /* 35 */
    {"cache-control", "max-age=0", 13, 9}, /* 36 */
    {"cache-control", "max-age=2592000", 13, 15}, /* 37 */
    {"cache-control", "max-age=604800", 13, 14}, /* 38 */
    {"cache-control", "no-cache", 13, 8}, /* 39 */
    {"cache-control", "no-store", 13, 8}, /* 40 */
    {"cache-control", "public, max-age=31536000", 13, 24}, /* 41 */
    {"content-encoding", "br", 16, 2}, /* 42 */
    {"content-encoding", "gzip", 16, 4}, /* 43 */
    {"content-type", "application/dns-message", 12, 23}, /* 44 */
    {"content-type", "application/javascript", 12, 22}, /* 45 */
    {"content-type", "application/json", 12, 16}, /* 46 */
    {"content-type", "application/x-www-form-urlencoded", 12, 33}, /* 47 */
    {"content-type", "image/gif", 12, 9}, /* 48 */
    {"content-type", "image/jpeg", 12, 10}, /* 49 */
    {"content-type", "image/png", 12, 9}, /* 50 */
    {"content-type", "text/css", 12, 8}, /* 51 */
    {"content-type", "text/html; charset=utf-8", 12, 24}, /* 52 */
    {"content-type", "text/plain", 12, 10}, /* 53 */
    {"content-type", "text/plain;charset=utf-8", 12, 24}, /* 54 */
    {"range", "bytes=0-", 5, 8}, /* 55 */
    {"strict-transport-security", "max-age=31536000", 25, 16}, /* 56 */
    {"strict-transport-security", "max-age=31536000; includesubdomains", 25, 35}, /* 57 */
    {"strict-transport-security", "max-age=31536000; includesubdomains; preload", 25, 44}, /* 58 */
    {"vary", "accept-encoding", 4, 15}, /* 59 */
    {"vary", "origin", 4, 6}, /* 60 */
    {"x-content-type-options", "nosniff", 22, 7}, /* 61 */
    {"x-xss-protection", "1; mode=block", 16, 13}, /* 62 */
    {":status", "100", 7, 3}, /* 63 */
    {":status", "204", 7, 3}, /* 64 */
    {":status", "206", 7, 3}, /* 65 */
    {":status", "302", 7, 3}, /* 66 */
    {":status", "400", 7, 3}, /* 67 */
    {":status", "403", 7, 3}, /* 68 */
    {":status", "421", 7, 3}, /* 69 */
    {":status", "425", 7, 3}, /* 70 */
    {":status", "500", 7, 3}, /* 71 */
    {"accept-language", "", 15, 0}, /* 72 */
    {"access-control-allow-credentials", "FALSE", 32, 5}, /* 73 */
    {"access-control-allow-credentials", "TRUE", 32, 4}, /* 74 */
    {"access-control-allow-headers", "*", 28, 1}, /* 75 */
    {"access-control-allow-methods", "get", 28, 3}, /* 76 */
    {"access-control-allow-methods", "get, post, options", 28, 18}, /* 77 */
    {"access-control-allow-methods", "options", 28, 7}, /* 78 */
    {"access-control-expose-headers", "content-length", 29, 14}, /* 79 */
    {"access-control-request-headers", "content-type", 30, 12}, /* 80 */
    {"access-control-request-method", "get", 29, 3}, /* 81 */
    {"access-control-request-method", "post", 29, 4}, /* 82 */
    {"alt-svc", "clear", 7, 5}, /* 83 */
    {"authorization", "", 13, 0}, /* 84 */
    {"content-security-policy",
     "script-src 'none'; object-src 'none'; base-uri 'none'", 23, 53}, /* 85 */
    {"early-data", "1", 10, 1}, /* 86 */
    {"expect-ct", "", 9, 0}, /* 87 */
    {"forwarded", "", 9, 0}, /* 88 */
    {"if-range", "", 8, 0}, /* 89 */
    {"origin", "", 6, 0}, /* 90 */
    {"purpose", "prefetch", 7, 8}, /* 91 */
    {"server", "", 6, 0}, /* 92 */
    {"timing-allow-origin", "*", 19, 1}, /* 93 */
    {"upgrade-insecure-requests", "1", 25, 1}, /* 94 */
    {"user-agent", "", 10, 0}, /* 95 */
    {"x-forwarded-for", "", 15, 0}, /* 96 */
    {"x-frame-options", "deny", 15, 4}, /* 97 */
    {"x-frame-options", "sameorigin", 15, 10}, /* 98 */
    /* clang-format on */
};

/* A distinct name, and its entries: pool[first .. first + count). */
struct static_name {
    const char *name;
    uint8_t len;
    uint8_t first;
    uint8_t count;
};

static const struct static_name names[52] = {
    {"age", 3, 0, 1},
    {"date", 4, 1, 1},
    {"etag", 4, 2, 1},
    {"link", 4, 3, 1},
    {"vary", 4, 4, 2},
    {":path", 5, 6, 1},
    {"range", 5, 7, 1},
    {"accept", 6, 8, 2},
    {"cookie", 6, 10, 1},
    {"origin", 6, 11, 1},
    {"server", 6, 12, 1},
    {":method", 7, 13, 7},
    {":scheme", 7, 20, 2},
    {":status", 7, 22, 14},
    {"alt-svc", 7, 36, 1},
    {"purpose", 7, 37, 1},
    {"referer", 7, 38, 1},
    {"if-range", 8, 39, 1},
    {"location", 8, 40, 1},
    {"expect-ct", 9, 41, 1},
    {"forwarded", 9, 42, 1},
    {":authority", 10, 43, 1},
    {"early-data", 10, 44, 1},
    {"set-cookie", 10, 45, 1},
    {"user-agent", 10, 46, 1},
    {"content-type", 12, 47, 11},
    {"accept-ranges", 13, 58, 1},
    {"authorization", 13, 59, 1},
    {"cache-control", 13, 60, 6},
    {"if-none-match", 13, 66, 1},
    {"last-modified", 13, 67, 1},
    {"content-length", 14, 68, 1},
    {"accept-encoding", 15, 69, 1},
    {"accept-language", 15, 70, 1},
    {"x-forwarded-for", 15, 71, 1},
    {"x-frame-options", 15, 72, 2},
    {"content-encoding", 16, 74, 2},
    {"x-xss-protection", 16, 76, 1},
    {"if-modified-since", 17, 77, 1},
    {"content-disposition", 19, 78, 1},
    {"timing-allow-origin", 19, 79, 1},
    {"x-content-type-options", 22, 80, 1},
    {"content-security-policy", 23, 81, 1},
    {"strict-transport-security", 25, 82, 3},
    {"upgrade-insecure-requests", 25, 85, 1},
    {"access-control-allow-origin", 27, 86, 1},
    {"access-control-allow-headers", 28, 87, 3},
    {"access-control-allow-methods", 28, 90, 3},
    {"access-control-expose-headers", 29, 93, 1},
    {"access-control-request-method", 29, 94, 2},
    {"access-control-request-headers", 30, 96, 1},
    {"access-control-allow-credentials", 32, 97, 2},
};
static const uint8_t pool[99] = {2,  6,  7,  11, 59, 60, 1,  55, 29, 30, 5,  90, 92, 15, 16, 17, 18,
                                 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 63, 64, 65, 66, 67, 68, 69,
                                 70, 71, 83, 91, 13, 89, 12, 87, 88, 0,  86, 14, 95, 44, 45, 46, 47,
                                 48, 49, 50, 51, 52, 53, 54, 32, 84, 36, 37, 38, 39, 40, 41, 9,  10,
                                 4,  31, 72, 96, 97, 98, 42, 43, 62, 8,  3,  93, 61, 85, 56, 57, 58,
                                 94, 35, 33, 34, 75, 76, 77, 78, 79, 81, 82, 80, 73, 74};
static const uint8_t by_len[34] = {0,  0,  0,  0,  1,  5,  7,  11, 17, 19, 21, 25,
                                   25, 26, 31, 32, 36, 38, 39, 39, 41, 41, 41, 42,
                                   43, 43, 45, 45, 46, 48, 50, 51, 51, 52};

#define LONGEST_NAME 32u

int skiff_qpack_static_find(const uint8_t *name, size_t name_len, const uint8_t *value,
                            size_t value_len, int *name_index)
{
    *name_index = -1;
    if (name_len == 0 || name_len > LONGEST_NAME) return -1;
    for (unsigned i = by_len[name_len]; i < by_len[name_len + 1]; i++) {
        if (memcmp(names[i].name, name, name_len) != 0) continue;
        const uint8_t *idx = pool + names[i].first;
        *name_index = idx[0];
        for (unsigned k = 0; k < names[i].count; k++) {
            const skiff_qpack_static_entry *e = &skiff_qpack_static_table[idx[k]];
            if (e->value_len == value_len && memcmp(e->value, value, value_len) == 0) return idx[k];
        }
        return -1;
    }
    return -1;
}
