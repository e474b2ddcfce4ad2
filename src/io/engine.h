/*
 * The I/O engine: drives sans-I/O QUIC connections with real UDP sockets, a
 * clock and timers. One engine = one event loop + one UDP socket; a server
 * engine demultiplexes many connections by destination connection ID
 * (RFC 9000 §5.2), a client engine runs the connections it opened.
 *
 * Per received batch: route each datagram to its connection, let it process,
 * then flush what every touched connection wants to send (GSO batches of
 * equal-sized datagrams) and re-arm its timer for its deadline.
 */
#ifndef SKIFF_IO_ENGINE_H
#define SKIFF_IO_ENGINE_H

#include <stdbool.h>

#include "io/loop.h"
#include "io/udp.h"
#include "quic/connection.h"

typedef struct skiff_engine skiff_engine;

typedef struct skiff_engine_config {
    skiff_conn_config conn;            /* template for every connection */
    const skiff_conn_callbacks *callbacks;
    void *user_data;                   /* passed to callbacks (skiff_conn_user_data) */
    const char *keylog_file;           /* SSLKEYLOGFILE format; NULL: none */
    size_t max_connections;            /* server: refuse beyond (0: 10000) */
    bool require_retry;                /* server: validate every address with a Retry */
} skiff_engine_config;

/* Returns 0 or a negative error; *out is set on success. */
int skiff_engine_new(skiff_engine **out, const skiff_engine_config *cfg);
void skiff_engine_free(skiff_engine *e);

/* Server: bind `addr` ("127.0.0.1:4433", "[::1]:0") and accept connections. */
int skiff_engine_listen(skiff_engine *e, const char *addr);

/* The bound address (after listen or connect). */
const skiff_addr *skiff_engine_local_addr(const skiff_engine *e);

/* Client: open a connection to `addr`. */
int skiff_engine_connect(skiff_engine *e, const char *addr, skiff_conn **out);

/* Runs the loop until skiff_engine_stop() or `until` (SKIFF_TIME_NEVER). */
int skiff_engine_run(skiff_engine *e, skiff_time until);
void skiff_engine_stop(skiff_engine *e);

/* Sends what a connection has queued now (after the application wrote to it
 * from outside a callback) and re-arms its timer. */
void skiff_engine_kick(skiff_engine *e, skiff_conn *c);

skiff_loop *skiff_engine_loop(skiff_engine *e);
size_t skiff_engine_connection_count(const skiff_engine *e);
uint64_t skiff_engine_retries_sent(const skiff_engine *e);
uint64_t skiff_engine_resets_sent(const skiff_engine *e);

#endif
