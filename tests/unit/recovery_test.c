/*
 * Loss detection (RFC 9002 §5, §6, Appendix A) and the sent-packet history:
 * which packets are reported acknowledged and lost and in what order, the
 * exact timer deadlines, PTO backoff and probes, the client's anti-deadlock
 * PTO, ACKs of unsent packets, discarding a space, persistent congestion,
 * ECN validation and the history's bounds. Expected times are worked out in
 * the comments.
 */
#include "quic/recovery.h"
#include "test.h"

#define MS(x) SKIFF_MS(x)
#define US(x) SKIFF_US(x)
#define INI SKIFF_SPACE_INITIAL
#define HS SKIFF_SPACE_HANDSHAKE
#define APP SKIFF_SPACE_APPLICATION

/* ---- Helpers ---------------------------------------------------------------- */

/* Every callback appends "A<pn>," or "L<pn>," (with a space prefix "i"/"h"
 * for Initial/Handshake), so a test compares the whole sequence at once. */
static char events[4096];
static int frame_mismatches;

static void note(char kind, skiff_pn_space space, const skiff_sent_packet *p)
{
    size_t n = strlen(events);
    const char *pre = space == INI ? "i" : space == HS ? "h" : "";
    snprintf(events + n, sizeof events - n, "%s%c%" PRIu64 ",", pre, kind, p->pn);
    /* The frame records come back as they were given (see send()). */
    if (p->frame_count != 1 || p->frames[0].kind != 7 || p->frames[0].a != p->pn * 100 ||
        p->frames[0].b != p->pn || p->frames[0].len16 != 42)
        frame_mismatches++;
}

static void on_acked(void *ud, skiff_pn_space space, const skiff_sent_packet *p)
{
    (void)ud;
    note('A', space, p);
}

static void on_lost(void *ud, skiff_pn_space space, const skiff_sent_packet *p)
{
    (void)ud;
    note('L', space, p);
}

static const skiff_recovery_callbacks cbs = {on_acked, on_lost};

static void clear_events(void)
{
    events[0] = 0;
}

static skiff_sent_packet packet(uint64_t pn, skiff_time t, bool eliciting)
{
    skiff_sent_packet p;
    memset(&p, 0, sizeof p);
    p.pn = pn;
    p.time_sent = t;
    p.size = 1200;
    p.ack_eliciting = eliciting;
    p.in_flight = eliciting;
    p.frame_count = 1;
    p.frames[0].kind = 7;
    p.frames[0].len16 = 42;
    p.frames[0].a = pn * 100;
    p.frames[0].b = pn;
    return p;
}

static void send(skiff_recovery *r, skiff_pn_space space, uint64_t pn, skiff_time t)
{
    skiff_sent_packet p = packet(pn, t, true);
    CHECK_EQ(skiff_recovery_on_packet_sent(r, space, &p), 0);
}

/* An ACK frame built by the frame codec from (largest, smallest) pairs in
 * descending order, then decoded, as the connection would receive it. */
typedef struct ack_buf {
    uint8_t wire[512];
    skiff_frame f;
} ack_buf;

static const skiff_frame_ack *make_ack(ack_buf *b, const uint64_t *pairs, size_t n,
                                       const skiff_frame_ecn_counts *ecn)
{
    skiff_frame_ack_interval iv[16];
    for (size_t i = 0; i < n; i++) {
        iv[i].largest = pairs[2 * i];
        iv[i].smallest = pairs[2 * i + 1];
    }
    size_t written = 0;
    skiff_ssize len =
        skiff_frame_ack_encode_intervals(b->wire, sizeof b->wire, iv, n, 0, ecn, &written);
    if (len <= 0 || written != n) abort();
    if (skiff_frame_decode(&b->f, b->wire, (size_t)len) != len) abort();
    return &b->f.ack;
}

static const skiff_frame_ack *ack1(ack_buf *b, uint64_t largest, uint64_t smallest)
{
    uint64_t pairs[2] = {largest, smallest};
    return make_ack(b, pairs, 1, NULL);
}

static int ack(skiff_recovery *r, skiff_pn_space space, uint64_t largest, uint64_t smallest,
               skiff_time now)
{
    ack_buf b;
    return skiff_recovery_on_ack(r, space, ack1(&b, largest, smallest), 0, now, &cbs, NULL);
}

static void init(skiff_recovery *r, bool server)
{
    skiff_recovery_config cfg;
    skiff_recovery_config_default(&cfg);
    cfg.is_server = server;
    CHECK_EQ(skiff_recovery_init(r, &cfg, 0), 0);
    clear_events();
}

/* ---- Loss detection ----------------------------------------------------------- */

