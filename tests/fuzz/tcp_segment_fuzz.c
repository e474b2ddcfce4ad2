/*
 * libFuzzer target: the TCP segment codec (src/tcp/segment.c). The input is
 * one IP packet as a TUN device hands it over. It is parsed with and without
 * checksum verification; a packet that verifies must also parse without
 * verification, to the same fields. Whatever parses is rebuilt, and the
 * rebuilt packet must parse with verification (the builder writes correct
 * checksums) to the same fields, except that trailing SACK blocks may have
 * been dropped to fit the builder's option layout, and a TTL of 0 becomes 64.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const skiff_tcp_segment *a, const skiff_tcp_segment *b, bool sack_prefix)
{
    const skiff_tcp_options *x = &a->opt, *y = &b->opt;
    size_t iplen = a->src.family == 4 ? 4 : 16;
    if (a->src.family != b->src.family || a->dst.family != b->dst.family ||
        memcmp(a->src.ip, b->src.ip, iplen) || memcmp(a->dst.ip, b->dst.ip, iplen) ||
        a->src.port != b->src.port || a->dst.port != b->dst.port || a->seq != b->seq ||
        a->ack != b->ack || a->flags != b->flags || a->window != b->window ||
        a->urgent != b->urgent || a->payload_len != b->payload_len ||
        (a->payload_len && memcmp(a->payload, b->payload, a->payload_len)))
        abort();
    if (x->has_mss != y->has_mss || (x->has_mss && x->mss != y->mss) ||
        x->has_wscale != y->has_wscale || (x->has_wscale && x->wscale != y->wscale) ||
        x->sack_permitted != y->sack_permitted || x->has_timestamps != y->has_timestamps ||
        (x->has_timestamps && (x->ts_val != y->ts_val || x->ts_ecr != y->ts_ecr)))
        abort();
    if (sack_prefix ? y->sack_count > x->sack_count : y->sack_count != x->sack_count) abort();
    for (size_t i = 0; i < y->sack_count; i++)
        if (x->sack[i].left != y->sack[i].left || x->sack[i].right != y->sack[i].right) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    skiff_tcp_segment loose, strict, again;
    int r_loose = skiff_tcp_segment_parse(&loose, data, size, false);
    int r_strict = skiff_tcp_segment_parse(&strict, data, size, true);
    if (r_strict == SKIFF_TCP_PARSE_OK) {
        if (r_loose != SKIFF_TCP_PARSE_OK) abort();
        same_or_abort(&strict, &loose, false);
        if (strict.ttl != loose.ttl) abort();
    }
    if (r_loose != SKIFF_TCP_PARSE_OK) return 0;
    if (loose.payload < data || loose.payload + loose.payload_len > data + size) abort();

    static uint8_t out[65536 + 128];
    skiff_ssize n = skiff_tcp_segment_build(out, sizeof out, &loose);
    if (n <= 0 || (size_t)n != skiff_tcp_segment_len(&loose)) abort();
    if (skiff_tcp_segment_parse(&again, out, (size_t)n, true) != SKIFF_TCP_PARSE_OK) abort();
    same_or_abort(&loose, &again, true);
    if (again.ttl != (loose.ttl ? loose.ttl : SKIFF_TCP_DEFAULT_TTL)) abort();
    return 0;
}
