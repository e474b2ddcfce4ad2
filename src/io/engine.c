/*
 * The I/O engine: a UDP socket, an event loop and a table of connections
 * routed by destination connection ID (RFC 9000 §5.2). Connections are
 * sans-I/O; the engine gives them datagrams, the time and randomness, and
 * sends what they produce, batching equal-sized datagrams to one peer into
 * one GSO send.
 */
#include "io/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "quic/packet_builder.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/retry_token.h"
#include "quic/stateless_reset.h"

#define RX_BATCH 32
#define RX_BUF 65536 /* room for a GRO-coalesced buffer */
#define TX_DGRAM_MAX 1500
#define GSO_SEGMENTS_MAX 64   /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX 65000   /* one UDP send carries at most 64 KiB */
#define FLUSH_DATAGRAMS_MAX 4096 /* per wake-up, so one connection cannot starve the loop */
#define CID_TABLE_MIN 64

typedef struct engine_conn {
    skiff_engine *engine;
    skiff_conn *conn;
    skiff_timer timer;
    skiff_addr peer;
    struct engine_conn *next_dirty;
    struct engine_conn *prev, *next; /* every connection of the engine */
    bool dirty;
    bool dead;
} engine_conn;

/* Open addressing, linear probing; tombstones keep probe chains intact. */
typedef struct cid_slot {
    uint8_t len; /* 0: empty */
    bool tombstone;
    uint8_t cid[SKIFF_MAX_CID_LEN];
    engine_conn *ec;
} cid_slot;

struct skiff_engine {
    skiff_engine_config cfg;
    skiff_conn_callbacks conn_cb; /* the engine's wrappers */
    skiff_loop *loop;
    skiff_udp udp;
    bool server;
    bool socket_open;
    cid_slot *cids;
    size_t cids_cap, cids_used;
    size_t conns;
    uint64_t retries_sent, resets_sent;
    engine_conn *all;
    engine_conn *dirty;
    FILE *keylog;
    uint8_t *rx_buf;
    skiff_udp_rx rx[RX_BATCH];
    uint8_t tx_buf[GSO_BYTES_MAX + TX_DGRAM_MAX];
};

/* ---- connection-ID table ---- */

static uint64_t cid_hash(const uint8_t *cid, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a; CIDs are random, so this spreads well */
    for (size_t i = 0; i < len; i++) h = (h ^ cid[i]) * 0x100000001b3u;
    return h;
}

static cid_slot *cid_find(skiff_engine *e, const uint8_t *cid, size_t len)
{
    if (!e->cids_cap || len == 0) return NULL;
    size_t mask = e->cids_cap - 1;
    for (size_t i = cid_hash(cid, len) & mask, n = 0; n < e->cids_cap; i = (i + 1) & mask, n++) {
        cid_slot *s = &e->cids[i];
        if (s->len == 0 && !s->tombstone) return NULL;
        if (s->len == len && memcmp(s->cid, cid, len) == 0) return s;
    }
    return NULL;
}

static int cid_grow(skiff_engine *e)
{
    size_t cap = e->cids_cap ? e->cids_cap * 2 : CID_TABLE_MIN;
    cid_slot *old = e->cids;
    size_t old_cap = e->cids_cap;
    e->cids = calloc(cap, sizeof *e->cids);
    if (!e->cids) {
        e->cids = old;
        return SKIFF_ERR_NOMEM;
    }
    e->cids_cap = cap;
    e->cids_used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].len) continue;
        size_t mask = cap - 1, j = cid_hash(old[i].cid, old[i].len) & mask;
        while (e->cids[j].len) j = (j + 1) & mask;
        e->cids[j] = old[i];
        e->cids_used++;
    }
    free(old);
    return 0;
}

