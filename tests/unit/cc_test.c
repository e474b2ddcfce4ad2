/*
 * Congestion control: the shared wrapper rules (windows, recovery period,
 * app-limited, persistent congestion, reset), NewReno (RFC 9002 §7.3) and
 * CUBIC (RFC 9438) window arithmetic, and the pacer (§7.7). Expected values
 * are worked out in the comments or computed here from the RFC formulas
 * (with a cube root found by bisection, independent of the library's).
 */
#include "cc/cc.h"
#include "cc/pacer.h"
#include "test.h"

#define MS(x) SKIFF_MS(x)
#define MDS 1200

static skiff_rtt rtt_of(skiff_time srtt)
{
    skiff_rtt r;
    skiff_rtt_init(&r, srtt); /* no sample: smoothed_rtt is srtt */
    return r;
}

/* Sends enough to make the sender cwnd-limited. */
static void fill(skiff_cc *cc, skiff_time now)
{
    if (cc->bytes_in_flight < cc->cwnd)
        skiff_cc_on_packet_sent(cc, cc->cwnd - cc->bytes_in_flight, now);
}

static bool near(double a, double b, double tol)
{
    double d = a - b;
    return d <= tol && -d <= tol;
}

/* ---- Shared rules and NewReno ------------------------------------------- */

static void windows(void)
{
    CHECK_U64(skiff_cc_initial_window(1200), 12000); /* 10 * mds */
    CHECK_U64(skiff_cc_initial_window(1500), 14720); /* the 14720 cap */
    CHECK_U64(skiff_cc_initial_window(9000), 18000); /* 2 * mds above the cap */
    CHECK_U64(skiff_cc_initial_window(1000), 10000);
    CHECK_U64(skiff_cc_minimum_window(1200), 2400);

    skiff_cc cc;
    skiff_cc_init(&cc, NULL, 0, 0);
    CHECK(cc.ops == &skiff_cc_newreno_ops);
    CHECK_U64(cc.max_datagram_size, 1200);
    CHECK_U64(cc.cwnd, 12000);
    CHECK_U64(cc.ssthresh, SKIFF_CC_SSTHRESH_INFINITE);
    CHECK(skiff_cc_in_slow_start(&cc));
    CHECK(skiff_cc_can_send(&cc, 12000));
    CHECK(!skiff_cc_can_send(&cc, 12001));
    skiff_cc_on_packet_sent(&cc, 11000, 0);
    CHECK_U64(skiff_cc_available(&cc), 1000);
    skiff_cc_on_packet_sent(&cc, 2000, 0);
    CHECK_U64(skiff_cc_available(&cc), 0);
}

static void selection(void)
{
    CHECK(skiff_cc_ops_by_name("newreno") == &skiff_cc_newreno_ops);
    CHECK(skiff_cc_ops_by_name("reno") == &skiff_cc_newreno_ops);
    CHECK(skiff_cc_ops_by_name("cubic") == &skiff_cc_cubic_ops);
    CHECK(skiff_cc_ops_by_name("bbr") == NULL);
    CHECK(skiff_cc_ops_by_name(NULL) == NULL);
    CHECK(skiff_cc_ops_for(SKIFF_CC_NEWRENO) == &skiff_cc_newreno_ops);
    CHECK(skiff_cc_ops_for(SKIFF_CC_CUBIC) == &skiff_cc_cubic_ops);
    CHECK(skiff_cc_ops_for((skiff_cc_algorithm)42) == NULL);
    CHECK(!strcmp(skiff_cc_cubic_ops.name, "cubic"));
}

static void newreno_slow_start(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    fill(&cc, 0);
    CHECK_U64(cc.bytes_in_flight, 12000);
    /* §7.3.1: every acknowledged byte adds a byte. */
    skiff_cc_on_packets_acked(&cc, 1200, MS(1), MS(100), &rtt);
    CHECK_U64(cc.cwnd, 13200);
    CHECK_U64(cc.bytes_in_flight, 10800);
    skiff_cc_on_packets_acked(&cc, 10800, MS(2), MS(101), &rtt);
    CHECK_U64(cc.cwnd, 24000);
    CHECK_U64(cc.bytes_in_flight, 0);
    CHECK(skiff_cc_in_slow_start(&cc));
}

