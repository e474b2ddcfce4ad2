/*
 * The TCP segment codec: whole IPv4 / IPv6 packets to and from
 * skiff_tcp_segment.
 *
 *   - IP: RFC 791 §3.1 (IHL, total length, fragments, header checksum) and
 *     RFC 8200 §4 (hop-by-hop and destination options are walked; any other
 *     extension header, fragments included, means "not for TCP").
 *   - TCP header and checksum over the pseudo-header: RFC 9293 §3.1 (IPv4)
 *     and RFC 8200 §8.1 (IPv6).
 *   - Options: RFC 9293 §3.2 (EOL, NOP, MSS, unknown kinds skipped by their
 *     length), RFC 7323 §2.2-2.3 (window scale, above 14 clamped) and §3.2
 *     (timestamps), RFC 2018 §2-3 (SACK-permitted, SACK blocks).
 *   - Checksum: RFC 1071 §2 and §4.1. The sum is order-independent and
 *     byte-order-independent (§2(A), (B)), so we add 8-byte native-order
 *     words with an end-around carry and swap the folded result once.
 *
 * The parse checks in this order, each failure being the result: IP header,
 * TCP checksum, data offset, options, urgent pointer. A corrupted packet
 * therefore shows as BAD_CHECKSUM rather than as whatever the corruption hit.
 */
#include "tcp/segment.h"

#include <string.h>

#define PROTO_HOPOPTS 0  /* IPv6 hop-by-hop options (RFC 8200 §4.3) */
#define PROTO_TCP 6
#define PROTO_DSTOPTS 60 /* IPv6 destination options (RFC 8200 §4.6) */
#define MAX_EXT_HEADERS 4 /* walked before we give up and call it NOT_TCP */

#define IPV4_MF 0x2000
#define IPV4_DF 0x4000
#define IPV4_OFFSET_MASK 0x1fff

/* Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018). */
#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WSCALE 3
#define OPT_SACK_PERMITTED 4
#define OPT_SACK 5
#define OPT_TIMESTAMPS 8

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* ---- RFC 1071 checksum ---- */

static inline uint64_t add_carry(uint64_t sum, uint64_t v)
{
    sum += v;
    return sum + (sum < v); /* end-around carry; cannot overflow again */
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* any alignment */
    return v;
}

uint64_t skiff_tcp_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    /* Two independent chains keep the adds from waiting on each other. */
    uint64_t a = sum, b = 0;
    while (len >= 32) {
        a = add_carry(a, load64(p));
        b = add_carry(b, load64(p + 8));
        a = add_carry(a, load64(p + 16));
        b = add_carry(b, load64(p + 24));
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        a = add_carry(a, load64(p));
        p += 8;
        len -= 8;
    }
    if (len) {
        /* The tail, zero-padded: a trailing odd byte is the high byte of its
         * 16-bit word (RFC 1071 §4.1), since it sits at an even offset. */
        uint8_t tail[8] = {0};
        memcpy(tail, p, len);
        a = add_carry(a, load64(tail));
    }
    return add_carry(a, b);
}

uint16_t skiff_tcp_csum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
    uint16_t r = (uint16_t)sum;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    r = (uint16_t)(r << 8 | r >> 8);
#endif
    return r;
}

/* ---- parsing ---- */

const char *skiff_tcp_parse_result_name(int result)
{
    switch (result) {
    case SKIFF_TCP_PARSE_OK: return "OK";
    case SKIFF_TCP_NOT_TCP: return "NOT_TCP";
    case SKIFF_TCP_BAD_IP_HEADER: return "BAD_IP_HEADER";
    case SKIFF_TCP_BAD_CHECKSUM: return "BAD_CHECKSUM";
    case SKIFF_TCP_BAD_DATA_OFFSET: return "BAD_DATA_OFFSET";
    case SKIFF_TCP_BAD_OPTION: return "BAD_OPTION";
    case SKIFF_TCP_BAD_MSS: return "BAD_MSS";
    case SKIFF_TCP_BAD_URGENT: return "BAD_URGENT";
    default: return "unknown";
    }
}

