/*
 * The simulator (tests/sim/sim.c), driven by a toy reliable protocol that
 * this test defines: the client sends N numbered, checksummed datagrams in a
 * sliding window and retransmits each one whose timer expires; the server
 * acknowledges cumulatively, to the address it last heard the client from.
 * What the toy sees is what a user of the simulator sees: delivery under
 * impairment, reproducible statistics, rebinding, blackholes, the rate.
 */
#include "sim.h"
#include "test.h"

#define TOY_MAX 4096
#define TOY_HDR 9 /* type, seq (4), checksum (4) */

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t payload_byte(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 131 + i * 7 + 3);
}

/* Frames a message: type, seq, checksum over (type, seq, body), body. */
static size_t frame(uint8_t *out, uint8_t type, uint32_t seq, const uint8_t *body, size_t n)
{
    out[0] = type;
    put32(out + 1, seq);
    if (n) memcpy(out + TOY_HDR, body, n);
    uint32_t sum = fnv1a(out, 5) ^ fnv1a(out + TOY_HDR, n);
    put32(out + 5, sum);
    return TOY_HDR + n;
}

/* Checks a frame; returns its body length or -1 when corrupted. */
static long unframe(const uint8_t *p, size_t len, uint8_t type, uint32_t *seq)
{
    if (len < TOY_HDR || p[0] != type) return -1;
    if ((fnv1a(p, 5) ^ fnv1a(p + TOY_HDR, len - TOY_HDR)) != get32(p + 5)) return -1;
    *seq = get32(p + 1);
    return (long)(len - TOY_HDR);
}

typedef struct toy_sender {
    uint32_t total, window, size;
    skiff_time rto;
    uint32_t cum, next_new;
    skiff_time sent_at[TOY_MAX];
    uint8_t rtx[TOY_MAX];
    uint64_t retransmits, bad_acks;
    skiff_sim_addr froms[8];
    int from_count;
} toy_sender;

typedef struct toy_receiver {
    uint32_t total, size;
    uint8_t got[TOY_MAX];
    uint32_t cum, max_seen, out_of_order, duplicates, corrupt, wrong_content;
    bool ack_due;
    skiff_sim_addr reply_to;
    skiff_sim_addr froms[8];
    int from_count;
    skiff_time arrivals[TOY_MAX * 2];
    size_t arrival_count;
} toy_receiver;

static void note_from(skiff_sim_addr *froms, int *count, const skiff_sim_addr *from)
{
    for (int i = 0; i < *count; i++)
        if (skiff_sim_addr_equal(&froms[i], from)) return;
    if (*count < 8) froms[(*count)++] = *from;
}

static int sender_receive(void *ep, const uint8_t *d, size_t len, const skiff_sim_addr *from,
                          skiff_time now)
{
    (void)now;
    toy_sender *s = ep;
    uint32_t ack;
    if (unframe(d, len, 'A', &ack) != 0 || ack > s->total) {
        s->bad_acks++;
        return SKIFF_ERR_INVALID_PACKET;
    }
    note_from(s->froms, &s->from_count, from);
    if (ack > s->cum) s->cum = ack;
    return 0;
}

static skiff_ssize sender_send(void *ep, uint8_t *out, size_t cap, skiff_sim_addr *to,
                               skiff_time now)
{
    toy_sender *s = ep;
    (void)to; /* family 0: to the peer */
    uint32_t seq = UINT32_MAX;
    for (uint32_t i = s->cum; i < s->next_new; i++)
        if (s->rtx[i]) {
            seq = i;
            s->rtx[i] = 0;
            s->retransmits++;
            break;
        }
    if (seq == UINT32_MAX) {
        if (s->next_new >= s->total || s->next_new >= s->cum + s->window) return 0;
        seq = s->next_new++;
    }
    uint8_t body[1500];
    if (TOY_HDR + s->size > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < s->size; i++)
        body[i] = payload_byte(seq, i);
    s->sent_at[seq] = now;
    return (skiff_ssize)frame(out, 'D', seq, body, s->size);
}

static skiff_time sender_deadline(void *ep)
{
    toy_sender *s = ep;
    skiff_time t = SKIFF_TIME_NEVER;
    for (uint32_t i = s->cum; i < s->next_new; i++)
        if (!s->rtx[i] && s->sent_at[i] + s->rto < t) t = s->sent_at[i] + s->rto;
    return t;
}