static void newreno_recovery_once_per_round_trip(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    fill(&cc, 0);
    /* A loss of a packet sent at 10 ms, noticed at 100 ms: halve. */
    CHECK(skiff_cc_on_congestion_event(&cc, MS(10), MS(100)));
    CHECK_U64(cc.ssthresh, 6000);
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.recovery_start, MS(100));
    CHECK(!skiff_cc_in_slow_start(&cc));
    /* More losses of packets sent before (or at) the recovery start: none. */
    CHECK(!skiff_cc_on_congestion_event(&cc, MS(50), MS(120)));
    CHECK(!skiff_cc_on_congestion_event(&cc, MS(100), MS(130)));
    CHECK(!skiff_cc_on_ecn_ce(&cc, MS(90), MS(130)));
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.congestion_events, 1);

    /* An ack of a packet sent in the recovery period does not grow it. */
    fill(&cc, MS(130));
    skiff_cc_on_packets_acked(&cc, 1200, MS(90), MS(140), &rtt);
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.recovery_start, MS(100));
    /* The first ack of a packet sent after it ends the period; congestion
     * avoidance then adds one datagram per window acknowledged (§7.3.3). */
    fill(&cc, MS(140));
    skiff_cc_on_packets_acked(&cc, 1200, MS(101), MS(200), &rtt);
    CHECK_U64(cc.recovery_start, SKIFF_TIME_NEVER);
    CHECK_U64(cc.cwnd, 6000);
    fill(&cc, MS(200));
    skiff_cc_on_packets_acked(&cc, 4799, MS(102), MS(201), &rtt);
    CHECK_U64(cc.cwnd, 6000);
    fill(&cc, MS(201));
    skiff_cc_on_packets_acked(&cc, 1, MS(103), MS(202), &rtt);
    CHECK_U64(cc.cwnd, 7200);

    /* A loss after the period ended reduces again, down to the minimum. */
    CHECK(skiff_cc_on_congestion_event(&cc, MS(150), MS(300)));
    CHECK_U64(cc.cwnd, 3600);
    CHECK(skiff_cc_on_ecn_ce(&cc, MS(301), MS(400))); /* §B.7: CE is the same signal */
    CHECK_U64(cc.cwnd, 2400);                         /* 1800 raised to 2 * mds */
    CHECK_U64(cc.ssthresh, 1800);
    CHECK_U64(cc.congestion_events, 3);
}

static void no_growth_when_app_limited(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    /* Slow start, two packets out of a 12000-byte window: no growth. */
    skiff_cc_on_packet_sent(&cc, 2400, 0);
    skiff_cc_on_packets_acked(&cc, 2400, MS(1), MS(100), &rtt);
    CHECK_U64(cc.cwnd, 12000);
    /* 8400 in flight comes within 3 datagrams of cwnd: that counts. */
    skiff_cc_on_packet_sent(&cc, 8400, MS(100));
    skiff_cc_on_packets_acked(&cc, 1200, MS(100), MS(200), &rtt);
    CHECK_U64(cc.cwnd, 13200);
    /* 1 byte less does not. */
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    skiff_cc_on_packet_sent(&cc, 8399, MS(100));
    skiff_cc_on_packets_acked(&cc, 1200, MS(100), MS(200), &rtt);
    CHECK_U64(cc.cwnd, 12000);

    /* Congestion avoidance: app-limited acks do not count towards growth. */
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_congestion_event(&cc, 0, MS(10)); /* cwnd 6000 */
    skiff_cc_on_packets_acked(&cc, cc.bytes_in_flight, MS(5), MS(20), &rtt);
    CHECK_U64(cc.bytes_in_flight, 0);
    for (int i = 0; i < 20; i++) {
        skiff_cc_on_packet_sent(&cc, 1200, MS(30 + i));
        skiff_cc_on_packets_acked(&cc, 1200, MS(30 + i), MS(130 + i), &rtt);
    }
    CHECK_U64(cc.cwnd, 6000);
    CHECK_U64(cc.u.newreno.acked_in_ca, 0);
}

