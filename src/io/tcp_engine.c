/*
 * The TCP engine (see tcp_engine.h): one TUN device, one stack, one timer.
 * A readable device is drained a bounded number of packets at a time, then
 * the stack's output is written until it has nothing more; a full device
 * queue (EAGAIN) leaves the rest for the next turn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io/tcp_engine.h"
#include "io/tun.h"

#define PACKET_MAX 65536
#define READS_PER_TURN 256
#define IMPAIR_QUEUE 4096

/* A packet held by the impairment layer until its time. */
typedef struct held_packet {
    skiff_time due;
    bool to_stack; /* else to the device */
    size_t len;
    uint8_t *data;
} held_packet;

/* Seeded impairment between the device and the stack (tests: the kernel
 * here has no netem): delay with jitter, reordering, duplication, loss. */
typedef struct impairment {
    bool on;
    skiff_time delay, jitter;
    unsigned reorder, dup, loss; /* percent */
    bool inbound, outbound;      /* which directions: device to stack, stack to device */
    uint64_t rng;
    held_packet q[IMPAIR_QUEUE];
    size_t count;
    skiff_timer timer;
} impairment;

struct skiff_tcp_engine {
    skiff_loop *loop;
    skiff_timer timer;
    skiff_tcp_stack *stack;
    int fd;
    char name[64];
    uint8_t in[PACKET_MAX];  /* the packet being processed: callbacks may flush meanwhile */
    uint8_t out[PACKET_MAX];
    impairment imp;
};

int skiff_tcp_addr_parse(const char *text, skiff_tcp_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->ip) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->ip) == 1) {
        out->family = 6;
        return 0;
    }
    return -1;
}

static void arm(skiff_tcp_engine *e)
{
    skiff_timer_set(e->loop, &e->timer, skiff_tcp_stack_deadline(e->stack));
}

static uint32_t imp_rand(impairment *m)
{
    m->rng ^= m->rng << 13, m->rng ^= m->rng >> 7, m->rng ^= m->rng << 17;
    return (uint32_t)(m->rng >> 11);
}

static void imp_arm(skiff_tcp_engine *e)
{
    skiff_time next = SKIFF_TIME_NEVER;
    for (size_t i = 0; i < e->imp.count; i++)
        if (e->imp.q[i].due < next) next = e->imp.q[i].due;
    skiff_timer_set(e->loop, &e->imp.timer, next);
}

/* Takes a packet into the impairment layer: dropped, held once or twice. */
static void imp_take(skiff_tcp_engine *e, const uint8_t *p, size_t len, bool to_stack)
{
    impairment *m = &e->imp;
    if (imp_rand(m) % 100 < m->loss) return;
    int copies = imp_rand(m) % 100 < m->dup ? 2 : 1;
    skiff_time now = skiff_clock_now();
    for (int k = 0; k < copies && m->count < IMPAIR_QUEUE; k++) {
        uint8_t *copy = malloc(len);
        if (!copy) return;
        memcpy(copy, p, len);
        skiff_time d = m->delay + (m->jitter ? (skiff_time)(imp_rand(m) % (m->jitter + 1)) : 0);
        if (imp_rand(m) % 100 < m->reorder) d += m->jitter + SKIFF_MS(2); /* passed by the next ones */
        m->q[m->count++] = (held_packet){.due = now + d, .to_stack = to_stack, .len = len, .data = copy};
    }
    imp_arm(e);
}

void skiff_tcp_engine_flush(skiff_tcp_engine *e)
{
    for (int guard = 0; guard < 100000; guard++) {
        size_t n = skiff_tcp_stack_output(e->stack, e->out, sizeof e->out, skiff_clock_now());
        if (!n) break;
        if (e->imp.on && e->imp.outbound) {
            imp_take(e, e->out, n, false);
            continue;
        }
        skiff_ssize w = skiff_tun_write(e->fd, e->out, n);
        if (w < 0 && w != -EAGAIN) break;
        /* EAGAIN: the device queue is full; the segment is lost like on a
         * congested link, and TCP's recovery sends it again. */
    }
    arm(e);
}

static void on_device(skiff_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop, (void)fd, (void)events;
    skiff_tcp_engine *e = ud;
    for (int i = 0; i < READS_PER_TURN; i++) {
        skiff_ssize n = skiff_tun_read(e->fd, e->in, sizeof e->in);
        if (n == -EMSGSIZE) continue; /* cut short by the buffer: dropped */
        if (n <= 0) break;
        if (e->imp.on && e->imp.inbound) imp_take(e, e->in, (size_t)n, true);
        else skiff_tcp_stack_input(e->stack, e->in, (size_t)n, skiff_clock_now());
    }
    skiff_tcp_engine_flush(e);
}

static void on_timer(skiff_loop *loop, skiff_timer *t, void *ud)
{
    (void)loop, (void)t;
    skiff_tcp_engine *e = ud;
    skiff_tcp_stack_on_timeout(e->stack, skiff_clock_now());
    skiff_tcp_engine_flush(e);
}

