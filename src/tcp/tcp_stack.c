/*
 * The TCP stack of one host (RFC 9293 §3.9, §3.10): demultiplexes arriving
 * segments to connections by 4-tuple, opens connections actively (CONNECT)
 * and passively (a SYN to a listening port), answers segments for no
 * connection with RST (§3.10.7.1: "connection refused"), bounds connections
 * and half-open ones, rate-limits challenge ACKs (RFC 5961 §7), reports
 * every state transition, and hands out the segments to send one at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/isn.h"
#include "tcp/syncookie.h"
#include "tcp/tcp_internal.h"

void skiff_tcp_config_default(skiff_tcp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mss = 1460;
    cfg->recv_buffer = 4u << 20;
    cfg->send_buffer = 4u << 20;
    cfg->nagle = true;
    cfg->sack = cfg->timestamps = cfg->window_scale = true;
    cfg->msl = SKIFF_MS(30000);
    cfg->delayed_ack = SKIFF_MS(40);
    cfg->keepalive_idle = SKIFF_MS(7200000);
    cfg->keepalive_interval = SKIFF_MS(75000);
    cfg->keepalive_probes = 9;
    cfg->syn_retries = 6;
    cfg->data_retries = 15;
    cfg->min_rto = SKIFF_MS(200);
    cfg->max_connections = 1024;
    cfg->syn_backlog = 128;
    cfg->challenge_acks_per_second = 100;
}

const char *skiff_tcp_state_name(skiff_tcp_state s)
{
    static const char *const names[] = {"CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                        "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                        "CLOSING",    "LAST-ACK",   "TIME-WAIT"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *skiff_tcp_end_name(skiff_tcp_end e)
{
    static const char *const names[] = {"none", "closed", "connection refused", "connection reset by peer",
                                        "timed out", "aborted"};
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "?";
}

/* ---- connections ---- */

void tcp_set_state(skiff_tcp_conn *c, skiff_tcp_state to)
{
    skiff_tcp_state from = c->state;
    if (from == to) return;
    c->state = to;
    if (c->stack->cb.state) c->stack->cb.state(c, from, to, c->stack->ud);
}

void tcp_mark_pending(skiff_tcp_conn *c)
{
    if (c->pending) return;
    c->pending = true;
    c->next_pending = NULL;
    skiff_tcp_stack *s = c->stack;
    if (s->pending_tail) s->pending_tail->next_pending = c;
    else s->pending_head = c;
    s->pending_tail = c;
}

/* The connection is over: CLOSED, reported once; the stack frees it once
 * any RST it owes is out. */
void tcp_end(skiff_tcp_conn *c, skiff_tcp_end why)
{
    if (c->ended_reported) return;
    if (c->passive && c->state == SKIFF_TCP_SYN_RECEIVED) c->stack->half_open--;
    /* §3.10.5 ABORT: a synchronized connection is told with RST (no ACK needed). */
    bool rst = why == SKIFF_TCP_END_ABORTED && c->state != SKIFF_TCP_SYN_SENT &&
               c->state != SKIFF_TCP_TIME_WAIT && c->state != SKIFF_TCP_CLOSED;
    c->end = why;
    c->rto_deadline = c->persist_deadline = c->delack_deadline = c->timewait_deadline =
        c->keepalive_deadline = SKIFF_TIME_NEVER;
    tcp_set_state(c, SKIFF_TCP_CLOSED);
    c->ended_reported = true;
    if (rst) {
        c->rst_pending = true;
        tcp_mark_pending(c); /* freed once the RST is out */
    }
    if (c->stack->cb.ended) c->stack->cb.ended(c, why, c->stack->ud);
}

static void conn_free(skiff_tcp_stack *s, skiff_tcp_conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->conn_count--;
    skiff_range_set_free(&c->ooo);
    skiff_range_set_free(&c->sacked);
    free(c->sbuf);
    free(c->rbuf);
    free(c->sent);
    free(c);
}

