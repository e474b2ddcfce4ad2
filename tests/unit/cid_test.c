/* Connection IDs (RFC 9000 §5.1, §19.15, §19.16) and stateless reset
 * (§10.3): issuing, limits, retirement, exact error codes, the reset layout
 * and size rules, constant-time token matching, and HMAC token derivation
 * checked against OpenSSL. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "quic/cid.h"
#include "quic/stateless_reset.h"
#include "test.h"

static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* ---- A test I/O engine: a deterministic generator and a routing table ---- */

typedef struct engine {
    uint64_t counter; /* makes every generated CID different */
    int refuse;       /* refuse this many on_added calls first */
    int refuse_always;
    int added, retired, generated;
    skiff_cid routes[64];
    size_t nroutes;
    uint64_t last_added_seq, last_retired_seq;
} engine;

static int gen(void *user, uint64_t seq, size_t len, skiff_cid *cid, uint8_t token[16])
{
    engine *e = user;
    e->generated++;
    cid->len = (uint8_t)len;
    for (size_t i = 0; i < len; i++)
        cid->bytes[i] = (uint8_t)(0xc0 + seq + 7 * e->counter + i);
    e->counter++;
    skiff_stateless_reset_token(key, cid->bytes, len, token);
    return 0;
}

static int gen_fail(void *user, uint64_t seq, size_t len, skiff_cid *cid, uint8_t token[16])
{
    (void)user, (void)seq, (void)len, (void)cid, (void)token;
    return SKIFF_ERR_CRYPTO;
}

static int added(void *user, const skiff_cid *cid, uint64_t seq)
{
    engine *e = user;
    if (e->refuse_always) return -1;
    if (e->refuse > 0) {
        e->refuse--;
        return -1;
    }
    e->added++;
    e->last_added_seq = seq;
    if (e->nroutes < 64) e->routes[e->nroutes++] = *cid;
    return 0;
}

static void retired(void *user, const skiff_cid *cid, uint64_t seq)
{
    engine *e = user;
    e->retired++;
    e->last_retired_seq = seq;
    for (size_t i = 0; i < e->nroutes; i++) {
        if (skiff_cid_equal(&e->routes[i], cid->bytes, cid->len)) {
            e->routes[i] = e->routes[--e->nroutes];
            return;
        }
    }
}

static skiff_cid make_cid(uint8_t fill, uint8_t len)
{
    skiff_cid c = {.len = len};
    memset(c.bytes, fill, len);
    return c;
}

static int local_init(skiff_cid_local *l, engine *e, uint8_t len)
{
    memset(e, 0, sizeof *e);
    skiff_cid_callbacks cb = {gen, added, retired, e};
    skiff_cid c0 = make_cid(0xaa, len);
    uint8_t t0[16];
    skiff_stateless_reset_token(key, c0.bytes, c0.len, t0);
    return skiff_cid_local_init(l, &cb, &c0, t0);
}

/* ---- Local CIDs ---------------------------------------------------------- */

