/* The impairment model (tests/sim/impair.c): each knob alone, with exact
 * times and counts, the spec parser, and the caps that bound memory. */
#include "impair.h"
#include "test.h"

static skiff_impair_config base(void)
{
    skiff_impair_config c;
    skiff_impair_config_default(&c);
    return c;
}

static void fill(uint8_t *p, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(id * 31 + i);
}

static void prng_known_values(void)
{
    /* splitmix64 from 0 and xoshiro256** from {1, 2, 3, 4}: the published
     * algorithms' first outputs, so the generator is the one it claims. */
    uint64_t x = 0;
    CHECK_U64(skiff_splitmix64(&x), 0xe220a8397b1dcdafu);
    skiff_prng r = {{1, 2, 3, 4}};
    CHECK_U64(skiff_prng_next(&r), 11520);
    CHECK_U64(skiff_prng_next(&r), 0);
    /* Seeding is deterministic and below() stays in range. */
    skiff_prng a, b;
    skiff_prng_seed(&a, 42);
    skiff_prng_seed(&b, 42);
    int differ = 0, out_of_range = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t va = skiff_prng_below(&a, 7), vb = skiff_prng_below(&b, 7);
        differ += va != vb;
        out_of_range += va >= 7;
    }
    CHECK_EQ(differ, 0);
    CHECK_EQ(out_of_range, 0);
    CHECK_U64(skiff_prng_below(&a, 0), 0);
}

static void parse_full_example(void)
{
    skiff_impair_config c = base();
    char err[128];
    CHECK_EQ(skiff_impair_parse(&c,
                                "loss=2,maxdrop=3,delay=10ms,jitter=2ms,rate=100mbit,queue=256k,"
                                "reorder=1,dup=1,corrupt=2,blackhole=2s+2s,rebind=5s,seed=42",
                                err, sizeof err),
             0);
    CHECK_EQ(err[0], 0);
    CHECK_EQ(c.loss_ppm, 20000);
    CHECK_EQ(c.max_drops, 3);
    CHECK_U64(c.delay, SKIFF_MS(10));
    CHECK_U64(c.jitter, SKIFF_MS(2));
    CHECK_U64(c.rate_bps, 100000000u);
    CHECK_EQ(c.queue_bytes, 262144);
    CHECK_EQ(c.reorder_ppm, 10000);
    CHECK_EQ(c.dup_ppm, 10000);
    CHECK_EQ(c.corrupt_ppm, 20000);
    CHECK_EQ(c.blackhole_count, 1);
    CHECK_U64(c.blackholes[0].start, SKIFF_MS(2000));
    CHECK_U64(c.blackholes[0].end, SKIFF_MS(4000));
    CHECK_EQ(c.rebind_count, 1);
    CHECK_U64(c.rebinds[0].at, SKIFF_MS(5000));
    CHECK_EQ(c.rebinds[0].address, 0);
    CHECK_U64(c.seed, 42);
    /* Untouched keys keep their defaults. */
    CHECK_EQ(c.mtu, SKIFF_IMPAIR_DEFAULT_MTU);
    CHECK_U64(c.reorder_delay, SKIFF_IMPAIR_DEFAULT_REORDER_DELAY);
}

static void parse_units_and_repeats(void)
{
    skiff_impair_config c = base();
    CHECK_EQ(skiff_impair_parse(&c,
                                "loss=0.5,dup=100%,delay=1.5ms,jitter=250us,reorderdelay=3ns,"
                                "rate=1.5gbit,queue=2m,mtu=9000,limit=16,blackhole=0+100ms,"
                                "blackhole=1.5s+0.25s,rebind=1s,rebindaddr=2s,delay=0",
                                NULL, 0),
             0);
    CHECK_EQ(c.loss_ppm, 5000);
    CHECK_EQ(c.dup_ppm, 1000000);
    CHECK_U64(c.delay, 0); /* the later value wins; a bare 0 needs no unit */
    CHECK_U64(c.jitter, SKIFF_US(250));
    CHECK_U64(c.reorder_delay, 3);
    CHECK_U64(c.rate_bps, 1500000000u);
    CHECK_EQ(c.queue_bytes, 2 * 1048576);
    CHECK_EQ(c.mtu, 9000);
    CHECK_EQ(c.limit, 16);
    CHECK_EQ(c.blackhole_count, 2);
    CHECK_U64(c.blackholes[0].end, SKIFF_MS(100));
    CHECK_U64(c.blackholes[1].start, SKIFF_MS(1500));
    CHECK_U64(c.blackholes[1].end, SKIFF_MS(1750));
    CHECK_EQ(c.rebind_count, 2);
    CHECK_EQ(c.rebinds[1].address, 1);
    CHECK_EQ(skiff_impair_parse(&c, "", NULL, 0), 0); /* an empty spec changes nothing */
    CHECK_EQ(c.loss_ppm, 5000);
}

