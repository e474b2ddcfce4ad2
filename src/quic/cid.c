/*
 * Connection ID management, RFC 9000 §5.1 (issuing, limits, retirement),
 * §19.15 (NEW_CONNECTION_ID) and §19.16 (RETIRE_CONNECTION_ID), for the CIDs
 * we issue (local) and those the peer issued to us (remote).
 *
 * Both sets are small fixed arrays sorted by sequence number: the limits of
 * §5.1.1 keep them to a handful of entries, so a linear scan is the fastest
 * lookup and nothing is allocated when frames arrive.
 *
 * Remote retirement. A retired sequence number must never come back: a
 * retransmitted NEW_CONNECTION_ID for it would otherwise make us send to a
 * CID the peer has already forgotten. So the sequence numbers retired are
 * kept in a capped range set. Retirement is mostly contiguous (Retire Prior
 * To moves up, old paths go), so it stays a range or two; if a peer that
 * skips sequence numbers fragments it past the cap, the lowest gap is marked
 * retired too. That can only make us ignore a CID the peer never sent in the
 * first place, which costs the peer one of its CIDs, never correctness.
 */
#include "quic/cid.h"

#include <string.h>

bool skiff_cid_equal(const skiff_cid *a, const uint8_t *bytes, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->bytes, bytes, len) == 0);
}

/* ---- Local ---------------------------------------------------------------- */

static int generate_one(skiff_cid_local *l, bool queue)
{
    skiff_cid_entry *e = &l->entries[l->count];
    size_t len = l->entries[0].cid.len;
    for (int attempt = 0; attempt < SKIFF_CID_GENERATE_ATTEMPTS; attempt++) {
        memset(e, 0, sizeof *e);
        e->seq = l->next_seq;
        e->path = SKIFF_CID_NO_PATH;
        int rv = l->cb.generate(l->cb.user, e->seq, len, &e->cid, e->token);
        if (rv) return rv;
        if (e->cid.len != len) return SKIFF_ERR_INTERNAL;
        /* A CID must be unique within the connection (§5.1: it identifies
         * the connection), and the I/O engine must not route it elsewhere. */
        if (skiff_cid_local_find(l, e->cid.bytes, len)) continue;
        if (l->cb.on_added && l->cb.on_added(l->cb.user, &e->cid, e->seq) != 0) continue;
        e->has_token = true;
        e->pending = queue;
        l->next_seq++;
        l->count++;
        return 0;
    }
    return SKIFF_ERR_INTERNAL;
}

int skiff_cid_local_init(skiff_cid_local *l, const skiff_cid_callbacks *cb, const skiff_cid *cid0,
                         const uint8_t *token0)
{
    memset(l, 0, sizeof *l);
    if (!cb || !cb->generate || cid0->len > SKIFF_FRAME_CID_MAX_LEN)
        return SKIFF_ERR_INVALID_ARGUMENT;
    l->cb = *cb;
    l->peer_limit = 2; /* §18.2 default of active_connection_id_limit */
    skiff_cid_entry *e = &l->entries[0];
    e->seq = 0;
    e->cid = *cid0;
    e->path = SKIFF_CID_NO_PATH;
    if (token0) {
        memcpy(e->token, token0, SKIFF_STATELESS_RESET_TOKEN_LEN);
        e->has_token = true;
    }
    if (l->cb.on_added && l->cb.on_added(l->cb.user, &e->cid, 0) != 0)
        return SKIFF_ERR_INVALID_ARGUMENT;
    l->count = 1;
    l->next_seq = 1;
    return 0;
}

void skiff_cid_local_set_peer_limit(skiff_cid_local *l, uint64_t limit)
{
    l->peer_limit = limit < SKIFF_CID_LOCAL_MAX ? limit : SKIFF_CID_LOCAL_MAX;
}

int skiff_cid_local_issue_preferred(skiff_cid_local *l, skiff_cid *cid,
                                    uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN])
{
    /* §5.1.1: the preferred_address CID has sequence number 1. */
    if (l->next_seq != 1 || l->count != 1 || l->entries[0].cid.len == 0)
        return SKIFF_ERR_INVALID_ARGUMENT;
    int rv = generate_one(l, false);
    if (rv) return rv;
    *cid = l->entries[1].cid;
    memcpy(token, l->entries[1].token, SKIFF_STATELESS_RESET_TOKEN_LEN);
    return 0;
}

