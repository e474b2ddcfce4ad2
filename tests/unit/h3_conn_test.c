/*
 * The HTTP/3 connection (src/h3/h3_conn.c, h3_request.c) between two real
 * endpoints over the in-memory pipe of h3_pipe.h, and against a hand-driven
 * "raw" peer that sends what no correct peer would. Each bad input asserts
 * the RFC 9114 / RFC 9204 error code on the wire and, for stream errors,
 * that the connection and its other requests carry on.
 */
#include "h3/h3_conn_internal.h"
#include "h3/h3_frame.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3_pipe.h"
#include "test.h"

#define MAX_REQ 512

/* ---- a test application on each side ---- */

typedef struct exchange {
    int status;
    uint64_t bytes, bad_bytes;
    bool ended, aborted;
    uint64_t abort_code;
    int informational;
    size_t trailers;
} exchange;

typedef struct app {
    h3_pipe *pipe;
    int role;
    /* server */
    size_t requests;
    uint64_t body_size;  /* each response's body */
    bool send_trailers;
    bool send_100;
    uint64_t pending[MAX_REQ]; /* response bytes left to write, by stream index */
    bool responding[MAX_REQ];
    /* client */
    exchange ex[MAX_REQ];
    size_t goaways;
    uint64_t goaway_id;
    uint64_t request_body_received;
} app;

static uint8_t pattern(uint64_t id, uint64_t i) { return (uint8_t)(i * 7 + id * 13 + 1); }

static void server_pump(skiff_h3_conn *h, app *a, uint64_t id)
{
    size_t k = (size_t)(id / 4);
    uint8_t buf[4096];
    for (int guard = 0; guard < 100000 && a->responding[k]; guard++) {
        uint64_t done = a->body_size - a->pending[k];
        size_t n = a->pending[k] < sizeof buf ? (size_t)a->pending[k] : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = pattern(id, done + i);
        bool last = n == a->pending[k];
        skiff_ssize w = skiff_h3_write_body(h, id, buf, n, last && !a->send_trailers);
        if (w < 0) {
            a->responding[k] = false;
            return;
        }
        a->pending[k] -= (uint64_t)w;
        if (a->pending[k] == 0 && (size_t)w == n) {
            if (a->send_trailers) {
                skiff_h3_field t[] = {{(const uint8_t *)"x-checksum", 10, (const uint8_t *)"ok", 2}};
                CHECK_EQ(skiff_h3_write_trailers(h, id, t, 1), 0);
            }
            a->responding[k] = false;
            return;
        }
        if ((size_t)w < n) return;
    }
}

static void on_request(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    app *a = ud;
    a->requests++;
    CHECK(head->info->method != NULL);
    size_t k = (size_t)(id / 4);
    if (k >= MAX_REQ) return;
    if (a->send_100) CHECK_EQ(skiff_h3_respond(h, id, 103, NULL, 0, false), 0);
    char len[24];
    snprintf(len, sizeof len, "%llu", (unsigned long long)a->body_size);
    skiff_h3_field f[] = {{(const uint8_t *)"content-length", 14, (const uint8_t *)len, strlen(len)},
                          {(const uint8_t *)"content-type", 12, (const uint8_t *)"text/plain", 10}};
    bool head_req = head->info->method->value_len == 4 && !memcmp(head->info->method->value, "HEAD", 4);
    bool body = a->body_size > 0 && !head_req;
    CHECK_EQ(skiff_h3_respond(h, id, 200, f, a->send_trailers ? 1 : 2, body || a->send_trailers), 0);
    if (!body && a->send_trailers) {
        skiff_h3_field t[] = {{(const uint8_t *)"x-checksum", 10, (const uint8_t *)"ok", 2}};
        CHECK_EQ(skiff_h3_write_trailers(h, id, t, 1), 0);
        return;
    }
    if (!body) return;
    a->pending[k] = a->body_size;
    a->responding[k] = true;
    server_pump(h, a, id);
}

static void on_writable(skiff_h3_conn *h, uint64_t id, void *ud)
{
    app *a = ud;
    if (a->role == 1 && id / 4 < MAX_REQ && a->responding[id / 4]) server_pump(h, a, id);
}

static exchange *ex_of(app *a, uint64_t id) { return id / 4 < MAX_REQ ? &a->ex[id / 4] : NULL; }

static void on_response(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    (void)h;
    exchange *e = ex_of(ud, id);
    if (!e) return;
    if (head->info->status < 200) e->informational++;
    else e->status = head->info->status;
}

static void on_body(skiff_h3_conn *h, uint64_t id, const uint8_t *data, size_t len, void *ud)
{
    (void)h;
    app *a = ud;
    if (a->role == 1) {
        a->request_body_received += len;
        return;
    }
    exchange *e = ex_of(a, id);
    if (!e) return;
    for (size_t i = 0; i < len; i++)
        if (data[i] != pattern(id, e->bytes + i)) e->bad_bytes++;
    e->bytes += len;
}