static void persistent_congestion_and_reset(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_packets_acked(&cc, 12000, MS(1), MS(100), &rtt); /* 24000 */
    fill(&cc, MS(100));
    CHECK(skiff_cc_on_congestion_event(&cc, MS(100), MS(200))); /* 12000 */
    skiff_cc_on_persistent_congestion(&cc, MS(200));
    CHECK_U64(cc.cwnd, 2400); /* §7.6.2: kMinimumWindow */
    CHECK_U64(cc.ssthresh, 12000);
    CHECK_U64(cc.recovery_start, SKIFF_TIME_NEVER);
    CHECK_U64(cc.persistent_congestions, 1);
    /* Recovery was left: the next ack grows the window again (slow start,
     * since cwnd < ssthresh). */
    skiff_cc_on_packets_lost(&cc, cc.bytes_in_flight - 2400);
    CHECK_U64(cc.bytes_in_flight, 2400);
    skiff_cc_on_packets_acked(&cc, 1200, MS(150), MS(300), &rtt);
    CHECK_U64(cc.cwnd, 3600);

    /* Reset (path migration): the initial state, bytes in flight kept. */
    uint64_t inflight = cc.bytes_in_flight;
    skiff_cc_on_congestion_event(&cc, MS(400), MS(500));
    skiff_cc_reset(&cc, MS(600));
    CHECK_U64(cc.cwnd, 12000);
    CHECK_U64(cc.ssthresh, SKIFF_CC_SSTHRESH_INFINITE);
    CHECK_U64(cc.recovery_start, SKIFF_TIME_NEVER);
    CHECK_U64(cc.bytes_in_flight, inflight);
    CHECK(skiff_cc_in_slow_start(&cc));
    /* Discarded bytes leave the flight, never below zero. */
    skiff_cc_remove_in_flight(&cc, inflight + 5000);
    CHECK_U64(cc.bytes_in_flight, 0);
}

static void datagram_size_change(void)
{
    skiff_cc cc;
    skiff_cc_init(&cc, &skiff_cc_newreno_ops, MDS, 0);
    skiff_cc_on_persistent_congestion(&cc, 0);
    CHECK_U64(cc.cwnd, 2400);
    skiff_cc_set_max_datagram_size(&cc, 1500);
    CHECK_U64(cc.cwnd, 3000); /* raised to the new 2 * mds */
    CHECK_U64(cc.max_datagram_size, 1500);
}

/* ---- CUBIC ---------------------------------------------------------------- */

#define C_CUBIC 0.4

