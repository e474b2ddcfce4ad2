/* ACK generation (RFC 9000 §13.2): timing, the frame written, ECN, duplicates,
 * pruning, byte budgets, and memory under a hostile receive pattern. */
#include "quic/ack_tracker.h"
#include "test.h"

/* Decodes an ACK written by the tracker into intervals (largest first).
 * Returns the interval count, or -1 if the bytes are not one whole ACK. */
static int decode_ack(const uint8_t *p, size_t len, skiff_frame *f, skiff_frame_ack_interval *iv,
                      int max)
{
    skiff_ssize n = skiff_frame_decode(f, p, len);
    if (n != (skiff_ssize)len) return -1;
    if (f->type != SKIFF_FRAME_ACK && f->type != SKIFF_FRAME_ACK_ECN) return -1;
    skiff_frame_ack_iter it;
    skiff_frame_ack_iter_init(&it, &f->ack);
    int k = 0;
    while (k < max && skiff_frame_ack_iter_next(&it, &iv[k]))
        k++;
    return k;
}

static void app_space_acks_every_second_packet(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
    CHECK(!skiff_ack_tracker_has_new(&t));

    uint8_t buf[64];
    int acks = 0;
    for (uint64_t pn = 0; pn < 10; pn++) {
        skiff_time now = SKIFF_MS(1) * (pn + 1);
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, true, SKIFF_ECN_NOT_ECT, now), 0);
        if (pn % 2 == 0) {
            /* one waiting: delayed by max_ack_delay (25 ms default) */
            CHECK_U64(skiff_ack_tracker_deadline(&t), now + SKIFF_MS(25));
            CHECK(!skiff_ack_tracker_wants_ack(&t, now));
            CHECK(skiff_ack_tracker_has_new(&t));
        } else {
            /* the second: at once */
            CHECK_U64(skiff_ack_tracker_deadline(&t), now);
            CHECK(skiff_ack_tracker_wants_ack(&t, now));
            skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, now, 3);
            CHECK(n > 0);
            skiff_frame f;
            skiff_frame_ack_interval iv[4];
            CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 4), 1);
            CHECK_U64(iv[0].largest, pn);
            CHECK_U64(iv[0].smallest, 0);
            CHECK_U64(f.ack.ack_delay, 0);
            CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
            CHECK(!skiff_ack_tracker_has_new(&t));
            acks++;
        }
    }
    CHECK_EQ(acks, 5);
    uint64_t largest = 0;
    CHECK(skiff_ack_tracker_largest(&t, &largest));
    CHECK_U64(largest, 9);
    skiff_ack_tracker_free(&t);
}

static void threshold_is_configurable(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    skiff_ack_tracker_set_threshold(&t, 4);
    skiff_ack_tracker_set_max_ack_delay(&t, SKIFF_MS(10));
    for (uint64_t pn = 0; pn < 3; pn++)
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, true, 0, SKIFF_MS(100 + pn)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(110));
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 3, true, 0, SKIFF_MS(104)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(104));
    skiff_ack_tracker_free(&t);

    /* threshold 1: every ack-eliciting packet at once */
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    skiff_ack_tracker_set_threshold(&t, 0); /* taken as 1 */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, 0, SKIFF_MS(7)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(7));
    skiff_ack_tracker_free(&t);
}

static void initial_and_handshake_ack_at_once(void)
{
    skiff_pn_space spaces[] = {SKIFF_SPACE_INITIAL, SKIFF_SPACE_HANDSHAKE};
    for (int s = 0; s < 2; s++) {
        skiff_ack_tracker t;
        skiff_ack_tracker_init(&t, spaces[s], 0);
        uint8_t buf[32];
        for (uint64_t pn = 0; pn < 4; pn++) {
            skiff_time now = SKIFF_MS(5) + pn;
            CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, true, 0, now), 0);
            CHECK_U64(skiff_ack_tracker_deadline(&t), now);
            CHECK(skiff_ack_tracker_wants_ack(&t, now));
            CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, now, 3) > 0);
        }
        /* a non-ack-eliciting one (an ACK-only packet) arms nothing */
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, 4, false, 0, SKIFF_MS(6)), 0);
        CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
        CHECK(skiff_ack_tracker_has_new(&t));
        skiff_ack_tracker_free(&t);
    }
}

