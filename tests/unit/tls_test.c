/*
 * The TLS glue (RFC 9001 §4): a client and a server session in one process,
 * each one's CRYPTO output handed to the other's skiff_tls_receive() at the
 * same level. The certificates are made at run time with GnuTLS's X.509
 * API (a CA, a server certificate for "localhost" it signs, and an
 * unrelated CA), so no key is checked in.
 *
 * Checked: the handshake completes; both sides see the same secrets per
 * level and direction, and packets sealed with one side's keys open with
 * the other's; transport parameters arrive byte for byte; ALPN choice and
 * refusal (120); the order of levels (§4.1); certificate failures (42, 48);
 * missing transport parameters (109, §8.2); compatibility mode refused
 * (§8.4); resumption, 0-RTT, anti-replay and its cap; forced ChaCha20 and
 * AES-256; keylog lines; hostile input.
 */
#include <ctype.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/error.h"
#include "quic/packet_protection.h"
#include "quic/tls.h"
#include "test.h"

/* ---- certificates, made once per run ---- */

typedef struct pem {
    gnutls_datum_t crt, key;
} pem;

static pem ca_pem, server_pem, other_ca_pem;

static void must(int rv, const char *what)
{
    if (rv < 0) {
        fprintf(stderr, "%s: %s\n", what, gnutls_strerror(rv));
        abort();
    }
}

/* A certificate for key, signed by issuer (self-signed when NULL). */
static void make_cert(pem *out, const char *dn, const char *dns_name, bool is_ca,
                      gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
                      gnutls_x509_crt_t *crt_out, gnutls_x509_privkey_t *key_out)
{
    static unsigned serial = 1;
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    must(gnutls_x509_privkey_init(&key), "privkey_init");
    must(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
         "privkey_generate");
    must(gnutls_x509_crt_init(&crt), "crt_init");
    must(gnutls_x509_crt_set_version(crt, 3), "set_version");
    unsigned char sn[4] = {0, 0, 0, (unsigned char)serial++};
    must(gnutls_x509_crt_set_serial(crt, sn, sizeof sn), "set_serial");
    time_t now = time(NULL);
    must(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation");
    must(gnutls_x509_crt_set_expiration_time(crt, now + 86400), "expiration");
    must(gnutls_x509_crt_set_dn(crt, dn, NULL), "set_dn");
    must(gnutls_x509_crt_set_key(crt, key), "set_key");
    must(gnutls_x509_crt_set_basic_constraints(crt, is_ca, -1), "basic_constraints");
    must(gnutls_x509_crt_set_key_usage(crt, is_ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                                  : GNUTLS_KEY_DIGITAL_SIGNATURE),
         "key_usage");
    if (dns_name) {
        must(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, dns_name,
                                                  (unsigned)strlen(dns_name), GNUTLS_FSAN_SET),
             "san");
        must(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose");
    }
    unsigned char kid[64];
    size_t kid_len = sizeof kid;
    must(gnutls_x509_crt_get_key_id(crt, 0, kid, &kid_len), "key_id");
    must(gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len), "subject_key_id");
    if (issuer) {
        kid_len = sizeof kid;
        must(gnutls_x509_crt_get_subject_key_id(issuer, kid, &kid_len, NULL), "issuer kid");
        must(gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len), "authority_key_id");
    }
    must(gnutls_x509_crt_sign2(crt, issuer ? issuer : crt, issuer ? issuer_key : key,
                               GNUTLS_DIG_SHA256, 0),
         "sign");
    must(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out->crt), "export crt");
    must(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out->key), "export key");
    if (crt_out)
        *crt_out = crt;
    else
        gnutls_x509_crt_deinit(crt);
    if (key_out)
        *key_out = key;
    else
        gnutls_x509_privkey_deinit(key);
}

static void make_certs(void)
{
    gnutls_x509_crt_t ca;
    gnutls_x509_privkey_t ca_key;
    make_cert(&ca_pem, "CN=skiff test CA", NULL, true, NULL, NULL, &ca, &ca_key);
    make_cert(&server_pem, "CN=localhost", "localhost", false, ca, ca_key, NULL, NULL);
    make_cert(&other_ca_pem, "CN=another CA", NULL, true, NULL, NULL, NULL, NULL);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(ca_key);
}

static void free_certs(void)
{
    pem *all[] = {&ca_pem, &server_pem, &other_ca_pem};
    for (size_t i = 0; i < 3; i++) {
        gnutls_free(all[i]->crt.data);
        gnutls_free(all[i]->key.data);
    }
}

static skiff_tls_credentials *server_creds_opt(const char *priority, uint32_t replay_cap)
{
    skiff_tls_credentials_config cfg = {
        .role = SKIFF_ROLE_SERVER,
        .cert_pem = server_pem.crt.data,
        .cert_pem_len = server_pem.crt.size,
        .key_pem = server_pem.key.data,
        .key_pem_len = server_pem.key.size,
        .priority = priority,
        .anti_replay_capacity = replay_cap,
    };
    skiff_tls_credentials *c = NULL;
    CHECK_EQ(skiff_tls_credentials_new(&c, &cfg), 0);
    return c;
}

static skiff_tls_credentials *server_creds(void)
{
    return server_creds_opt(NULL, 0);
}

static skiff_tls_credentials *client_creds_opt(const pem *ca, bool insecure, const char *priority)
{
    skiff_tls_credentials_config cfg = {
        .role = SKIFF_ROLE_CLIENT,
        .ca_pem = ca ? ca->crt.data : NULL,
        .ca_pem_len = ca ? ca->crt.size : 0,
        .insecure = insecure,
        .priority = priority,
    };
    skiff_tls_credentials *c = NULL;
    CHECK_EQ(skiff_tls_credentials_new(&c, &cfg), 0);
    return c;
}

static skiff_tls_credentials *client_creds(void)
{
    return client_creds_opt(&ca_pem, false, NULL);
}

/* ---- an endpoint: a session and what its callbacks saw ---- */

#define OUT_CAP 16384
#define MAX_EVENTS 64

typedef struct secret_rec {
    uint8_t bytes[64];
    size_t len;
    skiff_cipher_suite suite;
    int count;
} secret_rec;

typedef struct endpoint {
    skiff_tls *tls;
    const char *name;
    uint8_t out[SKIFF_LEVEL_COUNT][OUT_CAP]; /* CRYPTO bytes not yet delivered */
    size_t out_len[SKIFF_LEVEL_COUNT];
    size_t out_total[SKIFF_LEVEL_COUNT];
    secret_rec secret[SKIFF_LEVEL_COUNT][2]; /* [level][is_write] */
    uint8_t peer_tp[1024];
    size_t peer_tp_len;
    int peer_tp_calls;
    int tp_verdict; /* what on_peer_transport_params returns */
    uint8_t ticket[4096];
    size_t ticket_len;
    int tickets;
    char keylog[16][SKIFF_TLS_KEYLOG_LINE_MAX];
    int keylog_count;
    char events[MAX_EVENTS][16]; /* "data I", "rsec H", "wsec 1", ... */
    int event_count;
} endpoint;

static const char LEVEL_CH[] = "IEH1"; /* Initial, Early (0-RTT), Handshake, 1-RTT */

static void event(endpoint *e, const char *what, skiff_crypto_level level)
{
    if (e->event_count < MAX_EVENTS)
        snprintf(e->events[e->event_count++], sizeof e->events[0], "%s %c", what, LEVEL_CH[level]);
}

static int on_secret(void *ud, skiff_crypto_level level, bool is_write, skiff_cipher_suite suite,
                     const uint8_t *secret, size_t len)
{
    endpoint *e = ud;
    secret_rec *r = &e->secret[level][is_write];
    CHECK(len <= sizeof r->bytes);
    if (len > sizeof r->bytes) return SKIFF_ERR_INTERNAL;
    memcpy(r->bytes, secret, len);
    r->len = len;
    r->suite = suite;
    r->count++;
    event(e, is_write ? "wsec" : "rsec", level);
    return 0;
}

static int on_crypto_data(void *ud, skiff_crypto_level level, const uint8_t *data, size_t len)
{
    endpoint *e = ud;
    if (e->out_len[level] + len > OUT_CAP) return SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED;
    memcpy(e->out[level] + e->out_len[level], data, len);
    e->out_len[level] += len;
    e->out_total[level] += len;
    event(e, "data", level);
    return 0;
}

