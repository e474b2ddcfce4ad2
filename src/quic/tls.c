/*
 * The TLS 1.3 handshake for QUIC (RFC 9001 §4) over GnuTLS's QUIC
 * interface, which replaces the TLS record layer with four hooks:
 *
 *   read function      GnuTLS hands over each handshake message it would
 *                      send, with its encryption level: CRYPTO data (§4.1.3)
 *   secret function    the traffic secrets of a level as it is reached (§4.1.4)
 *   alert function     the alert it would send: CRYPTO_ERROR 0x100+alert (§4.8)
 *   handshake_write    received CRYPTO bytes of a level, then gnutls_handshake
 *
 * and adds the quic_transport_parameters extension (§8.2) as a per-session
 * extension in ClientHello and EncryptedExtensions, ALPN as mandatory (§8.1),
 * no middlebox compatibility mode (§8.4), no EndOfEarlyData and a 0xffffffff
 * max_early_data_size for 0-RTT (§4.6, §8.3), a refusal of KeyUpdate
 * messages (§6), and the server's anti-replay record for 0-RTT (RFC 8446
 * §8.2), bounded.
 *
 * This is the only file of skiff that uses GnuTLS's TLS session API. GnuTLS
 * reads the wall clock here (certificate validity, tickets, the anti-replay
 * window); the connection's `now` plays no part.
 */
#include "quic/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/error.h"

/* ------------------------------------------------------------------------ */
/* The anti-replay record                                                   */
/* ------------------------------------------------------------------------ */

/*
 * GnuTLS asks us to store a key for each ClientHello that attempts 0-RTT and
 * to refuse a key already stored. The key starts with the 12-byte start time
 * of the current window, so once the window rolls over no earlier key can
 * match again: the record keeps one window only and empties itself when the
 * prefix changes. It stores a SHA-256 digest of each key in an open-addressed
 * table of twice the capacity; when `capacity` keys are stored, further 0-RTT
 * attempts of that window are refused (the handshake goes on in 1-RTT), so a
 * flood of ClientHellos cannot grow it.
 */
#define REPLAY_PREFIX_LEN 12
#define REPLAY_DIGEST_LEN 32

typedef struct replay_record {
    uint8_t (*slots)[REPLAY_DIGEST_LEN]; /* all-zero: empty */
    size_t nslots;                       /* a power of two, >= 2 * capacity */
    size_t count;
    size_t capacity;
    uint8_t prefix[REPLAY_PREFIX_LEN];
    bool has_prefix;
} replay_record;

struct skiff_tls_credentials {
    skiff_role role;
    bool insecure;
    gnutls_certificate_credentials_t cert;
    gnutls_priority_t priority;
    gnutls_datum_t ticket_key;        /* server */
    gnutls_anti_replay_t anti_replay; /* server */
    replay_record replay;
};

static bool slot_empty(const uint8_t *slot)
{
    for (size_t i = 0; i < REPLAY_DIGEST_LEN; i++)
        if (slot[i]) return false;
    return true;
}

/* gnutls_db_add_func: 0 if the key was new and is now stored,
 * GNUTLS_E_DB_ENTRY_EXISTS for a replay, another error (0-RTT refused too)
 * when the record is full. */
static int replay_add(void *ptr, time_t exp_time, const gnutls_datum_t *key,
                      const gnutls_datum_t *data)
{
    (void)exp_time;
    (void)data;
    replay_record *r = ptr;
    if (key->size < REPLAY_PREFIX_LEN) return GNUTLS_E_INTERNAL_ERROR;
    if (!r->has_prefix || memcmp(r->prefix, key->data, REPLAY_PREFIX_LEN) != 0) {
        if (r->slots) memset(r->slots, 0, r->nslots * REPLAY_DIGEST_LEN);
        r->count = 0;
        memcpy(r->prefix, key->data, REPLAY_PREFIX_LEN);
        r->has_prefix = true;
    }
    if (!r->slots) {
        size_t n = 1;
        while (n < 2 * r->capacity)
            n <<= 1;
        r->slots = calloc(n, REPLAY_DIGEST_LEN);
        if (!r->slots) return GNUTLS_E_MEMORY_ERROR;
        r->nslots = n;
    }
    uint8_t digest[REPLAY_DIGEST_LEN];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, key->data + REPLAY_PREFIX_LEN,
                         key->size - REPLAY_PREFIX_LEN, digest) < 0)
        return GNUTLS_E_INTERNAL_ERROR;
    if (slot_empty(digest)) digest[0] = 1; /* keep all-zero for "empty" */
    size_t mask = r->nslots - 1;
    size_t i = ((size_t)digest[0] | (size_t)digest[1] << 8 | (size_t)digest[2] << 16 |
                (size_t)digest[3] << 24) &
               mask;
    for (;; i = (i + 1) & mask) {
        if (slot_empty(r->slots[i])) break;
        if (memcmp(r->slots[i], digest, REPLAY_DIGEST_LEN) == 0) return GNUTLS_E_DB_ENTRY_EXISTS;
    }
    if (r->count >= r->capacity) return GNUTLS_E_DB_ERROR;
    memcpy(r->slots[i], digest, REPLAY_DIGEST_LEN);
    r->count++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Credentials                                                              */
