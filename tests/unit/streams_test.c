/* The stream map: IDs and limits, implicit opening, the per-frame rules of
 * RFC 9000 §19, connection flow control, MAX_STREAMS credit, round robin,
 * control frames, reset and STOP_SENDING flows, and the ID hash table. */
#include "quic/streams.h"
#include "test.h"

static skiff_streams_config config(skiff_role role)
{
    skiff_streams_config c = {
        .role = role,
        .max_streams_bidi = 4,
        .max_streams_uni = 4,
        .stream_window_bidi_local = 10000,
        .stream_window_bidi_remote = 10000,
        .stream_window_uni = 10000,
        .conn_window = 100000,
        .max_stream_window = 40000,
        .max_conn_window = 100000,
        .send_buffer = 1 << 16,
        .pool_max_free = 8,
    };
    return c;
}

static const skiff_streams_peer_limits generous = {
    .max_data = 1 << 20,
    .max_stream_data_bidi_local = 1 << 20,
    .max_stream_data_bidi_remote = 1 << 20,
    .max_stream_data_uni = 1 << 20,
    .max_streams_bidi = 100,
    .max_streams_uni = 100,
};

static uint8_t zeros[20000];

static int stream_frame(skiff_streams *m, uint64_t id, uint64_t off, size_t len, bool fin)
{
    skiff_frame_stream f = {.stream_id = id, .offset = off, .data = zeros, .len = len, .fin = fin};
    return skiff_streams_on_stream(m, &f);
}

static void local_open_respects_peer_limit(void)
{
    skiff_streams m;
    skiff_frame f;
    uint64_t id;
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    CHECK_EQ(skiff_streams_init(&m, &c), 0);
    /* Before the peer's parameters: no stream may be opened. */
    CHECK_EQ(skiff_streams_open(&m, true, &id), SKIFF_ERR_STREAM_LIMIT);
    skiff_streams_peer_limits p = generous;
    p.max_streams_bidi = 2;
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STREAMS_BLOCKED_BIDI);
    CHECK_U64(f.streams_blocked.limit, 0);
    skiff_streams_set_peer_limits(&m, &p);
    CHECK(!skiff_streams_next_control(&m, &f)); /* no longer blocked: not sent */
    CHECK_EQ(skiff_streams_open(&m, true, &id), 0);
    CHECK_U64(id, 0);
    CHECK_EQ(skiff_streams_open(&m, true, &id), 0);
    CHECK_U64(id, 4);
    CHECK_EQ(skiff_streams_open(&m, true, &id), SKIFF_ERR_STREAM_LIMIT);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STREAMS_BLOCKED_BIDI);
    CHECK_U64(f.streams_blocked.limit, 2);
    skiff_streams_on_control_sent(&m, &f);
    CHECK_EQ(skiff_streams_open(&m, true, &id), SKIFF_ERR_STREAM_LIMIT);
    CHECK(!skiff_streams_next_control(&m, &f)); /* once per limit */
    skiff_streams_on_control_lost(
        &m, &(skiff_frame){.type = SKIFF_FRAME_STREAMS_BLOCKED_BIDI, .streams_blocked = {2, true}});
    CHECK(skiff_streams_next_control(&m, &f)); /* lost while still blocked: again */
    skiff_streams_on_control_sent(&m, &f);
    /* Uni streams have their own count. */
    CHECK_EQ(skiff_streams_open(&m, false, &id), 0);
    CHECK_U64(id, 2);
    skiff_frame_max_streams ms = {.max = 1, .bidi = true}; /* smaller: ignored */
    CHECK_EQ(skiff_streams_on_max_streams(&m, &ms), 0);
    CHECK_EQ(skiff_streams_open(&m, true, &id), SKIFF_ERR_STREAM_LIMIT);
    ms.max = 3;
    CHECK_EQ(skiff_streams_on_max_streams(&m, &ms), 0);
    CHECK_EQ(skiff_streams_open(&m, true, &id), 0);
    CHECK_U64(id, 8);
    skiff_streams_free(&m);
}

