/* Stream halves and state machines: what send_next picks under limits,
 * retransmission, ack-driven freeing, FIN, reset, reassembly, the final size
 * rules, the CRYPTO cap, fragmentation bounds, and the §3.1/§3.2 states. */
#include "quic/stream.h"
#include "test.h"

#define CHUNK SKIFF_STREAM_CHUNK_SIZE

static uint64_t rng = 0x243f6a8885a308d3u;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off * 131 + (off >> 8) * 7 + 1);
}

static void fill(uint8_t *buf, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(off + i);
}

/* ---- Sending ----------------------------------------------------------------- */

static void send_next_respects_max_len_and_flow_limit(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    static uint8_t data[10000];
    uint64_t off;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_send_init(&s, &pool, 1 << 20);
    fill(data, 0, sizeof data);
    CHECK_EQ(skiff_stream_send_write(&s, data, sizeof data, false), 10000);

    CHECK(skiff_stream_send_next(&s, 1200, 3000, &off, &len, &fin));
    CHECK_U64(off, 0);
    CHECK_EQ(len, 1200);
    CHECK(!fin);
    CHECK_U64(skiff_stream_send_on_sent(&s, off, len, fin), 1200);
    CHECK(skiff_stream_send_next(&s, 1200, 3000, &off, &len, &fin));
    CHECK_U64(off, 1200);
    CHECK_EQ(len, 1200);
    skiff_stream_send_on_sent(&s, off, len, fin);
    /* The flow limit cuts the third frame to 600 bytes. */
    CHECK(skiff_stream_send_next(&s, 1200, 3000, &off, &len, &fin));
    CHECK_U64(off, 2400);
    CHECK_EQ(len, 600);
    uint8_t out[1200];
    skiff_stream_send_copy(&s, off, len, out);
    CHECK_MEM(out, data + 2400, 600);
    skiff_stream_send_on_sent(&s, off, len, fin);
    CHECK(!skiff_stream_send_next(&s, 1200, 3000, &off, &len, &fin));
    CHECK(skiff_stream_send_flow_blocked(&s, 3000));
    CHECK(!skiff_stream_send_flow_blocked(&s, 3001));
    /* More credit: new data again, now bounded by max_len. */
    CHECK(skiff_stream_send_next(&s, 500, 20000, &off, &len, &fin));
    CHECK_U64(off, 3000);
    CHECK_EQ(len, 500);
    skiff_stream_send_cleanup(&s);
    CHECK_EQ(pool.live, 0);
    skiff_stream_pool_cleanup(&pool);
}

static void lost_middle_range_is_resent_without_new_credit(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    static uint8_t data[3000];
    uint64_t off;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_send_init(&s, &pool, 1 << 20);
    fill(data, 0, sizeof data);
    skiff_stream_send_write(&s, data, sizeof data, true);
    for (int i = 0; i < 3; i++) {
        CHECK(skiff_stream_send_next(&s, 1000, 3000, &off, &len, &fin));
        CHECK_U64(off, (uint64_t)i * 1000);
        CHECK_EQ(fin, i == 2); /* the FIN rides on the last frame */
        skiff_stream_send_on_sent(&s, off, len, fin);
    }
    CHECK(!skiff_stream_send_has_pending(&s));
    skiff_stream_send_on_acked(&s, 0, 1000, false);
    skiff_stream_send_on_acked(&s, 2000, 1000, true);
    skiff_stream_send_on_lost(&s, 1000, 1000, false);
    /* The flow limit (0) does not apply below the largest offset sent. */
    CHECK(skiff_stream_send_next(&s, 1200, 0, &off, &len, &fin));
    CHECK_U64(off, 1000);
    CHECK_EQ(len, 1000);
    CHECK(!fin); /* the FIN was acknowledged with the last range */
    uint8_t out[1000];
    skiff_stream_send_copy(&s, off, len, out);
    CHECK_MEM(out, data + 1000, 1000);
    /* A retransmission in two pieces. */
    CHECK(skiff_stream_send_next(&s, 400, 0, &off, &len, &fin));
    CHECK_EQ(len, 400);
    CHECK_EQ(skiff_stream_send_on_sent(&s, 1000, 400, false), 0); /* no new credit used */
    CHECK(skiff_stream_send_next(&s, 1200, 0, &off, &len, &fin));
    CHECK_U64(off, 1400);
    CHECK_EQ(len, 600);
    skiff_stream_send_on_sent(&s, off, len, fin);
    /* A lost frame whose bytes were acked meanwhile is not requeued. */
    skiff_stream_send_on_acked(&s, 1000, 1000, false);
    skiff_stream_send_on_lost(&s, 0, 3000, false);
    CHECK(!skiff_stream_send_has_pending(&s));
    CHECK(skiff_stream_send_all_acked(&s));
    CHECK_EQ(pool.live, 0);
    skiff_stream_send_cleanup(&s);
    skiff_stream_pool_cleanup(&pool);
}

