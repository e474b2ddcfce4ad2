/* Flow control: send credit, BLOCKED once per limit, receive limits, window
 * updates and auto-tuning (RFC 9000 §4.1, §4.2). */
#include "quic/flow_control.h"
#include "test.h"

static void send_credit_only_rises(void)
{
    skiff_fc_send fc;
    skiff_fc_send_init(&fc, 100);
    skiff_fc_send_on_sent(&fc, 60);
    CHECK_U64(skiff_fc_send_credit(&fc), 40);
    CHECK(!skiff_fc_send_on_max(&fc, 80)); /* a reordered smaller MAX_DATA */
    CHECK(!skiff_fc_send_on_max(&fc, 100));
    CHECK_U64(fc.limit, 100);
    CHECK(skiff_fc_send_on_max(&fc, 150));
    CHECK_U64(skiff_fc_send_credit(&fc), 90);
}

static void blocked_once_per_limit(void)
{
    skiff_fc_send fc;
    uint64_t limit = 0;
    skiff_fc_send_init(&fc, 100);
    skiff_fc_send_note_blocked(&fc); /* credit left: not blocked */
    CHECK(!skiff_fc_send_blocked_frame(&fc, &limit));
    skiff_fc_send_on_sent(&fc, 100);
    skiff_fc_send_note_blocked(&fc);
    CHECK(skiff_fc_send_blocked_frame(&fc, &limit));
    CHECK_U64(limit, 100);
    skiff_fc_send_on_blocked_sent(&fc);
    skiff_fc_send_note_blocked(&fc); /* same limit: no second frame */
    CHECK(!skiff_fc_send_blocked_frame(&fc, &limit));
    skiff_fc_send_on_blocked_lost(&fc, 100); /* still blocked at 100: resend */
    CHECK(skiff_fc_send_blocked_frame(&fc, &limit));
    skiff_fc_send_on_blocked_sent(&fc);
    CHECK(skiff_fc_send_on_max(&fc, 200));
    skiff_fc_send_on_blocked_lost(&fc, 100); /* stale: the limit moved */
    CHECK(!skiff_fc_send_blocked_frame(&fc, &limit));
    skiff_fc_send_on_sent(&fc, 100);
    skiff_fc_send_note_blocked(&fc);
    CHECK(skiff_fc_send_blocked_frame(&fc, &limit));
    CHECK_U64(limit, 200);
}

static void receive_limit_enforced(void)
{
    skiff_fc_recv fc;
    skiff_fc_recv_init(&fc, 1000, 4000);
    CHECK_EQ(skiff_fc_recv_on_offset(&fc, 1000), 0);
    CHECK_EQ(skiff_fc_recv_on_offset(&fc, 1001), SKIFF_ERR_FLOW_CONTROL);
    CHECK_U64(fc.highest, 1000);
    skiff_fc_recv conn;
    skiff_fc_recv_init(&conn, 1000, 4000);
    CHECK_EQ(skiff_fc_recv_on_bytes(&conn, 600), 0);
    CHECK_EQ(skiff_fc_recv_on_bytes(&conn, 400), 0);
    CHECK_EQ(skiff_fc_recv_on_bytes(&conn, 1), SKIFF_ERR_FLOW_CONTROL);
    CHECK_U64(conn.highest, 1000);
}