static void on_trailers(skiff_h3_conn *h, uint64_t id, const skiff_h3_head *head, void *ud)
{
    (void)h;
    app *a = ud;
    exchange *e = a->role == 0 ? ex_of(a, id) : NULL;
    if (e) e->trailers = head->count;
}

static void on_end(skiff_h3_conn *h, uint64_t id, void *ud)
{
    (void)h;
    app *a = ud;
    exchange *e = a->role == 0 ? ex_of(a, id) : NULL;
    if (e) e->ended = true;
}

static void on_aborted(skiff_h3_conn *h, uint64_t id, uint64_t code, bool by_peer, void *ud)
{
    (void)h, (void)by_peer;
    app *a = ud;
    if (a->role == 1 && id / 4 < MAX_REQ) a->responding[id / 4] = false;
    exchange *e = a->role == 0 ? ex_of(a, id) : NULL;
    if (!e) return;
    e->aborted = true;
    e->abort_code = code;
}

static void on_goaway(skiff_h3_conn *h, uint64_t id, void *ud)
{
    (void)h;
    app *a = ud;
    a->goaways++;
    a->goaway_id = id;
}

static const skiff_h3_callbacks app_cb = {.request = on_request, .response = on_response, .body = on_body,
                                          .trailers = on_trailers, .end = on_end, .aborted = on_aborted,
                                          .writable = on_writable, .goaway = on_goaway};

typedef struct world {
    h3_pipe pipe;
    app apps[2];
    skiff_h3_config cfg[2];
} world;

/* Both sides with real HTTP/3 connections (or only the server: raw client). */
static void world_start(world *w, bool client_too, void (*tweak)(skiff_h3_config *cfg, int role))
{
    memset(w, 0, sizeof *w);
    h3_pipe_init(&w->pipe);
    for (int r = 1; r >= 0; r--) {
        if (r == 0 && !client_too) break;
        w->apps[r].pipe = &w->pipe;
        w->apps[r].role = r;
        skiff_h3_config_default(&w->cfg[r], r == 1);
        if (tweak) tweak(&w->cfg[r], r);
        skiff_h3_transport t = h3_pipe_transport(&w->pipe.side[r]);
        CHECK_EQ(skiff_h3_conn_new(&w->pipe.side[r].h3, &w->cfg[r], &app_cb, &w->apps[r], &t), 0);
    }
    h3_pipe_run(&w->pipe);
}

#define F(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1}

static int get(world *w, const char *path, uint64_t *id)
{
    skiff_h3_field req[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "example.com"),
                            {(const uint8_t *)":path", 5, (const uint8_t *)path, strlen(path)},
                            F("user-agent", "skiff-test"), F("accept", "*/*")};
    return skiff_h3_request(w->pipe.side[0].h3, req, 6, false, id);
}

static skiff_h3_conn *server(world *w) { return w->pipe.side[1].h3; }
static pipe_side *server_side(world *w) { return &w->pipe.side[1]; }

/* ---- the raw client: hand-made bytes ---- */

static void raw(world *w, uint64_t id, const char *hex, bool fin)
{
    uint8_t buf[512];
    size_t n = test_hex(hex, buf, sizeof buf);
    h3_pipe_raw(&w->pipe, 0, id, buf, n, fin);
    h3_pipe_run(&w->pipe);
}

/* A client control stream with an empty SETTINGS frame. */
static void raw_control(world *w) { raw(w, 2, "00 04 00", false); }

/* A request's HEADERS frame encoded with a table-less QPACK encoder. */
static void raw_request(world *w, uint64_t id, const skiff_h3_field *fields, size_t n, bool fin)
{
    skiff_qpack_encoder *enc = NULL;
    CHECK_EQ(skiff_qpack_encoder_new(&enc, 0), 0);
    uint8_t buf[8192];
    skiff_ssize len = skiff_qpack_encode_section(enc, id, fields, n, buf + 9, sizeof buf - 9);
    CHECK(len > 0);
    uint8_t head[16];
    skiff_ssize hl = skiff_h3_frame_header_encode(head, sizeof head, SKIFF_H3_FRAME_HEADERS, (uint64_t)len);
    memcpy(buf + 9 - hl, head, (size_t)hl);
    h3_pipe_raw(&w->pipe, 0, id, buf + 9 - hl, (size_t)(hl + len), fin);
    skiff_qpack_encoder_free(enc);
    h3_pipe_run(&w->pipe);
}

static void good_request(world *w, uint64_t id)
{
    skiff_h3_field req[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "example.com"),
                            F(":path", "/ok")};
    raw_request(w, id, req, 4, true);
}

static int field_status;
static int grab_status(void *ud, const skiff_h3_field *f)
{
    (void)ud;
    if (f->name_len == 7 && !memcmp(f->name, ":status", 7))
        field_status = (f->value[0] - '0') * 100 + (f->value[1] - '0') * 10 + (f->value[2] - '0');
    return 0;
}

