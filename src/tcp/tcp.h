/*
 * TCP in userspace (RFC 9293), sans I/O. A skiff_tcp_stack owns the
 * connections of one host: it takes whole IP packets as they come off a TUN
 * device (skiff_tcp_stack_input) and gives back packets to send
 * (skiff_tcp_stack_output) and a deadline; it never reads a clock, opens a
 * socket or blocks. src/io/tcp_engine.c drives it with a real TUN device;
 * tests drive two stacks against each other, or one against raw segments.
 *
 *   stack  = listeners (by port) + connections (by 4-tuple) + pending RSTs
 *   conn   = the transmission control block: state, send and receive
 *            sequence variables (§3.3.1), buffers, timers, congestion state
 *
 * Files: tcp_stack.c (demultiplexing, listen, connect, RST for strangers),
 * tcp_input.c (§3.10.7 segment arrival, one switch on state), tcp_output.c
 * (what to send next), tcp_timers.c (RTO, persist, delayed ACK, TIME-WAIT,
 * keepalive), tcp_buffers.c (send and receive buffers, reassembly),
 * segment.c (the wire), isn.c, syncookie.c. Congestion control and RTT are
 * src/cc/, shared with QUIC.
 */
#ifndef SKIFF_TCP_TCP_H
#define SKIFF_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"
#include "tcp/segment.h"

typedef struct skiff_tcp_stack skiff_tcp_stack;
typedef struct skiff_tcp_conn skiff_tcp_conn;

/* RFC 9293 §3.3.2. */
typedef enum skiff_tcp_state {
    SKIFF_TCP_CLOSED,
    SKIFF_TCP_LISTEN,
    SKIFF_TCP_SYN_SENT,
    SKIFF_TCP_SYN_RECEIVED,
    SKIFF_TCP_ESTABLISHED,
    SKIFF_TCP_FIN_WAIT_1,
    SKIFF_TCP_FIN_WAIT_2,
    SKIFF_TCP_CLOSE_WAIT,
    SKIFF_TCP_CLOSING,
    SKIFF_TCP_LAST_ACK,
    SKIFF_TCP_TIME_WAIT,
} skiff_tcp_state;

/* "ESTABLISHED", "FIN-WAIT-1", ... as RFC 9293 writes them. */
const char *skiff_tcp_state_name(skiff_tcp_state s);

/* Why a connection ended. */
typedef enum skiff_tcp_end {
    SKIFF_TCP_END_NONE,
    SKIFF_TCP_END_CLOSED,    /* both FINs exchanged (after TIME-WAIT, or LAST-ACK acked) */
    SKIFF_TCP_END_REFUSED,   /* RST in answer to our SYN: connection refused */
    SKIFF_TCP_END_RESET,     /* the peer reset an established connection */
    SKIFF_TCP_END_TIMEOUT,   /* retransmissions or keepalives unanswered */
    SKIFF_TCP_END_ABORTED,   /* we reset it (skiff_tcp_abort) */
} skiff_tcp_end;

const char *skiff_tcp_end_name(skiff_tcp_end e);

typedef struct skiff_tcp_callbacks {
    /* Every state transition, in order (the seed's sequences). */
    void (*state)(skiff_tcp_conn *c, skiff_tcp_state from, skiff_tcp_state to, void *ud);
    /* A connection a listener accepted reached ESTABLISHED. */
    void (*accepted)(skiff_tcp_conn *c, void *ud);
    /* Data (or the peer's FIN) can be read. */
    void (*readable)(skiff_tcp_conn *c, void *ud);
    /* Send buffer space came free. */
    void (*writable)(skiff_tcp_conn *c, void *ud);
    /* The connection is over; after this call it is freed by the stack. */
    void (*ended)(skiff_tcp_conn *c, skiff_tcp_end why, void *ud);
    /* Unpredictable bytes (ISN and cookie keys): the core has no random source. */
    void (*random)(uint8_t *out, size_t len, void *ud);
} skiff_tcp_callbacks;

typedef struct skiff_tcp_config {
    uint16_t mss;              /* ours to advertise; default 1460 (MTU 1500, IPv4) */
    uint32_t recv_buffer;      /* bytes; default 4 MiB (window scale follows) */
    uint32_t send_buffer;      /* bytes; default 4 MiB */
    uint32_t ooo_max;          /* out-of-order bytes held; default recv_buffer */
    bool nagle;                /* default true (RFC 9293 §3.7.4) */
    bool sack;                 /* offer SACK-permitted (RFC 2018); default true */
    bool timestamps;           /* RFC 7323; default true */
    bool window_scale;         /* RFC 7323; default true */
    skiff_time msl;            /* TIME-WAIT lasts 2 * msl; default 30 s */
    skiff_time delayed_ack;    /* default 40 ms (RFC 9293 §3.8.6.3: under 500 ms) */
    bool keepalive;            /* default false */
    skiff_time keepalive_idle, keepalive_interval;
    unsigned keepalive_probes;
    unsigned syn_retries;      /* default 6 */
    unsigned data_retries;     /* default 15 (R2, RFC 9293 §3.8.3) */
    skiff_time min_rto;        /* default 200 ms (Linux's; RFC 6298 says 1 s) */
    const char *cc;            /* "newreno" (default) or "cubic" */
    size_t max_connections;    /* default 1024 */
    size_t syn_backlog;        /* half-open connections before SYN cookies; default 128 */
    unsigned challenge_acks_per_second; /* RFC 5961 §7; default 100 */
    /* Tests: a fixed initial sequence number instead of RFC 6528's. */
    bool fixed_isn;
    uint32_t isn;
} skiff_tcp_config;

