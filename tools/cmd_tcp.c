/*
 * `skiff tcp listen|connect`: skiff's own TCP (src/tcp) over a TUN device,
 * bridging stdin and stdout like nc. It creates the device, gives the
 * kernel's side --peer-net (the kernel is the peer), answers as --addr, and
 * with -v prints every state transition on stderr ("skiff tcp: ESTABLISHED
 * -> FIN-WAIT-1"). stdin's end sends FIN (a half-close: reading goes on);
 * the process exits when the connection has ended, 0 for an orderly close.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io/tcp_engine.h"
#include "tool.h"

typedef struct tcp_ctx {
    skiff_tcp_engine *engine;
    skiff_tcp_conn *conn;
    bool verbose, listening, stdin_open, stdin_registered, done;
    bool close_after_peer, peer_eof;
    skiff_tcp_end end;
    uint8_t inbuf[65536];
    size_t in_off, in_len; /* read from stdin, not yet taken by TCP */
    uint8_t outbuf[65536];
    size_t out_off, out_len; /* taken from TCP, not yet written to stdout */
    bool stdout_registered;
    uint64_t sent, received;
} tcp_ctx;

static const char tcp_usage[] =
    "usage: skiff tcp listen [--tun DEV] [--addr ADDR] [--peer-net CIDR] [-v] [options] PORT\n"
    "       skiff tcp connect [--tun DEV] [--addr ADDR] [--peer-net CIDR] [-v] [options] HOST PORT\n"
    "Userspace TCP over a TUN device, bridging stdin and stdout like nc. The kernel is\n"
    "the peer: --peer-net gives its side of the device an address (default 10.9.0.1/24;\n"
    "repeat for IPv6, e.g. fd00:9::1/64); skiff answers as --addr (default 10.9.0.2;\n"
    "repeatable). Needs root (CAP_NET_ADMIN).\n"
    "  -v               print each state transition on stderr\n"
    "  --msl DUR        maximum segment lifetime; TIME-WAIT lasts 2 MSL (default 30s)\n"
    "  --no-nagle       send small segments at once (TCP_NODELAY)\n"
    "  --close-after-peer  send our FIN only after the peer's (a passive close)\n"
    "  --isn N          the initial sequence number (tests; default RFC 6528)\n"
    "  --cc NAME        newreno (default) or cubic\n"
    "  --buffer BYTES   send and receive buffer size (default 4 MiB)\n"
    "  --keepalive DUR  probe an idle connection after DUR (off by default)\n"
    "  --impair SPEC    seeded impairment between device and stack, both ways (tests):\n"
    "                   delay=2ms,jitter=3ms,reorder=5,dup=2,loss=1,seed=7[,dir=in|out]\n";

static void on_state(skiff_tcp_conn *c, skiff_tcp_state from, skiff_tcp_state to, void *ud)
{
    tcp_ctx *ctx = ud;
    if (!ctx->verbose) return;
    fprintf(stderr, "skiff tcp: %s -> %s\n", skiff_tcp_state_name(from), skiff_tcp_state_name(to));
    if (to == SKIFF_TCP_ESTABLISHED)
        fprintf(stderr, "skiff tcp: iss %u irs %u\n", skiff_tcp_conn_iss(c), skiff_tcp_conn_irs(c));
}

static void pump_stdin(tcp_ctx *ctx);

static void on_accepted(skiff_tcp_conn *c, void *ud)
{
    tcp_ctx *ctx = ud;
    if (ctx->conn) { /* like nc -l: one connection */
        skiff_tcp_abort(c, skiff_clock_now());
        return;
    }
    ctx->conn = c;
    if (ctx->verbose) {
        const skiff_tcp_addr *r = skiff_tcp_conn_remote(c);
        char ip[64];
        tool_format_ip(r->family, r->ip, ip, sizeof ip);
        fprintf(stderr, "skiff tcp: connection from %s port %u\n", ip, r->port);
    }
}

static void on_stdout(skiff_loop *loop, int fd, uint32_t events, void *ud);

/* Moves received bytes to stdout as fast as stdout takes them, and no
 * faster: a slow reader leaves them in TCP's buffer, whose window then
 * closes, and the peer waits (zero-window probes). `block` (at the end)
 * writes everything left. */
