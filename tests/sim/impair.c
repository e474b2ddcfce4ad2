/*
 * The impairment model: one direction of a path (see impair.h). Each
 * submitted datagram goes through, in this order:
 *
 *   blackhole -> random loss (capped run) -> bottleneck queue (tail drop)
 *     -> serialisation at `rate` -> delay + jitter (order kept)
 *     -> reorder (extra hold-back) -> duplicate -> corrupt (per copy)
 *     -> heap ordered by delivery time -> poll
 *
 * The bottleneck is a single FIFO link: `link_free_at` is when it finishes
 * sending what it already holds, so its backlog in bytes is the time left
 * times the rate, and a datagram that would push the backlog past `queue`
 * is tail-dropped. Each decision draws from its own PRNG stream, and the loss
 * stream draws exactly once per submitted datagram, so the loss pattern of a
 * seed depends on nothing else: skiff-relay's tests can count on it even
 * though real timing moves everything else about.
 *
 * The slots and the heap are allocated once at init and bounded by `limit`;
 * a datagram that finds no free slot is dropped and counted.
 */
#include "impair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stream constants: any distinct values; they only decorrelate the streams. */
#define STREAM_LOSS 0x6c6f7373u
#define STREAM_JITTER 0x6a697474u
#define STREAM_REORDER 0x72656f72u
#define STREAM_DUP 0x64757065u
#define STREAM_CORRUPT 0x636f7272u

void skiff_impair_config_default(skiff_impair_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mtu = SKIFF_IMPAIR_DEFAULT_MTU;
    cfg->limit = SKIFF_IMPAIR_DEFAULT_LIMIT;
    cfg->queue_bytes = SKIFF_IMPAIR_DEFAULT_QUEUE;
    cfg->reorder_delay = SKIFF_IMPAIR_DEFAULT_REORDER_DELAY;
}

int skiff_impair_config_check(const skiff_impair_config *cfg)
{
    if (cfg->loss_ppm > 1000000u || cfg->reorder_ppm > 1000000u || cfg->dup_ppm > 1000000u ||
        cfg->corrupt_ppm > 1000000u)
        return SKIFF_ERR_INVALID_ARGUMENT;
    if (cfg->mtu == 0 || cfg->mtu > SKIFF_IMPAIR_MAX_MTU) return SKIFF_ERR_INVALID_ARGUMENT;
    if (cfg->limit == 0 || cfg->limit > SKIFF_IMPAIR_MAX_LIMIT) return SKIFF_ERR_INVALID_ARGUMENT;
    if (cfg->rate_bps && (cfg->queue_bytes == 0 || cfg->queue_bytes > SKIFF_IMPAIR_MAX_QUEUE))
        return SKIFF_ERR_INVALID_ARGUMENT;
    if (cfg->blackhole_count > SKIFF_IMPAIR_MAX_BLACKHOLES ||
        cfg->rebind_count > SKIFF_IMPAIR_MAX_REBINDS)
        return SKIFF_ERR_INVALID_ARGUMENT;
    /* Sums of times must not wrap: keep each below a century. */
    const skiff_time big = (skiff_time)100 * 365 * 86400 * 1000000000u;
    for (size_t i = 0; i < cfg->blackhole_count; i++)
        if (cfg->blackholes[i].end < cfg->blackholes[i].start || cfg->blackholes[i].end > big)
            return SKIFF_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < cfg->rebind_count; i++)
        if (cfg->rebinds[i].at > big || (i && cfg->rebinds[i].at < cfg->rebinds[i - 1].at))
            return SKIFF_ERR_INVALID_ARGUMENT;
    if (cfg->delay > big || cfg->jitter > big || cfg->reorder_delay > big || cfg->epoch > big)
        return SKIFF_ERR_INVALID_ARGUMENT;
    return 0;
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct unit {
    const char *name;
    uint64_t mult;
} unit;

