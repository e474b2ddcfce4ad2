/*
 * Flow control (RFC 9000 §4): credit for sending, limits for receiving, the
 * same two structures at the connection level (MAX_DATA, DATA_BLOCKED) and
 * the stream level (MAX_STREAM_DATA, STREAM_DATA_BLOCKED).
 *
 * All values are absolute byte offsets. For a stream, "sent" and "highest"
 * are stream offsets; for the connection they are sums over all streams
 * (RFC 9000 §4.1: the connection limit bounds the sum of the largest
 * received offsets of all streams, the final size for finished ones).
 *
 * Receive windows auto-tune: when the application consumes a whole window in
 * under two smoothed RTTs, the window doubles (up to a configured maximum),
 * so that one connection can fill a long fat path without a large default
 * window on every idle stream. See docs/internals/streams.md.
 */
#ifndef SKIFF_QUIC_FLOW_CONTROL_H
#define SKIFF_QUIC_FLOW_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* Sending: the peer's limit and what we have used of it. */
typedef struct skiff_fc_send {
    uint64_t limit;       /* the peer's MAX_DATA / MAX_STREAM_DATA (largest seen) */
    uint64_t sent;        /* highest offset (or sum) sent so far */
    uint64_t blocked_at;  /* the limit a BLOCKED frame was last queued for; UINT64_MAX none */
    bool blocked_pending; /* a DATA_BLOCKED / STREAM_DATA_BLOCKED waits to be sent */
} skiff_fc_send;

void skiff_fc_send_init(skiff_fc_send *fc, uint64_t initial_limit);

/* A MAX_DATA / MAX_STREAM_DATA from the peer: only an increase matters
 * (§19.9, §19.10). Returns true when the limit rose. */
bool skiff_fc_send_on_max(skiff_fc_send *fc, uint64_t max);

/* Bytes that may still be sent beyond `sent`. */
static inline uint64_t skiff_fc_send_credit(const skiff_fc_send *fc)
{
    return fc->limit > fc->sent ? fc->limit - fc->sent : 0;
}

/* Records new bytes sent (never more than the credit: the caller bounds them). */
void skiff_fc_send_on_sent(skiff_fc_send *fc, uint64_t bytes);

/*
 * The sender has data it cannot send because the credit is spent: queues one
 * BLOCKED frame per limit value (§4.1: "SHOULD send a STREAM_DATA_BLOCKED or
 * DATA_BLOCKED frame"; one per value, so a stalled sender does not repeat it).
 */
void skiff_fc_send_note_blocked(skiff_fc_send *fc);

/* The BLOCKED frame to send: true and its limit when one is pending. */
bool skiff_fc_send_blocked_frame(const skiff_fc_send *fc, uint64_t *limit);
void skiff_fc_send_on_blocked_sent(skiff_fc_send *fc);
/* A BLOCKED frame for `limit` was lost: resent only if still blocked at that limit. */
void skiff_fc_send_on_blocked_lost(skiff_fc_send *fc, uint64_t limit);

/* Receiving: our advertised limit, what arrived and what was consumed. */
typedef struct skiff_fc_recv {
    uint64_t limit;              /* the limit we advertised (or will advertise) */
    uint64_t highest;            /* highest offset (or sum) received */
    uint64_t consumed;           /* bytes the application read or that were discarded */
    uint64_t window;             /* current window: a new limit is consumed + window */
    uint64_t max_window;         /* auto-tuning never grows the window past this */
    skiff_time last_update;      /* when the limit was last moved; SKIFF_TIME_NEVER before */
    uint64_t consumed_at_update; /* `consumed` at that moment */
    uint64_t sent_limit;         /* the largest limit sent in a MAX_* frame */
    bool update_pending;         /* a MAX_DATA / MAX_STREAM_DATA waits to be sent */
} skiff_fc_recv;

/* window is the initial limit we advertise (the transport parameter). */
void skiff_fc_recv_init(skiff_fc_recv *fc, uint64_t window, uint64_t max_window);

/* Data up to absolute offset `end` arrived (a stream). Returns 0, or
 * SKIFF_ERR_FLOW_CONTROL when end exceeds the limit (§4.1). */
int skiff_fc_recv_on_offset(skiff_fc_recv *fc, uint64_t end);

/* `bytes` more of the summed highest offsets arrived (the connection).
 * Returns 0 or SKIFF_ERR_FLOW_CONTROL. */
int skiff_fc_recv_on_bytes(skiff_fc_recv *fc, uint64_t bytes);

/*
 * The application consumed (read or discarded) `bytes`. When less than half
 * the window is left, moves the limit to consumed + window and queues an
 * update. If the bytes consumed since the previous move came at a rate that
 * would consume a whole window in under 2 * srtt, the window first doubles
 * (capped by max_window). srtt == 0 (no sample yet) never doubles. Returns
 * true when a new limit was queued.
 */
bool skiff_fc_recv_on_consumed(skiff_fc_recv *fc, uint64_t bytes, skiff_time now, skiff_time srtt);

/* Raises the window to at least `window` (capped by max_window): the
 * connection window follows its streams' windows so it never limits them. */
void skiff_fc_recv_ensure_window(skiff_fc_recv *fc, uint64_t window);

/* The MAX_* frame to send: true and the limit when one is pending. */
bool skiff_fc_recv_update_frame(const skiff_fc_recv *fc, uint64_t *limit);
void skiff_fc_recv_on_update_sent(skiff_fc_recv *fc, uint64_t limit);
/* A MAX_* frame carrying `limit` was lost: resend the current limit unless a
 * larger one has gone out since (§13.3: the most recent value is sent). */
void skiff_fc_recv_on_update_lost(skiff_fc_recv *fc, uint64_t limit);

#endif
