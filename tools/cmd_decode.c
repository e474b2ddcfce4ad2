/*
 * `skiff decode [FILE]`: reads one datagram, as raw bytes or as hex (as
 * copied from a capture or an RFC; whitespace ignored), and decodes it as a
 * client's first flight.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define DATAGRAM_MAX 65527 /* the largest UDP payload QUIC allows (RFC 9000 §18.2) */

static int is_hex_text(const uint8_t *p, size_t len)
{
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (isxdigit(p[i])) digits++;
        else if (!isspace(p[i])) return 0;
    }
    return digits > 0 && digits % 2 == 0;
}

static size_t hex_to_bytes(uint8_t *p, size_t len)
{
    size_t out = 0;
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit(p[i])) continue;
        int v = isdigit(p[i]) ? p[i] - '0' : tolower(p[i]) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            p[out++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return out;
}

int skiff_cmd_decode(int argc, char **argv)
{
    if (argc > 2) return tool_fail("decode takes one FILE (or none for stdin)");
    const char *path = argc == 2 ? argv[1] : "-";
    if (!strcmp(path, "-h") || !strcmp(path, "--help")) {
        printf("usage: skiff decode [FILE]\n"
               "Decodes a QUIC client's first datagram (raw bytes or hex) with the Initial\n"
               "keys derived from its destination connection ID, and prints every field.\n");
        return 0;
    }
    FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!in) return tool_fail("%s: %s", path, strerror(errno));
    /* Hex takes two characters and some whitespace per byte. */
    size_t cap = 3 * DATAGRAM_MAX + 1;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        if (in != stdin) fclose(in);
        return tool_fail("out of memory");
    }
    size_t len = fread(buf, 1, cap, in);
    int read_error = ferror(in);
    if (in != stdin) fclose(in);
    int status;
    if (read_error) status = tool_fail("%s: read error", path);
    else if (len == cap) status = tool_fail("%s: larger than any datagram", path);
    else {
        if (is_hex_text(buf, len)) len = hex_to_bytes(buf, len);
        if (len > DATAGRAM_MAX) status = tool_fail("%s: larger than any datagram", path);
        else status = tool_print_client_initial(stdout, buf, len);
    }
    free(buf);
    return status;
}