static void packet_then_time_threshold(void)
{
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    for (uint64_t pn = 1; pn <= 10; pn++)
        send(&r, APP, pn, MS(pn));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 12000);

    /* ACK of 5 at 50 ms: 1 and 2 are 3 or more below it (§6.1.1); 3 and 4
     * are not, and not old enough yet. RTT sample 45 ms (first sample). */
    CHECK_EQ(ack(&r, APP, 5, 5, MS(50)), 0);
    CHECK(!strcmp(events, "A5,L1,L2,"));
    CHECK_U64(r.rtt.latest_rtt, MS(45));
    CHECK_U64(r.rtt.smoothed_rtt, MS(45));
    /* loss_delay = 9/8 * 45 = 50.625 ms; packet 3 was sent at 3 ms. */
    CHECK_U64(skiff_recovery_timer(&r), US(53625));
    CHECK_U64(r.spaces[APP].loss_time, US(53625));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 7 * 1200);
    /* One congestion event, handled before the ACK's growth (§A.7), and 5
     * was sent before that recovery period began: 12000 halved, no growth. */
    CHECK_U64(skiff_recovery_cwnd(&r), 6000);
    CHECK_U64(r.cc.recovery_start, MS(50));

    skiff_recovery_probe probe;
    clear_events();
    CHECK_EQ(skiff_recovery_on_timeout(&r, US(53624), &cbs, NULL, &probe), 0); /* not yet */
    CHECK(!strcmp(events, ""));
    CHECK_EQ(skiff_recovery_on_timeout(&r, US(53625), &cbs, NULL, &probe), 0);
    CHECK(!strcmp(events, "L3,"));
    CHECK_EQ(probe.packets[APP], 0);
    CHECK_U64(skiff_recovery_timer(&r), US(54625));
    CHECK_EQ(skiff_recovery_on_timeout(&r, US(54625), &cbs, NULL, &probe), 0);
    CHECK(!strcmp(events, "L3,L4,"));
    CHECK_EQ(r.pto_count, 0);
    /* Both were sent before recovery began at 50 ms: no second reduction. */
    CHECK_U64(skiff_recovery_cwnd(&r), 6000);
    CHECK_EQ(r.cc.congestion_events, 1);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 5 * 1200);
    /* 6..10 are above the largest acknowledged: now the PTO, from packet 10
     * at 10 ms: 45 + max(4 * 22.5, 1) + 25 = 160 ms later. */
    CHECK_U64(skiff_recovery_timer(&r), MS(170));
    CHECK_EQ(frame_mismatches, 0);
    skiff_recovery_free(&r);
}

static void packet_threshold_takes_all_below(void)
{
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    for (uint64_t pn = 1; pn <= 10; pn++)
        send(&r, APP, pn, MS(pn));
    CHECK_EQ(ack(&r, APP, 10, 5, MS(50)), 0);
    CHECK(!strcmp(events, "A10,A9,A8,A7,A6,A5,L1,L2,L3,L4,"));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    CHECK_EQ(skiff_sent_packets_count(&r.spaces[APP].sent), 0);
    skiff_recovery_free(&r);
}

static void acked_and_lost_exact_with_ranges(void)
{
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    for (uint64_t pn = 1; pn <= 10; pn++)
        send(&r, APP, pn, MS(pn));
    ack_buf b;
    uint64_t pairs[] = {10, 8, 5, 3};
    const skiff_frame_ack *a = make_ack(&b, pairs, 2, NULL);
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, a, 0, MS(60), &cbs, NULL), 0);
    /* Largest first within the ACK; then losses in ascending order: 1, 2,
     * 6 and 7 are 3 or more below 10. */
    CHECK(!strcmp(events, "A10,A9,A8,A5,A4,A3,L1,L2,L6,L7,"));
    /* The same ACK again reports nothing. */
    clear_events();
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, a, 0, MS(70), &cbs, NULL), 0);
    CHECK(!strcmp(events, ""));
    CHECK_EQ(frame_mismatches, 0);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    skiff_recovery_free(&r);
}

