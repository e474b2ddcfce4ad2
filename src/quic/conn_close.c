/*
 * How a connection ends (RFC 9000 §10): an immediate close with
 * CONNECTION_CLOSE and the closing state (§10.2.1), the draining state after
 * the peer's CONNECTION_CLOSE (§10.2.2), the idle timeout (§10.1) and the
 * handshake timeout, each reported once to the application as a typed end
 * reason (seed 003).
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "quic/conn_internal.h"

#define CLOSE_SENDS_MAX 32 /* CONNECTION_CLOSE repetitions in the closing state */
#define SKIFF_CLOSE_REASON_MAX 1000 /* bytes of reason we send: a 1200-byte packet has room */

static skiff_time three_pto(const skiff_conn *c)
{
    return 3 * skiff_recovery_pto_duration(&c->recovery);
}

void conn_report_end(skiff_conn *c)
{
    if (c->closed_reported) return;
    c->closed_reported = true;
    if (c->cb.closed) c->cb.closed(c, &c->end, c->ud);
}

/* Keeps what fits of a reason, cut at a character boundary; a reason that is
 * not UTF-8 (a peer's, §19.19) is replaced by a note saying so. */
static void set_reason(skiff_end_reason *r, const uint8_t *reason, size_t len)
{
    size_t keep = conn_utf8_prefix(reason, len, sizeof r->reason - 1);
    if (keep == SIZE_MAX) {
        static const char note[] = "(reason not valid UTF-8)";
        reason = (const uint8_t *)note;
        keep = sizeof note - 1;
    }
    if (keep) memcpy(r->reason, reason, keep);
    r->reason[keep] = 0;
    r->reason_len = keep;
}

static void enter_closing(skiff_conn *c, skiff_time now)
{
    c->state = CONN_CLOSING;
    c->close_deadline = now + three_pto(c);
    c->close_send_pending = true;
    c->close_sends = 0;
    conn_report_end(c);
}

void conn_close_transport(skiff_conn *c, int err, uint64_t frame_type, const char *reason,
                          skiff_time now)
{
    if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return;
    uint64_t code = c->close_code ? c->close_code : skiff_err_transport_code(err);
    if (code == SKIFF_TE_NONE) code = SKIFF_TE_INTERNAL_ERROR;
    c->close_code = code;
    c->close_frame_app = false;
    c->close_frame_type = frame_type;
    c->close_reason_len = strlen(reason) < sizeof c->close_reason ? strlen(reason) : sizeof c->close_reason - 1;
    memcpy(c->close_reason, reason, c->close_reason_len);
    c->end = (skiff_end_reason){.kind = SKIFF_END_TRANSPORT, .code = code, .frame_type = frame_type};
    set_reason(&c->end, (const uint8_t *)reason, c->close_reason_len);
    enter_closing(c, now);
}

/* The length of the longest prefix of s[0..len) that is whole, valid UTF-8
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or
 * SIZE_MAX when s holds an invalid sequence before that point. */
size_t conn_utf8_prefix(const uint8_t *s, size_t len, size_t max)
{
    size_t i = 0, whole = 0;
    while (i < len) {
        uint8_t b = s[i];
        size_t n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || (n == 2 && b < 0xc2) || (n == 4 && b > 0xf4)) return SIZE_MAX;
        if (i + n > len) return SIZE_MAX; /* cut inside a character */
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80) return SIZE_MAX;
        if (n == 3 && ((b == 0xe0 && s[i + 1] < 0xa0) || (b == 0xed && s[i + 1] >= 0xa0))) return SIZE_MAX;
        if (n == 4 && ((b == 0xf0 && s[i + 1] < 0x90) || (b == 0xf4 && s[i + 1] >= 0x90))) return SIZE_MAX;
        if (i + n > max) break; /* the next character would not fit: stop before it */
        i += n;
        whole = i;
    }
    return whole;
}