static void parse_refuses_bad_specs(void)
{
    static const char *const bad[] = {
        "loss=101",
        "loss=-1",
        "loss=",
        "loss",
        "bogus=1",
        "delay=10",
        "delay=10 ms",
        "delay=10xs",
        "delay=1.5ns",
        "rate=10mbps",
        "queue=0",
        "queue=2g",
        "mtu=0",
        "mtu=65536",
        "limit=0",
        "blackhole=2s",
        "blackhole=+2s",
        "loss=1,",
        ",loss=1",
        "loss=1,,dup=1",
        "rebind=5s,rebind=1s",
        "seed=99999999999999999999",
        "jitter=1.",
        "dup=1.0000001",
        ("blackhole=1s+1s,blackhole=1s+1s,blackhole=1s+1s,blackhole=1s+1s,blackhole=1s+1s,"
         "blackhole=1s+1s,blackhole=1s+1s,blackhole=1s+1s,blackhole=1s+1s"), /* nine: one too many */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        skiff_impair_config c = base();
        char err[128];
        int rv = skiff_impair_parse(&c, bad[i], err, sizeof err);
        if (rv != SKIFF_ERR_INVALID_ARGUMENT) fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK_EQ(rv, SKIFF_ERR_INVALID_ARGUMENT);
        CHECK(err[0] != 0);
    }
    skiff_impair_config c = base();
    char err[128];
    skiff_impair_parse(&c, "loss=1,colour=blue", err, sizeof err);
    CHECK(strcmp(err, "colour: unknown key") == 0);
    skiff_impair_parse(&c, "delay=10", err, sizeof err);
    CHECK(strncmp(err, "delay: want a time", 18) == 0);
}

static void perfect_link_is_fifo_and_exact(void)
{
    skiff_impair_config c = base();
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t in[200], out[1500];
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_TIME_NEVER);
    for (uint32_t i = 0; i < 10; i++) {
        fill(in, 100 + i, i);
        CHECK_EQ(skiff_impair_submit(&imp, in, 100 + i, SKIFF_MS(5)), 0);
    }
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_MS(5));
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(5) - 1, out, sizeof out), 0); /* not yet */
    for (uint32_t i = 0; i < 10; i++) {
        fill(in, 100 + i, i);
        CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(5), out, sizeof out), 100 + i);
        CHECK_MEM(out, in, 100 + i);
    }
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(5), out, sizeof out), 0);
    const skiff_impair_stats *st = skiff_impair_stats_get(&imp);
    CHECK_U64(st->submitted, 10);
    CHECK_U64(st->delivered, 10);
    CHECK_U64(st->delivered_bytes, 1045);
    CHECK_U64(st->dropped_loss + st->dropped_queue + st->dropped_blackhole + st->dropped_limit, 0);
    skiff_impair_free(&imp);
}

static void delay_is_exact_and_jitter_keeps_order(void)
{
    skiff_impair_config c = base();
    c.delay = SKIFF_MS(10);
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[64] = {1}, out[64];
    skiff_impair_submit(&imp, d, 64, SKIFF_MS(1));
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_MS(11));
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(11) - 1, out, sizeof out), 0);
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(11), out, sizeof out), 64);
    skiff_impair_free(&imp);

    c.jitter = SKIFF_MS(5);
    c.seed = 7;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    /* One datagram every 100us with up to 5ms jitter: the spacing changes,
     * the order does not, and each takes between 10 and 15ms. */
    int out_of_order = 0, out_of_range = 0, distinct_delays = 0;
    skiff_time last_delay = 0;
    for (uint32_t i = 0; i < 500; i++) {
        skiff_time sent = SKIFF_US(100) * i;
        d[0] = (uint8_t)i;
        d[1] = (uint8_t)(i >> 8);
        skiff_impair_submit(&imp, d, 64, sent);
    }
    uint32_t expect = 0;
    skiff_impair_meta meta;
    while (skiff_impair_next_delivery(&imp) != SKIFF_TIME_NEVER) {
        skiff_time t = skiff_impair_next_delivery(&imp);
        CHECK_EQ(skiff_impair_poll_meta(&imp, t, out, sizeof out, &meta), 64);
        uint32_t id = out[0] | (uint32_t)out[1] << 8;
        if (id != expect++) out_of_order++;
        skiff_time delay = t - meta.sent;
        if (delay < SKIFF_MS(10) || delay > SKIFF_MS(15)) out_of_range++;
        if (delay != last_delay) distinct_delays++;
        last_delay = delay;
    }
    CHECK_EQ(expect, 500);
    CHECK_EQ(out_of_order, 0);
    CHECK_EQ(out_of_range, 0);
    CHECK(distinct_delays > 100);
    skiff_impair_free(&imp);
}