static void rtt_sample_rules(void)
{
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    send(&r, APP, 1, 0);
    send(&r, APP, 2, MS(10));
    CHECK_EQ(ack(&r, APP, 2, 2, MS(60)), 0);
    CHECK_U64(r.rtt.latest_rtt, MS(50));
    /* 1 newly acknowledged, but not the largest: no sample (§5.1). */
    CHECK_EQ(ack(&r, APP, 2, 1, MS(200)), 0);
    CHECK_U64(r.rtt.latest_rtt, MS(50));
    /* A largest that is not ack-eliciting, alone: no sample. */
    skiff_sent_packet p = packet(3, MS(210), false);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), 0);
    CHECK_EQ(ack(&r, APP, 3, 3, MS(300)), 0);
    CHECK_U64(r.rtt.latest_rtt, MS(50));
    /* Largest not ack-eliciting, but an ack-eliciting one newly acked with
     * it: a sample, measured from the largest (400 - 320). */
    send(&r, APP, 4, MS(310));
    p = packet(5, MS(320), false);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), 0);
    CHECK_EQ(ack(&r, APP, 5, 4, MS(400)), 0);
    CHECK_U64(r.rtt.latest_rtt, MS(80));
    skiff_recovery_free(&r);

    /* §5.3: ack_delay is ignored in the Initial space and used elsewhere.
     * Second samples of 200 ms with 50 ms delay: Initial 200 -> srtt =
     * (700 + 200) / 8 = 112.5; Handshake 150 -> srtt = 106.25. */
    ack_buf b;
    init(&r, false);
    send(&r, INI, 0, 0);
    CHECK_EQ(ack(&r, INI, 0, 0, MS(100)), 0);
    send(&r, INI, 1, MS(100));
    CHECK_EQ(skiff_recovery_on_ack(&r, INI, ack1(&b, 1, 1), MS(50), MS(300), &cbs, NULL), 0);
    CHECK_U64(r.rtt.smoothed_rtt, US(112500));
    skiff_recovery_free(&r);
    init(&r, false);
    skiff_recovery_set_keys_available(&r, HS, 0);
    send(&r, HS, 0, 0);
    CHECK_EQ(ack(&r, HS, 0, 0, MS(100)), 0);
    send(&r, HS, 1, MS(100));
    CHECK_EQ(skiff_recovery_on_ack(&r, HS, ack1(&b, 1, 1), MS(50), MS(300), &cbs, NULL), 0);
    CHECK_U64(r.rtt.smoothed_rtt, US(106250));
    skiff_recovery_free(&r);
}

/* ---- PTO -------------------------------------------------------------------- */

static void pto_deadline_and_backoff(void)
{
    skiff_recovery r;
    skiff_recovery_probe probe;
    init(&r, false);
    /* Before confirmation the Application Data space arms no PTO (§6.2.1). */
    send(&r, APP, 0, 0);
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    /* After: 333 + 4 * 166.5 + 25 (max_ack_delay) = 1024 ms. */
    skiff_recovery_set_handshake_confirmed(&r, MS(1));
    CHECK_U64(skiff_recovery_timer(&r), MS(1024));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(1023), &cbs, NULL, &probe), 0);
    CHECK_EQ(r.pto_count, 0);
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(1024), &cbs, NULL, &probe), 1);
    CHECK_EQ(probe.packets[INI], 0);
    CHECK_EQ(probe.packets[HS], 0);
    CHECK_EQ(probe.packets[APP], 2);
    CHECK(!probe.anti_deadlock);
    CHECK(!strcmp(events, "")); /* a PTO declares nothing lost */
    CHECK_EQ(r.pto_count, 1);
    /* Backoff doubles the whole period, max_ack_delay included. */
    CHECK_U64(skiff_recovery_timer(&r), MS(2048));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(2048), &cbs, NULL, &probe), 1);
    CHECK_EQ(r.pto_count, 2);
    CHECK_U64(skiff_recovery_timer(&r), MS(4096));
    /* The probe goes out; the next deadline counts from it. */
    send(&r, APP, 1, MS(4096));
    CHECK_U64(skiff_recovery_timer(&r), MS(4096) + MS(4096));
    CHECK_U64(skiff_recovery_pto_duration(&r), MS(1024));
    /* Its ACK resets the backoff; packet 0 is older than 9/8 RTT: lost. */
    CHECK_EQ(ack(&r, APP, 1, 1, MS(4196)), 0);
    CHECK(!strcmp(events, "A1,L0,"));
    CHECK_EQ(r.pto_count, 0);
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    CHECK_U64(skiff_recovery_pto_duration(&r), MS(325)); /* 100 + 200 + 25 */
    skiff_recovery_free(&r);
}

static void probes_per_space(void)
{
    skiff_recovery r;
    skiff_recovery_probe probe;
    init(&r, false);
    skiff_recovery_set_keys_available(&r, HS, 0);
    send(&r, INI, 0, 0);
    send(&r, HS, 0, MS(10));
    send(&r, APP, 0, MS(20)); /* 0-RTT: no PTO of its own before confirmation */
    /* Initial's deadline (no max_ack_delay) is the earliest: 999 ms. */
    CHECK_U64(skiff_recovery_timer(&r), MS(999));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(999), &cbs, NULL, &probe), 1);
    CHECK_EQ(probe.packets[INI], 2);
    CHECK_EQ(probe.packets[HS], 1); /* §6.2.4: the other space in flight too */
    CHECK_EQ(probe.packets[APP], 0);
    CHECK_U64(skiff_recovery_timer(&r), MS(1998));
    /* Discarding Initial resets the backoff: Handshake's 10 + 999 ms is
     * already past, so the timer fires at once. */
    skiff_recovery_discard_space(&r, INI, MS(1500));
    CHECK_EQ(r.pto_count, 0);
    CHECK_U64(skiff_recovery_timer(&r), MS(1009));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(1500), &cbs, NULL, &probe), 1);
    CHECK_EQ(probe.packets[INI], 0);
    CHECK_EQ(probe.packets[HS], 2);
    CHECK_EQ(probe.packets[APP], 0);
    /* Confirmed: Application Data now competes, with max_ack_delay:
     * Handshake 10 + 2 * 999 = 2008 against 20 + 2 * 1024 = 2068. */
    skiff_recovery_set_handshake_confirmed(&r, MS(1600));
    CHECK_U64(skiff_recovery_timer(&r), MS(2008));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(2008), &cbs, NULL, &probe), 1);
    CHECK_EQ(probe.packets[HS], 2);
    CHECK_EQ(probe.packets[APP], 1);
    skiff_recovery_discard_space(&r, HS, MS(2100));
    CHECK_U64(skiff_recovery_timer(&r), MS(20) + MS(1024));
    skiff_recovery_free(&r);
}