void skiff_tcp_config_default(skiff_tcp_config *cfg);

/* Counters of what the stack dropped and why (never a crash, never silent). */
typedef struct skiff_tcp_stats {
    uint64_t segments_in, segments_out, retransmits, fast_retransmits, rto_expirations;
    uint64_t dropped_bad_ip, dropped_bad_checksum, dropped_bad_header, dropped_not_tcp;
    uint64_t dropped_out_of_window, dropped_no_connection, dropped_ooo_full;
    uint64_t rst_sent, rst_received, challenge_acks, syn_cookies_sent, syn_cookies_accepted;
    uint64_t zero_window_probes;
} skiff_tcp_stats;

/* The stack answers for these local addresses (IPv4 and/or IPv6). */
int skiff_tcp_stack_new(skiff_tcp_stack **out, const skiff_tcp_config *cfg,
                        const skiff_tcp_callbacks *cb, void *ud, skiff_time now);
void skiff_tcp_stack_free(skiff_tcp_stack *s);
int skiff_tcp_stack_add_address(skiff_tcp_stack *s, const skiff_tcp_addr *addr);

/* One IP packet from the device. Never fails: bad input is counted. */
void skiff_tcp_stack_input(skiff_tcp_stack *s, const uint8_t *packet, size_t len, skiff_time now);
/* The next packet to write to the device: its length, 0 when none now.
 * Not from inside a callback: connections that ended are freed here. */
size_t skiff_tcp_stack_output(skiff_tcp_stack *s, uint8_t *out, size_t cap, skiff_time now);
skiff_time skiff_tcp_stack_deadline(const skiff_tcp_stack *s);
void skiff_tcp_stack_on_timeout(skiff_tcp_stack *s, skiff_time now);
const skiff_tcp_stats *skiff_tcp_stack_stats(const skiff_tcp_stack *s);
size_t skiff_tcp_stack_connections(const skiff_tcp_stack *s);

/* Passive open on a local port (every local address). */
int skiff_tcp_listen(skiff_tcp_stack *s, uint16_t port);
/* Active open. local.port 0 picks an ephemeral port. */
int skiff_tcp_connect(skiff_tcp_stack *s, const skiff_tcp_addr *local, const skiff_tcp_addr *remote,
                      skiff_time now, skiff_tcp_conn **out);

/* Queues bytes to send; returns how many the send buffer took (maybe 0), or
 * SKIFF_ERR_CLOSED after shutdown or the connection's end. */
skiff_ssize skiff_tcp_send(skiff_tcp_conn *c, const uint8_t *data, size_t len, skiff_time now);
/* Reads in-order bytes; *eof once the peer's FIN is reached (RFC 9293
 * §3.10.3: half-close, sending may go on). */
skiff_ssize skiff_tcp_recv(skiff_tcp_conn *c, uint8_t *out, size_t cap, bool *eof, skiff_time now);
/* No more to send: FIN after the queued bytes (§3.10.4 CLOSE). */
int skiff_tcp_shutdown(skiff_tcp_conn *c, skiff_time now);
/* RST now (§3.10.5 ABORT). */
int skiff_tcp_abort(skiff_tcp_conn *c, skiff_time now);

skiff_tcp_state skiff_tcp_conn_state(const skiff_tcp_conn *c);
const skiff_tcp_addr *skiff_tcp_conn_local(const skiff_tcp_conn *c);
const skiff_tcp_addr *skiff_tcp_conn_remote(const skiff_tcp_conn *c);
void skiff_tcp_conn_set_user_data(skiff_tcp_conn *c, void *ud);
void *skiff_tcp_conn_user_data(const skiff_tcp_conn *c);
/* Bytes the send buffer can take now. */
size_t skiff_tcp_conn_writable(const skiff_tcp_conn *c);
/* Nagle on or off for this connection (TCP_NODELAY is off). */
void skiff_tcp_conn_set_nagle(skiff_tcp_conn *c, bool on);
/* The initial send and receive sequence numbers (for tests and -v). */
uint32_t skiff_tcp_conn_iss(const skiff_tcp_conn *c);
uint32_t skiff_tcp_conn_irs(const skiff_tcp_conn *c);

#endif