int skiff_cid_local_issue(skiff_cid_local *l)
{
    /* §5.1: an endpoint that uses zero-length CIDs has none to issue. */
    if (l->count == 0 || l->entries[0].cid.len == 0) return 0;
    /* §5.1.1: never more than the peer's active_connection_id_limit. */
    while (l->count < l->peer_limit && l->count < SKIFF_CID_LOCAL_MAX) {
        int rv = generate_one(l, true);
        if (rv) return rv;
    }
    return 0;
}

skiff_ssize skiff_cid_local_write_new(skiff_cid_local *l, uint8_t *out, size_t cap, uint64_t *seq)
{
    for (size_t i = 0; i < l->count; i++) {
        skiff_cid_entry *e = &l->entries[i];
        if (!e->pending) continue;
        skiff_frame_new_connection_id f = {
            .seq = e->seq,
            .retire_prior_to = 0,
            .cid = e->cid.bytes,
            .cid_len = e->cid.len,
            .reset_token = e->token,
        };
        skiff_ssize n = skiff_frame_new_connection_id_encode(out, cap, &f);
        if (n < 0) return n;
        e->pending = false;
        *seq = e->seq;
        return n;
    }
    return 0;
}

static skiff_cid_entry *local_by_seq(skiff_cid_local *l, uint64_t seq)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->entries[i].seq == seq) return &l->entries[i];
    return NULL;
}

void skiff_cid_local_on_new_lost(skiff_cid_local *l, uint64_t seq)
{
    skiff_cid_entry *e = local_by_seq(l, seq);
    /* A retired CID is not announced again; a lost frame for seq 0 or the
     * preferred-address CID never existed (they travel in the handshake). */
    if (e && e->has_token && e->seq != 0) e->pending = true;
}

int skiff_cid_local_on_retire(skiff_cid_local *l, uint64_t seq, const uint8_t *dcid, size_t len)
{
    /* §19.16: "An endpoint that provides a zero-length connection ID MUST
     * treat receipt of a RETIRE_CONNECTION_ID frame as a connection error of
     * type PROTOCOL_VIOLATION." */
    if (l->count == 0 || l->entries[0].cid.len == 0) return SKIFF_ERR_PROTOCOL_VIOLATION;
    /* §19.16: a sequence number greater than any we sent. */
    if (seq >= l->next_seq) return SKIFF_ERR_PROTOCOL_VIOLATION;
    skiff_cid_entry *e = local_by_seq(l, seq);
    if (!e) return 0; /* already retired: a repeated frame */
    /* §19.16: it "MUST NOT refer to the Destination Connection ID field of
     * the packet in which the frame is contained" (we take the MAY to close). */
    if (skiff_cid_equal(&e->cid, dcid, len)) return SKIFF_ERR_PROTOCOL_VIOLATION;

    skiff_cid retired = e->cid;
    size_t i = (size_t)(e - l->entries);
    memmove(e, e + 1, (l->count - i - 1) * sizeof *e);
    l->count--;
    if (l->cb.on_retired) l->cb.on_retired(l->cb.user, &retired, seq);
    /* §5.1.1: keep the peer supplied with CIDs. */
    return skiff_cid_local_issue(l);
}

const skiff_cid_entry *skiff_cid_local_find(const skiff_cid_local *l, const uint8_t *cid,
                                            size_t len)
{
    for (size_t i = 0; i < l->count; i++)
        if (skiff_cid_equal(&l->entries[i].cid, cid, len)) return &l->entries[i];
    return NULL;
}

void skiff_cid_local_retire_all(skiff_cid_local *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->cb.on_retired) l->cb.on_retired(l->cb.user, &l->entries[i].cid, l->entries[i].seq);
    l->count = 0;
}

/* ---- Remote --------------------------------------------------------------- */

