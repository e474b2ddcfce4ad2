/*
 * The userspace TCP (src/tcp) between two stacks over an in-memory wire on a
 * virtual clock, with seeded loss, reordering and duplication, plus raw
 * segments a peer would never send. Asserts what a user sees: bytes intact,
 * the exact state sequences of RFC 9293 (and of seed 001), RST and
 * challenge-ACK behaviour (RFC 5961), zero-window probing, TIME-WAIT, and bad
 * input dropped and counted.
 */
#include "tcp/tcp_internal.h"
#include "test.h"

#define MAXQ 20000

typedef struct pkt {
    uint8_t data[1600];
    size_t len;
    skiff_time at;
    int to; /* 0: stack A, 1: stack B */
} pkt;

typedef struct side {
    skiff_tcp_stack *stack;
    skiff_tcp_conn *conn;
    char states[512];
    skiff_tcp_end end;
    bool ended;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    bool eof;
    bool reading; /* the application reads what arrives */
    const uint8_t *tx;
    size_t tx_len, tx_off;
    bool close_after_send;
    bool close_on_eof; /* shutdown from inside the readable callback at the peer's FIN */
} side;

typedef struct net {
    side s[2];
    pkt *q;
    size_t qn;
    skiff_time now;
    uint64_t rng;
    unsigned loss, reorder, dup; /* percent */
    bool blackhole;
    uint8_t last_fin[2][1600]; /* the last FIN each side sent, to replay */
    size_t last_fin_len[2];
} net;

static net *cur;

static uint32_t rnd(net *n)
{
    n->rng ^= n->rng << 13, n->rng ^= n->rng >> 7, n->rng ^= n->rng << 17;
    return (uint32_t)n->rng;
}

static side *side_of(void *ud) { return ud; }

static void on_state(skiff_tcp_conn *c, skiff_tcp_state from, skiff_tcp_state to, void *ud)
{
    side *s = side_of(ud);
    (void)c;
    size_t l = strlen(s->states);
    if (!l) snprintf(s->states, sizeof s->states, "%s", skiff_tcp_state_name(from)), l = strlen(s->states);
    snprintf(s->states + l, sizeof s->states - l, " %s", skiff_tcp_state_name(to));
}

static void pump(side *s)
{
    while (s->conn && s->tx_off < s->tx_len) {
        skiff_ssize n = skiff_tcp_send(s->conn, s->tx + s->tx_off, s->tx_len - s->tx_off, cur->now);
        if (n <= 0) break;
        s->tx_off += (size_t)n;
    }
    if (s->conn && s->close_after_send && s->tx_off == s->tx_len) {
        s->close_after_send = false;
        skiff_tcp_shutdown(s->conn, cur->now);
    }
}

static void drain(side *s)
{
    if (!s->conn || !s->reading) return;
    for (;;) {
        if (s->rx_len == s->rx_cap) {
            s->rx_cap = s->rx_cap ? s->rx_cap * 2 : 65536;
            s->rx = realloc(s->rx, s->rx_cap);
        }
        bool eof = false;
        skiff_ssize n = skiff_tcp_recv(s->conn, s->rx + s->rx_len, s->rx_cap - s->rx_len, &eof, cur->now);
        if (n > 0) s->rx_len += (size_t)n;
        if (eof && !s->eof && s->close_on_eof) skiff_tcp_shutdown(s->conn, cur->now);
        if (eof) s->eof = true;
        if (n <= 0) break;
    }
}

static void on_accepted(skiff_tcp_conn *c, void *ud)
{
    side *s = side_of(ud);
    s->conn = c;
    pump(s);
}
static void on_readable(skiff_tcp_conn *c, void *ud) { (void)c, drain(side_of(ud)); }
static void on_writable(skiff_tcp_conn *c, void *ud)
{
    side *s = side_of(ud);
    if (!s->conn) s->conn = c;
    pump(s);
}
static void on_ended(skiff_tcp_conn *c, skiff_tcp_end why, void *ud)
{
    side *s = side_of(ud);
    (void)c;
    s->ended = true;
    s->end = why;
    s->conn = NULL;
}
static void det_random(uint8_t *out, size_t len, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)rnd(cur);
}

static const skiff_tcp_callbacks cbs = {.state = on_state, .accepted = on_accepted, .readable = on_readable,
                                        .writable = on_writable, .ended = on_ended, .random = det_random};