/* The dropped indices of `n` datagrams submitted 1ms apart. */
static uint32_t loss_pattern(const skiff_impair_config *c, uint32_t n, uint8_t *dropped)
{
    skiff_impair imp;
    if (skiff_impair_init(&imp, c) < 0) return UINT32_MAX;
    uint8_t d[100] = {0}, out[1500];
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t before = imp.stats.dropped_loss;
        skiff_impair_submit(&imp, d, sizeof d, SKIFF_MS(i));
        dropped[i] = imp.stats.dropped_loss != before;
        count += dropped[i];
        while (skiff_impair_poll(&imp, SKIFF_MS(i) + SKIFF_MS(1000), out, sizeof out) > 0) {
        }
    }
    skiff_impair_free(&imp);
    return count;
}

static void loss_is_seeded_and_independent_of_other_knobs(void)
{
    static uint8_t a[10000], b[10000];
    skiff_impair_config c = base();
    c.loss_ppm = 500000;
    c.seed = 42;
    uint32_t lost = loss_pattern(&c, 10000, a);
    /* Pinned: the PRNG is part of the test contract (skiff-relay's test
     * counts on the same pattern), and 50% of 10000 lands near 5000. */
    CHECK_EQ(lost, 5033);
    CHECK_EQ(loss_pattern(&c, 10000, b), 5033);
    CHECK_MEM(a, b, sizeof a);
    /* Jitter, duplication, corruption, reordering and delay draw from their
     * own streams: the same datagrams are lost. */
    c.jitter = SKIFF_MS(3);
    c.delay = SKIFF_MS(20);
    c.dup_ppm = 300000;
    c.corrupt_ppm = 300000;
    c.reorder_ppm = 300000;
    c.limit = 8192;
    CHECK_EQ(loss_pattern(&c, 10000, b), 5033);
    CHECK_MEM(a, b, sizeof a);
    /* Another seed, another pattern. */
    c.seed = 43;
    loss_pattern(&c, 10000, b);
    CHECK(memcmp(a, b, sizeof a) != 0);
}

static void consecutive_drops_are_capped(void)
{
    skiff_impair_config c = base();
    c.loss_ppm = 1000000;
    c.max_drops = 3;
    uint8_t dropped[12];
    CHECK_EQ(loss_pattern(&c, 12, dropped), 9);
    static const uint8_t want[12] = {1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0};
    CHECK_MEM(dropped, want, 12);
}

static void blackhole_drops_everything_in_its_period(void)
{
    skiff_impair_config c = base();
    c.epoch = SKIFF_MS(1000); /* periods count from the epoch */
    CHECK_EQ(skiff_impair_parse(&c, "blackhole=100ms+50ms,blackhole=300ms+1ms", NULL, 0), 0);
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[10] = {0}, out[10];
    uint32_t passed = 0;
    for (skiff_time t = SKIFF_MS(1000); t < SKIFF_MS(1400); t += SKIFF_US(500)) {
        skiff_impair_submit(&imp, d, sizeof d, t);
        passed += skiff_impair_poll(&imp, t, out, sizeof out) == 10;
    }
    /* 800 sent, 100 in [1100, 1150) and 2 in [1300, 1301) dropped. */
    CHECK_EQ(passed, 698);
    CHECK_U64(imp.stats.dropped_blackhole, 102);
    skiff_impair_free(&imp);
}

