/*
 * Two sans-I/O skiff connections through the deterministic simulator
 * (tests/sim): the handshake, a stream transfer byte-exact under loss,
 * reordering, duplication and corruption, an application close seen by the
 * peer, the idle timeout, and the same seed giving the same run twice.
 */
#include <stdlib.h>
#include <time.h>

#include "impair.h"
#include "quic/conn_internal.h" /* conn_test_inject */
#include "quic/connection.h"
#include "quic/packet_header.h"
#include "quic/stateless_reset.h"
#include "sim.h"
#include "test.h"

#define TRANSFER_MAX (1u << 20)
static size_t transfer_bytes = TRANSFER_MAX; /* the response's size */
#define TRANSFER_BYTES transfer_bytes

typedef struct peer {
    skiff_conn *conn;
    skiff_conn_config cfg;
    bool is_server;
    bool quiet;      /* the client sends no request */
    bool key_update; /* the client updates its keys after the handshake */
    bool no_handshake_done; /* server: never sends HANDSHAKE_DONE */
    uint64_t rng;
    bool handshake_done, closed;
    skiff_end_reason end;
    /* client: the request stream and what came back; server: the response */
    uint64_t stream;
    uint8_t *data;
    size_t have;
    bool fin;
    size_t sent;
} peer;

static skiff_tls_credentials *server_creds, *client_creds;
static const char *const alpn[] = {"hq-interop"};
static uint8_t static_key[32] = {7};
static uint8_t *payload;

static void det_random(uint8_t *out, size_t len, void *ud)
{
    peer *p = ud;
    for (size_t i = 0; i < len; i++) {
        p->rng = p->rng * 6364136223846793005u + 1442695040888963407u;
        out[i] = (uint8_t)(p->rng >> 56);
    }
}

static void on_handshake_done(skiff_conn *c, void *ud)
{
    peer *p = ud;
    p->handshake_done = true;
    if (p->key_update) CHECK_EQ(skiff_conn_key_update(c), 0);
    if (!p->is_server && !p->quiet) {
        CHECK_EQ(skiff_conn_stream_open(c, true, &p->stream), 0);
        CHECK_EQ(skiff_conn_stream_write(c, p->stream, (const uint8_t *)"GET /\r\n", 7, true), 7);
    }
}

static void pump(peer *p)
{
    while (p->sent < TRANSFER_BYTES) {
        skiff_ssize n = skiff_conn_stream_write(p->conn, p->stream, payload + p->sent,
                                                TRANSFER_BYTES - p->sent, true);
        if (n <= 0) return;
        p->sent += (size_t)n;
    }
}

static void on_readable(skiff_conn *c, uint64_t id, void *ud)
{
    peer *p = ud;
    uint8_t buf[4096];
    for (int guard = 0; guard < 1000; guard++) {
        bool fin = false;
        skiff_ssize n = skiff_conn_stream_read(c, id, buf, sizeof buf, &fin);
        if (n < 0) return;
        if (p->is_server) {
            if (fin && !p->fin) { /* the request is in: answer it */
                p->fin = true;
                p->stream = id;
                pump(p);
            }
        } else if (p->have + (size_t)n <= TRANSFER_BYTES) {
            memcpy(p->data + p->have, buf, (size_t)n);
            p->have += (size_t)n;
            p->fin |= fin;
        }
        if (n == 0 || fin) return;
    }
}

static void on_writable(skiff_conn *c, uint64_t id, void *ud)
{
    peer *p = ud;
    (void)c;
    if (p->is_server && id == p->stream) pump(p);
}

static void on_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    peer *p = ud;
    (void)c;
    p->closed = true;
    p->end = *why;
}

static const skiff_conn_callbacks callbacks = {
    .handshake_done = on_handshake_done,
    .stream_readable = on_readable,
    .stream_writable = on_writable,
    .closed = on_closed,
    .random = det_random,
};

static skiff_path path_of(void)
{
    skiff_path p = {.local = {.len = 4, .bytes = {1}}, .remote = {.len = 4, .bytes = {2}}};
    return p;
}

/* ---- the simulator's view of an endpoint ---- */

