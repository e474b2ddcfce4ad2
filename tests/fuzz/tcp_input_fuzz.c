/*
 * libFuzzer target: TCP input processing (src/tcp/tcp_input.c and the stack,
 * timers, output and buffers around it), past the parser. One stack answers
 * as 10.0.0.2 / fd00::2 and listens on port 80; the input is a script of
 * records, each one segment from a peer, a raw packet, an application call,
 * a step of the virtual clock or an active open. Segments are written with
 * skiff_tcp_segment_build, so their checksums are right and the fuzzer's
 * effort goes into the state machine; their sequence and acknowledgment
 * numbers are deltas from what the connection expects (RCV.NXT, SND.NXT,
 * SND.UNA, SND.MAX, read from tcp_internal.h), so in-window numbers are
 * cheap to reach. The initial sequence numbers and the random source are
 * fixed, so each input replays the same way.
 *
 * Checked on every run: no crash, leak or hang (ASan, UBSan, libFuzzer);
 * every packet the stack emits parses with its checksums verified, comes
 * from one of its addresses and fits the buffer; connections never exceed
 * max_connections. Set TCP_INPUT_FUZZ_TRACE=1 to print what a reproducer does.
 *
 * Input: two configuration bytes, then records. tests/fuzz/corpus_tcp_input.c
 * writes seeds in this layout and must follow any change to it.
 *
 *   cfg0  bits 0-1 buffer sizes (2 KiB, 8 KiB, 64 KiB, 300 KiB); 2 no SACK;
 *         3 no timestamps; 4 no window scale; 5 CUBIC; 6 Nagle off;
 *         7 the application reads whatever becomes readable
 *   cfg1  bit 0 the application writes when writable; 1 keepalive (1 s);
 *         2-3 ooo_max (buffer, 1000, 100, 1); 4-5 MSL (30 s, 1 s, 10 ms, 0);
 *         6 sequence numbers 16 below the wrap; 7 MSS 536, SYN backlog 1
 *
 *   record = op, then fields by kind (op & 7); peer (op >> 3 & 3) % 3 is
 *   10.0.0.1 or fd00::1 (op & 0x20) port 40000 + peer
 *     0, 1, 2, 7  segment: flags u8, mode u8, seq, ack, window u16, opts u8
 *                 and their fields, payload, urgent u8 if URG
 *                   mode bits 0-1 seq: 0 int8, 1 int16, 2 int16 * 4096,
 *                                      3 u32 absolute (not a delta)
 *                        bits 2-3 ack: the same
 *                        bits 4-5 ack base: SND.NXT, SND.UNA, SND.MAX, queued end;
 *                          with no connection, the last SYN the stack sent
 *                          that peer (a SYN cookie), else the fixed ISN
 *                        bits 6-7 payload: none; u8 length + input bytes;
 *                                 u16 % 16384 pattern bytes; u8 * 64 pattern bytes
 *                   opts bit 0 MSS u16; 1 window scale u8 % 15; 2 SACK-permitted;
 *                        3 timestamps: TSval int8 from the peer's clock, TSecr
 *                          u32 if bit 7 else the last TSval the stack sent;
 *                        4-6 SACK blocks (at most 4): left int16 from SND.UNA,
 *                          length u16
 *     3           raw packet: length u16 % 2048, bytes; op bit 6: set its
 *                 addresses, ports and lengths to the peer's and fix both
 *                 checksums; op bit 7 (with 6): also seq and ack to the
 *                 expected ones
 *     4           application call on that peer's connection: u8 (see app())
 *     5           clock: u8 (see clock_step())
 *     6           active open to that peer
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PEERS 3
#define SLOTS (PEERS * 2) /* each peer over IPv4 and IPv6 */
#define LISTEN_PORT 80
#define MAX_CONNS 6
#define DRAIN_MAX 4096    /* packets taken from the stack per record */
#define FINAL_TIMEOUTS 24 /* timer expirations run after the last record */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t u8(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}
static uint16_t u16(reader *r)
{
    uint16_t hi = u8(r); /* two statements: the order of reads is fixed */
    return (uint16_t)(hi << 8 | u8(r));
}
static uint32_t u32(reader *r)
{
    uint32_t hi = u16(r);
    return hi << 16 | u16(r);
}