static void client_anti_deadlock(void)
{
    skiff_recovery r;
    skiff_recovery_probe probe;
    init(&r, false);
    send(&r, INI, 0, 0);
    CHECK_EQ(ack(&r, INI, 0, 0, MS(100)), 0); /* srtt 100, rttvar 50 */
    CHECK(!strcmp(events, "iA0,"));
    /* Nothing in flight, but the server may be amplification-limited: the
     * client keeps a PTO, counted from now: 100 + (100 + 200) ms. */
    CHECK_U64(skiff_recovery_timer(&r), MS(400));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(400), &cbs, NULL, &probe), 1);
    CHECK(probe.anti_deadlock);
    CHECK_EQ(probe.packets[INI], 2); /* no Handshake keys: padded Initials, two (§6.2.4) */
    CHECK_EQ(probe.packets[HS], 0);
    CHECK_EQ(r.pto_count, 1);
    CHECK_U64(skiff_recovery_timer(&r), MS(1000));
    /* Handshake keys arrive: the probe moves there, re-armed from now. */
    skiff_recovery_set_keys_available(&r, HS, MS(500));
    CHECK_U64(skiff_recovery_timer(&r), MS(1100));
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(1100), &cbs, NULL, &probe), 1);
    CHECK(probe.anti_deadlock);
    CHECK_EQ(probe.packets[INI], 0);
    CHECK_EQ(probe.packets[HS], 2);
    CHECK_EQ(r.pto_count, 2);
    send(&r, HS, 0, MS(1100));
    CHECK_U64(skiff_recovery_timer(&r), MS(1100) + 4 * MS(300));
    /* A Handshake ACK proves the server validated us: backoff reset, and
     * with nothing in flight, no timer. */
    CHECK_EQ(ack(&r, HS, 0, 0, MS(1200)), 0);
    CHECK_EQ(r.pto_count, 0);
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    skiff_recovery_free(&r);

    /* A server in the same position has no timer (§A.6). */
    init(&r, true);
    send(&r, INI, 0, 0);
    CHECK_EQ(ack(&r, INI, 0, 0, MS(100)), 0);
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    skiff_recovery_free(&r);
}

static void server_amplification_blocked(void)
{
    skiff_recovery r;
    skiff_recovery_probe probe;
    init(&r, true);
    send(&r, INI, 0, 0);
    CHECK_U64(skiff_recovery_timer(&r), MS(999));
    skiff_recovery_set_amplification_blocked(&r, true, MS(10));
    CHECK_U64(skiff_recovery_timer(&r), SKIFF_TIME_NEVER);
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(2000), &cbs, NULL, &probe), 0);
    CHECK_EQ(r.pto_count, 0);
    skiff_recovery_set_amplification_blocked(&r, false, MS(20));
    CHECK_U64(skiff_recovery_timer(&r), MS(999));
    /* A pending loss time is kept even while blocked. */
    send(&r, INI, 1, MS(1));
    CHECK_EQ(ack(&r, INI, 1, 1, MS(100)), 0); /* latest 99 ms: 0 lost at 111.375 */
    skiff_recovery_set_amplification_blocked(&r, true, MS(101));
    CHECK_U64(skiff_recovery_timer(&r), US(111375));
    skiff_recovery_free(&r);
}

/* ---- Hostile ACKs, discard ------------------------------------------------- */