static skiff_tcp_addr addr(int i, uint16_t port)
{
    skiff_tcp_addr a = {.family = 4, .port = port};
    a.ip[0] = 10, a.ip[3] = (uint8_t)(1 + i);
    return a;
}

static void net_init(net *n, uint64_t seed, const skiff_tcp_config *cfg0, const skiff_tcp_config *cfg1)
{
    memset(n, 0, sizeof *n);
    cur = n;
    n->rng = seed * 0x9e3779b97f4a7c15u + 1;
    n->now = SKIFF_MS(1000);
    n->q = calloc(MAXQ, sizeof *n->q);
    for (int i = 0; i < 2; i++) {
        skiff_tcp_config cfg;
        skiff_tcp_config_default(&cfg);
        const skiff_tcp_config *given = i ? cfg1 : cfg0;
        if (given) cfg = *given;
        CHECK_EQ(skiff_tcp_stack_new(&n->s[i].stack, &cfg, &cbs, &n->s[i], n->now), 0);
        skiff_tcp_addr a = addr(i, 0);
        skiff_tcp_stack_add_address(n->s[i].stack, &a);
        n->s[i].reading = true;
    }
}

static void net_free(net *n)
{
    for (int i = 0; i < 2; i++) {
        skiff_tcp_stack_free(n->s[i].stack);
        free(n->s[i].rx);
    }
    free(n->q);
}

static void enqueue(net *n, const uint8_t *p, size_t len, int to)
{
    if (n->blackhole || rnd(n) % 100 < n->loss) return;
    int copies = rnd(n) % 100 < n->dup ? 2 : 1;
    for (int k = 0; k < copies && n->qn < MAXQ && len <= sizeof n->q[0].data; k++) {
        pkt *q = &n->q[n->qn++];
        memcpy(q->data, p, len);
        q->len = len;
        q->to = to;
        q->at = n->now + SKIFF_MS(5) + (rnd(n) % 100 < n->reorder ? SKIFF_MS(rnd(n) % 8) : 0);
    }
}

/* Moves every packet the stacks want to send onto the wire. */
static void collect(net *n)
{
    uint8_t buf[1600];
    for (int i = 0; i < 2; i++) {
        size_t len;
        while ((len = skiff_tcp_stack_output(n->s[i].stack, buf, sizeof buf, n->now)) > 0) {
            skiff_tcp_segment seg;
            if (skiff_tcp_segment_parse(&seg, buf, len, false) == SKIFF_TCP_PARSE_OK && (seg.flags & SKIFF_TCP_FIN)) {
                memcpy(n->last_fin[i], buf, len);
                n->last_fin_len[i] = len;
            }
            enqueue(n, buf, len, 1 - i);
        }
    }
}

/* Runs the wire until `until` or nothing is left to happen. */
static void run(net *n, skiff_time until)
{
    for (int step = 0; step < 2000000; step++) {
        collect(n);
        skiff_time next = until;
        for (size_t i = 0; i < n->qn; i++)
            if (n->q[i].at < next) next = n->q[i].at;
        for (int i = 0; i < 2; i++) {
            skiff_time d = skiff_tcp_stack_deadline(n->s[i].stack);
            if (d < next) next = d;
        }
        if (next >= until) {
            n->now = until;
            return;
        }
        if (next > n->now) n->now = next;
        for (size_t i = 0; i < n->qn;) {
            if (n->q[i].at <= n->now) {
                pkt p = n->q[i];
                n->q[i] = n->q[--n->qn];
                skiff_tcp_stack_input(n->s[p.to].stack, p.data, p.len, n->now);
            } else {
                i++;
            }
        }
        for (int i = 0; i < 2; i++)
            if (skiff_tcp_stack_deadline(n->s[i].stack) <= n->now) skiff_tcp_stack_on_timeout(n->s[i].stack, n->now);
        for (int i = 0; i < 2; i++) {
            pump(&n->s[i]);
            drain(&n->s[i]);
        }
    }
}

static uint8_t *pattern(size_t len, uint8_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(i * 31 + seed + (i >> 12));
    return p;
}