static const unit time_units[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}, {0, 0}};
static const unit rate_units[] = {{"", 1},           {"bit", 1},           {"kbit", 1000},
                                  {"mbit", 1000000}, {"gbit", 1000000000}, {0, 0}};
static const unit byte_units[] = {{"", 1},        {"b", 1},        {"k", 1024}, {"kb", 1024},
                                  {"m", 1048576}, {"mb", 1048576}, {0, 0}};
static const unit percent_units[] = {{"", 10000}, {"%", 10000}, {0, 0}};
static const unit count_units[] = {{"", 1}, {0, 0}};

/*
 * Parses "DIGITS[.DIGITS]UNIT" from [s, end) into *out = value * unit, with
 * the unit found in `units` (case-insensitive). A bare 0 needs no unit. The
 * fraction must come out whole (1.5ns is refused). Returns 0 or -1.
 */
static int parse_scaled(const char *s, const char *end, const unit *units, uint64_t *out)
{
    uint64_t whole = 0, frac = 0, frac_scale = 1;
    const char *p = s;
    if (p == end || *p < '0' || *p > '9') return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (whole > (UINT64_MAX - 9) / 10) return -1;
        whole = whole * 10 + (uint64_t)(*p++ - '0');
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') {
            if (frac_scale >= 1000000000000u) return -1; /* 12 digits are plenty */
            frac = frac * 10 + (uint64_t)(*p++ - '0');
            frac_scale *= 10;
        }
    }
    size_t ulen = (size_t)(end - p);
    for (const unit *u = units; u->name; u++) {
        if (strlen(u->name) != ulen) continue;
        bool same = true;
        for (size_t i = 0; i < ulen; i++) {
            char c = p[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != u->name[i]) same = false;
        }
        if (!same) continue;
        if (whole && u->mult > UINT64_MAX / whole) return -1;
        uint64_t v = whole * u->mult;
        /* frac < frac_scale <= 10^12 and mult <= 10^9 could overflow: divide first
         * when the product would be too big, and demand an exact result. */
        uint64_t f;
        if (frac && u->mult > UINT64_MAX / frac) {
            if (u->mult % frac_scale) return -1;
            f = frac * (u->mult / frac_scale);
        } else {
            if ((frac * u->mult) % frac_scale) return -1;
            f = frac * u->mult / frac_scale;
        }
        if (v > UINT64_MAX - f) return -1;
        *out = v + f;
        return 0;
    }
    if (ulen == 0 && whole == 0 && frac == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int fail(char *err, size_t err_len, const char *key, size_t key_len, const char *why)
{
    if (err_len) snprintf(err, err_len, "%.*s: %s", (int)key_len, key, why);
    return SKIFF_ERR_INVALID_ARGUMENT;
}

static bool key_is(const char *key, size_t key_len, const char *name)
{
    return strlen(name) == key_len && memcmp(key, name, key_len) == 0;
}

/* A probability: "2" or "0.5" or "2%" percent, as parts per million. */
static int parse_percent(const char *v, const char *end, uint32_t *ppm)
{
    uint64_t x;
    if (parse_scaled(v, end, percent_units, &x) < 0 || x > 1000000u) return -1;
    *ppm = (uint32_t)x;
    return 0;
}

static int parse_time(const char *v, const char *end, skiff_time *t)
{
    uint64_t x;
    if (parse_scaled(v, end, time_units, &x) < 0) return -1;
    *t = x;
    return 0;
}

int skiff_impair_parse(skiff_impair_config *cfg, const char *spec, char *err, size_t err_len)
{
    if (err_len) err[0] = 0;
    if (!spec) return fail(err, err_len, "spec", 4, "missing");
    const char *p = spec;
    if (!*p) return 0;
    for (;;) {
        const char *item_end = strchr(p, ',');
        if (!item_end) item_end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (item_end == p) return fail(err, err_len, "spec", 4, "empty item");
        if (!eq) return fail(err, err_len, p, (size_t)(item_end - p), "expected key=value");
        const char *key = p, *v = eq + 1, *end = item_end;
        size_t klen = (size_t)(eq - p);
        uint64_t n;
        if (key_is(key, klen, "loss")) {
            if (parse_percent(v, end, &cfg->loss_ppm) < 0)
                return fail(err, err_len, key, klen, "want a percent 0..100");
        } else if (key_is(key, klen, "reorder")) {
            if (parse_percent(v, end, &cfg->reorder_ppm) < 0)
                return fail(err, err_len, key, klen, "want a percent 0..100");
        } else if (key_is(key, klen, "dup")) {
            if (parse_percent(v, end, &cfg->dup_ppm) < 0)
                return fail(err, err_len, key, klen, "want a percent 0..100");
        } else if (key_is(key, klen, "corrupt")) {
            if (parse_percent(v, end, &cfg->corrupt_ppm) < 0)
                return fail(err, err_len, key, klen, "want a percent 0..100");
        } else if (key_is(key, klen, "delay")) {
            if (parse_time(v, end, &cfg->delay) < 0)
                return fail(err, err_len, key, klen, "want a time such as 10ms (ns, us, ms, s)");
        } else if (key_is(key, klen, "jitter")) {
            if (parse_time(v, end, &cfg->jitter) < 0)
                return fail(err, err_len, key, klen, "want a time such as 2ms (ns, us, ms, s)");
        } else if (key_is(key, klen, "reorderdelay")) {
            if (parse_time(v, end, &cfg->reorder_delay) < 0)
                return fail(err, err_len, key, klen, "want a time such as 5ms (ns, us, ms, s)");
        } else if (key_is(key, klen, "rate")) {
            if (parse_scaled(v, end, rate_units, &cfg->rate_bps) < 0)
                return fail(err, err_len, key, klen,
                            "want bits/s such as 100mbit (kbit, mbit, gbit)");
        } else if (key_is(key, klen, "queue")) {
            if (parse_scaled(v, end, byte_units, &n) < 0 || n == 0 || n > SKIFF_IMPAIR_MAX_QUEUE)
                return fail(err, err_len, key, klen, "want bytes 1..1g such as 256k (k, m)");
            cfg->queue_bytes = (size_t)n;
        } else if (key_is(key, klen, "maxdrop")) {
            if (parse_scaled(v, end, count_units, &n) < 0 || n > UINT32_MAX)
                return fail(err, err_len, key, klen, "want a count");
            cfg->max_drops = (uint32_t)n;
        } else if (key_is(key, klen, "mtu")) {
            if (parse_scaled(v, end, count_units, &n) < 0 || n == 0 || n > SKIFF_IMPAIR_MAX_MTU)
                return fail(err, err_len, key, klen, "want bytes 1..65535");
            cfg->mtu = (size_t)n;
        } else if (key_is(key, klen, "limit")) {
            if (parse_scaled(v, end, count_units, &n) < 0 || n == 0 || n > SKIFF_IMPAIR_MAX_LIMIT)
                return fail(err, err_len, key, klen, "want a count 1..65536");
            cfg->limit = (size_t)n;
        } else if (key_is(key, klen, "seed")) {
            if (parse_scaled(v, end, count_units, &cfg->seed) < 0)
                return fail(err, err_len, key, klen, "want a number");
        } else if (key_is(key, klen, "blackhole")) {
            const char *plus = memchr(v, '+', (size_t)(end - v));
            skiff_time start, len;
            if (!plus || parse_time(v, plus, &start) < 0 || parse_time(plus + 1, end, &len) < 0 ||
                start > UINT64_MAX - len)
                return fail(err, err_len, key, klen, "want START+LENGTH such as 2s+500ms");
            if (cfg->blackhole_count >= SKIFF_IMPAIR_MAX_BLACKHOLES)
                return fail(err, err_len, key, klen, "too many (at most 8)");
            cfg->blackholes[cfg->blackhole_count++] = (skiff_impair_period){start, start + len};
        } else if (key_is(key, klen, "rebind") || key_is(key, klen, "rebindaddr")) {
            skiff_time at;
            if (parse_time(v, end, &at) < 0)
                return fail(err, err_len, key, klen, "want a time such as 5s");
            if (cfg->rebind_count >= SKIFF_IMPAIR_MAX_REBINDS)
                return fail(err, err_len, key, klen, "too many (at most 8)");
            if (cfg->rebind_count && cfg->rebinds[cfg->rebind_count - 1].at > at)
                return fail(err, err_len, key, klen, "times must ascend");
            cfg->rebinds[cfg->rebind_count++] =
                (skiff_impair_rebind){at, key_is(key, klen, "rebindaddr")};
        } else {
            return fail(err, err_len, key, klen, "unknown key");
        }
        if (!*item_end) break;
        p = item_end + 1;
        if (!*p) return fail(err, err_len, "spec", 4, "trailing comma");
    }
    if (skiff_impair_config_check(cfg) < 0)
        return fail(err, err_len, "spec", 4, "values out of range");
    return 0;
}

/* ---- the model ---------------------------------------------------------------- */

int skiff_impair_init(skiff_impair *imp, const skiff_impair_config *cfg)
{
    memset(imp, 0, sizeof *imp);
    if (skiff_impair_config_check(cfg) < 0) return SKIFF_ERR_INVALID_ARGUMENT;
    imp->cfg = *cfg;
    skiff_prng_seed(&imp->loss_rng, cfg->seed ^ STREAM_LOSS);
    skiff_prng_seed(&imp->jitter_rng, cfg->seed ^ STREAM_JITTER);
    skiff_prng_seed(&imp->reorder_rng, cfg->seed ^ STREAM_REORDER);
    skiff_prng_seed(&imp->dup_rng, cfg->seed ^ STREAM_DUP);
    skiff_prng_seed(&imp->corrupt_rng, cfg->seed ^ STREAM_CORRUPT);
    imp->heap = calloc(cfg->limit, sizeof *imp->heap);
    imp->slots = malloc(cfg->limit * cfg->mtu);
    imp->free_slots = malloc(cfg->limit * sizeof *imp->free_slots);
    if (!imp->heap || !imp->slots || !imp->free_slots) {
        skiff_impair_free(imp);
        return SKIFF_ERR_NOMEM;
    }
    /* Hand out slot 0 first: the stack pops from the end. */
    for (size_t i = 0; i < cfg->limit; i++)
        imp->free_slots[i] = (uint32_t)(cfg->limit - 1 - i);
    imp->free_count = cfg->limit;
    return 0;
}

void skiff_impair_free(skiff_impair *imp)
{
    free(imp->heap);
    free(imp->slots);
    free(imp->free_slots);
    imp->heap = NULL;
    imp->slots = NULL;
    imp->free_slots = NULL;
    imp->heap_len = imp->free_count = imp->held_bytes = 0;
}

static bool before(const skiff_impair_entry *a, const skiff_impair_entry *b)
{
    return a->deliver < b->deliver || (a->deliver == b->deliver && a->seq < b->seq);
}

static void heap_push(skiff_impair *imp, skiff_impair_entry e)
{
    size_t i = imp->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &imp->heap[parent])) break;
        imp->heap[i] = imp->heap[parent];
        i = parent;
    }
    imp->heap[i] = e;
}