/* Frees connections that ended and owe nothing more. */
static void reap(skiff_tcp_stack *s)
{
    for (skiff_tcp_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == SKIFF_TCP_CLOSED && c->ended_reported && !c->pending) conn_free(s, c);
    }
}

static uint8_t shift_for(uint32_t buffer)
{
    uint8_t shift = 0;
    while (shift < 14 && (buffer >> shift) > 65535) shift++; /* RFC 7323 §2.3: at most 14 */
    return shift;
}

static skiff_tcp_conn *conn_new(skiff_tcp_stack *s, const skiff_tcp_addr *local,
                                const skiff_tcp_addr *remote, skiff_time now)
{
    if (s->conn_count >= s->cfg.max_connections) return NULL;
    skiff_tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->stack = s;
    c->local = *local;
    c->remote = *remote;
    c->sbuf_cap = s->cfg.send_buffer;
    c->rbuf_cap = s->cfg.recv_buffer;
    c->sbuf = malloc(c->sbuf_cap);
    c->rbuf = malloc(c->rbuf_cap);
    if (!c->sbuf || !c->rbuf) {
        free(c->sbuf);
        free(c->rbuf);
        free(c);
        return NULL;
    }
    skiff_range_set_init(&c->ooo, 64);
    skiff_range_set_init(&c->sacked, 64);
    c->iss = s->cfg.fixed_isn ? s->cfg.isn : skiff_tcp_isn(s->isn_key, local, remote, now);
    c->rcv_wscale = s->cfg.window_scale ? shift_for(s->cfg.recv_buffer) : 0;
    c->mss = s->cfg.mss;
    c->nagle = s->cfg.nagle;
    c->rtt_seq = UINT64_MAX;
    skiff_rtt_init(&c->rtt, 0); /* 333 ms: SRTT + 4 * RTTVAR is the RFC 6298 §2.1 first RTO */
    c->rto = skiff_rtt_rto(&c->rtt, s->cfg.min_rto);
    if (c->rto < SKIFF_MS(1000)) c->rto = SKIFF_MS(1000); /* §2.1: 1 s, rounding up 999 ms */
    skiff_cc_init(&c->cc, skiff_cc_ops_by_name(s->cfg.cc ? s->cfg.cc : "newreno"), c->mss, now);
    uint8_t r[4];
    if (s->cb.random) s->cb.random(r, sizeof r, s->ud);
    memcpy(&c->ts_offset, r, sizeof r);
    c->rto_deadline = c->persist_deadline = c->delack_deadline = c->timewait_deadline =
        c->keepalive_deadline = SKIFF_TIME_NEVER;
    c->next = s->conns;
    if (c->next) c->next->prev = c;
    s->conns = c;
    s->conn_count++;
    return c;
}

static bool addr_equal(const skiff_tcp_addr *a, const skiff_tcp_addr *b)
{
    size_t n = a->family == 6 ? 16 : 4;
    return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, n);
}

static skiff_tcp_conn *find(skiff_tcp_stack *s, const skiff_tcp_addr *local, const skiff_tcp_addr *remote)
{
    for (skiff_tcp_conn *c = s->conns; c; c = c->next)
        if (c->state != SKIFF_TCP_CLOSED && addr_equal(&c->local, local) && addr_equal(&c->remote, remote))
            return c;
    return NULL;
}

static bool is_local(const skiff_tcp_stack *s, const skiff_tcp_addr *a)
{
    for (size_t i = 0; i < s->addr_count; i++) {
        skiff_tcp_addr x = s->addrs[i];
        x.port = a->port;
        if (addr_equal(&x, a)) return true;
    }
    return false;
}

static bool listening(const skiff_tcp_stack *s, uint16_t port)
{
    for (size_t i = 0; i < s->listen_count; i++)
        if (s->listen_ports[i] == port) return true;
    return false;
}

/* ---- the stack ---- */