static void acks_free_chunks(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    static uint8_t data[5 * CHUNK];
    uint64_t off;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 2);
    skiff_stream_send_init(&s, &pool, 5 * CHUNK);
    fill(data, 0, sizeof data);
    CHECK_EQ(skiff_stream_send_write(&s, data, sizeof data, false), 5 * CHUNK);
    CHECK_EQ(pool.live, 5);
    /* The buffer is full: the application must wait. */
    CHECK_EQ(skiff_stream_send_write(&s, data, 1, false), 0);
    CHECK_EQ(skiff_stream_send_writable(&s), 0);
    while (skiff_stream_send_next(&s, 1200, UINT64_MAX, &off, &len, &fin))
        skiff_stream_send_on_sent(&s, off, len, fin);
    CHECK_U64(s.max_sent, 5 * CHUNK);
    skiff_stream_send_on_acked(&s, 2 * CHUNK, 2 * CHUNK, false); /* out of order */
    CHECK_EQ(pool.live, 5);
    skiff_stream_send_on_acked(&s, 0, CHUNK - 1, false);
    CHECK_EQ(pool.live, 5); /* chunk 0 still holds one unacked byte */
    skiff_stream_send_on_acked(&s, CHUNK - 1, 1, false);
    CHECK_EQ(pool.live, 4);
    CHECK_U64(s.acked_end, CHUNK);
    skiff_stream_send_on_acked(&s, CHUNK, CHUNK, false);
    CHECK_U64(s.acked_end, 4 * CHUNK);
    CHECK_EQ(pool.live, 1);
    CHECK_EQ(skiff_stream_send_writable(&s), 4 * CHUNK);
    skiff_stream_send_on_acked(&s, 4 * CHUNK, CHUNK, false);
    CHECK_EQ(pool.live, 0);
    CHECK_EQ(pool.free_count, 2); /* the free list keeps at most max_free */
    skiff_stream_send_cleanup(&s);
    skiff_stream_pool_cleanup(&pool);
}

static void fin_only_frame(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    uint8_t data[100] = {0};
    uint64_t off;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_send_init(&s, &pool, 4096);
    skiff_stream_send_write(&s, data, 100, false);
    CHECK(skiff_stream_send_next(&s, 1000, 1000, &off, &len, &fin));
    skiff_stream_send_on_sent(&s, off, len, fin);
    CHECK(!skiff_stream_send_next(&s, 1000, 1000, &off, &len, &fin));
    CHECK_EQ(skiff_stream_send_write(&s, NULL, 0, true), 0);
    CHECK(skiff_stream_send_next(&s, 0, 100, &off, &len, &fin)); /* fits even max_len 0 */
    CHECK_U64(off, 100);
    CHECK_EQ(len, 0);
    CHECK(fin);
    skiff_stream_send_on_sent(&s, off, len, fin);
    CHECK(!skiff_stream_send_has_pending(&s));
    /* The FIN frame is lost after the data was acknowledged: a FIN-only again. */
    skiff_stream_send_on_acked(&s, 0, 100, false);
    skiff_stream_send_on_lost(&s, 100, 0, true);
    CHECK(skiff_stream_send_next(&s, 1000, 100, &off, &len, &fin));
    CHECK_U64(off, 100);
    CHECK_EQ(len, 0);
    CHECK(fin);
    skiff_stream_send_on_sent(&s, off, len, fin);
    skiff_stream_send_on_acked(&s, 100, 0, true);
    CHECK(skiff_stream_send_all_acked(&s));
    CHECK_EQ(skiff_stream_send_write(&s, data, 1, false), SKIFF_ERR_STREAM_STATE);
    skiff_stream_send_cleanup(&s);
    skiff_stream_pool_cleanup(&pool);
}

