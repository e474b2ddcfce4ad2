/*
 * QUIC packet headers (RFC 9000 §17, RFC 8999 invariants, RFC 9369 §3.2 for
 * v2's long-header type numbers): parsing a datagram into its coalesced
 * packets, encoding long and short headers, Version Negotiation and Retry,
 * and packet-number truncation and recovery (RFC 9000 §17.1, Appendix A).
 *
 * Decoding is zero-copy: the connection IDs, token, version list and Retry
 * tag point into the caller's datagram. The codec reads the header only up to
 * the packet number, which is still under header protection when a packet
 * arrives; after packet_protection removes it, the caller reads the
 * packet-number length and key phase from the unprotected first byte.
 *
 *   long header     1 F TT RR PP | version(32) | dcil dcid | scil scid | type-specific
 *   short header    0 F S RR K PP | dcid (length known to the receiver) | pn | payload
 *
 * (F fixed bit, TT type, RR reserved, PP packet-number length - 1, S spin,
 * K key phase; RR, K and PP are protected.)
 */
#ifndef SKIFF_QUIC_PACKET_HEADER_H
#define SKIFF_QUIC_PACKET_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/packet_type.h"
#include "skiff/skiff.h"

#define SKIFF_MAX_CID_LEN 20        /* RFC 9000 §17.2, for the versions skiff speaks */
#define SKIFF_INVARIANT_MAX_CID_LEN 255 /* RFC 8999 §5.1, any version */
#define SKIFF_RETRY_TAG_LEN 16
#define SKIFF_PN_NONE UINT64_MAX /* "no packet yet" for the packet-number functions */
#define SKIFF_PN_MAX ((UINT64_C(1) << 62) - 1)

#define SKIFF_HEADER_FORM_LONG 0x80
#define SKIFF_HEADER_FIXED_BIT 0x40
#define SKIFF_SHORT_SPIN_BIT 0x20
#define SKIFF_SHORT_KEY_PHASE 0x04
#define SKIFF_SHORT_RESERVED 0x18
#define SKIFF_LONG_RESERVED 0x0c

/* Decoding flags. */
#define SKIFF_HDR_ALLOW_ZERO_FIXED_BIT 0x1u /* the peer may grease it (RFC 9287) */

/*
 * One packet's header. On decode every field is set from the wire; on encode
 * the caller fills the fields of its packet type and the encoder writes them.
 */
typedef struct skiff_packet_header {
    skiff_packet_type type;
    uint8_t first_byte;  /* as on the wire: protected bits still masked on receive */
    uint32_t version;    /* long headers; 0 for Version Negotiation */
    const uint8_t *dcid;
    const uint8_t *scid; /* long headers only */
    uint8_t dcid_len;
    uint8_t scid_len;
    const uint8_t *token; /* Initial: the token; Retry: the retry token */
    size_t token_len;
    uint64_t length;      /* Initial, 0-RTT, Handshake: bytes after the Length field */
    size_t length_offset; /* where the Length field starts (for the builder to patch) */
    size_t pn_offset;     /* where the packet number starts */
    size_t packet_len;    /* the whole packet, so the next coalesced one starts after it */
    const uint8_t *versions; /* Version Negotiation: 4 bytes per version */
    size_t versions_count;
    const uint8_t *retry_tag; /* Retry: its integrity tag, SKIFF_RETRY_TAG_LEN bytes */
    bool spin;      /* short header, unprotected */
    bool key_phase; /* short header, encode only (protected on the wire) */
} skiff_packet_header;

/*
 * Parses the header of the packet at p[0..len), which may be followed by
 * further coalesced packets. `short_dcid_len` is the length of the connection
 * IDs this endpoint issued (short headers carry no length).
 * Returns the packet's total length, or:
 *   SKIFF_ERR_TRUNCATED            the datagram ends inside the header or the packet
 *   SKIFF_ERR_INVALID_PACKET       fixed bit 0, a CID over 20 bytes, a bad VN list
 *   SKIFF_ERR_UNSUPPORTED_VERSION  a long header of another version: type, version,
 *                                  dcid and scid are set so the server can answer
 *                                  with Version Negotiation (RFC 9000 §6.1)
 * Any error means the packet (and the rest of the datagram) is dropped.
 */
skiff_ssize skiff_packet_header_decode(skiff_packet_header *h, const uint8_t *p, size_t len,
                                       size_t short_dcid_len, unsigned flags);