static int cid_insert(skiff_engine *e, const uint8_t *cid, size_t len, engine_conn *ec)
{
    if (len == 0 || len > SKIFF_MAX_CID_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
    if ((e->cids_used + 1) * 2 > e->cids_cap) {
        int rv = cid_grow(e);
        if (rv) return rv;
    }
    cid_slot *existing = cid_find(e, cid, len);
    if (existing) {
        existing->ec = ec;
        return 0;
    }
    size_t mask = e->cids_cap - 1, i = cid_hash(cid, len) & mask;
    while (e->cids[i].len) i = (i + 1) & mask;
    e->cids[i] = (cid_slot){.len = (uint8_t)len, .ec = ec};
    memcpy(e->cids[i].cid, cid, len);
    e->cids_used++;
    return 0;
}

static void cid_remove(skiff_engine *e, const uint8_t *cid, size_t len)
{
    cid_slot *s = cid_find(e, cid, len);
    if (!s) return;
    s->len = 0;
    s->tombstone = true;
    s->ec = NULL;
    e->cids_used--;
}

static void cid_remove_all(skiff_engine *e, engine_conn *ec)
{
    for (size_t i = 0; i < e->cids_cap; i++)
        if (e->cids[i].len && e->cids[i].ec == ec) {
            e->cids[i].len = 0;
            e->cids[i].tombstone = true;
            e->cids[i].ec = NULL;
            e->cids_used--;
        }
}

/* ---- callbacks: the engine's own, and forwarding to the application ---- */

static void on_random(uint8_t *out, size_t len, void *ud)
{
    (void)ud;
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n <= 0) continue; /* EINTR; the kernel pool is ready long after boot */
        out += n;
        len -= (size_t)n;
    }
}

static void on_cid_added(skiff_conn *c, const uint8_t *cid, size_t len, void *ud)
{
    engine_conn *ec = ud;
    (void)c;
    cid_insert(ec->engine, cid, len, ec);
}

static void on_cid_retired(skiff_conn *c, const uint8_t *cid, size_t len, void *ud)
{
    engine_conn *ec = ud;
    (void)c;
    cid_remove(ec->engine, cid, len);
}

static void on_keylog(skiff_conn *c, const char *line, void *ud)
{
    engine_conn *ec = ud;
    (void)c;
    if (ec->engine->keylog) {
        fprintf(ec->engine->keylog, "%s\n", line);
        fflush(ec->engine->keylog);
    }
}

#define USER(ec) (ec)->engine->cfg.callbacks
#define USER_UD(ec) (ec)->engine->cfg.user_data

static void fwd_handshake_done(skiff_conn *c, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->handshake_done) USER(ec)->handshake_done(c, USER_UD(ec));
}
static void fwd_stream_opened(skiff_conn *c, uint64_t id, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->stream_opened) USER(ec)->stream_opened(c, id, USER_UD(ec));
}
static void fwd_stream_readable(skiff_conn *c, uint64_t id, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->stream_readable) USER(ec)->stream_readable(c, id, USER_UD(ec));
}
static void fwd_stream_writable(skiff_conn *c, uint64_t id, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->stream_writable) USER(ec)->stream_writable(c, id, USER_UD(ec));
}
static void fwd_stream_reset(skiff_conn *c, uint64_t id, uint64_t code, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->stream_reset) USER(ec)->stream_reset(c, id, code, USER_UD(ec));
}
static void fwd_streams_available(skiff_conn *c, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->streams_available) USER(ec)->streams_available(c, USER_UD(ec));
}
static void fwd_closed(skiff_conn *c, const skiff_end_reason *why, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->closed) USER(ec)->closed(c, why, USER_UD(ec));
}
static void fwd_session_ticket(skiff_conn *c, const uint8_t *d, size_t n, void *ud)
{
    engine_conn *ec = ud;
    if (USER(ec)->session_ticket) USER(ec)->session_ticket(c, d, n, USER_UD(ec));
}

/* ---- sending ---- */