static void local_issues_up_to_peer_limit(void)
{
    engine e;
    skiff_cid_local l;
    CHECK_EQ(local_init(&l, &e, 8), 0);
    CHECK_EQ(e.added, 1); /* seq 0 routed too */
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 2); /* the default limit of 2 */
    skiff_cid_local_set_peer_limit(&l, 4);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 4);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 4);
    CHECK_EQ(e.added, 4);
    CHECK_EQ(e.nroutes, 4);

    /* one NEW_CONNECTION_ID per issued CID, decoding to its seq, CID and
     * the HMAC token */
    uint8_t buf[64];
    for (uint64_t want = 1; want <= 3; want++) {
        uint64_t seq = 99;
        skiff_ssize n = skiff_cid_local_write_new(&l, buf, sizeof buf, &seq);
        CHECK(n > 0);
        CHECK_U64(seq, want);
        skiff_frame f;
        CHECK_EQ(skiff_frame_decode(&f, buf, (size_t)n), n);
        CHECK_U64(f.type, SKIFF_FRAME_NEW_CONNECTION_ID);
        CHECK_U64(f.new_connection_id.seq, want);
        CHECK_U64(f.new_connection_id.retire_prior_to, 0);
        CHECK_EQ(f.new_connection_id.cid_len, 8);
        const skiff_cid_entry *ent = skiff_cid_local_find(&l, f.new_connection_id.cid, 8);
        CHECK(ent != NULL && ent->seq == want);
        uint8_t tok[16];
        skiff_stateless_reset_token(key, f.new_connection_id.cid, 8, tok);
        CHECK_MEM(f.new_connection_id.reset_token, tok, 16);
    }
    uint64_t seq;
    CHECK_EQ(skiff_cid_local_write_new(&l, buf, sizeof buf, &seq), 0);

    /* a lost frame goes out again; too small a buffer keeps it queued */
    skiff_cid_local_on_new_lost(&l, 2);
    CHECK_EQ(skiff_cid_local_write_new(&l, buf, 5, &seq), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK(skiff_cid_local_write_new(&l, buf, sizeof buf, &seq) > 0);
    CHECK_U64(seq, 2);
    skiff_cid_local_on_new_lost(&l, 0); /* seq 0 never travels in a frame */
    CHECK_EQ(skiff_cid_local_write_new(&l, buf, sizeof buf, &seq), 0);

    /* our own cap whatever the peer allows */
    skiff_cid_local_set_peer_limit(&l, 1000);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, SKIFF_CID_LOCAL_MAX);

    skiff_cid_local_retire_all(&l);
    CHECK_EQ(e.nroutes, 0);
    CHECK_EQ(e.retired, SKIFF_CID_LOCAL_MAX);
}

