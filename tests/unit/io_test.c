/* The I/O engine's UDP sockets (GSO, GRO, ECN, local address) and event loop, on loopback. */
#include <sys/epoll.h>

#include "io/loop.h"
#include "io/udp.h"
#include "test.h"

static void open_pair(skiff_udp *a, skiff_udp *b, const char *any)
{
    skiff_addr local;
    CHECK_EQ(skiff_addr_parse(&local, any), 0);
    CHECK_EQ(skiff_udp_open(a, &local), 0);
    CHECK_EQ(skiff_udp_open(b, &local), 0);
}

/* Receives until `want` bytes arrived or 2 s pass; returns datagrams seen. */
static int receive_all(skiff_udp *u, uint8_t *got, size_t want, uint8_t *ecn, skiff_addr *local)
{
    static uint8_t buf[16 * 65536];
    skiff_udp_rx rx[16];
    size_t have = 0;
    int datagrams = 0;
    skiff_time deadline = skiff_clock_now() + SKIFF_MS(2000);
    while (have < want && skiff_clock_now() < deadline) {
        int n = skiff_udp_recv(u, rx, 16, buf, 65536);
        for (int i = 0; i < n; i++) {
            for (size_t off = 0; off < rx[i].len; off += rx[i].segment_size) datagrams++;
            if (have + rx[i].len <= want) memcpy(got + have, rx[i].data, rx[i].len);
            have += rx[i].len;
            *ecn = rx[i].ecn;
            *local = rx[i].local;
        }
    }
    return have == want ? datagrams : -1;
}

static void gso_batch_arrives_intact_with_ecn(const char *any, const char *loopback)
{
    skiff_udp a, b;
    open_pair(&a, &b, any);
    uint8_t data[10 * 1200];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + i / 1200);
    /* Send to the loopback address, not the wildcard we bound. */
    skiff_addr to;
    CHECK_EQ(skiff_addr_parse(&to, loopback), 0);
    skiff_addr_set_port(&to, skiff_addr_port(&b.local));
    skiff_udp_tx tx = {.data = data, .len = sizeof data, .segment_size = 1200, .peer = &to,
                       .ecn = 2 /* ECT(0) */};
    if (!a.gso) {
        /* Without GSO the engine sends datagram by datagram. */
        tx.len = 1200;
        for (int i = 0; i < 10; i++) {
            tx.data = data + i * 1200;
            CHECK_EQ(skiff_udp_send(&a, &tx, 1), 1);
        }
    } else {
        CHECK_EQ(skiff_udp_send(&a, &tx, 1), 1);
    }
    uint8_t got[sizeof data];
    uint8_t ecn = 0;
    skiff_addr local;
    CHECK_EQ(receive_all(&b, got, sizeof got, &ecn, &local), 10);
    CHECK_MEM(got, data, sizeof data);
    CHECK_EQ(ecn, 2);
    /* The local address reported is the one the datagrams were sent to. */
    CHECK(skiff_addr_equal(&local, &to));
    skiff_udp_close(&a);
    skiff_udp_close(&b);
}

static void ipv4_gso_gro_ecn(void)
{
    gso_batch_arrives_intact_with_ecn("0.0.0.0:0", "127.0.0.1:0");
}

static void ipv6_gso_gro_ecn(void)
{
    gso_batch_arrives_intact_with_ecn("[::]:0", "[::1]:0");
}

static void addresses_parse_and_format(void)
{
    skiff_addr a;
    char buf[64];
    CHECK_EQ(skiff_addr_parse(&a, "127.0.0.1:4433"), 0);
    CHECK(!strcmp(skiff_addr_format(&a, buf, sizeof buf), "127.0.0.1:4433"));
    CHECK_EQ(skiff_addr_parse(&a, "[::1]:443"), 0);
    CHECK(!strcmp(skiff_addr_format(&a, buf, sizeof buf), "[::1]:443"));
    CHECK_EQ(skiff_addr_parse(&a, "localhost:80"), 0);
    CHECK(!strcmp(skiff_addr_format(&a, buf, sizeof buf), "127.0.0.1:80"));
    CHECK_EQ(skiff_addr_parse(&a, "127.0.0.1"), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_addr_parse(&a, "127.0.0.1:70000"), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_addr_parse(&a, "example.com:443"), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_addr_parse(&a, "[::1:443"), SKIFF_ERR_INVALID_ARGUMENT);
}

static int fired[8], fired_count;
static skiff_time fired_at[8];
static void on_timer(skiff_loop *loop, skiff_timer *t, void *ud)
{
    (void)loop;
    (void)t;
    fired_at[fired_count] = skiff_clock_now();
    fired[fired_count++] = (int)(intptr_t)ud;
}

static void timers_fire_in_order_and_on_time(void)
{
    skiff_loop *loop;
    CHECK_EQ(skiff_loop_new(&loop), 0);
    skiff_timer t[5];
    skiff_time start = skiff_clock_now();
    static const int order_ms[5] = {30, 10, 50, 20, 40};
    for (int i = 0; i < 5; i++) {
        skiff_timer_init(&t[i], on_timer, (void *)(intptr_t)i);
        CHECK_EQ(skiff_timer_set(loop, &t[i], start + SKIFF_MS(order_ms[i])), 0);
    }
    skiff_timer_cancel(loop, &t[4]);
    CHECK(!skiff_timer_armed(&t[4]));
    CHECK_EQ(skiff_timer_set(loop, &t[2], start + SKIFF_MS(5)), 0); /* re-arm earlier */
    fired_count = 0;
    for (int guard = 0; guard < 100 && fired_count < 4; guard++)
        skiff_loop_run_once(loop, start + SKIFF_MS(500));
    CHECK_EQ(fired_count, 4);
    CHECK_EQ(fired[0], 2);
    CHECK_EQ(fired[1], 1);
    CHECK_EQ(fired[2], 3);
    CHECK_EQ(fired[3], 0);
    /* Never early; the bound on lateness is generous for a shared machine. */
    CHECK(fired_at[1] >= start + SKIFF_MS(10));
    CHECK(fired_at[3] >= start + SKIFF_MS(30));
    skiff_loop_free(loop);
}

static int readable;
static void on_readable(skiff_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)fd;
    (void)ud;
    if (events & EPOLLIN) readable++;
    skiff_loop_stop(loop);
}

static void fd_callbacks_run(void)
{
    skiff_loop *loop;
    CHECK_EQ(skiff_loop_new(&loop), 0);
    skiff_udp a, b;
    open_pair(&a, &b, "127.0.0.1:0");
    CHECK_EQ(skiff_loop_add_fd(loop, b.fd, EPOLLIN, on_readable, NULL), 0);
    skiff_udp_tx tx = {.data = (const uint8_t *)"x", .len = 1, .peer = &b.local};
    CHECK_EQ(skiff_udp_send(&a, &tx, 1), 1);
    readable = 0;
    CHECK_EQ(skiff_loop_run(loop, skiff_clock_now() + SKIFF_MS(2000)), 0);
    CHECK_EQ(readable, 1);
    skiff_loop_del_fd(loop, b.fd);
    skiff_udp_close(&a);
    skiff_udp_close(&b);
    skiff_loop_free(loop);
}

int main(void)
{
    RUN(addresses_parse_and_format);
    RUN(ipv4_gso_gro_ecn);
    RUN(ipv6_gso_gro_ecn);
    RUN(timers_fire_in_order_and_on_time);
    RUN(fd_callbacks_run);
    return test_report("io");
}