static void path_from(skiff_path *p, const skiff_addr *local, const skiff_addr *remote)
{
    memset(p, 0, sizeof *p);
    p->local.len = (uint8_t)(local->len < sizeof p->local.bytes ? local->len : sizeof p->local.bytes);
    memcpy(p->local.bytes, &local->ss, p->local.len);
    p->remote.len = (uint8_t)(remote->len < sizeof p->remote.bytes ? remote->len : sizeof p->remote.bytes);
    memcpy(p->remote.bytes, &remote->ss, p->remote.len);
}

static void addr_from_net(skiff_addr *a, const skiff_net_addr *n)
{
    memset(a, 0, sizeof *a);
    memcpy(&a->ss, n->bytes, n->len);
    a->len = n->len;
}

/* Sends one run of datagrams laid out back to back in e->tx_buf: all of
 * `segment` bytes but the last, so the kernel splits them (UDP GSO). */
static void send_run(skiff_engine *e, size_t len, size_t segment, const skiff_addr *peer, uint8_t ecn)
{
    skiff_udp_tx tx = {.data = e->tx_buf, .len = len, .segment_size = segment, .peer = peer, .ecn = ecn};
    if (e->udp.gso || len == segment) {
        for (int tries = 0; tries < 100; tries++) {
            int sent = skiff_udp_send(&e->udp, &tx, 1);
            if (sent != 0) return; /* sent, or refused: QUIC recovers as from loss */
        }
        return;
    }
    for (size_t off = 0; off < len; off += segment) { /* no GSO: one by one */
        tx.data = e->tx_buf + off;
        tx.len = len - off < segment ? len - off : segment;
        tx.segment_size = 0;
        skiff_udp_send(&e->udp, &tx, 1);
    }
}

/*
 * Sends what a connection has to send now. Datagrams are written back to
 * back while they have the size of the first one, the path and the ECN mark
 * stay the same, and the run fits one GSO send; a shorter datagram ends a
 * run, a longer one starts the next.
 */
static void flush_conn(skiff_engine *e, engine_conn *ec)
{
    skiff_time now = skiff_clock_now();
    size_t run = 0, segment = 0, count = 0;
    skiff_addr peer;
    uint8_t run_ecn = 0;
    for (size_t total = 0; total < FLUSH_DATAGRAMS_MAX; total++) {
        skiff_path path;
        uint8_t ecn = 0;
        skiff_ssize len = skiff_conn_send(ec->conn, e->tx_buf + run, TX_DGRAM_MAX, &path, &ecn, now);
        if (len <= 0) break;
        skiff_addr to;
        addr_from_net(&to, &path.remote);
        bool joins = count > 0 && (size_t)len <= segment && ecn == run_ecn &&
                     skiff_addr_equal(&to, &peer) && count < GSO_SEGMENTS_MAX;
        if (count > 0 && !joins) {
            /* Move the new datagram aside, send the run, start again with it. */
            uint8_t first[TX_DGRAM_MAX];
            memcpy(first, e->tx_buf + run, (size_t)len);
            send_run(e, run, segment, &peer, run_ecn);
            memcpy(e->tx_buf, first, (size_t)len);
            run = count = 0;
        }
        if (count == 0) {
            segment = (size_t)len;
            peer = to;
            run_ecn = ecn;
        }
        run += (size_t)len;
        count++;
        if ((size_t)len < segment || run + TX_DGRAM_MAX > GSO_BYTES_MAX) {
            send_run(e, run, segment, &peer, run_ecn); /* a short datagram ends a run */
            run = count = 0;
        }
    }
    if (count > 0) send_run(e, run, segment, &peer, run_ecn);
    skiff_timer_set(e->loop, &ec->timer, skiff_conn_deadline(ec->conn));
}

static void unlink_conn(skiff_engine *e, engine_conn *ec)
{
    if (ec->prev) ec->prev->next = ec->next;
    else e->all = ec->next;
    if (ec->next) ec->next->prev = ec->prev;
    e->conns--;
}