typedef struct harness {
    skiff_tcp_stack *stack;
    skiff_time now;
    uint64_t rng;
    bool auto_read, auto_write, trace;
    /* What the application holds: set by accepted (or connect), cleared by ended. */
    skiff_tcp_conn *app[SLOTS];
    uint32_t peer_isn;    /* the peers' first sequence number */
    uint32_t peer_ts;     /* the peers' timestamp clock, in ms */
    uint32_t last_ts_val; /* the last TSval the stack sent, for TSecr */
    /* The sequence number of the last SYN the stack sent each peer: a SYN
     * cookie's ACK is built on it, since no connection remembers it. */
    uint32_t syn_seq[SLOTS];
    bool syn_seen[SLOTS];
    uint64_t pattern_off; /* payload pattern position, so bytes differ */
} harness;

static harness h;
static uint8_t scratch[65536];
static uint8_t pkt[65536 + 128];
static uint8_t out[65536 + 128];

static skiff_tcp_addr local_addr(bool v6, uint16_t port)
{
    skiff_tcp_addr a = {.family = v6 ? 6 : 4, .port = port};
    if (v6)
        a.ip[0] = 0xfd, a.ip[15] = 2;
    else
        a.ip[0] = 10, a.ip[3] = 2;
    return a;
}

static skiff_tcp_addr peer_addr(int slot)
{
    bool v6 = slot & 1;
    skiff_tcp_addr a = local_addr(v6, (uint16_t)(40000 + slot / 2));
    a.ip[v6 ? 15 : 3] = 1;
    return a;
}

static bool same_addr(const skiff_tcp_addr *a, const skiff_tcp_addr *b)
{
    return a->family == b->family && a->port == b->port &&
           !memcmp(a->ip, b->ip, a->family == 6 ? 16 : 4);
}

static int slot_of_addr(const skiff_tcp_addr *a)
{
    for (int i = 0; i < SLOTS; i++) {
        skiff_tcp_addr p = peer_addr(i);
        if (same_addr(&p, a)) return i;
    }
    return -1;
}

static int slot_of(const skiff_tcp_conn *c)
{
    return slot_of_addr(&c->remote);
}

/* The stack's live connection with that peer (in any state but CLOSED). */
static skiff_tcp_conn *conn_for(int slot)
{
    skiff_tcp_addr p = peer_addr(slot);
    for (skiff_tcp_conn *c = h.stack->conns; c; c = c->next)
        if (c->state != SKIFF_TCP_CLOSED && same_addr(&c->remote, &p)) return c;
    return NULL;
}

static void pattern(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((h.pattern_off + i) * 131 + 7);
    h.pattern_off += len;
}

/* Reads what the connection has, a bounded number of times. */
static void read_some(skiff_tcp_conn *c, size_t cap, int rounds)
{
    if (cap > sizeof scratch) cap = sizeof scratch;
    for (int i = 0; i < rounds; i++) {
        bool eof = false;
        skiff_ssize n = skiff_tcp_recv(c, scratch, cap, &eof, h.now);
        if (n < 0 && n != SKIFF_ERR_CLOSED) abort();
        if ((size_t)(n > 0 ? n : 0) > cap) abort();
        if (n <= 0) break;
    }
}

static void write_some(skiff_tcp_conn *c, size_t len)
{
    if (len > sizeof scratch) len = sizeof scratch;
    pattern(scratch, len);
    skiff_ssize n = skiff_tcp_send(c, scratch, len, h.now);
    if (n > (skiff_ssize)len || (n < 0 && n != SKIFF_ERR_CLOSED)) abort();
}

static void on_state(skiff_tcp_conn *c, skiff_tcp_state from, skiff_tcp_state to, void *ud)
{
    (void)ud;
    if (h.trace)
        fprintf(stderr, "  peer slot %d: %s -> %s\n", slot_of(c), skiff_tcp_state_name(from),
                skiff_tcp_state_name(to));
}

static void on_accepted(skiff_tcp_conn *c, void *ud)
{
    (void)ud;
    int slot = slot_of(c);
    if (slot < 0) abort(); /* only our peers reach the listener */
    h.app[slot] = c;
}

