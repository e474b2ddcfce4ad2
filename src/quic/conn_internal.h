/*
 * The connection's state, shared by its files:
 *   connection.c   creation, TLS glue callbacks, keys, the public accessors
 *   conn_recv.c    datagrams in: unprotect, frames dispatched to the modules
 *   conn_send.c    datagrams out: ACKs, CRYPTO, control frames, STREAMs, probes
 *   conn_close.c   the ends of a connection: CONNECTION_CLOSE, closing and
 *                  draining, idle and handshake timeouts, end reasons
 *   conn_streams.c the stream API and the stream frames
 * Only these files include this header.
 */
#ifndef SKIFF_QUIC_CONN_INTERNAL_H
#define SKIFF_QUIC_CONN_INTERNAL_H

#include "cc/rtt.h"
#include "quic/ack_tracker.h"
#include "quic/cid.h"
#include "quic/connection.h"
#include "quic/flow_control.h"
#include "quic/frame.h"
#include "quic/packet_builder.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/pn_space.h"
#include "quic/recovery.h"
#include "quic/retry_token.h"
#include "quic/stream_recv.h"
#include "quic/stream_send.h"
#include "quic/streams.h"
#include "quic/tls.h"
#include "quic/transport_params.h"

/* What a sent-frame record (sent_packets.h) means, for retransmission. */
enum conn_sent_kind {
    SENT_ACK = 1,          /* a = largest acknowledged in it */
    SENT_CRYPTO,           /* flags = level, a = offset, len16 = length */
    SENT_STREAM,           /* a = stream id, b = offset, len16 = length, flags bit0 = fin */
    SENT_CONTROL,          /* flags = frame type; a, b = its values (conn_streams.c) */
    SENT_NEW_CONNECTION_ID,   /* a = sequence */
    SENT_RETIRE_CONNECTION_ID, /* a = sequence */
    SENT_HANDSHAKE_DONE,
    SENT_PING,
    SENT_PMTU_PROBE,       /* a = the datagram size it probed */
    SENT_NEW_TOKEN,
};

typedef enum conn_state {
    CONN_HANDSHAKING,
    CONN_ESTABLISHED,
    CONN_CLOSING,  /* we sent CONNECTION_CLOSE (RFC 9000 §10.2.1) */
    CONN_DRAINING, /* the peer did (§10.2.2) */
    CONN_CLOSED,   /* nothing more to do: free it */
} conn_state;

/* One encryption level's keys and CRYPTO streams. */
typedef struct conn_level {
    skiff_packet_keys tx, rx;
    skiff_stream_send crypto_tx;
    skiff_stream_recv crypto_rx;
    bool discarded;
} conn_level;

/* One packet-number space. */
typedef struct conn_space {
    skiff_ack_tracker acks;
    uint64_t next_pn;
    uint64_t largest_rx; /* SKIFF_PN_NONE before the first packet */
} conn_space;

struct skiff_conn {
    skiff_conn_config cfg;
    skiff_conn_callbacks cb;
    void *ud;
    void *app_data;
    skiff_role role;
    uint32_t version;
    conn_state state;

    skiff_path path;
    skiff_cid_local local_cids;
    skiff_cid_remote remote_cids;
    skiff_cid original_dcid; /* the client's first DCID (Initial keys, §7.3) */
    skiff_cid initial_scid;  /* the peer's SCID in its first packet */
    skiff_cid retry_scid;
    bool dcid_switched;      /* the client adopted the server's SCID (§7.2) */
    bool retried;            /* a Retry was received (client) or answered (server) */
    uint8_t token[256];      /* client: the token its Initials carry (§17.2.2) */
    size_t token_len;

    conn_level levels[SKIFF_LEVEL_COUNT];
    conn_space spaces[SKIFF_SPACE_COUNT];
    skiff_recovery recovery;
    skiff_streams streams; /* also owns the buffer pool the CRYPTO streams use */

    skiff_tls *tls;
    char alpn[256];
    skiff_transport_params local_tp, peer_tp;
    bool peer_tp_received;
    uint8_t peer_tp_raw[SKIFF_TRANSPORT_PARAMS_MAX_LEN]; /* kept for session tickets (§7.4.1) */
    size_t peer_tp_raw_len;
    uint8_t *ticket;           /* client: the latest TLS session ticket */
    size_t ticket_len;
    uint8_t new_token[SKIFF_RETRY_TOKEN_MAX]; /* client: from NEW_TOKEN; server: to send */
    size_t new_token_len;
    bool new_token_pending;    /* server: a NEW_TOKEN to (re)send */
    bool early_data_sent;      /* client: 0-RTT packets went out */
    bool early_data_settled;   /* client: accepted or rejected is known */
    bool handshake_complete;  /* TLS finished */
    bool handshake_confirmed; /* RFC 9001 §4.1.2 */
    uint64_t first_1rtt_pn;   /* client: the first packet number sent with 1-RTT keys */
    bool test_withhold_handshake_done; /* tests: a server that never sends HANDSHAKE_DONE */
    bool handshake_done_pending; /* server: HANDSHAKE_DONE to (re)send */
    bool handshake_done_reported;
    bool rx_fresh_crypto; /* the packet being processed brought new handshake data */