static void ack_of_unsent_packet(void)
{
    skiff_recovery r;
    ack_buf b;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    for (uint64_t pn = 0; pn <= 4; pn++)
        send(&r, APP, pn, MS(pn));
    /* RFC 9000 §13.1: 5 was never sent. Nothing changes. */
    CHECK_EQ(ack(&r, APP, 5, 0, MS(50)), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK(!strcmp(events, ""));
    CHECK_U64(r.spaces[APP].largest_acked, SKIFF_RECOVERY_PN_NONE);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 6000);
    CHECK(!r.rtt.has_sample);
    uint64_t far = (UINT64_C(1) << 62) - 1;
    CHECK_EQ(ack(&r, APP, far, 0, MS(50)), SKIFF_ERR_PROTOCOL_VIOLATION);
    /* Nothing sent in Handshake at all. */
    CHECK_EQ(ack(&r, HS, 0, 0, MS(50)), SKIFF_ERR_PROTOCOL_VIOLATION);

    /* A skipped packet number (optimistic-ACK detection, RFC 9000 §21.4). */
    CHECK_EQ(skiff_recovery_skip_pn(&r, APP, 3), SKIFF_ERR_INVALID_ARGUMENT); /* used */
    CHECK_EQ(skiff_recovery_skip_pn(&r, APP, 5), 0);
    skiff_sent_packet p = packet(5, MS(5), true);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), SKIFF_ERR_INVALID_ARGUMENT);
    send(&r, APP, 6, MS(6));
    CHECK_EQ(ack(&r, APP, 6, 4, MS(50)), SKIFF_ERR_PROTOCOL_VIOLATION);
    uint64_t around[] = {9, 9, 2, 0}; /* a later range that is bad, an earlier one good */
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, around, 2, NULL), 0, MS(50), &cbs, NULL),
             SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK(!strcmp(events, ""));
    uint64_t ok[] = {6, 6, 4, 0};
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, ok, 2, NULL), 0, MS(50), &cbs, NULL), 0);
    CHECK(!strcmp(events, "A6,A4,A3,A2,A1,A0,"));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    skiff_recovery_free(&r);
}

static void discard_space(void)
{
    skiff_recovery r;
    skiff_recovery_probe probe;
    init(&r, false);
    skiff_recovery_set_keys_available(&r, HS, 0);
    send(&r, INI, 0, 0);
    send(&r, INI, 1, 0);
    send(&r, HS, 0, 0);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 3600);
    CHECK_EQ(skiff_recovery_on_timeout(&r, MS(999), &cbs, NULL, &probe), 1);
    CHECK_EQ(r.pto_count, 1);
    clear_events();
    skiff_recovery_discard_space(&r, INI, MS(1000));
    CHECK(!strcmp(events, "")); /* §6.4: no loss reported */
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 1200);
    CHECK_U64(r.spaces[INI].bytes_in_flight, 0);
    CHECK_EQ(r.pto_count, 0);
    CHECK_EQ(skiff_sent_packets_memory(&r.spaces[INI].sent), 0);
    CHECK_U64(skiff_recovery_timer(&r), MS(999)); /* Handshake's, unbacked-off */
    /* The space is closed for packets; its ACKs are ignored. */
    skiff_sent_packet p = packet(2, MS(1000), true);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, INI, &p), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(!skiff_recovery_can_record(&r, INI, 2));
    CHECK_EQ(ack(&r, INI, 1, 0, MS(1000)), 0);
    CHECK(!strcmp(events, ""));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 1200);
    skiff_recovery_discard_space(&r, HS, MS(1000));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    skiff_recovery_free(&r);
}

/* ---- Persistent congestion -------------------------------------------------- */

/* Samples 100 ms twice (srtt 100, rttvar 37.5) and loses 1, 2, 3 sent at
 * t1, t2, 1200 ms, with 4 sent at 1300 ms acknowledged at 1400 (plus 2 if
 * ack2). Duration (§7.6.1): (100 + 4 * 37.5 + 25) * 3 = 825 ms. */
static uint64_t persistent_case(skiff_time t1, skiff_time t2, bool ack2, uint64_t *cwnd)
{
    skiff_recovery r;
    ack_buf b;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    send(&r, APP, 0, 0);
    CHECK_EQ(ack(&r, APP, 0, 0, MS(100)), 0);
    send(&r, APP, 1, t1);
    send(&r, APP, 2, t2);
    send(&r, APP, 3, MS(1200));
    send(&r, APP, 4, MS(1300));
    clear_events();
    uint64_t pairs[] = {4, 4, 2, 2};
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, pairs, ack2 ? 2 : 1, NULL), 0, MS(1400),
                                   &cbs, NULL),
             0);
    CHECK(!strcmp(events, ack2 ? "A4,A2,L1,L3," : "A4,L1,L2,L3,"));
    CHECK_U64(r.rtt.rttvar, US(37500));
    *cwnd = skiff_recovery_cwnd(&r);
    uint64_t n = r.cc.persistent_congestions;
    skiff_recovery_free(&r);
    return n;
}

static void persistent_congestion(void)
{
    uint64_t cwnd;
    /* 1200 - 200 = 1000 ms >= 825: the window collapses to 2 * mds, and
     * recovery is left (§B.8), so the ACK's own packet 4 then grows it by
     * its 1200 bytes in slow start. */
    CHECK_U64(persistent_case(MS(200), MS(700), false, &cwnd), 1);
    CHECK_U64(cwnd, 3600);
    /* Exactly the duration still counts: 1200 - 375 = 825. */
    CHECK_U64(persistent_case(MS(375), MS(700), false, &cwnd), 1);
    /* 1 ns short of it does not: only the halving. */
    CHECK_U64(persistent_case(MS(375) + 1, MS(700), false, &cwnd), 0);
    CHECK_U64(cwnd, 6000);
    /* Long enough, but 2 (between them) was acknowledged. */
    CHECK_U64(persistent_case(MS(200), MS(700), true, &cwnd), 0);
    CHECK_U64(cwnd, 6000);

    /* Packets sent before the first RTT sample do not count. */
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    send(&r, APP, 0, 0);
    send(&r, APP, 1, MS(1000));
    send(&r, APP, 2, MS(2000));
    send(&r, APP, 3, MS(2100));
    CHECK_EQ(ack(&r, APP, 3, 3, MS(2200)), 0);
    CHECK(!strcmp(events, "A3,L0,L1,L2,"));
    CHECK_U64(r.cc.persistent_congestions, 0);
    skiff_recovery_free(&r);
}