static int ep_receive(void *ep, const uint8_t *dgram, size_t len, const skiff_sim_addr *from,
                      skiff_time now)
{
    peer *p = ep;
    (void)from;
    uint8_t copy[2048];
    if (len > sizeof copy) return -1;
    memcpy(copy, dgram, len);
    skiff_path path = path_of();
    if (!p->conn) {
        if (!p->is_server) return 0;
        skiff_packet_header h;
        if (skiff_packet_header_decode(&h, copy, len, 8, 0) < 0 || h.type != SKIFF_PKT_INITIAL)
            return 0;
        if (skiff_conn_server_new(&p->conn, &p->cfg, &callbacks, p, &path, h.dcid, h.dcid_len,
                                  h.scid, h.scid_len, NULL, 0, now))
            return -1;
        p->conn->test_withhold_handshake_done = p->no_handshake_done;
    }
    return skiff_conn_receive(p->conn, &path, copy, len, 0, now);
}

static skiff_ssize ep_send(void *ep, uint8_t *out, size_t cap, skiff_sim_addr *to, skiff_time now)
{
    peer *p = ep;
    memset(to, 0, sizeof *to); /* to the peer */
    if (!p->conn) return 0;
    skiff_path path;
    uint8_t ecn;
    return skiff_conn_send(p->conn, out, cap, &path, &ecn, now);
}

static skiff_time ep_deadline(void *ep)
{
    peer *p = ep;
    return p->conn ? skiff_conn_deadline(p->conn) : SKIFF_TIME_NEVER;
}

static int ep_timeout(void *ep, skiff_time now)
{
    peer *p = ep;
    if (p->conn) skiff_conn_on_timeout(p->conn, now);
    return 0;
}

static const skiff_sim_endpoint_ops ops = {ep_receive, ep_send, ep_deadline, ep_timeout};

static void peer_init(peer *p, bool server, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    p->is_server = server;
    p->rng = seed;
    skiff_conn_config_default(&p->cfg);
    p->cfg.credentials = server ? server_creds : client_creds;
    p->cfg.alpn = alpn;
    p->cfg.alpn_count = 1;
    p->cfg.static_key = static_key;
    p->cfg.server_name = "localhost";
    if (!server) p->data = malloc(TRANSFER_MAX);
}

static void peer_free(peer *p)
{
    skiff_conn_free(p->conn);
    free(p->data);
}

static bool transfer_done(void *ctx)
{
    peer *client = ctx;
    return client->fin && client->have == TRANSFER_BYTES;
}

typedef struct run_result {
    skiff_time finished_at;
    uint64_t client_sent, server_sent;
    bool ok;
} run_result;

/* A transfer, then a close by the client. A CONNECTION_CLOSE can be lost
 * (it is not retransmitted unless the peer sends again, RFC 9000 §10.2.1), so
 * on a lossy path the server may learn of the end only by its idle timeout. */
static bool key_update_next; /* the next transfer's client updates its keys */