static void remote_open_is_implicit_and_limited(void)
{
    skiff_streams m;
    uint64_t id;
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    skiff_streams_init(&m, &c);
    skiff_streams_set_peer_limits(&m, &generous);
    /* The client's third bidi stream opens the first two as well (§3.2). */
    CHECK_EQ(stream_frame(&m, 8, 0, 10, false), 0);
    CHECK(skiff_streams_find(&m, 0) != NULL);
    CHECK(skiff_streams_find(&m, 4) != NULL);
    CHECK(skiff_streams_find(&m, 8) != NULL);
    CHECK(skiff_streams_find(&m, 12) == NULL);
    CHECK(skiff_streams_accept(&m, true, &id));
    CHECK_U64(id, 0);
    CHECK(skiff_streams_accept(&m, true, &id));
    CHECK_U64(id, 4);
    CHECK(skiff_streams_accept(&m, true, &id));
    CHECK_U64(id, 8);
    CHECK(!skiff_streams_accept(&m, true, &id));
    CHECK(!skiff_streams_accept(&m, false, &id));
    /* §4.6: our limit is 4 of each type: index 4 is one too many. */
    CHECK_EQ(stream_frame(&m, 12, 0, 1, false), 0);
    CHECK_EQ(stream_frame(&m, 16, 0, 1, false), SKIFF_ERR_STREAM_LIMIT);
    skiff_frame_reset_stream rs = {.stream_id = 14, .final_size = 0}; /* client uni index 3 */
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), 0);
    rs.stream_id = 18;
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), SKIFF_ERR_STREAM_LIMIT);
    skiff_frame_max_stream_data msd = {.stream_id = 20, .max = 5};
    CHECK_EQ(skiff_streams_on_max_stream_data(&m, &msd), SKIFF_ERR_STREAM_LIMIT);
    skiff_streams_free(&m);
}

/* Each frame rule of §19 about which streams it may name. */
static void stream_state_errors(void)
{
    skiff_streams m;
    uint64_t bidi, uni;
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    skiff_streams_init(&m, &c);
    skiff_streams_set_peer_limits(&m, &generous);
    CHECK_EQ(skiff_streams_open(&m, true, &bidi), 0); /* 0 */
    CHECK_EQ(skiff_streams_open(&m, false, &uni), 0); /* 2 */
    const uint64_t server_uni = 3, unopened_local = 4, unopened_local_uni = 6;

    /* §19.8 STREAM: a send-only stream, or a local stream not yet opened. */
    CHECK_EQ(stream_frame(&m, uni, 0, 1, false), SKIFF_ERR_STREAM_STATE);
    CHECK_EQ(stream_frame(&m, unopened_local, 0, 1, false), SKIFF_ERR_STREAM_STATE);
    CHECK_EQ(stream_frame(&m, bidi, 0, 1, false), 0);
    CHECK_EQ(stream_frame(&m, server_uni, 0, 1, false), 0);
    /* §19.4 RESET_STREAM: a send-only stream. */
    skiff_frame_reset_stream rs = {.stream_id = uni};
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), SKIFF_ERR_STREAM_STATE);
    rs.stream_id = unopened_local_uni;
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), SKIFF_ERR_STREAM_STATE);
    /* §19.5 STOP_SENDING: a receive-only stream, or a local one not opened. */
    skiff_frame_stop_sending ss = {.stream_id = server_uni};
    CHECK_EQ(skiff_streams_on_stop_sending(&m, &ss), SKIFF_ERR_STREAM_STATE);
    ss.stream_id = unopened_local;
    CHECK_EQ(skiff_streams_on_stop_sending(&m, &ss), SKIFF_ERR_STREAM_STATE);
    /* §19.10 MAX_STREAM_DATA: the same two cases. */
    skiff_frame_max_stream_data msd = {.stream_id = server_uni, .max = 1};
    CHECK_EQ(skiff_streams_on_max_stream_data(&m, &msd), SKIFF_ERR_STREAM_STATE);
    msd.stream_id = unopened_local;
    CHECK_EQ(skiff_streams_on_max_stream_data(&m, &msd), SKIFF_ERR_STREAM_STATE);
    msd.stream_id = uni; /* our own uni stream: fine */
    CHECK_EQ(skiff_streams_on_max_stream_data(&m, &msd), 0);
    /* §19.13 STREAM_DATA_BLOCKED: a send-only stream. */
    skiff_frame_stream_data_blocked sdb = {.stream_id = uni};
    CHECK_EQ(skiff_streams_on_stream_data_blocked(&m, &sdb), SKIFF_ERR_STREAM_STATE);
    sdb.stream_id = server_uni;
    CHECK_EQ(skiff_streams_on_stream_data_blocked(&m, &sdb), 0);
    /* The application side: writing a receive-only stream, reading a send-only one. */
    bool fin;
    uint8_t buf[4];
    CHECK_EQ(skiff_streams_write(&m, server_uni, buf, 1, false), SKIFF_ERR_STREAM_STATE);
    CHECK_EQ(skiff_streams_read(&m, uni, buf, 4, &fin, 0, 0), SKIFF_ERR_STREAM_STATE);
    CHECK_EQ(skiff_streams_write(&m, 400, buf, 1, false), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_streams_free(&m);
}