/* ---- ECN -------------------------------------------------------------------- */

static void send_ect(skiff_recovery *r, uint64_t pn, skiff_time t)
{
    skiff_sent_packet p = packet(pn, t, true);
    p.ecn = SKIFF_ECN_ECT0;
    CHECK_EQ(skiff_recovery_on_packet_sent(r, APP, &p), 0);
}

static void ecn_validation_and_ce(void)
{
    skiff_recovery r;
    ack_buf b;
    uint64_t pairs[2];
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_VALIDATING);
    for (uint64_t pn = 0; pn < 3; pn++)
        send_ect(&r, pn, MS(pn));
    skiff_frame_ecn_counts c = {3, 0, 0};
    pairs[0] = 2, pairs[1] = 0;
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, pairs, 1, &c), 0, MS(100), &cbs, NULL), 0);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_CAPABLE);
    CHECK_U64(skiff_recovery_cwnd(&r), 12000);
    /* A CE mark is a congestion signal (§7.1): the window halves. */
    for (uint64_t pn = 3; pn < 6; pn++)
        send_ect(&r, pn, MS(110));
    c = (skiff_frame_ecn_counts){5, 0, 1};
    pairs[0] = 5, pairs[1] = 3;
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, pairs, 1, &c), 0, MS(200), &cbs, NULL), 0);
    CHECK_U64(skiff_recovery_cwnd(&r), 6000);
    CHECK_EQ(r.cc.congestion_events, 1);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_CAPABLE);
    /* Counts that go down fail validation; no further reaction. */
    send_ect(&r, 6, MS(210));
    c = (skiff_frame_ecn_counts){4, 0, 2};
    pairs[0] = 6, pairs[1] = 6;
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, pairs, 1, &c), 0, MS(300), &cbs, NULL), 0);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_FAILED);
    CHECK_U64(skiff_recovery_cwnd(&r), 6000);
    skiff_recovery_free(&r);

    /* ECT packets acknowledged without counts: failed. */
    init(&r, false);
    send_ect(&r, 0, 0);
    CHECK_EQ(ack(&r, APP, 0, 0, MS(100)), 0);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_FAILED);
    skiff_recovery_free(&r);

    /* More marks counted than packets sent marked: failed. */
    init(&r, false);
    send_ect(&r, 0, 0);
    c = (skiff_frame_ecn_counts){10, 0, 0};
    pairs[0] = 0, pairs[1] = 0;
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, make_ack(&b, pairs, 1, &c), 0, MS(100), &cbs, NULL), 0);
    CHECK_EQ(skiff_recovery_ecn_state(&r), SKIFF_ECN_FAILED);
    skiff_recovery_free(&r);
}

/* ---- History bounds and the ring ------------------------------------------- */