/* ------------------------------------------------------------------------ */

/* Always appended to the caller's priority: TLS 1.3 only (RFC 9001 §4.2),
 * no AES-CCM (QUIC packet protection here has no CCM), no middlebox
 * compatibility mode (§8.4). */
static const char PRIORITY_SUFFIX[] =
    ":-VERS-ALL:+VERS-TLS1.3:-AES-128-CCM:-AES-128-CCM-8:%DISABLE_TLS13_COMPAT_MODE";

/* PEM from memory when given, else from the file; data->data is NULL when
 * neither is. Returns 0 or SKIFF_ERR_INVALID_ARGUMENT (unreadable file). */
static int load_pem(const char *file, const uint8_t *mem, size_t mem_len, gnutls_datum_t *data,
                    bool *owned)
{
    *owned = false;
    data->data = NULL;
    data->size = 0;
    if (mem && mem_len) {
        if (mem_len > UINT32_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
        data->data = (unsigned char *)mem;
        data->size = (unsigned)mem_len;
        return 0;
    }
    if (!file) return 0;
    if (gnutls_load_file(file, data) < 0) return SKIFF_ERR_INVALID_ARGUMENT;
    *owned = true;
    return 0;
}

static int gnutls_to_skiff(int rv)
{
    return rv == GNUTLS_E_MEMORY_ERROR ? SKIFF_ERR_NOMEM : SKIFF_ERR_CRYPTO;
}

int skiff_tls_credentials_new(skiff_tls_credentials **out, const skiff_tls_credentials_config *cfg)
{
    *out = NULL;
    if (!cfg || (cfg->role != SKIFF_ROLE_CLIENT && cfg->role != SKIFF_ROLE_SERVER))
        return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_tls_credentials *c = calloc(1, sizeof(*c));
    if (!c) return SKIFF_ERR_NOMEM;
    c->role = cfg->role;
    c->insecure = cfg->insecure;
    int err = SKIFF_ERR_CRYPTO;
    int rv = gnutls_certificate_allocate_credentials(&c->cert);
    if (rv < 0) {
        c->cert = NULL;
        err = gnutls_to_skiff(rv);
        goto fail;
    }

    /* The priority cache, shared by every session of these credentials. */
    const char *base = cfg->priority ? cfg->priority : "NORMAL";
    size_t plen = strlen(base) + sizeof(PRIORITY_SUFFIX);
    char *prio = malloc(plen);
    if (!prio) {
        err = SKIFF_ERR_NOMEM;
        goto fail;
    }
    snprintf(prio, plen, "%s%s", base, PRIORITY_SUFFIX);
    rv = gnutls_priority_init2(&c->priority, prio, NULL, 0);
    free(prio);
    if (rv < 0) {
        c->priority = NULL;
        err = rv == GNUTLS_E_MEMORY_ERROR ? SKIFF_ERR_NOMEM : SKIFF_ERR_INVALID_ARGUMENT;
        goto fail;
    }

    if (cfg->role == SKIFF_ROLE_SERVER) {
        gnutls_datum_t cert, key;
        bool cert_owned, key_owned;
        err = load_pem(cfg->cert_file, cfg->cert_pem, cfg->cert_pem_len, &cert, &cert_owned);
        if (err) goto fail;
        err = load_pem(cfg->key_file, cfg->key_pem, cfg->key_pem_len, &key, &key_owned);
        if (err) {
            if (cert_owned) gnutls_free(cert.data);
            goto fail;
        }
        rv = cert.data && key.data ? gnutls_certificate_set_x509_key_mem2(
                                         c->cert, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0)
                                   : GNUTLS_E_INVALID_REQUEST;
        if (cert_owned) gnutls_free(cert.data);
        if (key_owned) {
            gnutls_memset(key.data, 0, key.size);
            gnutls_free(key.data);
        }
        if (rv < 0) {
            err = rv == GNUTLS_E_MEMORY_ERROR ? SKIFF_ERR_NOMEM : SKIFF_ERR_INVALID_ARGUMENT;
            goto fail;
        }
        rv = gnutls_session_ticket_key_generate(&c->ticket_key);
        if (rv < 0) {
            c->ticket_key.data = NULL;
            err = gnutls_to_skiff(rv);
            goto fail;
        }
        rv = gnutls_anti_replay_init(&c->anti_replay);
        if (rv < 0) {
            c->anti_replay = NULL;
            err = gnutls_to_skiff(rv);
            goto fail;
        }
        c->replay.capacity =
            cfg->anti_replay_capacity ? cfg->anti_replay_capacity : SKIFF_TLS_ANTI_REPLAY_CAPACITY;
        gnutls_anti_replay_set_window(c->anti_replay, cfg->anti_replay_window_ms
                                                          ? cfg->anti_replay_window_ms
                                                          : SKIFF_TLS_ANTI_REPLAY_WINDOW_MS);
        gnutls_anti_replay_set_add_function(c->anti_replay, replay_add);
        gnutls_anti_replay_set_ptr(c->anti_replay, &c->replay);
    } else if (!cfg->insecure) {
        gnutls_datum_t ca;
        bool ca_owned;
        err = load_pem(cfg->ca_file, cfg->ca_pem, cfg->ca_pem_len, &ca, &ca_owned);
        if (err) goto fail;
        if (ca.data)
            rv = gnutls_certificate_set_x509_trust_mem(c->cert, &ca, GNUTLS_X509_FMT_PEM);
        else
            rv = gnutls_certificate_set_x509_system_trust(c->cert);
        if (ca_owned) gnutls_free(ca.data);
        /* A trust store with no certificate in it verifies nothing. */
        if (rv <= 0) {
            err = rv == GNUTLS_E_MEMORY_ERROR ? SKIFF_ERR_NOMEM : SKIFF_ERR_INVALID_ARGUMENT;
            goto fail;
        }
    }
    *out = c;
    return 0;

fail:
    skiff_tls_credentials_free(c);
    return err;
}

void skiff_tls_credentials_free(skiff_tls_credentials *c)
{
    if (!c) return;
    if (c->cert) gnutls_certificate_free_credentials(c->cert);
    if (c->priority) gnutls_priority_deinit(c->priority);
    if (c->ticket_key.data) {
        gnutls_memset(c->ticket_key.data, 0, c->ticket_key.size);
        gnutls_free(c->ticket_key.data);
    }
    if (c->anti_replay) gnutls_anti_replay_deinit(c->anti_replay);
    free(c->replay.slots);
    free(c);
}

size_t skiff_tls_credentials_anti_replay_count(const skiff_tls_credentials *c)
{
    return c->replay.count;
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

struct skiff_tls {
    gnutls_session_t session;
    skiff_tls_credentials *cred;
    skiff_tls_callbacks cb;
    void *ud;
    skiff_role role;
    uint8_t *tp; /* our transport parameters, sent in the extension */
    size_t tp_len;
    int alert;            /* the alert we failed with, or -1 */
    int cb_error;         /* a callback's or a QUIC rule's error, or 0 */
    int failed;           /* the sticky error of a failed handshake, or 0 */
    unsigned read_levels; /* bit per level whose read secret was handed over */
    bool started;
    bool complete;
    bool peer_tp_seen;
    uint8_t peer_tp_digest[32]; /* SHA-256 of the peer's transport parameters */
    bool ee_seen;               /* client: EncryptedExtensions arrived ... */
    bool ee_checked;            /* ... and was checked (check_hello) */
    bool ticket_allows_0rtt;    /* client: of the NewSessionTicket being processed */
    uint8_t early_alpn[SKIFF_TLS_ALPN_MAX_LEN]; /* client: what 0-RTT data speaks */
    uint8_t early_alpn_len;                     /* 0: no 0-RTT offered */
    skiff_cipher_suite suite;
};

static skiff_crypto_level level_from_gnutls(gnutls_record_encryption_level_t l)
{
    switch (l) {
    case GNUTLS_ENCRYPTION_LEVEL_INITIAL:
        return SKIFF_LEVEL_INITIAL;
    case GNUTLS_ENCRYPTION_LEVEL_EARLY:
        return SKIFF_LEVEL_0RTT;
    case GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE:
        return SKIFF_LEVEL_HANDSHAKE;
    default:
        return SKIFF_LEVEL_1RTT;
    }
}

static gnutls_record_encryption_level_t level_to_gnutls(skiff_crypto_level l)
{
    switch (l) {
    case SKIFF_LEVEL_INITIAL:
        return GNUTLS_ENCRYPTION_LEVEL_INITIAL;
    case SKIFF_LEVEL_0RTT:
        return GNUTLS_ENCRYPTION_LEVEL_EARLY;
    case SKIFF_LEVEL_HANDSHAKE:
        return GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE;
    default:
        return GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
    }
}

/* The suite of a GnuTLS cipher, or 0 for one QUIC cannot use here. */
static skiff_cipher_suite suite_from_gnutls(gnutls_cipher_algorithm_t c)
{
    switch (c) {
    case GNUTLS_CIPHER_AES_128_GCM:
        return SKIFF_SUITE_AES_128_GCM_SHA256;
    case GNUTLS_CIPHER_AES_256_GCM:
        return SKIFF_SUITE_AES_256_GCM_SHA384;
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
        return SKIFF_SUITE_CHACHA20_POLY1305_SHA256;
    default:
        return (skiff_cipher_suite)0;
    }
}

/* Records the first failure of a QUIC rule or callback; the GnuTLS hook
 * that noticed it then returns an error, which ends gnutls_handshake(). */
static int fail_with(skiff_tls *tls, int err, int alert)
{
    if (!tls->cb_error) {
        tls->cb_error = err;
        if (alert >= 0 && tls->alert < 0) tls->alert = alert;
    }
    return GNUTLS_E_USER_ERROR;
}

static int secret_func(gnutls_session_t s, gnutls_record_encryption_level_t glevel,
                       const void *secret_read, const void *secret_write, size_t size)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    skiff_crypto_level level = level_from_gnutls(glevel);
    skiff_cipher_suite suite =
        suite_from_gnutls(glevel == GNUTLS_ENCRYPTION_LEVEL_EARLY ? gnutls_early_cipher_get(s)
                                                                  : gnutls_cipher_get(s));
    if (!suite) return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_HANDSHAKE_FAILURE);
    if (glevel != GNUTLS_ENCRYPTION_LEVEL_EARLY) tls->suite = suite;
    /* Read keys first: a level's write keys are of no use before the peer
     * can be heard at it, and installing read first never drops a packet. */
    if (secret_read) {
        tls->read_levels |= 1u << level;
        int err = tls->cb.on_secret(tls->ud, level, false, suite, secret_read, size);
        if (err) return fail_with(tls, err, -1);
    }
    if (secret_write) {
        int err = tls->cb.on_secret(tls->ud, level, true, suite, secret_write, size);
        if (err) return fail_with(tls, err, -1);
    }
    return 0;
}