static void local_retire_rules(void)
{
    engine e;
    skiff_cid_local l;
    CHECK_EQ(local_init(&l, &e, 8), 0);
    skiff_cid_local_set_peer_limit(&l, 3);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 3); /* seqs 0, 1, 2 */
    skiff_cid c0 = make_cid(0xaa, 8);

    /* §19.16: a sequence number never issued */
    CHECK_EQ(skiff_cid_local_on_retire(&l, 3, c0.bytes, 8), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(skiff_cid_local_on_retire(&l, UINT64_MAX, c0.bytes, 8), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(l.count, 3);

    /* §19.16: the CID the packet was sent to */
    skiff_cid c1 = l.entries[1].cid;
    CHECK_EQ(skiff_cid_local_on_retire(&l, 1, c1.bytes, c1.len), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(l.count, 3);
    CHECK_EQ(e.retired, 0);

    /* a valid retirement: routed away, and a replacement (seq 3) issued */
    CHECK_EQ(skiff_cid_local_on_retire(&l, 1, c0.bytes, 8), 0);
    CHECK_EQ(e.retired, 1);
    CHECK_U64(e.last_retired_seq, 1);
    CHECK_U64(e.last_added_seq, 3);
    CHECK(skiff_cid_local_find(&l, c1.bytes, c1.len) == NULL);
    CHECK_EQ(l.count, 3);
    /* the old seq 1 frame, if lost now, is not resent */
    uint8_t buf[64];
    uint64_t seq;
    while (skiff_cid_local_write_new(&l, buf, sizeof buf, &seq) > 0) {
    }
    skiff_cid_local_on_new_lost(&l, 1);
    CHECK_EQ(skiff_cid_local_write_new(&l, buf, sizeof buf, &seq), 0);

    /* a repeated RETIRE for seq 1 is no error and issues nothing */
    CHECK_EQ(skiff_cid_local_on_retire(&l, 1, c0.bytes, 8), 0);
    CHECK_EQ(e.retired, 1);
    CHECK_EQ(e.added, 4);
    /* seq 3 now exists: retiring it is fine */
    CHECK_EQ(skiff_cid_local_on_retire(&l, 3, c0.bytes, 8), 0);
    CHECK_EQ(e.added, 5);
    /* seq 0 may be retired too, from a packet sent to another CID */
    skiff_cid c2 = l.entries[1].cid;
    CHECK_U64(l.entries[1].seq, 2);
    CHECK_EQ(skiff_cid_local_on_retire(&l, 0, c2.bytes, c2.len), 0);
    CHECK(skiff_cid_local_find(&l, c0.bytes, 8) == NULL);
    CHECK_EQ(l.count, 3);
    CHECK_EQ(e.nroutes, 3);
}

static void local_zero_length_and_callbacks(void)
{
    engine e;
    skiff_cid_local l;
    /* zero-length CIDs: nothing to issue, and any RETIRE is a violation */
    CHECK_EQ(local_init(&l, &e, 0), 0);
    skiff_cid_local_set_peer_limit(&l, 4);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 1);
    CHECK_EQ(skiff_cid_local_on_retire(&l, 0, NULL, 0), SKIFF_ERR_PROTOCOL_VIOLATION);
    skiff_cid c;
    uint8_t tok[16];
    CHECK_EQ(skiff_cid_local_issue_preferred(&l, &c, tok), SKIFF_ERR_INVALID_ARGUMENT);

    /* on_added refusing (the CID routes elsewhere): another is generated */
    CHECK_EQ(local_init(&l, &e, 8), 0);
    e.refuse = 2;
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 2);
    CHECK_EQ(e.generated, 3);
    /* refusing every time: give up with INTERNAL after a bounded number */
    CHECK_EQ(local_init(&l, &e, 8), 0);
    e.refuse_always = 1;
    CHECK_EQ(skiff_cid_local_issue(&l), SKIFF_ERR_INTERNAL);
    CHECK_EQ(e.generated, SKIFF_CID_GENERATE_ATTEMPTS);
    CHECK_EQ(l.count, 1);
    /* and seq 0 refused: init fails */
    memset(&e, 0, sizeof e);
    e.refuse_always = 1;
    skiff_cid_callbacks cb = {gen, added, retired, &e};
    skiff_cid c0 = make_cid(1, 4);
    CHECK_EQ(skiff_cid_local_init(&l, &cb, &c0, NULL), SKIFF_ERR_INVALID_ARGUMENT);
    /* a failing generator's error comes back */
    cb.generate = gen_fail;
    e.refuse_always = 0;
    CHECK_EQ(skiff_cid_local_init(&l, &cb, &c0, NULL), 0);
    CHECK_EQ(skiff_cid_local_issue(&l), SKIFF_ERR_CRYPTO);
    cb.generate = NULL;
    CHECK_EQ(skiff_cid_local_init(&l, &cb, &c0, NULL), SKIFF_ERR_INVALID_ARGUMENT);

    /* the preferred-address CID is sequence 1 and not sent in a frame */
    CHECK_EQ(local_init(&l, &e, 8), 0);
    CHECK_EQ(skiff_cid_local_issue_preferred(&l, &c, tok), 0);
    CHECK_EQ(c.len, 8);
    const skiff_cid_entry *p = skiff_cid_local_find(&l, c.bytes, c.len);
    CHECK(p && p->seq == 1);
    uint8_t want[16];
    skiff_stateless_reset_token(key, c.bytes, c.len, want);
    CHECK_MEM(tok, want, 16);
    uint8_t buf[64];
    uint64_t seq;
    CHECK_EQ(skiff_cid_local_write_new(&l, buf, sizeof buf, &seq), 0);
    CHECK_EQ(skiff_cid_local_issue(&l), 0);
    CHECK_EQ(l.count, 2); /* limit 2 reached by seqs 0 and 1 */
    CHECK_EQ(skiff_cid_local_issue_preferred(&l, &c, tok), SKIFF_ERR_INVALID_ARGUMENT);
}

/* ---- Remote CIDs --------------------------------------------------------- */