static int on_peer_tp(void *ud, const uint8_t *data, size_t len)
{
    endpoint *e = ud;
    e->peer_tp_calls++;
    if (len <= sizeof e->peer_tp) {
        memcpy(e->peer_tp, data, len);
        e->peer_tp_len = len;
    }
    return e->tp_verdict;
}

static void on_keylog(void *ud, const char *line)
{
    endpoint *e = ud;
    if (e->keylog_count < 16)
        snprintf(e->keylog[e->keylog_count++], SKIFF_TLS_KEYLOG_LINE_MAX, "%s", line);
}

static int on_ticket(void *ud, const uint8_t *data, size_t len)
{
    endpoint *e = ud;
    e->tickets++;
    CHECK(len <= sizeof e->ticket);
    if (len <= sizeof e->ticket) {
        memcpy(e->ticket, data, len);
        e->ticket_len = len;
    }
    return 0;
}

static const skiff_tls_callbacks callbacks = {
    .on_secret = on_secret,
    .on_crypto_data = on_crypto_data,
    .on_peer_transport_params = on_peer_tp,
    .on_keylog = on_keylog,
    .on_session_ticket = on_ticket,
};

/* Stand-ins for encoded transport parameters: the glue passes them raw. */
static const uint8_t client_tp[] = {0x0f, 0x04, 0xc1, 0x1e, 0x47, 0x01,
                                    0x04, 0x04, 0x80, 0x10, 0x00, 0x00};
static const uint8_t server_tp[] = {0x00, 0x08, 0x0d, 0xc1, 0xd0, 0x0d, 0xc1, 0xd0, 0x0d,
                                    0xc1, 0x0f, 0x02, 0x5e, 0x77, 0x01, 0x02, 0x67, 0x10};

static const char *const alpn_both[] = {"h3", "hq-interop"};

typedef struct opts {
    const char *const *alpn;
    size_t alpn_count;
    const char *server_name;
    const uint8_t *session_data;
    size_t session_data_len;
    bool enable_0rtt;
} opts;

static endpoint *endpoint_new(const char *name, skiff_role role, skiff_tls_credentials *creds,
                              const opts *o)
{
    endpoint *e = calloc(1, sizeof(*e));
    if (!e) abort();
    e->name = name;
    skiff_tls_config cfg = {
        .role = role,
        .credentials = creds,
        .server_name =
            role == SKIFF_ROLE_CLIENT ? (o && o->server_name ? o->server_name : "localhost") : NULL,
        .alpn = o && o->alpn ? o->alpn : alpn_both,
        .alpn_count = o && o->alpn ? o->alpn_count : 2,
        .transport_params = role == SKIFF_ROLE_CLIENT ? client_tp : server_tp,
        .transport_params_len = role == SKIFF_ROLE_CLIENT ? sizeof client_tp : sizeof server_tp,
        .session_data = o ? o->session_data : NULL,
        .session_data_len = o ? o->session_data_len : 0,
        .enable_0rtt = o && o->enable_0rtt,
    };
    CHECK_EQ(skiff_tls_new(&e->tls, &cfg, &callbacks, e), 0);
    if (!e->tls) abort();
    return e;
}

static void endpoint_free(endpoint *e)
{
    if (!e) return;
    skiff_tls_free(e->tls);
    free(e);
}

/* Delivers everything `from` has queued to `to`, level by level in order.
 * Returns the first error of skiff_tls_receive(). */
static int deliver(endpoint *from, endpoint *to)
{
    for (int l = 0; l < SKIFF_LEVEL_COUNT; l++) {
        if (!from->out_len[l]) continue;
        size_t n = from->out_len[l];
        uint8_t *copy = test_dup_exact(from->out[l], n);
        from->out_len[l] = 0;
        int rc = skiff_tls_receive(to->tls, (skiff_crypto_level)l, copy, n);
        free(copy);
        if (rc) return rc;
    }
    return 0;
}

static bool pending(const endpoint *e)
{
    for (int l = 0; l < SKIFF_LEVEL_COUNT; l++)
        if (e->out_len[l]) return true;
    return false;
}

/* Runs flights back and forth until both are quiet; *client_rc and
 * *server_rc get the first error each side returned. */
static void run(endpoint *c, endpoint *s, int *client_rc, int *server_rc)
{
    *client_rc = *server_rc = 0;
    for (int round = 0; round < 10 && (pending(c) || pending(s)); round++) {
        if (!*server_rc)
            *server_rc = deliver(c, s);
        else
            memset(c->out_len, 0, sizeof c->out_len);
        if (!*client_rc)
            *client_rc = deliver(s, c);
        else
            memset(s->out_len, 0, sizeof s->out_len);
    }
}

static void handshake(endpoint *c, endpoint *s, int *client_rc, int *server_rc)
{
    *client_rc = skiff_tls_start(c->tls);
    CHECK_EQ(skiff_tls_start(s->tls), 0);
    if (*client_rc) return;
    run(c, s, client_rc, server_rc);
}

/* Seals a short-header packet with `sender`'s keys for (level, write) and
 * opens it with `receiver`'s keys for (level, read): both sides' secrets
 * agree in practice, not only byte for byte. */
static void check_keys_across(const endpoint *sender, const endpoint *receiver,
                              skiff_crypto_level level)
{
    const secret_rec *w = &sender->secret[level][1], *r = &receiver->secret[level][0];
    CHECK(w->len > 0);
    CHECK(r->len > 0);
    if (!w->len || !r->len) return;
    skiff_packet_keys wk = {0}, rk = {0};
    CHECK_EQ(skiff_packet_keys_from_secret(&wk, w->suite, SKIFF_QUIC_V1, w->bytes, w->len), 0);
    CHECK_EQ(skiff_packet_keys_from_secret(&rk, r->suite, SKIFF_QUIC_V1, r->bytes, r->len), 0);
    uint8_t pkt[128] = {0x41, 0x12, 0x34};
    for (int i = 0; i < 40; i++)
        pkt[3 + i] = (uint8_t)(i * 7 + level);
    uint8_t plain[40];
    memcpy(plain, pkt + 3, sizeof plain);
    skiff_ssize n = skiff_packet_protect(&wk, pkt, 1, 2, 0x1234, 40, sizeof pkt);
    CHECK_EQ(n, 3 + 40 + 16);
    size_t pn_len = 0;
    uint64_t tpn = 0;
    CHECK_EQ(skiff_packet_unprotect_header(&rk, pkt, (size_t)n, 1, &pn_len, &tpn), 0);
    CHECK_EQ(pn_len, 2);
    CHECK_U64(tpn, 0x1234);
    CHECK_EQ(skiff_packet_open(&rk, pkt, 3, 0x1234, (size_t)n), 40);
    CHECK_MEM(pkt + 3, plain, sizeof plain);
    skiff_packet_keys_clear(&wk);
    skiff_packet_keys_clear(&rk);
}

static void check_secrets_match(const endpoint *c, const endpoint *s, skiff_crypto_level level)
{
    /* client write == server read, server write == client read */
    CHECK(c->secret[level][1].len > 0);
    CHECK_EQ(c->secret[level][1].len, s->secret[level][0].len);
    CHECK_MEM(c->secret[level][1].bytes, s->secret[level][0].bytes, c->secret[level][1].len);
    CHECK_EQ(c->secret[level][1].suite, s->secret[level][0].suite);
    if (level == SKIFF_LEVEL_0RTT) return;
    CHECK(s->secret[level][1].len > 0);
    CHECK_EQ(s->secret[level][1].len, c->secret[level][0].len);
    CHECK_MEM(s->secret[level][1].bytes, c->secret[level][0].bytes, s->secret[level][1].len);
    /* the two directions differ */
    CHECK(memcmp(c->secret[level][1].bytes, s->secret[level][1].bytes, c->secret[level][1].len));
}

static int find_event(const endpoint *e, const char *ev)
{
    for (int i = 0; i < e->event_count; i++)
        if (strcmp(e->events[i], ev) == 0) return i;
    return -1;
}

/* ---- the tests ---- */