static int sender_timeout(void *ep, skiff_time now)
{
    toy_sender *s = ep;
    for (uint32_t i = s->cum; i < s->next_new; i++)
        if (s->sent_at[i] + s->rto <= now) s->rtx[i] = 1;
    return 0;
}

static int receiver_receive(void *ep, const uint8_t *d, size_t len, const skiff_sim_addr *from,
                            skiff_time now)
{
    toy_receiver *r = ep;
    uint32_t seq;
    long n = unframe(d, len, 'D', &seq);
    if (n != (long)r->size || seq >= r->total) {
        r->corrupt++;
        return SKIFF_ERR_INVALID_PACKET;
    }
    for (long i = 0; i < n; i++)
        if (d[TOY_HDR + i] != payload_byte(seq, (size_t)i)) {
            r->wrong_content++;
            break;
        }
    if (r->arrival_count < sizeof r->arrivals / sizeof r->arrivals[0])
        r->arrivals[r->arrival_count++] = now;
    note_from(r->froms, &r->from_count, from);
    r->reply_to = *from;
    r->ack_due = true;
    if (r->got[seq]) {
        r->duplicates++;
        return 0;
    }
    if (seq < r->max_seen) r->out_of_order++;
    if (seq > r->max_seen) r->max_seen = seq;
    r->got[seq] = 1;
    while (r->cum < r->total && r->got[r->cum])
        r->cum++;
    return 0;
}

static skiff_ssize receiver_send(void *ep, uint8_t *out, size_t cap, skiff_sim_addr *to,
                                 skiff_time now)
{
    (void)now;
    (void)cap;
    toy_receiver *r = ep;
    if (!r->ack_due) return 0;
    r->ack_due = false;
    *to = r->reply_to; /* where the client was last seen: rebinding matters */
    return (skiff_ssize)frame(out, 'A', r->cum, NULL, 0);
}

static skiff_time receiver_deadline(void *ep)
{
    (void)ep;
    return SKIFF_TIME_NEVER;
}

static int receiver_timeout(void *ep, skiff_time now)
{
    (void)ep;
    (void)now;
    return 0;
}

static const skiff_sim_endpoint_ops sender_ops = {sender_receive, sender_send, sender_deadline,
                                                  sender_timeout};
static const skiff_sim_endpoint_ops receiver_ops = {receiver_receive, receiver_send,
                                                    receiver_deadline, receiver_timeout};

typedef struct toy_pair {
    toy_sender s;
    toy_receiver r;
} toy_pair;

static bool transfer_done(void *ctx)
{
    toy_pair *p = ctx;
    return p->s.cum == p->s.total;
}

static toy_pair *toy_new(uint32_t total, uint32_t size, uint32_t window, skiff_time rto)
{
    toy_pair *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->s.total = p->r.total = total;
    p->s.size = p->r.size = size;
    p->s.window = window;
    p->s.rto = rto;
    return p;
}

/* Everything a run leaves behind that a seed decides. */
typedef struct outcome {
    skiff_sim_stop stop;
    skiff_time elapsed;
    skiff_impair_stats imp[2];
    skiff_sim_dir_stats dir[2];
    uint64_t retransmits;
    uint32_t out_of_order, duplicates, corrupt, wrong_content;
    uint64_t steps;
} outcome;

static outcome run_transfer(const skiff_sim_config *cfg, toy_pair *p, skiff_time limit)
{
    skiff_sim sim;
    outcome o;
    memset(&o, 0, sizeof o);
    if (skiff_sim_init(&sim, cfg, &sender_ops, &p->s, &receiver_ops, &p->r) != 0) {
        o.stop = SKIFF_SIM_ERROR;
        return o;
    }
    o.stop = skiff_sim_run(&sim, cfg->start + limit, transfer_done, p);
    o.elapsed = skiff_sim_now(&sim) - cfg->start;
    for (int d = 0; d < 2; d++) {
        o.imp[d] = sim.dir[d].stats;
        o.dir[d] = sim.stats[d];
    }
    o.retransmits = p->s.retransmits;
    o.out_of_order = p->r.out_of_order;
    o.duplicates = p->r.duplicates;
    o.corrupt = p->r.corrupt;
    o.wrong_content = p->r.wrong_content;
    o.steps = sim.steps;
    skiff_sim_free(&sim);
    return o;
}