/* The status of the server's first HEADERS on a stream (0: none). */
static int raw_status(world *w, uint64_t id)
{
    pipe_stream *st = pipe_find(&w->pipe, id, false);
    if (!st) return 0;
    skiff_h3_frame_reader r;
    skiff_h3_frame_reader_init(&r, 1 << 16);
    skiff_qpack_decoder *dec = NULL;
    CHECK_EQ(skiff_qpack_decoder_new(&dec, 0, 0, 1 << 16), 0);
    field_status = 0;
    const uint8_t *p = st->dir[1].data;
    size_t len = st->dir[1].len;
    while (len) {
        skiff_h3_frame_event ev;
        size_t used = skiff_h3_frame_reader_feed(&r, p, len, &ev);
        p += used, len -= used;
        if (ev.kind == SKIFF_H3_EVENT_FRAME && ev.type == SKIFF_H3_FRAME_HEADERS) {
            uint64_t wire = 0;
            skiff_qpack_decode_section(dec, id, ev.payload, ev.len, grab_status, NULL, &wire);
            break;
        }
        if (ev.kind == SKIFF_H3_EVENT_ERROR || (!used && ev.kind == SKIFF_H3_EVENT_NONE)) break;
    }
    skiff_qpack_decoder_free(dec);
    skiff_h3_frame_reader_free(&r);
    return field_status;
}

/* The code the server failed a stream with: its RESET_STREAM, or its
 * STOP_SENDING when its response was already complete (0: neither). */
static uint64_t server_reset_code(world *w, uint64_t id)
{
    pipe_stream *st = pipe_find(&w->pipe, id, false);
    if (!st) return 0;
    if (st->dir[1].reset) return st->dir[1].reset_code;
    return st->stop_sent[1] ? st->stop_code[1] : 0;
}

/* ---- two real endpoints ---- */

static void small_writes(skiff_h3_config *cfg, int role) { (void)cfg, (void)role; }

static void many_requests_byte_exact(void)
{
    static const uint64_t sizes[] = {0, 1, 1000, 100000};
    for (size_t s = 0; s < 4; s++) {
        world w;
        world_start(&w, true, small_writes);
        w.pipe.side[1].write_cap = 1000; /* partial writes and writable callbacks */
        w.apps[1].body_size = sizes[s];
        for (int i = 0; i < 100; i++) {
            uint64_t id;
            CHECK_EQ(get(&w, "/file", &id), 0);
            CHECK_U64(id, (uint64_t)i * 4);
        }
        for (int round = 0; round < 2000; round++) {
            h3_pipe_run(&w.pipe);
            h3_pipe_writable(&w.pipe, 1);
        }
        h3_pipe_run(&w.pipe);
        size_t ok = 0;
        for (int i = 0; i < 100; i++) {
            exchange *e = &w.apps[0].ex[i];
            if (e->status == 200 && e->ended && e->bytes == sizes[s] && !e->bad_bytes && !e->aborted) ok++;
        }
        CHECK_EQ(ok, 100);
        CHECK_EQ(w.apps[1].requests, 100);
        CHECK(!w.pipe.side[0].closed && !w.pipe.side[1].closed);
        CHECK_EQ(skiff_h3_active_requests(server(&w)), 0);
        CHECK_EQ(skiff_h3_active_requests(w.pipe.side[0].h3), 0);
        CHECK(skiff_h3_peer_settings(server(&w)) != NULL);
        h3_pipe_free(&w.pipe);
    }
}

/* QUIC tells of new stream bytes once: a reader must drain everything that
 * is there, even megabytes, in one event. */
static void large_body_in_one_event(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 5000000;
    w.pipe.side[1].write_cap = 8000000;
    uint64_t id;
    CHECK_EQ(get(&w, "/big", &id), 0);
    h3_pipe_run(&w.pipe);
    exchange *e = &w.apps[0].ex[0];
    CHECK_EQ(e->bytes, 5000000);
    CHECK(e->ended && !e->bad_bytes);
    h3_pipe_free(&w.pipe);
}

static void informational_trailers_and_head(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 10;
    w.apps[1].send_trailers = true;
    w.apps[1].send_100 = true;
    uint64_t id;
    CHECK_EQ(get(&w, "/t", &id), 0);
    h3_pipe_run(&w.pipe);
    exchange *e = &w.apps[0].ex[0];
    CHECK_EQ(e->informational, 1);
    CHECK_EQ(e->status, 200);
    CHECK_EQ(e->bytes, 10);
    CHECK_EQ(e->trailers, 1);
    CHECK(e->ended);
    /* HEAD: content-length describes a body that never comes. */
    w.apps[1].send_trailers = false;
    w.apps[1].send_100 = false;
    skiff_h3_field head[] = {F(":method", "HEAD"), F(":scheme", "https"), F(":authority", "example.com"),
                             F(":path", "/h")};
    CHECK_EQ(skiff_h3_request(w.pipe.side[0].h3, head, 4, false, &id), 0);
    h3_pipe_run(&w.pipe);
    e = &w.apps[0].ex[id / 4];
    CHECK_EQ(e->status, 200);
    CHECK_EQ(e->bytes, 0);
    CHECK(e->ended && !e->aborted);
    h3_pipe_free(&w.pipe);
}