static void free_conn(skiff_engine *e, engine_conn *ec)
{
    skiff_timer_cancel(e->loop, &ec->timer);
    cid_remove_all(e, ec);
    skiff_conn_free(ec->conn);
    unlink_conn(e, ec);
    free(ec);
}

static void mark_dirty(skiff_engine *e, engine_conn *ec)
{
    if (ec->dirty) return;
    ec->dirty = true;
    ec->next_dirty = e->dirty;
    e->dirty = ec;
}

/* Sends for every connection touched, and frees the ones that finished. */
static void flush_dirty(skiff_engine *e)
{
    while (e->dirty) {
        engine_conn *ec = e->dirty;
        e->dirty = ec->next_dirty;
        ec->dirty = false;
        if (skiff_conn_is_closed(ec->conn)) {
            free_conn(e, ec);
            continue;
        }
        flush_conn(e, ec);
    }
}

static void on_conn_timer(skiff_loop *loop, skiff_timer *t, void *ud)
{
    (void)loop;
    (void)t;
    engine_conn *ec = ud;
    skiff_conn_on_timeout(ec->conn, skiff_clock_now());
    mark_dirty(ec->engine, ec);
    flush_dirty(ec->engine);
}

static engine_conn *new_engine_conn(skiff_engine *e, const skiff_addr *peer)
{
    engine_conn *ec = calloc(1, sizeof *ec);
    if (!ec) return NULL;
    ec->engine = e;
    ec->peer = *peer;
    skiff_timer_init(&ec->timer, on_conn_timer, ec);
    ec->next = e->all;
    if (e->all) e->all->prev = ec;
    e->all = ec;
    e->conns++;
    return ec;
}

/* ---- receiving ---- */