static run_result transfer(const char *up, const char *down, uint64_t seed, bool close_may_be_lost)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    char err[128];
    CHECK_EQ(skiff_impair_parse(&cfg.up, up, err, sizeof err), 0);
    CHECK_EQ(skiff_impair_parse(&cfg.down, down, err, sizeof err), 0);
    peer client, server;
    peer_init(&client, false, seed);
    peer_init(&server, true, seed + 1);
    client.key_update = key_update_next;
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&client.conn, &client.cfg, &callbacks, &client, &path, cfg.start), 0);
    skiff_sim sim;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &ops, &client, &ops, &server), 0);
    skiff_sim_stop why = skiff_sim_run(&sim, cfg.start + SKIFF_MS(60000), transfer_done, &client);
    if (key_update_next) { /* RFC 9001 §6: one update, initiated by the client, followed by the server */
        uint64_t initiated, followed;
        skiff_conn_key_update_counts(client.conn, &initiated, &followed);
        CHECK_U64(initiated, 1);
        CHECK_U64(followed, 0);
        skiff_conn_key_update_counts(server.conn, &initiated, &followed);
        CHECK_U64(initiated, 0);
        CHECK_U64(followed, 1);
    }
    run_result r = {.finished_at = sim.now - cfg.start,
                    .client_sent = sim.stats[SKIFF_SIM_UP].sent,
                    .server_sent = sim.stats[SKIFF_SIM_DOWN].sent};
    CHECK_EQ(why, SKIFF_SIM_DONE);
    CHECK(client.handshake_done && server.handshake_done);
    CHECK_EQ(client.have, TRANSFER_BYTES);
    CHECK(client.data && memcmp(client.data, payload, client.have) == 0);
    r.ok = why == SKIFF_SIM_DONE && client.have == TRANSFER_BYTES &&
           memcmp(client.data, payload, TRANSFER_BYTES) == 0;

    /* Nothing stays in flight once the data is acknowledged: ACK-only packets
     * (padded or not) are never counted in flight (RFC 9002 §2). */
    skiff_sim_run(&sim, sim.now + SKIFF_MS(3000), NULL, NULL);
    CHECK_U64(skiff_recovery_bytes_in_flight(&client.conn->recovery), 0);
    CHECK_U64(skiff_recovery_bytes_in_flight(&server.conn->recovery), 0);

    /* The client closes; the server learns the application code and reason. */
    CHECK_EQ(skiff_conn_close(client.conn, 0x42, "done here", sim.now), 0);
    skiff_sim_run(&sim, sim.now + SKIFF_MS(60000), NULL, NULL);
    CHECK(server.closed);
    if (!close_may_be_lost || server.end.kind != SKIFF_END_IDLE_TIMEOUT) {
        CHECK_EQ(server.end.kind, SKIFF_END_APPLICATION);
        CHECK(server.end.remote);
        CHECK_U64(server.end.code, 0x42);
        CHECK(server.end.reason_len == 9 && !memcmp(server.end.reason, "done here", 9));
    }
    CHECK(client.closed && !client.end.remote);
    skiff_sim_free(&sim);
    peer_free(&client);
    peer_free(&server);
    return r;
}

static void clean_path(void)
{
    run_result r = transfer("delay=10ms", "delay=10ms", 1, false);
    CHECK(r.ok);
    /* 1 MiB takes about 880 datagrams of 1200 bytes, about 730 of 1452: the
     * PMTU probe (RFC 8899) raised the size early in the transfer. */
    CHECK(r.server_sent > 700 && r.server_sent < 800);
}

static void key_update_mid_transfer(void)
{
    key_update_next = true;
    run_result r = transfer("delay=10ms,loss=2,reorder=2,seed=21", "delay=10ms,loss=2,reorder=2,seed=22", 5, true);
    key_update_next = false;
    CHECK(r.ok);
}

static void loss_reordering_duplication_corruption(void)
{
    run_result r = transfer("delay=15ms,loss=3,reorder=2,dup=1,corrupt=1,seed=3",
                            "delay=15ms,loss=3,reorder=2,dup=1,corrupt=1,seed=4", 2, true);
    CHECK(r.ok);
}

static void heavy_loss_bounded_by_max_drops(void)
{
    run_result r = transfer("delay=5ms,loss=20,maxdrop=3,seed=5", "delay=5ms,loss=20,maxdrop=3,seed=6", 3, true);
    CHECK(r.ok);
}

/* 30% loss each way, at most six losses in a row: 60 small exchanges,
 * each completing (this found a server that, once its address budget had
 * run out, never re-armed its loss timer after the address was validated). */
static void handshakes_under_heavy_loss(void)
{
    transfer_bytes = 1000;
    int failed = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        char up[80], down[80];
        snprintf(up, sizeof up, "delay=1ms,loss=30,maxdrop=6,seed=%llu", (unsigned long long)seed * 2);
        snprintf(down, sizeof down, "delay=1ms,loss=30,maxdrop=6,seed=%llu", (unsigned long long)seed * 2 + 1);
        int before = test_failures;
        if (!transfer(up, down, 100 + seed, true).ok) failed++;
        test_failures = before + (test_failures > before); /* one failure per seed at most */
    }
    transfer_bytes = TRANSFER_MAX;
    CHECK_EQ(failed, 0);
}

static void same_seed_same_run(void)
{
    run_result a = transfer("delay=10ms,loss=5,reorder=3,seed=9", "delay=10ms,loss=5,seed=10", 4, true);
    run_result b = transfer("delay=10ms,loss=5,reorder=3,seed=9", "delay=10ms,loss=5,seed=10", 4, true);
    CHECK_U64(a.finished_at, b.finished_at);
    CHECK_U64(a.client_sent, b.client_sent);
    CHECK_U64(a.server_sent, b.server_sent);
}

