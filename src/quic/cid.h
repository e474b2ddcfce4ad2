/*
 * Connection IDs (RFC 9000 §5.1, §19.15, §19.16): the ones we issue (local,
 * the peer puts them in the Destination Connection ID of packets to us) and
 * the ones the peer issued (remote, which we send to).
 *
 * Local: sequence 0 comes from the handshake; more are issued up to the
 * peer's active_connection_id_limit (§5.1.1), each with a stateless reset
 * token, and announced in NEW_CONNECTION_ID frames. A RETIRE_CONNECTION_ID
 * retires one and issues a replacement. The CID bytes and tokens come from a
 * caller callback (the core reads no random source; tokens are typically
 * skiff_stateless_reset_token() of the CID), and two more callbacks tell the
 * I/O engine which CIDs to route to this connection.
 *
 * Remote: sequence 0 from the handshake, sequence 1 from a server's
 * preferred_address, the rest from NEW_CONNECTION_ID frames, at most our own
 * active_connection_id_limit active at once. Each path (an integer the
 * caller chooses) is bound to one of them; Retire Prior To and voluntary
 * retirement queue RETIRE_CONNECTION_ID frames, bounded (§5.1.2).
 *
 * Neither set allocates per packet; the remote set keeps a small capped
 * range set of retired sequence numbers (free it with skiff_cid_remote_free).
 *
 * See docs/internals/ack-and-cids.md.
 */
#ifndef SKIFF_QUIC_CID_H
#define SKIFF_QUIC_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/range_set.h"
#include "quic/frame.h"
#include "quic/stateless_reset.h"
#include "skiff/skiff.h"

/* We issue at most this many CIDs at once, whatever the peer's limit. */
#define SKIFF_CID_LOCAL_MAX 8
/* We accept at most this many of the peer's CIDs at once: the largest
 * active_connection_id_limit we can advertise. */
#define SKIFF_CID_REMOTE_MAX 8
/* §5.1.2: "at least twice the value of the active_connection_id_limit"
 * RETIRE_CONNECTION_ID frames sent and not yet acknowledged. */
#define SKIFF_CID_RETIRE_QUEUE_MAX (2 * SKIFF_CID_REMOTE_MAX)
/* Ranges of retired remote sequence numbers remembered (see cid.c). */
#define SKIFF_CID_RETIRED_RANGES 32
/* Attempts at a CID the I/O engine accepts before giving up. */
#define SKIFF_CID_GENERATE_ATTEMPTS 4
#define SKIFF_CID_NO_PATH UINT32_MAX

typedef struct skiff_cid {
    uint8_t len; /* 0..20 */
    uint8_t bytes[SKIFF_FRAME_CID_MAX_LEN];
} skiff_cid;

/* Whether two CIDs are the same bytes. */
bool skiff_cid_equal(const skiff_cid *a, const uint8_t *bytes, size_t len);

typedef struct skiff_cid_entry {
    uint64_t seq;
    skiff_cid cid;
    uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN];
    bool has_token;
    bool pending;  /* local: a NEW_CONNECTION_ID is to be (re)sent */
    bool used;     /* remote: has been a Destination CID (its token is checked) */
    uint32_t path; /* remote: the path sending to it, or SKIFF_CID_NO_PATH */
} skiff_cid_entry;

/*
 * Fills *cid (cid->len set to the requested length `len`) and token for the
 * new local CID with sequence `seq`. Returns 0 or a negative SKIFF_ERR_*.
 */
typedef int (*skiff_cid_generate_fn)(void *user, uint64_t seq, size_t len, skiff_cid *cid,
                                     uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN]);
/* A local CID now routes to this connection. Returns 0, or non-zero when the
 * I/O engine already routes that CID elsewhere (another one is generated). */
typedef int (*skiff_cid_added_fn)(void *user, const skiff_cid *cid, uint64_t seq);
/* A local CID no longer routes to this connection. */
typedef void (*skiff_cid_retired_fn)(void *user, const skiff_cid *cid, uint64_t seq);

typedef struct skiff_cid_callbacks {
    skiff_cid_generate_fn generate;
    skiff_cid_added_fn on_added;     /* may be NULL */
    skiff_cid_retired_fn on_retired; /* may be NULL */
    void *user;
} skiff_cid_callbacks;

/* ---- Local CIDs (ours) ---------------------------------------------------- */