static void update_after_half_window(void)
{
    skiff_fc_recv fc;
    uint64_t limit = 0;
    skiff_fc_recv_init(&fc, 1000, 1000);
    CHECK(!skiff_fc_recv_on_consumed(&fc, 499, SKIFF_MS(1), SKIFF_MS(10)));
    CHECK(!skiff_fc_recv_update_frame(&fc, &limit));
    CHECK(skiff_fc_recv_on_consumed(&fc, 1, SKIFF_MS(2), SKIFF_MS(10))); /* 500 left */
    CHECK(skiff_fc_recv_update_frame(&fc, &limit));
    CHECK_U64(limit, 1500);
    skiff_fc_recv_on_update_sent(&fc, 1500);
    CHECK(!skiff_fc_recv_update_frame(&fc, &limit));
    /* A lost update is resent (with the current limit) only if it was the latest. */
    skiff_fc_recv_on_update_lost(&fc, 1500);
    CHECK(skiff_fc_recv_update_frame(&fc, &limit));
    CHECK_U64(limit, 1500);
    skiff_fc_recv_on_update_sent(&fc, 1500);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, SKIFF_MS(3), SKIFF_MS(10)));
    skiff_fc_recv_on_update_sent(&fc, 2000);
    skiff_fc_recv_on_update_lost(&fc, 1500); /* superseded by 2000 */
    CHECK(!skiff_fc_recv_update_frame(&fc, &limit));
}

/* The window doubles when a window's worth is consumed in under 2 RTTs. */
static void auto_tuning_doubles_when_fast(void)
{
    skiff_fc_recv fc;
    skiff_time srtt = SKIFF_MS(10), t = SKIFF_MS(100);
    skiff_fc_recv_init(&fc, 1000, 8000);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, srtt)); /* first move: no sample yet */
    CHECK_U64(fc.window, 1000);
    CHECK_U64(fc.limit, 1500);
    /* 500 bytes in 5 ms: a window per 10 ms, under 2 * srtt = 20 ms. */
    t += SKIFF_MS(5);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, srtt));
    CHECK_U64(fc.window, 2000);
    CHECK_U64(fc.limit, 3000);
    t += SKIFF_MS(5);
    CHECK(skiff_fc_recv_on_consumed(&fc, 1000, t, srtt));
    CHECK_U64(fc.window, 4000);
    t += SKIFF_MS(5);
    CHECK(skiff_fc_recv_on_consumed(&fc, 2000, t, srtt));
    CHECK_U64(fc.window, 8000);
    t += SKIFF_MS(5);
    CHECK(skiff_fc_recv_on_consumed(&fc, 4000, t, srtt));
    CHECK_U64(fc.window, 8000); /* capped at max_window */
    CHECK_U64(fc.limit, 8000 + 8000);
}

static void auto_tuning_steady_when_slow(void)
{
    skiff_fc_recv fc;
    skiff_time srtt = SKIFF_MS(10), t = SKIFF_MS(100);
    skiff_fc_recv_init(&fc, 1000, 8000);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, srtt));
    /* 500 bytes in 50 ms: a window per 100 ms, slower than 20 ms. */
    for (int i = 0; i < 5; i++) {
        t += SKIFF_MS(50);
        CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, srtt));
    }
    CHECK_U64(fc.window, 1000);
    CHECK_U64(fc.limit, 3000 + 1000);
    /* Exactly at the boundary (a window in 2 RTT): not faster, no doubling. */
    t += SKIFF_MS(10);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, srtt));
    CHECK_U64(fc.window, 1000);
    /* No RTT sample: never doubles. */
    t += SKIFF_MS(1);
    CHECK(skiff_fc_recv_on_consumed(&fc, 500, t, 0));
    CHECK_U64(fc.window, 1000);
}

static void ensure_window_capped(void)
{
    skiff_fc_recv fc;
    skiff_fc_recv_init(&fc, 1000, 5000);
    skiff_fc_recv_ensure_window(&fc, 3000);
    CHECK_U64(fc.window, 3000);
    skiff_fc_recv_ensure_window(&fc, 2000);
    CHECK_U64(fc.window, 3000);
    skiff_fc_recv_ensure_window(&fc, 9000);
    CHECK_U64(fc.window, 5000);
    CHECK_U64(fc.limit, 1000); /* the limit moves only with consumption */
}

int main(void)
{
    RUN(send_credit_only_rises);
    RUN(blocked_once_per_limit);
    RUN(receive_limit_enforced);
    RUN(update_after_half_window);
    RUN(auto_tuning_doubles_when_fast);
    RUN(auto_tuning_steady_when_slow);
    RUN(ensure_window_capped);
    return test_report("flow_control");
}
