/*
 * The TCP segment codec (src/tcp/segment.c): the RFC 1071 checksum, parsing
 * whole IPv4 / IPv6 packets (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018, RFC 8200)
 * and building them.
 *
 * Packets for the bad-input cases are written by raw_v4 / raw_v6 below, an
 * encoder independent of the one under test, with checksums from the naive
 * reference sum.
 */
#include "tcp/segment.h"
#include "test.h"

/* ---- an independent reference: RFC 1071 §4.1, one byte pair at a time ---- */

/* The folded one's-complement sum of p[0..n), added to sum (not inverted). */
static uint16_t naive_sum(const uint8_t *p, size_t n, uint16_t start)
{
    uint64_t sum = start;
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint64_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint64_t)p[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* The TCP checksum field value for the segment at pkt + off (its checksum
 * field taken as zero), with the pseudo-header of the IP header at pkt. */
static uint16_t naive_tcp_checksum(const uint8_t *pkt, size_t off, size_t tcp_len)
{
    uint8_t ph[40] = {0};
    size_t phl;
    if (pkt[0] >> 4 == 4) {
        memcpy(ph, pkt + 12, 8);
        ph[9] = 6;
        ph[10] = (uint8_t)(tcp_len >> 8), ph[11] = (uint8_t)tcp_len;
        phl = 12;
    } else {
        memcpy(ph, pkt + 8, 32);
        ph[34] = (uint8_t)(tcp_len >> 8), ph[35] = (uint8_t)tcp_len;
        ph[39] = 6;
        phl = 40;
    }
    uint16_t s = naive_sum(ph, phl, 0);
    s = naive_sum(pkt + off, 16, s);
    s = naive_sum(pkt + off + 18, tcp_len - 18, s);
    return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Recomputes the IPv4 header checksum and the TCP checksum of a v4 packet. */
static void fix_v4(uint8_t *p)
{
    size_t ihl = (size_t)(p[0] & 15) * 4, total = (size_t)(p[2] << 8 | p[3]);
    put16(p + 10, 0);
    put16(p + 10, (uint16_t)~naive_sum(p, ihl, 0));
    if (total >= ihl + 18) put16(p + ihl + 16, naive_tcp_checksum(p, ihl, total - ihl));
}

static void fix_v6(uint8_t *p, size_t tcp_off)
{
    size_t end = 40 + (size_t)(p[4] << 8 | p[5]);
    if (end >= tcp_off + 18) put16(p + tcp_off + 16, naive_tcp_checksum(p, tcp_off, end - tcp_off));
}

static void put_tcp(uint8_t *t, const uint8_t *opts, size_t optlen, uint8_t flags, uint16_t urgent,
                    size_t payload_len)
{
    static const uint8_t fixed[12] = {0xb2, 0x6e, 0x1f, 0x90, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0};
    memcpy(t, fixed, 12); /* 45678 -> 8080, seq 1000, ack 2000 */
    t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    t[13] = flags;
    put16(t + 14, 512);
    put16(t + 16, 0);
    put16(t + 18, urgent);
    if (optlen) memcpy(t + 20, opts, optlen);
    for (size_t i = 0; i < payload_len; i++) t[20 + optlen + i] = (uint8_t)(i * 7 + 1);
}

/* 10.0.0.2:45678 -> 10.0.0.1:8080, raw option bytes (a multiple of 4). */
static size_t raw_v4(uint8_t *out, const uint8_t *opts, size_t optlen, uint8_t flags,
                     uint16_t urgent, size_t payload_len)
{
    static const uint8_t ip[20] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0,
                                   10, 0, 0, 2, 10, 0, 0, 1};
    size_t n = 20 + 20 + optlen + payload_len;
    memcpy(out, ip, 20);
    put16(out + 2, (uint16_t)n);
    put_tcp(out + 20, opts, optlen, flags, urgent, payload_len);
    fix_v4(out);
    return n;
}

/* fd00::2 -> fd00::1, with ext_len bytes of extension headers (first_next
 * names the first) before the TCP header. */
static size_t raw_v6(uint8_t *out, uint8_t first_next, const uint8_t *ext, size_t ext_len,
                     const uint8_t *opts, size_t optlen, uint8_t flags, uint16_t urgent,
                     size_t payload_len)
{
    uint8_t ip[40] = {0x60, 0, 0, 0, 0, 0, first_next, 64, 0xfd, [23] = 2, [24] = 0xfd, [39] = 1};
    size_t n = 40 + ext_len + 20 + optlen + payload_len;
    memcpy(out, ip, 40);
    put16(out + 4, (uint16_t)(n - 40));
    if (ext_len) memcpy(out + 40, ext, ext_len);
    put_tcp(out + 40 + ext_len, opts, optlen, flags, urgent, payload_len);
    fix_v6(out, 40 + ext_len);
    return n;
}

/* Parses a heap copy of exactly n bytes, so ASan sees any over-read. */
static int parse_exact(const uint8_t *p, size_t n, bool verify)
{
    uint8_t *e = test_dup_exact(p, n);
    skiff_tcp_segment seg;
    int r = skiff_tcp_segment_parse(&seg, e, n, verify);
    free(e);
    return r;
}

static uint64_t rng_state = 0x2545f4914f6cdd1du;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- checksum ---- */

static void checksum_matches_the_naive_sum(void)
{
    static uint8_t data[2000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)rng();
    int mismatches = 0;
    for (size_t len = 0; len <= sizeof data; len++) {
        for (size_t align = 0; align < 8; align += (len % 3) + 1) {
            /* Exactly align + len bytes, so a read past the data is caught. */
            uint8_t *block = malloc(align + len + 1);
            if (!block) abort();
            memcpy(block + align, data, len);
            uint16_t want = naive_sum(block + align, len, 0);
            uint8_t *exact = test_dup_exact(block, align + len);
            uint16_t got = skiff_tcp_csum_fold(skiff_tcp_csum_add(0, exact + align, len));
            if (got != want && mismatches++ == 0)
                fprintf(stderr, "  len %zu align %zu: %04x != %04x\n", len, align, got, want);
            free(exact);
            free(block);
        }
        /* In two pieces split at an even offset. */
        size_t cut = (len / 2) & ~(size_t)1;
        uint64_t s = skiff_tcp_csum_add(0, data, cut);
        s = skiff_tcp_csum_add(s, data + cut, len - cut);
        if (skiff_tcp_csum_fold(s) != naive_sum(data, len, 0) && mismatches++ == 0)
            fprintf(stderr, "  split at %zu of %zu\n", cut, len);
    }
    CHECK_EQ(mismatches, 0);

    /* The end-around carry: all ones never folds to zero, and zero stays zero. */
    uint8_t ones[1500];
    memset(ones, 0xff, sizeof ones);
    CHECK_EQ(skiff_tcp_csum_fold(skiff_tcp_csum_add(0, ones, sizeof ones)), 0xffff);
    CHECK_EQ(skiff_tcp_csum_fold(skiff_tcp_csum_add(0, ones, 1)), 0xff00);
    uint8_t zeros[64] = {0};
    CHECK_EQ(skiff_tcp_csum_fold(skiff_tcp_csum_add(0, zeros, sizeof zeros)), 0);
    /* RFC 1071 §3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(skiff_tcp_csum_fold(skiff_tcp_csum_add(0, rfc1071, 8)), 0xddf2);
}

/* ---- a SYN as Linux sends it ---- */

/*
 * 10.0.0.2:45678 -> 10.0.0.1:8080, identification 0x8f2e, DF, TTL 64; SYN,
 * seq 0x9c3e5a21, window 64240; options MSS 1460, SACK-permitted, timestamps
 * (TSval 0x003d1e5f, TSecr 0), NOP, window scale 7: 40 bytes of TCP header.
 *
 * IPv4 header checksum, by hand: 4500 + 003c + 8f2e + 4000 + 4006 + 0000 +
 * 0a00 + 0002 + 0a00 + 0001 = 0x16873; 0x6873 + 0x1 = 0x6874; ~ = 0x978b.
 * TCP checksum: pseudo-header 0a00 0002 0a00 0001 0006 0028 plus the 20
 * words of the segment (checksum 0) = 0x3adea; 0xadea + 0x3 = 0xaded;
 * ~ = 0x5212.
 */
static const char kernel_syn_v4[] =
    "4500003c8f2e40004006978b0a0000020a000001"
    "b26e1f909c3e5a2100000000a002faf052120000"
    "020405b40402080a003d1e5f0000000001030307";

/* fd00::2 -> fd00::1, flow label 0x3c4d5, hop limit 64; MSS 1440, window
 * 64800, seq 0x11223344; the same option layout. TCP checksum 0x1bee. */
static const char kernel_syn_v6[] =
    "6003c4d500280640fd000000000000000000000000000002fd000000000000000000000000000001"
    "b26e1f901122334400000000a002fd201bee0000"
    "020405a00402080a003d1e5f0000000001030307";

static void a_linux_syn_parses_and_rebuilds(void)
{
    uint8_t pkt[128], out[128];
    size_t n = test_hex(kernel_syn_v4, pkt, sizeof pkt);
    CHECK_EQ(n, 60);
    uint8_t *e = test_dup_exact(pkt, n);
    skiff_tcp_segment seg;
    CHECK_EQ(skiff_tcp_segment_parse(&seg, e, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.src.family, 4);
    CHECK_MEM(seg.src.ip, "\x0a\x00\x00\x02", 4);
    CHECK_MEM(seg.dst.ip, "\x0a\x00\x00\x01", 4);
    CHECK_EQ(seg.src.port, 45678);
    CHECK_EQ(seg.dst.port, 8080);
    CHECK_U64(seg.seq, 0x9c3e5a21);
    CHECK_U64(seg.ack, 0);
    CHECK_EQ(seg.flags, SKIFF_TCP_SYN);
    CHECK_EQ(seg.window, 64240);
    CHECK_EQ(seg.ttl, 64);
    CHECK(seg.opt.has_mss);
    CHECK_EQ(seg.opt.mss, 1460);
    CHECK(seg.opt.sack_permitted);
    CHECK(seg.opt.has_timestamps);
    CHECK_U64(seg.opt.ts_val, 0x003d1e5f);
    CHECK_U64(seg.opt.ts_ecr, 0);
    CHECK(seg.opt.has_wscale);
    CHECK_EQ(seg.opt.wscale, 7);
    CHECK_EQ(seg.opt.sack_count, 0);
    CHECK_EQ(seg.payload_len, 0);
    CHECK(seg.payload == e + 60);

    /* The checksums, by our code and by the reference, against the hand sums. */
    uint8_t hdr[20];
    memcpy(hdr, pkt, 20);
    hdr[10] = hdr[11] = 0;
    CHECK_EQ(skiff_tcp_csum_fold(skiff_tcp_csum_add(0, hdr, 20)), 0x6874);
    CHECK_EQ(naive_sum(hdr, 20, 0), 0x6874);
    CHECK_EQ(naive_tcp_checksum(pkt, 20, 40), 0x5212);
    static const uint8_t pseudo[12] = {10, 0, 0, 2, 10, 0, 0, 1, 0, 6, 0, 40};
    uint8_t tcp[40];
    memcpy(tcp, pkt + 20, 40);
    tcp[16] = tcp[17] = 0;
    uint64_t s = skiff_tcp_csum_add(skiff_tcp_csum_add(0, pseudo, 12), tcp, 40);
    CHECK_EQ(skiff_tcp_csum_fold(s), 0xaded);

    /* Rebuilt: equal but for the identification and so the header checksum. */
    skiff_ssize w = skiff_tcp_segment_build(out, sizeof out, &seg);
    CHECK_EQ(w, 60);
    CHECK_MEM(out, pkt, 4);
    CHECK_MEM(out + 6, pkt + 6, 4);
    CHECK_MEM(out + 12, pkt + 12, 48);
    pkt[4] = pkt[5] = 0;
    fix_v4(pkt);
    CHECK_MEM(out, pkt, 60);
    free(e);

    n = test_hex(kernel_syn_v6, pkt, sizeof pkt);
    CHECK_EQ(n, 80);
    e = test_dup_exact(pkt, n);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, e, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.src.family, 6);
    CHECK_MEM(seg.src.ip, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
    CHECK_MEM(seg.dst.ip, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    CHECK_EQ(seg.opt.mss, 1440);
    CHECK_EQ(seg.window, 64800);
    CHECK_U64(seg.seq, 0x11223344);
    CHECK_EQ(naive_tcp_checksum(pkt, 40, 40), 0x1bee);
    w = skiff_tcp_segment_build(out, sizeof out, &seg);
    CHECK_EQ(w, 80);
    CHECK_MEM(out, "\x60\0\0\0", 4); /* we send flow label 0 */
    CHECK_MEM(out + 4, pkt + 4, 76);
    free(e);
}

/* ---- round trips ---- */

static bool same_segment(const skiff_tcp_segment *a, const skiff_tcp_segment *b)
{
    const skiff_tcp_options *x = &a->opt, *y = &b->opt;
    size_t iplen = a->src.family == 4 ? 4 : 16;
    bool same = a->src.family == b->src.family && a->dst.family == b->dst.family &&
                !memcmp(a->src.ip, b->src.ip, iplen) && !memcmp(a->dst.ip, b->dst.ip, iplen) &&
                a->src.port == b->src.port && a->dst.port == b->dst.port && a->seq == b->seq &&
                a->ack == b->ack && a->flags == b->flags && a->window == b->window &&
                a->urgent == b->urgent && a->ttl == b->ttl && a->payload_len == b->payload_len &&
                (!a->payload_len || !memcmp(a->payload, b->payload, a->payload_len)) &&
                x->has_mss == y->has_mss && (!x->has_mss || x->mss == y->mss) &&
                x->has_wscale == y->has_wscale && (!x->has_wscale || x->wscale == y->wscale) &&
                x->sack_permitted == y->sack_permitted &&
                x->has_timestamps == y->has_timestamps &&
                (!x->has_timestamps || (x->ts_val == y->ts_val && x->ts_ecr == y->ts_ecr)) &&
                x->sack_count == y->sack_count;
    for (size_t i = 0; same && i < x->sack_count; i++)
        same = x->sack[i].left == y->sack[i].left && x->sack[i].right == y->sack[i].right;
    if (!same) fprintf(stderr, "  segments differ (seq %08x flags %02x)\n", a->seq, a->flags);
    return same;
}

static uint8_t payload[1400];

/* Builds in, parses it back from an exact-size copy and compares. */
static void round_trip(const skiff_tcp_segment *in)
{
    static uint8_t buf[2048];
    skiff_ssize n = skiff_tcp_segment_build(buf, sizeof buf, in);
    CHECK_EQ(n, (skiff_ssize)skiff_tcp_segment_len(in));
    if (n <= 0) return;
    uint8_t *e = test_dup_exact(buf, (size_t)n);
    skiff_tcp_segment out, want = *in;
    if (!want.ttl) want.ttl = SKIFF_TCP_DEFAULT_TTL;
    CHECK_EQ(skiff_tcp_segment_parse(&out, e, (size_t)n, true), SKIFF_TCP_PARSE_OK);
    CHECK(same_segment(&out, &want));
    CHECK(out.payload == e + (size_t)n - in->payload_len);
    /* Both checksums verify by the reference too. */
    size_t ip = in->src.family == 4 ? 20 : 40;
    CHECK_EQ(naive_tcp_checksum(e, ip, (size_t)n - ip), (uint16_t)(e[ip + 16] << 8 | e[ip + 17]));
    if (in->src.family == 4) CHECK_EQ(naive_sum(e, 20, 0), 0xffff);
    free(e);
}

static skiff_tcp_segment base_segment(int family)
{
    skiff_tcp_segment s = {0};
    s.src.family = s.dst.family = (uint8_t)family;
    if (family == 4) {
        memcpy(s.src.ip, "\xc0\xa8\x01\x0a", 4);
        memcpy(s.dst.ip, "\xc0\xa8\x01\x01", 4);
    } else {
        memcpy(s.src.ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x0a", 16);
        memcpy(s.dst.ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    }
    s.src.port = 443;
    s.dst.port = 51234;
    s.seq = 0xfffffff0u;
    s.ack = 0x7ffffff1u;
    s.window = 65535;
    return s;
}

static void every_kind_of_segment_round_trips(void)
{
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 13 + 5);
    for (int family = 4; family <= 6; family += 2) {
        skiff_tcp_segment s = base_segment(family);
        s.flags = SKIFF_TCP_SYN;
        s.opt = (skiff_tcp_options){.has_mss = true, .mss = 1460, .sack_permitted = true,
                                    .has_timestamps = true, .ts_val = 0xdeadbeef,
                                    .has_wscale = true, .wscale = 7};
        round_trip(&s); /* SYN, every SYN option */
        s.flags = SKIFF_TCP_SYN | SKIFF_TCP_ACK;
        s.opt.ts_ecr = 0xdeadbeef, s.opt.ts_val = 12345, s.opt.wscale = 14;
        round_trip(&s); /* SYN-ACK */
        s.opt.has_timestamps = false;
        round_trip(&s); /* SACK-permitted without timestamps */
        s.opt.sack_permitted = false, s.opt.has_wscale = false, s.opt.mss = 536;
        round_trip(&s); /* MSS only */

        s = base_segment(family);
        s.flags = SKIFF_TCP_ACK;
        s.opt.has_timestamps = true, s.opt.ts_val = 1, s.opt.ts_ecr = 2;
        s.opt.sack_count = 3;
        for (uint32_t b = 0; b < 3; b++)
            s.opt.sack[b].left = 0xfffff000u + 3000 * b, s.opt.sack[b].right = 0xfffff400u + 3000 * b;
        round_trip(&s); /* ACK with timestamps and 3 SACK blocks */
        s.opt.has_timestamps = false, s.opt.sack_count = 4;
        s.opt.sack[3].left = 100, s.opt.sack[3].right = 200;
        round_trip(&s); /* 4 SACK blocks */

        s = base_segment(family);
        s.flags = SKIFF_TCP_PSH | SKIFF_TCP_ACK;
        s.opt.has_timestamps = true, s.opt.ts_val = 99, s.opt.ts_ecr = 98;
        s.payload = payload, s.payload_len = 1388;
        round_trip(&s); /* data */
        s.payload_len = 1;
        round_trip(&s); /* odd-length data */
        s.flags = SKIFF_TCP_FIN | SKIFF_TCP_ACK, s.payload_len = 0;
        round_trip(&s); /* FIN */
        s.opt = (skiff_tcp_options){0};
        s.flags = SKIFF_TCP_RST, s.ack = 0, s.window = 0;
        round_trip(&s); /* RST */
        s.flags = SKIFF_TCP_RST | SKIFF_TCP_ACK, s.ack = 5;
        round_trip(&s);
        s.flags = SKIFF_TCP_URG | SKIFF_TCP_ACK | SKIFF_TCP_PSH;
        s.payload = payload, s.payload_len = 100, s.urgent = 100;
        round_trip(&s); /* urgent pointer at the end of the payload */
        s.urgent = 1;
        round_trip(&s);
        s.flags = SKIFF_TCP_ECE | SKIFF_TCP_CWR | SKIFF_TCP_ACK | SKIFF_TCP_FIN;
        s.ttl = 1, s.urgent = 0;
        round_trip(&s); /* ECN flags, TTL 1 */
        s.flags = 0xff, s.ttl = 255, s.urgent = 100;
        round_trip(&s); /* every flag at once */
    }
}

/* The option bytes after the 20-byte TCP header of a built segment. */
static void check_option_bytes(const skiff_tcp_options *o, const char *hex)
{
    uint8_t want[40], buf[128];
    size_t n = test_hex(hex, want, sizeof want);
    skiff_tcp_segment s = base_segment(4);
    s.opt = *o;
    CHECK_EQ(skiff_tcp_options_len(o), n);
    CHECK_EQ(skiff_tcp_segment_build(buf, sizeof buf, &s), (skiff_ssize)(40 + n));
    CHECK_EQ(buf[32] >> 4, 5 + n / 4);
    CHECK_MEM(buf + 40, want, n);
}

static void options_use_the_linux_layout(void)
{
    skiff_tcp_options o = {.has_mss = true, .mss = 1460, .sack_permitted = true,
                           .has_timestamps = true, .ts_val = 0x01020304, .ts_ecr = 0x05060708,
                           .has_wscale = true, .wscale = 7};
    check_option_bytes(&o, "020405b4 0402080a 01020304 05060708 01030307");
    o.sack_permitted = false;
    check_option_bytes(&o, "020405b4 0101080a 01020304 05060708 01030307");
    o.sack_permitted = true, o.has_timestamps = false;
    check_option_bytes(&o, "020405b4 01010402 01030307");
    o = (skiff_tcp_options){.has_timestamps = true, .ts_val = 1, .ts_ecr = 2, .sack_count = 1,
                            .sack[0] = {0x10, 0x20}};
    check_option_bytes(&o, "0101080a 00000001 00000002 0101050a 00000010 00000020");
    o = (skiff_tcp_options){0};
    check_option_bytes(&o, "");
}

static void sack_blocks_are_dropped_when_space_runs_out(void)
{
    skiff_tcp_options o = {.has_mss = true, .mss = 1460, .has_timestamps = true,
                           .has_wscale = true, .wscale = 2, .sack_count = 4};
    for (uint32_t b = 0; b < 4; b++) o.sack[b].left = 1000 * b, o.sack[b].right = 1000 * b + 500;
    static const struct {
        bool mss, ts, ws, sackp;
        size_t blocks, len;
    } cases[] = {
        {true, true, true, false, 2, 40},   /* 20 bytes of others leave room for 2 */
        {false, true, false, false, 3, 40}, /* timestamps: 3, as Linux sends */
        {false, false, false, false, 4, 36},
        {false, false, true, true, 3, 36},
        {true, false, false, false, 4, 40},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o.has_mss = cases[i].mss, o.has_timestamps = cases[i].ts, o.has_wscale = cases[i].ws;
        o.sack_permitted = cases[i].sackp;
        CHECK_EQ(skiff_tcp_options_len(&o), cases[i].len);
        skiff_tcp_segment s = base_segment(6), got;
        s.flags = SKIFF_TCP_ACK;
        s.opt = o;
        uint8_t buf[128];
        skiff_ssize n = skiff_tcp_segment_build(buf, sizeof buf, &s);
        CHECK_EQ(n, (skiff_ssize)(60 + cases[i].len));
        CHECK_EQ(skiff_tcp_segment_parse(&got, buf, (size_t)n, true), SKIFF_TCP_PARSE_OK);
        CHECK_EQ(got.opt.sack_count, cases[i].blocks);
        CHECK_U64(got.opt.sack[cases[i].blocks - 1].left, 1000 * (cases[i].blocks - 1));
        CHECK_EQ(got.opt.has_mss, cases[i].mss);
        CHECK_EQ(got.opt.has_timestamps, cases[i].ts);
    }
}

static void build_rejects_bad_arguments_and_small_buffers(void)
{
    skiff_tcp_segment s = base_segment(4);
    s.flags = SKIFF_TCP_ACK;
    s.opt.has_timestamps = true;
    s.payload = payload, s.payload_len = 33;
    size_t need = skiff_tcp_segment_len(&s);
    CHECK_EQ(need, 20 + 32 + 33);
    for (size_t cap = 0; cap < need; cap++) {
        uint8_t *out = test_dup_exact(payload, cap); /* any bytes; exactly cap of them */
        CHECK_EQ(skiff_tcp_segment_build(out, cap, &s), SKIFF_ERR_BUFFER_TOO_SMALL);
        free(out);
    }
    uint8_t *out = test_dup_exact(payload, need);
    CHECK_EQ(skiff_tcp_segment_build(out, need, &s), (skiff_ssize)need);
    free(out);

    static uint8_t big[70000];
    skiff_tcp_segment bad;
    bad = s, bad.dst.family = 6;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_tcp_segment_len(&bad), 0);
    bad = s, bad.src.family = bad.dst.family = 5;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    bad = s, bad.payload = NULL;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    bad = s, bad.opt.sack_count = 5;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    bad = s, bad.opt.has_wscale = true, bad.opt.wscale = 15;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    bad = s, bad.opt.has_mss = true, bad.opt.mss = 0;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_tcp_segment_build(NULL, 100, &s), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, NULL), SKIFF_ERR_INVALID_ARGUMENT);

    /* The largest packets: 65535 bytes of IPv4, 65535 of IPv6 payload. */
    static uint8_t data[65535];
    skiff_tcp_segment max = base_segment(4), got;
    max.payload = data, max.payload_len = 65535 - 40;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &max), 65535);
    CHECK_EQ(skiff_tcp_segment_parse(&got, big, 65535, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(got.payload_len, 65535 - 40);
    max.payload_len++;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &max), SKIFF_ERR_INVALID_ARGUMENT);
    max = base_segment(6);
    max.payload = data, max.payload_len = 65535 - 20;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &max), 40 + 65535);
    CHECK_EQ(skiff_tcp_segment_parse(&got, big, 40 + 65535, true), SKIFF_TCP_PARSE_OK);
    max.payload_len++;
    CHECK_EQ(skiff_tcp_segment_build(big, sizeof big, &max), SKIFF_ERR_INVALID_ARGUMENT);
}