/* With nothing to say, both ends end at the idle timeout, silently. */
static void idle_timeout_ends_both(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    peer client, server;
    peer_init(&client, false, 11);
    peer_init(&server, true, 12);
    client.quiet = true;
    client.cfg.idle_timeout = SKIFF_MS(2000);
    server.cfg.idle_timeout = SKIFF_MS(30000);
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&client.conn, &client.cfg, &callbacks, &client, &path, cfg.start), 0);
    skiff_sim sim;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &ops, &client, &ops, &server), 0);
    skiff_sim_stop why = skiff_sim_run(&sim, cfg.start + SKIFF_MS(60000), NULL, NULL);
    CHECK_EQ(why, SKIFF_SIM_IDLE); /* both gone, nothing left to happen */
    /* §10.1: the negotiated 2 s, not the server's 30 s, and never early. */
    CHECK(sim.now - cfg.start >= SKIFF_MS(2000) && sim.now - cfg.start < SKIFF_MS(3000));
    CHECK(client.handshake_done && server.handshake_done);
    CHECK(client.closed && server.closed);
    CHECK_EQ(client.end.kind, SKIFF_END_IDLE_TIMEOUT);
    CHECK_EQ(server.end.kind, SKIFF_END_IDLE_TIMEOUT); /* the minimum of both sides (§10.1) */
    skiff_sim_free(&sim);
    peer_free(&client);
    peer_free(&server);
}

static bool both_connected(void *ctx)
{
    peer **p = ctx;
    return p[0]->handshake_done && p[1]->handshake_done;
}

static bool server_closed(void *ctx)
{
    peer *server = ctx;
    return server->closed;
}

/*
 * A client that sends `frames` (hex) at `level` - in its first Initial, or
 * once the handshake is done for 1-RTT - and a server that must close with
 * `code` naming `frame_type`, which the client must then see (RFC 9000 §20.1).
 */
static void server_closes_with(skiff_crypto_level level, const char *frames, uint64_t code,
                               uint64_t frame_type)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    peer client, server;
    peer_init(&client, false, 31);
    peer_init(&server, true, 32);
    client.quiet = true;
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&client.conn, &client.cfg, &callbacks, &client, &path, cfg.start), 0);
    skiff_sim sim;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &ops, &client, &ops, &server), 0);
    uint8_t bytes[64];
    size_t n = test_hex(frames, bytes, sizeof bytes);
    if (level == SKIFF_LEVEL_1RTT) {
        peer *both[2] = {&client, &server};
        CHECK_EQ(skiff_sim_run(&sim, cfg.start + SKIFF_MS(5000), both_connected, both), SKIFF_SIM_DONE);
    }
    CHECK_EQ(conn_test_inject(client.conn, level, bytes, n), 0);
    skiff_sim_run(&sim, sim.now + SKIFF_MS(5000), server_closed, &server);
    CHECK(server.closed);
    CHECK_EQ(server.end.kind, SKIFF_END_TRANSPORT);
    CHECK(!server.end.remote);
    CHECK_U64(server.end.code, code);
    CHECK_U64(server.end.frame_type, frame_type);
    skiff_sim_run(&sim, sim.now + SKIFF_MS(5000), NULL, NULL);
    CHECK(client.closed);
    CHECK_EQ(client.end.kind, SKIFF_END_TRANSPORT);
    CHECK(client.end.remote);
    CHECK_U64(client.end.code, code);
    skiff_sim_free(&sim);
    peer_free(&client);
    peer_free(&server);
}

/* RFC 9000 §12.4: a STREAM frame in an Initial packet. */
static void frame_not_allowed_in_packet_type(void)
{
    server_closes_with(SKIFF_LEVEL_INITIAL, "0a 00 01 78", 0x0a /* PROTOCOL_VIOLATION */, 0x0a);
}

/* §4.1: data beyond the stream's flow-control limit (256 KiB): offset 10^7. */
static void stream_flow_control_violation(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "0e 00 80989680 01 78", 0x03 /* FLOW_CONTROL_ERROR */, 0x0e);
}