static int read_func(gnutls_session_t s, gnutls_record_encryption_level_t glevel,
                     gnutls_handshake_description_t htype, const void *data, size_t size)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    /* Never sent with compatibility mode off, and never in QUIC (§8.4). */
    if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC) return 0;
    int err = tls->cb.on_crypto_data(tls->ud, level_from_gnutls(glevel), data, size);
    return err ? fail_with(tls, err, -1) : 0;
}

static int alert_func(gnutls_session_t s, gnutls_record_encryption_level_t glevel,
                      gnutls_alert_level_t alevel, gnutls_alert_description_t desc)
{
    (void)glevel;
    skiff_tls *tls = gnutls_session_get_ptr(s);
    if (alevel == GNUTLS_AL_FATAL && tls->alert < 0) tls->alert = (int)desc;
    return 0;
}

static int keylog_func(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    gnutls_datum_t client_random, server_random;
    gnutls_session_get_random(s, &client_random, &server_random);
    char line[SKIFF_TLS_KEYLOG_LINE_MAX];
    size_t n = strlen(label);
    if (n + 2 + 2 * (size_t)client_random.size + 2 * (size_t)secret->size >= sizeof(line)) return 0;
    static const char hex[] = "0123456789abcdef";
    memcpy(line, label, n);
    line[n++] = ' ';
    for (unsigned i = 0; i < client_random.size; i++) {
        line[n++] = hex[client_random.data[i] >> 4];
        line[n++] = hex[client_random.data[i] & 15];
    }
    line[n++] = ' ';
    for (unsigned i = 0; i < secret->size; i++) {
        line[n++] = hex[secret->data[i] >> 4];
        line[n++] = hex[secret->data[i] & 15];
    }
    line[n] = '\0';
    tls->cb.on_keylog(tls->ud, line);
    gnutls_memset(line, 0, sizeof(line));
    return 0;
}

