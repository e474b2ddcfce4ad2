/*
 * `skiff decode`: the first datagram of a QUIC client, decoded the way a
 * server does it (RFC 9000 §17.2.2, RFC 9001 §5.2, §5.4, §A.2): split the
 * coalesced packets, derive the client Initial keys from the DCID, remove
 * header protection, recover the packet number, decrypt, walk the frames,
 * reassemble the CRYPTO stream and read the ClientHello and its transport
 * parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/frame.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/transport_params.h"
#include "tool.h"

#define CRYPTO_STREAM_MAX 16384 /* a ClientHello larger than this is not shown */

/* The start of the client's CRYPTO stream, reassembled from frames in any order. */
typedef struct crypto_stream {
    uint8_t data[CRYPTO_STREAM_MAX];
    uint8_t have[CRYPTO_STREAM_MAX]; /* 1 where a byte arrived */
} crypto_stream;

static size_t crypto_contiguous(const crypto_stream *cs)
{
    size_t n = 0;
    while (n < CRYPTO_STREAM_MAX && cs->have[n]) n++;
    return n;
}

static void print_frame(FILE *out, const skiff_frame *f, crypto_stream *cs)
{
    fprintf(out, "    %s", skiff_frame_name(f->type));
    switch (f->type) {
    case SKIFF_FRAME_PADDING: fprintf(out, " length=%zu\n", f->padding.len); return;
    case SKIFF_FRAME_CRYPTO:
        fprintf(out, " offset=%llu length=%zu\n", (unsigned long long)f->crypto.offset,
                f->crypto.len);
        for (size_t i = 0; i < f->crypto.len; i++) {
            uint64_t at = f->crypto.offset + i;
            if (at >= CRYPTO_STREAM_MAX) break;
            cs->data[at] = f->crypto.data[i];
            cs->have[at] = 1;
        }
        return;
    case SKIFF_FRAME_ACK:
    case SKIFF_FRAME_ACK_ECN:
        fprintf(out, " largest=%llu ranges=%llu\n", (unsigned long long)f->ack.largest,
                (unsigned long long)f->ack.range_count + 1);
        return;
    case SKIFF_FRAME_CONNECTION_CLOSE:
        fprintf(out, " error=0x%llx (%s) reason=\"%.*s\"\n",
                (unsigned long long)f->connection_close.error_code,
                skiff_transport_error_name(f->connection_close.error_code),
                (int)f->connection_close.reason_len, (const char *)f->connection_close.reason);
        return;
    }
    fprintf(out, "\n");
}

static void print_u16_list(FILE *out, const char *label, const uint8_t *p, size_t len)
{
    fprintf(out, "      %s:", label);
    for (size_t i = 0; i + 1 < len; i += 2) fprintf(out, " 0x%04x", p[i] << 8 | p[i + 1]);
    fprintf(out, "\n");
}

static void print_alpn(FILE *out, const uint8_t *p, size_t len)
{
    fprintf(out, "      ALPN:");
    for (size_t i = 0; i < len;) {
        size_t n = p[i++];
        if (n > len - i) break;
        fprintf(out, " %.*s", (int)n, (const char *)p + i);
        i += n;
    }
    fprintf(out, "\n");
}

static int print_client_hello(FILE *out, const crypto_stream *cs)
{
    size_t len = crypto_contiguous(cs);
    tool_client_hello ch;
    if (tool_parse_client_hello(&ch, cs->data, len) != 0)
        return tool_fail("the CRYPTO stream does not start with a whole TLS ClientHello");
    fprintf(out, "  TLS ClientHello (%zu bytes of CRYPTO stream, %zu extensions):\n", len,
            ch.extensions_count);
    print_u16_list(out, "cipher suites", ch.cipher_suites, ch.cipher_suites_len);
    if (ch.server_name)
        fprintf(out, "      server name: %.*s\n", (int)ch.server_name_len,
                (const char *)ch.server_name);
    if (ch.alpn) print_alpn(out, ch.alpn, ch.alpn_len);
    if (ch.versions) print_u16_list(out, "supported versions", ch.versions, ch.versions_len);
    fprintf(out, "      key shares: %zu\n", ch.groups_count);
    if (!ch.has_transport_params)
        return tool_fail("the ClientHello has no quic_transport_parameters extension");

    skiff_transport_params tp;
    int rv = skiff_transport_params_decode(&tp, ch.transport_params, ch.transport_params_len,
                                           SKIFF_ROLE_CLIENT);
    if (rv != 0)
        return tool_fail("transport parameters rejected: %s (%s)", skiff_strerror(rv),
                         skiff_transport_error_name(skiff_err_transport_code(rv)));
    char text[SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN];
    if (skiff_transport_params_format(text, sizeof text, &tp) < 0)
        return tool_fail("transport parameters do not fit the display buffer");
    fprintf(out, "  quic_transport_parameters (%zu bytes):\n", ch.transport_params_len);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(out, "      %s\n", line);
    return 0;
}