/* What the IP layer hands to TCP: the segment and its pseudo-header sum. */
typedef struct ip_view {
    const uint8_t *tcp;
    size_t tcp_len;
    uint64_t pseudo_sum;
} ip_view;

static int parse_ipv4(skiff_tcp_segment *seg, const uint8_t *p, size_t len, bool verify,
                      ip_view *v)
{
    if (len < 20) return SKIFF_TCP_BAD_IP_HEADER;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = get16(p + 2);
    if (ihl < 20 || total < ihl || total > len) return SKIFF_TCP_BAD_IP_HEADER;
    if (verify && skiff_tcp_csum_fold(skiff_tcp_csum_add(0, p, ihl)) != 0xffff)
        return SKIFF_TCP_BAD_IP_HEADER;
    /* A fragment (more to come, or not the first) is not a whole segment. */
    if (get16(p + 6) & (IPV4_MF | IPV4_OFFSET_MASK)) return SKIFF_TCP_NOT_TCP;
    if (p[9] != PROTO_TCP) return SKIFF_TCP_NOT_TCP;

    seg->ttl = p[8];
    seg->src.family = seg->dst.family = 4;
    memcpy(seg->src.ip, p + 12, 4);
    memcpy(seg->dst.ip, p + 16, 4);
    v->tcp = p + ihl;
    v->tcp_len = total - ihl;

    /* RFC 9293 §3.1: source, destination, zero, PTCL, TCP length. */
    uint8_t pseudo[12];
    memcpy(pseudo, p + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = PROTO_TCP;
    put16(pseudo + 10, (uint16_t)v->tcp_len);
    v->pseudo_sum = skiff_tcp_csum_add(0, pseudo, sizeof pseudo);
    return SKIFF_TCP_PARSE_OK;
}

static int parse_ipv6(skiff_tcp_segment *seg, const uint8_t *p, size_t len, ip_view *v)
{
    if (len < 40) return SKIFF_TCP_BAD_IP_HEADER;
    size_t end = 40 + (size_t)get16(p + 4);
    if (end > len) return SKIFF_TCP_BAD_IP_HEADER;

    /* RFC 8200 §4.1: hop-by-hop options only right after the IPv6 header.
     * Both walked kinds carry their length in 8-octet units, not counting
     * the first 8 (§4.3, §4.6). MLD arrives as hop-by-hop then ICMPv6. */
    uint8_t next = p[6];
    size_t off = 40;
    for (int walked = 0; next != PROTO_TCP; walked++) {
        if (next == PROTO_HOPOPTS && off != 40) return SKIFF_TCP_BAD_IP_HEADER;
        if ((next != PROTO_HOPOPTS && next != PROTO_DSTOPTS) || walked == MAX_EXT_HEADERS)
            return SKIFF_TCP_NOT_TCP;
        if (end - off < 8) return SKIFF_TCP_BAD_IP_HEADER;
        size_t ext_len = ((size_t)p[off + 1] + 1) * 8;
        if (ext_len > end - off) return SKIFF_TCP_BAD_IP_HEADER;
        next = p[off];
        off += ext_len;
    }

    seg->ttl = p[7];
    seg->src.family = seg->dst.family = 6;
    memcpy(seg->src.ip, p + 8, 16);
    memcpy(seg->dst.ip, p + 24, 16);
    v->tcp = p + off;
    v->tcp_len = end - off;

    /* RFC 8200 §8.1: source, destination, upper-layer length (32 bits),
     * three zero bytes, next header. No routing header gets this far, so the
     * destination in the header is the final one. */
    uint8_t pseudo[40];
    memcpy(pseudo, p + 8, 32);
    put32(pseudo + 32, (uint32_t)v->tcp_len);
    pseudo[36] = pseudo[37] = pseudo[38] = 0;
    pseudo[39] = PROTO_TCP;
    v->pseudo_sum = skiff_tcp_csum_add(0, pseudo, sizeof pseudo);
    return SKIFF_TCP_PARSE_OK;
}

static int parse_options(skiff_tcp_options *o, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = p[i];
        if (kind == OPT_EOL) break; /* the rest of the option space is padding */
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (n - i < 2) return SKIFF_TCP_BAD_OPTION;
        size_t olen = p[i + 1];
        if (olen < 2 || olen > n - i) return SKIFF_TCP_BAD_OPTION;
        const uint8_t *val = p + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen != 4) return SKIFF_TCP_BAD_OPTION;
            o->mss = get16(val);
            if (o->mss == 0) return SKIFF_TCP_BAD_MSS;
            o->has_mss = true;
            break;
        case OPT_WSCALE:
            if (olen != 3) return SKIFF_TCP_BAD_OPTION;
            /* RFC 7323 §2.3: a shift above 14 is used as 14. */
            o->wscale = val[0] > SKIFF_TCP_MAX_WSCALE ? SKIFF_TCP_MAX_WSCALE : val[0];
            o->has_wscale = true;
            break;
        case OPT_SACK_PERMITTED:
            if (olen != 2) return SKIFF_TCP_BAD_OPTION;
            o->sack_permitted = true;
            break;
        case OPT_SACK:
            /* RFC 2018 §3: 8n + 2 bytes; 40 bytes of option space allow n <= 4. */
            if (olen < 10 || (olen - 2) % 8 != 0) return SKIFF_TCP_BAD_OPTION;
            o->sack_count = (uint8_t)((olen - 2) / 8);
            for (size_t b = 0; b < o->sack_count; b++) {
                o->sack[b].left = get32(val + 8 * b);
                o->sack[b].right = get32(val + 8 * b + 4);
            }
            break;
        case OPT_TIMESTAMPS:
            if (olen != 10) return SKIFF_TCP_BAD_OPTION;
            o->ts_val = get32(val);
            o->ts_ecr = get32(val + 4);
            o->has_timestamps = true;
            break;
        default: break; /* RFC 9293 §3.2: skip what we do not know */
        }
        i += olen;
    }
    return SKIFF_TCP_PARSE_OK;
}