static void test_handshake(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);

    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(skiff_tls_start(c->tls), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_tls_start(s->tls), 0);
    /* The client's first flight: a ClientHello at Initial, nothing else (§4.1). */
    CHECK(c->out_len[SKIFF_LEVEL_INITIAL] > 0);
    CHECK_EQ(c->out[SKIFF_LEVEL_INITIAL][0], 1); /* HandshakeType client_hello */
    CHECK_EQ(c->out_len[SKIFF_LEVEL_HANDSHAKE] + c->out_len[SKIFF_LEVEL_1RTT], 0);
    CHECK_EQ(c->event_count, 1);
    CHECK_EQ(s->event_count, 0);
    CHECK(!skiff_tls_handshake_complete(c->tls));

    /* The server's flight: ServerHello at Initial, then EncryptedExtensions
     * ..Finished at Handshake. GnuTLS hands over the Handshake secrets
     * before the ServerHello bytes (it derives them while building it), and
     * the 1-RTT write secret after its Finished (§4.1.4: the server may send
     * 1-RTT data before the client's Finished arrives). */
    CHECK_EQ(deliver(c, s), 0);
    CHECK_EQ(s->out[SKIFF_LEVEL_INITIAL][0], 2); /* server_hello */
    CHECK(s->out_len[SKIFF_LEVEL_HANDSHAKE] > 0);
    CHECK_EQ(s->out[SKIFF_LEVEL_HANDSHAKE][0], 8); /* encrypted_extensions */
    CHECK_EQ(s->out_len[SKIFF_LEVEL_1RTT], 0);
    static const char *const server_order[] = {"rsec H", "wsec H", "data I", "data H",
                                               "data H", "data H", "data H", "wsec 1"};
    CHECK_EQ(s->event_count, 8); /* EE, Certificate, CertificateVerify, Finished */
    for (int i = 0; i < 8 && i < s->event_count; i++)
        CHECK(strcmp(s->events[i], server_order[i]) == 0);
    CHECK_EQ(find_event(s, "rsec 1"), -1); /* not before the client's Finished */
    CHECK(!skiff_tls_handshake_complete(s->tls));
    /* The server knows the client's parameters, the ALPN and the suite already. */
    CHECK_EQ(s->peer_tp_calls, 1);
    size_t alen = 0;
    const char *a = skiff_tls_alpn(s->tls, &alen);
    CHECK(a && alen == 2 && memcmp(a, "h3", 2) == 0);

    /* The client's second flight: Finished at Handshake only. */
    CHECK_EQ(deliver(s, c), 0);
    CHECK(skiff_tls_handshake_complete(c->tls));
    CHECK_EQ(c->out_len[SKIFF_LEVEL_INITIAL], 0);
    CHECK(c->out_len[SKIFF_LEVEL_HANDSHAKE] > 0);
    CHECK_EQ(c->out[SKIFF_LEVEL_HANDSHAKE][0], 20); /* finished */
    CHECK_EQ(c->out_len[SKIFF_LEVEL_1RTT], 0);
    CHECK_EQ(deliver(c, s), 0);
    CHECK(skiff_tls_handshake_complete(s->tls));
    CHECK(!pending(s));

    check_secrets_match(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_secrets_match(c, s, SKIFF_LEVEL_1RTT);
    for (int dir = 0; dir < 2; dir++) {
        CHECK_EQ(c->secret[SKIFF_LEVEL_0RTT][dir].count + s->secret[SKIFF_LEVEL_0RTT][dir].count,
                 0);
        CHECK_EQ(c->secret[SKIFF_LEVEL_INITIAL][dir].count,
                 0); /* Initial keys come from the DCID */
        CHECK_EQ(c->secret[SKIFF_LEVEL_HANDSHAKE][dir].count, 1);
        CHECK_EQ(s->secret[SKIFF_LEVEL_1RTT][dir].count, 1);
    }
    check_keys_across(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_keys_across(s, c, SKIFF_LEVEL_HANDSHAKE);
    check_keys_across(c, s, SKIFF_LEVEL_1RTT);
    check_keys_across(s, c, SKIFF_LEVEL_1RTT);

    /* GnuTLS's NORMAL priority puts AES-256-GCM first. */
    CHECK_EQ(skiff_tls_cipher_suite(c->tls), SKIFF_SUITE_AES_256_GCM_SHA384);
    CHECK_EQ(skiff_tls_cipher_suite(s->tls), SKIFF_SUITE_AES_256_GCM_SHA384);
    CHECK_EQ(c->secret[SKIFF_LEVEL_1RTT][1].len, 48);

    CHECK_EQ(c->peer_tp_calls, 1);
    CHECK_EQ(c->peer_tp_len, sizeof server_tp);
    CHECK_MEM(c->peer_tp, server_tp, sizeof server_tp);
    CHECK_EQ(s->peer_tp_len, sizeof client_tp);
    CHECK_MEM(s->peer_tp, client_tp, sizeof client_tp);
    a = skiff_tls_alpn(c->tls, &alen);
    CHECK(a && alen == 2 && memcmp(a, "h3", 2) == 0);
    CHECK(!skiff_tls_resumed(c->tls));
    CHECK(!skiff_tls_resumed(s->tls));
    CHECK(!skiff_tls_early_data_accepted(c->tls));
    CHECK(!skiff_tls_early_data_accepted(s->tls));
    CHECK_EQ(skiff_tls_alert(c->tls), -1);
    CHECK_U64(skiff_tls_error_code(s->tls), SKIFF_TE_NONE);

    /* Tickets: only a server, only after the handshake; at 1-RTT. */
    CHECK_EQ(skiff_tls_send_session_ticket(c->tls), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(c->tickets, 0);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), 0);
    CHECK(s->out_len[SKIFF_LEVEL_1RTT] > 0);
    CHECK_EQ(s->out[SKIFF_LEVEL_1RTT][0], 4); /* new_session_ticket */
    CHECK_EQ(s->out_len[SKIFF_LEVEL_HANDSHAKE], 0);
    CHECK_EQ(deliver(s, c), 0);
    CHECK_EQ(c->tickets, 1);
    CHECK(c->ticket_len > 0);

    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static void test_ticket_before_complete(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), 0);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), SKIFF_ERR_INVALID_ARGUMENT);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static void test_alpn_server_preference(void)
{
    static const char *const client_alpn[] = {"hq-interop", "h3"};
    static const char *const server_alpn[] = {"h3", "hq-interop"};
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    opts co = {.alpn = client_alpn, .alpn_count = 2};
    opts so = {.alpn = server_alpn, .alpn_count = 2};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &so);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc, 0);
    CHECK_EQ(src, 0);
    size_t len = 0;
    const char *a = skiff_tls_alpn(c->tls, &len);
    CHECK(a && len == 2 && memcmp(a, "h3", 2) == 0);
    endpoint_free(c);
    endpoint_free(s);

    /* The server takes the one protocol they share, whatever its rank. */
    static const char *const only_hq[] = {"hq-interop"};
    co.alpn = only_hq;
    co.alpn_count = 1;
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &so);
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    a = skiff_tls_alpn(s->tls, &len);
    CHECK(a && len == 10 && memcmp(a, "hq-interop", 10) == 0);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static void test_alpn_mismatch(void)
{
    static const char *const client_alpn[] = {"hq-interop"};
    static const char *const server_alpn[] = {"h3"};
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    opts co = {.alpn = client_alpn, .alpn_count = 1};
    opts so = {.alpn = server_alpn, .alpn_count = 1};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &so);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), SKIFF_ERR_CRYPTO);
    CHECK_EQ(skiff_tls_alert(s->tls), SKIFF_TLS_ALERT_NO_APPLICATION_PROTOCOL);
    /* The client learns it from CONNECTION_CLOSE: CRYPTO_ERROR 0x178. */
    CHECK_U64(skiff_tls_error_code(s->tls), 0x178);
    CHECK(strcmp(skiff_transport_error_name(skiff_tls_error_code(s->tls)), "CRYPTO_ERROR") == 0);
    CHECK(!pending(s)); /* no ServerHello went out */
    CHECK_EQ(s->secret[SKIFF_LEVEL_HANDSHAKE][1].count, 0);
    /* The failure is final. */
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, (const uint8_t *)"x", 1),
             SKIFF_ERR_CRYPTO);
    CHECK(!skiff_tls_handshake_complete(s->tls));
    CHECK(!skiff_tls_handshake_complete(c->tls));
    size_t len = 99;
    CHECK(skiff_tls_alpn(c->tls, &len) == NULL);
    CHECK_EQ(len, 0);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* A handshake the client refuses; returns the client's alert. */
static int client_refuses(skiff_tls_credentials *cc, const char *server_name)
{
    skiff_tls_credentials *sc = server_creds();
    opts co = {.server_name = server_name};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(src, 0);
    CHECK_EQ(crc, SKIFF_ERR_CRYPTO);
    CHECK(!skiff_tls_handshake_complete(c->tls));
    CHECK(!skiff_tls_handshake_complete(s->tls));
    CHECK_EQ(c->secret[SKIFF_LEVEL_1RTT][1].count, 0); /* no 1-RTT keys for a refused peer */
    int alert = skiff_tls_alert(c->tls);
    CHECK_U64(skiff_tls_error_code(c->tls), 0x100u + (unsigned)alert);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    return alert;
}