static void drain_to_stdout(tcp_ctx *ctx, skiff_tcp_conn *c, bool block)
{
    for (int guard = 0; guard < 100000; guard++) {
        while (ctx->out_off < ctx->out_len) {
            ssize_t w = write(STDOUT_FILENO, ctx->outbuf + ctx->out_off, ctx->out_len - ctx->out_off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN && block) {
                fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) & ~O_NONBLOCK);
                continue;
            }
            if (w < 0 && errno == EAGAIN) {
                if (!ctx->stdout_registered &&
                    skiff_loop_add_fd(skiff_tcp_engine_loop(ctx->engine), STDOUT_FILENO, EPOLLOUT, on_stdout, ctx) == 0)
                    ctx->stdout_registered = true;
                return;
            }
            if (w <= 0) {
                if (c) skiff_tcp_abort(c, skiff_clock_now());
                return;
            }
            ctx->out_off += (size_t)w;
        }
        ctx->out_off = ctx->out_len = 0;
        if (!c) return;
        bool eof = false;
        skiff_ssize n = skiff_tcp_recv(c, ctx->outbuf, sizeof ctx->outbuf, &eof, skiff_clock_now());
        if (n > 0) {
            ctx->out_len = (size_t)n;
            ctx->received += (uint64_t)n;
        }
        if (eof && !ctx->peer_eof) {
            ctx->peer_eof = true;
            if (ctx->close_after_peer) pump_stdin(ctx); /* our FIN may go now */
        }
        if (n <= 0) break;
    }
    if (ctx->stdout_registered && ctx->out_off == ctx->out_len) {
        skiff_loop_del_fd(skiff_tcp_engine_loop(ctx->engine), STDOUT_FILENO);
        ctx->stdout_registered = false;
    }
}

static void on_stdout(skiff_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop, (void)fd, (void)events;
    tcp_ctx *ctx = ud;
    drain_to_stdout(ctx, ctx->conn, false);
    skiff_tcp_engine_flush(ctx->engine); /* a window update may be due */
}

static void on_readable(skiff_tcp_conn *c, void *ud)
{
    tcp_ctx *ctx = ud;
    if (c == ctx->conn && ctx->out_off == ctx->out_len) drain_to_stdout(ctx, c, false);
}

static void on_writable(skiff_tcp_conn *c, void *ud)
{
    tcp_ctx *ctx = ud;
    if (c == ctx->conn) pump_stdin(ctx);
}

static void on_ended(skiff_tcp_conn *c, skiff_tcp_end why, void *ud)
{
    tcp_ctx *ctx = ud;
    if (c != ctx->conn) return;
    /* What the peer sent and we have not written yet goes out before the end. */
    drain_to_stdout(ctx, c, true);
    ctx->end = why;
    ctx->done = true;
    ctx->conn = NULL;
    skiff_tcp_engine_stop(ctx->engine);
}

static void tool_random_cb(uint8_t *out, size_t len, void *ud)
{
    (void)ud;
    tool_random(out, len);
}

/* Moves stdin into the send buffer as far as it takes; at stdin's end, FIN. */
static void pump_stdin(tcp_ctx *ctx)
{
    skiff_tcp_conn *c = ctx->conn;
    if (!c) return;
    skiff_tcp_state st = skiff_tcp_conn_state(c);
    if (st != SKIFF_TCP_ESTABLISHED && st != SKIFF_TCP_CLOSE_WAIT) return;
    for (int guard = 0; guard < 4096; guard++) {
        if (ctx->in_off < ctx->in_len) {
            skiff_ssize n = skiff_tcp_send(c, ctx->inbuf + ctx->in_off, ctx->in_len - ctx->in_off, skiff_clock_now());
            if (n <= 0) break; /* full: on_writable resumes */
            ctx->in_off += (size_t)n;
            ctx->sent += (uint64_t)n;
            continue;
        }
        if (!ctx->stdin_open) {
            /* With --close-after-peer the peer closes first (passive close). */
            if (!ctx->close_after_peer || ctx->peer_eof) skiff_tcp_shutdown(c, skiff_clock_now());
            break;
        }
        ssize_t r = read(STDIN_FILENO, ctx->inbuf, sizeof ctx->inbuf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) {
            ctx->stdin_open = false;
            continue;
        }
        ctx->in_off = 0;
        ctx->in_len = (size_t)r;
    }
}