/* quic_transport_parameters (RFC 9001 §8.2): ours in ClientHello or
 * EncryptedExtensions, the peer's handed over raw. */
static int tp_send(gnutls_session_t s, gnutls_buffer_t extdata)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    int rv = gnutls_buffer_append_data(extdata, tls->tp, tls->tp_len);
    return rv < 0 ? rv : (int)tls->tp_len;
}

static int tp_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    uint8_t digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) < 0)
        return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_INTERNAL_ERROR);
    if (tls->peer_tp_seen) {
        /* After a HelloRetryRequest the server parses a second ClientHello,
         * whose extensions must be those of the first (RFC 8446 §4.1.2):
         * the caller has them already. GnuTLS refuses duplicates within one
         * message itself. */
        if (tls->role == SKIFF_ROLE_SERVER && memcmp(digest, tls->peer_tp_digest, 32) == 0)
            return 0;
        return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_ILLEGAL_PARAMETER);
    }
    tls->peer_tp_seen = true;
    memcpy(tls->peer_tp_digest, digest, 32);
    int err = tls->cb.on_peer_transport_params(tls->ud, data, len);
    return err ? fail_with(tls, err, -1) : 0;
}

/* What a ClientHello (server) or EncryptedExtensions (client) must have
 * carried: transport parameters (§8.2) and an agreed ALPN (§8.1). */