static void request_body_and_trailers_reach_the_server(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 1; /* a response without a body would stop the upload (§4.1) */
    skiff_h3_field req[] = {F(":method", "POST"), F(":scheme", "https"), F(":authority", "example.com"),
                            F(":path", "/upload"), F("content-length", "5000")};
    uint64_t id;
    CHECK_EQ(skiff_h3_request(w.pipe.side[0].h3, req, 5, true, &id), 0);
    uint8_t body[5000];
    memset(body, 'x', sizeof body);
    CHECK_EQ(skiff_h3_write_body(w.pipe.side[0].h3, id, body, sizeof body, true), 5000);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(w.apps[1].request_body_received, 5000);
    CHECK_EQ(w.apps[0].ex[0].status, 200);
    CHECK(w.apps[0].ex[0].ended);
    h3_pipe_free(&w.pipe);
}

/* RFC 9204 §2.1.2: a section that refers to inserts not yet received waits,
 * then decodes when the encoder stream catches up. */
static void blocked_section_resumes(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 3;
    /* A first request teaches the server's decoder nothing yet: hold the
     * client's encoder stream (its second unidirectional stream, ID 6). */
    pipe_stream *enc = pipe_find(&w.pipe, 6, false);
    CHECK(enc != NULL);
    if (!enc) return;
    enc->held = true;
    uint64_t id;
    for (int i = 0; i < 3; i++) CHECK_EQ(get(&w, "/same", &id), 0);
    h3_pipe_run(&w.pipe);
    size_t blocked = skiff_qpack_decoder_blocked_streams(server(&w)->decoder);
    uint64_t inserts = skiff_qpack_encoder_insert_count(w.pipe.side[0].h3->encoder);
    /* With inserts in flight the server must wait, not fail. */
    if (inserts) CHECK(blocked > 0);
    CHECK(!server_side(&w)->closed);
    enc->held = false;
    h3_pipe_run(&w.pipe);
    for (int i = 0; i < 3; i++) CHECK_EQ(w.apps[0].ex[i].status, 200);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(server(&w)->decoder), 0);
    h3_pipe_free(&w.pipe);
}

/* §5.2: after GOAWAY the requests in flight finish, newer ones are refused
 * and the connection closes with H3_NO_ERROR once drained. */
static void goaway_drains_gracefully(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 50000;
    w.pipe.side[1].write_cap = 2000;
    uint64_t id;
    CHECK_EQ(get(&w, "/a", &id), 0);
    CHECK_EQ(get(&w, "/b", &id), 0);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(skiff_h3_shutdown(server(&w)), 0);
    CHECK_U64(server(&w)->goaway_sent_id, 8);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(w.apps[0].goaways, 1);
    CHECK_U64(w.apps[0].goaway_id, 8);
    /* The client refuses new requests once told. */
    CHECK_EQ(get(&w, "/c", &id), SKIFF_ERR_CLOSED);
    for (int round = 0; round < 200 && !w.pipe.side[0].closed; round++) {
        h3_pipe_writable(&w.pipe, 1);
        h3_pipe_run(&w.pipe);
    }
    CHECK_EQ(w.apps[0].ex[0].bytes, 50000);
    CHECK_EQ(w.apps[0].ex[1].bytes, 50000);
    CHECK(w.apps[0].ex[0].ended && w.apps[0].ex[1].ended);
    /* The server is drained and leaves the close to the client, which has
     * every byte: closing first could have lost unacknowledged ones. */
    CHECK(skiff_h3_is_drained(server(&w)));
    CHECK(!server_side(&w)->closed);
    CHECK(w.pipe.side[0].closed);
    CHECK_U64(w.pipe.side[0].close_code, SKIFF_H3_NO_ERROR);
    h3_pipe_free(&w.pipe);
}

static void goaway_rejects_newer_requests(void)
{
    world w;
    world_start(&w, false, NULL);
    w.apps[1].body_size = 1;
    raw_control(&w);
    good_request(&w, 0);
    CHECK_EQ(raw_status(&w, 0), 200);
    CHECK_EQ(skiff_h3_shutdown(server(&w)), 0); /* GOAWAY 4; nothing in flight */
    CHECK_U64(server(&w)->goaway_sent_id, 4);
    CHECK(skiff_h3_is_drained(server(&w)));
    h3_pipe_free(&w.pipe);

    world_start(&w, false, NULL);
    w.apps[1].body_size = 100000;
    w.pipe.side[1].write_cap = 1000;
    raw_control(&w);
    good_request(&w, 0); /* in flight: its response is long */
    CHECK_EQ(skiff_h3_shutdown(server(&w)), 0);
    good_request(&w, 4); /* after the GOAWAY: refused unprocessed */
    CHECK_U64(server_reset_code(&w, 4), SKIFF_H3_REQUEST_REJECTED);
    CHECK_EQ(w.apps[1].requests, 1);
    CHECK(!server_side(&w)->closed);
    h3_pipe_free(&w.pipe);
}

/* ---- bad input: connection errors ---- */