static void connection_flow_control(void)
{
    skiff_streams m;
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    c.conn_window = 1000;
    c.stream_window_bidi_remote = 800;
    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 0, 0, 600, false), 0);
    CHECK_EQ(stream_frame(&m, 0, 0, 600, false), 0); /* a duplicate costs nothing */
    CHECK_EQ(stream_frame(&m, 4, 0, 400, false), 0);
    CHECK_EQ(stream_frame(&m, 4, 400, 1, false), SKIFF_ERR_FLOW_CONTROL); /* 1001 in total */
    skiff_streams_free(&m);

    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 0, 800, 1, false), SKIFF_ERR_FLOW_CONTROL); /* stream window */
    skiff_streams_free(&m);

    /* A RESET_STREAM's final size counts too. */
    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 0, 0, 500, false), 0);
    skiff_frame_reset_stream rs = {.stream_id = 4, .final_size = 501};
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), SKIFF_ERR_FLOW_CONTROL);
    skiff_streams_free(&m);

    /* FINAL_SIZE through the map. */
    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 0, 0, 100, true), 0);
    CHECK_EQ(stream_frame(&m, 0, 100, 1, false), SKIFF_ERR_FINAL_SIZE);
    skiff_streams_free(&m);
}

/* A reset stream gives its connection credit back: the application will
 * never read those bytes. */
static void reset_releases_connection_credit(void)
{
    skiff_streams m;
    skiff_frame f;
    uint64_t code = 0;
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    c.conn_window = 1000;
    skiff_streams_init(&m, &c);
    skiff_streams_set_peer_limits(&m, &generous);
    CHECK_EQ(stream_frame(&m, 0, 0, 300, false), 0);
    skiff_frame_reset_stream rs = {.stream_id = 0, .app_error_code = 0x42, .final_size = 900};
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), 0);
    CHECK_U64(m.rx_fc.highest, 900);
    CHECK_U64(m.rx_fc.consumed, 900);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_MAX_DATA);
    CHECK_U64(f.max_data.max, 1900);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(skiff_streams_take_reset(&m, 0, &code));
    CHECK_U64(code, 0x42);
    /* Our sending half is still open: the stream lives on. */
    CHECK(skiff_streams_find(&m, 0) != NULL);
    CHECK_EQ(skiff_streams_write(&m, 0, zeros, 10, true), 10);
    skiff_stream *st;
    uint64_t off;
    size_t len;
    bool fin;
    CHECK(skiff_streams_next_stream_frame(&m, 1000, &st, &off, &len, &fin));
    CHECK_EQ(len, 10);
    CHECK(fin);
    skiff_streams_on_stream_sent(&m, st, off, len, fin);
    skiff_streams_on_stream_acked(&m, 0, off, len, fin);
    CHECK(skiff_streams_find(&m, 0) == NULL);       /* both halves done: freed */
    CHECK_EQ(stream_frame(&m, 0, 0, 10, false), 0); /* late frames for it are ignored */
    skiff_streams_free(&m);
}

