/*
 * CUBIC window arithmetic (RFC 9438), for QUIC (RFC 9002 §7.3 allows any
 * controller with the same properties) and TCP.
 *
 * Slow start is the same as NewReno's. In congestion avoidance the window
 * follows the cubic curve of §4.2, in bytes rather than segments:
 *
 *     W_cubic(t) = C * mds * (t - K)^3 + W_max,   K = cbrt((W_max - cwnd_epoch) / (C * mds))
 *
 * where t is the time since the stage began (the first ack after the
 * recovery period, §4.2) and cwnd_epoch the window then. Each ack moves cwnd
 * towards target = W_cubic(t + RTT), clamped to [cwnd, 1.5 * cwnd], by
 * (target - cwnd) * acked / cwnd bytes (§4.4, §4.5). The Reno-friendly
 * estimate W_est (§4.3) grows by alpha_cubic * mds * acked / cwnd, with alpha
 * 3(1 - beta)/(1 + beta) until W_est reaches cwnd_prior and 1 after; while
 * W_cubic(t) < W_est the window takes W_est (never shrinking without a
 * congestion signal, so the larger of the two updates wins). A congestion
 * event (§4.6) sets cwnd_prior = cwnd, W_max = cwnd, or with fast
 * convergence (§4.7) cwnd * (1 + beta) / 2 when cwnd had not regained the
 * previous W_max, and ssthresh = cwnd = beta * cwnd (at least the minimum
 * window). Persistent congestion is the §4.8 timeout case: the next stage
 * starts with K = 0 and W_max = the window at its start.
 *
 * App-limited (§5.8): no growth, and the stage's clock is held still by
 * moving epoch_start forward over the app-limited time, so that the curve
 * does not jump when the sender becomes cwnd-limited again.
 *
 * Arithmetic is in double; the cube root is a few Newton steps, so the
 * library does not need libm.
 */
#include "cc/cc.h"

#define CUBIC_C 0.4 /* §5.1 */
/* §4.6 beta_cubic = 7/10, applied as * 7 / 10 so that whole-byte windows
 * give exact results (0.7 has no exact binary form). */
#define CUBIC_BETA_NUM 7.0
#define CUBIC_BETA_DEN 10.0
#define CUBIC_ALPHA (3.0 * 3.0 / 17.0) /* §4.3: 3 (1 - beta) / (1 + beta) */
#define NS_PER_S 1e9

static double cube_root(double x)
{
    if (!(x > 0)) return 0;
    double scale = 1;
    while (x >= 8) {
        x /= 8;
        scale *= 2;
    }
    while (x < 1) {
        x *= 8;
        scale /= 2;
    }
    double y = 1.5; /* cbrt of [1, 8) is in [1, 2): Newton converges in a few steps */
    for (int i = 0; i < 8; i++)
        y -= (y * y * y - x) / (3 * y * y);
    return y * scale;
}

static double w_cubic(const skiff_cc *cc, double t)
{
    const skiff_cc_cubic *s = &cc->u.cubic;
    double d = t - s->k;
    return CUBIC_C * (double)cc->max_datagram_size * d * d * d + s->w_max;
}

static void set_cwnd(skiff_cc *cc, double w)
{
    double min = (double)skiff_cc_minimum_window(cc->max_datagram_size);
    if (w < min) w = min;
    cc->u.cubic.cwnd = w;
    cc->cwnd = (uint64_t)w;
}

static void cubic_init(skiff_cc *cc, skiff_time now)
{
    (void)now;
    skiff_cc_cubic *s = &cc->u.cubic;
    s->cwnd = (double)cc->cwnd;
    s->w_max = 0;
    s->cwnd_prior = 0;
    s->w_est = 0;
    s->k = 0;
    s->in_epoch = false;
    s->fast_convergence = true;
}