/* The IP address of a socket address, without the port. */
static size_t ip_bytes(const skiff_addr *a, uint8_t out[16])
{
    if (a->ss.ss_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
        return 4;
    }
    memcpy(out, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
    return 16;
}

/* Answers a client's Initial with a Retry carrying an address-validation
 * token (RFC 9000 §8.1.2, §17.2.5), keeping no state. */
static void send_retry(skiff_engine *e, const skiff_udp_rx *rx, const skiff_packet_header *h)
{
    uint8_t token[SKIFF_RETRY_TOKEN_MAX], scid[SKIFF_MAX_CID_LEN], pkt[256];
    size_t scid_len = e->cfg.conn.cid_len;
    on_random(scid, scid_len, NULL);
    skiff_ssize tl = skiff_retry_token_make(token, sizeof token, e->cfg.conn.static_key,
                                            SKIFF_TOKEN_RETRY, (const uint8_t *)&rx->peer.ss, rx->peer.len, h->dcid,
                                            h->dcid_len, skiff_clock_now());
    if (tl < 0) return;
    skiff_packet_header r = {.version = h->version, .dcid = h->scid, .dcid_len = h->scid_len,
                             .scid = scid, .scid_len = (uint8_t)scid_len, .token = token,
                             .token_len = (size_t)tl};
    uint8_t unused;
    on_random(&unused, 1, NULL);
    skiff_ssize n = skiff_retry_encode(pkt, sizeof pkt - SKIFF_RETRY_TAG_LEN, &r, unused & 0x0f);
    if (n < 0 || skiff_retry_integrity_tag(h->version, h->dcid, h->dcid_len, pkt, (size_t)n, pkt + n))
        return;
    skiff_udp_tx tx = {.data = pkt, .len = (size_t)n + SKIFF_RETRY_TAG_LEN, .peer = &rx->peer};
    skiff_udp_send(&e->udp, &tx, 1);
    e->retries_sent++;
}

static engine_conn *accept_conn(skiff_engine *e, const skiff_udp_rx *rx, const skiff_packet_header *h)
{
    size_t max = e->cfg.max_connections ? e->cfg.max_connections : 10000;
    /* RFC 9000 §14.1: a server drops Initials in datagrams below 1200 bytes. */
    if (h->type != SKIFF_PKT_INITIAL || rx->segment_size < SKIFF_MIN_INITIAL_DATAGRAM ||
        e->conns >= max)
        return NULL;
    /* RFC 9000 §8.1: a token from a NEW_TOKEN frame (bound to the client's
     * IP address) or from our Retry (bound to address and port) validates
     * the address; without one, a server that insists sends a Retry. A token
     * that fails counts as none (§8.1.3). */
    uint8_t odcid[SKIFF_MAX_CID_LEN], ip[16];
    size_t odcid_len = 0, ip_len = ip_bytes(&rx->peer, ip);
    bool validated = false;
    skiff_time now = skiff_clock_now();
    uint8_t kind = skiff_token_kind(h->token, h->token_len);
    if (kind == SKIFF_TOKEN_NEW)
        validated = !skiff_retry_token_check(h->token, h->token_len, e->cfg.conn.static_key,
                                             SKIFF_TOKEN_NEW, ip, ip_len, now, odcid, &odcid_len);
    else if (kind == SKIFF_TOKEN_RETRY)
        validated = !skiff_retry_token_check(h->token, h->token_len, e->cfg.conn.static_key,
                                             SKIFF_TOKEN_RETRY, (const uint8_t *)&rx->peer.ss,
                                             rx->peer.len, now, odcid, &odcid_len);
    if (!validated) odcid_len = 0;
    if (e->cfg.require_retry && !validated) {
        send_retry(e, rx, h);
        return NULL;
    }
    engine_conn *ec = new_engine_conn(e, &rx->peer);
    if (!ec) return NULL;
    skiff_path path;
    path_from(&path, &rx->local, &rx->peer);
    int rv = skiff_conn_server_new(&ec->conn, &e->cfg.conn, &e->conn_cb, ec, &path, h->dcid,
                                   h->dcid_len, h->scid, h->scid_len,
                                   odcid_len ? odcid : NULL, odcid_len, now);
    if (rv) {
        unlink_conn(e, ec);
        free(ec);
        return NULL;
    }
    if (validated) skiff_conn_set_address_validated(ec->conn);
    uint8_t token[SKIFF_RETRY_TOKEN_MAX];
    skiff_ssize tl = skiff_retry_token_make(token, sizeof token, e->cfg.conn.static_key,
                                            SKIFF_TOKEN_NEW, ip, ip_len, NULL, 0, now);
    if (tl > 0) skiff_conn_set_new_token(ec->conn, token, (size_t)tl);
    /* Until the client switches to our CID, it keeps using its own choice. */
    cid_insert(e, h->dcid, h->dcid_len, ec);
    return ec;
}

/* RFC 9000 §6.1: a client's first datagram in a version we do not speak
 * gets our versions, plus a greased one (§6.3) so clients learn to ignore
 * versions they do not know. The connections speak v1 only for now. */
static void send_version_negotiation(skiff_engine *e, const skiff_udp_rx *rx, const skiff_packet_header *h)
{
    uint8_t vn[600], grease;
    on_random(&grease, 1, NULL);
    const uint32_t versions[] = {SKIFF_QUIC_V1, 0x0a0a0a0au | ((uint32_t)(grease & 0xf0) << 20)};
    skiff_ssize vl = skiff_version_negotiation_encode(vn, sizeof vn, h->scid, h->scid_len, h->dcid,
                                                      h->dcid_len, versions, 2, grease & 0x7f);
    if (vl > 0) {
        skiff_udp_tx tx = {.data = vn, .len = (size_t)vl, .peer = &rx->peer};
        skiff_udp_send(&e->udp, &tx, 1);
    }
}

/*
 * RFC 9000 §10.3: a short-header packet for a connection we do not have (a
 * restart lost it) gets a stateless reset, with the token we derived for that
 * connection ID from the same static key, so the peer ends at once instead of
 * waiting for its idle timeout. Smaller than the trigger, so two endpoints
 * cannot loop, and never for a trigger of 21 bytes or fewer (§10.3.3).
 */
static void send_stateless_reset(skiff_engine *e, const skiff_udp_rx *rx, const uint8_t *dcid,
                                 size_t dcid_len, size_t trigger_len)
{
    uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN], random[64], out[128];
    skiff_stateless_reset_token(e->cfg.conn.static_key, dcid, dcid_len, token);
    on_random(random, sizeof random, NULL);
    skiff_ssize n = skiff_stateless_reset_build(out, sizeof out, token, trigger_len, random, sizeof random);
    if (n <= 0) return;
    skiff_udp_tx tx = {.data = out, .len = (size_t)n, .peer = &rx->peer};
    skiff_udp_send(&e->udp, &tx, 1);
    e->resets_sent++;
}