static void heap_pop(skiff_impair *imp)
{
    skiff_impair_entry last = imp->heap[--imp->heap_len];
    size_t i = 0, n = imp->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&imp->heap[c + 1], &imp->heap[c])) c++;
        if (!before(&imp->heap[c], &last)) break;
        imp->heap[i] = imp->heap[c];
        i = c;
    }
    if (n) imp->heap[i] = last;
}

static bool in_blackhole(const skiff_impair *imp, skiff_time now)
{
    for (size_t i = 0; i < imp->cfg.blackhole_count; i++) {
        const skiff_impair_period *b = &imp->cfg.blackholes[i];
        skiff_time start = imp->cfg.epoch + b->start, end = imp->cfg.epoch + b->end;
        if (now >= start && now < end) return true;
    }
    return false;
}

/* Holds one copy for delivery at `deliver`; false when no slot is left. */
static bool hold(skiff_impair *imp, const uint8_t *dgram, size_t len, skiff_time deliver,
                 const skiff_impair_meta *meta)
{
    if (imp->free_count == 0) {
        imp->stats.dropped_limit++;
        return false;
    }
    uint32_t slot = imp->free_slots[--imp->free_count];
    uint8_t *dst = imp->slots + (size_t)slot * imp->cfg.mtu;
    memcpy(dst, dgram, len);
    if (imp->cfg.corrupt_ppm && skiff_prng_chance(&imp->corrupt_rng, imp->cfg.corrupt_ppm)) {
        size_t span = len < SKIFF_IMPAIR_CORRUPT_SPAN ? len : SKIFF_IMPAIR_CORRUPT_SPAN;
        size_t pos = (size_t)skiff_prng_below(&imp->corrupt_rng, span);
        /* A non-zero mask, so the byte always changes. */
        dst[pos] ^= (uint8_t)(1 + skiff_prng_below(&imp->corrupt_rng, 255));
        imp->stats.corrupted++;
    }
    heap_push(imp, (skiff_impair_entry){.deliver = deliver,
                                        .seq = imp->next_seq++,
                                        .meta = *meta,
                                        .slot = slot,
                                        .len = (uint32_t)len});
    imp->held_bytes += len;
    if (imp->heap_len > imp->stats.held_max) imp->stats.held_max = imp->heap_len;
    if (imp->held_bytes > imp->stats.held_bytes_max) imp->stats.held_bytes_max = imp->held_bytes;
    return true;
}

