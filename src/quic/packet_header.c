/*
 * QUIC packet headers: RFC 9000 §17 (long and short headers, Version
 * Negotiation, Retry), §12.2 (coalesced packets), §17.1 and Appendix A
 * (packet-number encoding), RFC 8999 (the version-independent invariants),
 * RFC 9369 §3.2 (QUIC v2's long-header packet types).
 *
 * Nothing here decrypts: header protection hides the low bits of the first
 * byte and the packet number, so decoding stops at pn_offset.
 */
#include "quic/packet_header.h"

#include <string.h>

#include "common/wire.h"

/* Long-header packet type on the wire (the TT bits) for each version. */
static int long_type_bits(uint32_t version, skiff_packet_type type)
{
    static const int v1[] = {[SKIFF_PKT_INITIAL] = 0,
                             [SKIFF_PKT_0RTT] = 1,
                             [SKIFF_PKT_HANDSHAKE] = 2,
                             [SKIFF_PKT_RETRY] = 3};
    static const int v2[] = {[SKIFF_PKT_INITIAL] = 1, /* RFC 9369 §3.2 */
                             [SKIFF_PKT_0RTT] = 2,
                             [SKIFF_PKT_HANDSHAKE] = 3,
                             [SKIFF_PKT_RETRY] = 0};
    if (type > SKIFF_PKT_RETRY) return -1;
    return version == SKIFF_QUIC_V2 ? v2[type] : v1[type];
}

static skiff_packet_type long_type_from_bits(uint32_t version, unsigned bits)
{
    static const skiff_packet_type v1[] = {SKIFF_PKT_INITIAL, SKIFF_PKT_0RTT, SKIFF_PKT_HANDSHAKE,
                                           SKIFF_PKT_RETRY};
    static const skiff_packet_type v2[] = {SKIFF_PKT_RETRY, SKIFF_PKT_INITIAL, SKIFF_PKT_0RTT,
                                           SKIFF_PKT_HANDSHAKE};
    return version == SKIFF_QUIC_V2 ? v2[bits & 3] : v1[bits & 3];
}

bool skiff_version_supported(uint32_t version)
{
    return version == SKIFF_QUIC_V1 || version == SKIFF_QUIC_V2;
}

bool skiff_version_is_grease(uint32_t version)
{
    return (version & 0x0f0f0f0fu) == 0x0a0a0a0au;
}

const char *skiff_packet_type_name(skiff_packet_type type)
{
    switch (type) {
    case SKIFF_PKT_INITIAL: return "Initial";
    case SKIFF_PKT_0RTT: return "0-RTT";
    case SKIFF_PKT_HANDSHAKE: return "Handshake";
    case SKIFF_PKT_RETRY: return "Retry";
    case SKIFF_PKT_1RTT: return "1-RTT";
    case SKIFF_PKT_VERSION_NEGOTIATION: return "Version Negotiation";
    }
    return "unknown";
}

/* A length-prefixed connection ID (RFC 9000 §17.2). */
static int read_cid(skiff_reader *r, size_t max, const uint8_t **cid, uint8_t *cid_len)
{
    uint8_t n;
    int rv = skiff_reader_u8(r, &n);
    if (rv) return rv;
    if (n > max) return SKIFF_ERR_INVALID_PACKET;
    *cid_len = n;
    return skiff_reader_bytes(r, n, cid);
}

static skiff_ssize decode_short(skiff_packet_header *h, const uint8_t *p, size_t len,
                                size_t short_dcid_len)
{
    /* RFC 9000 §17.3.1: the receiver knows the DCID length; the packet runs
     * to the end of the datagram. */
    if (len < 1 + short_dcid_len) return SKIFF_ERR_TRUNCATED;
    h->type = SKIFF_PKT_1RTT;
    h->version = 0;
    h->dcid = p + 1;
    h->dcid_len = (uint8_t)short_dcid_len;
    h->spin = (p[0] & SKIFF_SHORT_SPIN_BIT) != 0;
    h->pn_offset = 1 + short_dcid_len;
    h->packet_len = len;
    return (skiff_ssize)len;
}

static skiff_ssize decode_version_negotiation(skiff_packet_header *h, skiff_reader *r,
                                              size_t len)
{
    /* RFC 9000 §17.2.1: a list of 32-bit versions to the end of the datagram. */
    size_t rest = skiff_reader_left(r);
    if (rest == 0 || rest % 4 != 0) return SKIFF_ERR_INVALID_PACKET;
    h->type = SKIFF_PKT_VERSION_NEGOTIATION;
    h->versions = r->pos;
    h->versions_count = rest / 4;
    h->packet_len = len;
    return (skiff_ssize)len;
}

