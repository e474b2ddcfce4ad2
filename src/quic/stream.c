/*
 * A stream: its two halves, their stream-level flow control, and the
 * sending and receiving state machines of RFC 9000 §3.1 and §3.2, derived
 * from the halves rather than stored. Also the stream's own control frames
 * (RESET_STREAM §19.4, STOP_SENDING §19.5, MAX_STREAM_DATA §19.10,
 * STREAM_DATA_BLOCKED §19.13) and when each is resent after a loss (§13.3).
 *
 *   sending (§3.1)                         receiving (§3.2)
 *   Ready -> Send -> Data Sent -> Data Recvd    Recv -> Size Known -> Data Recvd -> Data Read
 *     \        \         \                       \          \             (reset ignored)
 *      +--------+---------+-> Reset Sent -> Reset Recvd  +----------+-> Reset Recvd -> Reset Read
 */
#include "quic/stream.h"

#include <string.h>

void skiff_stream_init(skiff_stream *st, uint64_t id, skiff_role self, skiff_stream_pool *pool,
                       const skiff_stream_params *p)
{
    memset(st, 0, sizeof *st);
    st->id = id;
    bool local = skiff_stream_id_is_local(id, self), uni = skiff_stream_id_is_uni(id);
    st->has_send = !uni || local; /* §2.1: a unidirectional stream flows from its initiator */
    st->has_recv = !uni || !local;
    skiff_stream_send_init(&st->send, pool, p->send_buffer);
    skiff_stream_recv_init(&st->recv, pool, p->recv_max_ranges);
    skiff_fc_send_init(&st->tx_fc, st->has_send ? p->send_limit : 0);
    skiff_fc_recv_init(&st->rx_fc, st->has_recv ? p->recv_window : 0, p->recv_max_window);
}

void skiff_stream_cleanup(skiff_stream *st)
{
    skiff_stream_send_cleanup(&st->send);
    skiff_stream_recv_cleanup(&st->recv);
}

skiff_send_state skiff_stream_send_state(const skiff_stream *st)
{
    const skiff_stream_send *s = &st->send;
    if (!st->has_send) return SKIFF_SEND_NONE;
    if (s->reset) return s->reset_acked ? SKIFF_SEND_RESET_RECVD : SKIFF_SEND_RESET_SENT;
    if (skiff_stream_send_all_acked(s)) return SKIFF_SEND_DATA_RECVD;
    if (s->fin && s->fin_sent) return SKIFF_SEND_DATA_SENT;
    if (s->started) return SKIFF_SEND_SEND;
    return SKIFF_SEND_READY;
}

skiff_recv_state skiff_stream_recv_state(const skiff_stream *st)
{
    const skiff_stream_recv *r = &st->recv;
    if (!st->has_recv) return SKIFF_RECV_NONE;
    if (r->reset) return r->reset_read ? SKIFF_RECV_RESET_READ : SKIFF_RECV_RESET_RECVD;
    if (r->fin_read) return SKIFF_RECV_DATA_READ;
    if (skiff_stream_recv_all_received(r)) return SKIFF_RECV_DATA_RECVD;
    if (r->final_size != SKIFF_FINAL_SIZE_UNKNOWN) return SKIFF_RECV_SIZE_KNOWN;
    return SKIFF_RECV_RECV;
}