static void delayed_ack_deadline(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    skiff_ack_tracker_set_max_ack_delay(&t, SKIFF_MS(10));
    skiff_ack_tracker_set_threshold(&t, 3);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, 0, SKIFF_MS(3)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(13));
    /* a later packet does not push the deadline back: it runs from the
     * first one still waiting */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 1, true, 0, SKIFF_MS(5)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(13));
    CHECK(!skiff_ack_tracker_wants_ack(&t, SKIFF_MS(13) - 1));
    CHECK(skiff_ack_tracker_wants_ack(&t, SKIFF_MS(13)));

    /* written at 13 ms: ACK Delay is 13 - 5 = 8 ms after the largest (pn 1),
     * 8000 us >> 3 = 1000 */
    uint8_t buf[32];
    skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(13), 3);
    skiff_frame f;
    skiff_frame_ack_interval iv[2];
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 2), 1);
    CHECK_U64(f.ack.ack_delay, 1000);
    CHECK_U64(f.ack.largest, 1);

    /* the next waiting packet starts a fresh timer */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 2, true, 0, SKIFF_MS(20)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(30));
    skiff_ack_tracker_free(&t);
}

static void out_of_order_acks_at_once(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    uint8_t buf[32];
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, 0, SKIFF_MS(1)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(26));
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(1), 3) > 0);

    /* pn 2: pn 1 is missing */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 2, true, 0, SKIFF_MS(2)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(2));
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(2), 3) > 0);

    /* pn 1 arrives late: below the largest ack-eliciting one */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 1, true, 0, SKIFF_MS(3)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(3));
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(3), 3) > 0);

    /* in order again: delayed */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 3, true, 0, SKIFF_MS(4)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(29));
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(4), 3) > 0);

    /* non-ack-eliciting packets in between are not "missing" */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 4, false, 0, SKIFF_MS(5)), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 5, true, 0, SKIFF_MS(6)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(31));

    /* a gap before a non-ack-eliciting packet arms nothing */
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(6), 3) > 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 9, false, 0, SKIFF_MS(7)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
    /* ... but the next ack-eliciting one sees the gap 6..8 */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 10, true, 0, SKIFF_MS(8)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(8));
    skiff_ack_tracker_free(&t);

    /* the very first packet with lower numbers missing */
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 3, true, 0, SKIFF_MS(1)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(1));
    skiff_ack_tracker_free(&t);
}

static void non_eliciting_alone_never_arm(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    for (uint64_t pn = 0; pn < 50; pn += (pn % 7 == 0) ? 3 : 1)
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, false, SKIFF_ECN_CE, SKIFF_MS(pn)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
    CHECK(!skiff_ack_tracker_wants_ack(&t, SKIFF_MS(100000)));
    /* they can still be acknowledged alongside other frames */
    CHECK(skiff_ack_tracker_has_new(&t));
    uint8_t buf[128];
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(60), 3) > 0);
    CHECK(!skiff_ack_tracker_has_new(&t));
    skiff_ack_tracker_free(&t);
}