int skiff_impair_submit_tagged(skiff_impair *imp, const uint8_t *dgram, size_t len, skiff_time now,
                               uint64_t tag)
{
    if (!dgram && len) return SKIFF_ERR_INVALID_ARGUMENT;
    const skiff_impair_config *c = &imp->cfg;
    imp->stats.submitted++;
    imp->stats.submitted_bytes += len;

    /* The loss stream draws once per datagram whatever happens next. */
    bool lose = skiff_prng_chance(&imp->loss_rng, c->loss_ppm);

    if (len == 0 || len > c->mtu) {
        imp->stats.dropped_limit++;
        return 0;
    }
    if (in_blackhole(imp, now)) {
        imp->stats.dropped_blackhole++;
        return 0;
    }
    if (lose && c->max_drops && imp->consecutive_drops >= c->max_drops) lose = false;
    if (lose) {
        imp->consecutive_drops++;
        imp->stats.dropped_loss++;
        return 0;
    }
    imp->consecutive_drops = 0;

    /* The bottleneck: backlog = what the link still has to send at `now`. */
    skiff_time depart = now;
    if (c->rate_bps) {
        skiff_time start = imp->link_free_at > now ? imp->link_free_at : now;
        /* (start - now) * rate cannot wrap: the backlog never exceeds queue
         * (<= 2^30 bytes), so the product stays below 2^30 * 8e9 < 2^63. */
        uint64_t backlog = (start - now) * c->rate_bps / 8000000000u;
        if (backlog + len > c->queue_bytes) {
            imp->stats.dropped_queue++;
            return 0;
        }
        depart = start + (skiff_time)len * 8000000000u / c->rate_bps;
    }
    /* Delivery in order: jitter only stretches gaps, it never swaps datagrams. */
    skiff_time deliver = depart + c->delay;
    if (c->jitter) deliver += skiff_prng_below(&imp->jitter_rng, c->jitter + 1);
    if (deliver < imp->fifo_floor) deliver = imp->fifo_floor;

    bool reorder = c->reorder_ppm && skiff_prng_chance(&imp->reorder_rng, c->reorder_ppm);
    bool dup = c->dup_ppm && skiff_prng_chance(&imp->dup_rng, c->dup_ppm);

    skiff_impair_meta meta = {
        .tag = tag, .generation = skiff_impair_generation(imp, now), .sent = now};
    /* A reordered datagram is held back; the in-order stream (fifo_floor)
     * does not wait for it, so later datagrams overtake it. */
    if (reorder) deliver += c->reorder_delay;
    if (!hold(imp, dgram, len, deliver, &meta)) return 0; /* no slot: never on the link */
    if (reorder)
        imp->stats.reordered++;
    else
        imp->fifo_floor = deliver;
    if (c->rate_bps) imp->link_free_at = depart;
    if (dup && hold(imp, dgram, len, deliver, &meta)) imp->stats.duplicated++;
    return 0;
}

