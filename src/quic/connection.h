/*
 * A QUIC connection, sans I/O (RFC 9000, RFC 9001, RFC 9002). It consumes
 * received datagrams (bytes, path, ECN, now) and produces datagrams to send
 * and its next deadline; it never reads a clock, opens a socket or blocks.
 * The I/O engine (src/io/engine.c) or a simulator drives it:
 *
 *     skiff_conn_receive(c, path, dgram, len, ecn, now);
 *     while ((n = skiff_conn_send(c, buf, cap, &path, &ecn, now)) > 0) sendto(...);
 *     arm a timer for skiff_conn_deadline(c); on expiry skiff_conn_on_timeout(c, now);
 *
 * Application events arrive through callbacks, run from inside those calls.
 *
 * The connection orchestrates; the logic lives in the modules it holds:
 * tls (handshake), packet_protection (keys), ack_tracker, recovery (loss and
 * congestion), streams/stream_send/stream_recv/flow_control, cid, and the
 * packet builder. See docs/internals/connection.md.
 */
#ifndef SKIFF_QUIC_CONNECTION_H
#define SKIFF_QUIC_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/role.h"
#include "quic/tls.h"
#include "skiff/skiff.h"

typedef struct skiff_conn skiff_conn;

/* A network address as the I/O layer knows it (a sockaddr's bytes); the core
 * only copies and compares it. */
typedef struct skiff_net_addr {
    uint8_t bytes[28]; /* sizeof(struct sockaddr_in6) */
    uint8_t len;
} skiff_net_addr;

typedef struct skiff_path {
    skiff_net_addr local;
    skiff_net_addr remote;
} skiff_path;

/* How a connection ended (seed 003's typed errors). */
typedef enum skiff_end_kind {
    SKIFF_END_NONE,
    SKIFF_END_IDLE_TIMEOUT,
    SKIFF_END_HANDSHAKE_TIMEOUT,
    SKIFF_END_APPLICATION,
    SKIFF_END_TRANSPORT,
    SKIFF_END_STATELESS_RESET,
    SKIFF_END_VERSION_NEGOTIATION,
} skiff_end_kind;

#define SKIFF_REASON_MAX 256

typedef struct skiff_end_reason {
    skiff_end_kind kind;
    bool remote;         /* the peer closed (application / transport) */
    uint64_t code;       /* application code, or the RFC 9000 §20.1 code */
    uint64_t frame_type; /* transport: the frame that triggered it */
    char reason[SKIFF_REASON_MAX];
    size_t reason_len;
    /* Version negotiation: the versions we offered and those the server listed. */
    uint32_t ours[4], theirs[16];
    size_t ours_count, theirs_count;
} skiff_end_reason;

/* Renders r as one line ("application error 0x42 by peer: ..."). */
const char *skiff_end_reason_format(const skiff_end_reason *r, char *buf, size_t cap);

typedef struct skiff_conn_callbacks {
    void (*handshake_done)(skiff_conn *c, void *ud);
    void (*stream_opened)(skiff_conn *c, uint64_t stream_id, void *ud); /* by the peer */
    void (*stream_readable)(skiff_conn *c, uint64_t stream_id, void *ud);
    void (*stream_writable)(skiff_conn *c, uint64_t stream_id, void *ud);
    void (*stream_reset)(skiff_conn *c, uint64_t stream_id, uint64_t code, void *ud);
    /* The peer's STOP_SENDING: this end's sending half was reset with code. */
    void (*stream_stopped)(skiff_conn *c, uint64_t stream_id, uint64_t code, void *ud);
    /* The peer's MAX_STREAMS rose: skiff_conn_stream_open may succeed again. */
    void (*streams_available)(skiff_conn *c, void *ud);
    void (*closed)(skiff_conn *c, const skiff_end_reason *why, void *ud);
    /* Connection IDs this endpoint issued, for a server's demultiplexer. */
    void (*cid_added)(skiff_conn *c, const uint8_t *cid, size_t len, void *ud);
    void (*cid_retired)(skiff_conn *c, const uint8_t *cid, size_t len, void *ud);
    void (*keylog)(skiff_conn *c, const char *line, void *ud);
    /* Client: data that resumes a later connection (pass it as
     * skiff_conn_config.session_data); it holds the TLS ticket and the
     * server's transport parameters that 0-RTT must respect (§7.4.1). */
    void (*session_ticket)(skiff_conn *c, const uint8_t *data, size_t len, void *ud);
    /* Unpredictable bytes (CIDs, tokens, grease): the core has no random source. */
    void (*random)(uint8_t *out, size_t len, void *ud);
} skiff_conn_callbacks;