/* A connects to B:80; each sends its bytes and closes after them. */
static void exchange(net *n, size_t a_bytes, size_t b_bytes, bool b_closes_after_peer)
{
    uint8_t *a = pattern(a_bytes, 1), *b = pattern(b_bytes, 2);
    n->s[0].tx = a, n->s[0].tx_len = a_bytes, n->s[0].close_after_send = true;
    n->s[1].tx = b, n->s[1].tx_len = b_bytes, n->s[1].close_after_send = !b_closes_after_peer;
    CHECK_EQ(skiff_tcp_listen(n->s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n->s[0].stack, &la, &rb, n->now, &n->s[0].conn), 0);
    for (int round = 0; round < 2000 && !(n->s[0].ended && n->s[1].ended); round++) {
        run(n, n->now + SKIFF_MS(100));
        if (b_closes_after_peer && n->s[1].eof && n->s[1].conn && n->s[1].tx_off == n->s[1].tx_len &&
            skiff_tcp_conn_state(n->s[1].conn) == SKIFF_TCP_CLOSE_WAIT)
            skiff_tcp_shutdown(n->s[1].conn, n->now);
    }
    CHECK_EQ(n->s[1].rx_len, a_bytes);
    CHECK(n->s[1].rx_len == a_bytes && !memcmp(n->s[1].rx, a, a_bytes));
    CHECK_EQ(n->s[0].rx_len, b_bytes);
    CHECK(n->s[0].rx_len == b_bytes && (!b_bytes || !memcmp(n->s[0].rx, b, b_bytes)));
    free(a);
    free(b);
}