static void handle_datagram(skiff_engine *e, const skiff_udp_rx *rx, uint8_t *d, size_t len)
{
    skiff_packet_header h;
    skiff_ssize n = skiff_packet_header_decode(&h, d, len, e->cfg.conn.cid_len, 0);
    bool foreign_version = n == SKIFF_ERR_UNSUPPORTED_VERSION ||
                           (n >= 0 && h.type == SKIFF_PKT_INITIAL && h.version != e->cfg.conn.version);
    if (foreign_version && e->server && len >= SKIFF_MIN_INITIAL_DATAGRAM && !cid_find(e, h.dcid, h.dcid_len)) {
        send_version_negotiation(e, rx, &h);
        return;
    }
    if (n < 0) return; /* not a packet we can route: drop */
    cid_slot *slot = cid_find(e, h.dcid, h.dcid_len);
    engine_conn *ec = slot ? slot->ec : NULL;
    if (!ec && e->server) ec = accept_conn(e, rx, &h);
    if (!ec && h.type == SKIFF_PKT_1RTT && !e->server) {
        /* A reset's DCID is random, so it routes nowhere: a client asks each
         * of its connections (RFC 9000 §10.3.1). */
        for (engine_conn *c = e->all; c; c = c->next)
            if (skiff_conn_check_stateless_reset(c->conn, d, len, skiff_clock_now())) {
                mark_dirty(e, c);
                break;
            }
        return;
    }
    if (!ec && h.type == SKIFF_PKT_1RTT && e->cfg.conn.static_key)
        send_stateless_reset(e, rx, h.dcid, h.dcid_len, len);
    if (!ec) return;
    skiff_path path;
    path_from(&path, &rx->local, &rx->peer);
    skiff_conn_receive(ec->conn, &path, d, len, rx->ecn, skiff_clock_now());
    mark_dirty(e, ec);
}

static void on_readable(skiff_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    skiff_engine *e = ud;
    for (int round = 0; round < 16; round++) { /* bounded; epoll wakes us again */
        int n = skiff_udp_recv(&e->udp, e->rx, RX_BATCH, e->rx_buf, RX_BUF);
        if (n <= 0) break;
        for (int i = 0; i < n; i++) {
            const skiff_udp_rx *rx = &e->rx[i];
            for (size_t off = 0; off < rx->len; off += rx->segment_size) {
                size_t len = rx->len - off < rx->segment_size ? rx->len - off : rx->segment_size;
                handle_datagram(e, rx, rx->data + off, len);
            }
        }
        if (n < RX_BATCH) break;
    }
    flush_dirty(e);
}

/* ---- engine ---- */