static void start_epoch(skiff_cc *cc, skiff_time now)
{
    skiff_cc_cubic *s = &cc->u.cubic;
    s->in_epoch = true;
    s->epoch_start = now;
    s->last_ack = now;
    s->w_est = s->cwnd; /* §4.3: W_est starts at cwnd_epoch */
    if (s->w_max <= s->cwnd) {
        /* No reduction to recover from (first stage, or after persistent
         * congestion, §4.8): the curve starts at its plateau. */
        s->w_max = s->cwnd;
        s->k = 0;
    } else {
        s->k = cube_root((s->w_max - s->cwnd) / (CUBIC_C * (double)cc->max_datagram_size));
    }
}

static void cubic_on_acked(skiff_cc *cc, uint64_t bytes, skiff_time sent_time, skiff_time now,
                           const skiff_rtt *rtt, bool app_limited)
{
    (void)sent_time;
    skiff_cc_cubic *s = &cc->u.cubic;
    if ((uint64_t)s->cwnd != cc->cwnd) s->cwnd = (double)cc->cwnd; /* changed from outside */
    if (app_limited) {
        if (s->in_epoch && now > s->last_ack) s->epoch_start += now - s->last_ack;
        s->last_ack = now;
        return;
    }
    if (skiff_cc_in_slow_start(cc)) {
        set_cwnd(cc, s->cwnd + (double)bytes);
        return;
    }
    if (!s->in_epoch) start_epoch(cc, now);
    if (now > s->last_ack) s->last_ack = now;

    double mds = (double)cc->max_datagram_size, acked = (double)bytes, cwnd = s->cwnd;
    double t = now > s->epoch_start ? (double)(now - s->epoch_start) / NS_PER_S : 0;
    double srtt = (double)rtt->smoothed_rtt / NS_PER_S;

    /* §4.4/§4.5: aim for W_cubic one RTT ahead, within [cwnd, 1.5 cwnd]. */
    double target = w_cubic(cc, t + srtt);
    if (target < cwnd) target = cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    double next = cwnd + (target - cwnd) * acked / cwnd;

    /* §4.3: the Reno-friendly estimate. */
    double alpha = s->w_est >= s->cwnd_prior ? 1.0 : CUBIC_ALPHA;
    s->w_est += alpha * mds * acked / cwnd;
    if (w_cubic(cc, t) < s->w_est && s->w_est > next) next = s->w_est;
    set_cwnd(cc, next);
}

static void cubic_reduce(skiff_cc *cc)
{
    skiff_cc_cubic *s = &cc->u.cubic;
    if ((uint64_t)s->cwnd != cc->cwnd) s->cwnd = (double)cc->cwnd;
    double cwnd = s->cwnd;
    s->cwnd_prior = cwnd;
    /* §4.7 fast convergence: a window that did not get back to W_max means
     * another flow took the capacity; release some to it. */
    if (s->fast_convergence && cwnd < s->w_max)
        s->w_max = cwnd * 17.0 / 20.0; /* (1+beta)/2 */
    else
        s->w_max = cwnd;
    double min = (double)skiff_cc_minimum_window(cc->max_datagram_size);
    double ssthresh = cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN;
    if (ssthresh < min) ssthresh = min;
    cc->ssthresh = (uint64_t)ssthresh;
    set_cwnd(cc, (double)cc->ssthresh);
    s->in_epoch = false;
}

static void cubic_on_congestion_event(skiff_cc *cc, skiff_time sent_time, skiff_time now)
{
    (void)sent_time;
    (void)now;
    cubic_reduce(cc);
}

static void cubic_on_persistent_congestion(skiff_cc *cc, skiff_time now)
{
    (void)now;
    skiff_cc_cubic *s = &cc->u.cubic;
    s->cwnd = (double)cc->cwnd;
    s->w_max = 0; /* §4.8: the next stage starts at K = 0 from its own window */
    s->k = 0;
    s->in_epoch = false;
}

const skiff_cc_ops skiff_cc_cubic_ops = {
    .name = "cubic",
    .init = cubic_init,
    .on_packet_sent = NULL,
    .on_packets_acked = cubic_on_acked,
    .on_congestion_event = cubic_on_congestion_event,
    .on_ecn_ce = cubic_on_congestion_event, /* RFC 9438 §4.6: ECN-CE reduces as a loss */
    .on_persistent_congestion = cubic_on_persistent_congestion,
};