/* §4.6: stream 2000 is the 501st client bidirectional stream; the limit is 100. */
static void stream_limit_violation(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "0a 47d0 01 78", 0x04 /* STREAM_LIMIT_ERROR */, 0x0a);
}

/* §4.5: a FIN at 1, then data ending at 6. */
static void final_size_change(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "0f 00 00 01 78  0f 00 05 01 78", 0x06 /* FINAL_SIZE_ERROR */, 0x0f);
}

/* §7.5: CRYPTO data a million bytes ahead. */
static void crypto_beyond_the_buffer(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "06 800f4240 01 78", 0x0d /* CRYPTO_BUFFER_EXCEEDED */, 0x06);
}

/* §13.1: an ACK of packet 1,000,000, never sent. */
static void ack_of_a_packet_never_sent(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "02 800f4240 00 00 00", 0x0a /* PROTOCOL_VIOLATION */, 0x02);
}

/* §12.4: an unknown frame type. */
static void unknown_frame_type(void)
{
    server_closes_with(SKIFF_LEVEL_1RTT, "1f", 0x07 /* FRAME_ENCODING_ERROR */, 0x1f);
}

/* Two connected peers in a simulator, for the lifecycle tests below. */
typedef struct pair {
    skiff_sim_config cfg;
    skiff_sim sim;
    peer client, server;
} pair;

static void pair_connect(pair *p, bool connect)
{
    skiff_sim_config_default(&p->cfg);
    peer_init(&p->client, false, 41);
    peer_init(&p->server, true, 42);
    p->client.quiet = true;
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&p->client.conn, &p->client.cfg, &callbacks, &p->client, &path,
                                   p->cfg.start), 0);
    CHECK_EQ(skiff_sim_init(&p->sim, &p->cfg, &ops, &p->client, &ops, &p->server), 0);
    peer *both[2] = {&p->client, &p->server};
    if (connect)
        CHECK_EQ(skiff_sim_run(&p->sim, p->cfg.start + SKIFF_MS(5000), both_connected, both), SKIFF_SIM_DONE);
}

static void pair_free(pair *p)
{
    skiff_sim_free(&p->sim);
    peer_free(&p->client);
    peer_free(&p->server);
}

/* RFC 9001 §4.1.2: a client whose HANDSHAKE_DONE never comes confirms the
 * handshake when the server acknowledges a 1-RTT packet, so it drops its
 * Handshake keys and its requests get a PTO (RFC 9002 §6.2.1). */
static void client_confirms_on_1rtt_ack(void)
{
    pair p;
    skiff_sim_config_default(&p.cfg);
    peer_init(&p.client, false, 41);
    peer_init(&p.server, true, 42);
    p.client.quiet = true;
    p.server.no_handshake_done = true;
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&p.client.conn, &p.client.cfg, &callbacks, &p.client, &path, p.cfg.start), 0);
    CHECK_EQ(skiff_sim_init(&p.sim, &p.cfg, &ops, &p.client, &ops, &p.server), 0);
    peer *both[2] = {&p.client, &p.server};
    CHECK_EQ(skiff_sim_run(&p.sim, p.cfg.start + SKIFF_MS(5000), both_connected, both), SKIFF_SIM_DONE);
    uint64_t id;
    CHECK_EQ(skiff_conn_stream_open(p.client.conn, true, &id), 0);
    CHECK_EQ(skiff_conn_stream_write(p.client.conn, id, (const uint8_t *)"ping", 4, false), 4);
    skiff_sim_run(&p.sim, p.sim.now + SKIFF_MS(2000), NULL, NULL);
    CHECK(p.client.conn->handshake_confirmed);
    CHECK(p.client.conn->first_1rtt_pn <= skiff_recovery_next_pn(&p.client.conn->recovery, SKIFF_SPACE_APPLICATION));
    pair_free(&p);
}

/* Seed 003's example: CloseWithError(0x42, "...🙉") reaches the peer exactly,
 * and every later call on the connection returns at once with CLOSED. */