static void on_readable(skiff_tcp_conn *c, void *ud)
{
    (void)ud;
    if (h.auto_read) read_some(c, 4096, 64);
}

static void on_writable(skiff_tcp_conn *c, void *ud)
{
    (void)ud;
    if (h.auto_write && c->state != SKIFF_TCP_CLOSED) write_some(c, 1000);
}

static void on_ended(skiff_tcp_conn *c, skiff_tcp_end why, void *ud)
{
    (void)ud;
    if (h.trace)
        fprintf(stderr, "  peer slot %d: ended (%s)\n", slot_of(c), skiff_tcp_end_name(why));
    for (int i = 0; i < SLOTS; i++)
        if (h.app[i] == c) h.app[i] = NULL;
}

static void det_random(uint8_t *p, size_t len, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < len; i++) {
        h.rng ^= h.rng << 13, h.rng ^= h.rng >> 7, h.rng ^= h.rng << 17;
        p[i] = (uint8_t)h.rng;
    }
}

static const skiff_tcp_callbacks callbacks = {.state = on_state,
                                              .accepted = on_accepted,
                                              .readable = on_readable,
                                              .writable = on_writable,
                                              .ended = on_ended,
                                              .random = det_random};

static bool is_local(const skiff_tcp_addr *a)
{
    skiff_tcp_addr l = local_addr(a->family == 6, a->port);
    return same_addr(&l, a);
}

/* Takes every packet the stack has for now; each must be a valid one of ours. */
static void drain(void)
{
    for (int i = 0; i < DRAIN_MAX; i++) {
        size_t n = skiff_tcp_stack_output(h.stack, out, sizeof out, h.now);
        if (!n) break;
        if (n > sizeof out) abort();
        skiff_tcp_segment seg;
        if (skiff_tcp_segment_parse(&seg, out, n, true) != SKIFF_TCP_PARSE_OK) abort();
        if (!is_local(&seg.src)) abort();
        if (seg.opt.has_timestamps) h.last_ts_val = seg.opt.ts_val;
        int slot = slot_of_addr(&seg.dst);
        if (slot >= 0 && (seg.flags & SKIFF_TCP_SYN))
            h.syn_seq[slot] = seg.seq, h.syn_seen[slot] = true;
        if (h.trace)
            fprintf(stderr, "  out: flags %02x seq %u ack %u win %u len %zu\n", seg.flags, seg.seq,
                    seg.ack, seg.window, seg.payload_len);
    }
    if (skiff_tcp_stack_connections(h.stack) > MAX_CONNS) abort();
}

/* A delta of the encoding e from base (or an absolute number for e == 3). */
static uint32_t number(reader *r, unsigned e, uint32_t base)
{
    switch (e & 3) {
    case 0:
        return base + (uint32_t)(int32_t)(int8_t)u8(r);
    case 1:
        return base + (uint32_t)(int32_t)(int16_t)u16(r);
    case 2:
        return base + (uint32_t)(int32_t)(int16_t)u16(r) * 4096u;
    default:
        return u32(r);
    }
}

/* What the peer's next sequence number should be, and the base of its ACK. */
static uint32_t expected_seq(const skiff_tcp_conn *c)
{
    if (!c || c->state == SKIFF_TCP_SYN_SENT) return h.peer_isn;
    return tcp_rcv_seq(c, c->rcv_nxt);
}

static uint32_t expected_ack(const skiff_tcp_conn *c, int slot, unsigned which)
{
    if (!c) return (h.syn_seen[slot] ? h.syn_seq[slot] : h.stack->cfg.isn) + 1;
    switch (which & 3) {
    case 0:
        return tcp_snd_seq(c, c->snd_nxt);
    case 1:
        return tcp_snd_seq(c, c->snd_una);
    case 2:
        return tcp_snd_seq(c, c->snd_max);
    default:
        return tcp_snd_seq(c, c->sent_end);
    }
}

