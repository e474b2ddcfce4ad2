/*
 * The sent-packet history of one packet number space (RFC 9002 §A.1.1): a
 * record per packet sent and not yet acknowledged, declared lost or
 * discarded, so that ACKs can be matched to packets and loss detection can
 * find what to retransmit.
 *
 * Storage is a ring of records indexed by packet number. Packet numbers only
 * grow (RFC 9000 §12.3), so the record of pn sits at slot
 * (head + pn - first_pn) mod capacity: lookup by pn is O(1) and appending is
 * O(1) amortised. Slots hold a state; packet numbers the connection skipped
 * (RFC 9000 §21.4) are NONE slots. Acknowledging or losing a packet marks
 * its slot, and the front is trimmed past every slot that is no longer
 * OUTSTANDING, so `first_pn` is always the oldest outstanding packet (or the
 * history is empty). ACKED slots between outstanding ones stay until the
 * front passes them, which is what persistent-congestion detection needs
 * (RFC 9002 §7.6.2: no packet between two lost ones was acknowledged).
 *
 *     first_pn                   first_pn + span: one past the newest
 *     v                          v
 *     O  A  O  L  A  .  O  O  O  -
 *   O outstanding, A acked, L lost, . skipped (or not in use); the record of
 *   first_pn + i lives in slot (head + i) mod capacity.
 *
 * The span first_pn .. newest is capped at `max_records`: a history at its
 * cap refuses new packets (SKIFF_ERR_BUFFER_TOO_SMALL) and the connection
 * must stop sending in that space until acknowledgments or losses free the
 * front. Memory grows by doubling from 16 slots as the span needs it and
 * falls back to 16 slots whenever the history empties, so an idle connection
 * holds a few kilobytes at most; skiff_sent_packets_clear() frees it all.
 */
#ifndef SKIFF_QUIC_SENT_PACKETS_H
#define SKIFF_QUIC_SENT_PACKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

#define SKIFF_SENT_FRAMES_MAX 8

/*
 * What a packet carried, as far as the connection needs to know to mark it
 * acknowledged or retransmit it. The connection defines kind, flags, len16,
 * a and b (for example STREAM: a = stream id, b = offset, len16 = length,
 * a flag for FIN); the history only copies them.
 */
typedef struct skiff_sent_frame {
    uint8_t kind;
    uint8_t flags;
    uint16_t len16;
    uint32_t pad;
    uint64_t a, b;
} skiff_sent_frame;

/* Packet flags (skiff_sent_packet.flags). */
#define SKIFF_SENT_PMTU_PROBE 0x01u /* its loss is no congestion signal (RFC 9000 §14.4) */

/* Slot states (internal to the history and recovery). */
#define SKIFF_SENT_NONE 0        /* never sent (skipped) or not in use */
#define SKIFF_SENT_OUTSTANDING 1 /* sent, awaiting ack or loss */
#define SKIFF_SENT_ACKED 2
#define SKIFF_SENT_LOST 3

/* ECN codepoint a packet was sent with (RFC 3168 bits). */
#define SKIFF_ECN_NOT_ECT 0
#define SKIFF_ECN_ECT1 1
#define SKIFF_ECN_ECT0 2
#define SKIFF_ECN_CE 3

typedef struct skiff_sent_packet {
    uint64_t pn;
    skiff_time time_sent;
    uint32_t size;      /* bytes of the UDP payload this packet took */
    bool ack_eliciting; /* RFC 9002 §2 */
    bool in_flight;     /* ack-eliciting or padded: counts in bytes in flight */
    uint8_t ecn;        /* SKIFF_ECN_* */
    uint8_t flags;      /* SKIFF_SENT_* */
    uint8_t frame_count;
    uint8_t state; /* SKIFF_SENT_NONE..LOST: set by the history, ignored on add */
    skiff_sent_frame frames[SKIFF_SENT_FRAMES_MAX];
} skiff_sent_packet;

typedef struct skiff_sent_packets {
    skiff_sent_packet *slots;
    size_t capacity; /* 0 or a power of two */
    size_t head;     /* slot of first_pn */
    size_t span;     /* slots from first_pn to the newest packet, inclusive */
    uint64_t first_pn;
    size_t count;       /* OUTSTANDING records */
    size_t max_records; /* cap on span */
} skiff_sent_packets;

/* An empty history of at most max_records (>= 1) packets. Allocates nothing. */
void skiff_sent_packets_init(skiff_sent_packets *h, size_t max_records);

/* Frees everything; the history is empty and may be reused. */
void skiff_sent_packets_clear(skiff_sent_packets *h);

/*
 * Records a copy of *p (its `state` is ignored). Returns 0;
 * SKIFF_ERR_INVALID_ARGUMENT if p->pn is not above every packet number
 * recorded before while the history is non-empty, or frame_count is over
 * SKIFF_SENT_FRAMES_MAX; SKIFF_ERR_BUFFER_TOO_SMALL if it would take the span
 * over max_records; SKIFF_ERR_NOMEM. On error nothing changes.
 */
int skiff_sent_packets_add(skiff_sent_packets *h, const skiff_sent_packet *p);

/* Whether a packet numbered pn could be added now without passing the cap. */
bool skiff_sent_packets_has_room(const skiff_sent_packets *h, uint64_t pn);

/* The OUTSTANDING record of pn, or NULL. Valid until the next add, remove or clear. */
skiff_sent_packet *skiff_sent_packets_get(skiff_sent_packets *h, uint64_t pn);

/* The state of pn's slot; SKIFF_SENT_NONE outside the span. */
uint8_t skiff_sent_packets_state(const skiff_sent_packets *h, uint64_t pn);

/*
 * Marks the OUTSTANDING record of pn as `state` (SKIFF_SENT_ACKED or
 * SKIFF_SENT_LOST) without trimming: records stay where they are, so a scan
 * can mark as it goes and still see the states of the slots it passed. No
 * effect if pn is not outstanding.
 */
void skiff_sent_packets_mark(skiff_sent_packets *h, uint64_t pn, uint8_t state);

/*
 * Drops every slot before the oldest OUTSTANDING one, and when nothing is
 * outstanding shrinks the storage back to its starting size. Shrinking moves
 * records: pointers from skiff_sent_packets_get() are invalid after it.
 */
void skiff_sent_packets_trim(skiff_sent_packets *h);

/* skiff_sent_packets_mark() then skiff_sent_packets_trim(). */
void skiff_sent_packets_remove(skiff_sent_packets *h, uint64_t pn, uint8_t state);

/* The oldest outstanding packet number (only meaningful when count > 0),
 * and one past the newest slot. */
static inline uint64_t skiff_sent_packets_first_pn(const skiff_sent_packets *h)
{
    return h->first_pn;
}
static inline uint64_t skiff_sent_packets_end_pn(const skiff_sent_packets *h)
{
    return h->first_pn + h->span;
}
static inline size_t skiff_sent_packets_count(const skiff_sent_packets *h)
{
    return h->count;
}

/* Bytes of storage held (for memory-bound tests and stats). */
static inline size_t skiff_sent_packets_memory(const skiff_sent_packets *h)
{
    return h->capacity * sizeof(skiff_sent_packet);
}

#endif
