/*
 * The impairment model: one direction of a network path, as a pure,
 * sans-I/O object on a caller-given clock. Datagrams go in with
 * skiff_impair_submit() and come out with skiff_impair_poll() once their
 * delivery time has come, after loss, blackholes, a rate-limited bottleneck
 * with a bounded queue, delay and jitter, reordering, duplication and
 * corruption. NAT rebinding events are exposed as a generation counter that
 * the driver (the simulator or skiff-relay) turns into a new source port or
 * address.
 *
 * The deterministic simulator (sim.h) runs two of these on a virtual clock;
 * skiff-relay runs two on the real monotonic clock between UDP sockets. The
 * kernel here has no netem qdisc, so this is skiff's own.
 *
 * Memory is fixed at init: `limit` slots of `mtu` bytes and a heap of the
 * same length. Nothing is allocated per datagram.
 */
#ifndef SKIFF_SIM_IMPAIR_H
#define SKIFF_SIM_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prng.h"
#include "skiff/skiff.h"

#define SKIFF_IMPAIR_MAX_BLACKHOLES 8
#define SKIFF_IMPAIR_MAX_REBINDS 8
#define SKIFF_IMPAIR_CORRUPT_SPAN 50 /* corruption hits one of the first 50 bytes */

#define SKIFF_IMPAIR_DEFAULT_MTU 1500    /* largest datagram held, bytes */
#define SKIFF_IMPAIR_DEFAULT_LIMIT 1024  /* datagrams held at once */
#define SKIFF_IMPAIR_DEFAULT_QUEUE 65536 /* bottleneck queue when rate is set */
#define SKIFF_IMPAIR_DEFAULT_REORDER_DELAY SKIFF_MS(10)
#define SKIFF_IMPAIR_MAX_MTU 65535
#define SKIFF_IMPAIR_MAX_LIMIT 65536
#define SKIFF_IMPAIR_MAX_QUEUE ((size_t)1 << 30)

/* A half-open span of time [start, end), relative to the config's epoch. */
typedef struct skiff_impair_period {
    skiff_time start;
    skiff_time end;
} skiff_impair_period;

/* A NAT rebinding: from `at` on, the source port (and, if `address`, the
 * source address too) of this direction changes. */
typedef struct skiff_impair_rebind {
    skiff_time at;
    bool address;
} skiff_impair_rebind;

/*
 * Probabilities are in parts per million (1% = 10000), so that "loss=0.5"
 * needs no floating point. A zeroed config (then skiff_impair_config_default)
 * is a perfect link.
 */
typedef struct skiff_impair_config {
    uint64_t seed;
    skiff_time epoch; /* blackhole and rebind times count from here */
    uint32_t loss_ppm;
    uint32_t max_drops;   /* cap on consecutive random losses; 0 = no cap */
    skiff_time delay;     /* fixed one-way delay */
    skiff_time jitter;    /* extra delay uniform in [0, jitter]; keeps order */
    uint64_t rate_bps;    /* bottleneck rate in bits/s; 0 = unlimited */
    size_t queue_bytes;   /* bottleneck queue (tail drop when full) */
    uint32_t reorder_ppm; /* datagrams held back by reorder_delay */
    skiff_time reorder_delay;
    uint32_t dup_ppm;
    uint32_t corrupt_ppm;
    size_t mtu;   /* larger datagrams are dropped (dropped_limit) */
    size_t limit; /* datagrams held at once (the memory cap) */
    skiff_impair_period blackholes[SKIFF_IMPAIR_MAX_BLACKHOLES];
    size_t blackhole_count;
    skiff_impair_rebind rebinds[SKIFF_IMPAIR_MAX_REBINDS]; /* ascending `at` */
    size_t rebind_count;
} skiff_impair_config;

typedef struct skiff_impair_stats {
    uint64_t submitted, submitted_bytes;
    uint64_t delivered, delivered_bytes;
    uint64_t dropped_loss;      /* random loss */
    uint64_t dropped_queue;     /* tail drop at the bottleneck queue */
    uint64_t dropped_blackhole; /* inside a blackhole period */
    uint64_t dropped_limit;     /* empty, over mtu, or no slot left (the memory cap) */
    uint64_t duplicated, corrupted, reordered;
    uint64_t held_max;       /* most datagrams held at once */
    uint64_t held_bytes_max; /* most bytes held at once */
} skiff_impair_stats;