static skiff_frame_new_connection_id ncid(uint64_t seq, uint64_t rpt, const skiff_cid *c,
                                          const uint8_t *tok)
{
    skiff_frame_new_connection_id f = {seq, rpt, c->bytes, c->len, tok};
    return f;
}

static void remote_new_connection_id_rules(void)
{
    skiff_cid_remote r;
    skiff_cid_remote_init(&r, 4);
    uint8_t c0[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 8), 0);
    const skiff_cid_entry *cur = skiff_cid_remote_for_path(&r, 0);
    CHECK(cur && cur->seq == 0);

    skiff_cid a = make_cid(0xa1, 8), b = make_cid(0xb2, 8), c = make_cid(0xc3, 8);
    uint8_t ta[16], tb[16];
    memset(ta, 0x11, 16);
    memset(tb, 0x22, 16);
    skiff_frame_new_connection_id f = ncid(1, 0, &a, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0); /* repeated: fine */
    CHECK_EQ(r.count, 2);
    /* same seq, another CID */
    f = ncid(1, 0, &b, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), SKIFF_ERR_PROTOCOL_VIOLATION);
    /* same seq and CID, another token */
    f = ncid(1, 0, &a, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), SKIFF_ERR_PROTOCOL_VIOLATION);
    /* the same CID under another seq */
    f = ncid(2, 0, &a, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(r.count, 2);
    /* seqs may arrive out of order */
    f = ncid(3, 0, &c, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    f = ncid(2, 0, &b, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(r.count, 4);
    CHECK_U64(r.entries[2].seq, 2);
    CHECK_EQ(skiff_cid_remote_unused_count(&r), 3);
    /* §5.1.1: a fifth active one is over our limit of 4 */
    skiff_cid d = make_cid(0xd4, 8);
    f = ncid(4, 0, &d, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), SKIFF_ERR_CONNECTION_ID_LIMIT);
    CHECK_EQ(r.count, 4);
    CHECK_EQ(r.nretire, 0);
    /* ... unless Retire Prior To makes room first (§5.1.2) */
    f = ncid(4, 1, &d, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(r.count, 4);
    CHECK(r.entries[0].seq == 1);
    /* path 0 lost seq 0 and moved to the lowest unused CID, seq 1 */
    cur = skiff_cid_remote_for_path(&r, 0);
    CHECK(cur && cur->seq == 1);
    CHECK_MEM(cur->cid.bytes, a.bytes, 8);

    /* RETIRE_CONNECTION_ID for seq 0, decoding correctly */
    uint8_t buf[16];
    uint64_t seq = 99;
    skiff_ssize n = skiff_cid_remote_write_retire(&r, buf, sizeof buf, &seq);
    CHECK_EQ(n, 2);
    CHECK_U64(seq, 0);
    skiff_frame fr;
    CHECK_EQ(skiff_frame_decode(&fr, buf, (size_t)n), 2);
    CHECK_U64(fr.type, SKIFF_FRAME_RETIRE_CONNECTION_ID);
    CHECK_U64(fr.retire_connection_id.seq, 0);
    CHECK_EQ(skiff_cid_remote_write_retire(&r, buf, sizeof buf, &seq), 0);
    /* lost, sent again; acknowledged, gone */
    skiff_cid_remote_on_retire_lost(&r, 0);
    CHECK_EQ(skiff_cid_remote_write_retire(&r, buf, 1, &seq), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_cid_remote_write_retire(&r, buf, sizeof buf, &seq), 2);
    skiff_cid_remote_on_retire_acked(&r, 0);
    CHECK_EQ(r.nretire, 0);

    /* the retired seq 0 re-announced (a retransmission) stays retired */
    skiff_cid z = {.len = 8};
    memcpy(z.bytes, c0, 8);
    f = ncid(0, 0, &z, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(r.count, 4);
    CHECK_EQ(r.nretire, 0);

    /* Retire Prior To 3 retires 1 and 2; a later smaller one is ignored */
    skiff_cid e5 = make_cid(0xe5, 8);
    f = ncid(5, 3, &e5, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_U64(r.retire_prior_to, 3);
    CHECK_EQ(r.count, 3); /* 3, 4, 5 */
    CHECK_EQ(r.nretire, 2);
    cur = skiff_cid_remote_for_path(&r, 0);
    CHECK(cur && cur->seq == 3);
    skiff_cid f6 = make_cid(0xf6, 8);
    f = ncid(6, 2, &f6, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_U64(r.retire_prior_to, 3);
    CHECK_EQ(r.count, 4);

    /* §19.15: a seq below Retire Prior To never seen: retired at once, once */
    skiff_cid_remote_free(&r);
    skiff_cid_remote_init(&r, 4);
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 8), 0);
    f = ncid(5, 5, &e5, ta);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0); /* retires seq 0 */
    f = ncid(2, 0, &b, tb);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(r.count, 1);
    CHECK_EQ(r.nretire, 2);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    CHECK_EQ(r.nretire, 2);
    uint64_t seqs[2];
    CHECK(skiff_cid_remote_write_retire(&r, buf, sizeof buf, &seqs[0]) > 0);
    CHECK(skiff_cid_remote_write_retire(&r, buf, sizeof buf, &seqs[1]) > 0);
    CHECK_U64(seqs[0], 0);
    CHECK_U64(seqs[1], 2);
    skiff_cid_remote_on_retire_acked(&r, 2);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0); /* already done for seq 2 */
    CHECK_EQ(r.nretire, 1);
    skiff_cid_remote_free(&r);
}

static void remote_paths_and_tokens(void)
{
    skiff_cid_remote r;
    skiff_cid_remote_init(&r, 8);
    uint8_t c0[4] = {1, 2, 3, 4};
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 4), 0);
    uint8_t t0[16], t1[16], t2[16], toks[8][16];
    memset(t0, 0x10, 16);
    memset(t1, 0x11, 16);
    memset(t2, 0x12, 16);
    /* the client has no token for seq 0 until the server's parameters */
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 8), 0);
    skiff_cid_remote_set_initial_token(&r, t0);
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 8), 1);
    CHECK_MEM(toks[0], t0, 16);

    /* the preferred address CID is seq 1 */
    uint8_t p1[6] = {6, 6, 6, 6, 6, 6};
    CHECK_EQ(skiff_cid_remote_add_preferred(&r, p1, 6, t1), 0);
    CHECK_U64(r.entries[1].seq, 1);
    skiff_cid c2 = make_cid(0x22, 8);
    skiff_frame_new_connection_id f = ncid(2, 0, &c2, t2);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    /* unused CIDs' tokens are not checked (§10.3.1) */
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 8), 1);

    /* a new path takes the lowest unused CID */
    const skiff_cid_entry *e = skiff_cid_remote_next_unused(&r, 1);
    CHECK(e && e->seq == 1);
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 8), 2);
    CHECK_MEM(toks[1], t1, 16);
    /* a fresh CID for path 0 retires seq 0 */
    e = skiff_cid_remote_next_unused(&r, 0);
    CHECK(e && e->seq == 2);
    CHECK(skiff_cid_remote_for_path(&r, 0)->seq == 2);
    CHECK_EQ(r.nretire, 1);
    CHECK_U64(r.retire_queue[0].seq, 0);
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 8), 2); /* seq 0's is gone */
    CHECK_MEM(toks[0], t1, 16);
    CHECK_MEM(toks[1], t2, 16);
    /* none left */
    CHECK(skiff_cid_remote_next_unused(&r, 2) == NULL);
    CHECK_EQ(skiff_cid_remote_unused_count(&r), 0);
    /* a path abandoned: its CID retired */
    CHECK_EQ(skiff_cid_remote_release_path(&r, 1), 0);
    CHECK(skiff_cid_remote_for_path(&r, 1) == NULL);
    CHECK_EQ(r.nretire, 2);
    CHECK_EQ(skiff_cid_remote_tokens(&r, toks, 1), 1); /* max respected */
    /* retiring what is not active is a no-op */
    CHECK_EQ(skiff_cid_remote_retire(&r, 42), 0);
    CHECK_EQ(r.nretire, 2);
    skiff_cid_remote_free(&r);

    /* a peer using zero-length CIDs may not send NEW_CONNECTION_ID (§19.15) */
    skiff_cid_remote_init(&r, 2);
    CHECK_EQ(skiff_cid_remote_set_initial(&r, NULL, 0), 0);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK(skiff_cid_remote_next_unused(&r, 1) == NULL);
    CHECK(skiff_cid_remote_for_path(&r, 0) != NULL);
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 21), SKIFF_ERR_INVALID_ARGUMENT);
    skiff_cid_remote_free(&r);
}