int skiff_impair_submit(skiff_impair *imp, const uint8_t *dgram, size_t len, skiff_time now)
{
    return skiff_impair_submit_tagged(imp, dgram, len, now, 0);
}

skiff_time skiff_impair_next_delivery(const skiff_impair *imp)
{
    return imp->heap_len ? imp->heap[0].deliver : SKIFF_TIME_NEVER;
}

skiff_ssize skiff_impair_poll_meta(skiff_impair *imp, skiff_time now, uint8_t *out, size_t cap,
                                   skiff_impair_meta *meta)
{
    if (!imp->heap_len || imp->heap[0].deliver > now) return 0;
    const skiff_impair_entry *e = &imp->heap[0];
    if (e->len > cap) return SKIFF_ERR_BUFFER_TOO_SMALL;
    memcpy(out, imp->slots + (size_t)e->slot * imp->cfg.mtu, e->len);
    if (meta) *meta = e->meta;
    skiff_ssize len = (skiff_ssize)e->len;
    imp->free_slots[imp->free_count++] = e->slot;
    imp->held_bytes -= e->len;
    imp->stats.delivered++;
    imp->stats.delivered_bytes += e->len;
    heap_pop(imp);
    return len;
}

skiff_ssize skiff_impair_poll(skiff_impair *imp, skiff_time now, uint8_t *out, size_t cap)
{
    return skiff_impair_poll_meta(imp, now, out, cap, NULL);
}