void skiff_cid_remote_init(skiff_cid_remote *r, uint64_t our_limit)
{
    memset(r, 0, sizeof *r);
    /* §18.2: active_connection_id_limit is at least 2. */
    if (our_limit < 2) our_limit = 2;
    r->limit = our_limit < SKIFF_CID_REMOTE_MAX ? our_limit : SKIFF_CID_REMOTE_MAX;
    skiff_range_set_init(&r->retired, SKIFF_CID_RETIRED_RANGES);
}

void skiff_cid_remote_free(skiff_cid_remote *r)
{
    skiff_range_set_free(&r->retired);
}

static skiff_cid_entry *remote_by_seq(skiff_cid_remote *r, uint64_t seq)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].seq == seq) return &r->entries[i];
    return NULL;
}

int skiff_cid_remote_set_initial(skiff_cid_remote *r, const uint8_t *cid, size_t len)
{
    if (len > SKIFF_FRAME_CID_MAX_LEN) return SKIFF_ERR_INVALID_ARGUMENT;
    skiff_cid_entry *e = remote_by_seq(r, 0);
    if (!e) {
        if (r->count == SKIFF_CID_REMOTE_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
        memmove(r->entries + 1, r->entries, r->count * sizeof *e);
        e = &r->entries[0];
        memset(e, 0, sizeof *e);
        r->count++;
    }
    e->seq = 0;
    e->cid.len = (uint8_t)len;
    if (len) memcpy(e->cid.bytes, cid, len);
    e->used = true;
    e->path = 0;
    r->zero_length = len == 0;
    return 0;
}

void skiff_cid_remote_set_initial_token(skiff_cid_remote *r,
                                        const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN])
{
    skiff_cid_entry *e = remote_by_seq(r, 0);
    if (!e) return;
    memcpy(e->token, token, SKIFF_STATELESS_RESET_TOKEN_LEN);
    e->has_token = true;
}

static bool retire_queued(const skiff_cid_remote *r, uint64_t seq)
{
    for (size_t i = 0; i < r->nretire; i++)
        if (r->retire_queue[i].seq == seq) return true;
    return false;
}

/* Remembers that seq is retired, merging the lowest gap if the set is full
 * (see the top of this file). */
static int mark_retired(skiff_cid_remote *r, uint64_t seq)
{
    skiff_range_set *s = &r->retired;
    int rv = skiff_range_set_add(s, seq, seq + 1);
    if (rv == SKIFF_ERR_BUFFER_TOO_SMALL && s->count >= 2) {
        rv = skiff_range_set_add(s, s->ranges[0].end, s->ranges[1].start);
        if (rv == 0) rv = skiff_range_set_add(s, seq, seq + 1);
    }
    return rv;
}

/* Queues a RETIRE_CONNECTION_ID for seq; the caller checked there is room. */
static int queue_retire(skiff_cid_remote *r, uint64_t seq)
{
    int rv = mark_retired(r, seq);
    if (rv) return rv;
    if (!retire_queued(r, seq)) r->retire_queue[r->nretire++] = (skiff_cid_retire_item){seq, false};
    return 0;
}

/* Removes active entry i and queues its retirement. Returns the path it was
 * bound to (SKIFF_CID_NO_PATH if none). */
static int remove_and_retire(skiff_cid_remote *r, size_t i, uint32_t *path)
{
    skiff_cid_entry *e = &r->entries[i];
    *path = e->path;
    int rv = queue_retire(r, e->seq);
    if (rv) return rv;
    memmove(e, e + 1, (r->count - i - 1) * sizeof *e);
    r->count--;
    return 0;
}

static skiff_cid_entry *first_unused(skiff_cid_remote *r)
{
    for (size_t i = 0; i < r->count; i++)
        if (!r->entries[i].used && r->entries[i].path == SKIFF_CID_NO_PATH) return &r->entries[i];
    return NULL;
}

static void bind(skiff_cid_entry *e, uint32_t path)
{
    e->path = path;
    e->used = true;
}