static void on_stdin(skiff_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop, (void)fd, (void)events;
    tcp_ctx *ctx = ud;
    pump_stdin(ctx);
    skiff_tcp_engine_flush(ctx->engine);
    if ((!ctx->stdin_open || ctx->in_off < ctx->in_len) && ctx->stdin_registered) {
        /* Done with stdin, or waiting for room: stop polling it. */
        skiff_loop_del_fd(skiff_tcp_engine_loop(ctx->engine), STDIN_FILENO);
        ctx->stdin_registered = false;
    }
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int skiff_cmd_tcp(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tun", required_argument, 0, 't'},      {"addr", required_argument, 0, 'a'},
        {"peer-net", required_argument, 0, 'p'}, {"msl", required_argument, 0, 'm'},
        {"no-nagle", no_argument, 0, 'N'},       {"isn", required_argument, 0, 'I'},
        {"cc", required_argument, 0, 'c'},       {"help", no_argument, 0, 'h'},
        {"close-after-peer", no_argument, 0, 'P'}, {"buffer", required_argument, 0, 'B'},
        {"impair", required_argument, 0, 'M'}, {"keepalive", required_argument, 0, 'K'},
        {0, 0, 0, 0}};
    if (argc < 2 || (strcmp(argv[1], "listen") && strcmp(argv[1], "connect"))) {
        fputs(tcp_usage, argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    tcp_ctx ctx = {.listening = !strcmp(argv[1], "listen"), .stdin_open = true};
    const char *tun = NULL, *peer_nets[4], *addrs[4], *impair = NULL;
    size_t peer_count = 0, addr_count = 0;
    skiff_tcp_config cfg;
    skiff_tcp_config_default(&cfg);
    int opt;
    char *end;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 't': tun = optarg; break;
        case 'a':
            if (addr_count == 4) return tool_fail("at most 4 --addr");
            addrs[addr_count++] = optarg;
            break;
        case 'p':
            if (peer_count == 4) return tool_fail("at most 4 --peer-net");
            peer_nets[peer_count++] = optarg;
            break;
        case 'm':
            if (tool_parse_duration(optarg, &cfg.msl)) return tool_fail("bad --msl '%s'", optarg);
            break;
        case 'N': cfg.nagle = false; break;
        case 'I':
            cfg.fixed_isn = true;
            cfg.isn = (uint32_t)strtoul(optarg, &end, 0);
            if (*end) return tool_fail("bad --isn '%s'", optarg);
            break;
        case 'c': cfg.cc = optarg; break;
        case 'P': ctx.close_after_peer = true; break;
        case 'B': {
            unsigned long b = strtoul(optarg, &end, 10);
            if (*end || b < 4096 || b > (1ul << 30)) return tool_fail("bad --buffer '%s'", optarg);
            cfg.send_buffer = cfg.recv_buffer = (uint32_t)b;
            break;
        }
        case 'M': impair = optarg; break;
        case 'K':
            if (tool_parse_duration(optarg, &cfg.keepalive_idle) || !cfg.keepalive_idle)
                return tool_fail("bad --keepalive '%s'", optarg);
            cfg.keepalive = true;
            break;
        case 'v': ctx.verbose = true; break;
        case 'h': fputs(tcp_usage, stdout); return 0;
        default: fputs(tcp_usage, stderr); return 2;
        }
    }
    int want = ctx.listening ? 1 : 2;
    if (argc - optind != want) {
        fputs(tcp_usage, stderr);
        return 2;
    }
    unsigned long port = strtoul(argv[argc - 1], &end, 10);
    if (*end || port == 0 || port > 65535) return tool_fail("bad port '%s'", argv[argc - 1]);
    if (!peer_count) peer_nets[peer_count++] = "10.9.0.1/24";
    if (!addr_count) addrs[addr_count++] = "10.9.0.2";

    static const skiff_tcp_callbacks cb = {.state = on_state, .accepted = on_accepted,
                                           .readable = on_readable, .writable = on_writable,
                                           .ended = on_ended, .random = tool_random_cb};
    int rv = skiff_tcp_engine_new(&ctx.engine, tun, peer_nets, peer_count, addrs, addr_count, &cfg, &cb, &ctx);
    if (rv) return tool_fail("TUN device: %s", tool_error_text(rv));
    skiff_tcp_stack *stack = skiff_tcp_engine_stack(ctx.engine);
    if (impair && skiff_tcp_engine_set_impairment(ctx.engine, impair)) {
        skiff_tcp_engine_free(ctx.engine);
        return tool_fail("bad --impair '%s'", impair);
    }
    if (ctx.verbose) fprintf(stderr, "skiff tcp: device %s up\n", skiff_tcp_engine_device(ctx.engine));
    if (ctx.listening) {
        skiff_tcp_listen(stack, (uint16_t)port);
        if (ctx.verbose) fprintf(stderr, "skiff tcp: listening on port %lu\n", port);
    } else {
        skiff_tcp_addr remote, local;
        if (skiff_tcp_addr_parse(argv[optind], &remote)) {
            skiff_tcp_engine_free(ctx.engine);
            return tool_fail("bad host '%s': want an IPv4 or IPv6 address", argv[optind]);
        }
        remote.port = (uint16_t)port;
        size_t i = 0;
        while (i < addr_count && (skiff_tcp_addr_parse(addrs[i], &local) || local.family != remote.family)) i++;
        if (i == addr_count) {
            skiff_tcp_engine_free(ctx.engine);
            return tool_fail("no --addr of %s's family", argv[optind]);
        }
        rv = skiff_tcp_connect(stack, &local, &remote, skiff_clock_now(), &ctx.conn);
        if (rv) {
            skiff_tcp_engine_free(ctx.engine);
            return tool_fail("connect: %s", tool_error_text(rv));
        }
    }
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    int stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
    fcntl(STDOUT_FILENO, F_SETFL, stdout_flags | O_NONBLOCK);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    skiff_loop *loop = skiff_tcp_engine_loop(ctx.engine);
    while (!ctx.done && !interrupted) {
        /* stdin is polled only while the connection can take its bytes. */
        bool want_stdin = ctx.conn && ctx.stdin_open && ctx.in_off == ctx.in_len &&
                          (skiff_tcp_conn_state(ctx.conn) == SKIFF_TCP_ESTABLISHED ||
                           skiff_tcp_conn_state(ctx.conn) == SKIFF_TCP_CLOSE_WAIT);
        if (want_stdin && !ctx.stdin_registered) {
            if (skiff_loop_add_fd(loop, STDIN_FILENO, EPOLLIN, on_stdin, &ctx) == 0) ctx.stdin_registered = true;
            else pump_stdin(&ctx); /* a regular file: epoll refuses it, read it directly */
        }
        if (ctx.conn && ctx.in_off < ctx.in_len) pump_stdin(&ctx);
        skiff_tcp_engine_run(ctx.engine, skiff_clock_now() + SKIFF_MS(50));
    }
    if (ctx.stdin_registered) skiff_loop_del_fd(loop, STDIN_FILENO);
    if (ctx.stdout_registered) skiff_loop_del_fd(loop, STDOUT_FILENO);
    drain_to_stdout(&ctx, NULL, true);
    fcntl(STDOUT_FILENO, F_SETFL, stdout_flags);
    int status = 0;
    if (interrupted && !ctx.done) status = 130;
    else if (ctx.end != SKIFF_TCP_END_CLOSED) status = tool_fail("%s", skiff_tcp_end_name(ctx.end));
    const skiff_tcp_stats *st = skiff_tcp_stack_stats(stack);
    if (ctx.verbose)
        fprintf(stderr,
                "skiff tcp: sent %llu bytes, received %llu; segments in %llu, out %llu, retransmits %llu, "
                "RTO expirations %llu, challenge acks %llu, zero-window probes %llu, dropped %llu\n",
                (unsigned long long)ctx.sent, (unsigned long long)ctx.received,
                (unsigned long long)st->segments_in, (unsigned long long)st->segments_out,
                (unsigned long long)st->retransmits, (unsigned long long)st->rto_expirations,
                (unsigned long long)st->challenge_acks,
                (unsigned long long)st->zero_window_probes,
                (unsigned long long)(st->dropped_bad_checksum + st->dropped_bad_header + st->dropped_bad_ip +
                                     st->dropped_out_of_window + st->dropped_ooo_full));
    skiff_tcp_engine_free(ctx.engine);
    return status;
}