static void rate_limit_serialises_and_tail_drops(void)
{
    skiff_impair_config c = base();
    c.rate_bps = 8000000; /* one byte per microsecond */
    c.queue_bytes = 2500;
    c.delay = SKIFF_MS(1);
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[1000] = {0}, out[1500];
    for (int i = 0; i < 3; i++)
        skiff_impair_submit(&imp, d, sizeof d, 0);
    /* Backlog 0 and 1000 fit in 2500; 2000 + 1000 does not. */
    CHECK_U64(imp.stats.dropped_queue, 1);
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_MS(2));
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(2), out, sizeof out), 1000);
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_MS(3));
    /* At 1.5ms the link has 500 bytes left: 1000 more fit, delivered at 1+3ms. */
    skiff_impair_submit(&imp, d, sizeof d, SKIFF_US(1500));
    CHECK_U64(imp.stats.dropped_queue, 1);
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(3), out, sizeof out), 1000);
    CHECK_U64(skiff_impair_next_delivery(&imp), SKIFF_MS(4));
    skiff_impair_free(&imp);

    /* A long burst: everything delivered spaced by exactly len*8/rate, and
     * the held bytes never pass the queue (delay 0: held == queued). */
    c.delay = 0;
    c.queue_bytes = 10000;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    for (int i = 0; i < 1000; i++)
        skiff_impair_submit(&imp, d, sizeof d, 0);
    CHECK_U64(imp.stats.dropped_queue, 990);
    CHECK(imp.stats.held_bytes_max <= 10000);
    skiff_time t, expect = SKIFF_MS(1);
    int off = 0;
    while ((t = skiff_impair_next_delivery(&imp)) != SKIFF_TIME_NEVER) {
        off += t != expect;
        expect += SKIFF_MS(1);
        skiff_impair_poll(&imp, t, out, sizeof out);
    }
    CHECK_EQ(off, 0);
    CHECK_U64(imp.stats.delivered, 10);
    skiff_impair_free(&imp);
}

static void reorder_lets_later_datagrams_overtake(void)
{
    skiff_impair_config c = base();
    c.delay = SKIFF_MS(5);
    c.reorder_ppm = 200000;
    c.reorder_delay = SKIFF_MS(3);
    c.seed = 1;
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[4], out[4];
    for (uint32_t i = 0; i < 200; i++) {
        memcpy(d, &i, 4);
        skiff_impair_submit(&imp, d, 4, SKIFF_MS(i));
    }
    uint32_t last = 0, inversions = 0, got = 0;
    skiff_time t;
    while ((t = skiff_impair_next_delivery(&imp)) != SKIFF_TIME_NEVER) {
        CHECK_EQ(skiff_impair_poll(&imp, t, out, sizeof out), 4);
        uint32_t id;
        memcpy(&id, out, 4);
        if (got && id < last) inversions++;
        last = id;
        got++;
    }
    CHECK_EQ(got, 200);
    CHECK(imp.stats.reordered > 20 && imp.stats.reordered < 60);
    /* A datagram held back 3ms at 1ms spacing is overtaken by up to three,
     * so each reordered one shows up as an inversion (unless the next is
     * reordered too). */
    CHECK(inversions > 0 && inversions <= imp.stats.reordered);
    skiff_impair_free(&imp);
}

static void duplicate_and_corrupt(void)
{
    skiff_impair_config c = base();
    c.dup_ppm = 1000000;
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[300], out[300];
    fill(d, sizeof d, 9);
    skiff_impair_submit(&imp, d, sizeof d, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(skiff_impair_poll(&imp, 0, out, sizeof out), 300);
        CHECK_MEM(out, d, 300);
    }
    CHECK_EQ(skiff_impair_poll(&imp, 0, out, sizeof out), 0);
    CHECK_U64(imp.stats.duplicated, 1);
    CHECK_U64(imp.stats.delivered, 2);
    skiff_impair_free(&imp);

    /* Corruption: exactly one byte differs, always within the first 50. */
    c = base();
    c.corrupt_ppm = 1000000;
    c.seed = 5;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    int bad = 0, positions_seen = 0;
    uint8_t hit[50] = {0};
    for (int i = 0; i < 2000; i++) {
        size_t len = i % 10 == 0 ? 7 : sizeof d; /* short ones too */
        skiff_impair_submit(&imp, d, len, 0);
        CHECK_EQ(skiff_impair_poll(&imp, 0, out, sizeof out), (long long)len);
        int diffs = 0;
        size_t where = 0;
        for (size_t k = 0; k < len; k++)
            if (out[k] != d[k]) diffs++, where = k;
        if (diffs != 1 || where >= (len < 50 ? len : 50))
            bad++;
        else
            hit[where] = 1;
    }
    for (int k = 0; k < 50; k++)
        positions_seen += hit[k];
    CHECK_EQ(bad, 0);
    CHECK_EQ(positions_seen, 50);
    CHECK_U64(imp.stats.corrupted, 2000);
    skiff_impair_free(&imp);
}