static void perfect_link_delivers_in_order(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.up.delay = cfg.down.delay = SKIFF_MS(10);
    toy_pair *p = toy_new(100, 200, 10, SKIFF_MS(100));
    outcome o = run_transfer(&cfg, p, SKIFF_MS(10000));
    CHECK_EQ(o.stop, SKIFF_SIM_DONE);
    CHECK_EQ(p->r.cum, 100);
    CHECK_U64(o.retransmits, 0);
    CHECK_U64(o.dir[SKIFF_SIM_UP].sent, 100);
    CHECK_U64(o.imp[SKIFF_SIM_UP].delivered, 100);
    CHECK_EQ(o.out_of_order + o.duplicates + o.corrupt + o.wrong_content, 0);
    /* 10 windows of 10, each one round trip of 20ms: the last ack lands at 200ms. */
    CHECK_U64(o.elapsed, SKIFF_MS(200));
    CHECK_EQ(p->r.from_count, 1);
    skiff_sim_addr client = skiff_sim_addr_v4(192, 0, 2, 1, 50000);
    CHECK(skiff_sim_addr_equal(&p->r.froms[0], &client));
    free(p);
}

static skiff_sim_config hostile_config(uint64_t seed)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    const char *spec = "loss=10,maxdrop=4,delay=10ms,jitter=3ms,reorder=5,reorderdelay=4ms,"
                       "dup=5,corrupt=5";
    if (skiff_impair_parse(&cfg.up, spec, NULL, 0) || skiff_impair_parse(&cfg.down, spec, NULL, 0))
        abort();
    cfg.up.seed = seed;
    cfg.down.seed = seed + 1000;
    return cfg;
}

static void same_seed_same_run(void)
{
    skiff_sim_config cfg = hostile_config(42);
    toy_pair *a = toy_new(1000, 500, 32, SKIFF_MS(60));
    toy_pair *b = toy_new(1000, 500, 32, SKIFF_MS(60));
    outcome oa = run_transfer(&cfg, a, SKIFF_MS(60000));
    outcome ob = run_transfer(&cfg, b, SKIFF_MS(60000));
    CHECK_EQ(oa.stop, SKIFF_SIM_DONE);
    CHECK_MEM(&oa, &ob, sizeof oa);
    /* Every impairment happened, and the protocol saw it and got through. */
    CHECK_EQ(a->r.cum, 1000);
    for (int d = 0; d < 2; d++) {
        CHECK(oa.imp[d].dropped_loss > 0);
        CHECK(oa.imp[d].duplicated > 0);
        CHECK(oa.imp[d].corrupted > 0);
        CHECK(oa.imp[d].reordered > 0);
        /* Corruption is always caught by the toy's checksum (one byte flipped). */
        CHECK_U64(oa.dir[d].receive_errors, oa.imp[d].corrupted);
    }
    CHECK(oa.retransmits > 0);
    CHECK(oa.out_of_order > 0);
    CHECK(oa.duplicates > 0);
    CHECK_EQ(oa.wrong_content, 0);
    CHECK_U64(oa.corrupt, oa.imp[SKIFF_SIM_UP].corrupted);

    /* Another seed, another run. */
    skiff_sim_config other = hostile_config(43);
    toy_pair *c = toy_new(1000, 500, 32, SKIFF_MS(60));
    outcome oc = run_transfer(&other, c, SKIFF_MS(60000));
    CHECK_EQ(oc.stop, SKIFF_SIM_DONE);
    CHECK(memcmp(&oa.imp, &oc.imp, sizeof oa.imp) != 0);
    free(a);
    free(b);
    free(c);
}