typedef struct skiff_cid_local {
    skiff_cid_entry entries[SKIFF_CID_LOCAL_MAX]; /* active, by ascending seq */
    size_t count;
    uint64_t next_seq;
    uint64_t peer_limit; /* min(peer's active_connection_id_limit, SKIFF_CID_LOCAL_MAX) */
    skiff_cid_callbacks cb;
} skiff_cid_local;

/*
 * Starts the set with the handshake CID (sequence 0; a zero-length cid0 means
 * we use zero-length CIDs and never issue more, §5.1) and its reset token
 * (NULL for none: a client's has none, §18.2). New CIDs take cid0's length.
 * The peer limit starts at the §18.2 default of 2. Calls on_added for it.
 * Returns 0, SKIFF_ERR_INVALID_ARGUMENT (no generate callback, a length over
 * 20, or on_added refused cid0).
 */
int skiff_cid_local_init(skiff_cid_local *l, const skiff_cid_callbacks *cb, const skiff_cid *cid0,
                         const uint8_t *token0);

/* The peer's active_connection_id_limit transport parameter (§18.2). */
void skiff_cid_local_set_peer_limit(skiff_cid_local *l, uint64_t limit);

/*
 * A server's preferred_address CID (§5.1.1: sequence 1), generated now and
 * sent in the transport parameter rather than in a frame. Only before any
 * other CID is issued. Returns 0, SKIFF_ERR_INVALID_ARGUMENT (too late, or
 * zero-length CIDs), or the generator's error / SKIFF_ERR_INTERNAL.
 */
int skiff_cid_local_issue_preferred(skiff_cid_local *l, skiff_cid *cid,
                                    uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN]);

/*
 * Issues new CIDs until as many are active as the peer allows (§5.1.1),
 * each queued for a NEW_CONNECTION_ID. Returns 0, or the generator's error,
 * or SKIFF_ERR_INTERNAL when on_added refused SKIFF_CID_GENERATE_ATTEMPTS
 * CIDs in a row (the CIDs issued before that stay issued).
 */
int skiff_cid_local_issue(skiff_cid_local *l);

/*
 * Writes one queued NEW_CONNECTION_ID frame (Retire Prior To 0) into
 * out[0..cap) and sets *seq to its sequence number. Returns its length, 0
 * when none is queued, or SKIFF_ERR_BUFFER_TOO_SMALL (still queued).
 */
skiff_ssize skiff_cid_local_write_new(skiff_cid_local *l, uint8_t *out, size_t cap, uint64_t *seq);

/* A packet carrying the NEW_CONNECTION_ID for `seq` was lost: queue it again
 * if that CID is still active (§13.3). */
void skiff_cid_local_on_new_lost(skiff_cid_local *l, uint64_t seq);

/*
 * A RETIRE_CONNECTION_ID for `seq` arrived in a packet sent to dcid[0..len)
 * (pass the packet's real DCID: with NULL/0 the check that it is not the
 * CID being retired cannot be made).
 * Retires that CID (on_retired) and issues a replacement. Returns 0, or
 *   SKIFF_ERR_PROTOCOL_VIOLATION  a sequence number we never issued (§19.16),
 *                                 the CID the packet was sent to (§19.16),
 *                                 or any RETIRE when we use zero-length CIDs
 *   errors of skiff_cid_local_issue()
 * Retiring an already retired sequence number is not an error (duplicates).
 */
int skiff_cid_local_on_retire(skiff_cid_local *l, uint64_t seq, const uint8_t *dcid, size_t len);

/* The active local CID with these bytes, or NULL. */
const skiff_cid_entry *skiff_cid_local_find(const skiff_cid_local *l, const uint8_t *cid,
                                            size_t len);

/* The connection is going away: on_retired for every active CID. */
void skiff_cid_local_retire_all(skiff_cid_local *l);

/* ---- Remote CIDs (the peer's) --------------------------------------------- */

typedef struct skiff_cid_retire_item {
    uint64_t seq;
    bool sent; /* in flight; back to unsent if lost, removed when acknowledged */
} skiff_cid_retire_item;

typedef struct skiff_cid_remote {
    skiff_cid_entry entries[SKIFF_CID_REMOTE_MAX]; /* active, by ascending seq */
    size_t count;
    uint64_t limit;           /* our active_connection_id_limit */
    uint64_t retire_prior_to; /* the largest received (§19.15) */
    skiff_range_set retired;  /* sequence numbers whose retirement is done */
    skiff_cid_retire_item retire_queue[SKIFF_CID_RETIRE_QUEUE_MAX];
    size_t nretire;
    bool zero_length; /* the peer uses zero-length CIDs (§5.1) */
} skiff_cid_remote;