/* A peer that keeps retiring and never sees our RETIRE frames acknowledged
 * fills the queue: CONNECTION_ID_LIMIT_ERROR, state unchanged (§5.1.2). */
static void remote_retire_queue_bounded(void)
{
    skiff_cid_remote r;
    skiff_cid_remote_init(&r, 2);
    uint8_t c0[4] = {1, 2, 3, 4};
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 4), 0);
    uint8_t tok[16] = {0};
    uint64_t seq = 1;
    int rv = 0;
    for (; seq < 100; seq++) {
        skiff_cid c = make_cid((uint8_t)seq, 8);
        skiff_frame_new_connection_id f = ncid(seq, seq, &c, tok);
        rv = skiff_cid_remote_on_new(&r, &f);
        if (rv) break;
    }
    CHECK_EQ(rv, SKIFF_ERR_CONNECTION_ID_LIMIT);
    CHECK_U64(seq, SKIFF_CID_RETIRE_QUEUE_MAX + 1);
    CHECK_EQ(r.nretire, SKIFF_CID_RETIRE_QUEUE_MAX);
    CHECK_EQ(r.count, 1);
    CHECK_U64(r.retire_prior_to, seq - 1);
    /* voluntary retirement is refused too while the queue is full */
    CHECK_EQ(skiff_cid_remote_retire(&r, seq - 1), SKIFF_ERR_CONNECTION_ID_LIMIT);
    /* once some are acknowledged the peer may go on */
    uint8_t buf[16];
    uint64_t s;
    CHECK(skiff_cid_remote_write_retire(&r, buf, sizeof buf, &s) > 0);
    skiff_cid_remote_on_retire_acked(&r, s);
    skiff_cid c = make_cid((uint8_t)seq, 8);
    skiff_frame_new_connection_id f = ncid(seq, seq, &c, tok);
    CHECK_EQ(skiff_cid_remote_on_new(&r, &f), 0);
    skiff_cid_remote_free(&r);
}