uint32_t skiff_impair_generation(const skiff_impair *imp, skiff_time now)
{
    uint32_t g = 0;
    for (size_t i = 0; i < imp->cfg.rebind_count; i++)
        if (now >= imp->cfg.epoch + imp->cfg.rebinds[i].at) g++;
    return g;
}

uint32_t skiff_impair_address_rebinds(const skiff_impair *imp, uint32_t generation)
{
    uint32_t n = 0;
    for (size_t i = 0; i < imp->cfg.rebind_count && i < generation; i++)
        if (imp->cfg.rebinds[i].address) n++;
    return n;
}

int skiff_impair_stats_format(const skiff_impair_stats *st, char *out, size_t cap)
{
    return snprintf(out, cap,
                    "submitted=%llu delivered=%llu dropped_loss=%llu dropped_queue=%llu "
                    "dropped_blackhole=%llu dropped_limit=%llu duplicated=%llu corrupted=%llu "
                    "reordered=%llu held_max=%llu",
                    (unsigned long long)st->submitted, (unsigned long long)st->delivered,
                    (unsigned long long)st->dropped_loss, (unsigned long long)st->dropped_queue,
                    (unsigned long long)st->dropped_blackhole,
                    (unsigned long long)st->dropped_limit, (unsigned long long)st->duplicated,
                    (unsigned long long)st->corrupted, (unsigned long long)st->reordered,
                    (unsigned long long)st->held_max);
}