/* Seed 001: the client closes first. */
static void handshake_transfer_and_the_seeds_close(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.msl = SKIFF_MS(1000);
    net_init(&n, 1, &c, &c);
    exchange(&n, 1000000, 0, true);
    CHECK(!strcmp(n.s[0].states, "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED"));
    CHECK(!strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"));
    if (strcmp(n.s[0].states, "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED"))
        fprintf(stderr, "  client states: %s\n", n.s[0].states);
    if (strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"))
        fprintf(stderr, "  server states: %s\n", n.s[1].states);
    CHECK_EQ(n.s[0].end, SKIFF_TCP_END_CLOSED);
    CHECK_EQ(n.s[1].end, SKIFF_TCP_END_CLOSED);
    CHECK_EQ(skiff_tcp_stack_connections(n.s[0].stack), 0);
    CHECK_EQ(skiff_tcp_stack_connections(n.s[1].stack), 0);
    net_free(&n);
}

/* An application that closes the moment it reads the peer's FIN, from
 * inside the readable callback, finds the connection in CLOSE-WAIT (the
 * FIN is taken before the application hears of the bytes before it), even
 * when the FIN came ahead of a hole. */
static void close_on_eof_inside_the_callback(void)
{
    for (uint64_t seed = 20; seed < 26; seed++) {
        net n;
        skiff_tcp_config c;
        skiff_tcp_config_default(&c);
        c.msl = SKIFF_MS(200);
        net_init(&n, seed, &c, &c);
        n.reorder = 30;
        n.s[1].close_on_eof = true;
        exchange(&n, 200000, 0, true);
        CHECK(!strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"));
        if (strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"))
            fprintf(stderr, "  seed %llu: %s\n", (unsigned long long)seed, n.s[1].states);
        net_free(&n);
    }
}

/* Loss, reordering and duplication both ways: still byte-exact, both ways. */
static void impaired_paths_stay_byte_exact(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        net n;
        skiff_tcp_config c;
        skiff_tcp_config_default(&c);
        c.msl = SKIFF_MS(500);
        c.sack = seed % 2 == 0; /* with and without SACK */
        net_init(&n, seed, &c, &c);
        n.loss = 3, n.reorder = 10, n.dup = 2;
        exchange(&n, 400000, 300000, false);
        CHECK(n.s[0].ended && n.s[1].ended);
        CHECK(skiff_tcp_stack_stats(n.s[0].stack)->retransmits > 0);
        net_free(&n);
    }
}

/* Initial sequence numbers just below 2^32 on both sides: the wrap is crossed. */
static void sequence_numbers_wrap(void)
{
    net n;
    skiff_tcp_config c0, c1;
    skiff_tcp_config_default(&c0);
    c0.fixed_isn = true, c0.isn = 0xffffffffu - 1000, c0.msl = SKIFF_MS(200);
    c1 = c0;
    c1.isn = 0xffffffffu - 3000;
    net_init(&n, 7, &c0, &c1);
    n.loss = 2;
    exchange(&n, 300000, 300000, false);
    CHECK(n.s[0].ended && n.s[1].ended);
    net_free(&n);
}

/* RFC 9293 §3.6 figure 13: both close at once, through CLOSING. */
static void simultaneous_close(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.msl = SKIFF_MS(300);
    net_init(&n, 3, &c, &c);
    CHECK_EQ(skiff_tcp_listen(n.s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(100));
    CHECK(n.s[0].conn && n.s[1].conn);
    if (!n.s[0].conn || !n.s[1].conn) return;
    CHECK_EQ(skiff_tcp_shutdown(n.s[0].conn, n.now), 0);
    CHECK_EQ(skiff_tcp_shutdown(n.s[1].conn, n.now), 0);
    run(&n, n.now + SKIFF_MS(2000));
    CHECK(!strcmp(n.s[0].states, "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED"));
    CHECK(!strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED"));
    if (!n.s[0].ended || strcmp(n.s[1].states, "LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED"))
        fprintf(stderr, "  states: %s | %s\n", n.s[0].states, n.s[1].states);
    net_free(&n);
}

/* RFC 9293 §3.5 figure 7: both open at once, through SYN-RECEIVED. */
static void simultaneous_open(void)
{
    net n;
    net_init(&n, 4, NULL, NULL);
    skiff_tcp_addr a = addr(0, 7000), b = addr(1, 7001);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &a, &b, n.now, &n.s[0].conn), 0);
    CHECK_EQ(skiff_tcp_connect(n.s[1].stack, &b, &a, n.now, &n.s[1].conn), 0);
    run(&n, n.now + SKIFF_MS(500));
    for (int i = 0; i < 2; i++) {
        CHECK(n.s[i].conn && skiff_tcp_conn_state(n.s[i].conn) == SKIFF_TCP_ESTABLISHED);
        CHECK(!strcmp(n.s[i].states, "CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED"));
        if (strcmp(n.s[i].states, "CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED")) fprintf(stderr, "  %d: %s\n", i, n.s[i].states);
    }
    net_free(&n);
}

/* Two established stacks, A the client. */
static void established_pair(net *n, uint64_t seed)
{
    net_init(n, seed, NULL, NULL);
    CHECK_EQ(skiff_tcp_listen(n->s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n->s[0].stack, &la, &rb, n->now, &n->s[0].conn), 0);
    run(n, n->now + SKIFF_MS(100));
}

/* A segment to B's connection as if from A, with the given sequence number and flags. */
static void inject(net *n, uint32_t seq, uint32_t ack, uint8_t flags)
{
    skiff_tcp_conn *bc = n->s[1].conn;
    skiff_tcp_segment seg = {0};
    seg.src = *skiff_tcp_conn_remote(bc);
    seg.dst = *skiff_tcp_conn_local(bc);
    seg.seq = seq, seg.ack = ack, seg.flags = flags, seg.window = 1000;
    uint8_t buf[200];
    skiff_ssize len = skiff_tcp_segment_build(buf, sizeof buf, &seg);
    CHECK(len > 0);
    skiff_tcp_stack_input(n->s[1].stack, buf, (size_t)len, n->now);
}

/* RFC 5961 §3: an in-window RST at the wrong sequence number gets a
 * challenge ACK and the connection lives; the exact one resets it. */
static void blind_reset_gets_a_challenge_ack(void)
{
    net n;
    established_pair(&n, 5);
    skiff_tcp_conn *bc = n.s[1].conn;
    CHECK(bc != NULL);
    if (!bc) return;
    uint32_t nxt = tcp_rcv_seq(bc, bc->rcv_nxt);
    uint64_t before = skiff_tcp_stack_stats(n.s[1].stack)->challenge_acks;
    inject(&n, nxt + 100, 0, SKIFF_TCP_RST);
    CHECK_EQ(skiff_tcp_stack_stats(n.s[1].stack)->challenge_acks, before + 1);
    CHECK(!n.s[1].ended && skiff_tcp_conn_state(bc) == SKIFF_TCP_ESTABLISHED);
    /* A SYN on the established connection (RFC 5961 §4): challenge ACK too. */
    inject(&n, nxt + 5, 0, SKIFF_TCP_SYN);
    CHECK_EQ(skiff_tcp_stack_stats(n.s[1].stack)->challenge_acks, before + 2);
    CHECK(!n.s[1].ended);
    /* An RST far outside the window: dropped silently. */
    inject(&n, nxt + 0x40000000u, 0, SKIFF_TCP_RST);
    CHECK(!n.s[1].ended);
    /* Data still flows. */
    uint8_t *p = pattern(5000, 9);
    n.s[0].tx = p, n.s[0].tx_len = 5000;
    run(&n, n.now + SKIFF_MS(200));
    CHECK_EQ(n.s[1].rx_len, 5000);
    /* The exact RST resets. */
    inject(&n, tcp_rcv_seq(bc, bc->rcv_nxt), 0, SKIFF_TCP_RST);
    CHECK(n.s[1].ended);
    CHECK_EQ(n.s[1].end, SKIFF_TCP_END_RESET);
    free(p);
    net_free(&n);
}

/* A connection to a port nobody listens on is refused with RST. */
static void closed_port_refuses(void)
{
    net n;
    net_init(&n, 6, NULL, NULL);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 81);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(200));
    CHECK(n.s[0].ended);
    CHECK_EQ(n.s[0].end, SKIFF_TCP_END_REFUSED);
    CHECK(!strcmp(n.s[0].states, "CLOSED SYN-SENT CLOSED"));
    CHECK_EQ(skiff_tcp_stack_stats(n.s[1].stack)->rst_sent, 1);
    net_free(&n);
}

/* A reader that stops: the window closes, the sender probes it with
 * backoff (§3.8.6.1), and everything arrives once reading resumes. */
static void zero_window_probing(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.recv_buffer = 65536;
    net_init(&n, 8, &c, &c);
    CHECK_EQ(skiff_tcp_listen(n.s[1].stack, 80), 0);
    n.s[1].reading = false;
    uint8_t *p = pattern(500000, 3);
    n.s[0].tx = p, n.s[0].tx_len = 500000;
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(20000));
    CHECK(skiff_tcp_stack_stats(n.s[0].stack)->zero_window_probes >= 3);
    CHECK(!n.s[0].ended && !n.s[1].ended);
    n.s[1].reading = true;
    drain(&n.s[1]);
    run(&n, n.now + SKIFF_MS(60000));
    CHECK_EQ(n.s[1].rx_len, 500000);
    CHECK(n.s[1].rx_len == 500000 && !memcmp(n.s[1].rx, p, 500000));
    free(p);
    net_free(&n);
}