static void on_impairment(skiff_loop *loop, skiff_timer *t, void *ud)
{
    (void)loop, (void)t;
    skiff_tcp_engine *e = ud;
    impairment *m = &e->imp;
    skiff_time now = skiff_clock_now();
    for (size_t i = 0; i < m->count;) {
        held_packet p = m->q[i];
        if (p.due > now) {
            i++;
            continue;
        }
        m->q[i] = m->q[--m->count];
        if (p.to_stack) skiff_tcp_stack_input(e->stack, p.data, p.len, now);
        else skiff_tun_write(e->fd, p.data, p.len);
        free(p.data);
    }
    imp_arm(e);
    skiff_tcp_engine_flush(e);
}

static int parse_percent(const char *v, unsigned *out)
{
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*end || x > 100) return -1;
    *out = (unsigned)x;
    return 0;
}

static int parse_ms(const char *v, skiff_time *out)
{
    char *end;
    double x = strtod(v, &end);
    if (strcmp(end, "ms") || x < 0 || x > 10000) return -1;
    *out = (skiff_time)(x * 1e6);
    return 0;
}

int skiff_tcp_engine_set_impairment(skiff_tcp_engine *e, const char *spec)
{
    impairment *m = &e->imp;
    m->rng = 0x9e3779b97f4a7c15u;
    m->inbound = m->outbound = true;
    char buf[256];
    if (strlen(spec) >= sizeof buf) return SKIFF_ERR_INVALID_ARGUMENT;
    strcpy(buf, spec);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return SKIFF_ERR_INVALID_ARGUMENT;
        *eq = 0;
        const char *k = kv, *v = eq + 1;
        int bad = 0;
        if (!strcmp(k, "delay")) bad = parse_ms(v, &m->delay);
        else if (!strcmp(k, "jitter")) bad = parse_ms(v, &m->jitter);
        else if (!strcmp(k, "reorder")) bad = parse_percent(v, &m->reorder);
        else if (!strcmp(k, "dup")) bad = parse_percent(v, &m->dup);
        else if (!strcmp(k, "loss")) bad = parse_percent(v, &m->loss);
        else if (!strcmp(k, "seed")) m->rng = strtoull(v, NULL, 10) * 0x9e3779b97f4a7c15u + 1;
        else if (!strcmp(k, "dir")) {
            m->inbound = !strcmp(v, "in") || !strcmp(v, "both");
            m->outbound = !strcmp(v, "out") || !strcmp(v, "both");
            bad = m->inbound || m->outbound ? 0 : -1;
        }
        else bad = -1;
        if (bad) return SKIFF_ERR_INVALID_ARGUMENT;
    }
    m->on = true;
    skiff_timer_init(&m->timer, on_impairment, e);
    return 0;
}

int skiff_tcp_engine_new(skiff_tcp_engine **out, const char *tun, const char *const *peer_nets,
                         size_t peer_net_count, const char *const *local_addrs, size_t local_count,
                         const skiff_tcp_config *cfg, const skiff_tcp_callbacks *cb, void *ud)
{
    skiff_tcp_engine *e = calloc(1, sizeof *e);
    if (!e) return SKIFF_ERR_NOMEM;
    e->fd = -1;
    int rv = skiff_loop_new(&e->loop);
    if (!rv) {
        e->fd = skiff_tun_open(tun, e->name, sizeof e->name);
        if (e->fd < 0) rv = e->fd;
    }
    if (!rv) rv = skiff_tun_set_up(e->name);
    for (size_t i = 0; !rv && i < peer_net_count; i++) rv = skiff_tun_add_addr(e->name, peer_nets[i]);
    if (!rv) rv = skiff_tcp_stack_new(&e->stack, cfg, cb, ud, skiff_clock_now());
    for (size_t i = 0; !rv && i < local_count; i++) {
        skiff_tcp_addr a;
        rv = skiff_tcp_addr_parse(local_addrs[i], &a) ? SKIFF_ERR_INVALID_ARGUMENT
                                                      : skiff_tcp_stack_add_address(e->stack, &a);
    }
    if (!rv) rv = skiff_loop_add_fd(e->loop, e->fd, EPOLLIN, on_device, e);
    if (rv) {
        skiff_tcp_engine_free(e);
        return rv;
    }
    skiff_timer_init(&e->timer, on_timer, e);
    *out = e;
    return 0;
}

void skiff_tcp_engine_free(skiff_tcp_engine *e)
{
    if (!e) return;
    if (e->loop) {
        skiff_timer_cancel(e->loop, &e->timer);
        if (e->imp.on) skiff_timer_cancel(e->loop, &e->imp.timer);
        if (e->fd >= 0) skiff_loop_del_fd(e->loop, e->fd);
        skiff_loop_free(e->loop);
    }
    if (e->fd >= 0) close(e->fd);
    for (size_t i = 0; i < e->imp.count; i++) free(e->imp.q[i].data);
    skiff_tcp_stack_free(e->stack);
    free(e);
}

skiff_tcp_stack *skiff_tcp_engine_stack(skiff_tcp_engine *e) { return e->stack; }
skiff_loop *skiff_tcp_engine_loop(skiff_tcp_engine *e) { return e->loop; }
const char *skiff_tcp_engine_device(const skiff_tcp_engine *e) { return e->name; }

int skiff_tcp_engine_run(skiff_tcp_engine *e, skiff_time until)
{
    skiff_tcp_engine_flush(e);
    return skiff_loop_run(e->loop, until);
}

void skiff_tcp_engine_stop(skiff_tcp_engine *e) { skiff_loop_stop(e->loop); }