static const char *version_name(uint32_t v)
{
    return v == SKIFF_QUIC_V1 ? "QUIC v1" : v == SKIFF_QUIC_V2 ? "QUIC v2" : "unknown";
}

/* Decrypts one Initial packet in place and prints it. */
static int print_initial(FILE *out, uint8_t *pkt, size_t len, const skiff_packet_header *h,
                         crypto_stream *cs)
{
    fprintf(out, "  %-27s 0x%08x (%s)\n", "version:", h->version, version_name(h->version));
    fprintf(out, "  %-27s 0x%02x\n", "first byte (protected):", pkt[0]);
    fprintf(out, "  %-27s ", "destination connection id:");
    tool_print_hex(out, h->dcid, h->dcid_len);
    fprintf(out, " (%u bytes)\n  %-27s ", h->dcid_len, "source connection id:");
    tool_print_hex(out, h->scid, h->scid_len);
    fprintf(out, " (%u bytes)\n  %-27s ", h->scid_len, "token:");
    tool_print_hex(out, h->token, h->token_len);
    fprintf(out, "\n  %-27s %llu\n", "length:", (unsigned long long)h->length);

    /* RFC 9001 §5.2: the client Initial keys come from the client's DCID. */
    skiff_packet_keys client = {0}, server = {0};
    int rv = skiff_packet_keys_initial(h->version, h->dcid, h->dcid_len, &client, &server);
    if (rv != 0) return tool_fail("cannot derive Initial keys: %s", skiff_strerror(rv));
    size_t pn_len = 0;
    uint64_t truncated = 0;
    rv = skiff_packet_unprotect_header(&client, pkt, len, h->pn_offset, &pn_len, &truncated);
    skiff_ssize plen = SKIFF_ERR_INVALID_PACKET;
    if (rv == 0) {
        uint64_t pn = skiff_pn_decode(SKIFF_PN_NONE, truncated, pn_len);
        fprintf(out, "  %-27s 0x%02x (packet number length %zu)\n", "first byte (unprotected):",
                pkt[0], pn_len);
        fprintf(out, "  %-27s %llu\n", "packet number:", (unsigned long long)pn);
        rv = skiff_packet_check_reserved_bits(pkt[0], true);
        if (rv == 0) plen = skiff_packet_open(&client, pkt, h->pn_offset + pn_len, pn, len);
    }
    skiff_packet_keys_clear(&client);
    skiff_packet_keys_clear(&server);
    if (rv != 0) return tool_fail("header protection: %s", skiff_strerror(rv));
    if (plen < 0) return tool_fail("payload: %s", skiff_strerror((int)plen));

    const uint8_t *payload = pkt + h->pn_offset + pn_len;
    fprintf(out, "  payload: %zd bytes decrypted with AES-128-GCM (tag verified)\n  frames:\n",
            plen);
    for (size_t off = 0; off < (size_t)plen;) {
        skiff_frame f;
        skiff_ssize n = skiff_frame_decode_in(&f, payload + off, (size_t)plen - off, h->type);
        if (n < 0)
            return tool_fail("frame at payload offset %zu: %s (%s)", off,
                             skiff_strerror((int)n),
                             skiff_transport_error_name(skiff_err_transport_code((int)n)));
        print_frame(out, &f, cs);
        off += (size_t)n;
    }
    return 0;
}

int tool_print_client_initial(FILE *out, const uint8_t *dgram, size_t len)
{
    /* Decrypting works in place: keep the caller's bytes intact. */
    uint8_t *copy = malloc(len ? len : 1);
    crypto_stream *cs = calloc(1, sizeof *cs);
    if (!copy || !cs) {
        free(copy);
        free(cs);
        return tool_fail("out of memory");
    }
    memcpy(copy, dgram, len);
    fprintf(out, "datagram: %zu bytes\n", len);
    if (len < 1200)
        fprintf(out, "  note: below the 1200 bytes a client Initial datagram must have "
                     "(RFC 9000 §14.1); a server drops it\n");

    skiff_datagram_iter it;
    skiff_packet_header h;
    const uint8_t *pkt;
    skiff_datagram_iter_init(&it, copy, len, 0, 0);
    int status = 0, initials = 0, index = 0;
    skiff_ssize n;
    while (status == 0 && (n = skiff_datagram_iter_next(&it, &h, &pkt)) != 0) {
        if (n < 0) {
            status = tool_fail("packet %d: %s", index + 1, skiff_strerror((int)n));
            break;
        }
        fprintf(out, "packet %d: %s, %zd bytes\n", ++index, skiff_packet_type_name(h.type), n);
        if (h.type != SKIFF_PKT_INITIAL) {
            fprintf(out, "  (not an Initial: its keys are not derivable from the datagram)\n");
            continue;
        }
        status = print_initial(out, copy + (pkt - copy), (size_t)n, &h, cs);
        initials++;
    }
    if (status == 0 && initials == 0) status = tool_fail("no Initial packet in the datagram");
    if (status == 0 && crypto_contiguous(cs) > 0) status = print_client_hello(out, cs);
    free(copy);
    free(cs);
    return status;
}