/* MAX_STREAMS credit comes back as the peer's streams finish. */
static void max_streams_credit_returned(void)
{
    skiff_streams m;
    skiff_frame f;
    uint64_t id;
    uint8_t buf[16];
    bool fin;
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    skiff_streams_init(&m, &c);
    for (uint64_t i = 0; i < 4; i++)
        CHECK_EQ(stream_frame(&m, i * 4 + 2, 0, 5, true), 0);
    CHECK_EQ(stream_frame(&m, 4 * 4 + 2, 0, 5, true), SKIFF_ERR_STREAM_LIMIT);
    CHECK(!skiff_streams_next_control(&m, &f));
    CHECK(skiff_streams_accept(&m, false, &id));
    CHECK_EQ(skiff_streams_read(&m, id, buf, sizeof buf, &fin, 0, 0), 5);
    CHECK(fin);
    CHECK(skiff_streams_find(&m, id) == NULL); /* Data Read: freed */
    /* Credit returns in steps of an eighth of the initial 4: each stream. */
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_MAX_STREAMS_UNI);
    CHECK_U64(f.max_streams.max, 5);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    CHECK(skiff_streams_accept(&m, false, &id));
    CHECK_EQ(skiff_streams_read(&m, id, buf, sizeof buf, &fin, 0, 0), 5);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_MAX_STREAMS_UNI);
    CHECK_U64(f.max_streams.max, 6);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    skiff_streams_on_control_lost(
        &m, &(skiff_frame){.type = SKIFF_FRAME_MAX_STREAMS_UNI, .max_streams = {6, false}});
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.max_streams.max, 6);
    skiff_streams_on_control_sent(&m, &f);
    /* The peer may now open index 4 and 5, not 6. */
    CHECK_EQ(stream_frame(&m, 5 * 4 + 2, 0, 1, false), 0);
    CHECK_EQ(stream_frame(&m, 6 * 4 + 2, 0, 1, false), SKIFF_ERR_STREAM_LIMIT);
    /* A retransmission for a freed stream is ignored. */
    CHECK_EQ(stream_frame(&m, 2, 0, 5, true), 0);
    CHECK(skiff_streams_find(&m, 2) == NULL);
    skiff_streams_free(&m);
}

static void round_robin_between_streams(void)
{
    skiff_streams m;
    uint64_t ids[3];
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    skiff_streams_init(&m, &c);
    skiff_streams_set_peer_limits(&m, &generous);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(skiff_streams_open(&m, true, &ids[i]), 0);
        CHECK_EQ(skiff_streams_write(&m, ids[i], zeros, 2000, true), 2000);
    }
    uint64_t order[8];
    int n = 0;
    skiff_stream *st;
    uint64_t off;
    size_t len;
    bool fin;
    while (n < 8 && skiff_streams_next_stream_frame(&m, 1000, &st, &off, &len, &fin)) {
        order[n++] = st->id;
        skiff_streams_on_stream_sent(&m, st, off, len, fin);
    }
    CHECK_EQ(n, 6);
    static const uint64_t want[] = {0, 4, 8, 0, 4, 8};
    for (int i = 0; i < 6 && i < n; i++)
        CHECK_U64(order[i], want[i]);
    CHECK_U64(m.tx_fc.sent, 6000);
    skiff_streams_free(&m);
}

static void blocked_frames_and_credit(void)
{
    skiff_streams m;
    skiff_frame f;
    uint64_t a, b;
    skiff_stream *st;
    uint64_t off;
    size_t len;
    bool fin;
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    skiff_streams_init(&m, &c);
    skiff_streams_peer_limits p = generous;
    p.max_data = 1500;
    p.max_stream_data_bidi_remote = 1000;
    skiff_streams_set_peer_limits(&m, &p);
    skiff_streams_open(&m, true, &a);
    skiff_streams_open(&m, true, &b);
    skiff_streams_write(&m, a, zeros, 3000, false);
    skiff_streams_write(&m, b, zeros, 3000, false);
    size_t total = 0;
    while (skiff_streams_next_stream_frame(&m, 400, &st, &off, &len, &fin)) {
        total += len;
        skiff_streams_on_stream_sent(&m, st, off, len, fin);
    }
    CHECK_EQ(total, 1500); /* the connection limit */
    CHECK_U64(skiff_streams_find(&m, a)->send.max_sent, 800);
    CHECK_U64(skiff_streams_find(&m, b)->send.max_sent, 700);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_DATA_BLOCKED);
    CHECK_U64(f.data_blocked.limit, 1500);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    CHECK(!skiff_streams_next_stream_frame(&m, 400, &st, &off, &len, &fin));
    CHECK(!skiff_streams_next_control(&m, &f)); /* once per limit value */
    /* More connection credit: stream a reaches its own limit of 1000. */
    CHECK_EQ(skiff_streams_on_max_data(&m, &(skiff_frame_max_data){10000}), 0);
    total = 0;
    while (skiff_streams_next_stream_frame(&m, 400, &st, &off, &len, &fin)) {
        total += len;
        skiff_streams_on_stream_sent(&m, st, off, len, fin);
    }
    CHECK_EQ(total, 500);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STREAM_DATA_BLOCKED);
    CHECK_U64(f.stream_data_blocked.limit, 1000);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STREAM_DATA_BLOCKED);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    skiff_frame_max_stream_data msd = {.stream_id = b, .max = 1100};
    CHECK_EQ(skiff_streams_on_max_stream_data(&m, &msd), 0);
    CHECK(skiff_streams_next_stream_frame(&m, 400, &st, &off, &len, &fin));
    CHECK_U64(st->id, b);
    CHECK_U64(off, 1000);
    CHECK_EQ(len, 100);
    skiff_streams_free(&m);
}

