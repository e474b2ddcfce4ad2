/*
 * The ACK frame (RFC 9000 §19.3): decoding with full validation, iteration
 * over the acknowledged intervals, and encoding from the intervals that ACK
 * tracking holds, within a byte budget.
 *
 *   ACK Frame {                     ACK Range {
 *     Type (i) = 0x02..0x03,          Gap (i),
 *     Largest Acknowledged (i),       ACK Range Length (i),
 *     ACK Delay (i),                }
 *     ACK Range Count (i),
 *     First ACK Range (i),          ECN Counts {
 *     ACK Range (..) ...,             ECT0 Count (i),
 *     [ECN Counts (..)],              ECT1 Count (i),
 *   }                                 ECN-CE Count (i),
 *                                   }
 *
 * Intervals run downwards (§19.3.1): the first is
 *   [largest - first_range, largest]
 * and each range after it is
 *   largest_i  = smallest_{i-1} - gap - 2
 *   smallest_i = largest_i - range_length
 * The "- 2" is because two intervals are never adjacent: gap 0 leaves one
 * unacknowledged packet between them.
 *
 * The decoder walks every range once to check that no packet number goes
 * below zero (§19.3.1: "If any computed packet number is negative, an
 * endpoint MUST generate a connection error of type FRAME_ENCODING_ERROR"),
 * and keeps the ranges as wire bytes: the iterator walks them again, which
 * costs less than storing intervals the frame already describes.
 */
#include <string.h>

#include "common/varint.h"
#include "common/wire.h"
#include "quic/frame.h"

static inline bool get(skiff_reader *r, uint64_t *v)
{
    return skiff_reader_varint(r, v) == 0;
}

int skiff_frame_ack_decode_body(skiff_reader *r, bool ecn, skiff_frame_ack *f)
{
    if (!get(r, &f->largest) || !get(r, &f->ack_delay) || !get(r, &f->range_count) ||
        !get(r, &f->first_range))
        return SKIFF_ERR_FRAME_ENCODING;
    if (f->first_range > f->largest) return SKIFF_ERR_FRAME_ENCODING; /* §19.3.1 */
    /* Each Gap/ACK Range pair takes at least two bytes, so a count beyond half
     * of what is left can only be a truncated frame: reject it before looping
     * on a count the peer chose. */
    if (f->range_count > skiff_reader_left(r) / 2) return SKIFF_ERR_FRAME_ENCODING;

    uint64_t smallest = f->largest - f->first_range;
    const uint8_t *start = r->pos;
    for (uint64_t i = 0; i < f->range_count; i++) {
        uint64_t gap, len;
        if (!get(r, &gap) || !get(r, &len)) return SKIFF_ERR_FRAME_ENCODING;
        /* largest_i = smallest - gap - 2 must not be negative, nor
         * largest_i - len (§19.3.1). gap + 2 cannot wrap: gap < 2^62. */
        if (gap + 2 > smallest) return SKIFF_ERR_FRAME_ENCODING;
        uint64_t largest = smallest - gap - 2;
        if (len > largest) return SKIFF_ERR_FRAME_ENCODING;
        smallest = largest - len;
    }
    f->ranges = start;
    f->ranges_len = (size_t)(r->pos - start);
    f->smallest = smallest;
    f->has_ecn = ecn;
    if (ecn) {
        /* §19.3.2 */
        if (!get(r, &f->ecn.ect0) || !get(r, &f->ecn.ect1) || !get(r, &f->ecn.ce))
            return SKIFF_ERR_FRAME_ENCODING;
    } else {
        f->ecn.ect0 = f->ecn.ect1 = f->ecn.ce = 0;
    }
    return 0;
}

void skiff_frame_ack_iter_init(skiff_frame_ack_iter *it, const skiff_frame_ack *ack)
{
    it->pos = ack->ranges;
    it->end = ack->ranges + ack->ranges_len;
    it->left = ack->range_count;
    it->largest = ack->largest;
    it->first = ack->first_range;
    it->smallest = 0;
    it->started = false;
}

bool skiff_frame_ack_iter_next(skiff_frame_ack_iter *it, skiff_frame_ack_interval *iv)
{
    if (!it->started) {
        if (it->first > it->largest) return false;
        it->started = true;
        it->smallest = it->largest - it->first;
        iv->largest = it->largest;
        iv->smallest = it->smallest;
        return true;
    }
    if (it->left == 0) return false;
    /* A decoded ACK was validated; the checks below only keep a hand-built
     * one from reading past its bytes or wrapping around. */
    skiff_reader r = {it->pos, it->end};
    uint64_t gap, len;
    if (!get(&r, &gap) || !get(&r, &len) || gap + 2 > it->smallest) return false;
    uint64_t largest = it->smallest - gap - 2;
    if (len > largest) return false;
    it->pos = r.pos;
    it->left--;
    it->smallest = largest - len;
    iv->largest = largest;
    iv->smallest = it->smallest;
    return true;
}