static void reset_abandons_and_retransmits_until_acked(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    static uint8_t data[3 * CHUNK];
    uint64_t off, code, final;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 0);
    skiff_stream_send_init(&s, &pool, sizeof data);
    skiff_stream_send_write(&s, data, sizeof data, false);
    CHECK(skiff_stream_send_next(&s, 5000, UINT64_MAX, &off, &len, &fin));
    skiff_stream_send_on_sent(&s, off, len, fin);
    CHECK(!skiff_stream_send_reset_frame(&s, &code, &final));
    skiff_stream_send_reset(&s, 7);
    CHECK_EQ(pool.live, 0); /* the buffer is dropped at once */
    CHECK(skiff_stream_send_reset_frame(&s, &code, &final));
    CHECK_U64(code, 7);
    CHECK_U64(final, 5000); /* the largest offset sent */
    CHECK(!skiff_stream_send_next(&s, 5000, UINT64_MAX, &off, &len, &fin));
    skiff_stream_send_on_lost(&s, 0, 5000, false); /* §13.3: not retransmitted */
    CHECK(!skiff_stream_send_has_pending(&s));
    CHECK_EQ(skiff_stream_send_write(&s, data, 1, false), SKIFF_ERR_STREAM_STATE);
    skiff_stream_send_reset(&s, 9); /* a second reset changes nothing */
    skiff_stream_send_on_reset_sent(&s);
    CHECK(!skiff_stream_send_reset_frame(&s, &code, &final));
    skiff_stream_send_on_reset_lost(&s);
    CHECK(skiff_stream_send_reset_frame(&s, &code, &final));
    CHECK_U64(code, 7);
    skiff_stream_send_on_reset_sent(&s);
    skiff_stream_send_on_reset_acked(&s);
    skiff_stream_send_on_reset_lost(&s); /* an older copy lost after the ack */
    CHECK(!skiff_stream_send_reset_frame(&s, &code, &final));
    skiff_stream_send_cleanup(&s);
    skiff_stream_pool_cleanup(&pool);
}

/* A stream whose pending and acked sets hit their caps still delivers every
 * byte: requeues widen, unrecordable acks are resent. */
static void send_range_caps_never_lose_data(void)
{
    skiff_stream_pool pool;
    skiff_stream_send s;
    enum { N = 4 * SKIFF_STREAM_SEND_MAX_RANGES };
    static uint8_t data[N * 10];
    uint64_t off;
    size_t len;
    bool fin;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_send_init(&s, &pool, sizeof data);
    skiff_stream_send_write(&s, data, sizeof data, true);
    while (skiff_stream_send_next(&s, 10, UINT64_MAX, &off, &len, &fin))
        skiff_stream_send_on_sent(&s, off, len, fin);
    /* Every odd frame acked (more holes than the acked set holds), every
     * even one lost (more ranges than the pending set holds). */
    for (uint64_t i = 1; i < N; i += 2)
        skiff_stream_send_on_acked(&s, i * 10, 10, i == N - 1);
    for (uint64_t i = 0; i < N; i += 2)
        skiff_stream_send_on_lost(&s, i * 10, 10, false);
    CHECK(s.pending.count <= SKIFF_STREAM_SEND_MAX_RANGES);
    CHECK(s.acked.count <= SKIFF_STREAM_SEND_MAX_RANGES);
    int rounds = 0;
    while (!skiff_stream_send_all_acked(&s) && rounds++ < 100) {
        while (skiff_stream_send_next(&s, 1000, UINT64_MAX, &off, &len, &fin)) {
            skiff_stream_send_on_sent(&s, off, len, fin);
            skiff_stream_send_on_acked(&s, off, len, fin);
        }
    }
    CHECK(skiff_stream_send_all_acked(&s));
    CHECK_EQ(pool.live, 0);
    skiff_stream_send_cleanup(&s);
    skiff_stream_pool_cleanup(&pool);
}

/* ---- Receiving ------------------------------------------------------------------- */

