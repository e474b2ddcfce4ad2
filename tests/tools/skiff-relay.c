/*
 * skiff-relay: a UDP relay that applies the impairment model
 * (tests/sim/impair.h) to real traffic on the real monotonic clock, because
 * this kernel has no netem qdisc. Clients talk to --listen; the relay gives
 * each client address its own upstream socket, connected to --server, so the
 * server sees distinct clients; replies come back the same way.
 *
 *   skiff-relay --listen 127.0.0.1:PORT --server 127.0.0.1:PORT
 *               [--up SPEC] [--down SPEC] [--duration SECONDS]
 *
 * NAT rebinding (RFC 9000 §9.3 is what it exercises) happens in the up
 * direction: when a client datagram of a newer rebinding generation is
 * forwarded, the client's upstream socket is replaced by a new one, so the
 * server sees a new source port, or with rebindaddr a new 127.0.0.x address
 * too. Replies to the old socket are lost, as with a NAT that forgot its
 * mapping.
 *
 * Only loopback addresses are accepted: network tests never leave the
 * machine. Every wait is bounded by the next delivery, --duration, or a
 * signal; SIGINT/SIGTERM end the loop and the counters go to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "impair.h"

#define MAX_CLIENTS 64
#define READ_BATCH 64 /* datagrams read per socket per wakeup, for fairness */
#define DGRAM_MAX 65536

typedef struct client {
    bool used;
    struct sockaddr_storage addr; /* the client as the relay sees it */
    socklen_t addr_len;
    int fd;               /* upstream socket, connected to the server */
    uint32_t generation;  /* rebinding generation of fd */
    uint32_t incarnation; /* tells a reused slot from the client it held */
    skiff_time last_active;
} client;

typedef struct relay {
    int listen_fd;
    struct sockaddr_storage server;
    socklen_t server_len;
    skiff_impair up, down;
    client clients[MAX_CLIENTS];
    uint32_t incarnations;
    uint64_t client_count, evictions, rebinds, rebind_failures, send_errors;
    uint8_t buf[DGRAM_MAX];
} relay;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static skiff_time monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (skiff_time)ts.tv_sec * 1000000000u + (skiff_time)ts.tv_nsec;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: skiff-relay --listen ADDR:PORT --server ADDR:PORT [--up SPEC] [--down SPEC]\n"
            "                   [--duration SECONDS]\n"
            "  ADDR is a loopback address (127.x.x.x or [::1]); PORT 0 on --listen picks one.\n"
            "  SPEC: loss=2,maxdrop=3,delay=10ms,jitter=2ms,rate=100mbit,queue=256k,reorder=1,\n"
            "        reorderdelay=10ms,dup=1,corrupt=2,blackhole=2s+2s,rebind=5s,rebindaddr=6s,\n"
            "        mtu=1500,limit=1024,seed=42   (docs/internals/simulator.md)\n");
}

/* "127.0.0.1:443" or "[::1]:443" into a loopback socket address. Returns 0 or
 * -1 with a reason in err. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
                      size_t err_len)
{
    char host[64];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host) {
            snprintf(err, err_len, "'%s': want [IPv6]:PORT", s);
            return -1;
        }
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host) {
            snprintf(err, err_len, "'%s': want ADDR:PORT", s);
            return -1;
        }
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port > 65535) {
        snprintf(err, err_len, "'%s': bad port", s);
        return -1;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) {
            snprintf(err, err_len,
                     "'%s': not a loopback address (only 127.0.0.0/8 and ::1: "
                     "network tests never leave the machine)",
                     s);
            return -1;
        }
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
            snprintf(err, err_len,
                     "'%s': not a loopback address (only 127.0.0.0/8 and ::1: "
                     "network tests never leave the machine)",
                     s);
            return -1;
        }
        return 0;
    }
    snprintf(err, err_len, "'%s': not a numeric IPv4 or IPv6 address", s);
    return -1;
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, ntohs(v4->sin_port));
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, ntohs(v6->sin6_port));
    }
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

/*
 * A non-blocking socket connected to the server, bound to loopback: for
 * IPv4, 127.0.0.(1 + moves) after `moves` address rebinds (the whole
 * 127.0.0.0/8 is local on Linux). Returns the fd or -1.
 */