int skiff_tcp_stack_new(skiff_tcp_stack **out, const skiff_tcp_config *cfg,
                        const skiff_tcp_callbacks *cb, void *ud, skiff_time now)
{
    (void)now;
    skiff_tcp_stack *s = calloc(1, sizeof *s);
    if (!s) return SKIFF_ERR_NOMEM;
    if (cfg) s->cfg = *cfg;
    else skiff_tcp_config_default(&s->cfg);
    if (!s->cfg.ooo_max) s->cfg.ooo_max = s->cfg.recv_buffer;
    if (cb) s->cb = *cb;
    s->ud = ud;
    if (s->cb.random) {
        s->cb.random(s->isn_key, sizeof s->isn_key, ud);
        s->cb.random(s->cookie_key, sizeof s->cookie_key, ud);
        uint8_t p[2];
        s->cb.random(p, 2, ud);
        s->next_port = (uint16_t)(32768 + ((p[0] << 8 | p[1]) % 28000));
    } else {
        s->next_port = 40000;
    }
    *out = s;
    return 0;
}

void skiff_tcp_stack_free(skiff_tcp_stack *s)
{
    if (!s) return;
    while (s->conns) conn_free(s, s->conns);
    free(s);
}

int skiff_tcp_stack_add_address(skiff_tcp_stack *s, const skiff_tcp_addr *addr)
{
    if (s->addr_count == sizeof s->addrs / sizeof s->addrs[0]) return SKIFF_ERR_BUFFER_TOO_SMALL;
    s->addrs[s->addr_count++] = *addr;
    return 0;
}

int skiff_tcp_listen(skiff_tcp_stack *s, uint16_t port)
{
    if (listening(s, port)) return 0;
    if (s->listen_count == sizeof s->listen_ports / sizeof s->listen_ports[0]) return SKIFF_ERR_BUFFER_TOO_SMALL;
    s->listen_ports[s->listen_count++] = port;
    return 0;
}

int skiff_tcp_connect(skiff_tcp_stack *s, const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                      skiff_time now, skiff_tcp_conn **out)
{
    skiff_tcp_addr l = *local;
    for (int tries = 0; l.port == 0 && tries < 28000; tries++) {
        uint16_t p = s->next_port++;
        if (s->next_port < 32768) s->next_port = 32768;
        l.port = p;
        if (find(s, &l, remote)) l.port = 0;
    }
    if (!l.port) return SKIFF_ERR_BUFFER_TOO_SMALL;
    skiff_tcp_conn *c = conn_new(s, &l, remote, now);
    if (!c) return SKIFF_ERR_NOMEM;
    c->state = SKIFF_TCP_CLOSED;
    tcp_set_state(c, SKIFF_TCP_SYN_SENT); /* §3.10.1 OPEN: SYN, then SYN-SENT */
    c->rtt_time = now;
    tcp_mark_pending(c);
    *out = c;
    return 0;
}

/* Queues a stateless reply (RST, cookie SYN-ACK) built now. */
static void queue_reply(skiff_tcp_stack *s, const skiff_tcp_segment *r)
{
    if (s->rst_count == TCP_RST_QUEUE) return; /* bounded: a flood finds no amplifier */
    size_t slot = (s->rst_head + s->rst_count) % TCP_RST_QUEUE;
    skiff_ssize n = skiff_tcp_segment_build(s->rst_queue[slot], sizeof s->rst_queue[slot], r);
    if (n <= 0) return;
    s->rst_len[slot] = (size_t)n;
    s->rst_count++;
}

/* An RST answering a segment that has no connection (§3.10.7.1). */
void tcp_queue_rst_for(skiff_tcp_stack *s, const skiff_tcp_segment *in)
{
    if (in->flags & SKIFF_TCP_RST) return;
    skiff_tcp_segment r;
    memset(&r, 0, sizeof r);
    r.src = in->dst;
    r.dst = in->src;
    if (in->flags & SKIFF_TCP_ACK) {
        r.seq = in->ack;
        r.flags = SKIFF_TCP_RST;
    } else {
        r.ack = in->seq + (uint32_t)in->payload_len + ((in->flags & SKIFF_TCP_SYN) ? 1 : 0) +
                ((in->flags & SKIFF_TCP_FIN) ? 1 : 0);
        r.flags = SKIFF_TCP_RST | SKIFF_TCP_ACK;
    }
    size_t before = s->rst_count;
    queue_reply(s, &r);
    if (s->rst_count > before) s->stats.rst_sent++;
}

