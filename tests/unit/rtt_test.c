/* RTT estimator (RFC 9002 §5) and the PTO / RTO formulas, against values
 * worked out by hand in the comments. */
#include "cc/rtt.h"
#include "test.h"

#define MS(x) SKIFF_MS(x)
#define US(x) SKIFF_US(x)

static void initial_state(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, 0);
    CHECK(!r.has_sample);
    CHECK_U64(r.smoothed_rtt, MS(333));
    CHECK_U64(r.rttvar, US(166500));
    /* §6.2.2: 333 + 4 * 166.5 = 999 ms before any sample. */
    CHECK_U64(skiff_rtt_pto(&r, 0), MS(999));
    CHECK_U64(skiff_rtt_pto(&r, MS(25)), MS(1024));
    /* RFC 6298 §2.1: 999 ms raised to the 1 s minimum. */
    CHECK_U64(skiff_rtt_rto(&r, 0), MS(1000));

    skiff_rtt_init(&r, MS(100)); /* configurable */
    CHECK_U64(r.smoothed_rtt, MS(100));
    CHECK_U64(r.rttvar, MS(50));
    CHECK_U64(skiff_rtt_pto(&r, 0), MS(300));
}

static void first_sample(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, 0);
    /* The first sample ignores ack_delay entirely (§5.3). */
    skiff_rtt_update(&r, MS(100), MS(50), MS(25), true, MS(7));
    CHECK(r.has_sample);
    CHECK_U64(r.latest_rtt, MS(100));
    CHECK_U64(r.min_rtt, MS(100));
    CHECK_U64(r.smoothed_rtt, MS(100));
    CHECK_U64(r.rttvar, MS(50));
    CHECK_U64(r.first_sample_time, MS(7));
    /* 100 + max(200, 1) + 25 */
    CHECK_U64(skiff_rtt_pto(&r, MS(25)), MS(325));
}

static void ack_delay_adjustment(void)
{
    skiff_rtt r;
    /* Before confirmation the delay is not capped: 200 - 30 = 170.
     * rttvar = (3 * 50 + |100 - 170|) / 4 = 55; srtt = (7 * 100 + 170) / 8 = 108.75. */
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, MS(25), false, 0);
    skiff_rtt_update(&r, MS(200), MS(30), MS(25), false, MS(1));
    CHECK_U64(r.latest_rtt, MS(200));
    CHECK_U64(r.min_rtt, MS(100));
    CHECK_U64(r.rttvar, MS(55));
    CHECK_U64(r.smoothed_rtt, US(108750));

    /* After confirmation the delay is capped at max_ack_delay: 200 - 25 = 175.
     * rttvar = (150 + 75) / 4 = 56.25; srtt = (700 + 175) / 8 = 109.375. */
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, MS(25), true, 0);
    skiff_rtt_update(&r, MS(200), MS(30), MS(25), true, MS(1));
    CHECK_U64(r.rttvar, US(56250));
    CHECK_U64(r.smoothed_rtt, US(109375));

    /* A delay that would take the sample below min_rtt is not subtracted:
     * 120 < 100 + 30, so adjusted = 120. rttvar = (150 + 20) / 4 = 42.5;
     * srtt = (700 + 120) / 8 = 102.5. */
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, MS(25), true, 0);
    skiff_rtt_update(&r, MS(120), MS(30), MS(25), true, MS(1));
    CHECK_U64(r.rttvar, US(42500));
    CHECK_U64(r.smoothed_rtt, US(102500));

    /* Exactly at min_rtt + ack_delay it is subtracted: 130 - 30 = 100.
     * rttvar = (150 + 0) / 4 = 37.5; srtt = 100. */
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, MS(25), false, 0);
    skiff_rtt_update(&r, MS(130), MS(30), MS(25), false, MS(1));
    CHECK_U64(r.rttvar, US(37500));
    CHECK_U64(r.smoothed_rtt, MS(100));
}

static void min_rtt_is_raw(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, MS(25), true, 0);
    /* 80 ms with 10 ms of ack delay: min_rtt is 80, not 70 (§5.2), and the
     * delay is not subtracted because 80 < 80 + 10. srtt = (700 + 80) / 8. */
    skiff_rtt_update(&r, MS(80), MS(10), MS(25), true, MS(1));
    CHECK_U64(r.min_rtt, MS(80));
    CHECK_U64(r.smoothed_rtt, US(97500));
    /* A larger sample does not raise it. */
    skiff_rtt_update(&r, MS(300), 0, MS(25), true, MS(2));
    CHECK_U64(r.min_rtt, MS(80));
    CHECK_U64(r.latest_rtt, MS(300));
}

static void pto_granularity_floor(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, 0);
    /* Identical 10 ms samples shrink rttvar by 3/4 each time: 5 ms, 3.75,
     * ... below 250 us after 14 more, so 4 * rttvar < kGranularity. */
    for (int i = 0; i < 15; i++)
        skiff_rtt_update(&r, MS(10), 0, 0, true, (skiff_time)i);
    CHECK(4 * r.rttvar < SKIFF_RTT_GRANULARITY);
    CHECK_U64(r.smoothed_rtt, MS(10));
    CHECK_U64(skiff_rtt_pto(&r, 0), MS(11));
    CHECK_U64(skiff_rtt_pto(&r, MS(25)), MS(36));
    /* TCP: the same 1 ms floor on the variance term, then the minimum. */
    CHECK_U64(skiff_rtt_rto(&r, MS(5)), MS(11));
    CHECK_U64(skiff_rtt_rto(&r, 0), MS(1000));
}

static void rto_bounds(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(100), 0, 0, false, 0);
    /* 100 + 4 * 50 = 300 ms: under the 1 s default, kept with a 200 ms one. */
    CHECK_U64(skiff_rtt_rto(&r, 0), MS(1000));
    CHECK_U64(skiff_rtt_rto(&r, MS(200)), MS(300));
    /* 30 s + 4 * 15 s = 90 s, capped at 60 s (RFC 6298 §2.5). */
    skiff_rtt_init(&r, 0);
    skiff_rtt_update(&r, MS(30000), 0, 0, false, 0);
    CHECK_U64(skiff_rtt_rto(&r, 0), MS(60000));
}

static void reset_forgets_samples(void)
{
    skiff_rtt r;
    skiff_rtt_init(&r, MS(50));
    skiff_rtt_update(&r, MS(10), 0, 0, false, MS(3));
    skiff_rtt_reset(&r);
    CHECK(!r.has_sample);
    CHECK_U64(r.smoothed_rtt, MS(50));
    CHECK_U64(r.rttvar, MS(25));
    CHECK_U64(r.latest_rtt, 0);
    /* The next sample is a first sample again. */
    skiff_rtt_update(&r, MS(40), MS(20), MS(25), true, MS(9));
    CHECK_U64(r.smoothed_rtt, MS(40));
    CHECK_U64(r.min_rtt, MS(40));
    CHECK_U64(r.first_sample_time, MS(9));
}

int main(void)
{
    RUN(initial_state);
    RUN(first_sample);
    RUN(ack_delay_adjustment);
    RUN(min_rtt_is_raw);
    RUN(pto_granularity_floor);
    RUN(rto_bounds);
    RUN(reset_forgets_samples);
    return test_report("rtt");
}