int skiff_conn_close(skiff_conn *c, uint64_t code, const char *reason, skiff_time now)
{
    if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return SKIFF_ERR_CLOSED;
    if (code > SKIFF_VARINT_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    /* The reason is UTF-8 (§19.19), cut at a character boundary so the
     * frame fits one packet with room to spare. */
    size_t len = reason ? strlen(reason) : 0;
    len = conn_utf8_prefix((const uint8_t *)reason, len, SKIFF_CLOSE_REASON_MAX);
    if (len == SIZE_MAX) return SKIFF_ERR_INVALID_ARGUMENT;
    c->close_frame_app = true;
    c->close_code = code;
    c->close_frame_type = 0;
    if (len) memcpy(c->close_reason, reason, len);
    c->close_reason_len = len;
    c->end = (skiff_end_reason){.kind = SKIFF_END_APPLICATION, .code = code};
    set_reason(&c->end, (const uint8_t *)reason, len);
    enter_closing(c, now);
    return 0;
}

void conn_enter_draining(skiff_conn *c, const skiff_frame_connection_close *f, skiff_time now)
{
    if (c->state != CONN_HANDSHAKING && c->state != CONN_ESTABLISHED) return;
    c->end = (skiff_end_reason){.kind = f->app ? SKIFF_END_APPLICATION : SKIFF_END_TRANSPORT,
                                .remote = true,
                                .code = f->error_code,
                                .frame_type = f->frame_type};
    set_reason(&c->end, f->reason, f->reason_len);
    c->state = CONN_DRAINING;
    c->close_deadline = now + three_pto(c);
    conn_report_end(c);
}

void conn_touch_idle(skiff_conn *c, skiff_time now, bool received)
{
    if (received) c->ack_eliciting_sent_since_rx = false;
    if (!c->idle_timeout) {
        c->idle_deadline = SKIFF_TIME_NEVER;
        return;
    }
    /* §10.1: never shorter than three PTOs, so probes get their chance. */
    skiff_time t = c->idle_timeout, floor = three_pto(c);
    c->idle_deadline = now + (t > floor ? t : floor);
}

/*
 * Keep-alive (seed 003): a PING whenever nothing ack-eliciting went out for
 * min(period, idle timeout / 2), so the peer's idle timer never runs out
 * while we live. It does not touch our own idle timer, which only what we
 * receive restarts: a peer that is gone still ends the connection (§10.1).
 */
skiff_time conn_keep_alive_deadline(const skiff_conn *c)
{
    if (!c->cfg.keep_alive || c->state != CONN_ESTABLISHED) return SKIFF_TIME_NEVER;
    skiff_time gap = c->cfg.keep_alive;
    if (c->idle_timeout && c->idle_timeout / 2 < gap) gap = c->idle_timeout / 2;
    return c->last_ack_eliciting_sent + gap;
}

skiff_time conn_close_deadline(const skiff_conn *c)
{
    skiff_time d = c->idle_deadline;
    if (!c->handshake_complete) {
        skiff_time h = c->created + c->cfg.handshake_timeout;
        if (h < d) d = h;
    }
    return d;
}

static void end_silently(skiff_conn *c, skiff_end_kind kind)
{
    c->end = (skiff_end_reason){.kind = kind};
    c->state = CONN_CLOSED;
    conn_report_end(c);
}

void conn_check_timeouts(skiff_conn *c, skiff_time now)
{
    if (c->state == CONN_CLOSING || c->state == CONN_DRAINING) {
        if (now >= c->close_deadline) c->state = CONN_CLOSED;
        return;
    }
    if (c->state == CONN_CLOSED) return;
    if (!c->handshake_complete && now >= c->created + c->cfg.handshake_timeout) {
        end_silently(c, SKIFF_END_HANDSHAKE_TIMEOUT);
        return;
    }
    if (now >= c->idle_deadline) end_silently(c, c->handshake_complete ? SKIFF_END_IDLE_TIMEOUT
                                                                       : SKIFF_END_HANDSHAKE_TIMEOUT);
}

/* One CONNECTION_CLOSE packet at `level` into the builder. Before the
 * handshake is confirmed an application close goes out as a transport close
 * with APPLICATION_ERROR and no reason in Initial and Handshake packets
 * (§10.2.3), so nothing of the application leaks unencrypted. */
static void write_close_packet(skiff_conn *c, skiff_packet_builder *b, skiff_crypto_level level)
{
    conn_level *l = &c->levels[level];
    if (l->discarded || !skiff_packet_keys_installed(&l->tx)) return;
    skiff_pn_space space = conn_space_of(level);
    skiff_recovery_space *rs = &c->recovery.spaces[space];
    const skiff_cid_entry *dst = skiff_cid_remote_for_path(&c->remote_cids, 0);
    skiff_packet_header h = {.type = level == SKIFF_LEVEL_INITIAL     ? SKIFF_PKT_INITIAL
                                     : level == SKIFF_LEVEL_HANDSHAKE ? SKIFF_PKT_HANDSHAKE
                                                                      : SKIFF_PKT_1RTT,
                             .version = c->version,
                             .dcid = dst ? dst->cid.bytes : NULL,
                             .dcid_len = dst ? dst->cid.len : 0,
                             .scid = c->local_cids.entries[0].cid.bytes,
                             .scid_len = c->local_cids.entries[0].cid.len,
                             .key_phase = c->tx_phase};
    if (skiff_builder_begin(b, &h, rs->next_pn, 4, &l->tx)) return;
    skiff_frame f = {.type = SKIFF_FRAME_CONNECTION_CLOSE};
    bool app_level = level == SKIFF_LEVEL_1RTT;
    if (c->close_frame_app && app_level) {
        f.type = SKIFF_FRAME_CONNECTION_CLOSE_APP;
        f.connection_close = (skiff_frame_connection_close){
            .app = true, .error_code = c->close_code,
            .reason = (const uint8_t *)c->close_reason, .reason_len = c->close_reason_len};
    } else if (c->close_frame_app) {
        f.connection_close = (skiff_frame_connection_close){.error_code = SKIFF_TE_APPLICATION_ERROR};
    } else {
        f.connection_close = (skiff_frame_connection_close){
            .error_code = c->close_code, .frame_type = c->close_frame_type,
            .reason = (const uint8_t *)c->close_reason, .reason_len = c->close_reason_len};
    }
    size_t room;
    uint8_t *at = skiff_builder_cursor(b, &room);
    skiff_ssize n = skiff_frame_encode(at, room, &f);
    if (n <= 0) {
        f.connection_close.reason_len = 0; /* too long for what is left: drop the reason */
        n = skiff_frame_encode(at, room, &f);
    }
    if (n <= 0) {
        skiff_builder_abandon(b);
        return;
    }
    skiff_builder_commit(b, (size_t)n, f.type);
    bool pad = level == SKIFF_LEVEL_INITIAL && c->role == SKIFF_ROLE_CLIENT;
    if (skiff_builder_finish(b, pad ? SKIFF_MIN_INITIAL_DATAGRAM : 0) < 0) return;
    rs->next_pn++; /* closing packets are not tracked for loss (§10.2.1) */
}

skiff_ssize conn_write_close(skiff_conn *c, uint8_t *out, size_t cap, skiff_time now)
{
    (void)now;
    if (!c->close_send_pending || c->close_sends >= CLOSE_SENDS_MAX) return 0;
    c->close_send_pending = false;
    c->close_sends++;
    if (cap > c->max_datagram) cap = c->max_datagram;
    skiff_packet_builder b;
    skiff_builder_init(&b, out, cap);
    if (!c->handshake_confirmed) {
        write_close_packet(c, &b, SKIFF_LEVEL_INITIAL);
        write_close_packet(c, &b, SKIFF_LEVEL_HANDSHAKE);
    }
    if (c->handshake_complete) write_close_packet(c, &b, SKIFF_LEVEL_1RTT);
    return (skiff_ssize)b.len;
}

const char *skiff_end_reason_format(const skiff_end_reason *r, char *buf, size_t cap)
{
    const char *who = r->remote ? "by peer" : "locally";
    switch (r->kind) {
    case SKIFF_END_NONE: snprintf(buf, cap, "not closed"); break;
    case SKIFF_END_IDLE_TIMEOUT: snprintf(buf, cap, "idle timeout"); break;
    case SKIFF_END_HANDSHAKE_TIMEOUT: snprintf(buf, cap, "handshake timeout"); break;
    case SKIFF_END_STATELESS_RESET: snprintf(buf, cap, "stateless reset by peer"); break;
    case SKIFF_END_VERSION_NEGOTIATION: {
        size_t n = (size_t)snprintf(buf, cap, "version negotiation failed: ours");
        for (size_t i = 0; i < r->ours_count && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, " 0x%08x", r->ours[i]);
        if (n < cap) n += (size_t)snprintf(buf + n, cap - n, ", theirs");
        for (size_t i = 0; i < r->theirs_count && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, " 0x%08x", r->theirs[i]);
        break;
    }
    case SKIFF_END_APPLICATION:
        snprintf(buf, cap, "application error 0x%llx %s%s%.*s", (unsigned long long)r->code, who,
                 r->reason_len ? ": " : "", (int)r->reason_len, r->reason);
        break;
    case SKIFF_END_TRANSPORT: {
        char frame[32] = "";
        if (r->frame_type) snprintf(frame, sizeof frame, " in frame 0x%llx", (unsigned long long)r->frame_type);
        snprintf(buf, cap, "transport error 0x%llx (%s)%s %s%s%.*s", (unsigned long long)r->code,
                 skiff_transport_error_name(r->code), frame, who, r->reason_len ? ": " : "",
                 (int)r->reason_len, r->reason);
        break;
    }
    }
    return buf;
}