static inline size_t ecn_size(const skiff_frame_ecn_counts *ecn)
{
    return skiff_varint_len(ecn->ect0) + skiff_varint_len(ecn->ect1) + skiff_varint_len(ecn->ce);
}

static inline uint8_t *put_ecn(uint8_t *p, const skiff_frame_ecn_counts *ecn)
{
    p = skiff_varint_encode(p, ecn->ect0);
    p = skiff_varint_encode(p, ecn->ect1);
    return skiff_varint_encode(p, ecn->ce);
}

skiff_ssize skiff_frame_ack_encode(uint8_t *out, size_t cap, const skiff_frame_ack *f)
{
    uint64_t all = f->largest | f->ack_delay | f->range_count | f->first_range;
    if (f->has_ecn) all |= f->ecn.ect0 | f->ecn.ect1 | f->ecn.ce;
    if (all > SKIFF_VARINT_MAX || f->first_range > f->largest) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t size = 1 + skiff_varint_len(f->largest) + skiff_varint_len(f->ack_delay) +
                  skiff_varint_len(f->range_count) + skiff_varint_len(f->first_range) +
                  f->ranges_len + (f->has_ecn ? ecn_size(&f->ecn) : 0);
    if (!out) return (skiff_ssize)size;
    if (size > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    uint8_t *p = out;
    *p++ = f->has_ecn ? SKIFF_FRAME_ACK_ECN : SKIFF_FRAME_ACK;
    p = skiff_varint_encode(p, f->largest);
    p = skiff_varint_encode(p, f->ack_delay);
    p = skiff_varint_encode(p, f->range_count);
    p = skiff_varint_encode(p, f->first_range);
    if (f->ranges_len) memcpy(p, f->ranges, f->ranges_len);
    p += f->ranges_len;
    if (f->has_ecn) put_ecn(p, &f->ecn);
    return (skiff_ssize)size;
}

/*
 * Two passes: the first counts how many intervals fit in `cap` (the Range
 * Count field grows with that count, so it is accounted for as it goes), the
 * second writes them. Only the intervals considered are validated; the ones
 * past the budget are not looked at, so the cost follows the output.
 */
skiff_ssize skiff_frame_ack_encode_intervals(uint8_t *out, size_t cap,
                                             const skiff_frame_ack_interval *iv, size_t n,
                                             uint64_t ack_delay, const skiff_frame_ecn_counts *ecn,
                                             size_t *written)
{
    if (n == 0 || iv[0].largest > SKIFF_VARINT_MAX || iv[0].smallest > iv[0].largest ||
        ack_delay > SKIFF_VARINT_MAX)
        return SKIFF_ERR_INVALID_ARGUMENT;
    if (ecn && (ecn->ect0 | ecn->ect1 | ecn->ce) > SKIFF_VARINT_MAX)
        return SKIFF_ERR_INVALID_ARGUMENT;

    size_t fixed = 1 + skiff_varint_len(iv[0].largest) + skiff_varint_len(ack_delay) +
                   skiff_varint_len(iv[0].largest - iv[0].smallest) + (ecn ? ecn_size(ecn) : 0);
    if (fixed + 1 > cap) return SKIFF_ERR_BUFFER_TOO_SMALL; /* + a Range Count of 0 */

    size_t count = 0, ranges = 0;
    for (size_t i = 1; i < n; i++) {
        /* Descending, disjoint and not adjacent: at least one packet between
         * two intervals, or the Gap would be negative. */
        if (iv[i].smallest > iv[i].largest || iv[i - 1].smallest < 2 ||
            iv[i].largest > iv[i - 1].smallest - 2)
            return SKIFF_ERR_INVALID_ARGUMENT;
        uint64_t gap = iv[i - 1].smallest - iv[i].largest - 2;
        uint64_t len = iv[i].largest - iv[i].smallest;
        size_t add = skiff_varint_len(gap) + skiff_varint_len(len);
        if (fixed + skiff_varint_len(count + 1) + ranges + add > cap) break;
        count++;
        ranges += add;
    }

    size_t size = fixed + skiff_varint_len(count) + ranges;
    if (written) *written = count + 1;
    if (!out) return (skiff_ssize)size;
    uint8_t *p = out;
    *p++ = ecn ? SKIFF_FRAME_ACK_ECN : SKIFF_FRAME_ACK;
    p = skiff_varint_encode(p, iv[0].largest);
    p = skiff_varint_encode(p, ack_delay);
    p = skiff_varint_encode(p, count);
    p = skiff_varint_encode(p, iv[0].largest - iv[0].smallest);
    for (size_t i = 1; i <= count; i++) {
        p = skiff_varint_encode(p, iv[i - 1].smallest - iv[i].largest - 2);
        p = skiff_varint_encode(p, iv[i].largest - iv[i].smallest);
    }
    if (ecn) put_ecn(p, ecn);
    return (skiff_ssize)size;
}