const char *skiff_send_state_name(skiff_send_state s)
{
    static const char *const names[] = {"Ready",      "Send",        "Data Sent", "Reset Sent",
                                        "Data Recvd", "Reset Recvd", "none"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

const char *skiff_recv_state_name(skiff_recv_state s)
{
    static const char *const names[] = {"Recv",      "Size Known", "Data Recvd", "Reset Recvd",
                                        "Data Read", "Reset Read", "none"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

bool skiff_stream_is_finished(const skiff_stream *st)
{
    skiff_send_state s = skiff_stream_send_state(st);
    skiff_recv_state r = skiff_stream_recv_state(st);
    bool send_done =
        s == SKIFF_SEND_NONE || s == SKIFF_SEND_DATA_RECVD || s == SKIFF_SEND_RESET_RECVD;
    bool recv_done =
        r == SKIFF_RECV_NONE || r == SKIFF_RECV_DATA_READ || r == SKIFF_RECV_RESET_READ;
    return send_done && recv_done;
}

/* §13.3: STOP_SENDING is (re)sent "until the receiving part of the stream
 * enters either a 'Data Recvd' or 'Reset Recvd' state". */
static bool stop_still_useful(const skiff_stream *st)
{
    skiff_recv_state r = skiff_stream_recv_state(st);
    return r == SKIFF_RECV_RECV || r == SKIFF_RECV_SIZE_KNOWN;
}

/* §13.3: MAX_STREAM_DATA is not sent "when the receiving part of the stream
 * enters a 'Size Known' or 'Reset Recvd' state"; nor once we stopped reading. */
static bool max_stream_data_useful(const skiff_stream *st)
{
    return st->has_recv && !st->recv.discard && skiff_stream_recv_state(st) == SKIFF_RECV_RECV;
}

void skiff_stream_stop_sending(skiff_stream *st, uint64_t code)
{
    if (!st->has_recv || st->recv.discard) return;
    bool useful = stop_still_useful(st);
    skiff_stream_recv_stop(&st->recv);
    if (!useful) return;
    st->stop_code = code;
    st->stop_pending = stop_still_useful(st);
}

bool skiff_stream_control_frame(const skiff_stream *st, skiff_frame *f)
{
    uint64_t a, b;
    memset(f, 0, sizeof *f);
    if (st->has_send && skiff_stream_send_reset_frame(&st->send, &a, &b)) {
        f->type = SKIFF_FRAME_RESET_STREAM;
        f->reset_stream = (skiff_frame_reset_stream){st->id, a, b};
        return true;
    }
    if (st->stop_pending && stop_still_useful(st)) {
        f->type = SKIFF_FRAME_STOP_SENDING;
        f->stop_sending = (skiff_frame_stop_sending){st->id, st->stop_code};
        return true;
    }
    if (max_stream_data_useful(st) && skiff_fc_recv_update_frame(&st->rx_fc, &a)) {
        f->type = SKIFF_FRAME_MAX_STREAM_DATA;
        f->max_stream_data = (skiff_frame_max_stream_data){st->id, a};
        return true;
    }
    if (st->has_send && !st->send.reset && skiff_fc_send_blocked_frame(&st->tx_fc, &a)) {
        f->type = SKIFF_FRAME_STREAM_DATA_BLOCKED;
        f->stream_data_blocked = (skiff_frame_stream_data_blocked){st->id, a};
        return true;
    }
    return false;
}

bool skiff_stream_has_control(const skiff_stream *st)
{
    skiff_frame f;
    return skiff_stream_control_frame(st, &f);
}

void skiff_stream_on_control_sent(skiff_stream *st, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_RESET_STREAM:
        skiff_stream_send_on_reset_sent(&st->send);
        break;
    case SKIFF_FRAME_STOP_SENDING:
        st->stop_pending = false;
        st->stop_sent = true;
        break;
    case SKIFF_FRAME_MAX_STREAM_DATA:
        skiff_fc_recv_on_update_sent(&st->rx_fc, f->max_stream_data.max);
        break;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        skiff_fc_send_on_blocked_sent(&st->tx_fc);
        st->send.started = true; /* §3.1: sending STREAM_DATA_BLOCKED leaves Ready */
        break;
    default:
        break;
    }
}

void skiff_stream_on_control_acked(skiff_stream *st, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_RESET_STREAM:
        skiff_stream_send_on_reset_acked(&st->send);
        break;
    case SKIFF_FRAME_STOP_SENDING:
        st->stop_acked = true;
        break;
    default:
        break;
    }
}

void skiff_stream_on_control_lost(skiff_stream *st, const skiff_frame *f)
{
    switch (f->type) {
    case SKIFF_FRAME_RESET_STREAM:
        skiff_stream_send_on_reset_lost(&st->send);
        break;
    case SKIFF_FRAME_STOP_SENDING:
        if (!st->stop_acked && stop_still_useful(st)) st->stop_pending = true;
        break;
    case SKIFF_FRAME_MAX_STREAM_DATA:
        skiff_fc_recv_on_update_lost(&st->rx_fc, f->max_stream_data.max);
        break;
    case SKIFF_FRAME_STREAM_DATA_BLOCKED:
        skiff_fc_send_on_blocked_lost(&st->tx_fc, f->stream_data_blocked.limit);
        break;
    default:
        break;
    }
}