static void test_certificate_failures(void)
{
    skiff_tls_credentials *cc = client_creds();
    /* The certificate names localhost only: bad_certificate (42). */
    CHECK_EQ(client_refuses(cc, "wrong.example"), SKIFF_TLS_ALERT_BAD_CERTIFICATE);
    skiff_tls_credentials_free(cc);

    /* Signed by a CA the client does not trust: unknown_ca (48). */
    cc = client_creds_opt(&other_ca_pem, false, NULL);
    CHECK_EQ(client_refuses(cc, "localhost"), SKIFF_TLS_ALERT_UNKNOWN_CA);
    CHECK_EQ(client_refuses(cc, "wrong.example"), SKIFF_TLS_ALERT_UNKNOWN_CA);
    skiff_tls_credentials_free(cc);

    /* insecure skips both checks. */
    cc = client_creds_opt(NULL, true, NULL);
    skiff_tls_credentials *sc = server_creds();
    opts co = {.server_name = "wrong.example"};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc, 0);
    CHECK_EQ(src, 0);
    CHECK(skiff_tls_handshake_complete(c->tls) && skiff_tls_handshake_complete(s->tls));
    endpoint_free(c);
    endpoint_free(s);
    /* ... and needs no server name. */
    skiff_tls_config cfg = {.role = SKIFF_ROLE_CLIENT,
                            .credentials = cc,
                            .alpn = alpn_both,
                            .alpn_count = 2,
                            .transport_params = client_tp,
                            .transport_params_len = sizeof client_tp};
    skiff_tls *t = NULL;
    CHECK_EQ(skiff_tls_new(&t, &cfg, &callbacks, NULL), 0);
    skiff_tls_free(t);
    skiff_tls_credentials_free(cc);
    skiff_tls_credentials_free(sc);
}

/* Resumption with 0-RTT, its refusal of a replayed ClientHello, and the cap
 * of the anti-replay record. */
static void test_resumption_0rtt(void)
{
    skiff_tls_credentials *sc = server_creds_opt(NULL, 2), *cc = client_creds();
    opts o = {.enable_0rtt = true};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &o);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    /* A client with no ticket offers no 0-RTT. */
    CHECK_EQ(c->secret[SKIFF_LEVEL_0RTT][1].count, 0);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), 0);
    CHECK_EQ(deliver(s, c), 0);
    CHECK_EQ(c->tickets, 1);
    uint8_t *ticket = test_dup_exact(c->ticket, c->ticket_len);
    size_t ticket_len = c->ticket_len;
    endpoint_free(c);
    endpoint_free(s);

    /* Second connection: resumed, 0-RTT offered and accepted. */
    opts ro = {.enable_0rtt = true, .session_data = ticket, .session_data_len = ticket_len};
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(skiff_tls_start(s->tls), 0);
    /* The 0-RTT write key comes with the ClientHello, before any reply. */
    CHECK_EQ(c->secret[SKIFF_LEVEL_0RTT][1].count, 1);
    CHECK(find_event(c, "data I") >= 0);
    CHECK(find_event(c, "wsec E") >= 0);
    uint8_t *client_hello =
        test_dup_exact(c->out[SKIFF_LEVEL_INITIAL], c->out_len[SKIFF_LEVEL_INITIAL]);
    size_t client_hello_len = c->out_len[SKIFF_LEVEL_INITIAL];
    CHECK_EQ(deliver(c, s), 0);
    CHECK_EQ(s->secret[SKIFF_LEVEL_0RTT][0].count, 1);
    CHECK_EQ(s->secret[SKIFF_LEVEL_0RTT][1].count, 0);
    CHECK(skiff_tls_early_data_accepted(s->tls));
    CHECK(skiff_tls_resumed(s->tls));
    CHECK_EQ(skiff_tls_credentials_anti_replay_count(sc), 1);
    run(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_handshake_complete(c->tls) && skiff_tls_handshake_complete(s->tls));
    CHECK(skiff_tls_resumed(c->tls));
    CHECK(skiff_tls_early_data_accepted(c->tls));
    check_secrets_match(c, s, SKIFF_LEVEL_0RTT);
    check_secrets_match(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_secrets_match(c, s, SKIFF_LEVEL_1RTT);
    check_keys_across(c, s, SKIFF_LEVEL_0RTT);
    check_keys_across(s, c, SKIFF_LEVEL_1RTT);
    /* A resumed handshake sends no certificate; the peer's parameters still arrive. */
    CHECK_MEM(c->peer_tp, server_tp, sizeof server_tp);
    CHECK_MEM(s->peer_tp, client_tp, sizeof client_tp);
    endpoint_free(c);
    endpoint_free(s);

    /* The same ClientHello again, to another server session of the same
     * credentials: resumed, but 0-RTT refused by the anti-replay record. */
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, client_hello, client_hello_len), 0);
    CHECK(!skiff_tls_early_data_accepted(s->tls));
    CHECK_EQ(s->secret[SKIFF_LEVEL_0RTT][0].count, 0);
    CHECK(s->out_len[SKIFF_LEVEL_INITIAL] > 0); /* the handshake goes on in 1-RTT */
    CHECK_EQ(skiff_tls_credentials_anti_replay_count(sc), 1);
    endpoint_free(s);

    /* A fresh ClientHello with the same ticket is a new attempt: accepted,
     * and it fills the record (capacity 2). */
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_early_data_accepted(s->tls));
    CHECK(skiff_tls_early_data_accepted(c->tls));
    CHECK_EQ(skiff_tls_credentials_anti_replay_count(sc), 2);
    endpoint_free(c);
    endpoint_free(s);

    /* The record is full: the next attempt is refused 0-RTT, and the
     * client, told so by the server's EncryptedExtensions, knows. */
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_handshake_complete(c->tls) && skiff_tls_handshake_complete(s->tls));
    CHECK(skiff_tls_resumed(c->tls));
    CHECK_EQ(c->secret[SKIFF_LEVEL_0RTT][1].count, 1); /* it did offer */
    CHECK(!skiff_tls_early_data_accepted(s->tls));
    CHECK(!skiff_tls_early_data_accepted(c->tls));
    CHECK_EQ(s->secret[SKIFF_LEVEL_0RTT][0].count, 0);
    CHECK_EQ(skiff_tls_credentials_anti_replay_count(sc), 2);
    check_secrets_match(c, s, SKIFF_LEVEL_1RTT);
    endpoint_free(c);
    endpoint_free(s);

    free(ticket);
    free(client_hello);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* 0-RTT data speaks the ALPN protocol of the original connection
 * (RFC 8446 §4.2.10). GnuTLS's server does not check it, so the client
 * offers 0-RTT only with that protocol among its offers, and refuses a
 * server that accepts 0-RTT under another. */
static void test_0rtt_alpn_change(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    opts o = {.enable_0rtt = true};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &o);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    size_t len = 99;
    CHECK(skiff_tls_early_alpn(c->tls, &len) == NULL); /* no ticket, no 0-RTT */
    CHECK_EQ(len, 0);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), 0);
    CHECK_EQ(deliver(s, c), 0);
    CHECK_EQ(c->tickets, 1);

    /* The ticket is for h3; resuming with the same offers: 0-RTT in h3. */
    opts ro = {.enable_0rtt = true, .session_data = c->ticket, .session_data_len = c->ticket_len};
    endpoint *c2 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    const char *a = skiff_tls_early_alpn(c2->tls, &len);
    CHECK(a && len == 2 && memcmp(a, "h3", 2) == 0);
    endpoint_free(c2);

    /* Offering hq-interop only: resumption, but no 0-RTT offered. */
    static const char *const only_hq[] = {"hq-interop"};
    ro.alpn = only_hq;
    ro.alpn_count = 1;
    c2 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    endpoint *s2 = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &o);
    CHECK(skiff_tls_early_alpn(c2->tls, &len) == NULL);
    handshake(c2, s2, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_resumed(c2->tls));
    CHECK_EQ(c2->secret[SKIFF_LEVEL_0RTT][1].count, 0);
    CHECK_EQ(s2->secret[SKIFF_LEVEL_0RTT][0].count, 0);
    CHECK(!skiff_tls_early_data_accepted(s2->tls));
    endpoint_free(c2);
    endpoint_free(s2);

    /* Offering both while the server now prefers hq-interop: GnuTLS's
     * server accepts 0-RTT under hq-interop; the client refuses. */
    static const char *const hq_first[] = {"hq-interop", "h3"};
    ro.alpn = alpn_both;
    ro.alpn_count = 2;
    opts so = {.enable_0rtt = true, .alpn = hq_first, .alpn_count = 2};
    c2 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    s2 = endpoint_new("server", SKIFF_ROLE_SERVER, sc, &so);
    handshake(c2, s2, &crc, &src);
    CHECK_EQ(src, 0);
    CHECK_EQ(crc, SKIFF_ERR_CRYPTO);
    CHECK_EQ(skiff_tls_alert(c2->tls), SKIFF_TLS_ALERT_ILLEGAL_PARAMETER);
    CHECK_U64(skiff_tls_error_code(c2->tls), 0x12f);
    CHECK(!skiff_tls_handshake_complete(c2->tls));
    endpoint_free(c2);
    endpoint_free(s2);

    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* A NewSessionTicket whose early_data extension is not 0xffffffff is a
 * PROTOCOL_VIOLATION (RFC 9001 §4.6.1). */