    /* Key update (RFC 9001 §6), conn_keys.c. The 1-RTT keys in
     * levels[1RTT] are the current ones of each direction. */
    bool tx_phase, rx_phase;      /* key phase bits of the current keys */
    skiff_packet_keys rx_prev;    /* the phase before, for late packets */
    skiff_packet_keys rx_next;    /* the phase after, derived when first needed */
    uint64_t rx_phase_first_pn;   /* lowest pn received in the current rx phase */
    uint64_t tx_phase_first_pn;   /* first pn sent in the current tx phase */
    bool tx_phase_acked;          /* a packet of the current tx phase was acknowledged */
    bool key_update_wanted;       /* initiate one as soon as allowed */
    uint64_t key_updates_initiated, key_updates_followed;

    /* Anti-amplification (RFC 9000 §8.1). */
    bool address_validated;
    uint64_t bytes_received, bytes_sent;

    /* Timers. */
    skiff_time now; /* of the latest call in, for the calls that take no time */
    skiff_time created;
    skiff_time idle_timeout;  /* effective (§10.1), 0: none */
    skiff_time idle_deadline; /* SKIFF_TIME_NEVER when none */
    bool ack_eliciting_sent_since_rx;
    skiff_time close_deadline; /* end of closing/draining */
    unsigned probes_pending[SKIFF_SPACE_COUNT];
    skiff_time last_ack_eliciting_sent;
    skiff_time pacing_at;      /* the pacer lets more data out then (SKIFF_TIME_NEVER: not waiting) */

    /* Send path (conn_send.c). */
    bool pad_datagram;         /* the datagram being built must reach 1200 bytes */
    uint8_t ecn_mark;          /* the ECN codepoint of the datagram being built */
    skiff_sent_packet open_record;
    skiff_pn_space open_space;
    uint8_t path_response[SKIFF_FRAME_PATH_DATA_LEN];
    bool path_response_pending;

    /* Frame bytes a test asks to send as they are, per level (conn_test_inject). */
    uint8_t *raw_frames[SKIFF_LEVEL_COUNT]; /* allocated only when a test asks */
    size_t raw_len[SKIFF_LEVEL_COUNT];

    /* Streams whose application may write again (UINT64_MAX: more streams may open). */
    uint64_t notify[64];
    size_t notify_count;
    bool notify_overflow;

    /* Closing. */
    skiff_end_reason end;
    bool close_frame_app;      /* 0x1d vs 0x1c */
    uint64_t close_code, close_frame_type;
    char close_reason[1024];
    size_t close_reason_len;
    bool close_send_pending;   /* (re)send CONNECTION_CLOSE once */
    unsigned close_sends;
    bool closed_reported;

    size_t max_datagram;       /* what we send: 1200 until the path is known */
    size_t pmtu_target;        /* a larger size to probe for (RFC 8899), 0: none */
    bool pmtu_probe_pending;
};

extern const skiff_recovery_callbacks conn_recovery_callbacks; /* conn_send.c */
void conn_requeue_in_flight(skiff_conn *c, skiff_pn_space space);

/* connection.c */
void conn_address_validated(skiff_conn *c);
void conn_on_new_token(skiff_conn *c, const uint8_t *token, size_t len);
int conn_install_keys(skiff_conn *c, skiff_crypto_level level, bool write, skiff_cipher_suite suite,
                      const uint8_t *secret, size_t len);
void conn_discard_level(skiff_conn *c, skiff_crypto_level level);
int conn_feed_crypto(skiff_conn *c, skiff_crypto_level level);
skiff_pn_space conn_space_of(skiff_crypto_level level);
void conn_on_handshake_complete(skiff_conn *c, skiff_time now);

/* For tests of how a peer handles bad input: the next packet of `level`
 * carries these frame bytes first, exactly as given (conn_send.c). */
int conn_test_inject(skiff_conn *c, skiff_crypto_level level, const uint8_t *frames, size_t len);

/* conn_keys.c */
const skiff_packet_keys *conn_rx_keys_for(skiff_conn *c, bool phase, uint64_t pn);
int conn_after_open(skiff_conn *c, const skiff_packet_keys *used, uint64_t pn);
void conn_maybe_initiate_key_update(skiff_conn *c);
void conn_free_key_update(skiff_conn *c);

/* conn_close.c */
skiff_time conn_keep_alive_deadline(const skiff_conn *c);
size_t conn_utf8_prefix(const uint8_t *s, size_t len, size_t max);
void conn_close_transport(skiff_conn *c, int err, uint64_t frame_type, const char *reason,
                          skiff_time now);
void conn_enter_draining(skiff_conn *c, const skiff_frame_connection_close *f, skiff_time now);
void conn_report_end(skiff_conn *c);
void conn_touch_idle(skiff_conn *c, skiff_time now, bool received);
skiff_time conn_close_deadline(const skiff_conn *c);
void conn_check_timeouts(skiff_conn *c, skiff_time now);
skiff_ssize conn_write_close(skiff_conn *c, uint8_t *out, size_t cap, skiff_time now);

/* conn_recv.c */
int conn_handle_frames(skiff_conn *c, const skiff_packet_header *h, skiff_crypto_level level,
                       const uint8_t *payload, size_t len, bool *ack_eliciting, skiff_time now);

/* conn_streams.c */
int conn_on_stream_frame(skiff_conn *c, uint64_t type, const skiff_frame *f, skiff_time now);
size_t conn_write_stream_frames(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec,
                                skiff_time now);
size_t conn_write_stream_control(skiff_conn *c, skiff_packet_builder *b, skiff_sent_packet *rec);
void conn_stream_frame_acked(skiff_conn *c, const skiff_sent_frame *f);
void conn_stream_frame_lost(skiff_conn *c, const skiff_sent_frame *f);
void conn_notify_streams(skiff_conn *c);

#endif
