/*
 * Token-bucket pacer (RFC 9002 §7.7). See pacer.h for the model.
 *
 * Overflow: refill = elapsed * 5 * cwnd / (4 * srtt). Elapsed time is first
 * compared with the time the bucket takes to fill (which is bounded because
 * the bucket is small), and only a shorter time is multiplied out; srtt and
 * cwnd are clamped to values no connection reaches (PACE_SRTT_MAX,
 * PACE_CWND_MAX) so every product fits in 64 bits.
 */
#include "cc/pacer.h"

#define PACE_SRTT_MAX SKIFF_MS(60000)     /* 2^36 ns */
#define PACE_CWND_MAX (UINT64_C(1) << 40) /* 1 TiB */

void skiff_pacer_init(skiff_pacer *p, uint64_t max_datagram_size, uint32_t burst_packets,
                      skiff_time now)
{
    p->burst_packets = burst_packets ? burst_packets : SKIFF_PACER_BURST_PACKETS;
    p->max_datagram_size = 0;
    skiff_pacer_set_max_datagram_size(p, max_datagram_size ? max_datagram_size : 1200);
    p->tokens = p->burst;
    p->last = now;
}

void skiff_pacer_set_max_datagram_size(skiff_pacer *p, uint64_t mds)
{
    if (!mds) return;
    if (mds > 65527) mds = 65527; /* the largest UDP payload: keeps burst small */
    p->max_datagram_size = mds;
    p->burst = (uint64_t)p->burst_packets * mds;
    if (p->tokens > p->burst) p->tokens = p->burst;
}

static void clamp(uint64_t *cwnd, skiff_time *srtt)
{
    if (*cwnd > PACE_CWND_MAX) *cwnd = PACE_CWND_MAX;
    if (*srtt > PACE_SRTT_MAX) *srtt = PACE_SRTT_MAX;
}

uint64_t skiff_pacer_rate(uint64_t cwnd, skiff_time srtt)
{
    if (!cwnd || !srtt) return 0;
    clamp(&cwnd, &srtt);
    /* bytes/s = 5/4 * cwnd / (srtt / 1e9); 5 * 2^40 * 1e9 would overflow, so
     * divide first when the window is large. */
    if (cwnd > (UINT64_C(1) << 30))
        return cwnd / srtt * SKIFF_PACER_N_NUM * 1000000000u / SKIFF_PACER_N_DEN;
    return cwnd * SKIFF_PACER_N_NUM * 1000000000u / (SKIFF_PACER_N_DEN * srtt);
}

/* Nanoseconds to earn `bytes` tokens at the pacing rate, rounded up. */
static skiff_time time_for(uint64_t bytes, uint64_t cwnd, skiff_time srtt)
{
    uint64_t num = bytes * SKIFF_PACER_N_DEN * srtt, den = SKIFF_PACER_N_NUM * cwnd;
    return (num + den - 1) / den;
}

/* The tokens held at `now` (not above the bucket). */
static uint64_t tokens_at(const skiff_pacer *p, uint64_t cwnd, skiff_time srtt, skiff_time now)
{
    if (p->tokens >= p->burst) return p->burst;
    skiff_time elapsed = now > p->last ? now - p->last : 0;
    if (elapsed >= time_for(p->burst - p->tokens, cwnd, srtt)) return p->burst;
    uint64_t earned = elapsed * SKIFF_PACER_N_NUM * cwnd / (SKIFF_PACER_N_DEN * srtt);
    uint64_t t = p->tokens + earned;
    return t < p->burst ? t : p->burst;
}

skiff_time skiff_pacer_next_send_time(const skiff_pacer *p, uint64_t cwnd, skiff_time smoothed_rtt,
                                      uint64_t bytes, skiff_time now)
{
    if (!cwnd || !smoothed_rtt) return now;
    clamp(&cwnd, &smoothed_rtt);
    if (bytes > p->burst) bytes = p->burst;
    if (p->tokens >= bytes) return now;
    /* Measured from `last`, where the token count is exact. */
    skiff_time ready = p->last + time_for(bytes - p->tokens, cwnd, smoothed_rtt);
    return ready > now ? ready : now;
}

void skiff_pacer_on_sent(skiff_pacer *p, uint64_t cwnd, skiff_time smoothed_rtt, uint64_t bytes,
                         skiff_time now)
{
    if (!cwnd || !smoothed_rtt) {
        p->tokens = p->burst; /* no pacing: nothing to hold back later */
        p->last = now;
        return;
    }
    clamp(&cwnd, &smoothed_rtt);
    uint64_t have = tokens_at(p, cwnd, smoothed_rtt, now);
    p->tokens = have > bytes ? have - bytes : 0;
    if (now > p->last) p->last = now;
}