int skiff_tcp_segment_parse(skiff_tcp_segment *seg, const uint8_t *packet, size_t len,
                            bool verify_checksum)
{
    memset(seg, 0, sizeof *seg);
    if (len == 0) return SKIFF_TCP_BAD_IP_HEADER;
    ip_view v;
    int r;
    switch (packet[0] >> 4) {
    case 4: r = parse_ipv4(seg, packet, len, verify_checksum, &v); break;
    case 6: r = parse_ipv6(seg, packet, len, &v); break;
    default: return SKIFF_TCP_BAD_IP_HEADER;
    }
    if (r != SKIFF_TCP_PARSE_OK) return r;

    const uint8_t *t = v.tcp;
    if (verify_checksum &&
        skiff_tcp_csum_fold(skiff_tcp_csum_add(v.pseudo_sum, t, v.tcp_len)) != 0xffff)
        return SKIFF_TCP_BAD_CHECKSUM;
    if (v.tcp_len < SKIFF_TCP_HEADER_LEN) return SKIFF_TCP_BAD_DATA_OFFSET;
    size_t hlen = (size_t)(t[12] >> 4) * 4;
    if (hlen < SKIFF_TCP_HEADER_LEN || hlen > v.tcp_len) return SKIFF_TCP_BAD_DATA_OFFSET;

    seg->src.port = get16(t);
    seg->dst.port = get16(t + 2);
    seg->seq = get32(t + 4);
    seg->ack = get32(t + 8);
    seg->flags = t[13];
    seg->window = get16(t + 14);
    seg->urgent = get16(t + 18);
    r = parse_options(&seg->opt, t + SKIFF_TCP_HEADER_LEN, hlen - SKIFF_TCP_HEADER_LEN);
    if (r != SKIFF_TCP_PARSE_OK) return r;
    seg->payload = t + hlen;
    seg->payload_len = v.tcp_len - hlen;

    /* The urgent pointer is the offset of the byte after the urgent data
     * (RFC 9293 §3.1, §3.8.5); we drop segments where it lies beyond this
     * segment's payload. */
    if ((seg->flags & SKIFF_TCP_URG) && seg->urgent > seg->payload_len)
        return SKIFF_TCP_BAD_URGENT;
    return SKIFF_TCP_PARSE_OK;
}