static void nat_rebinding_gives_new_source_addresses(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.up.delay = cfg.down.delay = SKIFF_MS(10);
    CHECK_EQ(skiff_impair_parse(&cfg.up, "rebind=205ms,rebindaddr=405ms", NULL, 0), 0);
    CHECK_EQ(skiff_impair_parse(&cfg.down, "rebind=300ms", NULL, 0), 0);
    toy_pair *p = toy_new(400, 100, 8, SKIFF_MS(100));
    outcome o = run_transfer(&cfg, p, SKIFF_MS(10000));
    CHECK_EQ(o.stop, SKIFF_SIM_DONE);
    CHECK_EQ(p->r.cum, 400);
    /* The server saw the client from three addresses, in this order. */
    CHECK_EQ(p->r.from_count, 3);
    skiff_sim_addr a0 = skiff_sim_addr_v4(192, 0, 2, 1, 50000);
    skiff_sim_addr a1 = skiff_sim_addr_v4(192, 0, 2, 1, 50007);
    skiff_sim_addr a2 = skiff_sim_addr_v4(192, 0, 2, 2, 50014);
    CHECK(skiff_sim_addr_equal(&p->r.froms[0], &a0));
    CHECK(skiff_sim_addr_equal(&p->r.froms[1], &a1));
    CHECK(skiff_sim_addr_equal(&p->r.froms[2], &a2));
    /* Acks sent to a forgotten mapping were lost, and retransmission covered it. */
    CHECK(o.dir[SKIFF_SIM_SERVER].unroutable > 0);
    /* The client saw the server's port move once. */
    CHECK_EQ(p->s.from_count, 2);
    skiff_sim_addr s1 = skiff_sim_addr_v4(198, 51, 100, 1, 450);
    CHECK(skiff_sim_addr_equal(&p->s.froms[1], &s1));
    free(p);
}

static void blackhole_stops_all_delivery(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.up.delay = cfg.down.delay = SKIFF_MS(10);
    CHECK_EQ(skiff_impair_parse(&cfg.up, "blackhole=200ms+300ms", NULL, 0), 0);
    CHECK_EQ(skiff_impair_parse(&cfg.down, "blackhole=200ms+300ms", NULL, 0), 0);
    toy_pair *p = toy_new(600, 100, 4, SKIFF_MS(50));
    outcome o = run_transfer(&cfg, p, SKIFF_MS(20000));
    CHECK_EQ(o.stop, SKIFF_SIM_DONE);
    CHECK_EQ(p->r.cum, 600);
    /* Nothing sent in [200, 500) got through: nothing arrives in [210, 500). */
    int inside = 0, after = 0;
    for (size_t i = 0; i < p->r.arrival_count; i++) {
        skiff_time t = p->r.arrivals[i] - cfg.start;
        inside += t >= SKIFF_MS(210) && t < SKIFF_MS(500);
        after += t >= SKIFF_MS(500);
    }
    CHECK_EQ(inside, 0);
    CHECK(after > 0);
    CHECK(o.imp[SKIFF_SIM_UP].dropped_blackhole > 0);
    CHECK(o.elapsed > SKIFF_MS(500));
    free(p);
}

static void rate_limit_bounds_throughput(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.up.delay = cfg.down.delay = SKIFF_MS(5);
    CHECK_EQ(skiff_impair_parse(&cfg.up, "rate=8mbit,queue=1m", NULL, 0), 0);
    /* 500 datagrams of 1000 bytes at 8 Mbit/s: 0.5 s of serialisation. */
    toy_pair *p = toy_new(500, 1000 - TOY_HDR, 50, SKIFF_MS(500));
    outcome o = run_transfer(&cfg, p, SKIFF_MS(20000));
    CHECK_EQ(o.stop, SKIFF_SIM_DONE);
    CHECK_U64(o.retransmits, 0);
    skiff_time ideal = (skiff_time)500 * 1000 * 8 * 1000000000u / 8000000u;
    CHECK(o.elapsed >= ideal);
    CHECK(o.elapsed <= ideal + ideal / 50 + SKIFF_MS(20)); /* + one round trip and slack */
    /* The same transfer on a 4 Mbit/s link takes twice as long. */
    skiff_sim_config slow = cfg;
    slow.up.rate_bps = 4000000;
    toy_pair *q = toy_new(500, 1000 - TOY_HDR, 50, SKIFF_MS(500));
    outcome os = run_transfer(&slow, q, SKIFF_MS(20000));
    CHECK_EQ(os.stop, SKIFF_SIM_DONE);
    CHECK(os.elapsed >= 2 * ideal && os.elapsed <= 2 * ideal + ideal / 25 + SKIFF_MS(20));
    free(p);
    free(q);
}

static void queue_cap_bounds_memory(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.up.delay = cfg.down.delay = SKIFF_MS(5);
    CHECK_EQ(skiff_impair_parse(&cfg.up, "rate=1mbit,queue=10k", NULL, 0), 0);
    /* A window of 100 KB into a 10 KB queue: tail drops, then recovery. */
    toy_pair *p = toy_new(200, 1000 - TOY_HDR, 100, SKIFF_MS(300));
    outcome o = run_transfer(&cfg, p, SKIFF_MS(60000));
    CHECK_EQ(o.stop, SKIFF_SIM_DONE);
    CHECK_EQ(p->r.cum, 200);
    CHECK(o.imp[SKIFF_SIM_UP].dropped_queue > 0);
    /* Queued plus at most one datagram on the wire (5 ms < 8 ms per datagram). */
    CHECK(o.imp[SKIFF_SIM_UP].held_bytes_max <= 10240 + 1000);
    CHECK(o.imp[SKIFF_SIM_UP].held_max <= 11);
    free(p);
}