/* A 1 MB stream in shuffled, overlapping fragments arrives byte-exact. */
static void reassembly_of_shuffled_overlapping_fragments(void)
{
    enum { SIZE = 1 << 20, MAXF = 4096 };
    static uint8_t src[SIZE], dst[SIZE];
    static uint64_t starts[MAXF], ends[MAXF];
    skiff_stream_pool pool;
    skiff_stream_recv r;
    fill(src, 0, SIZE);
    size_t n = 0;
    uint64_t at = 0;
    while (at < SIZE) { /* fragments of 1..1400 bytes, each reaching back up to 300 */
        uint64_t back = rnd() % 300, s = at > back ? at - back : 0;
        uint64_t e = at + 1 + rnd() % 1400;
        if (e > SIZE) e = SIZE;
        starts[n] = s;
        ends[n] = e;
        n++;
        at = e;
    }
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)(rnd() % (i + 1));
        uint64_t ts = starts[i], te = ends[i];
        starts[i] = starts[j], ends[i] = ends[j];
        starts[j] = ts, ends[j] = te;
    }
    skiff_stream_pool_init(&pool, 8);
    skiff_stream_recv_init(&r, &pool, 0);
    size_t got = 0;
    int errors = 0;
    bool fin = false;
    uint64_t fresh_total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t fresh;
        if (skiff_stream_recv_on_data(&r, starts[i], src + starts[i], (size_t)(ends[i] - starts[i]),
                                      ends[i] == SIZE, SIZE, &fresh))
            errors++;
        fresh_total += fresh;
        /* Read whatever is contiguous now and then, in odd-sized pieces. */
        if (i % 7 == 0) {
            skiff_ssize k = skiff_stream_recv_read(&r, dst + got, 1 + rnd() % 5000, &fin);
            if (k < 0)
                errors++;
            else
                got += (size_t)k;
        }
        /* A duplicate of an earlier fragment now and then. */
        if (i % 11 == 0 && i > 0) {
            size_t j = (size_t)(rnd() % i);
            if (skiff_stream_recv_on_data(&r, starts[j], src + starts[j],
                                          (size_t)(ends[j] - starts[j]), ends[j] == SIZE, SIZE,
                                          &fresh))
                errors++;
            fresh_total += fresh;
        }
    }
    CHECK_EQ(errors, 0);
    CHECK_U64(fresh_total, SIZE); /* each byte of offset counted once */
    while (got < SIZE && !fin) {
        skiff_ssize k = skiff_stream_recv_read(&r, dst + got, SIZE - got, &fin);
        if (k <= 0) break;
        got += (size_t)k;
    }
    CHECK_EQ(got, SIZE);
    CHECK(fin);
    CHECK_MEM(dst, src, SIZE);
    CHECK_EQ(pool.live, 0);
    skiff_stream_recv_cleanup(&r);
    skiff_stream_pool_cleanup(&pool);
}

static void duplicate_keeps_first_copy_and_peek_consume(void)
{
    skiff_stream_pool pool;
    skiff_stream_recv r;
    uint64_t fresh;
    bool fin;
    const uint8_t *p;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_recv_init(&r, &pool, 0);
    CHECK_EQ(pool.live, 0); /* an idle stream holds no buffer */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 2, (const uint8_t *)"CDE", 3, false, 100, &fresh), 0);
    CHECK_U64(fresh, 5);
    CHECK_EQ(skiff_stream_recv_peek(&r, &p, &fin), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, (const uint8_t *)"abxyz", 5, true, 100, &fresh), 0);
    CHECK_U64(fresh, 0);
    CHECK_EQ(skiff_stream_recv_peek(&r, &p, &fin), 5);
    CHECK_MEM(p, "abCDE", 5);
    CHECK(fin);
    skiff_stream_recv_consume(&r, 2);
    CHECK_EQ(skiff_stream_recv_peek(&r, &p, &fin), 3);
    CHECK_MEM(p, "CDE", 3);
    skiff_stream_recv_consume(&r, 3);
    CHECK(r.fin_read);
    CHECK_EQ(pool.live, 1); /* the chunk holding offset 5 stays until read past */
    skiff_stream_recv_cleanup(&r);
    CHECK_EQ(pool.live, 0);
    skiff_stream_pool_cleanup(&pool);
}

/* A peek that straddles a chunk boundary stops at it; read copies across. */
static void read_across_chunks(void)
{
    skiff_stream_pool pool;
    skiff_stream_recv r;
    static uint8_t src[CHUNK + 100], dst[CHUNK + 100];
    uint64_t fresh;
    bool fin;
    const uint8_t *p;
    fill(src, 0, sizeof src);
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_recv_init(&r, &pool, 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, src, sizeof src, false, 1 << 20, &fresh), 0);
    CHECK_EQ(pool.live, 2);
    skiff_stream_recv_consume(&r, CHUNK - 10);
    CHECK_EQ(pool.live, 2); /* chunk 0 still has 10 unread bytes */
    CHECK_EQ(skiff_stream_recv_peek(&r, &p, &fin), 10);
    CHECK_EQ(skiff_stream_recv_read(&r, dst, sizeof dst, &fin), 110);
    CHECK_MEM(dst, src + CHUNK - 10, 110);
    CHECK(!fin);
    CHECK_EQ(pool.live, 1);
    skiff_stream_recv_cleanup(&r);
    skiff_stream_pool_cleanup(&pool);
}

