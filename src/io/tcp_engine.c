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

struct skiff_tcp_engine {
    skiff_loop *loop;
    skiff_timer timer;
    skiff_tcp_stack *stack;
    int fd;
    char name[64];
    uint8_t in[PACKET_MAX];  /* the packet being processed: callbacks may flush meanwhile */
    uint8_t out[PACKET_MAX];
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

void skiff_tcp_engine_flush(skiff_tcp_engine *e)
{
    for (int guard = 0; guard < 100000; guard++) {
        size_t n = skiff_tcp_stack_output(e->stack, e->out, sizeof e->out, skiff_clock_now());
        if (!n) break;
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
        skiff_tcp_stack_input(e->stack, e->in, (size_t)n, skiff_clock_now());
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
        if (e->fd >= 0) skiff_loop_del_fd(e->loop, e->fd);
        skiff_loop_free(e->loop);
    }
    if (e->fd >= 0) close(e->fd);
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