static int check_hello(skiff_tls *tls)
{
    if (!tls->peer_tp_seen)
        return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_MISSING_EXTENSION);
    gnutls_datum_t proto;
    if (gnutls_alpn_get_selected_protocol(tls->session, &proto) < 0 || proto.size == 0)
        return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_NO_APPLICATION_PROTOCOL);
    /* 0-RTT accepted under another protocol than the data was sent in
     * (RFC 8446 §4.2.10 makes this the server's check; GnuTLS skips it). */
    if (tls->role == SKIFF_ROLE_CLIENT && tls->early_alpn_len &&
        (gnutls_session_get_flags(tls->session) & GNUTLS_SFLAGS_EARLY_DATA) &&
        (proto.size != tls->early_alpn_len || memcmp(proto.data, tls->early_alpn, proto.size) != 0))
        return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_ILLEGAL_PARAMETER);
    return 0;
}

/*
 * The session data handed to on_session_ticket is GnuTLS's packed session
 * behind a header of ours:
 *
 *   format (1) = 0x51 | flags (1) | ALPN length (1) | ALPN | GnuTLS session
 *
 * flags say whether the ticket allows 0-RTT. GnuTLS 3.7.9's client offers
 * early data on any resumption when asked to, whatever the ticket said, so
 * the client keeps that knowledge itself and asks only when the ticket
 * allowed it (RFC 8446 §4.2.10, RFC 9001 §4.6.1). The ALPN is the one the
 * original connection agreed on: 0-RTT data speaks it, so the client offers
 * 0-RTT only when it offers that protocol again, and refuses a server that
 * accepts 0-RTT under another (GnuTLS's server does not check, §4.2.10).
 */
#define SESSION_DATA_FORMAT 0x51
#define SESSION_DATA_ALLOWS_0RTT 0x01
#define SESSION_DATA_HEADER 3

/*
 * The early_data extension of a NewSessionTicket body (RFC 8446 §4.6.1):
 *
 *   ticket_lifetime (4) ticket_age_add (4) ticket_nonce<0..255>
 *   ticket<1..2^16-1> extensions<0..2^16-2>
 *
 * Sets *allows_0rtt when it is there. Returns 0, or a QUIC error: a value
 * other than 0xffffffff is a PROTOCOL_VIOLATION (RFC 9001 §4.6.1). A
 * malformed body is left to GnuTLS, which parses it too.
 */
static int ticket_early_data(const uint8_t *p, size_t n, bool *allows_0rtt)
{
    *allows_0rtt = false;
    size_t off = 8;
    if (off + 1 > n) return 0;
    off += 1 + (size_t)p[off];
    if (off + 2 > n) return 0;
    off += 2 + ((size_t)p[off] << 8 | p[off + 1]);
    if (off + 2 > n) return 0;
    size_t end = off + 2 + ((size_t)p[off] << 8 | p[off + 1]);
    if (end > n) return 0;
    for (off += 2; off + 4 <= end;) {
        unsigned type = (unsigned)p[off] << 8 | p[off + 1];
        size_t len = (size_t)p[off + 2] << 8 | p[off + 3];
        off += 4;
        if (off + len > end) return 0;
        if (type == 0x2a) {
            if (len != 4 || p[off] != 0xff || p[off + 1] != 0xff || p[off + 2] != 0xff ||
                p[off + 3] != 0xff)
                return SKIFF_ERR_PROTOCOL_VIOLATION;
            *allows_0rtt = true;
        }
        off += len;
    }
    return 0;
}

/* A NewSessionTicket was processed (POST hook; ticket_allows_0rtt came
 * from its PRE hook, which sees the whole body). */
static int session_ticket_received(skiff_tls *tls)
{
    if (!tls->cb.on_session_ticket) return 0;
    gnutls_datum_t data;
    int rv = gnutls_session_get_data2(tls->session, &data);
    if (rv < 0) return fail_with(tls, gnutls_to_skiff(rv), SKIFF_TLS_ALERT_INTERNAL_ERROR);
    gnutls_datum_t alpn = {NULL, 0};
    if (gnutls_alpn_get_selected_protocol(tls->session, &alpn) < 0 ||
        alpn.size > SKIFF_TLS_ALPN_MAX_LEN)
        alpn.size = 0;
    size_t header = SESSION_DATA_HEADER + alpn.size;
    uint8_t *blob = malloc(header + (size_t)data.size);
    if (!blob) {
        gnutls_free(data.data);
        return fail_with(tls, SKIFF_ERR_NOMEM, SKIFF_TLS_ALERT_INTERNAL_ERROR);
    }
    blob[0] = SESSION_DATA_FORMAT;
    blob[1] = tls->ticket_allows_0rtt ? SESSION_DATA_ALLOWS_0RTT : 0;
    blob[2] = (uint8_t)alpn.size;
    if (alpn.size) memcpy(blob + SESSION_DATA_HEADER, alpn.data, alpn.size);
    memcpy(blob + header, data.data, data.size);
    size_t blob_len = header + (size_t)data.size;
    gnutls_free(data.data);
    int err = tls->cb.on_session_ticket(tls->ud, blob, blob_len);
    free(blob);
    return err ? fail_with(tls, err, -1) : 0;
}

