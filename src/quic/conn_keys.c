/*
 * Key update (RFC 9001 §6): 1-RTT keys change without a handshake. The key
 * phase bit of the short header tells a receiver which keys protected a
 * packet; a flip means the sender moved to the next keys, derived from the
 * current secret with "quic ku" (packet_protection.c). An endpoint that sees
 * the flip updates its own sending keys too (§6.2); one that initiates waits
 * for an acknowledgment of a packet sent with the current keys before it may
 * initiate again (§6.1). The keys of the previous phase are kept for packets
 * that arrive late (§6.5).
 */
#include "quic/conn_internal.h"

/* The keys for a received 1-RTT packet with key phase `phase` and number pn. */
const skiff_packet_keys *conn_rx_keys_for(skiff_conn *c, bool phase, uint64_t pn)
{
    skiff_packet_keys *current = &c->levels[SKIFF_LEVEL_1RTT].rx;
    if (phase == c->rx_phase) return current;
    if (skiff_packet_keys_installed(&c->rx_prev) && pn < c->rx_phase_first_pn) return &c->rx_prev;
    if (!c->handshake_confirmed) return NULL; /* no update before confirmation (§6.1) */
    if (!skiff_packet_keys_installed(&c->rx_next) && skiff_packet_keys_next(&c->rx_next, current))
        return NULL;
    return &c->rx_next;
}

/* After a 1-RTT packet opened with `used`: switch phases when it was the
 * next keys. Returns 0 or a negative error (KEY_UPDATE_ERROR). */
int conn_after_open(skiff_conn *c, const skiff_packet_keys *used, uint64_t pn)
{
    if (used != &c->rx_next) {
        if (used == &c->levels[SKIFF_LEVEL_1RTT].rx && pn < c->rx_phase_first_pn)
            c->rx_phase_first_pn = pn;
        return 0;
    }
    skiff_packet_keys *rx = &c->levels[SKIFF_LEVEL_1RTT].rx;
    skiff_packet_keys_clear(&c->rx_prev);
    c->rx_prev = *rx;
    *rx = c->rx_next;
    c->rx_next = (skiff_packet_keys){0};
    c->rx_phase = !c->rx_phase;
    c->rx_phase_first_pn = pn;
    if (c->tx_phase != c->rx_phase) {
        /* The peer initiated: follow with our sending keys (§6.2). */
        int rv = skiff_packet_keys_next(&c->levels[SKIFF_LEVEL_1RTT].tx, &c->levels[SKIFF_LEVEL_1RTT].tx);
        if (rv) return rv;
        c->tx_phase = c->rx_phase;
        c->tx_phase_first_pn = c->recovery.spaces[SKIFF_SPACE_APPLICATION].next_pn;
        c->tx_phase_acked = false;
        c->key_updates_followed++;
    }
    return 0;
}

void conn_maybe_initiate_key_update(skiff_conn *c)
{
    if (!c->key_update_wanted || !c->handshake_confirmed || c->tx_phase != c->rx_phase ||
        !c->tx_phase_acked)
        return;
    skiff_packet_keys *tx = &c->levels[SKIFF_LEVEL_1RTT].tx;
    if (skiff_packet_keys_next(tx, tx)) return;
    c->key_update_wanted = false;
    c->tx_phase = !c->tx_phase;
    c->tx_phase_first_pn = c->recovery.spaces[SKIFF_SPACE_APPLICATION].next_pn;
    c->tx_phase_acked = false;
    c->key_updates_initiated++;
}

int skiff_conn_key_update(skiff_conn *c)
{
    if (c->state != CONN_ESTABLISHED) return SKIFF_ERR_INVALID_ARGUMENT;
    c->key_update_wanted = true;
    conn_maybe_initiate_key_update(c);
    return 0;
}

void skiff_conn_key_update_counts(const skiff_conn *c, uint64_t *initiated, uint64_t *followed)
{
    *initiated = c->key_updates_initiated;
    *followed = c->key_updates_followed;
}

void conn_free_key_update(skiff_conn *c)
{
    skiff_packet_keys_clear(&c->rx_prev);
    skiff_packet_keys_clear(&c->rx_next);
}