static void payload_already_in_place_is_kept(void)
{
    skiff_tcp_segment s = base_segment(6);
    s.flags = SKIFF_TCP_ACK;
    s.opt.has_timestamps = true, s.opt.ts_val = 7;
    s.payload = payload, s.payload_len = 500;
    uint8_t a[1024], b[1024];
    skiff_ssize n = skiff_tcp_segment_build(a, sizeof a, &s);
    size_t off = skiff_tcp_segment_len(&s) - s.payload_len;
    memcpy(b + off, payload, 500);
    s.payload = b + off;
    CHECK_EQ(skiff_tcp_segment_build(b, sizeof b, &s), n);
    CHECK_MEM(a, b, (size_t)n);
}

/* ---- bad input, case by case ---- */

static int v4_options(const char *hex)
{
    uint8_t opts[40], pkt[128];
    size_t n = test_hex(hex, opts, sizeof opts);
    return parse_exact(pkt, raw_v4(pkt, opts, n, SKIFF_TCP_SYN, 0, 3), true);
}

static void bad_options_are_rejected(void)
{
    CHECK_EQ(v4_options("01010101"), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(v4_options("01010102"), SKIFF_TCP_BAD_OPTION);         /* kind, no length */
    CHECK_EQ(v4_options("1e000101"), SKIFF_TCP_BAD_OPTION);         /* length 0 */
    CHECK_EQ(v4_options("1e010101"), SKIFF_TCP_BAD_OPTION);         /* length 1 */
    CHECK_EQ(v4_options("1e050000"), SKIFF_TCP_BAD_OPTION);         /* past the header */
    CHECK_EQ(v4_options("0101010101010204"), SKIFF_TCP_BAD_OPTION); /* MSS past the header */
    CHECK_EQ(v4_options("02030501"), SKIFF_TCP_BAD_OPTION);         /* MSS length 3 */
    CHECK_EQ(v4_options("020505b400010101"), SKIFF_TCP_BAD_OPTION); /* MSS length 5 */
    CHECK_EQ(v4_options("03040700"), SKIFF_TCP_BAD_OPTION);         /* window scale length 4 */
    CHECK_EQ(v4_options("03020101"), SKIFF_TCP_BAD_OPTION);         /* window scale length 2 */
    CHECK_EQ(v4_options("04030001"), SKIFF_TCP_BAD_OPTION);         /* SACK-permitted length 3 */
    CHECK_EQ(v4_options("0808000000010000"), SKIFF_TCP_BAD_OPTION); /* timestamps length 8 */
    CHECK_EQ(v4_options("080c0000000100000002 0000"), SKIFF_TCP_BAD_OPTION); /* length 12 */
    CHECK_EQ(v4_options("05020101"), SKIFF_TCP_BAD_OPTION); /* SACK with no block */
    CHECK_EQ(v4_options("050900000001000000020101"), SKIFF_TCP_BAD_OPTION); /* SACK 9 */
    CHECK_EQ(v4_options("050b00000001000000020000"), SKIFF_TCP_BAD_OPTION); /* SACK 11 */
    CHECK_EQ(v4_options("0101050a0000000100000002"), SKIFF_TCP_PARSE_OK);   /* SACK 10 */
    CHECK_EQ(v4_options("02040000"), SKIFF_TCP_BAD_MSS);
    CHECK_EQ(v4_options("02040001"), SKIFF_TCP_PARSE_OK);
}

static void odd_but_valid_options_are_accepted(void)
{
    uint8_t opts[40], pkt[128];
    skiff_tcp_segment seg;
    size_t n;

    /* Window scale above 14 is used as 14 (RFC 7323 §2.3). */
    n = raw_v4(pkt, opts, test_hex("0103030f", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.wscale, 14);
    n = raw_v4(pkt, opts, test_hex("010303ff", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.wscale, 14);
    n = raw_v4(pkt, opts, test_hex("0103030e", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.wscale, 14);

    /* Unknown kinds are skipped by their length (here 30, then TCP-AO-ish 29). */
    n = raw_v4(pkt, opts, test_hex("1e06aabbccdd 1d04eeff 02040218 0000", opts, sizeof opts),
               SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK(seg.opt.has_mss);
    CHECK_EQ(seg.opt.mss, 0x218);

    /* Nothing after EOL is read, not even an MSS of 0. */
    n = raw_v4(pkt, opts, test_hex("00020400", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK(!seg.opt.has_mss);
    n = raw_v4(pkt, opts, test_hex("020405b4 00ffffff", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.mss, 1460);

    /* A repeated option keeps its last value. */
    n = raw_v4(pkt, opts, test_hex("02040100 02040200", opts, sizeof opts), SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.mss, 0x200);

    /* Options in an order Linux never uses, unpadded timestamps. */
    n = raw_v4(pkt, opts, test_hex("080a00000005 00000006 0402 0303 0502 0405 b400", opts, sizeof opts),
               SKIFF_TCP_SYN, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK(seg.opt.has_timestamps && seg.opt.sack_permitted && seg.opt.has_wscale && seg.opt.has_mss);
    CHECK_U64(seg.opt.ts_val, 5);
    CHECK_U64(seg.opt.ts_ecr, 6);
    CHECK_EQ(seg.opt.wscale, 5);
    CHECK_EQ(seg.opt.mss, 1460);

    /* Four SACK blocks fill 34 of the 40 bytes. */
    n = raw_v4(pkt, opts,
               test_hex("01010522 00000001 00000002 00000003 00000004 00000005 00000006"
                        "00000007 00000008 01010101",
                        opts, sizeof opts),
               SKIFF_TCP_ACK, 0, 0);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.opt.sack_count, 4);
    CHECK_U64(seg.opt.sack[3].right, 8);
}

static void bad_tcp_headers_are_rejected(void)
{
    uint8_t pkt[256];
    size_t n;

    /* Checksum: one bit anywhere in the segment or the pseudo-header. */
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 0, 40);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    pkt[n - 1] ^= 0x10;
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_CHECKSUM);
    CHECK_EQ(parse_exact(pkt, n, false), SKIFF_TCP_PARSE_OK);
    pkt[n - 1] ^= 0x10;
    pkt[24] ^= 1; /* sequence number */
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_CHECKSUM);
    pkt[24] ^= 1;
    pkt[15] ^= 1; /* source address: fix only the IP header checksum */
    put16(pkt + 10, 0);
    put16(pkt + 10, (uint16_t)~naive_sum(pkt, 20, 0));
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_CHECKSUM);
    n = raw_v6(pkt, 6, NULL, 0, NULL, 0, SKIFF_TCP_ACK, 0, 41);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    pkt[70] ^= 0x80;
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_CHECKSUM);
    CHECK_EQ(parse_exact(pkt, n, false), SKIFF_TCP_PARSE_OK);
    pkt[70] ^= 0x80;
    pkt[39] ^= 2; /* destination address */
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_CHECKSUM);

    /* Data offset. */
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 0, 8);
    pkt[32] = 4 << 4;
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_DATA_OFFSET);
    pkt[32] = 0;
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_DATA_OFFSET);
    pkt[32] = 8 << 4; /* 32 bytes of header in a 28-byte segment */
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_DATA_OFFSET);
    pkt[32] = 7 << 4; /* exactly the segment: 8 bytes of options, no payload */
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_OPTION); /* payload bytes 01 08 .. */
    n = raw_v6(pkt, 6, NULL, 0, NULL, 0, SKIFF_TCP_ACK, 0, 0);
    pkt[52] = 15 << 4;
    fix_v6(pkt, 40);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_DATA_OFFSET);
    /* A segment shorter than 20 bytes, checksum correct. */
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 0, 0);
    put16(pkt + 2, 20 + 19);
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, 39, true), SKIFF_TCP_BAD_DATA_OFFSET);
    n = raw_v6(pkt, 6, NULL, 0, NULL, 0, SKIFF_TCP_ACK, 0, 0);
    put16(pkt + 4, 0);
    CHECK_EQ(parse_exact(pkt, 40, false), SKIFF_TCP_BAD_DATA_OFFSET);

    /* Urgent pointer: up to the end of the payload; anything without URG. */
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK | SKIFF_TCP_URG, 11, 10);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_URGENT);
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK | SKIFF_TCP_URG, 10, 10);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK | SKIFF_TCP_URG, 0, 10);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK | SKIFF_TCP_URG, 1, 0);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_URGENT);
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 500, 10);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v6(pkt, 6, NULL, 0, NULL, 0, SKIFF_TCP_URG, 65535, 100);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_URGENT);
}

