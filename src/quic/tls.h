/*
 * The TLS 1.3 handshake for QUIC (RFC 9001 §4), through GnuTLS's QUIC
 * interface. TLS runs over CRYPTO frames rather than TLS records: the
 * connection feeds the in-order CRYPTO bytes of each encryption level in
 * (skiff_tls_receive) and is handed, through callbacks, the handshake bytes
 * to send at each level and the traffic secrets as each level's keys become
 * available. Alerts are never sent as records: a failed handshake leaves the
 * alert in the session, and the connection closes with CRYPTO_ERROR
 * (0x100 + alert, RFC 9001 §4.8).
 *
 *    connection                          skiff_tls                GnuTLS
 *    ----------                          ---------                ------
 *    skiff_tls_start (client)  ------->  handshake  ----------->  ClientHello
 *    on_crypto_data(INITIAL, ..)  <----  read function  <-------'
 *    skiff_tls_receive(level, ..) ---->  handshake_write, handshake
 *    on_secret(level, dir, ..)  <------  secret function
 *    on_peer_transport_params  <-------  quic_transport_parameters (0x39)
 *
 * Two objects:
 *   - skiff_tls_credentials, made once per server or client configuration:
 *     certificates or trust anchors, the cipher priority, and on a server
 *     the session-ticket key and the 0-RTT anti-replay record.
 *   - skiff_tls, one per connection.
 *
 * This is the only file pair of skiff that uses GnuTLS's TLS session API.
 * GnuTLS reads the wall clock itself (certificate validity, ticket age and
 * ticket-key rotation, the anti-replay window): that time is not the
 * connection's `now`. See docs/internals/tls.md.
 */
#ifndef SKIFF_QUIC_TLS_H
#define SKIFF_QUIC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quic/packet_protection.h"
#include "quic/pn_space.h"
#include "quic/role.h"
#include "skiff/skiff.h"

/* TLS alert descriptions (RFC 8446 §6) that the QUIC glue itself raises or
 * that tests look for; CRYPTO_ERROR is 0x100 plus one of these. */
#define SKIFF_TLS_ALERT_UNEXPECTED_MESSAGE 10
#define SKIFF_TLS_ALERT_HANDSHAKE_FAILURE 40
#define SKIFF_TLS_ALERT_BAD_CERTIFICATE 42
#define SKIFF_TLS_ALERT_CERTIFICATE_REVOKED 44
#define SKIFF_TLS_ALERT_CERTIFICATE_EXPIRED 45
#define SKIFF_TLS_ALERT_CERTIFICATE_UNKNOWN 46
#define SKIFF_TLS_ALERT_ILLEGAL_PARAMETER 47
#define SKIFF_TLS_ALERT_UNKNOWN_CA 48
#define SKIFF_TLS_ALERT_DECODE_ERROR 50
#define SKIFF_TLS_ALERT_PROTOCOL_VERSION 70
#define SKIFF_TLS_ALERT_INTERNAL_ERROR 80
#define SKIFF_TLS_ALERT_MISSING_EXTENSION 109
#define SKIFF_TLS_ALERT_NO_APPLICATION_PROTOCOL 120

/* The TLS extension that carries transport parameters (RFC 9001 §8.2). */
#define SKIFF_TLS_EXT_QUIC_TRANSPORT_PARAMETERS 0x39

/* The most ALPN protocols one session offers, and the longest name (RFC 7301 §3.1). */
#define SKIFF_TLS_MAX_ALPN 16
#define SKIFF_TLS_ALPN_MAX_LEN 255

/* Defaults of the server's 0-RTT anti-replay record (RFC 8446 §8.2). */
#define SKIFF_TLS_ANTI_REPLAY_WINDOW_MS 10000
#define SKIFF_TLS_ANTI_REPLAY_CAPACITY 4096

/* A keylog line: "LABEL <64 hex client random> <up to 96 hex secret>". */
#define SKIFF_TLS_KEYLOG_LINE_MAX 200

typedef struct skiff_tls_credentials skiff_tls_credentials;
typedef struct skiff_tls skiff_tls;

/*
 * What one configuration of endpoints shares. PEM input comes from a file
 * or from memory (memory wins when both are given).
 *
 * Server: cert (the chain, leaf first) and key are required.
 * Client: the trust anchors are ca_file / ca_pem, or the system trust store
 * when neither is given; `insecure` skips certificate verification
 * altogether (tests and interop only: the peer is then unauthenticated).
 *
 * priority: a GnuTLS priority string (for example
 * "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305" to force ChaCha20-Poly1305), or
 * NULL for GnuTLS's NORMAL. Whatever it says, TLS 1.3 is the only version
 * (RFC 9001 §4.2), the AES-CCM suites QUIC packet protection lacks are
 * removed, and middlebox compatibility mode is off (RFC 9001 §8.4).
 *
 * anti_replay_window_ms / anti_replay_capacity (server): the 0-RTT
 * anti-replay window and the most ClientHellos remembered in one window
 * (0: the defaults above). When the record is full, further 0-RTT attempts
 * in that window are refused (the handshake still succeeds, in 1-RTT).
 */