bool tcp_challenge_allowed(skiff_tcp_stack *s, skiff_time now)
{
    if (now - s->challenge_window_start >= SKIFF_MS(1000)) {
        s->challenge_window_start = now;
        s->challenge_count = 0;
    }
    if (s->challenge_count >= s->cfg.challenge_acks_per_second) return false;
    s->challenge_count++;
    s->stats.challenge_acks++;
    return true;
}

/* RFC 4987 §3.6: with the SYN backlog full, answer with a SYN-ACK whose ISN
 * encodes the connection, keeping no state; the ACK brings it back. The
 * cookie holds only the MSS, so no other option is offered. */
static void send_cookie(skiff_tcp_stack *s, const skiff_tcp_segment *syn, skiff_time now)
{
    uint16_t mss = syn->opt.has_mss ? syn->opt.mss : 536;
    skiff_tcp_segment r;
    memset(&r, 0, sizeof r);
    r.src = syn->dst;
    r.dst = syn->src;
    r.seq = skiff_tcp_syncookie_make(s->cookie_key, &syn->dst, &syn->src, syn->seq, mss, now);
    r.ack = syn->seq + 1;
    r.flags = SKIFF_TCP_SYN | SKIFF_TCP_ACK;
    r.window = s->cfg.recv_buffer > 65535 ? 65535 : (uint16_t)s->cfg.recv_buffer;
    r.opt.has_mss = true;
    r.opt.mss = s->cfg.mss;
    queue_reply(s, &r);
    s->stats.syn_cookies_sent++;
}

/* An ACK to a listening port that matches a cookie we sent: the connection
 * starts here, established, with the MSS the cookie kept. */
static bool accept_cookie(skiff_tcp_stack *s, const skiff_tcp_segment *seg, skiff_time now)
{
    int idx = skiff_tcp_syncookie_check(s->cookie_key, &seg->dst, &seg->src, seg->seq - 1, seg->ack - 1, now);
    if (idx < 0) return false;
    skiff_tcp_conn *c = conn_new(s, &seg->dst, &seg->src, now);
    if (!c) return false;
    s->stats.syn_cookies_accepted++;
    c->passive = true;
    c->state = SKIFF_TCP_LISTEN;
    c->iss = seg->ack - 1;
    c->irs = seg->seq - 1;
    c->rcv_nxt = c->read_off = 0;
    c->peer_mss = skiff_tcp_syncookie_mss(idx);
    c->mss = c->peer_mss < s->cfg.mss ? c->peer_mss : s->cfg.mss;
    c->ws_ok = c->sack_ok = c->ts_ok = false;
    c->snd_wscale = c->rcv_wscale = 0;
    skiff_cc_set_max_datagram_size(&c->cc, c->mss);
    c->cc.cwnd = skiff_cc_initial_window(c->mss);
    c->snd_wnd = seg->window;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    c->syn_sent_now = true;
    s->half_open++;
    tcp_set_state(c, SKIFF_TCP_SYN_RECEIVED);
    tcp_input(c, seg, now); /* completes the handshake, and takes any data */
    return true;
}