static void segment_record(reader *r, int slot)
{
    skiff_tcp_conn *c = conn_for(slot);
    skiff_tcp_segment s;
    memset(&s, 0, sizeof s);
    s.src = peer_addr(slot);
    s.dst = c ? c->local : local_addr(slot & 1, LISTEN_PORT);
    s.flags = u8(r);
    unsigned mode = u8(r);
    s.seq = number(r, mode, expected_seq(c));
    s.ack = number(r, mode >> 2, expected_ack(c, slot, mode >> 4));
    s.window = u16(r);

    unsigned o = u8(r);
    if (o & 1) s.opt.has_mss = true, s.opt.mss = u16(r);
    if (o & 2) s.opt.has_wscale = true, s.opt.wscale = (uint8_t)(u8(r) % 15);
    s.opt.sack_permitted = o & 4;
    if (o & 8) {
        s.opt.has_timestamps = true;
        s.opt.ts_val = h.peer_ts + (uint32_t)(int32_t)(int8_t)u8(r);
        s.opt.ts_ecr = (o & 0x80) ? u32(r) : h.last_ts_val;
    }
    unsigned blocks = (o >> 4) & 7;
    s.opt.sack_count =
        (uint8_t)(blocks > SKIFF_TCP_MAX_SACK_BLOCKS ? SKIFF_TCP_MAX_SACK_BLOCKS : blocks);
    uint32_t una = expected_ack(c, slot, 1);
    for (unsigned i = 0; i < s.opt.sack_count; i++) {
        s.opt.sack[i].left = una + (uint32_t)(int32_t)(int16_t)u16(r);
        s.opt.sack[i].right = s.opt.sack[i].left + u16(r);
    }

    /* The payload goes where the builder wants it (it moves it if needed). */
    size_t len = 0;
    switch (mode >> 6) {
    case 1:
        len = u8(r);
        if (len > r->n) len = r->n;
        memcpy(scratch, r->p, len);
        r->p += len, r->n -= len;
        break;
    case 2:
        len = u16(r) % 16384;
        pattern(scratch, len);
        break;
    case 3:
        len = (size_t)u8(r) * 64;
        pattern(scratch, len);
        break;
    default:
        break;
    }
    s.payload = len ? scratch : NULL;
    s.payload_len = len;
    if (s.flags & SKIFF_TCP_URG) {
        unsigned u = u8(r);
        s.urgent = (uint16_t)(u > len ? len : u);
    }
    skiff_ssize n = skiff_tcp_segment_build(pkt, sizeof pkt, &s);
    if (n == SKIFF_ERR_INVALID_ARGUMENT) return; /* e.g. an MSS of 0: the builder refuses */
    if (n <= 0) abort();
    if (h.trace)
        fprintf(stderr, "in: slot %d flags %02x seq %u ack %u win %u len %zu opts %02x\n", slot,
                s.flags, s.seq, s.ack, s.window, len, o);
    skiff_tcp_stack_input(h.stack, pkt, (size_t)n, h.now);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v);
}

/* Makes a raw packet reach the peer's connection: addresses, ports, lengths
 * and (with fix_numbers) seq and ack as expected; both checksums right. Any
 * header it cannot make sense of is left as it is. */
static void fix_raw(uint8_t *p, size_t len, int slot, bool fix_numbers)
{
    skiff_tcp_conn *c = conn_for(slot);
    skiff_tcp_addr src = peer_addr(slot);
    skiff_tcp_addr dst = c ? c->local : local_addr(slot & 1, LISTEN_PORT);
    uint8_t pseudo[40];
    size_t ip_len, pseudo_len;
    if (src.family == 4) {
        if (len < 20) return;
        p[0] = (uint8_t)(0x40 | (p[0] & 0x0f));
        ip_len = (size_t)(p[0] & 0x0f) * 4;
        if (ip_len < 20) ip_len = 20, p[0] = 0x45;
        if (len < ip_len + 20) return;
        put16(p + 2, (uint16_t)len);
        p[6] &= 0x40, p[7] = 0; /* not a fragment */
        p[9] = 6;
        memcpy(p + 12, src.ip, 4);
        memcpy(p + 16, dst.ip, 4);
        p[10] = p[11] = 0;
        put16(p + 10, (uint16_t)~skiff_tcp_csum_fold(skiff_tcp_csum_add(0, p, ip_len)));
        memcpy(pseudo, src.ip, 4);
        memcpy(pseudo + 4, dst.ip, 4);
        pseudo[8] = 0, pseudo[9] = 6;
        put16(pseudo + 10, (uint16_t)(len - ip_len));
        pseudo_len = 12;
    } else {
        ip_len = 40;
        if (len < ip_len + 20) return;
        p[0] = (uint8_t)(0x60 | (p[0] & 0x0f));
        put16(p + 4, (uint16_t)(len - 40));
        p[6] = 6;
        memcpy(p + 8, src.ip, 16);
        memcpy(p + 24, dst.ip, 16);
        memcpy(pseudo, src.ip, 16);
        memcpy(pseudo + 16, dst.ip, 16);
        put32(pseudo + 32, (uint32_t)(len - 40));
        memset(pseudo + 36, 0, 3);
        pseudo[39] = 6;
        pseudo_len = 40;
    }
    uint8_t *t = p + ip_len;
    put16(t, src.port);
    put16(t + 2, dst.port);
    if (fix_numbers) {
        put32(t + 4, expected_seq(c));
        put32(t + 8, expected_ack(c, slot, 0));
    }
    t[16] = t[17] = 0;
    uint64_t sum = skiff_tcp_csum_add(0, pseudo, pseudo_len);
    sum = skiff_tcp_csum_add(sum, t, len - ip_len);
    put16(t + 16, (uint16_t)~skiff_tcp_csum_fold(sum));
}