typedef struct skiff_tls_credentials_config {
    skiff_role role;
    const char *cert_file;
    const char *key_file;
    const uint8_t *cert_pem;
    size_t cert_pem_len;
    const uint8_t *key_pem;
    size_t key_pem_len;
    const char *ca_file;
    const uint8_t *ca_pem;
    size_t ca_pem_len;
    bool insecure;
    const char *priority;
    uint32_t anti_replay_window_ms;
    uint32_t anti_replay_capacity;
} skiff_tls_credentials_config;

/*
 * Makes credentials (reads the files named). Returns 0;
 * SKIFF_ERR_INVALID_ARGUMENT for a missing server certificate or key, an
 * unreadable or malformed file or PEM, a key that does not match, or a
 * priority string GnuTLS rejects; SKIFF_ERR_NOMEM; SKIFF_ERR_CRYPTO if GnuTLS
 * failed otherwise. *out is NULL on failure.
 *
 * One credentials object may serve many sessions, but not from two threads
 * at once (the anti-replay record is not locked). It must outlive them.
 */
int skiff_tls_credentials_new(skiff_tls_credentials **out, const skiff_tls_credentials_config *cfg);

/*
 * A fresh self-signed P-256 certificate and key, in PEM, for localhost,
 * 127.0.0.1 and ::1, valid from an hour before `unix_now` (seconds since the
 * epoch, the caller's wall clock) for 30 days (tls_selfsigned.c): for a
 * server run without a certificate, and for tests. The caller frees both
 * with free(). Returns 0, SKIFF_ERR_NOMEM or SKIFF_ERR_CRYPTO.
 */
int skiff_tls_self_signed(int64_t unix_now, uint8_t **cert_pem, size_t *cert_len, uint8_t **key_pem,
                          size_t *key_len);

/* Frees the credentials (NULL is accepted). */
void skiff_tls_credentials_free(skiff_tls_credentials *c);

/* How many ClientHellos the anti-replay record holds in its current window. */
size_t skiff_tls_credentials_anti_replay_count(const skiff_tls_credentials *c);

/*
 * One connection's TLS configuration. Everything is copied by
 * skiff_tls_new(); nothing needs to outlive the call but the credentials.
 *
 * server_name (client): sent as SNI (unless it is an IP address literal,
 * RFC 6066 §3) and matched against the server's certificate. Required
 * unless the credentials are insecure.
 *
 * alpn: the protocols offered (client) or accepted (server), most preferred
 * first; at least one. The server picks the first of its own list that the
 * client offered; with no overlap the handshake fails with
 * no_application_protocol (RFC 9001 §8.1).
 *
 * transport_params: this endpoint's encoded transport parameters (RFC 9000
 * §18), sent in the quic_transport_parameters extension; at least one byte.
 *
 * session_data (client): what on_session_ticket handed over on an earlier
 * connection to the same server, to resume it (opaque; it holds the ALPN
 * and whether 0-RTT is allowed beside GnuTLS's session).
 *
 * enable_0rtt: client, offer early data when session_data allows it; server,
 * issue tickets that allow it and accept it after the anti-replay check.
 */
typedef struct skiff_tls_config {
    skiff_role role;
    skiff_tls_credentials *credentials;
    const char *server_name;
    const char *const *alpn;
    size_t alpn_count;
    const uint8_t *transport_params;
    size_t transport_params_len;
    const uint8_t *session_data;
    size_t session_data_len;
    bool enable_0rtt;
} skiff_tls_config;

/*
 * The connection's side of the glue. Each callback that returns int returns
 * 0, or a negative SKIFF_ERR_* code that aborts the handshake: the call into
 * skiff_tls that ran it returns that code, and skiff_tls_error_code() maps
 * it to the wire (for example SKIFF_ERR_TRANSPORT_PARAMETER closes with
 * TRANSPORT_PARAMETER_ERROR, RFC 9000 §7.4). Callbacks must not free the
 * session.
 *
 * on_secret: a traffic secret for one direction of one level (Handshake,
 * 0-RTT, 1-RTT; RFC 9001 §4.1.4), `len` being the suite's hash length, for
 * skiff_packet_keys_from_secret(); valid during the call only.
 *
 * on_crypto_data: handshake bytes to send in CRYPTO frames at `level`, in
 * order (RFC 9001 §4.1.3). The caller copies them.
 *
 * on_peer_transport_params: the peer's quic_transport_parameters extension
 * body, raw, once, for the caller to decode (quic/transport_params.h).
 *
 * on_keylog (optional): one SSLKEYLOGFILE line, without a newline.
 *
 * on_session_ticket (client, optional): data that resumes this session,
 * handed over for each NewSessionTicket the server sends. The caller keeps
 * the server's transport parameters beside it (RFC 9000 §7.4.1).
 */