static void test_ticket_early_data_value(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    static const uint8_t nst[] = {4, 0, 0,    23,         /* new_session_ticket, 23 bytes */
                                  0, 0, 0x0e, 0x10,       /* lifetime */
                                  1, 2, 3,    4,          /* age_add */
                                  1, 0,                   /* nonce */
                                  0, 1, 0x77,             /* ticket */
                                  0, 8, 0,    0x2a, 0, 4, /* extensions: early_data ... */
                                  0, 0, 0x40, 0};         /* ... max_early_data_size 16384 */
    uint8_t *p = test_dup_exact(nst, sizeof nst);
    CHECK_EQ(skiff_tls_receive(c->tls, SKIFF_LEVEL_1RTT, p, sizeof nst),
             SKIFF_ERR_PROTOCOL_VIOLATION);
    free(p);
    CHECK_U64(skiff_tls_error_code(c->tls), SKIFF_TE_PROTOCOL_VIOLATION);
    CHECK_EQ(c->tickets, 0);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* Resumption without 0-RTT: a server that does not enable it issues tickets
 * that do not allow it. */
static void test_resumption_without_0rtt(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    opts co = {.enable_0rtt = true};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK_EQ(skiff_tls_send_session_ticket(s->tls), 0);
    CHECK_EQ(deliver(s, c), 0);
    CHECK_EQ(c->tickets, 1);
    opts ro = {.enable_0rtt = true, .session_data = c->ticket, .session_data_len = c->ticket_len};
    endpoint *c2 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &ro);
    endpoint *s2 = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    handshake(c2, s2, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_resumed(c2->tls));
    CHECK(skiff_tls_resumed(s2->tls));
    CHECK_EQ(c2->secret[SKIFF_LEVEL_0RTT][1].count, 0);
    CHECK_EQ(s2->secret[SKIFF_LEVEL_0RTT][0].count, 0);
    CHECK(!skiff_tls_early_data_accepted(c2->tls));
    check_secrets_match(c2, s2, SKIFF_LEVEL_1RTT);
    endpoint_free(c);
    endpoint_free(s);
    endpoint_free(c2);
    endpoint_free(s2);

    /* Session data that is not: refused at creation. */
    uint8_t junk[64] = {1, 2, 3};
    opts jo = {.session_data = junk, .session_data_len = sizeof junk};
    skiff_tls_config cfg = {.role = SKIFF_ROLE_CLIENT,
                            .credentials = cc,
                            .server_name = "localhost",
                            .alpn = alpn_both,
                            .alpn_count = 2,
                            .transport_params = client_tp,
                            .transport_params_len = sizeof client_tp,
                            .session_data = jo.session_data,
                            .session_data_len = jo.session_data_len};
    skiff_tls *t = (skiff_tls *)&cfg;
    CHECK_EQ(skiff_tls_new(&t, &cfg, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(t == NULL);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* The cipher suite follows the priority string; secrets are as long as
 * the suite's hash, and the keys work across. */
static void forced_suite(const char *priority, skiff_cipher_suite want, size_t secret_len,
                         bool on_server)
{
    skiff_tls_credentials *sc = server_creds_opt(on_server ? priority : NULL, 0);
    skiff_tls_credentials *cc = client_creds_opt(&ca_pem, false, on_server ? NULL : priority);
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK_EQ(skiff_tls_cipher_suite(c->tls), want);
    CHECK_EQ(skiff_tls_cipher_suite(s->tls), want);
    CHECK_EQ(c->secret[SKIFF_LEVEL_HANDSHAKE][1].suite, want);
    CHECK_EQ(s->secret[SKIFF_LEVEL_1RTT][1].suite, want);
    CHECK_EQ(c->secret[SKIFF_LEVEL_1RTT][0].len, secret_len);
    check_secrets_match(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_secrets_match(c, s, SKIFF_LEVEL_1RTT);
    check_keys_across(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_keys_across(s, c, SKIFF_LEVEL_1RTT);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static void test_cipher_suites(void)
{
    forced_suite("NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305", SKIFF_SUITE_CHACHA20_POLY1305_SHA256, 32,
                 false);
    forced_suite("NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305", SKIFF_SUITE_CHACHA20_POLY1305_SHA256, 32,
                 true);
    forced_suite("NORMAL:-CIPHER-ALL:+AES-128-GCM", SKIFF_SUITE_AES_128_GCM_SHA256, 32, false);
    forced_suite("NORMAL:-CIPHER-ALL:+AES-256-GCM", SKIFF_SUITE_AES_256_GCM_SHA384, 48, true);

    /* A priority that leaves QUIC no suite (AES-CCM is removed): refused
     * when the credentials are made, not at the first handshake. */
    skiff_tls_credentials_config cfg = {
        .role = SKIFF_ROLE_CLIENT, .insecure = true, .priority = "NORMAL:-CIPHER-ALL:+AES-128-CCM"};
    skiff_tls_credentials *cc = (skiff_tls_credentials *)&cfg;
    CHECK_EQ(skiff_tls_credentials_new(&cc, &cfg), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(cc == NULL);
}

/* A HelloRetryRequest (the client's key shares do not suit the server):
 * it and the second ClientHello both travel at Initial (RFC 9001 §4.1). */
static void test_hello_retry(void)
{
    skiff_tls_credentials *sc = server_creds_opt("NORMAL:-GROUP-ALL:+GROUP-SECP384R1", 0);
    skiff_tls_credentials *cc = client_creds_opt(
        &ca_pem, false, "NORMAL:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1");
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), 0);
    /* The HelloRetryRequest is a ServerHello with a special random, alone. */
    CHECK(s->out_len[SKIFF_LEVEL_INITIAL] > 0);
    CHECK_EQ(s->out[SKIFF_LEVEL_INITIAL][0], 2);
    CHECK_EQ(s->out_len[SKIFF_LEVEL_HANDSHAKE], 0);
    CHECK_EQ(s->event_count, 1);
    CHECK_EQ(deliver(s, c), 0);
    CHECK(c->out_len[SKIFF_LEVEL_INITIAL] > 0); /* the second ClientHello */
    CHECK_EQ(c->out[SKIFF_LEVEL_INITIAL][0], 1);
    CHECK_EQ(c->out_len[SKIFF_LEVEL_HANDSHAKE], 0);
    int crc, src;
    run(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_handshake_complete(c->tls) && skiff_tls_handshake_complete(s->tls));
    CHECK_EQ(s->peer_tp_calls, 1); /* the second ClientHello's, passed over once */
    CHECK_MEM(s->peer_tp, client_tp, sizeof client_tp);
    check_secrets_match(c, s, SKIFF_LEVEL_HANDSHAKE);
    check_keys_across(s, c, SKIFF_LEVEL_1RTT);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static bool is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i])) return false;
    return true;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* Finds the keylog line with `label`; checks its shape and that its secret
 * is the one on_secret gave (when want is not NULL). */
static void check_keylog(const endpoint *e, const char *label, const secret_rec *want,
                         char *client_random)
{
    const char *line = NULL;
    size_t ll = strlen(label);
    for (int i = 0; i < e->keylog_count; i++)
        if (strncmp(e->keylog[i], label, ll) == 0 && e->keylog[i][ll] == ' ') line = e->keylog[i];
    CHECK(line != NULL);
    if (!line) return;
    const char *cr = line + ll + 1, *sec = cr + 65;
    CHECK(strlen(line) == ll + 1 + 64 + 1 + 64 || strlen(line) == ll + 1 + 64 + 1 + 96);
    CHECK(cr[64] == ' ');
    CHECK(is_hex(cr, 64));
    CHECK(is_hex(sec, strlen(sec)));
    if (client_random[0])
        CHECK(strncmp(client_random, cr, 64) == 0);
    else
        memcpy(client_random, cr, 64);
    if (want) {
        char hex[129];
        hex_of(want->bytes, want->len, hex);
        CHECK_EQ(strlen(sec), 2 * want->len);
        CHECK(strcmp(sec, hex) == 0);
    }
}

static void test_keylog(void)
{
    skiff_tls_credentials *sc = server_creds_opt("NORMAL:-CIPHER-ALL:+AES-128-GCM", 0),
                          *cc = client_creds();
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    char cr[65] = {0};
    check_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", &c->secret[SKIFF_LEVEL_HANDSHAKE][1], cr);
    check_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", &c->secret[SKIFF_LEVEL_HANDSHAKE][0], cr);
    check_keylog(c, "CLIENT_TRAFFIC_SECRET_0", &c->secret[SKIFF_LEVEL_1RTT][1], cr);
    check_keylog(c, "SERVER_TRAFFIC_SECRET_0", &c->secret[SKIFF_LEVEL_1RTT][0], cr);
    check_keylog(c, "EXPORTER_SECRET", NULL, cr);
    /* The server logs the same lines with the same client random. */
    check_keylog(s, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", &c->secret[SKIFF_LEVEL_HANDSHAKE][1], cr);
    check_keylog(s, "SERVER_TRAFFIC_SECRET_0", &c->secret[SKIFF_LEVEL_1RTT][0], cr);
    CHECK(c->keylog_count >= 5);
    endpoint_free(c);
    endpoint_free(s);

    /* Without on_keylog nothing is logged and nothing breaks. */
    skiff_tls_callbacks quiet = callbacks;
    quiet.on_keylog = NULL;
    endpoint *c2 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s2 = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    skiff_tls_free(c2->tls);
    skiff_tls_config cfg = {.role = SKIFF_ROLE_CLIENT,
                            .credentials = cc,
                            .server_name = "localhost",
                            .alpn = alpn_both,
                            .alpn_count = 2,
                            .transport_params = client_tp,
                            .transport_params_len = sizeof client_tp};
    CHECK_EQ(skiff_tls_new(&c2->tls, &cfg, &quiet, c2), 0);
    handshake(c2, s2, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK_EQ(c2->keylog_count, 0);
    CHECK(s2->keylog_count >= 5);
    endpoint_free(c2);
    endpoint_free(s2);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* ---- a bare GnuTLS peer, to send what skiff_tls never would ---- */

typedef struct raw_peer {
    gnutls_session_t session;
    gnutls_certificate_credentials_t cred;
    uint8_t out[SKIFF_LEVEL_COUNT][OUT_CAP];
    size_t out_len[SKIFF_LEVEL_COUNT];
} raw_peer;

static int raw_read(gnutls_session_t s, gnutls_record_encryption_level_t level,
                    gnutls_handshake_description_t htype, const void *data, size_t size)
{
    (void)htype;
    raw_peer *p = gnutls_session_get_ptr(s);
    int l = level == GNUTLS_ENCRYPTION_LEVEL_INITIAL     ? SKIFF_LEVEL_INITIAL
            : level == GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE ? SKIFF_LEVEL_HANDSHAKE
                                                         : SKIFF_LEVEL_1RTT;
    if (p->out_len[l] + size > OUT_CAP) return -1;
    memcpy(p->out[l] + p->out_len[l], data, size);
    p->out_len[l] += size;
    return 0;
}

static int raw_secret(gnutls_session_t s, gnutls_record_encryption_level_t level, const void *r,
                      const void *w, size_t n)
{
    (void)s, (void)level, (void)r, (void)w, (void)n;
    return 0;
}

static void raw_init(raw_peer *p, bool server, const char *priority)
{
    memset(p, 0, sizeof *p);
    must(gnutls_certificate_allocate_credentials(&p->cred), "raw cred");
    if (server)
        must(gnutls_certificate_set_x509_key_mem(p->cred, &server_pem.crt, &server_pem.key,
                                                 GNUTLS_X509_FMT_PEM),
             "raw key");
    must(gnutls_init(&p->session, server ? GNUTLS_SERVER : GNUTLS_CLIENT), "raw init");
    gnutls_session_set_ptr(p->session, p);
    must(gnutls_priority_set_direct(p->session, priority, NULL), "raw priority");
    must(gnutls_credentials_set(p->session, GNUTLS_CRD_CERTIFICATE, p->cred), "raw creds");
    gnutls_datum_t h3 = {(unsigned char *)"h3", 2};
    must(gnutls_alpn_set_protocols(p->session, &h3, 1, 0), "raw alpn");
    gnutls_handshake_set_read_function(p->session, raw_read);
    gnutls_handshake_set_secret_function(p->session, raw_secret);
}

static void raw_free(raw_peer *p)
{
    gnutls_deinit(p->session);
    gnutls_certificate_free_credentials(p->cred);
}

static const char RAW_PRIORITY[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE";

static void test_missing_transport_params(void)
{
    /* A ClientHello without quic_transport_parameters: missing_extension. */
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    raw_peer rc;
    raw_init(&rc, false, RAW_PRIORITY);
    CHECK_EQ(gnutls_handshake(rc.session), GNUTLS_E_AGAIN);
    CHECK(rc.out_len[SKIFF_LEVEL_INITIAL] > 0);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, rc.out[SKIFF_LEVEL_INITIAL],
                               rc.out_len[SKIFF_LEVEL_INITIAL]),
             SKIFF_ERR_CRYPTO);
    CHECK_EQ(skiff_tls_alert(s->tls), SKIFF_TLS_ALERT_MISSING_EXTENSION);
    CHECK_U64(skiff_tls_error_code(s->tls), 0x16d);
    CHECK(!pending(s));
    CHECK_EQ(s->peer_tp_calls, 0);
    endpoint_free(s);
    raw_free(&rc);

    /* EncryptedExtensions without it: the client refuses the same way. */
    raw_peer rs;
    raw_init(&rs, true, RAW_PRIORITY);
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(gnutls_handshake_write(rs.session, GNUTLS_ENCRYPTION_LEVEL_INITIAL,
                                    c->out[SKIFF_LEVEL_INITIAL], c->out_len[SKIFF_LEVEL_INITIAL]),
             0);
    CHECK_EQ(gnutls_handshake(rs.session), GNUTLS_E_AGAIN);
    CHECK(rs.out_len[SKIFF_LEVEL_INITIAL] > 0 && rs.out_len[SKIFF_LEVEL_HANDSHAKE] > 0);
    CHECK_EQ(skiff_tls_receive(c->tls, SKIFF_LEVEL_INITIAL, rs.out[SKIFF_LEVEL_INITIAL],
                               rs.out_len[SKIFF_LEVEL_INITIAL]),
             0);
    CHECK_EQ(skiff_tls_receive(c->tls, SKIFF_LEVEL_HANDSHAKE, rs.out[SKIFF_LEVEL_HANDSHAKE],
                               rs.out_len[SKIFF_LEVEL_HANDSHAKE]),
             SKIFF_ERR_CRYPTO);
    CHECK_EQ(skiff_tls_alert(c->tls), SKIFF_TLS_ALERT_MISSING_EXTENSION);
    CHECK_U64(skiff_tls_error_code(c->tls), 0x16d);
    CHECK(!skiff_tls_handshake_complete(c->tls));
    CHECK_EQ(c->secret[SKIFF_LEVEL_1RTT][0].count + c->secret[SKIFF_LEVEL_1RTT][1].count, 0);
    endpoint_free(c);
    raw_free(&rs);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* A bare client whose transport parameters change between its two
 * ClientHellos (after a HelloRetryRequest): illegal_parameter. */
static int raw_tp_sends;

static int raw_tp_send(gnutls_session_t s, gnutls_buffer_t buf)
{
    (void)s;
    uint8_t tp[4] = {0x01, 0x02, 0x44, (uint8_t)(0x10 + raw_tp_sends++)};
    int rv = gnutls_buffer_append_data(buf, tp, sizeof tp);
    return rv < 0 ? rv : (int)sizeof tp;
}

static int raw_tp_recv(gnutls_session_t s, const unsigned char *d, size_t n)
{
    (void)s, (void)d, (void)n;
    return 0;
}

static void test_hello_retry_tp_changed(void)
{
    skiff_tls_credentials *sc = server_creds_opt("NORMAL:-GROUP-ALL:+GROUP-SECP384R1", 0);
    raw_peer rc;
    raw_init(&rc, false,
             "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE:-GROUP-ALL:+GROUP-X25519:"
             "+GROUP-SECP256R1:"
             "+GROUP-SECP384R1");
    raw_tp_sends = 0;
    must(gnutls_session_ext_register(rc.session, "quic_transport_parameters", 0x39, GNUTLS_EXT_TLS,
                                     raw_tp_recv, raw_tp_send, NULL, NULL, NULL,
                                     GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO |
                                         GNUTLS_EXT_FLAG_EE),
         "raw ext");
    CHECK_EQ(gnutls_handshake(rc.session), GNUTLS_E_AGAIN);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, rc.out[SKIFF_LEVEL_INITIAL],
                               rc.out_len[SKIFF_LEVEL_INITIAL]),
             0);
    CHECK_EQ(s->peer_tp_calls, 1);
    CHECK(s->out_len[SKIFF_LEVEL_INITIAL] > 0); /* the HelloRetryRequest */
    rc.out_len[SKIFF_LEVEL_INITIAL] = 0;
    CHECK_EQ(gnutls_handshake_write(rc.session, GNUTLS_ENCRYPTION_LEVEL_INITIAL,
                                    s->out[SKIFF_LEVEL_INITIAL], s->out_len[SKIFF_LEVEL_INITIAL]),
             0);
    s->out_len[SKIFF_LEVEL_INITIAL] = 0;
    CHECK_EQ(gnutls_handshake(rc.session), GNUTLS_E_AGAIN);
    CHECK_EQ(raw_tp_sends, 2);
    CHECK(rc.out_len[SKIFF_LEVEL_INITIAL] > 0);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, rc.out[SKIFF_LEVEL_INITIAL],
                               rc.out_len[SKIFF_LEVEL_INITIAL]),
             SKIFF_ERR_CRYPTO);
    CHECK_EQ(skiff_tls_alert(s->tls), SKIFF_TLS_ALERT_ILLEGAL_PARAMETER);
    CHECK_EQ(s->peer_tp_calls, 1);
    CHECK(!pending(s));
    endpoint_free(s);
    raw_free(&rc);
    skiff_tls_credentials_free(sc);
}

static void test_compat_mode_refused(void)
{
    /* A ClientHello with a legacy_session_id asks for middlebox
     * compatibility mode, which QUIC forbids (RFC 9001 §8.4). */
    skiff_tls_credentials *sc = server_creds();
    raw_peer rc;
    raw_init(&rc, false, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
    CHECK_EQ(gnutls_handshake(rc.session), GNUTLS_E_AGAIN);
    CHECK(rc.out_len[SKIFF_LEVEL_INITIAL] > 38);
    CHECK_EQ(rc.out[SKIFF_LEVEL_INITIAL][4 + 34], 32); /* a 32-byte session ID */
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, rc.out[SKIFF_LEVEL_INITIAL],
                               rc.out_len[SKIFF_LEVEL_INITIAL]),
             SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_U64(skiff_tls_error_code(s->tls), SKIFF_TE_PROTOCOL_VIOLATION);
    CHECK(!pending(s));
    endpoint_free(s);
    raw_free(&rc);
    skiff_tls_credentials_free(sc);
}

/* The caller's verdict on the peer's transport parameters aborts the
 * handshake with its own code (RFC 9000 §7.4). */
static void test_transport_params_refused(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    s->tp_verdict = SKIFF_ERR_TRANSPORT_PARAMETER;
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), SKIFF_ERR_TRANSPORT_PARAMETER);
    CHECK_U64(skiff_tls_error_code(s->tls), SKIFF_TE_TRANSPORT_PARAMETER_ERROR);
    CHECK(!pending(s));
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, (const uint8_t *)"x", 1),
             SKIFF_ERR_TRANSPORT_PARAMETER);
    endpoint_free(s);

    /* Same on the client, with EncryptedExtensions. */
    endpoint_free(c);
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    c->tp_verdict = SKIFF_ERR_TRANSPORT_PARAMETER;
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), 0);
    CHECK_EQ(deliver(s, c), SKIFF_ERR_TRANSPORT_PARAMETER);
    CHECK_U64(skiff_tls_error_code(c->tls), SKIFF_TE_TRANSPORT_PARAMETER_ERROR);
    CHECK_EQ(c->peer_tp_calls, 1);
    CHECK(!pending(c)); /* no Finished */
    CHECK(!skiff_tls_handshake_complete(c->tls));
    CHECK_EQ(c->secret[SKIFF_LEVEL_1RTT][0].count, 0);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