static void raw_record(reader *r, unsigned op, int slot)
{
    size_t len = u16(r) % 2048;
    if (len > r->n) len = r->n;
    memcpy(pkt, r->p, len);
    r->p += len, r->n -= len;
    if (op & 0x40) fix_raw(pkt, len, slot, op & 0x80);
    if (h.trace) fprintf(stderr, "in: raw %zu bytes (op %02x)\n", len, op);
    skiff_tcp_stack_input(h.stack, pkt, len, h.now);
}

/* The application's calls, on the connection it holds for that peer. */
static void app(reader *r, int slot)
{
    unsigned a = u8(r);
    skiff_tcp_conn *c = h.app[slot];
    if (!c) return;
    if (h.trace)
        fprintf(stderr, "app: slot %d call %u (%s)\n", slot, a & 7, skiff_tcp_state_name(c->state));
    switch (a & 7) {
    case 0:
        write_some(c, u16(r) % 20000);
        break;
    case 1:
        read_some(c, u16(r), 1);
        break;
    case 2: {
        int rc = skiff_tcp_shutdown(c, h.now);
        if (rc && rc != SKIFF_ERR_CLOSED) abort();
        break;
    }
    case 3: {
        int rc = skiff_tcp_abort(c, h.now);
        if (rc && rc != SKIFF_ERR_CLOSED) abort();
        break;
    }
    case 4:
        skiff_tcp_conn_set_nagle(c, a & 8);
        break;
    case 5: {
        /* The getters: cheap, but they must not read freed memory. */
        size_t w = skiff_tcp_conn_writable(c);
        if (w > c->sbuf_cap) abort();
        if (skiff_tcp_conn_local(c)->family != skiff_tcp_conn_remote(c)->family) abort();
        (void)skiff_tcp_conn_state(c), (void)skiff_tcp_conn_iss(c), (void)skiff_tcp_conn_irs(c);
        skiff_tcp_conn_set_user_data(c, &h);
        if (skiff_tcp_conn_user_data(c) != &h) abort();
        break;
    }
    case 6:
        read_some(c, sizeof scratch, 64);
        break;
    default:
        write_some(c, skiff_tcp_conn_writable(c));
        break;
    }
}

/* Moves the virtual clock on and lets the timers run. */
static void clock_step(reader *r)
{
    unsigned t = u8(r);
    skiff_time before = h.now, d = skiff_tcp_stack_deadline(h.stack);
    switch (t & 3) {
    case 0:
        h.now += SKIFF_MS((t >> 2) + 1);
        break;
    case 1:
        h.now = d != SKIFF_TIME_NEVER && d > h.now ? d : h.now + SKIFF_MS(1);
        break;
    case 2:
        h.now += SKIFF_MS(u16(r));
        break;
    default:
        h.now += SKIFF_MS(1000) * ((t >> 2) + 1);
        break;
    }
    h.peer_ts += (uint32_t)((h.now - before) / SKIFF_MS(1));
    if (h.trace)
        fprintf(stderr, "clock: +%llu us\n", (unsigned long long)((h.now - before) / 1000));
    skiff_tcp_stack_on_timeout(h.stack, h.now);
}