static void bounded_history(void)
{
    skiff_recovery r;
    skiff_recovery_config cfg;
    skiff_recovery_config_default(&cfg);
    cfg.history_cap = 8;
    CHECK_EQ(skiff_recovery_init(&r, &cfg, 0), 0);
    clear_events();
    skiff_recovery_set_handshake_confirmed(&r, 0);
    CHECK_EQ(skiff_sent_packets_memory(&r.spaces[APP].sent), 0); /* nothing until used */
    for (uint64_t pn = 0; pn < 8; pn++)
        send(&r, APP, pn, MS(1));
    CHECK(!skiff_recovery_can_record(&r, APP, 8));
    skiff_sent_packet p = packet(8, MS(2), true);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 9600);
    /* Acknowledging the oldest frees a slot at the front. */
    CHECK_EQ(ack(&r, APP, 0, 0, MS(50)), 0);
    CHECK(skiff_recovery_can_record(&r, APP, 8));
    CHECK(!skiff_recovery_can_record(&r, APP, 9));
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), 0);
    /* An acked packet in the middle does not free the front (1 is neither
     * 3 below 2 nor 9/8 RTT old at 51 ms). */
    CHECK_EQ(ack(&r, APP, 2, 2, MS(51)), 0);
    CHECK(!strcmp(events, "A0,A2,"));
    CHECK(!skiff_recovery_can_record(&r, APP, 9));
    /* An ACK-only packet still goes out, untracked; its ACK is accepted. */
    p = packet(9, MS(52), false);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), 0);
    CHECK_EQ(skiff_sent_packets_count(&r.spaces[APP].sent), 7);
    p = packet(10, MS(52), true);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), SKIFF_ERR_BUFFER_TOO_SMALL);
    clear_events();
    CHECK_EQ(ack(&r, APP, 9, 9, MS(53)), 0);
    CHECK(!strstr(events, "A9"));
    /* Nothing newly acknowledged, so no loss detection either (§A.7). */
    CHECK(!strcmp(events, ""));
    CHECK_U64(r.spaces[APP].largest_acked, 9);
    skiff_recovery_free(&r);

    /* Storage grows with the flight and shrinks back when it empties. */
    cfg.history_cap = 1000;
    CHECK_EQ(skiff_recovery_init(&r, &cfg, 0), 0);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    uint64_t pn = 0;
    size_t peak = 0;
    for (int round = 0; round < 20; round++) {
        uint64_t first = pn;
        for (int i = 0; i < 500; i++, pn++)
            send(&r, APP, pn, MS(round * 100));
        size_t mem = skiff_sent_packets_memory(&r.spaces[APP].sent);
        if (mem > peak) peak = mem;
        CHECK_EQ(ack(&r, APP, pn - 1, first, MS(round * 100 + 50)), 0);
        CHECK_EQ(skiff_sent_packets_memory(&r.spaces[APP].sent), 16 * sizeof(skiff_sent_packet));
    }
    CHECK_EQ(peak, 512 * sizeof(skiff_sent_packet));
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    skiff_recovery_free(&r);
}

static uint64_t rng = 0x2545f4914f6cdd1du;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The ring against a plain array: random sends (with skipped numbers),
 * random acks and losses, wrap-around and growth. */