static skiff_ssize decode_retry(skiff_packet_header *h, skiff_reader *r, const uint8_t *p,
                                size_t len)
{
    /* RFC 9000 §17.2.5: token to the end, less the 16-byte integrity tag. A
     * Retry with an empty token is invalid (§17.2.5.2). */
    size_t rest = skiff_reader_left(r);
    if (rest <= SKIFF_RETRY_TAG_LEN) return SKIFF_ERR_INVALID_PACKET;
    h->token = r->pos;
    h->token_len = rest - SKIFF_RETRY_TAG_LEN;
    h->retry_tag = p + len - SKIFF_RETRY_TAG_LEN;
    h->packet_len = len;
    return (skiff_ssize)len;
}

static skiff_ssize decode_long(skiff_packet_header *h, const uint8_t *p, size_t len,
                               unsigned flags)
{
    skiff_reader r = skiff_reader_make(p + 1, len - 1);
    uint32_t version;
    int rv = skiff_reader_u32(&r, &version);
    if (rv) return rv;
    h->version = version;

    /* RFC 8999 §5.1: any version may carry CIDs of up to 255 bytes, and a
     * server needs them to answer with Version Negotiation. */
    bool known = skiff_version_supported(version);
    size_t max_cid = known ? SKIFF_MAX_CID_LEN : SKIFF_INVARIANT_MAX_CID_LEN;
    if ((rv = read_cid(&r, max_cid, &h->dcid, &h->dcid_len)) ||
        (rv = read_cid(&r, max_cid, &h->scid, &h->scid_len)))
        return rv;

    if (version == 0) return decode_version_negotiation(h, &r, len);
    if (!known) {
        h->type = SKIFF_PKT_INITIAL; /* unknown: only the invariants mean anything */
        return SKIFF_ERR_UNSUPPORTED_VERSION;
    }
    /* RFC 9000 §17.2: packets with the fixed bit 0 are not valid in v1/v2,
     * unless the peer negotiated greasing it (RFC 9287). */
    if (!(p[0] & SKIFF_HEADER_FIXED_BIT) && !(flags & SKIFF_HDR_ALLOW_ZERO_FIXED_BIT))
        return SKIFF_ERR_INVALID_PACKET;

    h->type = long_type_from_bits(version, (p[0] >> 4) & 3);
    if (h->type == SKIFF_PKT_RETRY) return decode_retry(h, &r, p, len);

    if (h->type == SKIFF_PKT_INITIAL) {
        uint64_t token_len;
        if ((rv = skiff_reader_varint(&r, &token_len))) return rv;
        if (token_len > skiff_reader_left(&r)) return SKIFF_ERR_TRUNCATED;
        h->token_len = (size_t)token_len;
        skiff_reader_bytes(&r, h->token_len, &h->token);
    }
    h->length_offset = (size_t)(r.pos - p);
    if ((rv = skiff_reader_varint(&r, &h->length))) return rv;
    if (h->length > skiff_reader_left(&r)) return SKIFF_ERR_TRUNCATED;
    h->pn_offset = (size_t)(r.pos - p);
    h->packet_len = h->pn_offset + (size_t)h->length;
    return (skiff_ssize)h->packet_len;
}

skiff_ssize skiff_packet_header_decode(skiff_packet_header *h, const uint8_t *p, size_t len,
                                       size_t short_dcid_len, unsigned flags)
{
    memset(h, 0, sizeof *h);
    if (len == 0) return SKIFF_ERR_TRUNCATED;
    if (short_dcid_len > SKIFF_MAX_CID_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
    h->first_byte = p[0];
    if (!(p[0] & SKIFF_HEADER_FORM_LONG)) {
        if (!(p[0] & SKIFF_HEADER_FIXED_BIT) && !(flags & SKIFF_HDR_ALLOW_ZERO_FIXED_BIT))
            return SKIFF_ERR_INVALID_PACKET;
        return decode_short(h, p, len, short_dcid_len);
    }
    return decode_long(h, p, len, flags);
}

static int write_cid(skiff_writer *w, const uint8_t *cid, size_t len)
{
    if (len > SKIFF_MAX_CID_LEN || (len && !cid)) return SKIFF_ERR_INVALID_ARGUMENT;
    int rv = skiff_writer_u8(w, (uint8_t)len);
    return rv ? rv : skiff_writer_bytes(w, cid, len);
}

static int write_pn(skiff_writer *w, uint64_t pn, size_t pn_len)
{
    if (skiff_writer_left(w) < pn_len) return SKIFF_ERR_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < pn_len; i++) w->pos[i] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
    w->pos += pn_len;
    return 0;
}