static void close_with_error_reaches_peer_exactly(void)
{
    static const char reason[] = "I don't want to talk to you anymore \xf0\x9f\x99\x89";
    pair p;
    pair_connect(&p, true);
    CHECK_EQ(skiff_conn_close(p.client.conn, 0x42, reason, p.sim.now), 0);
    uint64_t id;
    uint8_t buf[8];
    bool fin;
    CHECK_EQ(skiff_conn_stream_open(p.client.conn, true, &id), SKIFF_ERR_CLOSED);
    CHECK_EQ(skiff_conn_stream_write(p.client.conn, 0, buf, 1, false), SKIFF_ERR_CLOSED);
    CHECK_EQ(skiff_conn_stream_read(p.client.conn, 0, buf, sizeof buf, &fin), SKIFF_ERR_CLOSED);
    CHECK_EQ(skiff_conn_close(p.client.conn, 1, "again", p.sim.now), SKIFF_ERR_CLOSED);
    skiff_sim_run(&p.sim, p.sim.now + SKIFF_MS(5000), server_closed, &p.server);
    CHECK_EQ(p.server.end.kind, SKIFF_END_APPLICATION);
    CHECK(p.server.end.remote);
    CHECK_U64(p.server.end.code, 0x42);
    CHECK_EQ(p.server.end.reason_len, strlen(reason));
    CHECK_MEM(p.server.end.reason, reason, strlen(reason));
    char line[512];
    CHECK(!strcmp(skiff_end_reason_format(&p.server.end, line, sizeof line),
                  "application error 0x42 by peer: I don't want to talk to you anymore \xf0\x9f\x99\x89"));
    CHECK(!strcmp(skiff_end_reason_format(&p.client.end, line, sizeof line),
                  "application error 0x42 locally: I don't want to talk to you anymore \xf0\x9f\x99\x89"));
    pair_free(&p);
}

/* A reason that is not UTF-8 is refused; a long one is cut between characters. */
static void close_reasons_are_utf8_and_bounded(void)
{
    pair p;
    pair_connect(&p, true);
    CHECK_EQ(skiff_conn_close(p.client.conn, 1, "bad \xc3\x28", p.sim.now), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_conn_close(p.client.conn, UINT64_C(1) << 62, "x", p.sim.now), SKIFF_ERR_INVALID_ARGUMENT);
    char longer[4001];
    for (int i = 0; i < 2000; i++) memcpy(longer + 2 * i, "\xc3\xa9", 2); /* é */
    longer[4000] = 0;
    CHECK_EQ(skiff_conn_close(p.client.conn, (UINT64_C(1) << 62) - 1, longer, p.sim.now), 0);
    skiff_sim_run(&p.sim, p.sim.now + SKIFF_MS(5000), server_closed, &p.server);
    CHECK_U64(p.server.end.code, (UINT64_C(1) << 62) - 1);
    CHECK_EQ(p.server.end.reason_len, 254); /* 127 whole characters of the 500 sent */
    CHECK_MEM(p.server.end.reason, longer, 254);
    pair_free(&p);
}

/* A peer's CONNECTION_CLOSE whose reason is not UTF-8 still ends the
 * connection with its code; the reason is noted as invalid. */
static void peer_reason_not_utf8(void)
{
    pair p;
    pair_connect(&p, true);
    uint8_t frame[] = {0x1d, 0x40, 0x42, 0x03, 0xff, 0xfe, 0xfd};
    CHECK_EQ(conn_test_inject(p.client.conn, SKIFF_LEVEL_1RTT, frame, sizeof frame), 0);
    skiff_sim_run(&p.sim, p.sim.now + SKIFF_MS(5000), server_closed, &p.server);
    CHECK_EQ(p.server.end.kind, SKIFF_END_APPLICATION);
    CHECK_U64(p.server.end.code, 0x42);
    CHECK(!strcmp(p.server.end.reason, "(reason not valid UTF-8)"));
    pair_free(&p);
}

/* RFC 9000 §10.2.3: closed before the handshake completes, the code goes out
 * as a transport APPLICATION_ERROR without the reason, in an Initial. */
static void close_before_handshake_hides_the_application(void)
{
    pair p;
    pair_connect(&p, false);
    CHECK_EQ(skiff_conn_close(p.client.conn, 0x42, "secret", p.cfg.start), 0);
    skiff_sim_run(&p.sim, p.cfg.start + SKIFF_MS(5000), server_closed, &p.server);
    CHECK(p.server.closed);
    CHECK_EQ(p.server.end.kind, SKIFF_END_TRANSPORT);
    CHECK(p.server.end.remote);
    CHECK_U64(p.server.end.code, 0x0c);
    CHECK_EQ(p.server.end.reason_len, 0);
    pair_free(&p);
}

