/*
 * The deterministic network simulator: two sans-I/O endpoints (a client and
 * a server) joined by two impairment models (impair.h), one per direction,
 * on a virtual clock. Nothing reads a real clock or touches a socket, so a
 * run is a pure function of the endpoints and the seeds: the same inputs
 * give the same statistics, byte for byte, on every run.
 *
 * The endpoints are reached through skiff_sim_endpoint_ops, the shape of any
 * sans-I/O endpoint (a QUIC connection, a TCP control block, or a test's toy
 * protocol): take a datagram, produce datagrams, tell when to wake up.
 */
#ifndef SKIFF_SIM_SIM_H
#define SKIFF_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair.h"
#include "skiff/skiff.h"

/* An address as an endpoint sees it: family 4 or 6, the address bytes (IPv4
 * in the first 4), and the port. family 0 means "unspecified". */
typedef struct skiff_sim_addr {
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
} skiff_sim_addr;

/* 127.0.0.x-style helper: an IPv4 address a.b.c.d and port. */
skiff_sim_addr skiff_sim_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);
bool skiff_sim_addr_equal(const skiff_sim_addr *a, const skiff_sim_addr *b);

/*
 * What the simulator needs from an endpoint. Each returns 0 or a negative
 * SKIFF_ERR_*, except:
 *   send           the length of one datagram written to out (and its
 *                  destination in *to; family 0 = "the peer"), or 0 when the
 *                  endpoint has nothing to send now.
 *   next_deadline  the time on_timeout wants to run, or SKIFF_TIME_NEVER.
 * A negative return from receive is the endpoint dropping a datagram (a
 * corrupted packet, say): counted, not fatal. From send or on_timeout it
 * stops the run with SKIFF_SIM_ERROR.
 */
typedef struct skiff_sim_endpoint_ops {
    int (*receive)(void *ep, const uint8_t *dgram, size_t len, const skiff_sim_addr *from,
                   skiff_time now);
    skiff_ssize (*send)(void *ep, uint8_t *out, size_t cap, skiff_sim_addr *to, skiff_time now);
    skiff_time (*next_deadline)(void *ep);
    int (*on_timeout)(void *ep, skiff_time now);
} skiff_sim_endpoint_ops;

enum { SKIFF_SIM_CLIENT = 0, SKIFF_SIM_SERVER = 1 };
/* Directions, named by sender: SKIFF_SIM_UP is client -> server. */
enum { SKIFF_SIM_UP = 0, SKIFF_SIM_DOWN = 1 };

typedef enum skiff_sim_stop {
    SKIFF_SIM_DONE,  /* done(ctx) returned true */
    SKIFF_SIM_UNTIL, /* virtual time reached `until` (the clock is left there) */
    SKIFF_SIM_IDLE,  /* nothing in flight and no deadline: nothing can happen */
    SKIFF_SIM_STEPS, /* the step bound was reached (an endpoint that spins) */
    SKIFF_SIM_ERROR, /* send or on_timeout failed: skiff_sim.error holds the code */
} skiff_sim_stop;

typedef struct skiff_sim_config {
    skiff_impair_config up;   /* client -> server; rebinds change the client's address */
    skiff_impair_config down; /* server -> client; rebinds change the server's address */
    skiff_sim_addr client_addr, server_addr;
    skiff_time start;          /* the virtual clock's first value; impair epochs count from it */
    uint64_t max_steps;        /* 0: SKIFF_SIM_DEFAULT_MAX_STEPS */
    size_t max_sends_per_step; /* 0: SKIFF_SIM_DEFAULT_MAX_SENDS */
} skiff_sim_config;

#define SKIFF_SIM_DEFAULT_MAX_STEPS 1000000u
#define SKIFF_SIM_DEFAULT_MAX_SENDS 4096u

typedef struct skiff_sim_dir_stats {
    uint64_t sent, sent_bytes; /* datagrams send() produced */
    uint64_t unroutable;       /* sent to an address that is no longer the peer's */
    uint64_t receive_errors;   /* receive() refused the datagram */
    uint64_t received;         /* handed to receive() */
} skiff_sim_dir_stats;

typedef struct skiff_sim {
    skiff_impair dir[2];
    const skiff_sim_endpoint_ops *ops[2];
    void *ep[2];
    skiff_sim_addr addr[2]; /* real addresses, before any rebinding */
    skiff_sim_dir_stats stats[2];
    skiff_time now;
    uint64_t steps, max_steps;
    size_t max_sends;
    int error;    /* the endpoint's error when a run stopped with SKIFF_SIM_ERROR */
    int error_ep; /* and which endpoint */
    uint8_t *buf; /* one datagram, the larger of the two mtus */
    size_t buf_len;
} skiff_sim;

/* A config with perfect links (skiff_impair_config_default both ways), the
 * client at 192.0.2.1:50000 and the server at 198.51.100.1:443, start at 1 s. */
void skiff_sim_config_default(skiff_sim_config *cfg);

/* Returns 0, SKIFF_ERR_INVALID_ARGUMENT or SKIFF_ERR_NOMEM. */
int skiff_sim_init(skiff_sim *sim, const skiff_sim_config *cfg,
                   const skiff_sim_endpoint_ops *client_ops, void *client,
                   const skiff_sim_endpoint_ops *server_ops, void *server);
void skiff_sim_free(skiff_sim *sim);

/*
 * Runs until done(ctx) (may be NULL), virtual time `until`, idleness, the
 * step bound or an endpoint error, and says which. May be called again to go
 * on. One step: deliver every due datagram, fire due timeouts, let each
 * endpoint send until it returns 0, then move the clock to the earliest
 * delivery or deadline.
 */
skiff_sim_stop skiff_sim_run(skiff_sim *sim, skiff_time until, bool (*done)(void *ctx), void *ctx);

/* The address `side` appears to have to its peer at `now` after NAT rebinding
 * (the real address when there was none). */
skiff_sim_addr skiff_sim_apparent_addr(const skiff_sim *sim, int side, skiff_time now);

static inline skiff_time skiff_sim_now(const skiff_sim *sim)
{
    return sim->now;
}

/* A name for a stop reason ("done", "until", ...). */
const char *skiff_sim_stop_name(skiff_sim_stop stop);

#endif
