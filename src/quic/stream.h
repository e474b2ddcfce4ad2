/*
 * A QUIC stream (RFC 9000 §2, §3): a sending half, a receiving half (either
 * may be absent on a unidirectional stream), stream-level flow control in
 * both directions, the STOP_SENDING this endpoint sends, and the states of
 * §3.1 and §3.2 derived from the halves.
 *
 * The states are not stored: they are a function of what the halves record
 * (FIN sent, everything acknowledged, reset, ...), so they cannot drift from
 * the data they describe. The stream map (streams.h) owns streams, feeds
 * them frames and frees a stream once skiff_stream_is_finished().
 */
#ifndef SKIFF_QUIC_STREAM_H
#define SKIFF_QUIC_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "quic/flow_control.h"
#include "quic/frame.h"
#include "quic/role.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"

/* ---- Stream IDs (§2.1) ---------------------------------------------------- */

#define SKIFF_STREAM_ID_SERVER 0x1u /* bit 0: initiated by the server */
#define SKIFF_STREAM_ID_UNI 0x2u    /* bit 1: unidirectional */
#define SKIFF_STREAM_ID_MAX ((UINT64_C(1) << 62) - 1)

static inline bool skiff_stream_id_is_uni(uint64_t id)
{
    return (id & SKIFF_STREAM_ID_UNI) != 0;
}
static inline skiff_role skiff_stream_id_initiator(uint64_t id)
{
    return (id & SKIFF_STREAM_ID_SERVER) ? SKIFF_ROLE_SERVER : SKIFF_ROLE_CLIENT;
}
static inline bool skiff_stream_id_is_local(uint64_t id, skiff_role self)
{
    return skiff_stream_id_initiator(id) == self;
}
/* The n-th (from 0) stream of a type: n * 4 + type bits. */
static inline uint64_t skiff_stream_id_make(uint64_t n, bool uni, skiff_role initiator)
{
    return n << 2 | (uni ? SKIFF_STREAM_ID_UNI : 0) |
           (initiator == SKIFF_ROLE_SERVER ? SKIFF_STREAM_ID_SERVER : 0);
}

/* ---- States (§3.1, §3.2) ------------------------------------------------ */

typedef enum skiff_send_state {
    SKIFF_SEND_READY,
    SKIFF_SEND_SEND,
    SKIFF_SEND_DATA_SENT,
    SKIFF_SEND_RESET_SENT,
    SKIFF_SEND_DATA_RECVD,
    SKIFF_SEND_RESET_RECVD,
    SKIFF_SEND_NONE, /* a receive-only stream has no sending part */
} skiff_send_state;

typedef enum skiff_recv_state {
    SKIFF_RECV_RECV,
    SKIFF_RECV_SIZE_KNOWN,
    SKIFF_RECV_DATA_RECVD,
    SKIFF_RECV_RESET_RECVD,
    SKIFF_RECV_DATA_READ,
    SKIFF_RECV_RESET_READ,
    SKIFF_RECV_NONE, /* a send-only stream has no receiving part */
} skiff_recv_state;

const char *skiff_send_state_name(skiff_send_state s);
const char *skiff_recv_state_name(skiff_recv_state s);

/* ---- The stream --------------------------------------------------------- */

typedef struct skiff_stream {
    uint64_t id;
    bool has_send, has_recv;
    skiff_stream_send send;
    skiff_stream_recv recv;
    skiff_fc_send tx_fc; /* the peer's MAX_STREAM_DATA for our sending half */
    skiff_fc_recv rx_fc; /* our MAX_STREAM_DATA for the receiving half */

    /* The STOP_SENDING this endpoint sends (§3.5, §19.5). */
    uint64_t stop_code;
    bool stop_pending, stop_sent, stop_acked;

    /* The peer's STOP_SENDING: the application may want to know. */
    bool peer_stopped;
    uint64_t peer_stop_code;

    /* Intrusive links of the stream map's lists (streams.c). */
    struct skiff_stream *send_prev, *send_next; /* round-robin list of sendable streams */
    struct skiff_stream *ctl_prev, *ctl_next;   /* streams with a control frame pending */
    bool in_send_list, in_ctl_list;

    void *user; /* the application's */
} skiff_stream;

typedef struct skiff_stream_params {
    size_t send_buffer;       /* send buffer cap in bytes */
    uint64_t send_limit;      /* the peer's initial MAX_STREAM_DATA for this stream */
    uint64_t recv_window;     /* our initial MAX_STREAM_DATA */
    uint64_t recv_max_window; /* auto-tuning cap */
    size_t recv_max_ranges;   /* receive gap cap (0: the default) */
} skiff_stream_params;

/* A stream with the given id, seen from `self`: the halves that exist follow
 * from the id (§2.1). Allocates nothing. */
void skiff_stream_init(skiff_stream *st, uint64_t id, skiff_role self, skiff_stream_pool *pool,
                       const skiff_stream_params *p);
void skiff_stream_cleanup(skiff_stream *st);

skiff_send_state skiff_stream_send_state(const skiff_stream *st);
skiff_recv_state skiff_stream_recv_state(const skiff_stream *st);

/* Both halves are in a terminal state (Data Recvd / Reset Recvd for sending,
 * Data Read / Reset Read for receiving) and no frame of ours is pending:
 * the stream can be freed and, if the peer opened it, its credit returned. */
bool skiff_stream_is_finished(const skiff_stream *st);

/* The application stops reading: discard data and queue STOP_SENDING with
 * `code`, unless everything already arrived or was reset (§3.5). */
void skiff_stream_stop_sending(skiff_stream *st, uint64_t code);

/*
 * Control frames for this stream (RESET_STREAM, STOP_SENDING,
 * MAX_STREAM_DATA, STREAM_DATA_BLOCKED): the next pending one, filled into
 * *f, or false. on_control_* report what became of one sent earlier.
 */
bool skiff_stream_control_frame(const skiff_stream *st, skiff_frame *f);
bool skiff_stream_has_control(const skiff_stream *st);
void skiff_stream_on_control_sent(skiff_stream *st, const skiff_frame *f);
void skiff_stream_on_control_acked(skiff_stream *st, const skiff_frame *f);
void skiff_stream_on_control_lost(skiff_stream *st, const skiff_frame *f);

#endif