/* K for (W_max - cwnd_epoch) bytes, by bisection on C * K^3 * mds = d. */
static double k_of(double d, double mds)
{
    double lo = 0, hi = 1000;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (C_CUBIC * mid * mid * mid * mds < d)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

static double w_cubic(double t, double k, double w_max, double mds)
{
    return C_CUBIC * (t - k) * (t - k) * (t - k) * mds + w_max;
}

static void cubic_reduction_and_fast_convergence(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_cubic_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_packets_acked(&cc, 12000, MS(1), MS(100), &rtt);
    CHECK_U64(cc.cwnd, 24000); /* slow start as NewReno */
    fill(&cc, MS(100));
    /* §4.6: ssthresh = cwnd = 0.7 * 24000; W_max = cwnd_prior = 24000. */
    CHECK(skiff_cc_on_congestion_event(&cc, MS(100), MS(200)));
    CHECK_U64(cc.cwnd, 16800);
    CHECK_U64(cc.ssthresh, 16800);
    CHECK(near(cc.u.cubic.w_max, 24000, 1e-9));
    CHECK(near(cc.u.cubic.cwnd_prior, 24000, 1e-9));
    /* §4.7: a loss before cwnd regained W_max lowers W_max further:
     * 16800 * (1 + 0.7) / 2 = 14280. */
    CHECK(skiff_cc_on_congestion_event(&cc, MS(201), MS(300)));
    CHECK(near(cc.u.cubic.w_max, 14280, 1e-9));
    CHECK(near(cc.u.cubic.cwnd_prior, 16800, 1e-9));
    CHECK_U64(cc.cwnd, 11760);
    CHECK_U64(cc.ssthresh, 11760);
    /* Without fast convergence W_max is just the window. */
    cc.u.cubic.fast_convergence = false;
    CHECK(skiff_cc_on_congestion_event(&cc, MS(301), MS(400)));
    CHECK(near(cc.u.cubic.w_max, 11760, 1e-9));
    CHECK_U64(cc.cwnd, 8232);
}

static void cubic_follows_w_cubic(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_cubic_ops, MDS, 0);
    skiff_time now = 0;
    while (cc.cwnd < 1500000) { /* slow start to 12000 * 2^7 */
        fill(&cc, now);
        now += MS(100);
        skiff_cc_on_packets_acked(&cc, cc.cwnd, now - MS(50), now, &rtt);
    }
    CHECK_U64(cc.cwnd, 1536000);
    fill(&cc, now);
    skiff_time loss_at = now + MS(10);
    CHECK(skiff_cc_on_congestion_event(&cc, now, loss_at));
    CHECK_U64(cc.cwnd, 1075200);

    /* The stage starts with the first ack of a packet sent after the loss;
     * then an ack every 10 ms, a tenth of the window each (one window per
     * 100 ms RTT). K = cbrt((1536000 - 1075200) / (0.4 * 1200)) = cbrt(960). */
    skiff_time epoch = loss_at + MS(100);
    double k = k_of(1536000.0 - 1075200.0, MDS);
    CHECK(near(k * k * k, 960, 1e-6));
    int bad = 0, checked = 0;
    for (int i = 0; i <= 1200; i++) {
        now = epoch + (skiff_time)i * MS(10);
        fill(&cc, now);
        skiff_cc_on_packets_acked(&cc, cc.cwnd / 10, loss_at + 1, now, &rtt);
        if (i == 0) {
            CHECK(cc.u.cubic.in_epoch);
            CHECK_U64(cc.u.cubic.epoch_start, epoch);
            CHECK(near(cc.u.cubic.k, k, 1e-9));
            CHECK(near(cc.u.cubic.w_max, 1536000, 1e-9));
        }
        /* Each ack closes a tenth of the gap to W_cubic(t + RTT): a filter
         * with a 100 ms time constant, so cwnd runs close to W_cubic(t).
         * Checked at 1 s, 2 s, ..., 12 s; K (9.87 s) lies between. */
        if (i % 100 == 0 && i > 0) {
            double t = i / 100.0, w = w_cubic(t, k, 1536000, MDS);
            checked++;
            if (!near((double)cc.cwnd, w, w * 0.002)) {
                bad++;
                fprintf(stderr, "  t=%.1f s cwnd %" PRIu64 " W_cubic %.0f\n", t, cc.cwnd, w);
            }
        }
    }
    CHECK_EQ(checked, 12);
    CHECK_EQ(bad, 0);
    CHECK(cc.cwnd > 1536000); /* past K: the convex region, probing above W_max */
}