static int hook_func(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                     const gnutls_datum_t *msg)
{
    skiff_tls *tls = gnutls_session_get_ptr(s);
    if (!incoming) return 0;
    if (when == GNUTLS_HOOK_PRE) {
        /* GnuTLS parses EncryptedExtensions after its POST hook, so the
         * client checks it at the next message (Certificate,
         * CertificateRequest or, resuming, Finished). */
        if (tls->role == SKIFF_ROLE_CLIENT && tls->ee_seen && !tls->ee_checked) {
            tls->ee_checked = true;
            int rv = check_hello(tls);
            if (rv) return rv;
        }
        switch (htype) {
        case GNUTLS_HANDSHAKE_CLIENT_HELLO:
            /* legacy_version (2), random (32), legacy_session_id<0..32>: a
             * non-empty session ID asks for compatibility mode (§8.4). */
            if (tls->role == SKIFF_ROLE_SERVER && msg->size > 34 && msg->data[34] != 0)
                return fail_with(tls, SKIFF_ERR_PROTOCOL_VIOLATION, -1);
            return 0;
        case GNUTLS_HANDSHAKE_KEY_UPDATE:
            /* QUIC has its own key update (§6). */
            return fail_with(tls, SKIFF_ERR_CRYPTO, SKIFF_TLS_ALERT_UNEXPECTED_MESSAGE);
        case GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS:
            tls->ee_seen = true;
            return 0;
        case GNUTLS_HANDSHAKE_NEW_SESSION_TICKET: {
            if (tls->role != SKIFF_ROLE_CLIENT) return 0;
            int err = ticket_early_data(msg->data, msg->size, &tls->ticket_allows_0rtt);
            return err ? fail_with(tls, err, -1) : 0;
        }
        case GNUTLS_HANDSHAKE_END_OF_EARLY_DATA:
            return fail_with(tls, SKIFF_ERR_PROTOCOL_VIOLATION, -1); /* §8.3 */
        default:
            return 0;
        }
    }
    switch (htype) {
    case GNUTLS_HANDSHAKE_CLIENT_HELLO:
        /* A server's POST hook runs once the ClientHello is parsed. */
        return tls->role == SKIFF_ROLE_SERVER ? check_hello(tls) : 0;
    case GNUTLS_HANDSHAKE_NEW_SESSION_TICKET:
        return tls->role == SKIFF_ROLE_CLIENT ? session_ticket_received(tls) : 0;
    default:
        return 0;
    }
}

/* An IP address literal is not sent as SNI (RFC 6066 §3). */
static bool is_ip_literal(const char *name)
{
    if (strchr(name, ':')) return true;
    for (const char *p = name; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '.') return false;
    return true;
}