/* Hostile or misplaced CRYPTO data: an alert, never a crash; final. */
static void test_hostile_input(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();

    /* CRYPTO data at the 0-RTT level (no packet may carry it). */
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_0RTT, (const uint8_t *)"\x01", 1),
             SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_U64(skiff_tls_error_code(s->tls), SKIFF_TE_PROTOCOL_VIOLATION);
    endpoint_free(s);

    /* A message that is not a ClientHello. */
    static const uint8_t finished[] = {20, 0, 0, 4, 1, 2, 3, 4};
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    uint8_t *p = test_dup_exact(finished, sizeof finished);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, p, sizeof finished), SKIFF_ERR_CRYPTO);
    free(p);
    CHECK_EQ(skiff_tls_alert(s->tls), SKIFF_TLS_ALERT_UNEXPECTED_MESSAGE);
    endpoint_free(s);

    /* A ClientHello whose length runs past what follows is only incomplete;
     * one that is truncated inside claims to be short: decode_error. */
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    size_t n = c->out_len[SKIFF_LEVEL_INITIAL];
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    p = test_dup_exact(c->out[SKIFF_LEVEL_INITIAL], n - 10);
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, p, n - 10), 0);
    CHECK(!pending(s));
    free(p);
    endpoint_free(s);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    p = test_dup_exact(c->out[SKIFF_LEVEL_INITIAL], n);
    uint32_t body = (uint32_t)(n - 4 - 10); /* say the body is 10 bytes shorter */
    p[1] = (uint8_t)(body >> 16), p[2] = (uint8_t)(body >> 8), p[3] = (uint8_t)body;
    CHECK_EQ(skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, p, n - 10), SKIFF_ERR_CRYPTO);
    CHECK(skiff_tls_alert(s->tls) >= 0);
    CHECK(skiff_tls_error_code(s->tls) >= 0x100 && skiff_tls_error_code(s->tls) <= 0x1ff);
    free(p);
    endpoint_free(s);

    /* The server's Handshake flight handed over at the Initial level. */
    endpoint_free(c);
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    CHECK_EQ(deliver(c, s), 0);
    CHECK_EQ(skiff_tls_receive(c->tls, SKIFF_LEVEL_INITIAL, s->out[SKIFF_LEVEL_INITIAL],
                               s->out_len[SKIFF_LEVEL_INITIAL]),
             0);
    int wrong = skiff_tls_receive(c->tls, SKIFF_LEVEL_INITIAL, s->out[SKIFF_LEVEL_HANDSHAKE],
                                  s->out_len[SKIFF_LEVEL_HANDSHAKE]);
    CHECK_EQ(wrong, SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_U64(skiff_tls_error_code(c->tls), SKIFF_TE_PROTOCOL_VIOLATION);
    /* ... and the ClientHello again at the Handshake level, to a server. */
    endpoint *s3 = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    endpoint *c3 = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    CHECK_EQ(skiff_tls_start(c3->tls), 0);
    CHECK_EQ(skiff_tls_receive(s3->tls, SKIFF_LEVEL_HANDSHAKE, c3->out[SKIFF_LEVEL_INITIAL],
                               c3->out_len[SKIFF_LEVEL_INITIAL]),
             SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK(!pending(s3));
    endpoint_free(s3);
    endpoint_free(c3);
    endpoint_free(c);
    endpoint_free(s);
    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    n = c->out_len[SKIFF_LEVEL_INITIAL];

    /* Random bytes, many seeds: always a TLS alert, never a crash or a
     * completed handshake. */
    uint32_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
        uint8_t junk[300];
        size_t len = 1 + round % sizeof junk;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
        }
        if (round % 2) junk[0] = 1; /* claim to be a ClientHello */
        p = test_dup_exact(junk, len);
        int rc = skiff_tls_receive(s->tls, SKIFF_LEVEL_INITIAL, p, len);
        free(p);
        CHECK(rc == 0 || rc == SKIFF_ERR_CRYPTO);
        if (rc) CHECK(skiff_tls_alert(s->tls) >= 0);
        CHECK(!skiff_tls_handshake_complete(s->tls));
        endpoint_free(s);
    }

    /* A TLS KeyUpdate after the handshake: QUIC has its own (§6). */
    s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    run(c, s, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_handshake_complete(c->tls));
    static const uint8_t key_update[] = {24, 0, 0, 1, 0};
    p = test_dup_exact(key_update, sizeof key_update);
    CHECK_EQ(skiff_tls_receive(c->tls, SKIFF_LEVEL_1RTT, p, sizeof key_update), SKIFF_ERR_CRYPTO);
    free(p);
    CHECK_EQ(skiff_tls_alert(c->tls), SKIFF_TLS_ALERT_UNEXPECTED_MESSAGE);
    CHECK_U64(skiff_tls_error_code(c->tls), 0x10a);
    endpoint_free(c);
    endpoint_free(s);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