static int add_remote(skiff_cid_remote *r, uint64_t seq, uint64_t rpt, const uint8_t *cid,
                      size_t len, const uint8_t *token)
{
    /* §19.15: "An endpoint that is sending packets with a zero-length
     * Destination Connection ID MUST treat receipt of a NEW_CONNECTION_ID
     * frame as a connection error of type PROTOCOL_VIOLATION." */
    if (r->zero_length) return SKIFF_ERR_PROTOCOL_VIOLATION;
    if (len == 0 || len > SKIFF_FRAME_CID_MAX_LEN || rpt > seq) return SKIFF_ERR_FRAME_ENCODING;

    /* §19.15: the same frame may arrive again and is no error; the same
     * sequence number for another CID or token, or the same CID under
     * another sequence number, is (we take the MAY). */
    skiff_cid_entry *dup = NULL;
    for (size_t i = 0; i < r->count; i++) {
        skiff_cid_entry *e = &r->entries[i];
        bool same_cid = skiff_cid_equal(&e->cid, cid, len);
        if (e->seq == seq) {
            if (!same_cid ||
                (e->has_token && memcmp(e->token, token, SKIFF_STATELESS_RESET_TOKEN_LEN) != 0))
                return SKIFF_ERR_PROTOCOL_VIOLATION;
            dup = e;
        } else if (same_cid) {
            return SKIFF_ERR_PROTOCOL_VIOLATION;
        }
    }

    /* Work out everything that will change before changing anything, so
     * that an error leaves the set as it was. */
    uint64_t new_rpt = rpt > r->retire_prior_to ? rpt : r->retire_prior_to;
    size_t to_retire = 0, kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->entries[i].seq < new_rpt) {
            if (!retire_queued(r, r->entries[i].seq)) to_retire++;
        } else {
            kept++;
        }
    }
    bool known_retired = skiff_range_set_contains(&r->retired, seq, seq + 1);
    bool add = !dup && !known_retired && seq >= new_rpt;
    /* §19.15: a CID already below Retire Prior To is retired at once, unless
     * that was done before for this sequence number. */
    bool retire_new = !dup && !known_retired && seq < new_rpt && !retire_queued(r, seq);
    /* §5.1.2: a bounded number of retirements waiting; beyond it, we take
     * the MAY of CONNECTION_ID_LIMIT_ERROR rather than forget one. */
    if (r->nretire + to_retire + (retire_new ? 1 : 0) > SKIFF_CID_RETIRE_QUEUE_MAX)
        return SKIFF_ERR_CONNECTION_ID_LIMIT;
    /* §5.1.1: counted after the retirements that Retire Prior To asks for
     * (§5.1.2: "before adding the newly provided connection ID"). */
    if (add && kept + 1 > r->limit) return SKIFF_ERR_CONNECTION_ID_LIMIT;

    /* §19.15: a Retire Prior To that does not increase is ignored. */
    uint32_t orphaned[SKIFF_CID_REMOTE_MAX];
    size_t norphaned = 0;
    for (size_t i = 0; i < r->count;) {
        if (r->entries[i].seq >= new_rpt) {
            i++;
            continue;
        }
        uint32_t path;
        int rv = remove_and_retire(r, i, &path);
        if (rv) return rv;
        if (path != SKIFF_CID_NO_PATH) orphaned[norphaned++] = path;
    }
    r->retire_prior_to = new_rpt;

    if (retire_new) {
        int rv = queue_retire(r, seq);
        if (rv) return rv;
    }
    if (add) {
        size_t i = r->count;
        while (i > 0 && r->entries[i - 1].seq > seq)
            i--;
        memmove(r->entries + i + 1, r->entries + i, (r->count - i) * sizeof r->entries[0]);
        skiff_cid_entry *e = &r->entries[i];
        memset(e, 0, sizeof *e);
        e->seq = seq;
        e->cid.len = (uint8_t)len;
        memcpy(e->cid.bytes, cid, len);
        memcpy(e->token, token, SKIFF_STATELESS_RESET_TOKEN_LEN);
        e->has_token = true;
        e->path = SKIFF_CID_NO_PATH;
        r->count++;
    }
    /* The paths whose CID was retired move to fresh ones (§5.1.2: the peer
     * "MUST stop using the corresponding connection IDs"). */
    for (size_t k = 0; k < norphaned; k++) {
        skiff_cid_entry *e = first_unused(r);
        if (!e) break;
        bind(e, orphaned[k]);
    }
    return 0;
}

int skiff_cid_remote_on_new(skiff_cid_remote *r, const skiff_frame_new_connection_id *f)
{
    return add_remote(r, f->seq, f->retire_prior_to, f->cid, f->cid_len, f->reset_token);
}