/*
 * Seed 003's keep-alive: a 2 s idle timeout, a 1 s keep-alive, 10 s of
 * application silence: the connection lives. Then the path goes dark for
 * good (a blackhole from 10 s): keep-alive does not keep a dead peer alive,
 * and the idle timeout ends the connection about 2 s later.
 */
static void keep_alive_but_not_beyond_a_dead_peer(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    char err[128];
    CHECK_EQ(skiff_impair_parse(&cfg.up, "delay=5ms,blackhole=10s+1000s", err, sizeof err), 0);
    CHECK_EQ(skiff_impair_parse(&cfg.down, "delay=5ms,blackhole=10s+1000s", err, sizeof err), 0);
    peer client, server;
    peer_init(&client, false, 51);
    peer_init(&server, true, 52);
    client.quiet = true;
    client.cfg.idle_timeout = SKIFF_MS(2000);
    client.cfg.keep_alive = SKIFF_MS(1000);
    skiff_path path = path_of();
    CHECK_EQ(skiff_conn_client_new(&client.conn, &client.cfg, &callbacks, &client, &path, cfg.start), 0);
    skiff_sim sim;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &ops, &client, &ops, &server), 0);
    skiff_sim_run(&sim, cfg.start + SKIFF_MS(9900), NULL, NULL);
    CHECK(client.handshake_done && !client.closed && !server.closed);
    skiff_sim_run(&sim, cfg.start + SKIFF_MS(60000), NULL, NULL);
    CHECK(client.closed);
    CHECK_EQ(client.end.kind, SKIFF_END_IDLE_TIMEOUT);
    skiff_sim_free(&sim);
    peer_free(&client);
    peer_free(&server);
}

/* A Version Negotiation packet to the client, as from the server. */
static void send_vn(peer *client, const uint32_t *versions, size_t n, skiff_time now)
{
    const skiff_cid *ours = &client->conn->local_cids.entries[0].cid;
    uint8_t dcid[8] = {0}, vn[128];
    skiff_ssize len = skiff_version_negotiation_encode(vn, sizeof vn, ours->bytes, ours->len, dcid,
                                                       sizeof dcid, versions, n, 0x11);
    skiff_path path = path_of();
    CHECK(len > 0);
    skiff_conn_receive(client->conn, &path, vn, (size_t)len, 0, now);
}

/* RFC 9000 §6.2: a VN without our version ends the connection with both
 * lists; one that lists our version, or comes after a packet from the
 * server, is ignored. */
static void version_negotiation_rules(void)
{
    static const uint32_t without_ours[] = {0xff00001d, 0x1a2a3a4a};
    static const uint32_t with_ours[] = {0xff00001d, SKIFF_QUIC_V1};
    pair p;
    pair_connect(&p, false);
    send_vn(&p.client, with_ours, 2, p.cfg.start);
    CHECK(!p.client.closed);
    send_vn(&p.client, without_ours, 2, p.cfg.start);
    CHECK(p.client.closed);
    CHECK_EQ(p.client.end.kind, SKIFF_END_VERSION_NEGOTIATION);
    CHECK_EQ(p.client.end.theirs_count, 2);
    char line[256];
    CHECK(!strcmp(skiff_end_reason_format(&p.client.end, line, sizeof line),
                  "version negotiation failed: ours 0x00000001, theirs 0xff00001d 0x1a2a3a4a"));
    pair_free(&p);

    pair_connect(&p, true);
    send_vn(&p.client, without_ours, 2, p.sim.now); /* too late: ignored */
    CHECK(!p.client.closed);
    pair_free(&p);
}

/* RFC 9000 §10.2.1: in the closing state each datagram may be answered with
 * CONNECTION_CLOSE, but a flood gets a bounded number of answers. */