typedef struct skiff_conn_config {
    skiff_role role;
    uint32_t version;
    skiff_tls_credentials *credentials;
    const char *server_name; /* client */
    const char *const *alpn;
    size_t alpn_count;
    const uint8_t *session_data; /* client: from session_ticket, to resume */
    size_t session_data_len;
    bool enable_0rtt; /* client: send early data when resuming; server: accept it */
    /* Transport settings (RFC 9000 §18.2). */
    skiff_time idle_timeout;      /* 0: none */
    skiff_time handshake_timeout; /* 0: 10 s */
    skiff_time keep_alive;        /* 0: none; else PING so no gap exceeds min(this, idle / 2) */
    uint64_t initial_max_data;
    uint64_t initial_max_stream_data;
    uint64_t max_data_window;   /* receive-window auto-tuning caps */
    uint64_t max_stream_window;
    uint64_t max_streams_bidi;
    uint64_t max_streams_uni;
    uint64_t max_udp_payload;   /* largest datagram we send, 1200..1452 */
    const char *cc;             /* "newreno" (default) or "cubic" */
    const uint8_t *static_key;  /* 32 bytes: stateless reset tokens */
    size_t cid_len;             /* length of the CIDs we issue (8 default) */
} skiff_conn_config;

void skiff_conn_config_default(skiff_conn_config *cfg);

/* A client connection to `path`. The first datagram is ready to send at once. */
int skiff_conn_client_new(skiff_conn **out, const skiff_conn_config *cfg,
                          const skiff_conn_callbacks *cb, void *ud, const skiff_path *path,
                          skiff_time now);

/* A server connection for a client's first Initial (the datagram is then
 * handed to skiff_conn_receive as usual). dcid and scid are that Initial's.
 * After a Retry (RFC 9000 §8.1.2), odcid is the DCID of the client's very
 * first Initial, recovered from the token, and dcid the Retry's SCID; the
 * client's address is then validated. Without a Retry odcid is NULL. */
int skiff_conn_server_new(skiff_conn **out, const skiff_conn_config *cfg,
                          const skiff_conn_callbacks *cb, void *ud, const skiff_path *path,
                          const uint8_t *dcid, size_t dcid_len, const uint8_t *scid,
                          size_t scid_len, const uint8_t *odcid, size_t odcid_len, skiff_time now);

/* Whether the handshake resumed an earlier session, and what became of 0-RTT:
 * "accepted", "rejected" (the data went again in 1-RTT) or "not sent". */
bool skiff_conn_resumed(const skiff_conn *c);
/* Client: whether streams written now go out as 0-RTT data. */
bool skiff_conn_early_data_possible(const skiff_conn *c);
const char *skiff_conn_early_data(const skiff_conn *c);

/* Server: a token (from the I/O layer, which knows addresses) to send in a
 * NEW_TOKEN frame once the handshake completes (RFC 9000 §8.1.3), and the
 * word that this client's address is already validated (it came with a valid
 * token), which lifts the amplification limit (§8.1). */
int skiff_conn_set_new_token(skiff_conn *c, const uint8_t *token, size_t len);
void skiff_conn_set_address_validated(skiff_conn *c);

