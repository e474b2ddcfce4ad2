/*
 * The transmission control block (RFC 9293 §3.3.1) and the stack's state,
 * shared by the tcp_*.c files. Not for use outside src/tcp/.
 *
 * Sequence numbers on the wire are 32-bit and wrap; inside, every byte of
 * each direction also has a 64-bit *offset* from the start of its stream
 * (offset 0 is the first data byte, the one after the SYN), which never
 * wraps. Buffers, the SACK scoreboard and reassembly work in offsets; seq()
 * and off() convert at the edges, so wrap-around is handled in one place.
 *
 *   send:  [snd_una ............ snd_nxt ........ snd_max ...... sent_end)
 *           acked |  in flight / retransmittable   |  queued, unsent
 *   recv:  [read_off ..... rcv_nxt ..(holes + ooo ranges).. read_off + cap)
 *           unread in order  |  out of order, held in the same ring
 */
#ifndef SKIFF_TCP_INTERNAL_H
#define SKIFF_TCP_INTERNAL_H

#include "cc/cc.h"
#include "cc/rtt.h"
#include "common/range_set.h"
#include "tcp/seq.h"
#include "tcp/tcp.h"

/* One transmission of a range of send offsets, for loss detection, the SACK
 * scoreboard and RTT samples (Karn's rule: retransmitted ones give none). */
typedef struct tcp_sent {
    uint64_t start, end;
    skiff_time sent_time;
    bool retransmitted;
    bool sacked;
    bool lost; /* marked lost, not yet sent again */
} tcp_sent;

#define TCP_SENT_MAX 8192 /* transmissions tracked (allocated at the first send); new data waits beyond */

struct skiff_tcp_conn {
    skiff_tcp_stack *stack;
    skiff_tcp_conn *next, *prev;           /* all connections */
    skiff_tcp_conn *next_pending;          /* has something to send */
    bool pending;
    skiff_tcp_state state;
    bool passive;                          /* from a listener */
    skiff_tcp_addr local, remote;
    void *user_data;
    skiff_tcp_end end;
    bool ended_reported;

    /* Send sequence space (§3.3.1), as offsets; iss is the SYN's sequence. */
    uint32_t iss;
    uint64_t snd_una, snd_nxt, snd_max;    /* data offsets (the SYN is before 0) */
    bool syn_acked;
    uint64_t snd_wnd;                      /* the peer's window, scaled, in bytes */
    uint64_t max_snd_wnd;                  /* the largest it has been (RFC 5961 §5.2) */
    uint32_t snd_wl1, snd_wl2;             /* seq and ack of the last window update */
    uint8_t snd_wscale;                    /* the peer's shift */
    uint16_t peer_mss;
    uint16_t mss;                          /* data bytes per segment after options */
    /* The send buffer: a ring holding offsets [snd_una, sent_end). */
    uint8_t *sbuf;
    size_t sbuf_cap;
    uint64_t sent_end;                     /* one past the last byte the application gave */
    bool fin_queued;                       /* shutdown called: FIN after sent_end */
    bool fin_sent, fin_acked;

    /* Receive sequence space. */
    uint32_t irs;
    uint64_t rcv_nxt;                      /* offset */
    uint64_t read_off;                     /* the application has read up to here */
    uint8_t *rbuf;
    size_t rbuf_cap;
    skiff_range_set ooo;                   /* offsets held beyond rcv_nxt */
    uint8_t rcv_wscale;                    /* our shift */
    uint64_t rcv_adv;                      /* right edge we advertised (offset): never shrinks */
    bool fin_received;
    uint64_t fin_off;                      /* the offset of the peer's FIN */

    /* Options in use. */
    bool sack_ok, ts_ok, ws_ok;
    uint32_t ts_recent, ts_offset;
    uint64_t last_ack_sent;                /* offset, for the TS.Recent rule (RFC 7323 §4.3) */

    /* Loss recovery and congestion. */
    tcp_sent *sent;                        /* ring of transmissions in send order */
    size_t sent_head, sent_count;
    uint64_t sacked_bytes, lost_bytes;     /* of the records: kept as they change, for "pipe" */
    skiff_range_set sacked;                /* SACKed offsets above snd_una */
    unsigned dupacks;
    bool in_recovery;
    uint64_t recover;                      /* RFC 6582: snd_max when recovery began */
    skiff_rtt rtt;
    skiff_cc cc;
    uint64_t rtt_seq;                      /* Karn timing: the offset being timed, or UINT64_MAX */
    skiff_time rtt_time;
    unsigned retries;                      /* consecutive RTO expirations */
    skiff_time rto;