static void cubic_reno_friendly(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(10)); /* short RTT: Reno's line beats the curve */
    skiff_cc_init(&cc, &skiff_cc_cubic_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_packets_acked(&cc, 12000, MS(1), MS(10), &rtt);
    fill(&cc, MS(10));
    skiff_cc_on_congestion_event(&cc, MS(10), MS(20)); /* 24000 -> 16800 */
    CHECK_U64(cc.cwnd, 16800);

    /* §4.3: W_est starts at cwnd_epoch and grows alpha * mds * acked / cwnd
     * per ack, alpha = 3 * 0.3 / 1.7 until W_est reaches cwnd_prior (24000),
     * then 1; cwnd takes W_est while W_cubic(t) is below it. One 1200-byte
     * ack per millisecond for 400 ms. */
    const double alpha = 3.0 * 0.3 / 1.7, mds = MDS;
    double k = k_of(24000.0 - 16800.0, MDS), w_est = 16800, model = 16800;
    bool crossed = false;
    int bad = 0;
    skiff_time epoch = MS(30);
    for (int i = 0; i < 400; i++) {
        skiff_time now = epoch + (skiff_time)i * MS(1);
        double t = i / 1000.0;
        fill(&cc, now);
        skiff_cc_on_packets_acked(&cc, MDS, MS(25), now, &rtt);
        w_est += (w_est >= 24000 ? 1.0 : alpha) * mds * mds / model;
        if (w_est >= 24000) crossed = true;
        CHECK(w_cubic(t, k, 24000, mds) < w_est); /* the Reno-friendly region */
        model = w_est;
        if ((double)cc.cwnd > model + 1 || (double)cc.cwnd < model - 1) bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK(crossed);
    CHECK(near(cc.u.cubic.w_est, w_est, 1e-3));
    /* Past cwnd_prior the growth is Reno's: one mds per window. */
    CHECK(cc.cwnd > 24000);
}

static void cubic_persistent_congestion_restarts_curve(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_cubic_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_packets_acked(&cc, 12000, MS(1), MS(100), &rtt);
    fill(&cc, MS(100));
    skiff_cc_on_congestion_event(&cc, MS(100), MS(200)); /* 16800 */
    skiff_cc_on_persistent_congestion(&cc, MS(300));
    CHECK_U64(cc.cwnd, 2400);
    CHECK_U64(cc.ssthresh, 16800);
    CHECK(!cc.u.cubic.in_epoch);
    /* Slow start back to ssthresh, then a stage with K = 0 and W_max the
     * window at its start (§4.8). */
    skiff_time now = MS(300);
    while (skiff_cc_in_slow_start(&cc)) {
        fill(&cc, now);
        now += MS(100);
        skiff_cc_on_packets_acked(&cc, cc.cwnd, now - MS(1), now, &rtt);
    }
    uint64_t start = cc.cwnd;
    fill(&cc, now);
    now += MS(100);
    skiff_cc_on_packets_acked(&cc, 1200, now - MS(1), now, &rtt);
    CHECK(cc.u.cubic.in_epoch);
    CHECK(near(cc.u.cubic.k, 0, 1e-12));
    CHECK(near(cc.u.cubic.w_max, (double)start, 1e-9));
}

static void cubic_app_limited_holds_the_curve(void)
{
    skiff_cc cc;
    skiff_rtt rtt = rtt_of(MS(100));
    skiff_cc_init(&cc, &skiff_cc_cubic_ops, MDS, 0);
    fill(&cc, 0);
    skiff_cc_on_packets_acked(&cc, 12000, MS(1), MS(100), &rtt);
    fill(&cc, MS(100));
    skiff_cc_on_congestion_event(&cc, MS(100), MS(200));
    skiff_cc_on_packets_acked(&cc, cc.bytes_in_flight, MS(150), MS(250), &rtt); /* in recovery */
    /* A cwnd-limited ack starts the stage at 300 ms. */
    fill(&cc, MS(260));
    skiff_cc_on_packets_acked(&cc, 1200, MS(210), MS(300), &rtt);
    CHECK_U64(cc.u.cubic.epoch_start, MS(300));
    /* The flight drains; the next ack still counts as cwnd-limited (the
     * flight was full since the previous ack), the ones after do not. */
    skiff_cc_on_packets_lost(&cc, cc.bytes_in_flight);
    skiff_cc_on_packet_sent(&cc, 1200, MS(320));
    skiff_cc_on_packets_acked(&cc, 1200, MS(320), MS(350), &rtt);
    uint64_t w = cc.cwnd;
    /* Then a second of app-limited acks: no growth, and the stage clock
     * moves with them (300 ms + 1 s). */
    for (int i = 1; i <= 10; i++) {
        skiff_time now = MS(350) + (skiff_time)i * MS(100);
        skiff_cc_on_packet_sent(&cc, 1200, now - MS(50));
        skiff_cc_on_packets_acked(&cc, 1200, now - MS(50), now, &rtt);
    }
    CHECK_U64(cc.cwnd, w);
    CHECK_U64(cc.u.cubic.epoch_start, MS(1300));
}

/* ---- Pacer ---------------------------------------------------------------- */

static void pacer_rate_and_burst(void)
{
    /* 5/4 * 12000 bytes / 100 ms = 150000 bytes/s. */
    CHECK_U64(skiff_pacer_rate(12000, MS(100)), 150000);
    CHECK_U64(skiff_pacer_rate(0, MS(100)), 0);
    CHECK_U64(skiff_pacer_rate(12000, 0), 0);

    skiff_pacer p;
    skiff_pacer_init(&p, MDS, 0, 0);
    CHECK_U64(p.burst, 12000);
    /* A full bucket: ten datagrams go at once. */
    for (int i = 0; i < 10; i++) {
        CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, 0), 0);
        skiff_pacer_on_sent(&p, 12000, MS(100), MDS, 0);
    }
    /* The eleventh waits for 1200 bytes at 150000 bytes/s: 8 ms. */
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, 0), MS(8));
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, MS(3)), MS(8));
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, MS(9)), MS(9));
    skiff_pacer_on_sent(&p, 12000, MS(100), MDS, MS(8));
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, MS(8)), MS(16));
    /* A doubled window halves the gap. */
    CHECK_U64(skiff_pacer_next_send_time(&p, 24000, MS(100), MDS, MS(8)), MS(12));
    /* Half a datagram is earned in half the time: 600 bytes, 4 ms. */
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), 600, MS(8)), MS(12));

    /* Idle time refills the bucket only up to the burst. */
    skiff_time later = SKIFF_MS(10000);
    for (int i = 0; i < 10; i++) {
        CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, later), later);
        skiff_pacer_on_sent(&p, 12000, MS(100), MDS, later);
    }
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, later), later + MS(8));

    /* Over a long paced run the rate holds: 1000 datagrams at the earliest
     * allowed times take 1000 * 8 ms less the initial burst. */
    skiff_pacer_init(&p, MDS, 10, 0);
    skiff_time now = 0;
    for (int i = 0; i < 1000; i++) {
        now = skiff_pacer_next_send_time(&p, 12000, MS(100), MDS, now);
        skiff_pacer_on_sent(&p, 12000, MS(100), MDS, now);
    }
    CHECK_U64(now, MS(8) * 990);

    /* No pacing without a window or an RTT. */
    CHECK_U64(skiff_pacer_next_send_time(&p, 0, MS(100), MDS, 5), 5);
    CHECK_U64(skiff_pacer_next_send_time(&p, 12000, 0, MDS, 5), 5);
}

int main(void)
{
    RUN(windows);
    RUN(selection);
    RUN(newreno_slow_start);
    RUN(newreno_recovery_once_per_round_trip);
    RUN(no_growth_when_app_limited);
    RUN(persistent_congestion_and_reset);
    RUN(datagram_size_change);
    RUN(cubic_reduction_and_fast_convergence);
    RUN(cubic_follows_w_cubic);
    RUN(cubic_reno_friendly);
    RUN(cubic_persistent_congestion_restarts_curve);
    RUN(cubic_app_limited_holds_the_curve);
    RUN(pacer_rate_and_burst);
    return test_report("cc");
}