static void written_ack_decodes_to_ranges(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    uint64_t pns[] = {0, 1, 2, 3, 4, 7, 8, 9, 12};
    for (size_t i = 0; i < sizeof pns / sizeof pns[0]; i++)
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, pns[i], true, 0, SKIFF_MS(10) + i), 0);
    /* pn 12 arrived at 10 ms + 8 ns; written 5,000 us later, exponent 2 */
    uint8_t buf[64];
    skiff_ssize n =
        skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(10) + 8 + SKIFF_US(5000), 2);
    skiff_frame f;
    skiff_frame_ack_interval iv[8];
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 8), 3);
    CHECK_U64(f.type, SKIFF_FRAME_ACK);
    CHECK_U64(f.ack.ack_delay, 5000 >> 2);
    CHECK_U64(iv[0].smallest, 12);
    CHECK_U64(iv[0].largest, 12);
    CHECK_U64(iv[1].smallest, 7);
    CHECK_U64(iv[1].largest, 9);
    CHECK_U64(iv[2].smallest, 0);
    CHECK_U64(iv[2].largest, 4);
    /* the exact bytes: 02 | largest 12 | delay 1250 (2 bytes) | count 2 |
     * first 0 | gap 1, len 2 | gap 1, len 4 */
    uint8_t want[16];
    size_t wn = test_hex("02 0c 44e2 02 00 01 02 01 04", want, sizeof want);
    CHECK_EQ(n, wn);
    CHECK_MEM(buf, want, wn);

    /* a clock that went backwards reports 0; an exponent over 20 is refused */
    CHECK_EQ(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(1), 21),
             SKIFF_ERR_INVALID_ARGUMENT);
    n = skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(1), 3);
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 8), 3);
    CHECK_U64(f.ack.ack_delay, 0);
    skiff_ack_tracker_free(&t);

    /* nothing received: nothing to write */
    skiff_ack_tracker_init(&t, SKIFF_SPACE_INITIAL, 0);
    CHECK_EQ(skiff_ack_tracker_write(&t, buf, sizeof buf, 0, 3), 0);
    uint64_t largest;
    CHECK(!skiff_ack_tracker_largest(&t, &largest));
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, UINT64_C(1) << 62, true, 0, 0),
             SKIFF_ERR_INVALID_ARGUMENT);
    skiff_ack_tracker_free(&t);
}

static void ecn_counts_and_ce(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    skiff_ack_tracker_set_threshold(&t, 10);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, SKIFF_ECN_ECT0, SKIFF_MS(1)), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 1, true, SKIFF_ECN_ECT0, SKIFF_MS(1)), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 2, false, SKIFF_ECN_ECT1, SKIFF_MS(1)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(26)); /* no CE yet: delayed */
    /* CE on an ack-eliciting packet: at once (§13.2.1) */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 3, true, SKIFF_ECN_CE | 0xfc, SKIFF_MS(2)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(2));
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 4, true, SKIFF_ECN_NOT_ECT, SKIFF_MS(2)), 0);

    uint8_t buf[64];
    skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(2), 3);
    skiff_frame f;
    skiff_frame_ack_interval iv[2];
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 2), 1);
    CHECK_U64(f.type, SKIFF_FRAME_ACK_ECN);
    CHECK(f.ack.has_ecn);
    CHECK_U64(f.ack.ecn.ect0, 2);
    CHECK_U64(f.ack.ecn.ect1, 1);
    CHECK_U64(f.ack.ecn.ce, 1);
    CHECK_U64(iv[0].largest, 4);
    CHECK_U64(iv[0].smallest, 0);

    /* a duplicate is not counted again */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 3, true, SKIFF_ECN_CE, SKIFF_MS(3)), 0);
    CHECK_U64(t.ecn.ce, 1);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);
    skiff_ack_tracker_free(&t);

    /* counts are per space: a fresh tracker without marks writes 0x02 */
    skiff_ack_tracker_init(&t, SKIFF_SPACE_HANDSHAKE, 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, SKIFF_ECN_NOT_ECT, 0), 0);
    n = skiff_ack_tracker_write(&t, buf, sizeof buf, 0, 3);
    CHECK(n > 0);
    CHECK_EQ(buf[0], SKIFF_FRAME_ACK);
    skiff_ack_tracker_free(&t);
}

static void duplicates_detected(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 0));
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 5, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 7, true, 0, 0), 0);
    CHECK(skiff_ack_tracker_is_duplicate(&t, 5));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 7));
    /* numbers below the lowest received are not duplicates by themselves */
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 0));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 6));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 8));
    skiff_ack_tracker_free(&t);
}