/* A retransmitted FIN in TIME-WAIT restarts the 2 MSL wait (§3.10.7.4). */
static void time_wait_restarts_on_a_retransmitted_fin(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.msl = SKIFF_MS(1000);
    net_init(&n, 9, &c, &c);
    CHECK_EQ(skiff_tcp_listen(n.s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(100));
    skiff_tcp_conn *ac = n.s[0].conn;
    CHECK(ac && n.s[1].conn);
    if (!ac || !n.s[1].conn) return;
    skiff_tcp_shutdown(ac, n.now);
    run(&n, n.now + SKIFF_MS(100));
    skiff_tcp_shutdown(n.s[1].conn, n.now);
    run(&n, n.now + SKIFF_MS(100));
    CHECK_EQ(skiff_tcp_conn_state(ac), SKIFF_TCP_TIME_WAIT);
    skiff_time entered = n.now;
    run(&n, entered + SKIFF_MS(1500)); /* 1.5 s into the 2 s wait */
    CHECK(!n.s[0].ended);
    CHECK(n.last_fin_len[1] > 0);
    skiff_tcp_stack_input(n.s[0].stack, n.last_fin[1], n.last_fin_len[1], n.now); /* the FIN again */
    run(&n, entered + SKIFF_MS(2500)); /* past the first deadline */
    CHECK(!n.s[0].ended);
    run(&n, entered + SKIFF_MS(4000));
    CHECK(n.s[0].ended);
    CHECK_EQ(n.s[0].end, SKIFF_TCP_END_CLOSED);
    net_free(&n);
}

/* A peer that vanishes: retransmissions back off and give up (RFC 6298, §3.8.3). */
static void vanished_peer_times_out(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.data_retries = 5;
    net_init(&n, 10, &c, &c);
    CHECK_EQ(skiff_tcp_listen(n.s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(100));
    n.blackhole = true;
    uint8_t *p = pattern(10000, 4);
    n.s[0].tx = p, n.s[0].tx_len = 10000;
    pump(&n.s[0]);
    run(&n, n.now + SKIFF_MS(600000));
    CHECK(n.s[0].ended);
    CHECK_EQ(n.s[0].end, SKIFF_TCP_END_TIMEOUT);
    CHECK(skiff_tcp_stack_stats(n.s[0].stack)->rto_expirations >= 5);
    free(p);
    net_free(&n);
}

/* Bad segments are dropped and counted; the connection carries on. */
static void bad_segments_are_dropped_and_counted(void)
{
    net n;
    established_pair(&n, 11);
    skiff_tcp_conn *bc = n.s[1].conn;
    CHECK(bc != NULL);
    if (!bc) return;
    skiff_tcp_segment seg = {0};
    seg.src = *skiff_tcp_conn_remote(bc);
    seg.dst = *skiff_tcp_conn_local(bc);
    seg.seq = tcp_rcv_seq(bc, bc->rcv_nxt), seg.ack = tcp_snd_seq(bc, bc->snd_nxt);
    seg.flags = SKIFF_TCP_ACK | SKIFF_TCP_PSH, seg.window = 1000;
    seg.payload = (const uint8_t *)"evil", seg.payload_len = 4;
    uint8_t good[200];
    skiff_ssize len = skiff_tcp_segment_build(good, sizeof good, &seg);
    CHECK(len > 40);
    const skiff_tcp_stats *st = skiff_tcp_stack_stats(n.s[1].stack);
    uint8_t bad[200];
    /* A flipped payload bit: bad checksum. */
    memcpy(bad, good, (size_t)len);
    bad[len - 1] ^= 1;
    skiff_tcp_stack_input(n.s[1].stack, bad, (size_t)len, n.now);
    CHECK_EQ(st->dropped_bad_checksum, 1);
    /* Data offset past the segment (and checksums off, so only the header is judged). */
    memcpy(bad, good, (size_t)len);
    bad[20 + 12] = 0xf0;
    skiff_tcp_stack_input(n.s[1].stack, bad, (size_t)len, n.now);
    /* Truncated IP packet. */
    skiff_tcp_stack_input(n.s[1].stack, good, 30, n.now);
    /* Not TCP at all: an ICMP echo. */
    memcpy(bad, good, (size_t)len);
    bad[9] = 1; /* protocol ICMP, and the IPv4 header checksum made right again */
    bad[10] = bad[11] = 0;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += (uint32_t)(bad[i] << 8 | bad[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    bad[10] = (uint8_t)(~sum >> 8), bad[11] = (uint8_t)~sum;
    skiff_tcp_stack_input(n.s[1].stack, bad, (size_t)len, n.now);
    CHECK_EQ(st->dropped_not_tcp, 1);
    CHECK(st->dropped_bad_checksum + st->dropped_bad_header + st->dropped_bad_ip >= 3);
    CHECK_EQ(n.s[1].rx_len, 0);
    CHECK(!n.s[1].ended);
    /* The good one is taken. */
    skiff_tcp_stack_input(n.s[1].stack, good, (size_t)len, n.now);
    CHECK_EQ(n.s[1].rx_len, 4);
    net_free(&n);
}

/* RFC 4987: with the SYN backlog full the listener keeps no state for a
 * SYN; the cookie in its SYN-ACK brings the connection back with the ACK. */
static void syn_cookies_when_the_backlog_is_full(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.syn_backlog = 0; /* every SYN meets a full backlog */
    c.msl = SKIFF_MS(100);
    net_init(&n, 12, &c, &c);
    exchange(&n, 200000, 100000, false);
    const skiff_tcp_stats *st = skiff_tcp_stack_stats(n.s[1].stack);
    CHECK_EQ(st->syn_cookies_sent, 1);
    CHECK_EQ(st->syn_cookies_accepted, 1);
    CHECK(n.s[0].ended && n.s[1].ended);
    /* A forged ACK to the listener carries no valid cookie: RST, no connection. */
    skiff_tcp_segment seg = {0};
    seg.src = addr(0, 40000);
    seg.dst = addr(1, 80);
    seg.seq = 1234, seg.ack = 0xdeadbeef, seg.flags = SKIFF_TCP_ACK, seg.window = 1000;
    uint8_t buf[200];
    skiff_ssize len = skiff_tcp_segment_build(buf, sizeof buf, &seg);
    uint64_t rst_before = st->rst_sent;
    skiff_tcp_stack_input(n.s[1].stack, buf, (size_t)len, n.now);
    CHECK_EQ(st->syn_cookies_accepted, 1);
    CHECK_EQ(st->rst_sent, rst_before + 1);
    CHECK_EQ(skiff_tcp_stack_connections(n.s[1].stack), 0);
    net_free(&n);
}

/* §3.8.4 keepalive: an idle connection whose peer vanished ends after the
 * probes go unanswered; one whose peer answers stays. */
static void keepalive_finds_a_vanished_peer(void)
{
    net n;
    skiff_tcp_config c;
    skiff_tcp_config_default(&c);
    c.keepalive = true;
    c.keepalive_idle = SKIFF_MS(2000);
    c.keepalive_interval = SKIFF_MS(500);
    c.keepalive_probes = 3;
    net_init(&n, 13, &c, &c);
    CHECK_EQ(skiff_tcp_listen(n.s[1].stack, 80), 0);
    skiff_tcp_addr la = addr(0, 0), rb = addr(1, 80);
    CHECK_EQ(skiff_tcp_connect(n.s[0].stack, &la, &rb, n.now, &n.s[0].conn), 0);
    run(&n, n.now + SKIFF_MS(100));
    run(&n, n.now + SKIFF_MS(10000)); /* idle, both alive: probes answered */
    CHECK(!n.s[0].ended && !n.s[1].ended);
    n.blackhole = true;
    run(&n, n.now + SKIFF_MS(10000));
    CHECK(n.s[0].ended);
    CHECK_EQ(n.s[0].end, SKIFF_TCP_END_TIMEOUT);
    net_free(&n);
}

/* RFC 5961 §5.2: an ACK far below SND.UNA (blind data injection) or above
 * SND.NXT is answered with a challenge ACK and its data is not taken. */
static void injected_data_with_a_bad_ack_is_refused(void)
{
    net n;
    established_pair(&n, 14);
    skiff_tcp_conn *bc = n.s[1].conn;
    CHECK(bc != NULL);
    if (!bc) return;
    const skiff_tcp_stats *st = skiff_tcp_stack_stats(n.s[1].stack);
    uint64_t before = st->challenge_acks;
    static const uint32_t bad_acks[] = {0x80000000u, 0x100000u};
    for (int i = 0; i < 2; i++) {
        skiff_tcp_segment seg = {0};
        seg.src = *skiff_tcp_conn_remote(bc);
        seg.dst = *skiff_tcp_conn_local(bc);
        seg.seq = tcp_rcv_seq(bc, bc->rcv_nxt);
        seg.ack = tcp_snd_seq(bc, bc->snd_una) + (i ? bad_acks[i] : (uint32_t)(0u - bad_acks[0] + 1));
        seg.flags = SKIFF_TCP_ACK | SKIFF_TCP_PSH, seg.window = 1000;
        seg.payload = (const uint8_t *)"injected", seg.payload_len = 8;
        uint8_t buf[200];
        skiff_ssize len = skiff_tcp_segment_build(buf, sizeof buf, &seg);
        skiff_tcp_stack_input(n.s[1].stack, buf, (size_t)len, n.now);
    }
    CHECK_EQ(st->challenge_acks, before + 2);
    CHECK_EQ(n.s[1].rx_len, 0);
    CHECK(!n.s[1].ended);
    net_free(&n);
}

int main(void)
{
    RUN(handshake_transfer_and_the_seeds_close);
    RUN(close_on_eof_inside_the_callback);
    RUN(impaired_paths_stay_byte_exact);
    RUN(sequence_numbers_wrap);
    RUN(simultaneous_close);
    RUN(simultaneous_open);
    RUN(blind_reset_gets_a_challenge_ack);
    RUN(closed_port_refuses);
    RUN(zero_window_probing);
    RUN(time_wait_restarts_on_a_retransmitted_fin);
    RUN(vanished_peer_times_out);
    RUN(bad_segments_are_dropped_and_counted);
    RUN(syn_cookies_when_the_backlog_is_full);
    RUN(keepalive_finds_a_vanished_peer);
    RUN(injected_data_with_a_bad_ack_is_refused);
    return test_report("tcp");
}