/* ---- building ---- */

/* Option bytes without SACK blocks, in the layout of write_options. */
static size_t base_options_len(const skiff_tcp_options *o)
{
    size_t n = 0;
    if (o->has_mss) n += 4;
    if (o->has_timestamps) n += 12; /* SACK-permitted rides in its two pad bytes */
    else if (o->sack_permitted) n += 4;
    if (o->has_wscale) n += 4;
    return n;
}

/* How many of o's SACK blocks fit after the other options (NOP NOP 5 len). */
static size_t sack_blocks_that_fit(const skiff_tcp_options *o)
{
    size_t want = o->sack_count > SKIFF_TCP_MAX_SACK_BLOCKS ? SKIFF_TCP_MAX_SACK_BLOCKS
                                                             : o->sack_count;
    size_t room = SKIFF_TCP_MAX_OPTIONS_LEN - base_options_len(o);
    size_t fit = room >= 12 ? (room - 4) / 8 : 0;
    return want < fit ? want : fit;
}

size_t skiff_tcp_options_len(const skiff_tcp_options *o)
{
    size_t blocks = sack_blocks_that_fit(o);
    return base_options_len(o) + (blocks ? 4 + 8 * blocks : 0);
}

static uint8_t *write_options(uint8_t *p, const skiff_tcp_options *o, size_t blocks)
{
    if (o->has_mss) {
        *p++ = OPT_MSS;
        *p++ = 4;
        p = put16(p, o->mss);
    }
    if (o->has_timestamps) {
        if (o->sack_permitted) {
            *p++ = OPT_SACK_PERMITTED;
            *p++ = 2;
        } else {
            *p++ = OPT_NOP;
            *p++ = OPT_NOP;
        }
        *p++ = OPT_TIMESTAMPS;
        *p++ = 10;
        p = put32(p, o->ts_val);
        p = put32(p, o->ts_ecr);
    } else if (o->sack_permitted) {
        *p++ = OPT_NOP;
        *p++ = OPT_NOP;
        *p++ = OPT_SACK_PERMITTED;
        *p++ = 2;
    }
    if (o->has_wscale) {
        *p++ = OPT_NOP;
        *p++ = OPT_WSCALE;
        *p++ = 3;
        *p++ = o->wscale;
    }
    if (blocks) {
        *p++ = OPT_NOP;
        *p++ = OPT_NOP;
        *p++ = OPT_SACK;
        *p++ = (uint8_t)(2 + 8 * blocks);
        for (size_t b = 0; b < blocks; b++) {
            p = put32(p, o->sack[b].left);
            p = put32(p, o->sack[b].right);
        }
    }
    return p;
}

size_t skiff_tcp_segment_len(const skiff_tcp_segment *seg)
{
    if (seg->src.family != seg->dst.family) return 0;
    size_t ip_len;
    if (seg->src.family == 4) ip_len = SKIFF_TCP_IPV4_HEADER_LEN;
    else if (seg->src.family == 6) ip_len = SKIFF_TCP_IPV6_HEADER_LEN;
    else return 0;
    return ip_len + SKIFF_TCP_HEADER_LEN + skiff_tcp_options_len(&seg->opt) + seg->payload_len;
}

