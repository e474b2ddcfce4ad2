/*
 * Flow control credit and limits (RFC 9000 §4.1, §4.2, §19.9, §19.10,
 * §19.12, §19.13), with receive-window auto-tuning.
 *
 * Sending: the peer's limit only ever rises (a smaller MAX_DATA or
 * MAX_STREAM_DATA, reordered behind a larger one, is ignored: §4.1 "A sender
 * MUST ignore any MAX_STREAM_DATA or MAX_DATA frames that do not increase
 * flow control limits"). A sender stalled by the limit queues one BLOCKED
 * frame per limit value.
 *
 * Receiving: the limit moves to consumed + window once less than half of the
 * window is left, so the peer always has at least half a window of credit
 * while the application keeps reading. Auto-tuning doubles the window when
 * the application consumes it faster than one window per two RTTs: then the
 * window, not the application, is what limits throughput.
 */
#include "quic/flow_control.h"

void skiff_fc_send_init(skiff_fc_send *fc, uint64_t initial_limit)
{
    fc->limit = initial_limit;
    fc->sent = 0;
    fc->blocked_at = UINT64_MAX;
    fc->blocked_pending = false;
}

bool skiff_fc_send_on_max(skiff_fc_send *fc, uint64_t max)
{
    if (max <= fc->limit) return false;
    fc->limit = max;
    fc->blocked_pending = false; /* a BLOCKED for the old limit would be stale */
    return true;
}

void skiff_fc_send_on_sent(skiff_fc_send *fc, uint64_t bytes)
{
    fc->sent += bytes;
}

void skiff_fc_send_note_blocked(skiff_fc_send *fc)
{
    if (fc->sent < fc->limit || fc->blocked_at == fc->limit) return;
    fc->blocked_at = fc->limit;
    fc->blocked_pending = true;
}

bool skiff_fc_send_blocked_frame(const skiff_fc_send *fc, uint64_t *limit)
{
    if (!fc->blocked_pending) return false;
    *limit = fc->limit;
    return true;
}

void skiff_fc_send_on_blocked_sent(skiff_fc_send *fc)
{
    fc->blocked_pending = false;
}

void skiff_fc_send_on_blocked_lost(skiff_fc_send *fc, uint64_t limit)
{
    /* §13.3: DATA_BLOCKED / STREAM_DATA_BLOCKED are resent only while the
     * sender is still blocked at the same limit. */
    if (limit == fc->limit && fc->sent >= fc->limit) fc->blocked_pending = true;
}

void skiff_fc_recv_init(skiff_fc_recv *fc, uint64_t window, uint64_t max_window)
{
    fc->limit = window;
    fc->highest = 0;
    fc->consumed = 0;
    fc->window = window;
    fc->max_window = max_window > window ? max_window : window;
    fc->last_update = SKIFF_TIME_NEVER;
    fc->consumed_at_update = 0;
    fc->sent_limit = window; /* the transport parameter carried it */
    fc->update_pending = false;
}

int skiff_fc_recv_on_offset(skiff_fc_recv *fc, uint64_t end)
{
    /* §4.1: "A receiver MUST close the connection with an error of type
     * FLOW_CONTROL_ERROR if the sender violates the advertised connection or
     * stream data limits". */
    if (end > fc->limit) return SKIFF_ERR_FLOW_CONTROL;
    if (end > fc->highest) fc->highest = end;
    return 0;
}

int skiff_fc_recv_on_bytes(skiff_fc_recv *fc, uint64_t bytes)
{
    if (bytes > fc->limit - fc->highest) return SKIFF_ERR_FLOW_CONTROL;
    fc->highest += bytes;
    return 0;
}

bool skiff_fc_recv_on_consumed(skiff_fc_recv *fc, uint64_t bytes, skiff_time now, skiff_time srtt)
{
    fc->consumed += bytes;
    if (fc->limit - fc->consumed > fc->window / 2) return false;
    /* Auto-tuning: the bytes consumed since the last move, over the time
     * that took, against a window per two RTTs (both sides multiplied out,
     * in 128-bit arithmetic so large windows and times cannot overflow). */
    if (srtt && fc->last_update != SKIFF_TIME_NEVER && now >= fc->last_update &&
        fc->window < fc->max_window) {
        unsigned __int128 elapsed_x_window =
            (unsigned __int128)(now - fc->last_update) * fc->window;
        unsigned __int128 budget =
            (unsigned __int128)(2 * srtt) * (fc->consumed - fc->consumed_at_update);
        if (elapsed_x_window < budget) {
            fc->window *= 2;
            if (fc->window > fc->max_window) fc->window = fc->max_window;
        }
    }
    fc->last_update = now;
    fc->consumed_at_update = fc->consumed;
    uint64_t limit = fc->consumed + fc->window;
    if (limit > fc->limit) {
        fc->limit = limit;
        fc->update_pending = true;
    }
    return fc->update_pending;
}

void skiff_fc_recv_ensure_window(skiff_fc_recv *fc, uint64_t window)
{
    if (window > fc->max_window) window = fc->max_window;
    if (window > fc->window) fc->window = window;
}

bool skiff_fc_recv_update_frame(const skiff_fc_recv *fc, uint64_t *limit)
{
    if (!fc->update_pending) return false;
    *limit = fc->limit;
    return true;
}

void skiff_fc_recv_on_update_sent(skiff_fc_recv *fc, uint64_t limit)
{
    if (limit > fc->sent_limit) fc->sent_limit = limit;
    if (limit == fc->limit) fc->update_pending = false;
}

void skiff_fc_recv_on_update_lost(skiff_fc_recv *fc, uint64_t limit)
{
    if (limit >= fc->sent_limit) fc->update_pending = true;
}
