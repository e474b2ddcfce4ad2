/*
 * The deterministic simulator (sim.h): a discrete-event loop on a virtual
 * clock that carries datagrams between two sans-I/O endpoints through one
 * impairment model per direction.
 *
 * The clock only moves to the next thing that can happen: the earliest
 * delivery of either direction or the earliest endpoint deadline. Within one
 * instant the order is fixed (deliver up, deliver down, client timeout,
 * server timeout, client sends, server sends), which is what makes a run
 * reproducible. Every loop is bounded: steps by max_steps, sends per step by
 * max_sends, and virtual time by `until`.
 *
 * NAT rebinding (RFC 9000 §9.3 is what it exercises): a datagram carries the
 * rebinding generation of its direction at the time it was sent, and the
 * receiver sees the sender's address translated for that generation. A
 * datagram sent to a translation that is no longer current is dropped as
 * unroutable, as a NAT drops traffic to a mapping it has forgotten.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

skiff_sim_addr skiff_sim_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    skiff_sim_addr s = {.family = 4, .port = port};
    s.addr[0] = a;
    s.addr[1] = b;
    s.addr[2] = c;
    s.addr[3] = d;
    return s;
}

bool skiff_sim_addr_equal(const skiff_sim_addr *a, const skiff_sim_addr *b)
{
    size_t n = a->family == 4 ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

void skiff_sim_config_default(skiff_sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    skiff_impair_config_default(&cfg->up);
    skiff_impair_config_default(&cfg->down);
    /* Documentation prefixes (RFC 5737), far apart so that an address
     * rebind of one never lands on the other. */
    cfg->client_addr = skiff_sim_addr_v4(192, 0, 2, 1, 50000);
    cfg->server_addr = skiff_sim_addr_v4(198, 51, 100, 1, 443);
    cfg->start = SKIFF_MS(1000);
}

int skiff_sim_init(skiff_sim *sim, const skiff_sim_config *cfg,
                   const skiff_sim_endpoint_ops *client_ops, void *client,
                   const skiff_sim_endpoint_ops *server_ops, void *server)
{
    memset(sim, 0, sizeof *sim);
    if (!client_ops || !server_ops ||
        (cfg->client_addr.family != 4 && cfg->client_addr.family != 6) ||
        (cfg->server_addr.family != 4 && cfg->server_addr.family != 6))
        return SKIFF_ERR_INVALID_ARGUMENT;
    const skiff_impair_config *dcfg[2] = {&cfg->up, &cfg->down};
    for (int d = 0; d < 2; d++) {
        skiff_impair_config c = *dcfg[d];
        c.epoch += cfg->start;
        int rv = skiff_impair_init(&sim->dir[d], &c);
        if (rv < 0) {
            skiff_sim_free(sim);
            return rv;
        }
        if (c.mtu > sim->buf_len) sim->buf_len = c.mtu;
    }
    sim->buf = malloc(sim->buf_len);
    if (!sim->buf) {
        skiff_sim_free(sim);
        return SKIFF_ERR_NOMEM;
    }
    sim->ops[SKIFF_SIM_CLIENT] = client_ops;
    sim->ops[SKIFF_SIM_SERVER] = server_ops;
    sim->ep[SKIFF_SIM_CLIENT] = client;
    sim->ep[SKIFF_SIM_SERVER] = server;
    sim->addr[SKIFF_SIM_CLIENT] = cfg->client_addr;
    sim->addr[SKIFF_SIM_SERVER] = cfg->server_addr;
    sim->now = cfg->start;
    sim->max_steps = cfg->max_steps ? cfg->max_steps : SKIFF_SIM_DEFAULT_MAX_STEPS;
    sim->max_sends =
        cfg->max_sends_per_step ? cfg->max_sends_per_step : SKIFF_SIM_DEFAULT_MAX_SENDS;
    return 0;
}

void skiff_sim_free(skiff_sim *sim)
{
    skiff_impair_free(&sim->dir[0]);
    skiff_impair_free(&sim->dir[1]);
    free(sim->buf);
    sim->buf = NULL;
}

/* The address a side shows after `generation` rebinds of its sending
 * direction: a new port each time (base + 7 per generation, wrapping from
 * 65535 to 1024), and the last address byte bumped per address rebind. */
static skiff_sim_addr translate(const skiff_sim *sim, int side, uint32_t generation)
{
    skiff_sim_addr a = sim->addr[side];
    if (generation == 0) return a;
    uint32_t port = a.port + (generation * 7u) % 64512u;
    if (port > 0xffffu) port = port - 0x10000u + 1024u; /* wrap past the system range */
    a.port = (uint16_t)port;
    uint32_t moves = skiff_impair_address_rebinds(&sim->dir[side], generation);
    a.addr[a.family == 4 ? 3 : 15] += (uint8_t)moves;
    return a;
}