skiff_ssize skiff_tcp_segment_build(uint8_t *out, size_t cap, const skiff_tcp_segment *seg)
{
    if (!seg || (!out && cap)) return SKIFF_ERR_INVALID_ARGUMENT;
    const skiff_tcp_options *o = &seg->opt;
    if (seg->src.family != seg->dst.family ||
        (seg->src.family != 4 && seg->src.family != 6) ||
        (seg->payload_len && !seg->payload) || o->sack_count > SKIFF_TCP_MAX_SACK_BLOCKS ||
        (o->has_wscale && o->wscale > SKIFF_TCP_MAX_WSCALE) || (o->has_mss && o->mss == 0))
        return SKIFF_ERR_INVALID_ARGUMENT;
    bool v4 = seg->src.family == 4;
    size_t ip_len = v4 ? SKIFF_TCP_IPV4_HEADER_LEN : SKIFF_TCP_IPV6_HEADER_LEN;
    size_t blocks = sack_blocks_that_fit(o);
    size_t opt_len = skiff_tcp_options_len(o);
    size_t hlen = SKIFF_TCP_HEADER_LEN + opt_len;
    if (seg->payload_len > 65535 - hlen - (v4 ? ip_len : 0)) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t tcp_len = hlen + seg->payload_len;
    if (cap < ip_len + tcp_len) return SKIFF_ERR_BUFFER_TOO_SMALL;

    uint8_t *t = out + ip_len;
    /* First, since the caller may have placed the payload in out already. */
    if (seg->payload_len) memmove(t + hlen, seg->payload, seg->payload_len);

    uint8_t ttl = seg->ttl ? seg->ttl : SKIFF_TCP_DEFAULT_TTL;
    uint8_t pseudo[40];
    size_t pseudo_len;
    if (v4) {
        out[0] = 0x45; /* version 4, IHL 5 */
        out[1] = 0;    /* DSCP, ECN */
        put16(out + 2, (uint16_t)(ip_len + tcp_len));
        put16(out + 4, 0);       /* identification: DF packets are never reassembled */
        put16(out + 6, IPV4_DF); /* RFC 791 §3.1; TCP does its own PMTU handling */
        out[8] = ttl;
        out[9] = PROTO_TCP;
        put16(out + 10, 0);
        memcpy(out + 12, seg->src.ip, 4);
        memcpy(out + 16, seg->dst.ip, 4);
        put16(out + 10, (uint16_t)~skiff_tcp_csum_fold(skiff_tcp_csum_add(0, out, ip_len)));
        memcpy(pseudo, out + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = PROTO_TCP;
        put16(pseudo + 10, (uint16_t)tcp_len);
        pseudo_len = 12;
    } else {
        put32(out, UINT32_C(6) << 28); /* version 6, traffic class 0, flow label 0 */
        put16(out + 4, (uint16_t)tcp_len);
        out[6] = PROTO_TCP;
        out[7] = ttl;
        memcpy(out + 8, seg->src.ip, 16);
        memcpy(out + 24, seg->dst.ip, 16);
        memcpy(pseudo, out + 8, 32);
        put32(pseudo + 32, (uint32_t)tcp_len);
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = PROTO_TCP;
        pseudo_len = 40;
    }

    put16(t, seg->src.port);
    put16(t + 2, seg->dst.port);
    put32(t + 4, seg->seq);
    put32(t + 8, seg->ack);
    t[12] = (uint8_t)((hlen / 4) << 4);
    t[13] = seg->flags;
    put16(t + 14, seg->window);
    put16(t + 16, 0);
    put16(t + 18, seg->urgent);
    write_options(t + SKIFF_TCP_HEADER_LEN, o, blocks);

    uint64_t sum = skiff_tcp_csum_add(0, pseudo, pseudo_len);
    sum = skiff_tcp_csum_add(sum, t, tcp_len);
    put16(t + 16, (uint16_t)~skiff_tcp_csum_fold(sum));
    return (skiff_ssize)(ip_len + tcp_len);
}
