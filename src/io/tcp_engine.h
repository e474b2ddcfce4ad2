/*
 * The TCP engine: drives a sans-I/O skiff_tcp_stack with a Linux TUN device,
 * the event loop and a timer. Each packet the device gives is handed to the
 * stack; after every event everything the stack wants to send is written to
 * the device and the timer is re-armed for the stack's deadline.
 */
#ifndef SKIFF_IO_TCP_ENGINE_H
#define SKIFF_IO_TCP_ENGINE_H

#include "io/loop.h"
#include "tcp/tcp.h"

typedef struct skiff_tcp_engine skiff_tcp_engine;

/* Opens the TUN device `tun` (NULL or "": the kernel names it), brings it up
 * and gives the kernel's side the addresses in peer_nets (CIDRs such as
 * "10.9.0.1/24", "fd00:9::1/64"); the stack answers for local_addrs
 * ("10.9.0.2", "fd00:9::2"). Returns 0 or a negative error. */
int skiff_tcp_engine_new(skiff_tcp_engine **out, const char *tun, const char *const *peer_nets,
                         size_t peer_net_count, const char *const *local_addrs, size_t local_count,
                         const skiff_tcp_config *cfg, const skiff_tcp_callbacks *cb, void *ud);
void skiff_tcp_engine_free(skiff_tcp_engine *e);

skiff_tcp_stack *skiff_tcp_engine_stack(skiff_tcp_engine *e);
skiff_loop *skiff_tcp_engine_loop(skiff_tcp_engine *e);
const char *skiff_tcp_engine_device(const skiff_tcp_engine *e);

/* Writes what the stack has to send and re-arms the timer (call after the
 * application used the stack outside a callback). */
void skiff_tcp_engine_flush(skiff_tcp_engine *e);

/* Runs the loop until skiff_tcp_engine_stop() or `until`. */
int skiff_tcp_engine_run(skiff_tcp_engine *e, skiff_time until);
void skiff_tcp_engine_stop(skiff_tcp_engine *e);

/* Seeded impairment between the device and the stack, both ways (for tests:
 * this kernel has no netem): "delay=2ms,jitter=3ms,reorder=5,dup=2,loss=1,seed=7"
 * (percentages; a reordered packet is held past the ones after it); add
 * dir=in (device to stack only) or dir=out (stack to device only).
 * Returns 0 or SKIFF_ERR_INVALID_ARGUMENT. */
int skiff_tcp_engine_set_impairment(skiff_tcp_engine *e, const char *spec);

/* Parses "10.9.0.2" or "fd00:9::2" into an address with port 0. Returns 0 or -1. */
int skiff_tcp_addr_parse(const char *text, skiff_tcp_addr *out);

#endif
