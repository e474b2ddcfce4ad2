/*
 * The TCP segment codec: one whole IPv4 or IPv6 packet, as read from or
 * written to a TUN device (IFF_TUN | IFF_NO_PI), to and from a
 * skiff_tcp_segment. It only parses and builds; it never touches connection
 * state (RFC 9293 §3.1 header, §3.2 options; RFC 7323 §2-3 window scale and
 * timestamps; RFC 2018 SACK; RFC 791 and RFC 8200 for the IP headers).
 *
 *    IPv4 (IHL*4 bytes) or IPv6 (40 + hop-by-hop / destination options)
 *    +--------+--------+--------+--------+
 *    |  source port    |   dest port     |
 *    |           sequence number         |
 *    |        acknowledgment number      |
 *    | off|rsv| flags  |     window      |
 *    |    checksum     | urgent pointer  |
 *    |  options (0-40 bytes, off*4 - 20) |
 *    |  payload ...                      |
 *
 * Parsing is zero-copy: seg->payload points into the caller's packet.
 * Building writes the options in the layout Linux uses (MSS; SACK-permitted
 * in place of the two NOPs before timestamps, or NOP NOP SACK-permitted when
 * there are no timestamps; NOP window scale; NOP NOP SACK blocks) and drops
 * trailing SACK blocks when the 40 bytes of option space run out.
 */
#ifndef SKIFF_TCP_SEGMENT_H
#define SKIFF_TCP_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* Header flags (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1). */
#define SKIFF_TCP_FIN 0x01
#define SKIFF_TCP_SYN 0x02
#define SKIFF_TCP_RST 0x04
#define SKIFF_TCP_PSH 0x08
#define SKIFF_TCP_ACK 0x10
#define SKIFF_TCP_URG 0x20
#define SKIFF_TCP_ECE 0x40
#define SKIFF_TCP_CWR 0x80

#define SKIFF_TCP_HEADER_LEN 20      /* without options */
#define SKIFF_TCP_MAX_OPTIONS_LEN 40 /* data offset 15 */
#define SKIFF_TCP_MAX_SACK_BLOCKS 4  /* 2 + 4*8 = 34 bytes (RFC 2018 §3) */
#define SKIFF_TCP_MAX_WSCALE 14      /* RFC 7323 §2.3 */
#define SKIFF_TCP_IPV4_HEADER_LEN 20 /* as built: no IPv4 options */
#define SKIFF_TCP_IPV6_HEADER_LEN 40 /* as built: no extension headers */
#define SKIFF_TCP_DEFAULT_TTL 64

/* One end of a connection. family is 4 or 6; an IPv4 address is in ip[0..4)
 * and the rest of ip is ignored. The port is in host order. */
typedef struct skiff_tcp_addr {
    uint8_t family;
    uint8_t ip[16];
    uint16_t port;
} skiff_tcp_addr;

/*
 * The options the codec understands. On parse, an option that appears twice
 * keeps its last value, and sack[] holds sack_count blocks in the order they
 * were on the wire. ts_val/ts_ecr are meaningful only with has_timestamps.
 */
typedef struct skiff_tcp_options {
    bool has_mss;
    uint16_t mss;
    bool has_wscale;
    uint8_t wscale; /* parse clamps to 14 (RFC 7323 §2.3) */
    bool sack_permitted;
    bool has_timestamps;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count; /* 0..SKIFF_TCP_MAX_SACK_BLOCKS */
    struct {
        uint32_t left, right;
    } sack[SKIFF_TCP_MAX_SACK_BLOCKS];
} skiff_tcp_options;

/* One segment with the addresses of the IP packet that carries it. */
typedef struct skiff_tcp_segment {
    skiff_tcp_addr src, dst;
    uint32_t seq, ack;
    uint8_t flags;   /* SKIFF_TCP_* */
    uint16_t window; /* as on the wire, not scaled */
    uint16_t urgent;
    skiff_tcp_options opt;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t ttl; /* parse: the TTL / hop limit; build: 0 means SKIFF_TCP_DEFAULT_TTL */
} skiff_tcp_segment;