static void test_bad_config(void)
{
    skiff_tls_credentials *c = (skiff_tls_credentials *)&c;
    skiff_tls_credentials_config cfg = {.role = SKIFF_ROLE_SERVER};
    /* A server without a certificate and key. */
    CHECK_EQ(skiff_tls_credentials_new(&c, &cfg), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(c == NULL);
    /* A key that does not match the certificate. */
    cfg.cert_pem = server_pem.crt.data;
    cfg.cert_pem_len = server_pem.crt.size;
    cfg.key_pem = ca_pem.key.data;
    cfg.key_pem_len = ca_pem.key.size;
    CHECK_EQ(skiff_tls_credentials_new(&c, &cfg), SKIFF_ERR_INVALID_ARGUMENT);
    /* Garbage PEM; missing files. */
    cfg.key_pem = (const uint8_t *)"not a key";
    cfg.key_pem_len = 9;
    CHECK_EQ(skiff_tls_credentials_new(&c, &cfg), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_tls_credentials_config files = {.role = SKIFF_ROLE_SERVER,
                                          .cert_file = "/nonexistent/cert.pem",
                                          .key_file = "/nonexistent/key.pem"};
    CHECK_EQ(skiff_tls_credentials_new(&c, &files), SKIFF_ERR_INVALID_ARGUMENT);
    /* A priority string GnuTLS rejects. */
    skiff_tls_credentials_config client = {
        .role = SKIFF_ROLE_CLIENT, .insecure = true, .priority = "NORMAL:+NO-SUCH-THING"};
    CHECK_EQ(skiff_tls_credentials_new(&c, &client), SKIFF_ERR_INVALID_ARGUMENT);
    /* A CA "file" with no certificate. */
    client.priority = NULL;
    client.insecure = false;
    client.ca_pem = (const uint8_t *)"nothing here\n";
    client.ca_pem_len = 13;
    CHECK_EQ(skiff_tls_credentials_new(&c, &client), SKIFF_ERR_INVALID_ARGUMENT);

    /* Files on disk work like memory. */
    char cert_path[] = "/tmp/skiff_tls_test_crt_XXXXXX",
         key_path[] = "/tmp/skiff_tls_test_key_XXXXXX";
    int fd1 = mkstemp(cert_path), fd2 = mkstemp(key_path);
    CHECK(fd1 >= 0 && fd2 >= 0);
    FILE *f1 = fdopen(fd1, "w"), *f2 = fdopen(fd2, "w");
    fwrite(server_pem.crt.data, 1, server_pem.crt.size, f1);
    fwrite(server_pem.key.data, 1, server_pem.key.size, f2);
    fclose(f1);
    fclose(f2);
    files.cert_file = cert_path;
    files.key_file = key_path;
    skiff_tls_credentials *sc = NULL;
    CHECK_EQ(skiff_tls_credentials_new(&sc, &files), 0);
    skiff_tls_credentials_config cafile = {.role = SKIFF_ROLE_CLIENT, .ca_file = cert_path};
    skiff_tls_credentials *cc = NULL;
    /* the server certificate as the trust anchor: verification by pinning */
    CHECK_EQ(skiff_tls_credentials_new(&cc, &cafile), 0);
    remove(cert_path);
    remove(key_path);

    /* Session configurations that are refused. */
    skiff_tls *t = (skiff_tls *)&t;
    skiff_tls_config tc = {.role = SKIFF_ROLE_CLIENT,
                           .credentials = cc,
                           .server_name = "localhost",
                           .alpn = alpn_both,
                           .alpn_count = 2,
                           .transport_params = client_tp,
                           .transport_params_len = sizeof client_tp};
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), 0);
    skiff_tls_free(t);
    tc.transport_params_len = 0; /* no transport parameters */
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    CHECK(t == NULL);
    tc.transport_params_len = sizeof client_tp;
    tc.alpn_count = 0; /* no ALPN */
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    static const char *const empty_alpn[] = {""};
    tc.alpn = empty_alpn;
    tc.alpn_count = 1;
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    tc.alpn = alpn_both;
    tc.alpn_count = 2;
    tc.server_name = NULL; /* verification needs a name */
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    tc.server_name = "";
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    tc.server_name = "localhost";
    tc.role = SKIFF_ROLE_SERVER; /* client credentials */
    CHECK_EQ(skiff_tls_new(&t, &tc, &callbacks, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    tc.role = SKIFF_ROLE_CLIENT;
    skiff_tls_callbacks none = callbacks;
    none.on_secret = NULL;
    CHECK_EQ(skiff_tls_new(&t, &tc, &none, NULL), SKIFF_ERR_INVALID_ARGUMENT);

    /* The file-loaded pair handshakes. */
    endpoint *ce = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    endpoint *se = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    handshake(ce, se, &crc, &src);
    CHECK_EQ(crc + src, 0);
    CHECK(skiff_tls_handshake_complete(ce->tls));
    endpoint_free(ce);
    endpoint_free(se);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
    skiff_tls_credentials_free(NULL);
    skiff_tls_free(NULL);
}

/* An IP-address server name is verified but not sent as SNI. */
static void test_ip_server_name(void)
{
    skiff_tls_credentials *sc = server_creds(), *cc = client_creds();
    opts co = {.server_name = "127.0.0.1"};
    endpoint *c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, &co);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    /* server_name extension (0x0000) would carry "127.0.0.1". */
    bool found = false;
    for (size_t i = 0; i + 9 <= c->out_len[SKIFF_LEVEL_INITIAL]; i++)
        if (memcmp(c->out[SKIFF_LEVEL_INITIAL] + i, "127.0.0.1", 9) == 0) found = true;
    CHECK(!found);
    endpoint *s = endpoint_new("server", SKIFF_ROLE_SERVER, sc, NULL);
    int crc, src;
    run(c, s, &crc, &src);
    CHECK_EQ(crc, SKIFF_ERR_CRYPTO); /* the certificate names localhost only */
    CHECK_EQ(skiff_tls_alert(c->tls), SKIFF_TLS_ALERT_BAD_CERTIFICATE);
    endpoint_free(c);
    endpoint_free(s);

    c = endpoint_new("client", SKIFF_ROLE_CLIENT, cc, NULL);
    CHECK_EQ(skiff_tls_start(c->tls), 0);
    found = false;
    for (size_t i = 0; i + 9 <= c->out_len[SKIFF_LEVEL_INITIAL]; i++)
        if (memcmp(c->out[SKIFF_LEVEL_INITIAL] + i, "localhost", 9) == 0) found = true;
    CHECK(found);
    endpoint_free(c);
    skiff_tls_credentials_free(sc);
    skiff_tls_credentials_free(cc);
}

int main(void)
{
    make_certs();
    RUN(test_handshake);
    RUN(test_ticket_before_complete);
    RUN(test_alpn_server_preference);
    RUN(test_alpn_mismatch);
    RUN(test_certificate_failures);
    RUN(test_resumption_0rtt);
    RUN(test_0rtt_alpn_change);
    RUN(test_ticket_early_data_value);
    RUN(test_resumption_without_0rtt);
    RUN(test_cipher_suites);
    RUN(test_hello_retry);
    RUN(test_keylog);
    RUN(test_missing_transport_params);
    RUN(test_compat_mode_refused);
    RUN(test_hello_retry_tp_changed);
    RUN(test_transport_params_refused);
    RUN(test_hostile_input);
    RUN(test_bad_config);
    RUN(test_ip_server_name);
    free_certs();
    return test_report("tls");
}