typedef struct skiff_tls_callbacks {
    int (*on_secret)(void *ud, skiff_crypto_level level, bool is_write, skiff_cipher_suite suite,
                     const uint8_t *secret, size_t len);
    int (*on_crypto_data)(void *ud, skiff_crypto_level level, const uint8_t *data, size_t len);
    int (*on_peer_transport_params)(void *ud, const uint8_t *data, size_t len);
    void (*on_keylog)(void *ud, const char *line);
    int (*on_session_ticket)(void *ud, const uint8_t *data, size_t len);
} skiff_tls_callbacks;

/*
 * Makes a session. on_secret, on_crypto_data and on_peer_transport_params
 * are required. Returns 0; SKIFF_ERR_INVALID_ARGUMENT (a missing field, a
 * role that differs from the credentials', more than SKIFF_TLS_MAX_ALPN or
 * an empty or over-long ALPN name, session data GnuTLS cannot use);
 * SKIFF_ERR_NOMEM; SKIFF_ERR_CRYPTO. *out is NULL on failure.
 */
int skiff_tls_new(skiff_tls **out, const skiff_tls_config *cfg, const skiff_tls_callbacks *cb,
                  void *ud);

/* Frees the session and wipes its secrets (NULL is accepted). */
void skiff_tls_free(skiff_tls *tls);

/*
 * Starts the handshake. A client writes its ClientHello through
 * on_crypto_data at the Initial level, and, when it offers 0-RTT, gets the
 * 0-RTT write secret. A server does nothing until skiff_tls_receive().
 * Returns 0, or the errors of skiff_tls_receive(); a second call returns
 * SKIFF_ERR_INVALID_ARGUMENT.
 */
int skiff_tls_start(skiff_tls *tls);

/*
 * Hands TLS the next in-order CRYPTO bytes received at `level`. The
 * callbacks run from inside: the response flight, new secrets, the peer's
 * transport parameters. After the handshake it takes post-handshake
 * messages (a NewSessionTicket on a client).
 *
 * Returns 0 (the handshake may still need more bytes); the code a callback
 * returned; SKIFF_ERR_PROTOCOL_VIOLATION for CRYPTO data at the 0-RTT level,
 * which no packet may carry (RFC 9000 §12.4), at a level whose read secret
 * was never handed over, at a level TLS is no longer reading (RFC 9001
 * §4.1.3), or for a ClientHello asking for middlebox compatibility mode
 * (RFC 9001 §8.4); SKIFF_ERR_CRYPTO when the
 * handshake failed with a TLS alert (skiff_tls_alert()); SKIFF_ERR_NOMEM.
 * A failure is final: every later call returns the same code.
 * skiff_tls_error_code() gives the wire code to close the connection with.
 */
int skiff_tls_receive(skiff_tls *tls, skiff_crypto_level level, const uint8_t *data, size_t len);

/*
 * The TLS alert this endpoint failed the handshake with (RFC 8446 §6.2), or
 * -1 when it has not failed with one. QUIC sends it as CRYPTO_ERROR
 * 0x100 + alert in CONNECTION_CLOSE (RFC 9001 §4.8), never as a record.
 */
int skiff_tls_alert(const skiff_tls *tls);

/*
 * The RFC 9000 §20.1 error code to close the connection with after a
 * failure: CRYPTO_ERROR 0x100 + alert for a TLS failure, the mapping of a
 * callback's code otherwise (skiff_err_transport_code()); SKIFF_TE_NONE
 * (UINT64_MAX) when nothing failed.
 */
uint64_t skiff_tls_error_code(const skiff_tls *tls);

/* Whether the handshake has completed on this side (RFC 9001 §4.1.1). */
bool skiff_tls_handshake_complete(const skiff_tls *tls);

/* The negotiated ALPN protocol (not NUL-terminated), its length in *len, or
 * NULL before it is known. */
const char *skiff_tls_alpn(const skiff_tls *tls, size_t *len);

/* Client: the ALPN protocol the 0-RTT data must speak (the one the resumed
 * session agreed on), or NULL when 0-RTT is not offered: it is offered only
 * when the ticket allows it and `alpn` lists that protocol again. If the
 * server accepts 0-RTT under another protocol, the handshake fails with
 * illegal_parameter. */
const char *skiff_tls_early_alpn(const skiff_tls *tls, size_t *len);

/* The negotiated cipher suite, or 0 before the ServerHello. */
skiff_cipher_suite skiff_tls_cipher_suite(const skiff_tls *tls);

/* Whether the server accepted 0-RTT (known once the handshake completes on a
 * client; once the ClientHello is processed on a server). A client whose
 * 0-RTT was refused discards its 0-RTT keys and resends that data. */
bool skiff_tls_early_data_accepted(const skiff_tls *tls);

/* Whether the handshake resumed a session (known after the ServerHello). */
bool skiff_tls_resumed(const skiff_tls *tls);

/*
 * Server: sends one NewSessionTicket at the 1-RTT level through
 * on_crypto_data (RFC 8446 §4.6.1). Call once the handshake is complete.
 * Returns 0; SKIFF_ERR_INVALID_ARGUMENT on a client or before the handshake
 * completes; SKIFF_ERR_CRYPTO; SKIFF_ERR_NOMEM; a callback's code.
 */
int skiff_tls_send_session_ticket(skiff_tls *tls);

#endif