/* A hostile peer: 20,000 NEW_CONNECTION_ID frames, skipping every other
 * sequence number so that retired numbers never form one range. Memory stays
 * within the caps; the set stays at most our limit. */
static void remote_hostile_stays_bounded(void)
{
    skiff_cid_remote r;
    skiff_cid_remote_init(&r, 4);
    uint8_t c0[4] = {1, 2, 3, 4};
    CHECK_EQ(skiff_cid_remote_set_initial(&r, c0, 4), 0);
    uint8_t tok[16] = {0}, buf[16];
    int errors = 0;
    size_t max_ranges = 0;
    for (uint64_t i = 1; i <= 20000; i++) {
        uint64_t seq = 2 * i;
        skiff_cid c = make_cid(0, 8);
        memcpy(c.bytes, &seq, sizeof seq);
        /* keep the previous one: one unused CID is always there */
        skiff_frame_new_connection_id f = ncid(seq, seq - 2, &c, tok);
        if (skiff_cid_remote_on_new(&r, &f) != 0) errors++;
        /* also retire voluntarily now and then */
        if (i % 3 == 0 && skiff_cid_remote_next_unused(&r, 0) == NULL) errors++;
        uint64_t s;
        while (skiff_cid_remote_write_retire(&r, buf, sizeof buf, &s) > 0)
            skiff_cid_remote_on_retire_acked(&r, s);
        if (r.retired.count > max_ranges) max_ranges = r.retired.count;
        if (r.count > r.limit) errors++;
    }
    CHECK_EQ(errors, 0);
    CHECK_EQ(max_ranges, SKIFF_CID_RETIRED_RANGES); /* reached, and held */
    CHECK(r.retired.capacity <= SKIFF_CID_RETIRED_RANGES);
    CHECK_EQ(r.count, 2);
    CHECK_EQ(r.nretire, 0);
    /* the newest CIDs are the live ones */
    CHECK_U64(r.entries[0].seq, 39998);
    CHECK_U64(r.entries[1].seq, 40000);
    skiff_cid_remote_free(&r);
}