skiff_sim_addr skiff_sim_apparent_addr(const skiff_sim *sim, int side, skiff_time now)
{
    /* The client's rebinds live in the up direction, the server's in the down one. */
    return translate(sim, side, skiff_impair_generation(&sim->dir[side], now));
}

/* Hands every due datagram of direction d to the other side. */
static void deliver_due(skiff_sim *sim, int d)
{
    int to = 1 - d;
    for (;;) {
        skiff_impair_meta meta;
        skiff_ssize n =
            skiff_impair_poll_meta(&sim->dir[d], sim->now, sim->buf, sim->buf_len, &meta);
        if (n <= 0) return; /* the buffer holds the larger mtu, so never too small */
        skiff_sim_addr from = translate(sim, d, meta.generation);
        sim->stats[d].received++;
        if (sim->ops[to]->receive(sim->ep[to], sim->buf, (size_t)n, &from, sim->now) < 0)
            sim->stats[d].receive_errors++;
    }
}

/* Lets `side` send until it has nothing more or the per-step cap. Returns 1
 * when it hit the cap (it may have more at this instant), 0, or an error. */
static int drain_sends(skiff_sim *sim, int side)
{
    skiff_impair *path = &sim->dir[side];
    int peer = 1 - side;
    for (size_t i = 0; i < sim->max_sends; i++) {
        skiff_sim_addr to = {0};
        skiff_ssize n = sim->ops[side]->send(sim->ep[side], sim->buf, sim->buf_len, &to, sim->now);
        if (n < 0) return (int)n;
        if (n == 0) return 0;
        sim->stats[side].sent++;
        sim->stats[side].sent_bytes += (uint64_t)n;
        if (to.family) {
            skiff_sim_addr current = skiff_sim_apparent_addr(sim, peer, sim->now);
            if (!skiff_sim_addr_equal(&to, &current)) {
                sim->stats[side].unroutable++;
                continue;
            }
        }
        skiff_impair_submit(path, sim->buf, (size_t)n, sim->now);
    }
    return 1;
}

static skiff_time min_time(skiff_time a, skiff_time b)
{
    return a < b ? a : b;
}

skiff_sim_stop skiff_sim_run(skiff_sim *sim, skiff_time until, bool (*done)(void *ctx), void *ctx)
{
    for (;;) {
        if (done && done(ctx)) return SKIFF_SIM_DONE;
        if (sim->steps >= sim->max_steps) return SKIFF_SIM_STEPS;
        sim->steps++;

        deliver_due(sim, SKIFF_SIM_UP);
        deliver_due(sim, SKIFF_SIM_DOWN);
        for (int side = 0; side < 2; side++) {
            if (sim->ops[side]->next_deadline(sim->ep[side]) > sim->now) continue;
            int rv = sim->ops[side]->on_timeout(sim->ep[side], sim->now);
            if (rv < 0) {
                sim->error = rv;
                sim->error_ep = side;
                return SKIFF_SIM_ERROR;
            }
        }
        bool more = false;
        for (int side = 0; side < 2; side++) {
            int rv = drain_sends(sim, side);
            if (rv < 0) {
                sim->error = rv;
                sim->error_ep = side;
                return SKIFF_SIM_ERROR;
            }
            more |= rv == 1;
        }
        if (done && done(ctx)) return SKIFF_SIM_DONE;

        skiff_time next = min_time(skiff_impair_next_delivery(&sim->dir[0]),
                                   skiff_impair_next_delivery(&sim->dir[1]));
        next = min_time(next, sim->ops[0]->next_deadline(sim->ep[0]));
        next = min_time(next, sim->ops[1]->next_deadline(sim->ep[1]));
        if (more || next <= sim->now) continue; /* more at this instant */
        if (next == SKIFF_TIME_NEVER) return SKIFF_SIM_IDLE;
        if (next > until) {
            if (until > sim->now) sim->now = until;
            return SKIFF_SIM_UNTIL;
        }
        sim->now = next;
    }
}

const char *skiff_sim_stop_name(skiff_sim_stop stop)
{
    switch (stop) {
    case SKIFF_SIM_DONE:
        return "done";
    case SKIFF_SIM_UNTIL:
        return "until";
    case SKIFF_SIM_IDLE:
        return "idle";
    case SKIFF_SIM_STEPS:
        return "steps";
    case SKIFF_SIM_ERROR:
        return "error";
    }
    return "unknown";
}