/* Whether the server asked this client to validate its address (a Retry). */
bool skiff_conn_retried(const skiff_conn *c);

void skiff_conn_free(skiff_conn *c);

/* Processes one received datagram, decrypting it in place (the bytes are
 * changed). Returns 0; errors close the connection (reported through
 * `closed`), never the caller's problem. */
int skiff_conn_receive(skiff_conn *c, const skiff_path *path, uint8_t *dgram, size_t len,
                       uint8_t ecn, skiff_time now);

/* A datagram that routed to no connection may be a stateless reset for this
 * one (RFC 9000 §10.3.1: its DCID is random). Returns true when it was: the
 * connection then ends with the stateless-reset reason. */
bool skiff_conn_check_stateless_reset(skiff_conn *c, const uint8_t *dgram, size_t len, skiff_time now);

/* Writes the next datagram to send into out[0..cap) and its path and ECN
 * mark. Returns its length, 0 when nothing is to be sent now. */
skiff_ssize skiff_conn_send(skiff_conn *c, uint8_t *out, size_t cap, skiff_path *path,
                            uint8_t *ecn, skiff_time now);

/* When skiff_conn_on_timeout must next be called (SKIFF_TIME_NEVER: never). */
skiff_time skiff_conn_deadline(const skiff_conn *c);
void skiff_conn_on_timeout(skiff_conn *c, skiff_time now);

bool skiff_conn_is_established(const skiff_conn *c);
bool skiff_conn_is_closed(const skiff_conn *c); /* all state may be freed */
const char *skiff_conn_alpn(const skiff_conn *c);
/* The negotiated TLS cipher suite's IANA name ("TLS_AES_128_GCM_SHA256"), or "none". */
const char *skiff_conn_cipher_name(const skiff_conn *c);
void *skiff_conn_user_data(const skiff_conn *c);

/* One pointer the application may hang on a connection (the engine owns the
 * callbacks' user data). */
void skiff_conn_set_app_data(skiff_conn *c, void *data);
void *skiff_conn_app_data(const skiff_conn *c);

/* Streams (RFC 9000 §2). Writes accept what the send buffer can take. */
int skiff_conn_stream_open(skiff_conn *c, bool bidi, uint64_t *stream_id);
skiff_ssize skiff_conn_stream_write(skiff_conn *c, uint64_t stream_id, const uint8_t *data,
                                    size_t len, bool fin);
skiff_ssize skiff_conn_stream_read(skiff_conn *c, uint64_t stream_id, uint8_t *out, size_t cap,
                                   bool *fin);
/* How many bytes skiff_conn_stream_write would take now (0 for a stream
 * that is unknown, finished, reset or has a full send buffer), so a caller
 * can write a framed unit whole. */
size_t skiff_conn_stream_writable(const skiff_conn *c, uint64_t stream_id);
int skiff_conn_stream_reset(skiff_conn *c, uint64_t stream_id, uint64_t code);
int skiff_conn_stream_stop_sending(skiff_conn *c, uint64_t stream_id, uint64_t code);

/* Updates the 1-RTT keys (RFC 9001 §6) as soon as the rules allow: the
 * handshake confirmed and a packet of the current keys acknowledged. */
int skiff_conn_key_update(skiff_conn *c);
/* Key updates this end initiated, and ones it followed. */
void skiff_conn_key_update_counts(const skiff_conn *c, uint64_t *initiated, uint64_t *followed);

/* Whether everything this end sent has been acknowledged and no stream
 * data waits to be sent: closing now loses nothing the peer was sent. */
bool skiff_conn_quiescent(const skiff_conn *c);

/* The time of the latest call that passed one (for layers above, such as
 * HTTP/3, that act inside callbacks and keep no clock). */
skiff_time skiff_conn_now(const skiff_conn *c);

/* Closes with an application error (RFC 9000 §10.2). */
int skiff_conn_close(skiff_conn *c, uint64_t code, const char *reason, skiff_time now);

#endif