/* ---- Stateless reset ----------------------------------------------------- */

static void token_matches_openssl_hmac(void)
{
    uint8_t cid[20];
    for (size_t len = 0; len <= 20; len++) {
        for (size_t i = 0; i < len; i++)
            cid[i] = (uint8_t)(len * 31 + i);
        uint8_t ours[16], md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        skiff_stateless_reset_token(key, cid, len, ours);
        HMAC(EVP_sha256(), key, sizeof key, cid, len, md, &mdlen);
        CHECK_EQ(mdlen, 32);
        CHECK_MEM(ours, md, 16);
    }
    /* different keys give different tokens */
    uint8_t k[32] = {0}, tok[16], want[16];
    skiff_stateless_reset_token(k, (const uint8_t *)"abcd", 4, tok);
    skiff_stateless_reset_token(key, (const uint8_t *)"abcd", 4, want);
    CHECK(memcmp(tok, want, 16) != 0);
}

static void reset_layout_and_sizes(void)
{
    uint8_t token[16], rnd[1500], out[1500];
    for (int i = 0; i < 16; i++)
        token[i] = (uint8_t)(0xf0 + i);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)(i * 37 + 0xb5);

    skiff_ssize n = skiff_stateless_reset_build(out, sizeof out, token, 100, rnd, 200);
    CHECK_EQ(n, 99);                        /* one byte smaller than the trigger */
    CHECK_EQ(out[0] & 0xc0, 0x40);          /* short header, fixed bit */
    CHECK_EQ(out[0] & 0x3f, rnd[0] & 0x3f); /* the rest unpredictable */
    CHECK_MEM(out + 1, rnd + 1, 99 - 16 - 1);
    CHECK_MEM(out + 99 - 16, token, 16);

    /* §10.3: a trigger of 43 bytes or fewer gets a reset one byte shorter */
    for (size_t trig = 22; trig <= 43; trig++) {
        n = skiff_stateless_reset_build(out, sizeof out, token, trig, rnd,
                                        SKIFF_STATELESS_RESET_RANDOM_FOR_43);
        CHECK_EQ(n, (skiff_ssize)trig - 1);
    }
    /* the minimum: 21 bytes, only for triggers over 21 */
    CHECK_EQ(skiff_stateless_reset_build(out, sizeof out, token, 22, rnd, 5), 21);
    CHECK_EQ(skiff_stateless_reset_build(out, sizeof out, token, 1200, rnd, 5), 21);
    CHECK_EQ(skiff_stateless_reset_build(out, sizeof out, token, 21, rnd, 100),
             SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_stateless_reset_build(out, sizeof out, token, 0, rnd, 100),
             SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(skiff_stateless_reset_build(out, sizeof out, token, 100, rnd, 4),
             SKIFF_ERR_INVALID_ARGUMENT);
    CHECK_EQ(skiff_stateless_reset_build(out, 20, token, 100, rnd, 100),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_stateless_reset_build(out, 30, token, 100, rnd, 100), 30);
    CHECK_MEM(out + 14, token, 16);

    /* never three times the trigger, never as large: every trigger size */
    int bad = 0;
    for (size_t trig = 0; trig <= 1500; trig++) {
        uint8_t *exact = test_dup_exact(out, 64); /* room for at most 64 bytes */
        n = skiff_stateless_reset_build(exact, 64, token, trig, rnd, sizeof rnd);
        if (trig <= 21 ? n != SKIFF_ERR_INVALID_PACKET
                       : (n < 21 || (size_t)n >= trig || (size_t)n >= 3 * trig || n > 64))
            bad++;
        free(exact);
    }
    CHECK_EQ(bad, 0);

    /* two endpoints answering each other's resets: the loop ends */
    size_t len = 1200;
    int rounds = 0;
    while ((n = skiff_stateless_reset_build(out, sizeof out, token, len, rnd, sizeof rnd)) > 0) {
        len = (size_t)n;
        rounds++;
        if (rounds > 2000) break;
    }
    CHECK_EQ(n, SKIFF_ERR_INVALID_PACKET);
    CHECK_EQ(len, 21);
}