static void caps_bound_memory(void)
{
    skiff_impair_config c = base();
    c.limit = 4;
    c.mtu = 100;
    c.delay = SKIFF_MS(1);
    c.dup_ppm = 1000000;
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    uint8_t d[101] = {0}, out[100];
    skiff_impair_submit(&imp, d, 101, 0); /* over mtu */
    skiff_impair_submit(&imp, d, 0, 0);   /* empty */
    for (int i = 0; i < 3; i++)
        skiff_impair_submit(&imp, d, 100, 0);
    /* Two datagrams and their copies fill the 4 slots; the third finds none. */
    CHECK_U64(imp.stats.held_max, 4);
    CHECK_U64(imp.stats.dropped_limit, 3);
    CHECK_U64(imp.stats.duplicated, 2);
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(1), out, 99), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_impair_poll(&imp, SKIFF_MS(1), out, 100), 100); /* still there */
    CHECK_EQ(skiff_impair_submit(&imp, NULL, 5, 0), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_impair_free(&imp); /* three still held: freed without a leak */

    c.limit = 0;
    CHECK_EQ(skiff_impair_init(&imp, &c), SKIFF_ERR_INVALID_ARGUMENT);
    c = base();
    c.loss_ppm = 1000001;
    CHECK_EQ(skiff_impair_init(&imp, &c), SKIFF_ERR_INVALID_ARGUMENT);
}

static void rebinding_generations(void)
{
    skiff_impair_config c = base();
    c.epoch = SKIFF_MS(500);
    CHECK_EQ(skiff_impair_parse(&c, "rebind=1s,rebindaddr=2s,rebind=3s", NULL, 0), 0);
    skiff_impair imp;
    CHECK_EQ(skiff_impair_init(&imp, &c), 0);
    CHECK_EQ(skiff_impair_generation(&imp, 0), 0);
    CHECK_EQ(skiff_impair_generation(&imp, SKIFF_MS(1500) - 1), 0);
    CHECK_EQ(skiff_impair_generation(&imp, SKIFF_MS(1500)), 1);
    CHECK_EQ(skiff_impair_generation(&imp, SKIFF_MS(2500)), 2);
    CHECK_EQ(skiff_impair_generation(&imp, SKIFF_MS(9000)), 3);
    CHECK_EQ(skiff_impair_address_rebinds(&imp, 1), 0);
    CHECK_EQ(skiff_impair_address_rebinds(&imp, 2), 1);
    CHECK_EQ(skiff_impair_address_rebinds(&imp, 3), 1);
    /* A datagram keeps the generation of when it was sent, and its tag. */
    uint8_t d[8] = {0}, out[8];
    skiff_impair_submit_tagged(&imp, d, 8, SKIFF_MS(1499), 77);
    skiff_impair_submit_tagged(&imp, d, 8, SKIFF_MS(1500), 78);
    skiff_impair_meta m;
    CHECK_EQ(skiff_impair_poll_meta(&imp, SKIFF_MS(3000), out, 8, &m), 8);
    CHECK_EQ(m.generation, 0);
    CHECK_U64(m.tag, 77);
    CHECK_EQ(skiff_impair_poll_meta(&imp, SKIFF_MS(3000), out, 8, &m), 8);
    CHECK_EQ(m.generation, 1);
    CHECK_U64(m.tag, 78);
    char line[400];
    skiff_impair_stats_format(&imp.stats, line, sizeof line);
    CHECK(strncmp(line, "submitted=2 delivered=2 dropped_loss=0 ", 39) == 0);
    skiff_impair_free(&imp);
}

int main(void)
{
    RUN(prng_known_values);
    RUN(parse_full_example);
    RUN(parse_units_and_repeats);
    RUN(parse_refuses_bad_specs);
    RUN(perfect_link_is_fifo_and_exact);
    RUN(delay_is_exact_and_jitter_keeps_order);
    RUN(loss_is_seeded_and_independent_of_other_knobs);
    RUN(consecutive_drops_are_capped);
    RUN(blackhole_drops_everything_in_its_period);
    RUN(rate_limit_serialises_and_tail_drops);
    RUN(reorder_lets_later_datagrams_overtake);
    RUN(duplicate_and_corrupt);
    RUN(caps_bound_memory);
    RUN(rebinding_generations);
    return test_report("impair");
}
