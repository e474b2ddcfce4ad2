/*
 * A bounds-checked reader of the TLS 1.3 ClientHello (RFC 8446 §4.1.2,
 * §4.2), enough for `skiff decode` to show what a client offers: cipher
 * suites, server name (RFC 6066 §3), ALPN (RFC 7301), supported versions,
 * key-share groups and QUIC transport parameters (RFC 9001 §8.2). The TLS
 * handshake itself is GnuTLS's job; this only reads.
 */
#include <string.h>

#include "common/wire.h"
#include "tool.h"

#define TLS_HANDSHAKE_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_KEY_SHARE 51
#define EXT_QUIC_TRANSPORT_PARAMETERS 57

/* A vector with a 1- or 2-byte length prefix. */
static int read_vec(skiff_reader *r, int prefix, const uint8_t **p, size_t *len)
{
    uint8_t n8;
    uint16_t n16;
    if (prefix == 1) {
        if (skiff_reader_u8(r, &n8)) return -1;
        *len = n8;
    } else {
        if (skiff_reader_u16(r, &n16)) return -1;
        *len = n16;
    }
    return skiff_reader_bytes(r, *len, p) ? -1 : 0;
}

static int parse_server_name(tool_client_hello *ch, const uint8_t *p, size_t len)
{
    skiff_reader r = skiff_reader_make(p, len);
    const uint8_t *list;
    size_t list_len;
    if (read_vec(&r, 2, &list, &list_len)) return -1;
    skiff_reader names = skiff_reader_make(list, list_len);
    while (skiff_reader_left(&names) > 0) {
        uint8_t type;
        const uint8_t *name;
        size_t name_len;
        if (skiff_reader_u8(&names, &type) || read_vec(&names, 2, &name, &name_len)) return -1;
        if (type == 0) { /* host_name */
            ch->server_name = name;
            ch->server_name_len = name_len;
        }
    }
    return 0;
}

static int parse_key_share(tool_client_hello *ch, const uint8_t *p, size_t len)
{
    skiff_reader r = skiff_reader_make(p, len);
    const uint8_t *shares;
    size_t shares_len;
    if (read_vec(&r, 2, &shares, &shares_len)) return -1;
    skiff_reader s = skiff_reader_make(shares, shares_len);
    ch->groups = shares;
    ch->groups_len = shares_len;
    while (skiff_reader_left(&s) > 0) {
        uint16_t group;
        const uint8_t *key;
        size_t key_len;
        if (skiff_reader_u16(&s, &group) || read_vec(&s, 2, &key, &key_len)) return -1;
        ch->groups_count++;
    }
    return 0;
}

static int parse_extension(tool_client_hello *ch, uint16_t type, const uint8_t *p, size_t len)
{
    skiff_reader r = skiff_reader_make(p, len);
    switch (type) {
    case EXT_SERVER_NAME: return parse_server_name(ch, p, len);
    case EXT_ALPN: return read_vec(&r, 2, &ch->alpn, &ch->alpn_len);
    case EXT_SUPPORTED_VERSIONS: return read_vec(&r, 1, &ch->versions, &ch->versions_len);
    case EXT_KEY_SHARE: return parse_key_share(ch, p, len);
    case EXT_QUIC_TRANSPORT_PARAMETERS:
        ch->transport_params = p;
        ch->transport_params_len = len;
        ch->has_transport_params = 1;
        return 0;
    }
    return 0;
}

int tool_parse_client_hello(tool_client_hello *ch, const uint8_t *msg, size_t len)
{
    memset(ch, 0, sizeof *ch);
    skiff_reader r = skiff_reader_make(msg, len);
    uint8_t type, len_hi;
    uint16_t len_lo, legacy_version;
    const uint8_t *random, *session_id, *compression, *extensions;
    size_t session_id_len, compression_len, extensions_len;
    if (skiff_reader_u8(&r, &type) || type != TLS_HANDSHAKE_CLIENT_HELLO) return -1;
    if (skiff_reader_u8(&r, &len_hi) || skiff_reader_u16(&r, &len_lo)) return -1;
    size_t body_len = (size_t)len_hi << 16 | len_lo;
    if (body_len > skiff_reader_left(&r)) return -1;
    r.end = r.pos + body_len;
    if (skiff_reader_u16(&r, &legacy_version) || skiff_reader_bytes(&r, 32, &random) ||
        read_vec(&r, 1, &session_id, &session_id_len) ||
        read_vec(&r, 2, &ch->cipher_suites, &ch->cipher_suites_len) ||
        read_vec(&r, 1, &compression, &compression_len) ||
        read_vec(&r, 2, &extensions, &extensions_len))
        return -1;
    skiff_reader ext = skiff_reader_make(extensions, extensions_len);
    while (skiff_reader_left(&ext) > 0) {
        uint16_t ext_type;
        const uint8_t *data;
        size_t data_len;
        if (skiff_reader_u16(&ext, &ext_type) || read_vec(&ext, 2, &data, &data_len)) return -1;
        if (parse_extension(ch, ext_type, data, data_len)) return -1;
        ch->extensions_count++;
    }
    return 0;
}