static void reset_detection_constant_time_compare(void)
{
    uint8_t tokens[4][16], rnd[64], dgram[64];
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 16; i++)
            tokens[t][i] = (uint8_t)(t * 16 + i + 1);
    memset(rnd, 0x5a, sizeof rnd);
    skiff_ssize n = skiff_stateless_reset_build(dgram, sizeof dgram, tokens[3], 50, rnd, 40);
    CHECK_EQ(n, 49);
    uint8_t *exact = test_dup_exact(dgram, (size_t)n);
    CHECK(skiff_stateless_reset_matches(exact, (size_t)n, (const uint8_t(*)[16])tokens, 4));
    CHECK(skiff_stateless_reset_matches(exact, (size_t)n, (const uint8_t(*)[16])tokens + 3, 1));
    CHECK(!skiff_stateless_reset_matches(exact, (size_t)n, (const uint8_t(*)[16])tokens, 3));
    CHECK(!skiff_stateless_reset_matches(exact, (size_t)n, (const uint8_t(*)[16])tokens, 0));
    free(exact);

    /* a token differing in any one byte, by any bit, does not match */
    int false_matches = 0;
    for (int i = 0; i < 16; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t t[1][16];
            memcpy(t[0], tokens[3], 16);
            t[0][i] ^= (uint8_t)(1u << bit);
            if (skiff_stateless_reset_matches(dgram, (size_t)n, (const uint8_t(*)[16])t, 1))
                false_matches++;
        }
    }
    CHECK_EQ(false_matches, 0);

    /* too short to be a reset, even if it ends in the token (§10.3) */
    uint8_t small[20];
    memset(small, 0x40, 4);
    memcpy(small + 4, tokens[0], 16);
    CHECK(!skiff_stateless_reset_matches(small, 20, (const uint8_t(*)[16])tokens, 4));
    uint8_t ok21[21];
    memset(ok21, 0x40, 5);
    memcpy(ok21 + 5, tokens[0], 16);
    CHECK(skiff_stateless_reset_matches(ok21, 21, (const uint8_t(*)[16])tokens, 4));
    /* any datagram ending in the token counts, long header too (§10.3) */
    ok21[0] = 0xc0;
    CHECK(skiff_stateless_reset_matches(ok21, 21, (const uint8_t(*)[16])tokens, 4));
}

int main(void)
{
    RUN(local_issues_up_to_peer_limit);
    RUN(local_retire_rules);
    RUN(local_zero_length_and_callbacks);
    RUN(remote_new_connection_id_rules);
    RUN(remote_paths_and_tokens);
    RUN(remote_retire_queue_bounded);
    RUN(remote_hostile_stays_bounded);
    RUN(token_matches_openssl_hmac);
    RUN(reset_layout_and_sizes);
    RUN(reset_detection_constant_time_compare);
    return test_report("cid");
}
