/* Shared declarations of the `skiff` command's subcommands. */
#ifndef SKIFF_TOOLS_TOOL_H
#define SKIFF_TOOLS_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "quic/connection.h"

/* Subcommands: each returns the process exit status. */
int skiff_cmd_demo(int argc, char **argv);
int skiff_cmd_decode(int argc, char **argv);
int skiff_cmd_serve(int argc, char **argv);
int skiff_cmd_get(int argc, char **argv);
int skiff_cmd_tcp(int argc, char **argv);

/* The options serve and get share (options.c). */
typedef struct tool_options {
    const char *alpn; /* comma-separated */
    const char *keylog;
    char priority[256]; /* from --tls13-ciphers; empty: GnuTLS's default */
    uint64_t idle, handshake_timeout, keep_alive;
    bool key_update, early;
    const char *alpn_names[16];
    char *alpn_storage;
    uint8_t static_key[32];
} tool_options;

/* Long-only options take codes outside the characters short options use. */
#define TOOL_OPT_HANDSHAKE_TIMEOUT 1001

#define TOOL_OPTIONS_LONG                                                                      \
    {"alpn", required_argument, 0, 'a'}, {"keylog", required_argument, 0, 'K'},               \
        {"idle-timeout", required_argument, 0, 'i'},                                           \
        {"handshake-timeout", required_argument, 0, TOOL_OPT_HANDSHAKE_TIMEOUT},               \
        {"tls13-ciphers", required_argument, 0, 'T'}, {"key-update", no_argument, 0, 'U'},     \
        {"0rtt", no_argument, 0, 'Z'}, {"keep-alive", required_argument, 0, 'A'}

void tool_options_init(tool_options *o);
/* 1: a shared option, taken; 0: not one of them; -1: a bad value (reported). */
int tool_options_parse(tool_options *o, int opt, const char *arg);
/* A connection config with the shared options applied. Returns 0 or 1 (reported). */
int tool_options_apply(tool_options *o, skiff_conn_config *cfg);
const char *tool_options_priority(const tool_options *o);
void tool_options_free(tool_options *o);

/* Parses "500ms", "2s", "1m", "250us" or a bare number of seconds into
 * nanoseconds. Returns 0 or -1. */
int tool_parse_duration(const char *text, uint64_t *ns);

/* curl's --tls13-ciphers list ("TLS_CHACHA20_POLY1305_SHA256:...") as a
 * GnuTLS priority string. Returns 0, or -1 for an unknown suite. */
int tool_tls13_priority(const char *list, char *out, size_t cap);

/* Exactly len bytes from 2*len hex digits. Returns 0 or -1. */
int tool_parse_hex_key(const char *hex, uint8_t *out, size_t len);

/* Splits "h3,hq-interop" into at most max names (pointing into a copy the
 * caller frees with free(*storage)). Returns the count, or -1. */
int tool_parse_alpn(const char *list, const char **names, size_t max, char **storage);

/* Creates an HTTP/3 connection on c with fresh grease values (h3_attach.c).
 * Returns 0 or a negative SKIFF_ERR_*. */
struct skiff_h3_callbacks;
struct skiff_h3_conn;
int tool_h3_attach(struct skiff_h3_conn **out, skiff_conn *c, bool is_server,
                   const struct skiff_h3_callbacks *cb, void *ud);

/* An IPv4 (family 4) or IPv6 address as text. */
void tool_format_ip(uint8_t family, const uint8_t *ip, char *out, size_t cap);

/* Prints "skiff: <message>" on stderr and returns 1. */
int tool_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills out with unpredictable bytes (getrandom). */
void tool_random(uint8_t *out, size_t len);

/* A SKIFF_ERR_* code's text, or strerror() of a negative errno. */
const char *tool_error_text(int err);

/* Prints p as lowercase hex, or "(empty)". */
void tool_print_hex(FILE *out, const uint8_t *p, size_t len);

/*
 * Decodes the first datagram a client sends (its Initial packets) with the
 * client Initial keys derived from the datagram's own DCID, and prints every
 * field, frame and the ClientHello inside. Returns 0, or 1 after printing
 * why the datagram could not be decoded.
 */
int tool_print_client_initial(FILE *out, const uint8_t *dgram, size_t len);

/*
 * The parts of a TLS 1.3 ClientHello (RFC 8446 §4.1.2) worth showing, and
 * the quic_transport_parameters extension (RFC 9001 §8.2) it carries. The
 * pointers point into the message.
 */
typedef struct tool_client_hello {
    const uint8_t *cipher_suites; size_t cipher_suites_len;
    const uint8_t *server_name; size_t server_name_len;
    const uint8_t *alpn; size_t alpn_len;           /* the ProtocolNameList */
    const uint8_t *versions; size_t versions_len;   /* supported_versions */
    const uint8_t *groups; size_t groups_len;       /* key_share group ids, 2 bytes each */
    size_t groups_count;
    const uint8_t *transport_params; size_t transport_params_len;
    int has_transport_params;
    size_t extensions_count;
} tool_client_hello;

/* Parses a ClientHello handshake message. Returns 0, or -1 if it is
 * malformed or truncated. */
int tool_parse_client_hello(tool_client_hello *ch, const uint8_t *msg, size_t len);

#endif