int skiff_cid_remote_add_preferred(skiff_cid_remote *r, const uint8_t *cid, size_t len,
                                   const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN])
{
    return add_remote(r, 1, 0, cid, len, token);
}

const skiff_cid_entry *skiff_cid_remote_for_path(const skiff_cid_remote *r, uint32_t path)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].path == path) return &r->entries[i];
    return NULL;
}

size_t skiff_cid_remote_unused_count(const skiff_cid_remote *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += !r->entries[i].used && r->entries[i].path == SKIFF_CID_NO_PATH;
    return n;
}

static int retire_index(skiff_cid_remote *r, size_t i)
{
    if (!retire_queued(r, r->entries[i].seq) && r->nretire == SKIFF_CID_RETIRE_QUEUE_MAX)
        return SKIFF_ERR_CONNECTION_ID_LIMIT;
    uint32_t path;
    return remove_and_retire(r, i, &path);
}

const skiff_cid_entry *skiff_cid_remote_next_unused(skiff_cid_remote *r, uint32_t path)
{
    if (path == SKIFF_CID_NO_PATH) return NULL;
    skiff_cid_entry *fresh = first_unused(r);
    if (!fresh) return NULL;
    uint64_t fresh_seq = fresh->seq;
    for (size_t i = 0; i < r->count; i++) {
        if (r->entries[i].path != path) continue;
        /* §9.5: a CID is not used on two paths; the old one goes. */
        if (retire_index(r, i) != 0) return NULL;
        break;
    }
    skiff_cid_entry *e = remote_by_seq(r, fresh_seq); /* the array may have moved */
    bind(e, path);
    return e;
}

int skiff_cid_remote_retire(skiff_cid_remote *r, uint64_t seq)
{
    skiff_cid_entry *e = remote_by_seq(r, seq);
    if (!e || r->zero_length) return 0;
    return retire_index(r, (size_t)(e - r->entries));
}

int skiff_cid_remote_release_path(skiff_cid_remote *r, uint32_t path)
{
    const skiff_cid_entry *e = skiff_cid_remote_for_path(r, path);
    return e ? skiff_cid_remote_retire(r, e->seq) : 0;
}

size_t skiff_cid_remote_tokens(const skiff_cid_remote *r,
                               uint8_t (*out)[SKIFF_STATELESS_RESET_TOKEN_LEN], size_t max)
{
    size_t n = 0;
    /* §10.3.1: "An endpoint MUST NOT check for any stateless reset tokens
     * associated with connection IDs it has not used or for connection IDs
     * that have been retired." Retired ones are no longer in the set. */
    for (size_t i = 0; i < r->count && n < max; i++)
        if (r->entries[i].used && r->entries[i].has_token)
            memcpy(out[n++], r->entries[i].token, SKIFF_STATELESS_RESET_TOKEN_LEN);
    return n;
}

skiff_ssize skiff_cid_remote_write_retire(skiff_cid_remote *r, uint8_t *out, size_t cap,
                                          uint64_t *seq)
{
    for (size_t i = 0; i < r->nretire; i++) {
        skiff_cid_retire_item *q = &r->retire_queue[i];
        if (q->sent) continue;
        skiff_frame_retire_connection_id f = {.seq = q->seq};
        skiff_ssize n = skiff_frame_retire_connection_id_encode(out, cap, &f);
        if (n < 0) return n;
        q->sent = true;
        *seq = q->seq;
        return n;
    }
    return 0;
}

void skiff_cid_remote_on_retire_acked(skiff_cid_remote *r, uint64_t seq)
{
    for (size_t i = 0; i < r->nretire; i++) {
        if (r->retire_queue[i].seq != seq) continue;
        memmove(r->retire_queue + i, r->retire_queue + i + 1,
                (r->nretire - i - 1) * sizeof r->retire_queue[0]);
        r->nretire--;
        return;
    }
}

void skiff_cid_remote_on_retire_lost(skiff_cid_remote *r, uint64_t seq)
{
    for (size_t i = 0; i < r->nretire; i++)
        if (r->retire_queue[i].seq == seq) r->retire_queue[i].sent = false;
}