int skiff_tls_new(skiff_tls **out, const skiff_tls_config *cfg, const skiff_tls_callbacks *cb,
                  void *ud)
{
    *out = NULL;
    if (!cfg || !cb || !cfg->credentials || cfg->credentials->role != cfg->role || !cb->on_secret ||
        !cb->on_crypto_data || !cb->on_peer_transport_params || !cfg->transport_params ||
        cfg->transport_params_len == 0 || cfg->transport_params_len > UINT16_MAX || !cfg->alpn ||
        cfg->alpn_count == 0 || cfg->alpn_count > SKIFF_TLS_MAX_ALPN)
        return SKIFF_ERR_INVALID_ARGUMENT;
    bool client = cfg->role == SKIFF_ROLE_CLIENT;
    if (client && (cfg->server_name ? !cfg->server_name[0] : !cfg->credentials->insecure))
        return SKIFF_ERR_INVALID_ARGUMENT;
    gnutls_datum_t alpn[SKIFF_TLS_MAX_ALPN];
    for (size_t i = 0; i < cfg->alpn_count; i++) {
        size_t n = cfg->alpn[i] ? strlen(cfg->alpn[i]) : 0;
        if (n == 0 || n > SKIFF_TLS_ALPN_MAX_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
        alpn[i].data = (unsigned char *)cfg->alpn[i];
        alpn[i].size = (unsigned)n;
    }

    skiff_tls *tls = calloc(1, sizeof(*tls));
    if (!tls) return SKIFF_ERR_NOMEM;
    tls->cred = cfg->credentials;
    tls->cb = *cb;
    tls->ud = ud;
    tls->role = cfg->role;
    tls->alert = -1;
    tls->read_levels = 1u << SKIFF_LEVEL_INITIAL; /* from the DCID (RFC 9001 §5.2) */
    tls->tp = malloc(cfg->transport_params_len);
    if (!tls->tp) {
        free(tls);
        return SKIFF_ERR_NOMEM;
    }
    memcpy(tls->tp, cfg->transport_params, cfg->transport_params_len);
    tls->tp_len = cfg->transport_params_len;

    /* No EndOfEarlyData in QUIC (§8.3); the server sends tickets when the
     * connection asks, after the handshake. */
    bool early = cfg->enable_0rtt;
    const uint8_t *session_data = NULL;
    size_t session_data_len = 0;
    if (client && cfg->session_data && cfg->session_data_len) {
        const uint8_t *d = cfg->session_data;
        size_t n = cfg->session_data_len;
        if (n <= SESSION_DATA_HEADER || d[0] != SESSION_DATA_FORMAT ||
            n <= SESSION_DATA_HEADER + (size_t)d[2]) {
            skiff_tls_free(tls);
            return SKIFF_ERR_INVALID_ARGUMENT;
        }
        size_t header = SESSION_DATA_HEADER + (size_t)d[2];
        session_data = d + header;
        session_data_len = n - header;
        /* 0-RTT: the ticket allows it and we offer its protocol again. */
        bool offered = false;
        for (size_t i = 0; i < cfg->alpn_count; i++)
            offered = offered || (alpn[i].size == d[2] &&
                                  memcmp(alpn[i].data, d + SESSION_DATA_HEADER, d[2]) == 0);
        early = early && (d[1] & SESSION_DATA_ALLOWS_0RTT) && d[2] > 0 && offered;
        if (early) {
            memcpy(tls->early_alpn, d + SESSION_DATA_HEADER, d[2]);
            tls->early_alpn_len = d[2];
        }
    } else if (client) {
        early = false; /* 0-RTT needs a ticket */
    }
    unsigned flags = GNUTLS_NO_END_OF_EARLY_DATA;
    flags |= client ? GNUTLS_CLIENT : GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET;
    if (early) flags |= GNUTLS_ENABLE_EARLY_DATA;
    int err = SKIFF_ERR_CRYPTO;
    int rv = gnutls_init(&tls->session, flags);
    if (rv < 0) {
        tls->session = NULL;
        err = gnutls_to_skiff(rv);
        goto fail;
    }
    gnutls_session_set_ptr(tls->session, tls);
    if ((rv = gnutls_priority_set(tls->session, tls->cred->priority)) < 0 ||
        (rv = gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE, tls->cred->cert)) < 0)
        goto fail_rv;

    gnutls_handshake_set_secret_function(tls->session, secret_func);
    gnutls_handshake_set_read_function(tls->session, read_func);
    gnutls_alert_set_read_function(tls->session, alert_func);
    gnutls_handshake_set_hook_function(tls->session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
                                       hook_func);
    if (cb->on_keylog) gnutls_session_set_keylog_function(tls->session, keylog_func);
    rv = gnutls_session_ext_register(
        tls->session, "quic_transport_parameters", SKIFF_TLS_EXT_QUIC_TRANSPORT_PARAMETERS,
        GNUTLS_EXT_TLS, tp_recv, tp_send, NULL, NULL, NULL,
        GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE);
    if (rv < 0) goto fail_rv;
    rv = gnutls_alpn_set_protocols(tls->session, alpn, (unsigned)cfg->alpn_count,
                                   GNUTLS_ALPN_MANDATORY |
                                       (client ? 0 : GNUTLS_ALPN_SERVER_PRECEDENCE));
    if (rv < 0) goto fail_rv;

    if (client) {
        if (cfg->server_name && !is_ip_literal(cfg->server_name)) {
            rv = gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS, cfg->server_name,
                                        strlen(cfg->server_name));
            if (rv < 0) goto fail_rv;
        }
        if (!tls->cred->insecure) gnutls_session_set_verify_cert(tls->session, cfg->server_name, 0);
        if (session_data) {
            rv = gnutls_session_set_data(tls->session, session_data, session_data_len);
            if (rv < 0) {
                err = rv == GNUTLS_E_MEMORY_ERROR ? SKIFF_ERR_NOMEM : SKIFF_ERR_INVALID_ARGUMENT;
                goto fail;
            }
        }
    } else {
        rv = gnutls_session_ticket_enable_server(tls->session, &tls->cred->ticket_key);
        if (rv < 0) goto fail_rv;
        if (cfg->enable_0rtt) {
            /* A QUIC ticket allows 0-RTT with exactly this value (§4.6.1). */
            rv = gnutls_record_set_max_early_data_size(tls->session, 0xffffffffu);
            if (rv < 0) goto fail_rv;
            gnutls_anti_replay_enable(tls->session, tls->cred->anti_replay);
        }
    }
    *out = tls;
    return 0;

fail_rv:
    err = gnutls_to_skiff(rv);
fail:
    skiff_tls_free(tls);
    return err;
}

void skiff_tls_free(skiff_tls *tls)
{
    if (!tls) return;
    if (tls->session) gnutls_deinit(tls->session);
    free(tls->tp);
    free(tls);
}

/* The alert for a certificate the client's verification refused (RFC 8446
 * §6.2): the most specific reason GnuTLS reports. */
static int certificate_alert(gnutls_session_t s)
{
    unsigned status = gnutls_session_get_verify_cert_status(s);
    if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
        return SKIFF_TLS_ALERT_UNKNOWN_CA;
    if (status & GNUTLS_CERT_REVOKED) return SKIFF_TLS_ALERT_CERTIFICATE_REVOKED;
    if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
        return SKIFF_TLS_ALERT_CERTIFICATE_EXPIRED;
    return SKIFF_TLS_ALERT_BAD_CERTIFICATE;
}