    /* Timers: each SKIFF_TIME_NEVER when off. */
    skiff_time rto_deadline, persist_deadline, delack_deadline, timewait_deadline,
        keepalive_deadline;
    unsigned persist_backoff, keepalive_sent;
    bool ack_now;                          /* send an ACK at the next output */
    bool syn_sent_now;                     /* the SYN (or SYN-ACK) went out since the last RTO */
    bool fast_retransmit_due;              /* resend the first lost segment even past cwnd */
    bool probe_due;                        /* the persist timer fired: probe the window */
    unsigned unacked_segments;             /* received since our last ACK */
    bool window_update;                    /* the window opened: tell the peer */
    bool rst_pending;                      /* send RST, then end */
    bool challenge_ack;                    /* RFC 5961: ACK with our current state */
    bool drop_segment;                     /* the ACK check refused the segment */
    bool nagle;
    skiff_time last_received;
};

#define TCP_RST_QUEUE 64

struct skiff_tcp_stack {
    skiff_tcp_config cfg;
    skiff_tcp_callbacks cb;
    void *ud;
    skiff_tcp_addr addrs[8];
    size_t addr_count;
    uint16_t listen_ports[16];
    size_t listen_count;
    skiff_tcp_conn *conns;
    size_t conn_count, half_open;
    skiff_tcp_conn *pending_head, *pending_tail;
    uint8_t isn_key[16], cookie_key[16];
    uint16_t next_port;
    /* Segments answering strangers (RSTs, cookie SYN-ACKs): built at input. */
    uint8_t rst_queue[TCP_RST_QUEUE][128];
    size_t rst_len[TCP_RST_QUEUE];
    size_t rst_head, rst_count;
    /* RFC 5961 §7: challenge ACKs per second. */
    skiff_time challenge_window_start;
    unsigned challenge_count;
    skiff_tcp_stats stats;
    uint8_t scratch[65536]; /* a segment's payload, staged from the send ring */
};

/* Offsets and sequence numbers. */
static inline uint32_t tcp_snd_seq(const skiff_tcp_conn *c, uint64_t off)
{
    return c->iss + 1 + (uint32_t)off;
}
static inline uint32_t tcp_rcv_seq(const skiff_tcp_conn *c, uint64_t off)
{
    return c->irs + 1 + (uint32_t)off;
}
/* The offset of a received sequence number, taken as the one nearest rcv_nxt. */
static inline uint64_t tcp_rcv_off(const skiff_tcp_conn *c, uint32_t seq)
{
    int32_t d = (int32_t)(seq - tcp_rcv_seq(c, c->rcv_nxt));
    return (uint64_t)((int64_t)c->rcv_nxt + d);
}
/* The offset of an acknowledgment number, nearest snd_una. */
static inline uint64_t tcp_snd_off(const skiff_tcp_conn *c, uint32_t ack)
{
    int32_t d = (int32_t)(ack - tcp_snd_seq(c, c->snd_una));
    return (uint64_t)((int64_t)c->snd_una + d);
}

/* tcp_stack.c */
void tcp_set_state(skiff_tcp_conn *c, skiff_tcp_state to);
void tcp_mark_pending(skiff_tcp_conn *c);
void tcp_end(skiff_tcp_conn *c, skiff_tcp_end why);
void tcp_queue_rst_for(skiff_tcp_stack *s, const skiff_tcp_segment *in);
bool tcp_challenge_allowed(skiff_tcp_stack *s, skiff_time now);

/* tcp_input.c */
void tcp_input(skiff_tcp_conn *c, const skiff_tcp_segment *seg, skiff_time now);
/* MSS, window scale, SACK and timestamps agreed from the peer's SYN. */
void tcp_take_syn_options(skiff_tcp_conn *c, const skiff_tcp_segment *seg);

/* tcp_output.c: one segment into out, 0 when the connection has nothing to send. */
size_t tcp_output(skiff_tcp_conn *c, uint8_t *out, size_t cap, skiff_time now);
uint64_t tcp_recv_window(const skiff_tcp_conn *c);
uint32_t tcp_ts_now(const skiff_tcp_conn *c, skiff_time now);

/* tcp_timers.c */
skiff_time tcp_conn_deadline(const skiff_tcp_conn *c);
void tcp_conn_on_timeout(skiff_tcp_conn *c, skiff_time now);
void tcp_arm_rto(skiff_tcp_conn *c, skiff_time now);

/* tcp_buffers.c */
size_t tcp_send_free(const skiff_tcp_conn *c);
void tcp_send_copy(const skiff_tcp_conn *c, uint64_t off, uint8_t *dst, size_t len);
size_t tcp_send_write(skiff_tcp_conn *c, const uint8_t *data, size_t len);
int tcp_recv_store(skiff_tcp_conn *c, uint64_t off, const uint8_t *data, size_t len);
size_t tcp_recv_read(skiff_tcp_conn *c, uint8_t *dst, size_t cap);
void tcp_sent_push(skiff_tcp_conn *c, uint64_t start, uint64_t end, skiff_time now, bool retransmission);
void tcp_sent_drop_acked(skiff_tcp_conn *c);
tcp_sent *tcp_sent_at(skiff_tcp_conn *c, size_t i);
void tcp_sent_mark_lost(skiff_tcp_conn *c, tcp_sent *r);
void tcp_sent_mark_sacked(skiff_tcp_conn *c, tcp_sent *r);

#endif