static void connect_record(int slot)
{
    if (h.app[slot] || conn_for(slot)) return;
    skiff_tcp_addr local = local_addr(slot & 1, 0), remote = peer_addr(slot);
    skiff_tcp_conn *c = NULL;
    int rc = skiff_tcp_connect(h.stack, &local, &remote, h.now, &c);
    if (h.trace) fprintf(stderr, "connect: slot %d rc %d\n", slot, rc);
    if (rc == 0) h.app[slot] = c;
}

static void configure(skiff_tcp_config *cfg, unsigned c0, unsigned c1)
{
    static const uint32_t buffers[] = {2048, 8192, 65536, 300000};
    static const uint32_t ooo[] = {0, 1000, 100, 1};
    static const skiff_time msl[] = {SKIFF_MS(30000), SKIFF_MS(1000), SKIFF_MS(10), 0};
    skiff_tcp_config_default(cfg);
    cfg->recv_buffer = cfg->send_buffer = buffers[c0 & 3];
    cfg->sack = !(c0 & 4);
    cfg->timestamps = !(c0 & 8);
    cfg->window_scale = !(c0 & 16);
    cfg->cc = (c0 & 32) ? "cubic" : "newreno";
    cfg->nagle = !(c0 & 64);
    cfg->keepalive = c1 & 2;
    cfg->keepalive_idle = SKIFF_MS(1000);
    cfg->keepalive_interval = SKIFF_MS(500);
    cfg->keepalive_probes = 3;
    cfg->ooo_max = ooo[(c1 >> 2) & 3];
    cfg->msl = msl[(c1 >> 4) & 3];
    cfg->fixed_isn = true;
    cfg->isn = (c1 & 64) ? 0xfffffff0u : 0x1000u;
    if (c1 & 128) cfg->mss = 536, cfg->syn_backlog = 1;
    cfg->max_connections = MAX_CONNS;
    h.auto_read = c0 & 128;
    h.auto_write = c1 & 1;
    h.peer_isn = (c1 & 64) ? 0xfffffff8u : 0x20000u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int trace = -1;
    if (trace < 0) trace = getenv("TCP_INPUT_FUZZ_TRACE") != NULL;
    reader r = {data, size};
    memset(&h, 0, sizeof h);
    h.trace = trace;
    h.rng = 0x9e3779b97f4a7c15u;
    h.now = SKIFF_MS(1000);
    h.peer_ts = 5000;
    skiff_tcp_config cfg;
    unsigned c0 = u8(&r), c1 = u8(&r);
    configure(&cfg, c0, c1);
    if (skiff_tcp_stack_new(&h.stack, &cfg, &callbacks, &h, h.now)) abort();
    skiff_tcp_addr a4 = local_addr(false, 0), a6 = local_addr(true, 0);
    if (skiff_tcp_stack_add_address(h.stack, &a4) || skiff_tcp_stack_add_address(h.stack, &a6) ||
        skiff_tcp_listen(h.stack, LISTEN_PORT))
        abort();

    /* Each record takes at least its op byte, so this ends. */
    while (r.n) {
        unsigned op = u8(&r);
        int slot = (int)((op >> 3) & 3) % PEERS * 2 + ((op & 0x20) ? 1 : 0);
        switch (op & 7) {
        case 3:
            raw_record(&r, op, slot);
            break;
        case 4:
            app(&r, slot);
            break;
        case 5:
            clock_step(&r);
            break;
        case 6:
            connect_record(slot);
            break;
        default:
            segment_record(&r, slot);
            break;
        }
        drain();
    }
    /* Let what is left time out, as far as a few expirations go. */
    for (int i = 0; i < FINAL_TIMEOUTS; i++) {
        skiff_time d = skiff_tcp_stack_deadline(h.stack);
        if (d == SKIFF_TIME_NEVER) break;
        if (d > h.now) h.now = d;
        skiff_tcp_stack_on_timeout(h.stack, h.now);
        drain();
    }
    skiff_tcp_stack_free(h.stack);
    return 0;
}