typedef struct bad_case {
    const char *name;
    uint64_t stream;
    const char *hex;
    bool fin;
    uint64_t code;
} bad_case;

static void control_stream_violations(void)
{
    static const bad_case cases[] = {
        /* §6.2.1: the first control frame must be SETTINGS. */
        {"first frame GOAWAY", 2, "00 07 01 00", false, SKIFF_H3_MISSING_SETTINGS},
        {"first frame a grease frame", 2, "00 21 00", false, SKIFF_H3_MISSING_SETTINGS},
        /* §7.2.4: SETTINGS once only. */
        {"second SETTINGS", 2, "00 04 00 04 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        /* §7.2.4.1: HTTP/2 settings are errors. */
        {"HTTP/2 SETTINGS_ENABLE_PUSH", 2, "00 04 02 02 00", false, SKIFF_H3_SETTINGS_ERROR},
        {"HTTP/2 SETTINGS_MAX_FRAME_SIZE", 2, "00 04 03 05 44 00", false, SKIFF_H3_SETTINGS_ERROR},
        {"duplicate setting", 2, "00 04 04 06 01 06 01", false, SKIFF_H3_SETTINGS_ERROR},
        /* §7.2: frames that belong elsewhere. */
        {"DATA on control", 2, "00 04 00 00 01 61", false, SKIFF_H3_FRAME_UNEXPECTED},
        {"HEADERS on control", 2, "00 04 00 01 02 00 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        {"HTTP/2 PING frame", 2, "00 04 00 06 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        {"HTTP/2 WINDOW_UPDATE frame", 2, "00 04 00 08 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        /* §7.2.3: CANCEL_PUSH of a push never allowed. */
        {"CANCEL_PUSH", 2, "00 04 00 03 01 00", false, SKIFF_H3_ID_ERROR},
        /* §7.2.6, §7.1: a GOAWAY payload that is not one varint. */
        {"GOAWAY with trailing bytes", 2, "00 04 00 07 02 00 00", false, SKIFF_H3_FRAME_ERROR},
        /* §6.2.1: the control stream must not close. */
        {"control stream closed", 2, "00 04 00", true, SKIFF_H3_CLOSED_CRITICAL_STREAM},
        {"encoder stream closed", 6, "02", true, SKIFF_H3_CLOSED_CRITICAL_STREAM},
        {"decoder stream closed", 10, "03", true, SKIFF_H3_CLOSED_CRITICAL_STREAM},
        /* §6.2.2: a client never pushes. */
        {"push stream from a client", 2, "01 00", false, SKIFF_H3_STREAM_CREATION_ERROR},
        /* RFC 9204 §4.3.1: a capacity above what the decoder allowed (4096). */
        {"QPACK capacity too large", 6, "02 3f e2 3f", false, SKIFF_QPACK_ENCODER_STREAM_ERROR},
        /* RFC 9204 §4.4: an Insert Count Increment of 0. */
        {"QPACK increment of zero", 10, "03 00", false, SKIFF_QPACK_DECODER_STREAM_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world w;
        world_start(&w, false, NULL);
        raw(&w, cases[i].stream, cases[i].hex, cases[i].fin);
        if (!server_side(&w)->closed || server_side(&w)->close_code != cases[i].code)
            fprintf(stderr, "  case '%s': closed %d code 0x%llx\n", cases[i].name, server_side(&w)->closed,
                    (unsigned long long)server_side(&w)->close_code);
        CHECK(server_side(&w)->closed);
        CHECK_U64(server_side(&w)->close_code, cases[i].code);
        h3_pipe_free(&w.pipe);
    }
}

static void second_critical_streams(void)
{
    static const char *types[] = {"00 04 00", "02", "03"};
    for (int t = 0; t < 3; t++) {
        world w;
        world_start(&w, false, NULL);
        raw(&w, 2, types[t], false);
        CHECK(!server_side(&w)->closed);
        raw(&w, 6, types[t], false);
        CHECK(server_side(&w)->closed);
        CHECK_U64(server_side(&w)->close_code, SKIFF_H3_STREAM_CREATION_ERROR);
        h3_pipe_free(&w.pipe);
    }
}

/* A client's view: what a server must not send. */
static void server_violations_seen_by_a_client(void)
{
    /* A push stream (§4.6: we never sent MAX_PUSH_ID). */
    world w;
    world_start(&w, true, NULL);
    skiff_h3_conn *srv = w.pipe.side[1].h3;
    w.pipe.side[1].h3 = NULL; /* the server side is driven by hand */
    h3_pipe_raw(&w.pipe, 1, 3 + 4 * 8, (const uint8_t *)"\x01\x00", 2, false);
    h3_pipe_run(&w.pipe);
    CHECK(w.pipe.side[0].closed);
    CHECK_U64(w.pipe.side[0].close_code, SKIFF_H3_ID_ERROR);
    skiff_h3_conn_free(srv);
    h3_pipe_free(&w.pipe);

    /* A server-initiated bidirectional stream (§6.1). */
    world_start(&w, true, NULL);
    srv = w.pipe.side[1].h3;
    w.pipe.side[1].h3 = NULL;
    h3_pipe_raw(&w.pipe, 1, 1, (const uint8_t *)"\x01\x00", 2, false);
    h3_pipe_run(&w.pipe);
    CHECK_U64(w.pipe.side[0].close_code, SKIFF_H3_STREAM_CREATION_ERROR);
    skiff_h3_conn_free(srv);
    h3_pipe_free(&w.pipe);

    /* MAX_PUSH_ID from a server (§7.2.7), and a GOAWAY ID that grows (§5.2). */
    /* Appended to the server's real control stream (ID 3), after its SETTINGS. */
    static const char *const control[] = {"0d 01 05", "07 01 08 07 01 0c", "07 01 02"};
    static const uint64_t codes[] = {SKIFF_H3_FRAME_UNEXPECTED, SKIFF_H3_ID_ERROR, SKIFF_H3_ID_ERROR};
    for (int i = 0; i < 3; i++) {
        world_start(&w, true, NULL);
        srv = w.pipe.side[1].h3;
        w.pipe.side[1].h3 = NULL;
        uint64_t pending;
        CHECK_EQ(get(&w, "/in-flight", &pending), 0); /* so a first GOAWAY does not end it all */
        uint8_t buf[64];
        size_t n = test_hex(control[i], buf, sizeof buf);
        h3_pipe_raw(&w.pipe, 1, 3, buf, n, false);
        h3_pipe_run(&w.pipe);
        CHECK_U64(w.pipe.side[0].close_code, codes[i]);
        skiff_h3_conn_free(srv);
        h3_pipe_free(&w.pipe);
    }

    /* PUSH_PROMISE on a request stream: any push ID is above the limit (§7.2.5). */
    world_start(&w, true, NULL);
    srv = w.pipe.side[1].h3;
    w.pipe.side[1].h3 = NULL;
    uint64_t id;
    CHECK_EQ(get(&w, "/", &id), 0);
    h3_pipe_raw(&w.pipe, 1, id, (const uint8_t *)"\x05\x03\x00\x00\x00", 5, false);
    h3_pipe_run(&w.pipe);
    CHECK_U64(w.pipe.side[0].close_code, SKIFF_H3_ID_ERROR);
    skiff_h3_conn_free(srv);
    h3_pipe_free(&w.pipe);
}

static void request_stream_frame_violations(void)
{
    static const bad_case cases[] = {
        /* §4.1: DATA before HEADERS. */
        {"DATA first", 0, "00 02 68 69", false, SKIFF_H3_FRAME_UNEXPECTED},
        /* §7.2.4: SETTINGS belongs on the control stream. */
        {"SETTINGS on a request", 0, "04 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        {"GOAWAY on a request", 0, "07 01 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        {"MAX_PUSH_ID on a request", 0, "0d 01 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        /* §7.2.5: a server never receives PUSH_PROMISE. */
        {"PUSH_PROMISE to a server", 0, "05 03 00 00 00", false, SKIFF_H3_FRAME_UNEXPECTED},
        /* §7.1: the stream ends inside a frame. */
        {"FIN inside a frame", 0, "01 05 00 00", true, SKIFF_H3_FRAME_ERROR},
        /* RFC 9204: an indexed reference to an entry that was never inserted
         * (Required Insert Count 0, relative index 0 against Base 0). */
        {"reference past the table", 0, "01 03 00 00 80", false, SKIFF_QPACK_DECOMPRESSION_FAILED},
        /* RFC 7541 §5.2: Huffman padding must be the EOS prefix (all ones). */
        {"bad Huffman padding", 0, "01 05 00 00 51 81 00", false, SKIFF_QPACK_DECOMPRESSION_FAILED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world w;
        world_start(&w, false, NULL);
        raw_control(&w);
        raw(&w, cases[i].stream, cases[i].hex, cases[i].fin);
        if (server_side(&w)->close_code != cases[i].code)
            fprintf(stderr, "  case '%s': closed %d code 0x%llx\n", cases[i].name, server_side(&w)->closed,
                    (unsigned long long)server_side(&w)->close_code);
        CHECK(server_side(&w)->closed);
        CHECK_U64(server_side(&w)->close_code, cases[i].code);
        h3_pipe_free(&w.pipe);
    }
}

/* RFC 9204 §3.2.2: a reference to an entry evicted from the dynamic table. */
static void evicted_reference(void)
{
    world w;
    world_start(&w, false, NULL);
    raw_control(&w);
    /* Capacity 64, then two 40-byte entries: the second evicts the first. */
    raw(&w, 6, "02 3f 21  44 61616161 04 62626262  44 63636363 04 64646464", false);
    CHECK(!server_side(&w)->closed);
    /* Required Insert Count 2 (encoded 3), Base 2, relative index 1 = absolute 0: evicted. */
    raw(&w, 0, "01 03 03 00 81", false);
    CHECK(server_side(&w)->closed);
    CHECK_U64(server_side(&w)->close_code, SKIFF_QPACK_DECOMPRESSION_FAILED);
    h3_pipe_free(&w.pipe);

    /* The same with the section first: it blocks, then fails when the inserts come. */
    world_start(&w, false, NULL);
    raw_control(&w);
    raw(&w, 0, "01 03 03 00 81", false);
    CHECK(!server_side(&w)->closed);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(server(&w)->decoder), 1);
    raw(&w, 6, "02 3f 21  44 61616161 04 62626262  44 63636363 04 64646464", false);
    CHECK(server_side(&w)->closed);
    CHECK_U64(server_side(&w)->close_code, SKIFF_QPACK_DECOMPRESSION_FAILED);
    h3_pipe_free(&w.pipe);
}

static void one_blocked_stream(skiff_h3_config *cfg, int role)
{
    (void)role;
    cfg->qpack_blocked_streams = 1;
}

/* RFC 9204 §2.1.2: more blocked streams than announced. */
static void too_many_blocked_streams(void)
{
    world w;
    world_start(&w, false, one_blocked_stream);
    raw_control(&w);
    /* Required Insert Count 1 (encoded 2) with nothing inserted: blocked. */
    raw(&w, 0, "01 03 02 00 80", false);
    CHECK(!server_side(&w)->closed);
    CHECK_EQ(skiff_qpack_decoder_blocked_streams(server(&w)->decoder), 1);
    raw(&w, 4, "01 03 02 00 80", false);
    CHECK(server_side(&w)->closed);
    CHECK_U64(server_side(&w)->close_code, SKIFF_QPACK_DECOMPRESSION_FAILED);
    h3_pipe_free(&w.pipe);
}

/* ---- bad input: stream errors leave the rest alone ---- */

static void malformed_requests_fail_alone(void)
{
    static const skiff_h3_field uppercase[] = {F(":method", "GET"), F(":scheme", "https"),
                                               F(":authority", "a"), F(":path", "/"), F("X-Up", "1")};
    static const skiff_h3_field no_path[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "a")};
    static const skiff_h3_field conn_hdr[] = {F(":method", "GET"), F(":scheme", "https"),
                                              F(":authority", "a"), F(":path", "/"), F("connection", "close")};
    static const skiff_h3_field pseudo_late[] = {F(":method", "GET"), F(":scheme", "https"), F("accept", "*/*"),
                                                 F(":authority", "a"), F(":path", "/")};
    static const skiff_h3_field connect_path[] = {F(":method", "CONNECT"), F(":authority", "a:443"),
                                                  F(":path", "/")};
    static const struct {
        const skiff_h3_field *f;
        size_t n;
    } bad[] = {{uppercase, 5}, {no_path, 3}, {conn_hdr, 5}, {pseudo_late, 5}, {connect_path, 3}};
    world w;
    world_start(&w, false, NULL);
    w.apps[1].body_size = 2;
    raw_control(&w);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t id = 8 * i;
        raw_request(&w, id, bad[i].f, bad[i].n, true);
        CHECK_U64(server_reset_code(&w, id), SKIFF_H3_MESSAGE_ERROR);
        good_request(&w, id + 4); /* the next request on the same connection is fine */
        CHECK_EQ(raw_status(&w, id + 4), 200);
    }
    CHECK(!server_side(&w)->closed);
    CHECK_EQ(w.apps[1].requests, sizeof bad / sizeof bad[0]);
    h3_pipe_free(&w.pipe);
}

static void content_length_must_match(void)
{
    world w;
    world_start(&w, false, NULL);
    w.apps[1].body_size = 1;
    raw_control(&w);
    skiff_h3_field post[] = {F(":method", "POST"), F(":scheme", "https"), F(":authority", "a"),
                             F(":path", "/p"), F("content-length", "3")};
    /* Too much body: failed as it arrives. */
    raw_request(&w, 0, post, 5, false);
    raw(&w, 0, "00 05 6162636465", true);
    CHECK_U64(server_reset_code(&w, 0), SKIFF_H3_MESSAGE_ERROR);
    /* Too little: failed at the end. */
    raw_request(&w, 4, post, 5, false);
    raw(&w, 4, "00 02 6162", true);
    CHECK_U64(server_reset_code(&w, 4), SKIFF_H3_MESSAGE_ERROR);
    /* Exactly right. */
    raw_request(&w, 8, post, 5, false);
    raw(&w, 8, "00 03 616263", true);
    CHECK_EQ(raw_status(&w, 8), 200);
    CHECK_U64(server_reset_code(&w, 8), 0);
    CHECK(!server_side(&w)->closed);
    h3_pipe_free(&w.pipe);
}

static void incomplete_request(void)
{
    world w;
    world_start(&w, false, NULL);
    raw_control(&w);
    raw(&w, 0, "21 00", true); /* only a grease frame, then the end */
    CHECK_U64(server_reset_code(&w, 0), SKIFF_H3_REQUEST_INCOMPLETE);
    CHECK(!server_side(&w)->closed);
    h3_pipe_free(&w.pipe);
}

/* Grease and unknown types are ignored (§9); an unknown stream type is
 * refused with STOP_SENDING H3_STREAM_CREATION_ERROR (§6.2). */
static void grease_and_unknown_types_are_ignored(void)
{
    world w;
    world_start(&w, false, NULL);
    w.apps[1].body_size = 4;
    raw(&w, 2, "00 04 04 21 05 3f 00 21 03 616263", false); /* SETTINGS with a grease id, a grease frame */
    raw(&w, 6, "40 21 6a756e6b", false);                   /* a grease stream type */
    raw(&w, 10, "3f 0102", false);                          /* an unknown stream type 0x3f */
    raw(&w, 0, "21 00 22 01 ff", false);                    /* grease frames before HEADERS */
    good_request(&w, 0);
    CHECK(!server_side(&w)->closed);
    CHECK_EQ(raw_status(&w, 0), 200);
    pipe_stream *st = pipe_find(&w.pipe, 10, false);
    CHECK(st && st->stop_sent[1]);
    if (st) CHECK_U64(st->stop_code[1], SKIFF_H3_STREAM_CREATION_ERROR);
    h3_pipe_free(&w.pipe);
}

/* Our own grease reaches the peer and the peer ignores it. */
static void we_send_grease(void)
{
    world w;
    world_start(&w, true, NULL);
    size_t uni = 0;
    for (size_t i = 0; i < w.pipe.count; i++)
        if ((w.pipe.streams[i].id & 3) == 2) uni++;
    CHECK_EQ(uni, 4); /* control, encoder, decoder and a reserved-type stream */
    pipe_stream *control = pipe_find(&w.pipe, 2, false);
    CHECK(control && control->dir[0].len > 4);
    CHECK(!w.pipe.side[0].closed && !w.pipe.side[1].closed);
    h3_pipe_free(&w.pipe);
}

static void small_field_limit(skiff_h3_config *cfg, int role)
{
    if (role == 1) cfg->max_field_section_size = 1000;
}

/* RFC 9114 §4.2.2, §10.5.1: a header section over our limit gets 431, and
 * the connection goes on. */
static void oversized_header_section(void)
{
    world w;
    world_start(&w, true, small_field_limit);
    w.apps[1].body_size = 5;
    static char big[2000];
    memset(big, 'v', sizeof big);
    skiff_h3_field req[] = {F(":method", "GET"), F(":scheme", "https"), F(":authority", "example.com"),
                            F(":path", "/"), {(const uint8_t *)"x-big", 5, (const uint8_t *)big, sizeof big}};
    uint64_t id;
    CHECK_EQ(skiff_h3_request(w.pipe.side[0].h3, req, 5, false, &id), 0);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(w.apps[0].ex[0].status, 431);
    CHECK_EQ(w.apps[1].requests, 0);
    CHECK_EQ(get(&w, "/fine", &id), 0);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(w.apps[0].ex[1].status, 200);
    CHECK(!w.pipe.side[1].closed);
    h3_pipe_free(&w.pipe);
}

/* A client that cancels: the server's response stops, others go on. */
static void cancel_one_request(void)
{
    world w;
    world_start(&w, true, NULL);
    w.apps[1].body_size = 100000;
    w.pipe.side[1].write_cap = 1000;
    uint64_t a, b;
    CHECK_EQ(get(&w, "/a", &a), 0);
    CHECK_EQ(get(&w, "/b", &b), 0);
    h3_pipe_run(&w.pipe);
    CHECK_EQ(skiff_h3_cancel(w.pipe.side[0].h3, a, SKIFF_H3_REQUEST_CANCELLED), 0);
    for (int round = 0; round < 500; round++) {
        h3_pipe_run(&w.pipe);
        h3_pipe_writable(&w.pipe, 1);
    }
    h3_pipe_run(&w.pipe);
    CHECK(w.apps[0].ex[0].aborted);
    CHECK_U64(w.apps[0].ex[0].abort_code, SKIFF_H3_REQUEST_CANCELLED);
    CHECK_EQ(w.apps[0].ex[1].bytes, 100000);
    CHECK(w.apps[0].ex[1].ended);
    CHECK_EQ(skiff_h3_active_requests(server(&w)), 0);
    h3_pipe_free(&w.pipe);
}

int main(void)
{
    RUN(many_requests_byte_exact);
    RUN(large_body_in_one_event);
    RUN(informational_trailers_and_head);
    RUN(request_body_and_trailers_reach_the_server);
    RUN(blocked_section_resumes);
    RUN(goaway_drains_gracefully);
    RUN(goaway_rejects_newer_requests);
    RUN(control_stream_violations);
    RUN(second_critical_streams);
    RUN(server_violations_seen_by_a_client);
    RUN(request_stream_frame_violations);
    RUN(evicted_reference);
    RUN(too_many_blocked_streams);
    RUN(malformed_requests_fail_alone);
    RUN(content_length_must_match);
    RUN(incomplete_request);
    RUN(grease_and_unknown_types_are_ignored);
    RUN(we_send_grease);
    RUN(oversized_header_section);
    RUN(cancel_one_request);
    return test_report("h3_conn");
}
