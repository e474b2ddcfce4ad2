/*
 * SYN cookies, RFC 4987 §3.6: the time counter, MSS index and keyed hash
 * layout described in syncookie.h. The hash is SipHash-2-4 over a tag byte
 * (so a key shared with the ISN generator still gives unrelated values), the
 * full 32-bit period counter, the MSS index, the peer's ISN and the 4-tuple.
 */
#include "tcp/syncookie.h"

#include "common/siphash.h"
#include "tcp/isn.h"

#define COOKIE_TAG 'C'
#define HASH_MASK 0x00ffffffu

/* Common MSS values, ascending: the IPv4 default (RFC 9293 §3.7.1), the IPv6
 * default (1280 - 60), tunnels and VPNs, PPPoE over Ethernet (1492 - 40),
 * IPv6 over Ethernet (1500 - 60), IPv4 over Ethernet (1500 - 40). */
static const uint16_t mss_table[SKIFF_TCP_SYNCOOKIE_MSS_COUNT] = {536,  1220, 1300, 1360,
                                                                   1400, 1440, 1452, 1460};

uint16_t skiff_tcp_syncookie_mss(int index)
{
    if (index < 0 || index >= SKIFF_TCP_SYNCOOKIE_MSS_COUNT) return 0;
    return mss_table[index];
}

static uint32_t period(skiff_time now)
{
    return (uint32_t)(now / SKIFF_TCP_SYNCOOKIE_PERIOD);
}

static uint32_t cookie_for(const uint8_t key[SKIFF_TCP_SYNCOOKIE_KEY_LEN],
                           const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                           uint32_t peer_isn, unsigned mss_index, uint32_t t)
{
    uint8_t in[10 + SKIFF_TCP_TUPLE_MAX_LEN];
    in[0] = COOKIE_TAG;
    for (int i = 0; i < 4; i++) in[1 + i] = (uint8_t)(t >> (24 - 8 * i));
    in[5] = (uint8_t)mss_index;
    for (int i = 0; i < 4; i++) in[6 + i] = (uint8_t)(peer_isn >> (24 - 8 * i));
    size_t n = 10 + skiff_tcp_tuple_encode(in + 10, local, remote);
    uint32_t h = (uint32_t)skiff_siphash24(key, in, n) & HASH_MASK;
    return (t & 31u) << 27 | (uint32_t)mss_index << 24 | h;
}

uint32_t skiff_tcp_syncookie_make(const uint8_t key[SKIFF_TCP_SYNCOOKIE_KEY_LEN],
                                  const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                                  uint32_t peer_isn, uint16_t peer_mss, skiff_time now)
{
    unsigned index = 0;
    for (unsigned i = 1; i < SKIFF_TCP_SYNCOOKIE_MSS_COUNT; i++)
        if (mss_table[i] <= peer_mss) index = i;
    return cookie_for(key, local, remote, peer_isn, index, period(now));
}

int skiff_tcp_syncookie_check(const uint8_t key[SKIFF_TCP_SYNCOOKIE_KEY_LEN],
                              const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                              uint32_t peer_isn, uint32_t cookie, skiff_time now)
{
    uint32_t t = period(now);
    unsigned index = (cookie >> 24) & 7u;
    /* The current period or the one before; the 5 bits on the wire pick which. */
    for (uint32_t age = 0; age <= 1 && age <= t; age++) {
        uint32_t tc = t - age;
        if ((cookie >> 27) != (tc & 31u)) continue;
        if (cookie_for(key, local, remote, peer_isn, index, tc) == cookie) return (int)index;
    }
    return SKIFF_ERR_INVALID_PACKET;
}