/* A SYN for a listening port (§3.10.7.2): a new connection in SYN-RECEIVED. */
static void passive_open(skiff_tcp_stack *s, const skiff_tcp_segment *seg, skiff_time now)
{
    if (s->half_open >= s->cfg.syn_backlog) {
        send_cookie(s, seg, now); /* SYN flood: stay stateless */
        return;
    }
    skiff_tcp_conn *c = conn_new(s, &seg->dst, &seg->src, now);
    if (!c) {
        s->stats.dropped_no_connection++;
        return;
    }
    c->passive = true;
    s->half_open++;
    c->irs = seg->seq;
    c->rcv_nxt = c->read_off = 0;
    c->rcv_adv = 0;
    c->state = SKIFF_TCP_LISTEN;
    tcp_take_syn_options(c, seg);
    c->snd_wnd = seg->window; /* never scaled in a SYN */
    tcp_set_state(c, SKIFF_TCP_SYN_RECEIVED);
    tcp_mark_pending(c);
}

void skiff_tcp_stack_input(skiff_tcp_stack *s, const uint8_t *packet, size_t len, skiff_time now)
{
    skiff_tcp_segment seg;
    int rc = skiff_tcp_segment_parse(&seg, packet, len, true);
    switch (rc) {
    case SKIFF_TCP_PARSE_OK: break;
    case SKIFF_TCP_NOT_TCP: s->stats.dropped_not_tcp++; return;
    case SKIFF_TCP_BAD_IP_HEADER: s->stats.dropped_bad_ip++; return;
    case SKIFF_TCP_BAD_CHECKSUM: s->stats.dropped_bad_checksum++; return;
    default: s->stats.dropped_bad_header++; return;
    }
    s->stats.segments_in++;
    if (!is_local(s, &seg.dst)) {
        s->stats.dropped_no_connection++;
        return;
    }
    skiff_tcp_conn *c = find(s, &seg.dst, &seg.src);
    if (c) {
        tcp_input(c, &seg, now);
    } else if (listening(s, seg.dst.port) && (seg.flags & (SKIFF_TCP_SYN | SKIFF_TCP_ACK | SKIFF_TCP_RST)) == SKIFF_TCP_SYN) {
        passive_open(s, &seg, now);
    } else if (listening(s, seg.dst.port) && (seg.flags & (SKIFF_TCP_SYN | SKIFF_TCP_ACK | SKIFF_TCP_RST)) == SKIFF_TCP_ACK &&
               accept_cookie(s, &seg, now)) {
        /* a cookie came back */
    } else {
        s->stats.dropped_no_connection++;
        tcp_queue_rst_for(s, &seg); /* CLOSED, or LISTEN given an ACK (§3.10.7.2) */
    }
    reap(s);
}

size_t skiff_tcp_stack_output(skiff_tcp_stack *s, uint8_t *out, size_t cap, skiff_time now)
{
    if (s->rst_count) {
        size_t slot = s->rst_head, n = s->rst_len[slot];
        s->rst_head = (s->rst_head + 1) % TCP_RST_QUEUE;
        s->rst_count--;
        if (n > cap) return 0;
        memcpy(out, s->rst_queue[slot], n);
        s->stats.segments_out++;
        return n;
    }
    while (s->pending_head) {
        skiff_tcp_conn *c = s->pending_head;
        size_t n = tcp_output(c, out, cap, now);
        if (n) return n;
        s->pending_head = c->next_pending;
        if (!s->pending_head) s->pending_tail = NULL;
        c->pending = false;
        c->next_pending = NULL;
    }
    reap(s);
    return 0;
}

skiff_time skiff_tcp_stack_deadline(const skiff_tcp_stack *s)
{
    skiff_time t = SKIFF_TIME_NEVER;
    for (const skiff_tcp_conn *c = s->conns; c; c = c->next) {
        skiff_time d = tcp_conn_deadline(c);
        if (d < t) t = d;
    }
    return t;
}

void skiff_tcp_stack_on_timeout(skiff_tcp_stack *s, skiff_time now)
{
    for (skiff_tcp_conn *c = s->conns; c; c = c->next)
        if (tcp_conn_deadline(c) <= now) tcp_conn_on_timeout(c, now);
    reap(s);
}