/* Ends the handshake after gnutls_handshake() failed with rv: a QUIC rule
 * or callback's error wins, then the alert GnuTLS raised, then the alert
 * its error code maps to. */
static int handshake_failed(skiff_tls *tls, int rv)
{
    if (tls->cb_error) {
        tls->failed = tls->cb_error;
        return tls->failed;
    }
    if (rv == GNUTLS_E_MEMORY_ERROR) {
        tls->failed = SKIFF_ERR_NOMEM;
        return tls->failed;
    }
    if (tls->alert < 0) {
        if (rv == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            tls->alert = certificate_alert(tls->session);
        } else {
            int level;
            int a = gnutls_error_to_alert(rv, &level);
            tls->alert = a >= 0 ? a : SKIFF_TLS_ALERT_INTERNAL_ERROR;
        }
    }
    tls->failed = SKIFF_ERR_CRYPTO;
    return tls->failed;
}

static int drive(skiff_tls *tls)
{
    int rv = gnutls_handshake(tls->session);
    if (rv == 0) {
        tls->complete = true;
        return 0;
    }
    if (!gnutls_error_is_fatal(rv) && !tls->cb_error) return 0;
    return handshake_failed(tls, rv);
}

int skiff_tls_start(skiff_tls *tls)
{
    if (tls->started) return SKIFF_ERR_INVALID_ARGUMENT;
    tls->started = true;
    if (tls->role == SKIFF_ROLE_SERVER) return 0;
    return drive(tls);
}

int skiff_tls_receive(skiff_tls *tls, skiff_crypto_level level, const uint8_t *data, size_t len)
{
    if (tls->failed) return tls->failed;
    /* No packet carries CRYPTO data at 0-RTT (RFC 9000 §12.4), and none at
     * a level whose keys we never had could have been opened; GnuTLS
     * itself would take a ClientHello at any level. */
    if ((unsigned)level >= SKIFF_LEVEL_COUNT || level == SKIFF_LEVEL_0RTT ||
        !(tls->read_levels & (1u << level))) {
        tls->failed = tls->cb_error = SKIFF_ERR_PROTOCOL_VIOLATION;
        return tls->failed;
    }
    tls->started = true;
    if (len) {
        int rv = gnutls_handshake_write(tls->session, level_to_gnutls(level), data, len);
        /* Nothing is decrypted here: this is GnuTLS's way of saying the
         * bytes came at a level it is not reading (RFC 9001 §4.1.3). */
        if (rv == GNUTLS_E_DECRYPTION_FAILED && !tls->cb_error)
            tls->cb_error = SKIFF_ERR_PROTOCOL_VIOLATION;
        if (rv < 0) return handshake_failed(tls, rv);
        if (tls->cb_error) return handshake_failed(tls, GNUTLS_E_USER_ERROR);
    }
    if (tls->complete) return 0;
    return drive(tls);
}

int skiff_tls_alert(const skiff_tls *tls)
{
    return tls->alert;
}

uint64_t skiff_tls_error_code(const skiff_tls *tls)
{
    if (!tls->failed) return SKIFF_TE_NONE;
    if (tls->failed == SKIFF_ERR_CRYPTO && tls->alert >= 0)
        return SKIFF_TE_CRYPTO_ERROR_BASE + (uint64_t)tls->alert;
    return skiff_err_transport_code(tls->failed);
}

bool skiff_tls_handshake_complete(const skiff_tls *tls)
{
    return tls->complete;
}

const char *skiff_tls_alpn(const skiff_tls *tls, size_t *len)
{
    gnutls_datum_t proto;
    if (gnutls_alpn_get_selected_protocol(tls->session, &proto) < 0 || proto.size == 0) {
        *len = 0;
        return NULL;
    }
    *len = proto.size;
    return (const char *)proto.data;
}

const char *skiff_tls_early_alpn(const skiff_tls *tls, size_t *len)
{
    *len = tls->early_alpn_len;
    return tls->early_alpn_len ? (const char *)tls->early_alpn : NULL;
}

skiff_cipher_suite skiff_tls_cipher_suite(const skiff_tls *tls)
{
    return tls->suite;
}

bool skiff_tls_early_data_accepted(const skiff_tls *tls)
{
    return (gnutls_session_get_flags(tls->session) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

bool skiff_tls_resumed(const skiff_tls *tls)
{
    return gnutls_session_is_resumed(tls->session) != 0;
}

int skiff_tls_send_session_ticket(skiff_tls *tls)
{
    if (tls->role != SKIFF_ROLE_SERVER || !tls->complete || tls->failed)
        return SKIFF_ERR_INVALID_ARGUMENT;
    int rv = gnutls_session_ticket_send(tls->session, 1, 0);
    if (tls->cb_error) {
        int err = tls->cb_error;
        tls->cb_error = 0;
        return err;
    }
    return rv < 0 ? gnutls_to_skiff(rv) : 0;
}