/* The peer's STOP_SENDING resets our sending half with its code (§3.5). */
static void peer_stop_sending_resets(void)
{
    skiff_streams m;
    skiff_frame f;
    uint64_t id;
    skiff_stream *st;
    uint64_t off;
    size_t len;
    bool fin;
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    skiff_streams_init(&m, &c);
    skiff_streams_set_peer_limits(&m, &generous);
    skiff_streams_open(&m, false, &id);
    skiff_streams_write(&m, id, zeros, 5000, false);
    CHECK(skiff_streams_next_stream_frame(&m, 1200, &st, &off, &len, &fin));
    skiff_streams_on_stream_sent(&m, st, off, len, fin);
    skiff_frame_stop_sending ss = {.stream_id = id, .app_error_code = 0x77};
    CHECK_EQ(skiff_streams_on_stop_sending(&m, &ss), 0);
    CHECK(!skiff_streams_next_stream_frame(&m, 1200, &st, &off, &len, &fin));
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_RESET_STREAM);
    CHECK_U64(f.reset_stream.stream_id, id);
    CHECK_U64(f.reset_stream.app_error_code, 0x77);
    CHECK_U64(f.reset_stream.final_size, 1200);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    skiff_frame sent = {.type = SKIFF_FRAME_RESET_STREAM, .reset_stream = {id, 0x77, 1200}};
    skiff_streams_on_control_lost(&m, &sent);
    CHECK(skiff_streams_next_control(&m, &f));
    skiff_streams_on_control_sent(&m, &f);
    CHECK_EQ(skiff_streams_write(&m, id, zeros, 1, false), SKIFF_ERR_STREAM_STATE);
    skiff_streams_on_control_acked(&m, &sent);
    CHECK(skiff_streams_find(&m, id) == NULL); /* send-only and Reset Recvd: freed */
    skiff_streams_on_control_acked(&m, &sent); /* a duplicate ack: harmless */
    skiff_streams_free(&m);
}

/* Our STOP_SENDING: later data is discarded but still credited, and the
 * peer's RESET_STREAM then finishes the stream without the application. */
static void local_stop_sending(void)
{
    skiff_streams m;
    skiff_frame f;
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    c.conn_window = 2000;
    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 2, 0, 500, false), 0);
    CHECK_EQ(skiff_streams_stop_sending(&m, 2, 0x99), 0);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STOP_SENDING);
    CHECK_U64(f.stop_sending.app_error_code, 0x99);
    skiff_streams_on_control_sent(&m, &f);
    CHECK_EQ(stream_frame(&m, 2, 500, 1000, false), 0);
    CHECK_U64(m.rx_fc.consumed, 1500); /* discarded bytes free connection credit */
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_MAX_DATA);
    CHECK_U64(f.max_data.max, 3500);
    skiff_streams_on_control_sent(&m, &f);
    skiff_frame_reset_stream rs = {.stream_id = 2, .app_error_code = 0x99, .final_size = 1600};
    CHECK_EQ(skiff_streams_on_reset_stream(&m, &rs), 0);
    CHECK(skiff_streams_find(&m, 2) == NULL);
    CHECK_U64(m.rx_fc.consumed, 1600);
    skiff_streams_free(&m);
}

/* Takes control frames (reporting them sent) until one of `type` comes. */
static bool take_control(skiff_streams *m, uint64_t type, skiff_frame *f)
{
    for (int i = 0; i < 16 && skiff_streams_next_control(m, f); i++) {
        skiff_streams_on_control_sent(m, f);
        if (f->type == type) return true;
    }
    return false;
}

/* Reading fast enough grows the stream window; MAX_STREAM_DATA carries it,
 * and the connection window follows. */
