/*
 * What `skiff serve` needs to answer from files: safe paths under the root,
 * media types by extension, and byte ranges (RFC 9110 §14).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int serve_decode_path(const char *target, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && target[i] != '?' && target[i] != '#'; i++) {
        char c = target[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(target[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(target[i + 2]) : -1;
            if (lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0 || o + 1 >= cap) return -1;
        out[o++] = c;
    }
    out[o] = 0;
    return o > 0 && out[0] == '/' ? 0 : -1;
}

/* No segment may be "." or "..": the path stays under the root. */
static bool path_is_safe(const char *path)
{
    for (const char *seg = path; seg; seg = strchr(seg + 1, '/')) {
        const char *s = seg + 1;
        size_t n = strcspn(s, "/");
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
    }
    return true;
}

int serve_open_file(const char *root, const char *path, uint64_t *size)
{
    if (path[0] != '/' || !path_is_safe(path)) return -1;
    char full[4096];
    size_t plen = strlen(path);
    const char *index = path[plen - 1] == '/' ? "index.html" : "";
    if (snprintf(full, sizeof full, "%s%s%s", root, path, index) >= (int)sizeof full) return -1;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

const char *serve_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"}, {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},         {"xml", "application/xml"},
        {"svg", "image/svg+xml"},             {"png", "image/png"},
        {"jpg", "image/jpeg"},                {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},                 {"webp", "image/webp"},
        {"ico", "image/vnd.microsoft.icon"},  {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},           {"zip", "application/zip"},
        {"gz", "application/gzip"},           {"mp4", "video/mp4"},
        {"webm", "video/webm"},               {"mp3", "audio/mpeg"},
        {"woff2", "font/woff2"},              {"md", "text/markdown; charset=utf-8"},
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (path[0] && path[strlen(path) - 1] == '/') return "text/html; charset=utf-8"; /* index.html */
    if (!dot) return "application/octet-stream";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(dot + 1, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

static bool parse_u64(const char *p, size_t len, uint64_t *v)
{
    if (!len || len > 19) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    *v = x;
    return true;
}

int serve_parse_range(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (len < 7 || strncasecmp(value, "bytes=", 6) != 0) return 0;
    const char *p = value + 6, *end = value + len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (memchr(p, ',', (size_t)(end - p))) return 0; /* several ranges: send it all */
    const char *dash = memchr(p, '-', (size_t)(end - p));
    if (!dash) return 0;
    uint64_t a, b;
    if (dash == p) { /* suffix: the last b bytes */
        if (!parse_u64(dash + 1, (size_t)(end - dash - 1), &b)) return 0;
        if (b == 0 || size == 0) return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (!parse_u64(p, (size_t)(dash - p), &a)) return 0;
    if (dash + 1 == end) b = UINT64_MAX;
    else if (!parse_u64(dash + 1, (size_t)(end - dash - 1), &b) || b < a) return 0;
    if (a >= size) return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}