static void final_size_errors(void)
{
    skiff_stream_pool pool;
    skiff_stream_recv r;
    static uint8_t d[300];
    uint64_t fresh;
    skiff_stream_pool_init(&pool, 4);

    /* A FIN that changes the final size. */
    skiff_stream_recv_init(&r, &pool, 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 100, true, 1000, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 100, true, 1000, &fresh), 0); /* same: fine */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 100, d, 20, true, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 50, true, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    /* Data beyond a known final size. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 100, d, 1, false, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 50, d, 50, false, 1000, &fresh), 0);
    /* A RESET_STREAM with a different final size. */
    CHECK_EQ(skiff_stream_recv_on_reset(&r, 120, 0, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    CHECK_EQ(skiff_stream_recv_on_reset(&r, 100, 0, 1000, &fresh), 0);
    skiff_stream_recv_cleanup(&r);

    /* A FIN below data already received. */
    skiff_stream_recv_init(&r, &pool, 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 100, d, 100, false, 1000, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 150, true, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    CHECK_U64(r.final_size, SKIFF_FINAL_SIZE_UNKNOWN); /* nothing taken from the bad frame */
    /* A RESET_STREAM below data already received. */
    CHECK_EQ(skiff_stream_recv_on_reset(&r, 199, 0, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    CHECK_EQ(skiff_stream_recv_on_reset(&r, 200, 0, 1000, &fresh), 0);
    /* Data after the reset beyond its final size. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 150, d, 51, false, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    /* A FIN after the reset at another size. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 10, true, 1000, &fresh), SKIFF_ERR_FINAL_SIZE);
    skiff_stream_recv_cleanup(&r);
    CHECK_EQ(pool.live, 0);
    skiff_stream_pool_cleanup(&pool);
}

static void flow_control_errors(void)
{
    skiff_stream_pool pool;
    skiff_stream_recv r;
    static uint8_t d[300];
    uint64_t fresh;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_recv_init(&r, &pool, 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 100, false, 100, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 100, d, 1, false, 100, &fresh), SKIFF_ERR_FLOW_CONTROL);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 99, d, 2, true, 100, &fresh), SKIFF_ERR_FLOW_CONTROL);
    CHECK_EQ(skiff_stream_recv_on_reset(&r, 101, 0, 100, &fresh), SKIFF_ERR_FLOW_CONTROL);
    CHECK_U64(r.highest, 100);
    skiff_stream_recv_cleanup(&r);
    skiff_stream_pool_cleanup(&pool);
}

static void crypto_buffer_cap(void)
{
    skiff_stream_pool pool;
    skiff_stream_recv r;
    static uint8_t d[2000];
    uint64_t fresh;
    bool fin;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_recv_init_crypto(&r, &pool);
    CHECK_EQ(skiff_stream_recv_on_data(&r, SKIFF_CRYPTO_BUFFER_CAP - 1, d, 1, false, 0, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, SKIFF_CRYPTO_BUFFER_CAP, d, 1, false, 0, &fresh),
             SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED);
    /* Reading moves the cap along. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, d, 1000, false, 0, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_read(&r, d, sizeof d, &fin), 1000);
    CHECK(!fin); /* CRYPTO has no FIN */
    CHECK_EQ(skiff_stream_recv_on_data(&r, SKIFF_CRYPTO_BUFFER_CAP, d, 1000, false, 0, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, SKIFF_CRYPTO_BUFFER_CAP + 1000, d, 1, false, 0, &fresh),
             SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED);
    skiff_stream_recv_cleanup(&r);
    CHECK_EQ(pool.live, 0);

    /* Too fragmented CRYPTO data is the same error. */
    skiff_stream_recv_init_crypto(&r, &pool);
    int rv = 0, accepted = 0;
    for (uint64_t off = 1; off < 1000 && !rv; off += 2) {
        rv = skiff_stream_recv_on_data(&r, off, d, 1, false, 0, &fresh);
        if (!rv) accepted++;
    }
    CHECK_EQ(rv, SKIFF_ERR_CRYPTO_BUFFER_EXCEEDED);
    CHECK_EQ(accepted, SKIFF_CRYPTO_RECV_MAX_RANGES);
    skiff_stream_recv_cleanup(&r);
    skiff_stream_pool_cleanup(&pool);
}

/* A hostile peer scatters 1-byte fragments over its window: the range set
 * stops at its cap with PROTOCOL_VIOLATION (never dropped, which would stall
 * the stream), and the buffer never exceeds the window's chunks. */
static void hostile_fragments_bounded(void)
{
    enum { WINDOW = 1 << 20, CAP = 1024 };
    skiff_stream_pool pool;
    skiff_stream_recv r;
    uint8_t b = 0x55;
    uint64_t fresh;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_recv_init(&r, &pool, CAP);
    int rv = 0, accepted = 0;
    size_t max_live = 0;
    for (uint64_t off = 1; off < WINDOW && !rv; off += 1000) {
        rv = skiff_stream_recv_on_data(&r, off, &b, 1, false, WINDOW, &fresh);
        if (!rv) accepted++;
        if (pool.live > max_live) max_live = pool.live;
    }
    CHECK_EQ(rv, SKIFF_ERR_PROTOCOL_VIOLATION);
    CHECK_EQ(accepted, CAP);
    CHECK_EQ(r.received.count, CAP);
    CHECK(max_live <= WINDOW / CHUNK);
    /* At the cap, data that only merges with what is there is still taken. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, 2, &b, 1, false, WINDOW, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_on_data(&r, 0, &b, 1, false, WINDOW, &fresh), 0);
    CHECK_EQ(r.received.count, CAP);
    /* Beyond the window is FLOW_CONTROL before anything is stored. */
    CHECK_EQ(skiff_stream_recv_on_data(&r, WINDOW, &b, 1, false, WINDOW, &fresh),
             SKIFF_ERR_FLOW_CONTROL);
    skiff_stream_recv_cleanup(&r);
    CHECK_EQ(pool.live, 0);
    skiff_stream_pool_cleanup(&pool);
}

/* ---- State machines --------------------------------------------------------------- */

#define MAX_SEQ 16
typedef struct {
    int states[MAX_SEQ];
    int n;
} seq;

static void note(seq *q, int state)
{
    if (q->n && q->states[q->n - 1] == state) return;
    if (q->n < MAX_SEQ) q->states[q->n++] = state;
}

static void check_seq(const seq *q, const int *want, int n)
{
    CHECK_EQ(q->n, n);
    for (int i = 0; i < n && i < q->n; i++)
        CHECK_EQ(q->states[i], want[i]);
}

static skiff_stream_params params(void)
{
    skiff_stream_params p = {.send_buffer = 1 << 16,
                             .send_limit = 1 << 20,
                             .recv_window = 1 << 20,
                             .recv_max_window = 1 << 20};
    return p;
}

static void send_states_data(void)
{
    skiff_stream_pool pool;
    skiff_stream st;
    skiff_stream_params p = params();
    uint8_t d[2000] = {0};
    uint64_t off;
    size_t len;
    bool fin;
    seq q = {0};
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_init(&st, 0, SKIFF_ROLE_CLIENT, &pool, &p);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_write(&st.send, d, 2000, false);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_next(&st.send, 1000, UINT64_MAX, &off, &len, &fin);
    skiff_stream_send_on_sent(&st.send, off, len, fin);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_write(&st.send, NULL, 0, true);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_next(&st.send, 1000, UINT64_MAX, &off, &len, &fin);
    CHECK(fin);
    skiff_stream_send_on_sent(&st.send, off, len, fin);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_on_lost(&st.send, 1000, 1000, true);
    note(&q, skiff_stream_send_state(&st)); /* still Data Sent while retransmitting */
    skiff_stream_send_on_acked(&st.send, 0, 1000, false);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_next(&st.send, 1000, UINT64_MAX, &off, &len, &fin);
    skiff_stream_send_on_sent(&st.send, off, len, fin);
    skiff_stream_send_on_acked(&st.send, off, len, fin);
    note(&q, skiff_stream_send_state(&st));
    static const int want[] = {SKIFF_SEND_READY, SKIFF_SEND_SEND, SKIFF_SEND_DATA_SENT,
                               SKIFF_SEND_DATA_RECVD};
    check_seq(&q, want, 4);
    CHECK(skiff_stream_is_finished(&st) == false); /* bidi: the receiving half is open */
    skiff_stream_cleanup(&st);
    skiff_stream_pool_cleanup(&pool);
}

static void send_states_reset(void)
{
    skiff_stream_pool pool;
    skiff_stream st;
    skiff_stream_params p = params();
    uint8_t d[100] = {0};
    uint64_t off;
    size_t len;
    bool fin;
    seq q = {0};
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_init(&st, 2, SKIFF_ROLE_CLIENT, &pool, &p); /* client uni: send only */
    CHECK(st.has_send && !st.has_recv);
    CHECK_EQ(skiff_stream_recv_state(&st), SKIFF_RECV_NONE);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_write(&st.send, d, 100, false);
    skiff_stream_send_next(&st.send, 1000, UINT64_MAX, &off, &len, &fin);
    skiff_stream_send_on_sent(&st.send, off, len, fin);
    note(&q, skiff_stream_send_state(&st));
    skiff_stream_send_reset(&st.send, 3);
    note(&q, skiff_stream_send_state(&st));
    skiff_frame f, probe;
    CHECK(skiff_stream_control_frame(&st, &f));
    CHECK_U64(f.type, SKIFF_FRAME_RESET_STREAM);
    CHECK_U64(f.reset_stream.final_size, 100);
    skiff_stream_on_control_sent(&st, &f);
    CHECK(!skiff_stream_control_frame(&st, &probe));
    skiff_stream_on_control_lost(&st, &f);
    CHECK(skiff_stream_control_frame(&st, &f));
    skiff_stream_on_control_sent(&st, &f);
    note(&q, skiff_stream_send_state(&st));
    CHECK(!skiff_stream_is_finished(&st));
    skiff_stream_on_control_acked(&st, &f);
    note(&q, skiff_stream_send_state(&st));
    static const int want[] = {SKIFF_SEND_READY, SKIFF_SEND_SEND, SKIFF_SEND_RESET_SENT,
                               SKIFF_SEND_RESET_RECVD};
    check_seq(&q, want, 4);
    CHECK(skiff_stream_is_finished(&st));
    skiff_stream_cleanup(&st);
    skiff_stream_pool_cleanup(&pool);
}

static void recv_states_data(void)
{
    skiff_stream_pool pool;
    skiff_stream st;
    skiff_stream_params p = params();
    uint8_t d[100] = {0};
    uint64_t fresh;
    bool fin;
    seq q = {0};
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_init(&st, 3, SKIFF_ROLE_CLIENT, &pool, &p); /* server uni: receive only */
    CHECK(!st.has_send && st.has_recv);
    CHECK_EQ(skiff_stream_send_state(&st), SKIFF_SEND_NONE);
    note(&q, skiff_stream_recv_state(&st));
    skiff_stream_recv_on_data(&st.recv, 0, d, 40, false, 1000, &fresh);
    note(&q, skiff_stream_recv_state(&st));
    skiff_stream_recv_on_data(&st.recv, 60, d, 40, true, 1000, &fresh);
    note(&q, skiff_stream_recv_state(&st));
    skiff_stream_recv_on_data(&st.recv, 40, d, 20, false, 1000, &fresh);
    note(&q, skiff_stream_recv_state(&st));
    skiff_stream_recv_on_reset(&st.recv, 100, 5, 1000, &fresh); /* ignored: all data is here */
    note(&q, skiff_stream_recv_state(&st));
    CHECK(!skiff_stream_is_finished(&st));
    CHECK_EQ(skiff_stream_recv_read(&st.recv, d, 50, &fin), 50);
    CHECK(!fin);
    note(&q, skiff_stream_recv_state(&st));
    CHECK_EQ(skiff_stream_recv_read(&st.recv, d, 100, &fin), 50);
    CHECK(fin);
    note(&q, skiff_stream_recv_state(&st));
    static const int want[] = {SKIFF_RECV_RECV, SKIFF_RECV_SIZE_KNOWN, SKIFF_RECV_DATA_RECVD,
                               SKIFF_RECV_DATA_READ};
    check_seq(&q, want, 4);
    CHECK(skiff_stream_is_finished(&st));
    skiff_stream_cleanup(&st);
    skiff_stream_pool_cleanup(&pool);
}

static void recv_states_reset(void)
{
    skiff_stream_pool pool;
    skiff_stream st;
    skiff_stream_params p = params();
    uint8_t d[100] = {0};
    uint64_t fresh, code = 0;
    bool fin;
    seq q = {0};
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_init(&st, 3, SKIFF_ROLE_CLIENT, &pool, &p);
    note(&q, skiff_stream_recv_state(&st));
    skiff_stream_recv_on_data(&st.recv, 10, d, 40, true, 1000, &fresh);
    note(&q, skiff_stream_recv_state(&st));
    CHECK_EQ(skiff_stream_recv_on_reset(&st.recv, 50, 9, 1000, &fresh), 0);
    CHECK_EQ(pool.live, 0); /* the partial data is dropped */
    note(&q, skiff_stream_recv_state(&st));
    CHECK_EQ(skiff_stream_recv_on_data(&st.recv, 0, d, 10, false, 1000, &fresh), 0);
    note(&q, skiff_stream_recv_state(&st)); /* late data changes nothing */
    CHECK_EQ(skiff_stream_recv_read(&st.recv, d, 100, &fin), 0);
    CHECK(!fin);
    CHECK(skiff_stream_recv_take_reset(&st.recv, &code));
    CHECK_U64(code, 9);
    note(&q, skiff_stream_recv_state(&st));
    static const int want[] = {SKIFF_RECV_RECV, SKIFF_RECV_SIZE_KNOWN, SKIFF_RECV_RESET_RECVD,
                               SKIFF_RECV_RESET_READ};
    check_seq(&q, want, 4);
    CHECK(skiff_stream_is_finished(&st));
    skiff_stream_cleanup(&st);
    skiff_stream_pool_cleanup(&pool);
}

static void stop_sending_frame_until_size_known_or_reset(void)
{
    skiff_stream_pool pool;
    skiff_stream st;
    skiff_stream_params p = params();
    uint8_t d[100] = {0};
    uint64_t fresh;
    skiff_frame f;
    skiff_stream_pool_init(&pool, 4);
    skiff_stream_init(&st, 1, SKIFF_ROLE_CLIENT, &pool, &p); /* server bidi */
    skiff_stream_recv_on_data(&st.recv, 0, d, 100, false, 1000, &fresh);
    CHECK_EQ(pool.live, 1);
    skiff_stream_stop_sending(&st, 0x10c);
    CHECK_EQ(pool.live, 0);           /* buffered data dropped */
    CHECK_U64(st.recv.read_off, 100); /* and counted as read */
    CHECK(skiff_stream_control_frame(&st, &f));
    CHECK_U64(f.type, SKIFF_FRAME_STOP_SENDING);
    CHECK_U64(f.stop_sending.app_error_code, 0x10c);
    skiff_stream_on_control_sent(&st, &f);
    CHECK(!skiff_stream_has_control(&st));
    skiff_stream_on_control_lost(&st, &f);
    CHECK(skiff_stream_has_control(&st));
    skiff_stream_on_control_sent(&st, &f);
    /* The peer's RESET_STREAM arrives: nobody reads, so it is Reset Read at once. */
    CHECK_EQ(skiff_stream_recv_on_reset(&st.recv, 150, 0x10c, 1000, &fresh), 0);
    CHECK_EQ(skiff_stream_recv_state(&st), SKIFF_RECV_RESET_READ);
    skiff_stream_on_control_lost(&st, &f); /* no longer useful: not resent */
    CHECK(!skiff_stream_has_control(&st));
    skiff_stream_cleanup(&st);
    skiff_stream_pool_cleanup(&pool);
}

static void stream_ids(void)
{
    CHECK_U64(skiff_stream_id_make(0, false, SKIFF_ROLE_CLIENT), 0);
    CHECK_U64(skiff_stream_id_make(0, false, SKIFF_ROLE_SERVER), 1);
    CHECK_U64(skiff_stream_id_make(0, true, SKIFF_ROLE_CLIENT), 2);
    CHECK_U64(skiff_stream_id_make(2, true, SKIFF_ROLE_SERVER), 11);
    CHECK(skiff_stream_id_is_uni(11));
    CHECK_EQ(skiff_stream_id_initiator(11), SKIFF_ROLE_SERVER);
    CHECK(skiff_stream_id_is_local(8, SKIFF_ROLE_CLIENT));
    CHECK(!skiff_stream_id_is_local(8, SKIFF_ROLE_SERVER));
}

int main(void)
{
    RUN(send_next_respects_max_len_and_flow_limit);
    RUN(lost_middle_range_is_resent_without_new_credit);
    RUN(acks_free_chunks);
    RUN(fin_only_frame);
    RUN(reset_abandons_and_retransmits_until_acked);
    RUN(send_range_caps_never_lose_data);
    RUN(reassembly_of_shuffled_overlapping_fragments);
    RUN(duplicate_keeps_first_copy_and_peek_consume);
    RUN(read_across_chunks);
    RUN(final_size_errors);
    RUN(flow_control_errors);
    RUN(crypto_buffer_cap);
    RUN(hostile_fragments_bounded);
    RUN(send_states_data);
    RUN(send_states_reset);
    RUN(recv_states_data);
    RUN(recv_states_reset);
    RUN(stop_sending_frame_until_size_known_or_reset);
    RUN(stream_ids);
    return test_report("stream");
}
