/*
 * The `skiff` command: subcommand dispatch, help and the helpers the
 * subcommands share. Exit status: 0 on success, 1 on failure (with one
 * "skiff: ..." line on stderr), 2 on a usage error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "skiff/skiff.h"
#include "tool.h"

static const char usage[] =
    "usage: skiff <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo            decode the RFC 9001 Appendix A.2 client Initial, field by field\n"
    "  decode [FILE]   decode a client's first datagram (binary or hex; '-' or none: stdin)\n"
    "  serve ROOT      serve files over QUIC (see skiff serve --help)\n"
    "  get URL...      download URLs over one QUIC connection (see skiff get --help)\n"
    "  tcp listen|connect  userspace TCP over a TUN device, like nc (see skiff tcp --help)\n"
    "\n"
    "options:\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n";

int tool_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("skiff: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void tool_random(uint8_t *out, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n <= 0) continue;
        out += n;
        len -= (size_t)n;
    }
}

const char *tool_error_text(int err)
{
    const char *text = skiff_strerror(err);
    return strcmp(text, "unknown error") ? text : strerror(-err);
}

void tool_print_hex(FILE *out, const uint8_t *p, size_t len)
{
    if (len == 0) {
        fputs("(empty)", out);
        return;
    }
    for (size_t i = 0; i < len; i++) fprintf(out, "%02x", p[i]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("skiff %s\n", SKIFF_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "demo")) return skiff_cmd_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "decode")) return skiff_cmd_decode(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return skiff_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "get")) return skiff_cmd_get(argc - 1, argv + 1);
    if (!strcmp(cmd, "tcp")) return skiff_cmd_tcp(argc - 1, argv + 1);
    fprintf(stderr, "skiff: unknown command '%s'\n%s", cmd, usage);
    return 2;
}