static void pruning_after_ack_of_ack(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    for (uint64_t pn = 0; pn < 10; pn++)
        if (pn != 5) CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, true, 0, SKIFF_MS(pn)), 0);
    uint8_t buf[64];
    CHECK(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(10), 3) > 0); /* largest 9 */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 10, true, 0, SKIFF_MS(11)), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 11, true, 0, SKIFF_MS(12)), 0);

    /* the packet carrying that ACK (largest 9) was acknowledged */
    skiff_ack_tracker_on_ack_acked(&t, 9);
    CHECK(skiff_ack_tracker_is_duplicate(&t, 5)); /* never received, now too old */
    CHECK(skiff_ack_tracker_is_duplicate(&t, 0));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 9));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 12));
    CHECK_EQ(t.received.count, 1);

    skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(12), 3);
    skiff_frame f;
    skiff_frame_ack_interval iv[4];
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 4), 1);
    CHECK_U64(iv[0].smallest, 10);
    CHECK_U64(iv[0].largest, 11);

    /* a late pn 5 is dropped as a duplicate and changes nothing */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 5, true, 0, SKIFF_MS(13)), 0);
    CHECK(!skiff_ack_tracker_has_new(&t));
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_TIME_NEVER);

    /* an older ack-of-ack does not lower the floor */
    skiff_ack_tracker_on_ack_acked(&t, 3);
    CHECK(skiff_ack_tracker_is_duplicate(&t, 9));

    /* everything pruned: nothing pending, nothing to write; the next
     * in-order packet is not "out of order" */
    skiff_ack_tracker_on_ack_acked(&t, 11);
    CHECK_EQ(t.received.count, 0);
    CHECK(!skiff_ack_tracker_has_new(&t));
    CHECK_EQ(skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_MS(14), 3), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 12, true, 0, SKIFF_MS(15)), 0);
    CHECK_U64(skiff_ack_tracker_deadline(&t), SKIFF_MS(40));
    uint64_t largest;
    CHECK(skiff_ack_tracker_largest(&t, &largest));
    CHECK_U64(largest, 12);
    skiff_ack_tracker_free(&t);
}

static void budget_truncation(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 0);
    /* 40 single-packet ranges: 0, 2, ..., 78 */
    for (uint64_t pn = 0; pn < 80; pn += 2)
        CHECK_EQ(skiff_ack_tracker_on_packet(&t, pn, true, 0, 0), 0);
    CHECK_EQ(t.received.count, 40);

    uint8_t buf[256];
    skiff_frame f;
    skiff_frame_ack_interval iv[64];
    /* plenty of room: the newest 32 ranges */
    skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, 0, 3);
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 64), SKIFF_ACK_TRACKER_MAX_WRITE_RANGES);
    CHECK_U64(iv[0].largest, 78);
    CHECK_U64(iv[31].smallest, 78 - 2 * 31);

    /* 12 bytes: type 1, largest 78 (2), delay 1, count 1, first 1 = 6, then
     * 2 per range: 3 more ranges */
    n = skiff_ack_tracker_write(&t, buf, 12, 0, 3);
    CHECK_EQ(n, 12);
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 64), 4);
    CHECK_U64(iv[0].largest, 78);
    CHECK_U64(iv[3].largest, 72);

    /* not even the first range fits: refused, and the ACK still pending */
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 80, true, 0, 0), 0);
    CHECK(skiff_ack_tracker_wants_ack(&t, 0));
    CHECK_EQ(skiff_ack_tracker_write(&t, buf, 3, 0, 3), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK(skiff_ack_tracker_wants_ack(&t, 0));
    CHECK(skiff_ack_tracker_has_new(&t));
    skiff_ack_tracker_free(&t);
}

/* A peer that sends every other packet number for 100k packets: each one
 * opens a gap. The tracker stays within its range cap, forgets the oldest,
 * treats forgotten numbers as duplicates, and still writes valid ACKs. */