/* ---- stop reasons --------------------------------------------------------------- */

typedef struct spinner {
    skiff_time deadline;
    int send_error;
    uint64_t timeouts;
} spinner;

static int spin_receive(void *ep, const uint8_t *d, size_t len, const skiff_sim_addr *from,
                        skiff_time now)
{
    (void)ep, (void)d, (void)len, (void)from, (void)now;
    return 0;
}
static skiff_ssize spin_send(void *ep, uint8_t *out, size_t cap, skiff_sim_addr *to, skiff_time now)
{
    (void)out, (void)cap, (void)to, (void)now;
    return ((spinner *)ep)->send_error;
}
static skiff_time spin_deadline(void *ep)
{
    return ((spinner *)ep)->deadline;
}
static int spin_timeout(void *ep, skiff_time now)
{
    (void)now;
    ((spinner *)ep)->timeouts++; /* and leaves the deadline where it is: a bug */
    return 0;
}
static const skiff_sim_endpoint_ops spin_ops = {spin_receive, spin_send, spin_deadline,
                                                spin_timeout};

static void stop_reasons(void)
{
    skiff_sim_config cfg;
    skiff_sim_config_default(&cfg);
    cfg.max_steps = 1000;
    skiff_sim sim;
    spinner a = {.deadline = SKIFF_TIME_NEVER}, b = {.deadline = SKIFF_TIME_NEVER};

    CHECK_EQ(skiff_sim_init(&sim, &cfg, &spin_ops, &a, &spin_ops, &b), 0);
    CHECK_EQ(skiff_sim_run(&sim, SKIFF_MS(5000), NULL, NULL), SKIFF_SIM_IDLE);
    skiff_sim_free(&sim);

    a.deadline = cfg.start + SKIFF_MS(3000);
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &spin_ops, &a, &spin_ops, &b), 0);
    CHECK_EQ(skiff_sim_run(&sim, cfg.start + SKIFF_MS(2000), NULL, NULL), SKIFF_SIM_UNTIL);
    CHECK_U64(skiff_sim_now(&sim), cfg.start + SKIFF_MS(2000));
    CHECK_U64(a.timeouts, 0);
    /* Resumed, it reaches the deadline, which never moves: the step bound stops it. */
    CHECK_EQ(skiff_sim_run(&sim, cfg.start + SKIFF_MS(9000), NULL, NULL), SKIFF_SIM_STEPS);
    CHECK_U64(skiff_sim_now(&sim), cfg.start + SKIFF_MS(3000));
    CHECK_U64(sim.steps, 1000);
    CHECK(a.timeouts > 900);
    skiff_sim_free(&sim);

    a.deadline = SKIFF_TIME_NEVER;
    b.send_error = SKIFF_ERR_INTERNAL;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &spin_ops, &a, &spin_ops, &b), 0);
    CHECK_EQ(skiff_sim_run(&sim, SKIFF_MS(5000), NULL, NULL), SKIFF_SIM_ERROR);
    CHECK_EQ(sim.error, SKIFF_ERR_INTERNAL);
    CHECK_EQ(sim.error_ep, SKIFF_SIM_SERVER);
    CHECK(strcmp(skiff_sim_stop_name(SKIFF_SIM_ERROR), "error") == 0);
    skiff_sim_free(&sim);

    cfg.client_addr.family = 5;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &spin_ops, &a, &spin_ops, &b), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_sim_config_default(&cfg);
    cfg.up.mtu = 0;
    CHECK_EQ(skiff_sim_init(&sim, &cfg, &spin_ops, &a, &spin_ops, &b), SKIFF_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    RUN(perfect_link_delivers_in_order);
    RUN(same_seed_same_run);
    RUN(nat_rebinding_gives_new_source_addresses);
    RUN(blackhole_stops_all_delivery);
    RUN(rate_limit_bounds_throughput);
    RUN(queue_cap_bounds_memory);
    RUN(stop_reasons);
    return test_report("sim");
}