static int upstream_socket(const relay *r, uint32_t moves)
{
    int fd = socket(r->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    socklen_t len;
    if (r->server.ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&local;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(0x7f000001u + moves % 254u);
        len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&local;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        len = sizeof *v6;
    }
    if (bind(fd, (struct sockaddr *)&local, len) < 0 ||
        connect(fd, (const struct sockaddr *)&r->server, r->server_len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint64_t client_tag(const relay *r, const client *c)
{
    return (uint64_t)c->incarnation << 32 | (uint64_t)(c - r->clients);
}

static client *client_by_tag(relay *r, uint64_t tag)
{
    uint32_t index = (uint32_t)tag;
    if (index >= MAX_CLIENTS) return NULL;
    client *c = &r->clients[index];
    return c->used && c->incarnation == (uint32_t)(tag >> 32) ? c : NULL;
}

static void client_drop(client *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->used = false;
}

/* The client for a source address, made on first sight; the least recently
 * active one is evicted when the table is full. NULL when no socket can be made. */
static client *client_for(relay *r, const struct sockaddr_storage *from, socklen_t from_len,
                          skiff_time now)
{
    client *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        client *c = &r->clients[i];
        if (!c->used) {
            if (!free_slot) free_slot = c;
            continue;
        }
        if (same_addr(&c->addr, from)) {
            c->last_active = now;
            return c;
        }
        if (!oldest || c->last_active < oldest->last_active) oldest = c;
    }
    if (!free_slot) {
        client_drop(oldest);
        r->evictions++;
        free_slot = oldest;
    }
    /* A new client starts on the current generation: rebinds before it came do not apply. */
    uint32_t gen = skiff_impair_generation(&r->up, now);
    int fd = upstream_socket(r, skiff_impair_address_rebinds(&r->up, gen));
    if (fd < 0) return NULL;
    client *c = free_slot;
    c->used = true;
    c->addr = *from;
    c->addr_len = from_len;
    c->fd = fd;
    c->generation = gen;
    c->incarnation = ++r->incarnations;
    c->last_active = now;
    r->client_count++;
    return c;
}

/* Forwards every due datagram of both directions. */
static void deliver_due(relay *r, skiff_time now)
{
    skiff_impair_meta meta;
    skiff_ssize n;
    while ((n = skiff_impair_poll_meta(&r->up, now, r->buf, sizeof r->buf, &meta)) > 0) {
        client *c = client_by_tag(r, meta.tag);
        if (!c) continue; /* evicted while its datagram was in flight */
        if (meta.generation > c->generation) {
            int fd = upstream_socket(r, skiff_impair_address_rebinds(&r->up, meta.generation));
            if (fd >= 0) {
                close(c->fd);
                c->fd = fd;
                r->rebinds++;
            } else {
                r->rebind_failures++;
            }
            c->generation = meta.generation;
        }
        if (send(c->fd, r->buf, (size_t)n, 0) < 0) r->send_errors++;
    }
    while ((n = skiff_impair_poll_meta(&r->down, now, r->buf, sizeof r->buf, &meta)) > 0) {
        client *c = client_by_tag(r, meta.tag);
        if (!c) continue;
        if (sendto(r->listen_fd, r->buf, (size_t)n, 0, (struct sockaddr *)&c->addr, c->addr_len) <
            0)
            r->send_errors++;
    }
}

static void read_clients(relay *r)
{
    for (int i = 0; i < READ_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n =
            recvfrom(r->listen_fd, r->buf, sizeof r->buf, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0) return; /* EAGAIN, or an ICMP error from a gone client */
        skiff_time now = monotonic_now();
        client *c = client_for(r, &from, from_len, now);
        if (!c) {
            r->send_errors++;
            continue;
        }
        skiff_impair_submit_tagged(&r->up, r->buf, (size_t)n, now, client_tag(r, c));
    }
}

static void read_server(relay *r, client *c)
{
    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = recv(c->fd, r->buf, sizeof r->buf, 0);
        if (n < 0) return; /* EAGAIN, or ECONNREFUSED when the server is not there */
        skiff_time now = monotonic_now();
        c->last_active = now;
        skiff_impair_submit_tagged(&r->down, r->buf, (size_t)n, now, client_tag(r, c));
    }
}

static void print_counters(const relay *r)
{
    char line[512];
    skiff_impair_stats_format(skiff_impair_stats_get(&r->up), line, sizeof line);
    fprintf(stderr, "relay: up: %s\n", line);
    skiff_impair_stats_format(skiff_impair_stats_get(&r->down), line, sizeof line);
    fprintf(stderr, "relay: down: %s\n", line);
    fprintf(stderr,
            "relay: clients=%llu evictions=%llu rebinds=%llu rebind_failures=%llu "
            "send_errors=%llu\n",
            (unsigned long long)r->client_count, (unsigned long long)r->evictions,
            (unsigned long long)r->rebinds, (unsigned long long)r->rebind_failures,
            (unsigned long long)r->send_errors);
}

static int run(relay *r, skiff_time deadline, const sigset_t *wait_mask)
{
    struct pollfd fds[1 + MAX_CLIENTS];
    client *owners[1 + MAX_CLIENTS];
    while (!stop_signal) {
        skiff_time now = monotonic_now();
        if (now >= deadline) break;
        deliver_due(r, now);

        skiff_time next = skiff_impair_next_delivery(&r->up);
        skiff_time d = skiff_impair_next_delivery(&r->down);
        if (d < next) next = d;
        if (deadline < next) next = deadline;
        struct timespec ts, *timeout = NULL;
        if (next != SKIFF_TIME_NEVER) {
            skiff_time wait = next > now ? next - now : 0;
            ts.tv_sec = (time_t)(wait / 1000000000u);
            ts.tv_nsec = (long)(wait % 1000000000u);
            timeout = &ts;
        }
        nfds_t n = 0;
        fds[n] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        owners[n++] = NULL;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (!r->clients[i].used) continue;
            fds[n] = (struct pollfd){.fd = r->clients[i].fd, .events = POLLIN};
            owners[n++] = &r->clients[i];
        }
        int ready = ppoll(fds, n, timeout, wait_mask);
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("relay: ppoll");
            return 1;
        }
        for (nfds_t i = 0; i < n && ready > 0; i++) {
            if (!fds[i].revents) continue;
            /* An eviction inside read_clients may have closed a later fd:
             * check the owner still holds it. */
            if (!owners[i])
                read_clients(r);
            else if (owners[i]->used && owners[i]->fd == fds[i].fd)
                read_server(r, owners[i]);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen_s = NULL, *server_s = NULL, *up_s = "", *down_s = "";
    double duration = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "skiff-relay: %s needs a value\n", a);
            usage();
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--listen"))
            listen_s = v;
        else if (!strcmp(a, "--server"))
            server_s = v;
        else if (!strcmp(a, "--up"))
            up_s = v;
        else if (!strcmp(a, "--down"))
            down_s = v;
        else if (!strcmp(a, "--duration")) {
            char *end;
            duration = strtod(v, &end);
            if (*end || !(duration > 0 && duration <= 86400)) {
                fprintf(stderr, "skiff-relay: --duration: want seconds in (0, 86400]\n");
                return 2;
            }
        } else {
            fprintf(stderr, "skiff-relay: unknown option %s\n", a);
            usage();
            return 2;
        }
    }
    if (!listen_s || !server_s) {
        fprintf(stderr, "skiff-relay: --listen and --server are required\n");
        usage();
        return 2;
    }

    static relay r; /* the datagram buffer is large: keep it off the stack */
    char err[256];
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    if (parse_addr(listen_s, &listen_addr, &listen_len, err, sizeof err) < 0 ||
        parse_addr(server_s, &r.server, &r.server_len, err, sizeof err) < 0) {
        fprintf(stderr, "skiff-relay: %s\n", err);
        return 2;
    }
    if (listen_addr.ss_family != r.server.ss_family) {
        fprintf(stderr, "skiff-relay: --listen and --server must be the same address family\n");
        return 2;
    }
    skiff_impair_config up, down;
    skiff_impair_config_default(&up);
    skiff_impair_config_default(&down);
    down.seed = 1; /* unless told otherwise, the two directions draw differently */
    if (skiff_impair_parse(&up, up_s, err, sizeof err) < 0) {
        fprintf(stderr, "skiff-relay: --up: %s\n", err);
        return 2;
    }
    if (skiff_impair_parse(&down, down_s, err, sizeof err) < 0) {
        fprintf(stderr, "skiff-relay: --down: %s\n", err);
        return 2;
    }
    if (down.rebind_count) {
        fprintf(stderr, "skiff-relay: --down: rebind applies to the client's side: use --up\n");
        return 2;
    }
    if (r.server.ss_family == AF_INET6) {
        for (size_t i = 0; i < up.rebind_count; i++)
            if (up.rebinds[i].address) {
                fprintf(stderr, "skiff-relay: --up: rebindaddr needs IPv4 (IPv6 loopback is "
                                "one address)\n");
                return 2;
            }
    }

    r.listen_fd = socket(listen_addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r.listen_fd < 0 || bind(r.listen_fd, (struct sockaddr *)&listen_addr, listen_len) < 0) {
        fprintf(stderr, "skiff-relay: listen on %s: %s\n", listen_s, strerror(errno));
        return 1;
    }
    socklen_t bound_len = sizeof listen_addr;
    getsockname(r.listen_fd, (struct sockaddr *)&listen_addr, &bound_len);
    for (int i = 0; i < MAX_CLIENTS; i++)
        r.clients[i].fd = -1;

    /* Signals are blocked except inside ppoll, so one cannot slip in between
     * the check of stop_signal and the wait. */
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    skiff_time start = monotonic_now();
    up.epoch = down.epoch = start;
    int rv = skiff_impair_init(&r.up, &up);
    if (rv == 0 && (rv = skiff_impair_init(&r.down, &down)) < 0) skiff_impair_free(&r.up);
    if (rv < 0) {
        fprintf(stderr, "skiff-relay: %s\n", skiff_strerror(rv));
        close(r.listen_fd);
        return 1;
    }
    skiff_time deadline = duration > 0 ? start + (skiff_time)(duration * 1e9) : SKIFF_TIME_NEVER;

    char where[80];
    format_addr(&listen_addr, where, sizeof where);
    fprintf(stderr, "relay: listening on %s\n", where);
    fflush(stderr);

    int status = run(&r, deadline, &wait_mask);
    print_counters(&r);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (r.clients[i].used) client_drop(&r.clients[i]);
    close(r.listen_fd);
    skiff_impair_free(&r.up);
    skiff_impair_free(&r.down);
    return status;
}