static void flood_while_closing_is_bounded(void)
{
    pair p;
    pair_connect(&p, true);
    CHECK_EQ(skiff_conn_close(p.client.conn, 7, "bye", p.sim.now), 0);
    skiff_path path = path_of();
    int answers = 0;
    for (int i = 0; i < 1000; i++) {
        uint8_t junk[60];
        memset(junk, i, sizeof junk);
        junk[0] = 0x40;
        skiff_conn_receive(p.client.conn, &path, junk, sizeof junk, 0, p.sim.now + (skiff_time)i);
        uint8_t out[1500];
        uint8_t ecn;
        while (skiff_conn_send(p.client.conn, out, sizeof out, &path, &ecn, p.sim.now + (skiff_time)i) > 0)
            answers++;
    }
    CHECK(answers >= 1 && answers <= 32);
    pair_free(&p);
}

/* RFC 9000 §10.3.1: a datagram ending in the server's reset token ends the
 * connection; one ending in any other 16 bytes is only a packet that failed. */
static void stateless_reset_needs_the_token(void)
{
    pair p;
    pair_connect(&p, true);
    const skiff_cid *server_cid = &p.server.conn->local_cids.entries[0].cid;
    uint8_t reset[43];
    memset(reset, 0x5a, sizeof reset);
    reset[0] = 0x4a;
    CHECK(!skiff_conn_check_stateless_reset(p.client.conn, reset, sizeof reset, p.sim.now));
    skiff_path path = path_of();
    uint8_t copy[sizeof reset];
    memcpy(copy, reset, sizeof reset);
    skiff_conn_receive(p.client.conn, &path, copy, sizeof copy, 0, p.sim.now);
    CHECK(!p.client.closed);
    skiff_stateless_reset_token(static_key, server_cid->bytes, server_cid->len, reset + sizeof reset - 16);
    CHECK(!skiff_conn_check_stateless_reset(p.client.conn, reset, 20, p.sim.now)); /* too short */
    CHECK(skiff_conn_check_stateless_reset(p.client.conn, reset, sizeof reset, p.sim.now));
    CHECK(p.client.closed);
    CHECK_EQ(p.client.end.kind, SKIFF_END_STATELESS_RESET);
    char line[128];
    CHECK(!strcmp(skiff_end_reason_format(&p.client.end, line, sizeof line), "stateless reset by peer"));
    pair_free(&p);
}

int main(void)
{
    uint8_t *cert, *key;
    size_t cert_len, key_len;
    if (skiff_tls_self_signed(time(NULL), &cert, &cert_len, &key, &key_len)) return 1;
    skiff_tls_credentials_config sc = {.role = SKIFF_ROLE_SERVER, .cert_pem = cert,
                                       .cert_pem_len = cert_len, .key_pem = key, .key_pem_len = key_len};
    skiff_tls_credentials_config cc = {.role = SKIFF_ROLE_CLIENT, .ca_pem = cert, .ca_pem_len = cert_len};
    if (skiff_tls_credentials_new(&server_creds, &sc) || skiff_tls_credentials_new(&client_creds, &cc))
        return 1;
    payload = malloc(TRANSFER_MAX);
    for (size_t i = 0; i < TRANSFER_MAX; i++) payload[i] = (uint8_t)(i * 31 + (i >> 10));
    RUN(clean_path);
    RUN(loss_reordering_duplication_corruption);
    RUN(key_update_mid_transfer);
    RUN(heavy_loss_bounded_by_max_drops);
    RUN(handshakes_under_heavy_loss);
    RUN(same_seed_same_run);
    RUN(idle_timeout_ends_both);
    RUN(frame_not_allowed_in_packet_type);
    RUN(stream_flow_control_violation);
    RUN(stream_limit_violation);
    RUN(final_size_change);
    RUN(crypto_beyond_the_buffer);
    RUN(ack_of_a_packet_never_sent);
    RUN(unknown_frame_type);
    RUN(client_confirms_on_1rtt_ack);
    RUN(close_with_error_reaches_peer_exactly);
    RUN(close_reasons_are_utf8_and_bounded);
    RUN(peer_reason_not_utf8);
    RUN(close_before_handshake_hides_the_application);
    RUN(keep_alive_but_not_beyond_a_dead_peer);
    RUN(version_negotiation_rules);
    RUN(flood_while_closing_is_bounded);
    RUN(stateless_reset_needs_the_token);
    free(payload);
    free(cert);
    free(key);
    skiff_tls_credentials_free(server_creds);
    skiff_tls_credentials_free(client_creds);
    return test_report("conn");
}