/* An empty set accepting our_limit active CIDs (our active_connection_id_limit,
 * clamped to 2..SKIFF_CID_REMOTE_MAX). */
void skiff_cid_remote_init(skiff_cid_remote *r, uint64_t our_limit);

void skiff_cid_remote_free(skiff_cid_remote *r);

/*
 * Sets (or replaces, as the handshake learns it) the peer's handshake CID,
 * sequence 0, bound to path 0. A zero-length CID means the peer uses
 * zero-length CIDs (§5.1). Returns 0 or SKIFF_ERR_INVALID_ARGUMENT (over 20).
 */
int skiff_cid_remote_set_initial(skiff_cid_remote *r, const uint8_t *cid, size_t len);

/* The server's stateless_reset_token transport parameter: sequence 0's token. */
void skiff_cid_remote_set_initial_token(skiff_cid_remote *r,
                                        const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN]);

/*
 * A NEW_CONNECTION_ID frame (already decoded, so retire_prior_to <= seq and
 * the CID is 1..20 bytes). Returns 0, or
 *   SKIFF_ERR_PROTOCOL_VIOLATION  the peer uses zero-length CIDs (§19.15);
 *                                 a known sequence number with another CID or
 *                                 token; a known CID with another sequence
 *                                 number (§19.15)
 *   SKIFF_ERR_CONNECTION_ID_LIMIT more active CIDs than our limit (§5.1.1), or
 *                                 more retirements waiting than the queue
 *                                 holds (§5.1.2)
 *   SKIFF_ERR_NOMEM
 * On error the set is unchanged. Paths whose CID Retire Prior To retired are
 * moved to unused CIDs where there are some (skiff_cid_remote_for_path()
 * then returns NULL for the others).
 */
int skiff_cid_remote_on_new(skiff_cid_remote *r, const skiff_frame_new_connection_id *f);

/* The preferred_address CID (sequence 1, §5.1.1), as if from a frame. */
int skiff_cid_remote_add_preferred(skiff_cid_remote *r, const uint8_t *cid, size_t len,
                                   const uint8_t token[SKIFF_STATELESS_RESET_TOKEN_LEN]);

/* The CID to send to on `path`, or NULL. */
const skiff_cid_entry *skiff_cid_remote_for_path(const skiff_cid_remote *r, uint32_t path);

/*
 * Binds the lowest-numbered CID no path has used to `path` (a new path, or a
 * fresh CID for an old one, §9.5) and retires the CID the path had. Returns
 * it, or NULL when none is unused or the retirement queue is full (the path
 * then keeps its CID).
 */
const skiff_cid_entry *skiff_cid_remote_next_unused(skiff_cid_remote *r, uint32_t path);

/* How many active CIDs no path has used. */
size_t skiff_cid_remote_unused_count(const skiff_cid_remote *r);

/*
 * Retires the peer's CID `seq` (we stop using it) and queues a
 * RETIRE_CONNECTION_ID. Returns 0 (also when not active), or
 * SKIFF_ERR_CONNECTION_ID_LIMIT when the retirement queue is full.
 */
int skiff_cid_remote_retire(skiff_cid_remote *r, uint64_t seq);

/* The path is abandoned: retires its CID, as skiff_cid_remote_retire(). */
int skiff_cid_remote_release_path(skiff_cid_remote *r, uint32_t path);

/*
 * Copies the reset tokens to check incoming datagrams against (§10.3.1: of
 * CIDs we have used and not retired) into out[0..max). Returns the count.
 */
size_t skiff_cid_remote_tokens(const skiff_cid_remote *r,
                               uint8_t (*out)[SKIFF_STATELESS_RESET_TOKEN_LEN], size_t max);

/*
 * Writes one queued RETIRE_CONNECTION_ID into out[0..cap), sets *seq and
 * marks it in flight. Returns its length, 0 when none waits, or
 * SKIFF_ERR_BUFFER_TOO_SMALL.
 */
skiff_ssize skiff_cid_remote_write_retire(skiff_cid_remote *r, uint8_t *out, size_t cap,
                                          uint64_t *seq);

/* The RETIRE_CONNECTION_ID for `seq` was acknowledged: done with it. */
void skiff_cid_remote_on_retire_acked(skiff_cid_remote *r, uint64_t seq);

/* ... or lost: send it again (§13.3). */
void skiff_cid_remote_on_retire_lost(skiff_cid_remote *r, uint64_t seq);

#endif