static int write_long_prefix(skiff_writer *w, const skiff_packet_header *h, uint8_t low_bits)
{
    int type_bits = long_type_bits(h->version, h->type);
    if (type_bits < 0 || !skiff_version_supported(h->version)) return SKIFF_ERR_INVALID_ARGUMENT;
    uint8_t first = (uint8_t)(SKIFF_HEADER_FORM_LONG | SKIFF_HEADER_FIXED_BIT | type_bits << 4 |
                              (low_bits & 0x0f));
    int rv;
    if ((rv = skiff_writer_u8(w, first)) || (rv = skiff_writer_u32(w, h->version)) ||
        (rv = write_cid(w, h->dcid, h->dcid_len)) || (rv = write_cid(w, h->scid, h->scid_len)))
        return rv;
    return 0;
}

skiff_ssize skiff_packet_header_encode(uint8_t *out, size_t cap, skiff_packet_header *h,
                                       uint64_t pn, size_t pn_len)
{
    if (pn_len < 1 || pn_len > 4 || pn > SKIFF_PN_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_writer w = skiff_writer_make(out, cap);
    int rv;
    if (h->type == SKIFF_PKT_1RTT) {
        if (h->dcid_len > SKIFF_MAX_CID_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
        uint8_t first = (uint8_t)(SKIFF_HEADER_FIXED_BIT | (h->spin ? SKIFF_SHORT_SPIN_BIT : 0) |
                                  (h->key_phase ? SKIFF_SHORT_KEY_PHASE : 0) | (pn_len - 1));
        if ((rv = skiff_writer_u8(&w, first)) || (rv = skiff_writer_bytes(&w, h->dcid, h->dcid_len)))
            return rv;
    } else {
        if (h->type != SKIFF_PKT_INITIAL && h->type != SKIFF_PKT_0RTT &&
            h->type != SKIFF_PKT_HANDSHAKE)
            return SKIFF_ERR_INVALID_ARGUMENT;
        if ((rv = write_long_prefix(&w, h, (uint8_t)(pn_len - 1)))) return rv;
        if (h->type == SKIFF_PKT_INITIAL) {
            if ((rv = skiff_writer_varint(&w, h->token_len)) ||
                (rv = skiff_writer_bytes(&w, h->token, h->token_len)))
                return rv;
        }
        /* Two bytes cover every packet up to 16383 bytes, so the builder can
         * patch the Length after filling the payload without moving it. */
        size_t width = h->length < 16384 ? 2 : 4;
        if (h->length >= (UINT64_C(1) << 30)) return SKIFF_ERR_INVALID_ARGUMENT;
        if (skiff_writer_left(&w) < width) return SKIFF_ERR_BUFFER_TOO_SMALL;
        h->length_offset = (size_t)(w.pos - out);
        w.pos = skiff_varint_encode_len(w.pos, h->length, width);
    }
    h->pn_offset = (size_t)(w.pos - out);
    if ((rv = write_pn(&w, pn, pn_len))) return rv;
    h->first_byte = out[0];
    return w.pos - out;
}

int skiff_packet_header_patch_length(uint8_t *pkt, const skiff_packet_header *h, uint64_t length)
{
    size_t width = skiff_varint_len_from_first(pkt[h->length_offset]);
    if (skiff_varint_len(length) > width) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_varint_encode_len(pkt + h->length_offset, length, width);
    return 0;
}

skiff_ssize skiff_version_negotiation_encode(uint8_t *out, size_t cap, const uint8_t *dcid,
                                             size_t dcid_len, const uint8_t *scid,
                                             size_t scid_len, const uint32_t *versions,
                                             size_t versions_count, uint8_t random_bits)
{
    /* RFC 9000 §17.2.1: CIDs up to 255 bytes (echoing any version's), type
     * bits unused and random, version 0. */
    if (dcid_len > SKIFF_INVARIANT_MAX_CID_LEN || scid_len > SKIFF_INVARIANT_MAX_CID_LEN ||
        versions_count == 0)
        return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_writer w = skiff_writer_make(out, cap);
    int rv;
    if ((rv = skiff_writer_u8(&w, (uint8_t)(SKIFF_HEADER_FORM_LONG | random_bits))) ||
        (rv = skiff_writer_u32(&w, 0)) || (rv = skiff_writer_u8(&w, (uint8_t)dcid_len)) ||
        (rv = skiff_writer_bytes(&w, dcid, dcid_len)) ||
        (rv = skiff_writer_u8(&w, (uint8_t)scid_len)) ||
        (rv = skiff_writer_bytes(&w, scid, scid_len)))
        return rv;
    for (size_t i = 0; i < versions_count; i++)
        if ((rv = skiff_writer_u32(&w, versions[i]))) return rv;
    return w.pos - out;
}

uint32_t skiff_version_negotiation_version(const skiff_packet_header *h, size_t i)
{
    const uint8_t *v = h->versions + 4 * i;
    return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

skiff_ssize skiff_retry_encode(uint8_t *out, size_t cap, const skiff_packet_header *h,
                               uint8_t random_bits)
{
    if (h->token_len == 0) return SKIFF_ERR_INVALID_ARGUMENT; /* §17.2.5 */
    skiff_packet_header retry = *h;
    retry.type = SKIFF_PKT_RETRY;
    skiff_writer w = skiff_writer_make(out, cap);
    int rv;
    if ((rv = write_long_prefix(&w, &retry, random_bits)) ||
        (rv = skiff_writer_bytes(&w, h->token, h->token_len)))
        return rv;
    return w.pos - out;
}

int skiff_packet_check_reserved_bits(uint8_t unprotected_first, bool long_header)
{
    uint8_t reserved = long_header ? SKIFF_LONG_RESERVED : SKIFF_SHORT_RESERVED;
    return (unprotected_first & reserved) ? SKIFF_ERR_PROTOCOL_VIOLATION : 0;
}

size_t skiff_pn_encode_len(uint64_t pn, uint64_t largest_acked)
{
    /* Appendix A.2: room for more than twice the unacknowledged range. */
    uint64_t unacked = largest_acked == SKIFF_PN_NONE ? pn + 1 : pn - largest_acked;
    uint64_t range = 2 * unacked;
    if (range < (UINT64_C(1) << 8)) return 1;
    if (range < (UINT64_C(1) << 16)) return 2;
    if (range < (UINT64_C(1) << 24)) return 3;
    return 4;
}

uint64_t skiff_pn_decode(uint64_t largest_received, uint64_t truncated, size_t pn_len)
{
    /* Appendix A.3: the candidate closest to the next expected number. */
    uint64_t expected = largest_received == SKIFF_PN_NONE ? 0 : largest_received + 1;
    uint64_t win = UINT64_C(1) << (8 * pn_len);
    uint64_t hwin = win / 2;
    uint64_t mask = win - 1;
    uint64_t candidate = (expected & ~mask) | truncated;
    if (candidate + hwin <= expected && candidate < (UINT64_C(1) << 62) - win)
        return candidate + win;
    if (candidate > expected + hwin && candidate >= win) return candidate - win;
    return candidate;
}

void skiff_datagram_iter_init(skiff_datagram_iter *it, const uint8_t *dgram, size_t len,
                              size_t short_dcid_len, unsigned flags)
{
    memset(it, 0, sizeof *it);
    it->pos = dgram;
    it->end = dgram + len;
    it->short_dcid_len = short_dcid_len;
    it->flags = flags;
}

skiff_ssize skiff_datagram_iter_next(skiff_datagram_iter *it, skiff_packet_header *h,
                                     const uint8_t **pkt)
{
    if (it->pos == it->end) return 0;
    skiff_ssize n = skiff_packet_header_decode(h, it->pos, (size_t)(it->end - it->pos),
                                               it->short_dcid_len, it->flags);
    if (n < 0) {
        it->pos = it->end;
        return n;
    }
    if (!it->started) {
        it->started = true;
        it->first_dcid = h->dcid;
        it->first_dcid_len = h->dcid_len;
    } else if (h->dcid_len != it->first_dcid_len ||
               memcmp(h->dcid, it->first_dcid, h->dcid_len) != 0) {
        it->pos = it->end; /* §12.2: ignore packets for another connection ID */
        return 0;
    }
    *pkt = it->pos;
    it->pos += n;
    return n;
}
