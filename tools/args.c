/* Option values shared by the subcommands: durations and ALPN lists. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

int tool_parse_duration(const char *text, uint64_t *ns)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0) return -1;
    double scale;
    if (!strcmp(end, "") || !strcmp(end, "s")) scale = 1e9;
    else if (!strcmp(end, "ms")) scale = 1e6;
    else if (!strcmp(end, "us")) scale = 1e3;
    else if (!strcmp(end, "m")) scale = 60e9;
    else return -1;
    double total = v * scale;
    if (total > 1e18) return -1;
    *ns = (uint64_t)total;
    return 0;
}

int tool_parse_alpn(const char *list, const char **names, size_t max, char **storage)
{
    char *copy = strdup(list);
    if (!copy) return -1;
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max || strlen(tok) > 255) {
            free(copy);
            return -1;
        }
        names[n++] = tok;
    }
    if (n == 0) {
        free(copy);
        return -1;
    }
    *storage = copy;
    return (int)n;
}

int tool_tls13_priority(const char *list, char *out, size_t cap)
{
    static const struct {
        const char *iana;
        const char *gnutls;
    } suites[] = {
        {"TLS_AES_128_GCM_SHA256", "+AES-128-GCM"},
        {"TLS_AES_256_GCM_SHA384", "+AES-256-GCM"},
        {"TLS_CHACHA20_POLY1305_SHA256", "+CHACHA20-POLY1305"},
    };
    char *copy = strdup(list);
    if (!copy) return -1;
    int n = snprintf(out, cap, "NORMAL:-CIPHER-ALL");
    int found = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ":,", &save); tok; tok = strtok_r(NULL, ":,", &save)) {
        size_t i = 0;
        while (i < sizeof suites / sizeof suites[0] && strcmp(tok, suites[i].iana)) i++;
        if (i == sizeof suites / sizeof suites[0] || n < 0 || (size_t)n >= cap) {
            free(copy);
            return -1;
        }
        n += snprintf(out + n, cap - (size_t)n, ":%s", suites[i].gnutls);
        found++;
    }
    free(copy);
    return found && n > 0 && (size_t)n < cap ? 0 : -1;
}

int tool_parse_hex_key(const char *hex, uint8_t *out, size_t len)
{
    if (strlen(hex) != 2 * len) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

void tool_format_ip(uint8_t family, const uint8_t *ip, char *out, size_t cap)
{
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, ip, out, (socklen_t)cap)) snprintf(out, cap, "?");
}