int skiff_engine_new(skiff_engine **out, const skiff_engine_config *cfg)
{
    skiff_engine *e = calloc(1, sizeof *e);
    if (!e) return SKIFF_ERR_NOMEM;
    e->cfg = *cfg;
    e->udp.fd = -1;
    e->rx_buf = malloc((size_t)RX_BATCH * RX_BUF);
    int rv = e->rx_buf ? skiff_loop_new(&e->loop) : SKIFF_ERR_NOMEM;
    if (rv) {
        free(e->rx_buf);
        free(e);
        return rv < 0 && rv != SKIFF_ERR_NOMEM ? SKIFF_ERR_INTERNAL : rv;
    }
    e->conn_cb = (skiff_conn_callbacks){
        .handshake_done = fwd_handshake_done,
        .stream_opened = fwd_stream_opened,
        .stream_readable = fwd_stream_readable,
        .stream_writable = fwd_stream_writable,
        .stream_reset = fwd_stream_reset,
        .streams_available = fwd_streams_available,
        .closed = fwd_closed,
        .cid_added = on_cid_added,
        .cid_retired = on_cid_retired,
        .keylog = on_keylog,
        .session_ticket = fwd_session_ticket,
        .random = on_random,
    };
    if (cfg->keylog_file && *cfg->keylog_file) e->keylog = fopen(cfg->keylog_file, "a");
    *out = e;
    return 0;
}

void skiff_engine_free(skiff_engine *e)
{
    if (!e) return;
    while (e->all) free_conn(e, e->all);
    if (e->socket_open) {
        skiff_loop_del_fd(e->loop, e->udp.fd);
        skiff_udp_close(&e->udp);
    }
    if (e->keylog) fclose(e->keylog);
    skiff_loop_free(e->loop);
    free(e->cids);
    free(e->rx_buf);
    free(e);
}

static int open_socket(skiff_engine *e, const skiff_addr *local)
{
    int rv = skiff_udp_open(&e->udp, local);
    if (rv) return rv;
    e->socket_open = true;
    return skiff_loop_add_fd(e->loop, e->udp.fd, EPOLLIN, on_readable, e);
}

int skiff_engine_listen(skiff_engine *e, const char *addr)
{
    skiff_addr local;
    if (skiff_addr_parse(&local, addr)) return SKIFF_ERR_INVALID_ARGUMENT;
    e->server = true;
    e->cfg.conn.role = SKIFF_ROLE_SERVER;
    return open_socket(e, &local);
}

const skiff_addr *skiff_engine_local_addr(const skiff_engine *e)
{
    return &e->udp.local;
}

int skiff_engine_connect(skiff_engine *e, const char *addr, skiff_conn **out)
{
    skiff_addr remote, local;
    if (skiff_addr_parse(&remote, addr)) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!e->socket_open) {
        skiff_addr_parse(&local, remote.ss.ss_family == AF_INET ? "0.0.0.0:0" : "[::]:0");
        int rv = open_socket(e, &local);
        if (rv) return rv;
    }
    engine_conn *ec = new_engine_conn(e, &remote);
    if (!ec) return SKIFF_ERR_NOMEM;
    skiff_path path;
    path_from(&path, &e->udp.local, &remote);
    e->cfg.conn.role = SKIFF_ROLE_CLIENT;
    int rv = skiff_conn_client_new(&ec->conn, &e->cfg.conn, &e->conn_cb, ec, &path, skiff_clock_now());
    if (rv) {
        unlink_conn(e, ec);
        free(ec);
        return rv;
    }
    *out = ec->conn;
    mark_dirty(e, ec);
    flush_dirty(e);
    return 0;
}

void skiff_engine_kick(skiff_engine *e, skiff_conn *c)
{
    engine_conn *ec = skiff_conn_user_data(c);
    mark_dirty(e, ec);
    flush_dirty(e);
}

int skiff_engine_run(skiff_engine *e, skiff_time until)
{
    return skiff_loop_run(e->loop, until);
}

void skiff_engine_stop(skiff_engine *e)
{
    skiff_loop_stop(e->loop);
}

skiff_loop *skiff_engine_loop(skiff_engine *e)
{
    return e->loop;
}

size_t skiff_engine_connection_count(const skiff_engine *e)
{
    return e->conns;
}

uint64_t skiff_engine_retries_sent(const skiff_engine *e)
{
    return e->retries_sent;
}

uint64_t skiff_engine_resets_sent(const skiff_engine *e)
{
    return e->resets_sent;
}