static void ring_matches_model(void)
{
    enum { N = 6000 };
    static uint8_t model[N]; /* 0 none, 1 outstanding, 2 gone */
    memset(model, 0, sizeof model);
    skiff_sent_packets h;
    skiff_sent_packets_init(&h, 300);
    uint64_t next = 0;
    int mismatches = 0, refused = 0;
    for (int step = 0; step < 40000 && next < N - 4; step++) {
        uint64_t op = next_random() % 10;
        if (op < 5) {
            uint64_t pn = next + (next_random() % 8 == 0 ? 1 + next_random() % 3 : 0);
            skiff_sent_packet p = packet(pn, (skiff_time)step, true);
            int rc = skiff_sent_packets_add(&h, &p);
            if (rc == 0) {
                model[pn] = 1;
                next = pn + 1;
            } else if (rc == SKIFF_ERR_BUFFER_TOO_SMALL) {
                refused++;
                if (skiff_sent_packets_has_room(&h, pn)) mismatches++;
            } else {
                mismatches++;
            }
        } else if (skiff_sent_packets_count(&h)) {
            /* Remove a random outstanding packet, the oldest more often. */
            uint64_t lo = skiff_sent_packets_first_pn(&h), hi = skiff_sent_packets_end_pn(&h);
            uint64_t pn = op < 8 ? lo + next_random() % (hi - lo) : lo;
            if (model[pn] == 1) {
                skiff_sent_packets_remove(&h, pn, op % 2 ? SKIFF_SENT_ACKED : SKIFF_SENT_LOST);
                model[pn] = 2;
            }
        }
        if (step % 50 == 0) {
            size_t count = 0;
            uint64_t oldest = UINT64_MAX;
            for (uint64_t pn = 0; pn < next + 2; pn++) {
                skiff_sent_packet *p = skiff_sent_packets_get(&h, pn);
                if ((p != NULL) != (model[pn] == 1)) mismatches++;
                if (p && (p->pn != pn || p->frames[0].a != pn * 100)) mismatches++;
                if (model[pn] == 1) {
                    count++;
                    if (oldest == UINT64_MAX) oldest = pn;
                }
            }
            if (count != skiff_sent_packets_count(&h)) mismatches++;
            if (count && oldest != skiff_sent_packets_first_pn(&h)) mismatches++;
            if (h.span > 300) mismatches++;
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK(refused > 0); /* the cap was reached along the way */
    CHECK(next > 3000);
    skiff_sent_packet bad = packet(next - 1, 0, true);
    if (skiff_sent_packets_count(&h))
        CHECK_EQ(skiff_sent_packets_add(&h, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    bad = packet(next + 1000, 0, true);
    bad.frame_count = SKIFF_SENT_FRAMES_MAX + 1;
    CHECK_EQ(skiff_sent_packets_add(&h, &bad), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_sent_packets_clear(&h);
    CHECK_EQ(skiff_sent_packets_memory(&h), 0);
}

/* ---- Callbacks that send, reset, queries ----------------------------------- */

static uint64_t retransmit_pn;

/* A connection that retransmits each lost packet at once, from inside the
 * callback (which may grow and move the history's storage). */
static void retransmit_on_lost(void *ud, skiff_pn_space space, const skiff_sent_packet *p)
{
    skiff_recovery *r = ud;
    note('L', space, p);
    skiff_sent_packet n = packet(retransmit_pn++, p->time_sent + MS(100), true);
    if (skiff_recovery_on_packet_sent(r, space, &n) != 0) frame_mismatches++;
}

static void callbacks_may_send(void)
{
    skiff_recovery r;
    init(&r, false);
    skiff_recovery_set_handshake_confirmed(&r, 0);
    for (uint64_t pn = 0; pn < 16; pn++)
        send(&r, APP, pn, MS(pn));
    retransmit_pn = 16;
    skiff_recovery_callbacks c = {on_acked, retransmit_on_lost};
    ack_buf b;
    int before = frame_mismatches;
    CHECK_EQ(skiff_recovery_on_ack(&r, APP, ack1(&b, 15, 15), 0, MS(100), &c, &r), 0);
    CHECK(!strcmp(events, "A15,L0,L1,L2,L3,L4,L5,L6,L7,L8,L9,L10,L11,L12,"));
    CHECK_EQ(frame_mismatches, before);
    CHECK_U64(retransmit_pn, 29);
    /* 13, 14 and the 13 retransmissions remain. */
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 15 * 1200);
    CHECK_EQ(skiff_sent_packets_count(&r.spaces[APP].sent), 15);
    skiff_recovery_free(&r);
}

static void reset_and_queries(void)
{
    skiff_recovery r;
    skiff_recovery_config cfg;
    skiff_recovery_config_default(&cfg);
    cfg.cc = SKIFF_CC_CUBIC;
    cfg.initial_rtt = MS(100);
    CHECK_EQ(skiff_recovery_init(&r, &cfg, 0), 0);
    CHECK(r.cc.ops == &skiff_cc_cubic_ops);
    clear_events();
    skiff_recovery_set_handshake_confirmed(&r, 0);
    skiff_recovery_set_peer_max_ack_delay(&r, MS(10));
    CHECK_U64(skiff_recovery_pto_duration(&r), MS(310)); /* 100 + 200 + 10 */
    for (uint64_t pn = 0; pn < 10; pn++)
        send(&r, APP, pn, 0);
    CHECK(!skiff_recovery_can_send(&r, 1200));
    CHECK(skiff_recovery_can_send(&r, 0));
    /* The initial burst is spent: the next datagram waits 1200 bytes at
     * 5/4 * 12000 / 100 ms = 8 ms. */
    CHECK_U64(skiff_recovery_next_send_time(&r, 1200, 0), MS(8));
    CHECK_EQ(ack(&r, APP, 9, 5, MS(20)), 0); /* 0..4 lost */
    CHECK_U64(skiff_recovery_smoothed_rtt(&r), MS(20));
    CHECK(skiff_recovery_cwnd(&r) < 12000);
    /* Migration: controller, RTT and pacer start over; flight is kept. */
    skiff_recovery_reset_congestion(&r, MS(30));
    CHECK_U64(skiff_recovery_cwnd(&r), 12000);
    CHECK_U64(skiff_recovery_smoothed_rtt(&r), MS(100));
    CHECK(!r.rtt.has_sample);
    CHECK_U64(skiff_recovery_bytes_in_flight(&r), 0);
    CHECK_U64(skiff_recovery_next_send_time(&r, 1200, MS(30)), MS(30));
    skiff_recovery_set_max_datagram_size(&r, 1400);
    CHECK_U64(r.cc.max_datagram_size, 1400);
    CHECK_U64(r.pacer.burst, 14000);
    skiff_recovery_free(&r);

    cfg.cc = (skiff_cc_algorithm)9;
    CHECK_EQ(skiff_recovery_init(&r, &cfg, 0), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_recovery_init(&r, NULL, 0), 0); /* defaults */
    CHECK(r.cc.ops == &skiff_cc_newreno_ops);
    /* A packet number that goes back is refused. */
    send(&r, APP, 5, 0);
    skiff_sent_packet p = packet(5, 0, true);
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), SKIFF_ERR_INVALID_ARGUMENT);
    p.pn = 4;
    CHECK_EQ(skiff_recovery_on_packet_sent(&r, APP, &p), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_recovery_free(&r);
}

int main(void)
{
    RUN(packet_then_time_threshold);
    RUN(packet_threshold_takes_all_below);
    RUN(acked_and_lost_exact_with_ranges);
    RUN(rtt_sample_rules);
    RUN(pto_deadline_and_backoff);
    RUN(probes_per_space);
    RUN(client_anti_deadlock);
    RUN(server_amplification_blocked);
    RUN(ack_of_unsent_packet);
    RUN(discard_space);
    RUN(persistent_congestion);
    RUN(ecn_validation_and_ce);
    RUN(bounded_history);
    RUN(ring_matches_model);
    RUN(callbacks_may_send);
    RUN(reset_and_queries);
    return test_report("recovery");
}