/*
 * Writes the header of h->type up to and including a pn_len-byte packet
 * number (Initial, 0-RTT, Handshake, 1-RTT), with the Length field in two
 * bytes when h->length < 16384 (so the builder can patch it) and four
 * otherwise. Sets h->length_offset and h->pn_offset. Returns the header
 * length, SKIFF_ERR_BUFFER_TOO_SMALL, or SKIFF_ERR_INVALID_ARGUMENT.
 */
skiff_ssize skiff_packet_header_encode(uint8_t *out, size_t cap, skiff_packet_header *h,
                                       uint64_t pn, size_t pn_len);

/* Rewrites a Length field written by skiff_packet_header_encode in the same width.
 * Returns 0, or SKIFF_ERR_INVALID_ARGUMENT when the value does not fit it. */
int skiff_packet_header_patch_length(uint8_t *pkt, const skiff_packet_header *h, uint64_t length);

/*
 * Writes a Version Negotiation packet (RFC 9000 §17.2.1) answering a packet
 * whose connection IDs were dcid/scid: ours are theirs swapped. The unused
 * bits of the first byte come from `random_bits` (the core reads no random
 * source itself). Returns the packet length or an error.
 */
skiff_ssize skiff_version_negotiation_encode(uint8_t *out, size_t cap, const uint8_t *dcid,
                                             size_t dcid_len, const uint8_t *scid,
                                             size_t scid_len, const uint32_t *versions,
                                             size_t versions_count, uint8_t random_bits);

/* The i-th version of a decoded Version Negotiation packet. */
uint32_t skiff_version_negotiation_version(const skiff_packet_header *h, size_t i);

/*
 * Writes a Retry packet (RFC 9000 §17.2.5) without its integrity tag: the
 * caller appends the tag that packet_protection computes over these bytes.
 * Uses h->version, dcid, scid and token. Returns the length written.
 */
skiff_ssize skiff_retry_encode(uint8_t *out, size_t cap, const skiff_packet_header *h,
                               uint8_t random_bits);

/* True for the versions skiff speaks. */
bool skiff_version_supported(uint32_t version);

/* True for versions of the form 0x?a?a?a?a reserved to exercise negotiation
 * (RFC 9000 §15). */
bool skiff_version_is_grease(uint32_t version);

/* The packet-number length (1..4) from a first byte whose protection is removed. */
static inline size_t skiff_pn_len_from_first(uint8_t first)
{
    return (size_t)(first & 0x03) + 1;
}

/*
 * RFC 9000 §17.2 / §17.3.1: the reserved bits must be zero once header
 * protection is removed. Returns 0 or SKIFF_ERR_PROTOCOL_VIOLATION.
 */
int skiff_packet_check_reserved_bits(uint8_t unprotected_first, bool long_header);

/*
 * How many bytes to encode `pn` in, given the largest packet number the peer
 * has acknowledged (SKIFF_PN_NONE if none): enough for twice the packets in
 * flight (RFC 9000 §17.1, Appendix A.2). 1..4.
 */
size_t skiff_pn_encode_len(uint64_t pn, uint64_t largest_acked);

/*
 * Recovers a full packet number from its truncated `pn_len`-byte form and the
 * largest packet number received in the space (SKIFF_PN_NONE if none), per
 * RFC 9000 Appendix A.3.
 */
uint64_t skiff_pn_decode(uint64_t largest_received, uint64_t truncated, size_t pn_len);

/*
 * Iterates over the packets coalesced in one datagram (RFC 9000 §12.2).
 * Packets after the first whose Destination Connection ID differs are
 * ignored, as §12.2 recommends.
 */
typedef struct skiff_datagram_iter {
    const uint8_t *pos;
    const uint8_t *end;
    const uint8_t *first_dcid;
    uint8_t first_dcid_len;
    bool started;
    size_t short_dcid_len;
    unsigned flags;
} skiff_datagram_iter;

void skiff_datagram_iter_init(skiff_datagram_iter *it, const uint8_t *dgram, size_t len,
                              size_t short_dcid_len, unsigned flags);

/*
 * Decodes the next packet's header into h and points *pkt at its bytes.
 * Returns its length; 0 when the datagram is done (including when the rest is
 * a packet of another connection ID); or a negative decode error, after which
 * the rest of the datagram is dropped.
 */
skiff_ssize skiff_datagram_iter_next(skiff_datagram_iter *it, skiff_packet_header *h,
                                     const uint8_t **pkt);

/* "Initial", "0-RTT", "Handshake", "Retry", "1-RTT", "Version Negotiation". */
const char *skiff_packet_type_name(skiff_packet_type type);

#endif