static void hostile_gaps_stay_bounded(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 64);
    uint8_t buf[512];
    size_t max_count = 0, max_capacity = 0;
    int bad = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t pn = 2 * i;
        if (skiff_ack_tracker_on_packet(&t, pn, true, SKIFF_ECN_ECT0, SKIFF_US(i)) != 0) bad++;
        if (t.received.count > max_count) max_count = t.received.count;
        if (t.received.capacity > max_capacity) max_capacity = t.received.capacity;
        /* every one is out of order (a gap below it): ACKed at once */
        if (i > 0 && !skiff_ack_tracker_wants_ack(&t, SKIFF_US(i))) bad++;
        if (i % 1000 == 999) {
            skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, SKIFF_US(i), 3);
            skiff_frame f;
            skiff_frame_ack_interval iv[40];
            if (decode_ack(buf, (size_t)n, &f, iv, 40) != SKIFF_ACK_TRACKER_MAX_WRITE_RANGES) bad++;
            if (iv[0].largest != pn) bad++;
            if (!f.ack.has_ecn || f.ack.ecn.ect0 != i + 1) bad++;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(max_count, 64);
    CHECK(max_capacity <= 64);
    CHECK(skiff_range_set_valid(&t.received));
    /* the oldest are forgotten, and count as duplicates, gaps included */
    CHECK(skiff_ack_tracker_is_duplicate(&t, 0));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 1001));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 2 * 99999 - 2 * 64 - 1));
    /* the newest are kept, and a recent gap may still be filled */
    CHECK(skiff_ack_tracker_is_duplicate(&t, 2 * 99999));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 2 * 99999 - 1));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 2 * 99999 + 1));
    skiff_ack_tracker_free(&t);
}

/* Filling the lowest gap when the set is full: the packet is kept and the
 * floor moves up to it. */
static void full_set_old_gap_filled(void)
{
    skiff_ack_tracker t;
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 3);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 0, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 10, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 20, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 5, true, 0, 0), 0); /* between range 0 and 1 */
    CHECK_EQ(t.received.count, 3);
    CHECK(skiff_ack_tracker_is_duplicate(&t, 5));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 0));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 4)); /* below the new floor */
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 6));
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 30, true, 0, 0), 0); /* drops [5] */
    CHECK(skiff_ack_tracker_is_duplicate(&t, 7));                 /* below 10 now */
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 11));
    CHECK(skiff_range_set_valid(&t.received));
    skiff_ack_tracker_free(&t);

    /* full, and a packet older than every range kept: not recorded, no
     * error, and a duplicate from then on; the newer ranges stay */
    skiff_ack_tracker_init(&t, SKIFF_SPACE_APPLICATION, 2);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 10, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 20, true, 0, 0), 0);
    CHECK_EQ(skiff_ack_tracker_on_packet(&t, 5, true, SKIFF_ECN_ECT0, 0), 0);
    CHECK(skiff_ack_tracker_is_duplicate(&t, 5));
    CHECK(skiff_ack_tracker_is_duplicate(&t, 4));
    CHECK(!skiff_ack_tracker_is_duplicate(&t, 6));
    CHECK_U64(t.ecn.ect0, 1); /* it was received all the same */
    uint8_t buf[32];
    skiff_ssize n = skiff_ack_tracker_write(&t, buf, sizeof buf, 0, 3);
    skiff_frame f;
    skiff_frame_ack_interval iv[4];
    CHECK_EQ(decode_ack(buf, (size_t)n, &f, iv, 4), 2);
    CHECK_U64(iv[0].largest, 20);
    CHECK_U64(iv[1].largest, 10);
    skiff_ack_tracker_free(&t);
}

int main(void)
{
    RUN(app_space_acks_every_second_packet);
    RUN(threshold_is_configurable);
    RUN(initial_and_handshake_ack_at_once);
    RUN(delayed_ack_deadline);
    RUN(out_of_order_acks_at_once);
    RUN(non_eliciting_alone_never_arm);
    RUN(written_ack_decodes_to_ranges);
    RUN(ecn_counts_and_ce);
    RUN(duplicates_detected);
    RUN(pruning_after_ack_of_ack);
    RUN(budget_truncation);
    RUN(hostile_gaps_stay_bounded);
    RUN(full_set_old_gap_filled);
    return test_report("ack_tracker");
}