/* What the driver learns about a datagram besides its bytes. */
typedef struct skiff_impair_meta {
    uint64_t tag;        /* the caller's tag from skiff_impair_submit_tagged */
    uint32_t generation; /* rebinding generation when it was submitted */
    skiff_time sent;     /* when it was submitted */
} skiff_impair_meta;

/* One held datagram: a heap entry ordered by (deliver, seq). */
typedef struct skiff_impair_entry {
    skiff_time deliver;
    uint64_t seq; /* submission order, so equal times stay FIFO */
    skiff_impair_meta meta;
    uint32_t slot;
    uint32_t len;
} skiff_impair_entry;

typedef struct skiff_impair {
    skiff_impair_config cfg;
    /* Separate streams per decision, so that e.g. the loss pattern for a seed
     * is the same whatever the other knobs and the timing are. */
    skiff_prng loss_rng, jitter_rng, reorder_rng, dup_rng, corrupt_rng;
    uint32_t consecutive_drops;
    skiff_time link_free_at; /* when the bottleneck finishes its backlog */
    skiff_time fifo_floor;   /* latest in-order delivery time (jitter keeps order) */
    uint64_t next_seq;
    skiff_impair_entry *heap;
    size_t heap_len;
    uint8_t *slots; /* limit * mtu bytes */
    uint32_t *free_slots;
    size_t free_count;
    size_t held_bytes;
    skiff_impair_stats stats;
} skiff_impair;

/* A perfect link with the defaults above (mtu, limit, queue, reorder delay). */
void skiff_impair_config_default(skiff_impair_config *cfg);

/*
 * Parses a compact spec ("loss=2,delay=10ms,rate=100mbit,seed=42"; grammar in
 * docs/internals/simulator.md) on top of what *cfg already holds. Returns 0,
 * or SKIFF_ERR_INVALID_ARGUMENT with a one-line reason in err (if err_len > 0).
 */
int skiff_impair_parse(skiff_impair_config *cfg, const char *spec, char *err, size_t err_len);

/* Checks a config's ranges. Returns 0 or SKIFF_ERR_INVALID_ARGUMENT. */
int skiff_impair_config_check(const skiff_impair_config *cfg);

/* Allocates the slots. Returns 0, SKIFF_ERR_INVALID_ARGUMENT or SKIFF_ERR_NOMEM
 * (nothing to free then). */
int skiff_impair_init(skiff_impair *imp, const skiff_impair_config *cfg);
void skiff_impair_free(skiff_impair *imp);

/*
 * Hands a datagram to the path at time `now`; the bytes are copied. Returns 0
 * whether it was queued or dropped (the counters say which: a network drops
 * silently), or SKIFF_ERR_INVALID_ARGUMENT for a NULL datagram with len > 0.
 * An empty datagram is dropped (dropped_limit), so that poll's 0 can mean
 * "nothing due".
 */
int skiff_impair_submit(skiff_impair *imp, const uint8_t *dgram, size_t len, skiff_time now);
int skiff_impair_submit_tagged(skiff_impair *imp, const uint8_t *dgram, size_t len, skiff_time now,
                               uint64_t tag);

/* The delivery time of the next datagram, or SKIFF_TIME_NEVER if none is held. */
skiff_time skiff_impair_next_delivery(const skiff_impair *imp);

/*
 * Takes the next datagram whose delivery time is <= now into out. Returns its
 * length, 0 when none is due yet (empty datagrams are never held, see
 * submit), or SKIFF_ERR_BUFFER_TOO_SMALL when it does not fit cap (it stays
 * held). skiff_impair_poll_meta also fills *meta (may be NULL).
 */
skiff_ssize skiff_impair_poll(skiff_impair *imp, skiff_time now, uint8_t *out, size_t cap);
skiff_ssize skiff_impair_poll_meta(skiff_impair *imp, skiff_time now, uint8_t *out, size_t cap,
                                   skiff_impair_meta *meta);

/* How many rebinding events have happened by `now`. */
uint32_t skiff_impair_generation(const skiff_impair *imp, skiff_time now);

/* How many of the first `generation` rebinding events changed the address. */
uint32_t skiff_impair_address_rebinds(const skiff_impair *imp, uint32_t generation);

static inline const skiff_impair_stats *skiff_impair_stats_get(const skiff_impair *imp)
{
    return &imp->stats;
}

/* The counters as one line "submitted=N delivered=N ...", for tools and logs.
 * Returns what snprintf returns. */
int skiff_impair_stats_format(const skiff_impair_stats *st, char *out, size_t cap);

#endif