/* What skiff_tcp_segment_parse found. Everything but OK means "drop it". */
typedef enum skiff_tcp_parse_result {
    SKIFF_TCP_PARSE_OK = 0,
    /* Not a TCP segment for us: another protocol (ICMP, ICMPv6 router
     * solicitations and MLD, UDP, ...), an IPv4 or IPv6 fragment, or IPv6
     * extension headers other than hop-by-hop and destination options. */
    SKIFF_TCP_NOT_TCP,
    /* Version not 4 or 6, an IPv4 IHL below 5, a total / payload length
     * that is longer than the buffer (a truncated packet) or shorter than
     * the header, a wrong IPv4 header checksum, a malformed extension header. */
    SKIFF_TCP_BAD_IP_HEADER,
    /* The TCP checksum over the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1)
     * is wrong. */
    SKIFF_TCP_BAD_CHECKSUM,
    /* Shorter than 20 bytes, data offset below 5, or options past the end. */
    SKIFF_TCP_BAD_DATA_OFFSET,
    /* An option that runs past the header, a length of 0 or 1, a wrong fixed
     * length (MSS 4, window scale 3, SACK-permitted 2, timestamps 10) or a
     * SACK length that is not 2 + 8n with n in 1..4. */
    SKIFF_TCP_BAD_OPTION,
    SKIFF_TCP_BAD_MSS,    /* an MSS option of 0 */
    SKIFF_TCP_BAD_URGENT, /* URG set and the urgent pointer past the payload */
} skiff_tcp_parse_result;

/* "OK", "NOT_TCP", "BAD_IP_HEADER", ... for logs and counters; "unknown"
 * for anything else. Never NULL. */
const char *skiff_tcp_parse_result_name(int result);

/*
 * Parses one whole IP packet. On SKIFF_TCP_PARSE_OK *seg is filled and
 * seg->payload points into packet; on any other result *seg may be partly
 * filled and must not be used. Bytes after the IPv4 total length / IPv6
 * payload length are ignored. With verify_checksum false neither the IPv4
 * header checksum nor the TCP checksum is checked (for a device that has
 * verified them already, and for fuzzing). Returns a skiff_tcp_parse_result.
 */
int skiff_tcp_segment_parse(skiff_tcp_segment *seg, const uint8_t *packet, size_t len,
                            bool verify_checksum);

/*
 * The option bytes skiff_tcp_segment_build writes for o: a multiple of 4, at
 * most 40, counting only the SACK blocks that fit (at most 4; with MSS,
 * timestamps and window scale all present, 2).
 */
size_t skiff_tcp_options_len(const skiff_tcp_options *o);

/* The length of the packet skiff_tcp_segment_build writes for seg, or 0 if
 * seg's address families are not both 4 or both 6. */
size_t skiff_tcp_segment_len(const skiff_tcp_segment *seg);

/*
 * Writes seg as a whole IPv4 packet (IHL 5, DF, identification 0, TTL
 * seg->ttl or 64) or IPv6 packet (no extension headers, traffic class and
 * flow label 0, hop limit seg->ttl or 64) with both checksums. The payload
 * may already sit at its final place in out (out + skiff_tcp_segment_len(seg)
 * - payload_len); it is moved, not copied, so overlap is fine. Returns the
 * packet length, SKIFF_ERR_BUFFER_TOO_SMALL, or SKIFF_ERR_INVALID_ARGUMENT
 * (families not both 4 or both 6, payload NULL with a length, sack_count
 * above 4, wscale above 14, an MSS of 0, or a packet over 65535 bytes).
 */
skiff_ssize skiff_tcp_segment_build(uint8_t *out, size_t cap, const skiff_tcp_segment *seg);

/*
 * The Internet checksum (RFC 1071). skiff_tcp_csum_add adds p[0..len) to a
 * running sum that starts at 0; every piece but the last must have an even
 * length. The running sum is in an internal byte order: combine it only
 * through these functions. skiff_tcp_csum_fold returns the 16-bit one's-
 * complement sum (not inverted) as a host-order number; a checksum field
 * holds its complement, and data that includes a correct checksum folds to
 * 0xffff.
 */
uint64_t skiff_tcp_csum_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t skiff_tcp_csum_fold(uint64_t sum);

#endif