static void bad_ip_headers_are_rejected(void)
{
    uint8_t pkt[256];
    size_t n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 0, 12);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(parse_exact(pkt, 0, true), SKIFF_TCP_BAD_IP_HEADER);
    for (int version = 0; version < 16; version++) {
        if (version == 4 || version == 6) continue;
        uint8_t v = pkt[0];
        pkt[0] = (uint8_t)(version << 4 | 5);
        CHECK_EQ(parse_exact(pkt, n, false), SKIFF_TCP_BAD_IP_HEADER);
        pkt[0] = v;
    }
    CHECK_EQ(parse_exact(pkt, 19, false), SKIFF_TCP_BAD_IP_HEADER);

    uint8_t bad[256];
    memcpy(bad, pkt, n);
    bad[0] = 0x44; /* IHL 4 */
    fix_v4(bad);
    CHECK_EQ(parse_exact(bad, n, true), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    bad[0] = 0x4f; /* IHL 15: 60 bytes, more than the 52 there are */
    put16(bad + 2, 52);
    CHECK_EQ(parse_exact(bad, 52, false), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    put16(bad + 2, (uint16_t)(n + 1)); /* total length past the buffer */
    fix_v4(bad);
    CHECK_EQ(parse_exact(bad, n, true), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    put16(bad + 2, 19); /* total length shorter than the header */
    put16(bad + 10, 0);
    put16(bad + 10, (uint16_t)~naive_sum(bad, 20, 0));
    CHECK_EQ(parse_exact(bad, n, true), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    bad[11] ^= 1; /* header checksum */
    CHECK_EQ(parse_exact(bad, n, true), SKIFF_TCP_BAD_IP_HEADER);
    CHECK_EQ(parse_exact(bad, n, false), SKIFF_TCP_PARSE_OK);
    memcpy(bad, pkt, n);
    bad[8] = 1; /* TTL changed without fixing the checksum */
    CHECK_EQ(parse_exact(bad, n, true), SKIFF_TCP_BAD_IP_HEADER);

    /* Accepted: IPv4 options (IHL 6, a NOP word), bytes after the total length. */
    uint8_t opt[256];
    memcpy(opt, pkt, 20);
    memcpy(opt + 24, pkt + 20, n - 20);
    opt[0] = 0x46;
    memcpy(opt + 20, "\x01\x01\x01\x00", 4);
    put16(opt + 2, (uint16_t)(n + 4));
    fix_v4(opt);
    CHECK_EQ(parse_exact(opt, n + 4, true), SKIFF_TCP_PARSE_OK);
    memcpy(bad, pkt, n);
    memset(bad + n, 0xee, 6);
    skiff_tcp_segment seg;
    CHECK_EQ(skiff_tcp_segment_parse(&seg, bad, n + 6, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.payload_len, 12);

    /* IPv6. */
    n = raw_v6(pkt, 6, NULL, 0, NULL, 0, SKIFF_TCP_ACK, 0, 12);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(parse_exact(pkt, 39, false), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    put16(bad + 4, (uint16_t)(n - 39)); /* payload length past the buffer */
    CHECK_EQ(parse_exact(bad, n, false), SKIFF_TCP_BAD_IP_HEADER);
    memcpy(bad, pkt, n);
    memset(bad + n, 0, 3); /* trailing bytes are ignored */
    CHECK_EQ(parse_exact(bad, n + 3, true), SKIFF_TCP_PARSE_OK);
}

static void extension_headers_are_walked_or_refused(void)
{
    /* Hop-by-hop / destination options of 8 bytes: next header, length 0, PadN. */
    static const uint8_t hbh_tcp[8] = {6, 0, 1, 4, 0, 0, 0, 0};
    static const uint8_t hbh_dst_tcp[16] = {60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0};
    static const uint8_t dst_hbh_tcp[16] = {0, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0};
    static const uint8_t long_dst[24] = {6, 2, 1, 20}; /* 24 bytes: length 2 */
    static const uint8_t frag[8] = {6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    static const uint8_t routing[8] = {6, 0, 0, 0, 0, 0, 0, 0};
    uint8_t five_dst[40], pkt[256];
    for (int i = 0; i < 5; i++) memcpy(five_dst + 8 * i, (uint8_t[]){60, 0, 1, 4, 0, 0, 0, 0}, 8);
    five_dst[32] = 6;
    skiff_tcp_segment seg;
    size_t n;

    n = raw_v6(pkt, 0, hbh_tcp, 8, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(skiff_tcp_segment_parse(&seg, pkt, n, true), SKIFF_TCP_PARSE_OK);
    CHECK_EQ(seg.payload_len, 5);
    CHECK(seg.payload == pkt + 68);
    n = raw_v6(pkt, 60, hbh_tcp, 8, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v6(pkt, 0, hbh_dst_tcp, 16, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v6(pkt, 60, long_dst, 24, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
    n = raw_v6(pkt, 60, dst_hbh_tcp, 16, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_BAD_IP_HEADER); /* hop-by-hop not first */
    n = raw_v6(pkt, 44, frag, 8, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    n = raw_v6(pkt, 43, routing, 8, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    n = raw_v6(pkt, 60, five_dst, 40, NULL, 0, SKIFF_TCP_ACK, 0, 5);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP); /* more than we walk */
    n = raw_v6(pkt, 59, NULL, 0, NULL, 0, 0, 0, 0);            /* no next header */
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);

    /* An extension header that runs past the payload. */
    uint8_t hdr[48];
    memcpy(hdr, (uint8_t[]){0, 0, 0, 0, 0, 0, 6, 64}, 8);
    memset(hdr + 8, 0, 32);
    hdr[40] = 6, hdr[41] = 1; /* 16 bytes, only 8 there */
    memset(hdr + 42, 0, 6);
    hdr[0] = 0x60, hdr[5] = 8, hdr[6] = 0;
    CHECK_EQ(parse_exact(hdr, 48, true), SKIFF_TCP_BAD_IP_HEADER);
    hdr[5] = 4; /* not even its first 8 bytes */
    CHECK_EQ(parse_exact(hdr, 44, true), SKIFF_TCP_BAD_IP_HEADER);
}

static void other_protocols_are_not_tcp(void)
{
    uint8_t pkt[256];
    size_t n;

    /* An ICMPv6 router solicitation, as Linux sends one when a TUN comes up. */
    static const char rs[] = "6000000000103aff fe800000000000000000000000000001"
                             "ff020000000000000000000000000002 8500 7d11 00000000 0101 020000000001";
    n = test_hex(rs, pkt, sizeof pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    /* An MLDv2 report: hop-by-hop (router alert, PadN), then ICMPv6 143. */
    static const char mld[] = "6000000000240001 fe800000000000000000000000000001"
                              "ff020000000000000000000000000016 3a00050200000100"
                              "8f00 1234 0000 0001 04000000 ff0200000000000000000000000000fb";
    n = test_hex(mld, pkt, sizeof pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    CHECK_EQ(parse_exact(pkt, n, false), SKIFF_TCP_NOT_TCP);

    n = raw_v6(pkt, 17, NULL, 0, NULL, 0, 0, 0, 0); /* UDP over IPv6 */
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    n = raw_v4(pkt, NULL, 0, 0, 0, 0);
    pkt[9] = 17; /* UDP */
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    pkt[9] = 1; /* ICMP */
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);

    /* IPv4 fragments of TCP: more-fragments set, or a non-zero offset. */
    n = raw_v4(pkt, NULL, 0, SKIFF_TCP_ACK, 0, 16);
    put16(pkt + 6, 0x2000);
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    put16(pkt + 6, 0x0003);
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_NOT_TCP);
    put16(pkt + 6, 0x8000 | 0x4000); /* reserved and DF bits alone are fine */
    fix_v4(pkt);
    CHECK_EQ(parse_exact(pkt, n, true), SKIFF_TCP_PARSE_OK);
}

static void result_names(void)
{
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_PARSE_OK), "OK"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_NOT_TCP), "NOT_TCP"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_IP_HEADER), "BAD_IP_HEADER"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_CHECKSUM), "BAD_CHECKSUM"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_DATA_OFFSET), "BAD_DATA_OFFSET"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_OPTION), "BAD_OPTION"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_MSS), "BAD_MSS"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(SKIFF_TCP_BAD_URGENT), "BAD_URGENT"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(99), "unknown"));
    CHECK(!strcmp(skiff_tcp_parse_result_name(-1), "unknown"));
}

/* ---- truncation and hostile bytes ---- */

static void truncation_at_every_byte_is_a_bad_ip_header(void)
{
    static const uint8_t hbh_tcp[8] = {6, 0, 1, 4, 0, 0, 0, 0};
    uint8_t pkts[5][256], opts[40];
    size_t lens[5];
    lens[0] = test_hex(kernel_syn_v4, pkts[0], sizeof pkts[0]);
    lens[1] = test_hex(kernel_syn_v6, pkts[1], sizeof pkts[1]);
    size_t ol = test_hex("0101080a0000000100000002", opts, sizeof opts);
    lens[2] = raw_v4(pkts[2], opts, ol, SKIFF_TCP_ACK | SKIFF_TCP_PSH, 0, 101);
    lens[3] = raw_v6(pkts[3], 0, hbh_tcp, 8, opts, ol, SKIFF_TCP_ACK, 0, 33);
    lens[4] = raw_v4(pkts[4], NULL, 0, SKIFF_TCP_RST, 0, 0);
    int wrong = 0;
    for (size_t p = 0; p < 5; p++) {
        CHECK_EQ(parse_exact(pkts[p], lens[p], true), SKIFF_TCP_PARSE_OK);
        for (size_t cut = 0; cut < lens[p]; cut++) {
            if (parse_exact(pkts[p], cut, true) != SKIFF_TCP_BAD_IP_HEADER) wrong++;
            if (parse_exact(pkts[p], cut, false) != SKIFF_TCP_BAD_IP_HEADER) wrong++;
        }
    }
    CHECK_EQ(wrong, 0);
}

static void mutated_packets_parse_safely_and_rebuild(void)
{
    uint8_t base[3][256], opts[40];
    size_t lens[3];
    lens[0] = test_hex(kernel_syn_v4, base[0], sizeof base[0]);
    size_t ol = test_hex("0101080a0000000100000002 0101050a0000000a00000014", opts, sizeof opts);
    lens[1] = raw_v6(base[1], 6, NULL, 0, opts, ol, SKIFF_TCP_ACK | SKIFF_TCP_URG, 3, 20);
    lens[2] = raw_v4(base[2], opts, ol, SKIFF_TCP_ACK, 0, 7);
    int bad = 0, ok = 0;
    for (int iter = 0; iter < 30000; iter++) {
        size_t which = rng() % 3, n = lens[which];
        uint8_t pkt[256];
        memcpy(pkt, base[which], n);
        int flips = 1 + (int)(rng() % 3);
        for (int f = 0; f < flips; f++) pkt[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
        uint8_t *e = test_dup_exact(pkt, n);
        skiff_tcp_segment seg, again;
        if (skiff_tcp_segment_parse(&seg, e, n, false) == SKIFF_TCP_PARSE_OK) {
            ok++;
            uint8_t out[256];
            skiff_ssize w = skiff_tcp_segment_build(out, sizeof out, &seg);
            if (w <= 0 || skiff_tcp_segment_parse(&again, out, (size_t)w, true) != SKIFF_TCP_PARSE_OK ||
                again.seq != seg.seq || again.flags != seg.flags ||
                again.payload_len != seg.payload_len ||
                again.opt.sack_count > seg.opt.sack_count)
                bad++;
        }
        (void)skiff_tcp_segment_parse(&seg, e, n, true);
        free(e);
    }
    CHECK_EQ(bad, 0);
    CHECK(ok > 1000); /* the loop reached the rebuild often enough to mean something */
}

int main(void)
{
    RUN(checksum_matches_the_naive_sum);
    RUN(a_linux_syn_parses_and_rebuilds);
    RUN(every_kind_of_segment_round_trips);
    RUN(options_use_the_linux_layout);
    RUN(sack_blocks_are_dropped_when_space_runs_out);
    RUN(build_rejects_bad_arguments_and_small_buffers);
    RUN(payload_already_in_place_is_kept);
    RUN(bad_options_are_rejected);
    RUN(odd_but_valid_options_are_accepted);
    RUN(bad_tcp_headers_are_rejected);
    RUN(bad_ip_headers_are_rejected);
    RUN(extension_headers_are_walked_or_refused);
    RUN(other_protocols_are_not_tcp);
    RUN(result_names);
    RUN(truncation_at_every_byte_is_a_bad_ip_header);
    RUN(mutated_packets_parse_safely_and_rebuild);
    return test_report("tcp_segment");
}