static void stream_window_auto_tunes_through_reads(void)
{
    skiff_streams m;
    skiff_frame f;
    static uint8_t buf[20000];
    bool fin;
    skiff_time t = SKIFF_MS(1000), srtt = SKIFF_MS(20);
    skiff_streams_config c = config(SKIFF_ROLE_SERVER);
    c.conn_window = 20000;
    skiff_streams_init(&m, &c);
    CHECK_EQ(stream_frame(&m, 0, 0, 5000, false), 0);
    CHECK_EQ(skiff_streams_read(&m, 0, buf, sizeof buf, &fin, t, srtt), 5000);
    CHECK(skiff_streams_next_control(&m, &f));
    CHECK_U64(f.type, SKIFF_FRAME_MAX_STREAM_DATA);
    CHECK_U64(f.max_stream_data.max, 15000); /* first move: the initial window */
    skiff_streams_on_control_sent(&m, &f);
    CHECK(!skiff_streams_next_control(&m, &f));
    t += SKIFF_MS(5); /* 5000 more bytes in a quarter RTT: fast */
    CHECK_EQ(stream_frame(&m, 0, 5000, 5000, false), 0);
    CHECK_EQ(skiff_streams_read(&m, 0, buf, sizeof buf, &fin, t, srtt), 5000);
    CHECK_U64(m.rx_fc.window, 30000); /* the connection keeps 1.5x the stream window */
    CHECK(take_control(&m, SKIFF_FRAME_MAX_DATA, &f));
    CHECK_U64(f.max_data.max, 10000 + 30000);
    skiff_streams_on_control_sent(&m, &f);
    CHECK(take_control(&m, SKIFF_FRAME_MAX_STREAM_DATA, &f));
    CHECK_U64(f.max_stream_data.max, 10000 + 20000); /* doubled */
    t += SKIFF_MS(500);                              /* slow now */
    CHECK_EQ(stream_frame(&m, 0, 10000, 10000, false), 0);
    CHECK_EQ(skiff_streams_read(&m, 0, buf, sizeof buf, &fin, t, srtt), 10000);
    CHECK(take_control(&m, SKIFF_FRAME_MAX_STREAM_DATA, &f));
    CHECK_U64(f.max_stream_data.max, 20000 + 20000); /* not doubled again */
    /* Beyond the advertised stream limit is FLOW_CONTROL. */
    CHECK_EQ(stream_frame(&m, 0, 20000, 20001, false), SKIFF_ERR_FLOW_CONTROL);
    skiff_streams_free(&m);
}

/* Many streams through the hash table, freed in a scattered order. */
static void many_streams_lookup(void)
{
    enum { N = 2000 };
    skiff_streams m;
    skiff_stream *st;
    uint64_t id, off;
    size_t len;
    bool fin;
    skiff_streams_config c = config(SKIFF_ROLE_CLIENT);
    skiff_streams_init(&m, &c);
    skiff_streams_peer_limits p = generous;
    p.max_streams_uni = N;
    skiff_streams_set_peer_limits(&m, &p);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(skiff_streams_open(&m, false, &id), 0);
        skiff_streams_write(&m, id, zeros, 1, true);
    }
    while (skiff_streams_next_stream_frame(&m, 100, &st, &off, &len, &fin))
        skiff_streams_on_stream_sent(&m, st, off, len, fin);
    /* Finish every stream whose index is not a multiple of 3. */
    for (uint64_t i = 0; i < N; i++)
        if (i % 3) skiff_streams_on_stream_acked(&m, i * 4 + 2, 0, 1, true);
    int wrong = 0;
    for (uint64_t i = 0; i < N; i++) {
        st = skiff_streams_find(&m, i * 4 + 2);
        if ((st != NULL) != (i % 3 == 0) || (st && st->id != i * 4 + 2)) wrong++;
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(m.count, (N + 2) / 3);
    CHECK_EQ(m.pool->live, (N + 2) / 3); /* only the unfinished streams hold buffers */
    skiff_streams_free(&m);
}

int main(void)
{
    RUN(local_open_respects_peer_limit);
    RUN(remote_open_is_implicit_and_limited);
    RUN(stream_state_errors);
    RUN(connection_flow_control);
    RUN(reset_releases_connection_credit);
    RUN(max_streams_credit_returned);
    RUN(round_robin_between_streams);
    RUN(blocked_frames_and_credit);
    RUN(peer_stop_sending_resets);
    RUN(local_stop_sending);
    RUN(stream_window_auto_tunes_through_reads);
    RUN(many_streams_lookup);
    return test_report("streams");
}