const skiff_tcp_stats *skiff_tcp_stack_stats(const skiff_tcp_stack *s) { return &s->stats; }
size_t skiff_tcp_stack_connections(const skiff_tcp_stack *s) { return s->conn_count; }

/* ---- the application's calls ---- */

skiff_ssize skiff_tcp_send(skiff_tcp_conn *c, const uint8_t *data, size_t len, skiff_time now)
{
    (void)now;
    if (c->fin_queued || c->state == SKIFF_TCP_CLOSED || c->state == SKIFF_TCP_TIME_WAIT ||
        c->state == SKIFF_TCP_LAST_ACK || c->state == SKIFF_TCP_CLOSING)
        return SKIFF_ERR_CLOSED;
    size_t n = tcp_send_write(c, data, len);
    if (n) tcp_mark_pending(c);
    return (skiff_ssize)n;
}

skiff_ssize skiff_tcp_recv(skiff_tcp_conn *c, uint8_t *out, size_t cap, bool *eof, skiff_time now)
{
    (void)now;
    uint64_t window_before = tcp_recv_window(c);
    size_t n = tcp_recv_read(c, out, cap);
    *eof = c->fin_received && c->read_off == c->fin_off;
    /* §3.8.6.2.2: tell the peer once the window has opened by enough. */
    if (n && window_before < c->mss && tcp_recv_window(c) >= c->mss) {
        c->window_update = true;
        tcp_mark_pending(c);
    }
    if (!n && !*eof && c->state == SKIFF_TCP_CLOSED) return SKIFF_ERR_CLOSED;
    return (skiff_ssize)n;
}

int skiff_tcp_shutdown(skiff_tcp_conn *c, skiff_time now)
{
    (void)now;
    switch (c->state) {
    case SKIFF_TCP_ESTABLISHED: tcp_set_state(c, SKIFF_TCP_FIN_WAIT_1); break;
    case SKIFF_TCP_CLOSE_WAIT: tcp_set_state(c, SKIFF_TCP_LAST_ACK); break;
    case SKIFF_TCP_SYN_RECEIVED:
        /* §3.10.4: the FIN waits for ESTABLISHED (established() moves on). */
        break;
    case SKIFF_TCP_SYN_SENT:
        /* §3.10.4 deletes a connection that never got going; one with data
         * queued keeps it and closes after it, as a socket would. */
        if (c->sent_end == 0) {
            tcp_end(c, SKIFF_TCP_END_CLOSED);
            return 0;
        }
        break;
    default: return c->fin_queued ? 0 : SKIFF_ERR_CLOSED;
    }
    c->fin_queued = true;
    tcp_mark_pending(c);
    return 0;
}

int skiff_tcp_abort(skiff_tcp_conn *c, skiff_time now)
{
    (void)now;
    if (c->state == SKIFF_TCP_CLOSED) return SKIFF_ERR_CLOSED;
    tcp_end(c, SKIFF_TCP_END_ABORTED);
    return 0;
}

skiff_tcp_state skiff_tcp_conn_state(const skiff_tcp_conn *c) { return c->state; }
const skiff_tcp_addr *skiff_tcp_conn_local(const skiff_tcp_conn *c) { return &c->local; }
const skiff_tcp_addr *skiff_tcp_conn_remote(const skiff_tcp_conn *c) { return &c->remote; }
void skiff_tcp_conn_set_user_data(skiff_tcp_conn *c, void *ud) { c->user_data = ud; }
void *skiff_tcp_conn_user_data(const skiff_tcp_conn *c) { return c->user_data; }
size_t skiff_tcp_conn_writable(const skiff_tcp_conn *c) { return c->fin_queued ? 0 : tcp_send_free(c); }
void skiff_tcp_conn_set_nagle(skiff_tcp_conn *c, bool on) { c->nagle = on; }
uint32_t skiff_tcp_conn_iss(const skiff_tcp_conn *c) { return c->iss; }
uint32_t skiff_tcp_conn_irs(const skiff_tcp_conn *c) { return c->irs; }
