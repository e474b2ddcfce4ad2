/*
 * Seeds for the tcp_input fuzz target: scripts in the record layout that
 * tests/fuzz/tcp_input_fuzz.c describes at its top (keep the two in step).
 * Each walks a connection somewhere a fuzzer would take long to find alone:
 * a handshake, data both ways and both FINs (over IPv4 and IPv6); an RST in
 * the window and one at RCV.NXT; an out-of-order pair; an active open; a raw
 * SYN packet whose checksums the target fixes; a zero window with persist
 * probes; SACKed duplicate ACKs that start fast recovery; a handshake
 * completed through a SYN cookie.
 */
#include <string.h>

#include "corpus.h"
#include "tcp/segment.h"

/* Record kinds and fields, as the target reads them. */
enum { K_SEGMENT = 0, K_RAW = 3, K_APP = 4, K_CLOCK = 5, K_CONNECT = 6 };
enum { OP_V6 = 0x20, OP_RAW_FIX = 0x40, OP_RAW_NUMBERS = 0x80 };
enum { ACK_NXT = 0, ACK_UNA = 1, ACK_MAX = 2 };
enum { APP_SEND = 0, APP_SHUTDOWN = 2, APP_ABORT = 3, APP_READ_ALL = 6 };
enum { OPT_MSS = 1, OPT_WSCALE = 2, OPT_SACK_OK = 4, OPT_TS = 8 };
#define CFG0_8K_AUTOREAD 0x81 /* 8 KiB buffers; the application reads what arrives */
#define CFG1_MSL_1S 0x10
#define CFG1_COOKIES 0x80 /* MSS 536, SYN backlog 1 */

typedef struct script {
    uint8_t b[4096];
    size_t n;
    unsigned op; /* peer and family bits of the records */
} script;

static void b8(script *s, unsigned v)
{
    if (s->n < sizeof s->b) s->b[s->n++] = (uint8_t)v;
}
static void b16(script *s, unsigned v)
{
    b8(s, v >> 8), b8(s, v);
}

static void start(script *s, unsigned cfg0, unsigned cfg1, unsigned op)
{
    s->n = 0;
    s->op = op;
    b8(s, cfg0);
    b8(s, cfg1);
}

/* A segment with int8 seq and ack deltas, timestamps (TSval = the peer's
 * clock, TSecr = the stack's last), pattern payload of len bytes, and the
 * full SYN options when it carries SYN. */
static void seg(script *s, unsigned flags, int seq_delta, unsigned ack_base, int ack_delta,
                unsigned window, unsigned len, unsigned sack_blocks, const int *sack)
{
    b8(s, s->op | K_SEGMENT);
    b8(s, flags);
    b8(s, ack_base << 4 | (len ? 2u << 6 : 0)); /* seq and ack as int8 deltas */
    b8(s, (unsigned)seq_delta & 0xff);
    b8(s, (unsigned)ack_delta & 0xff);
    b16(s, window);
    unsigned opts = OPT_TS | sack_blocks << 4;
    if (flags & SKIFF_TCP_SYN) opts |= OPT_MSS | OPT_WSCALE | OPT_SACK_OK;
    b8(s, opts);
    if (opts & OPT_MSS) b16(s, 1460);
    if (opts & OPT_WSCALE) b8(s, 7);
    b8(s, 0); /* TSval delta */
    for (unsigned i = 0; i < sack_blocks; i++) {
        b16(s, (unsigned)sack[2 * i] & 0xffff);
        b16(s, (unsigned)sack[2 * i + 1]);
    }
    if (len) b16(s, len);
}

static void app(script *s, unsigned call, int arg)
{
    b8(s, s->op | K_APP);
    b8(s, call);
    if (arg >= 0) b16(s, (unsigned)arg);
}

/* The clock to the stack's next deadline. */
static void to_deadline(script *s)
{
    b8(s, K_CLOCK);
    b8(s, 1);
}
static void ms(script *s, unsigned n)
{
    b8(s, K_CLOCK);
    b8(s, 2);
    b16(s, n);
}

static void handshake(script *s)
{
    seg(s, SKIFF_TCP_SYN, 0, ACK_NXT, 0, 64240, 0, 0, NULL);
    seg(s, SKIFF_TCP_ACK, 0, ACK_NXT, 0, 502, 0, 0, NULL);
}

static void put(const script *s)
{
    corpus_write_seed("tcp_input", s->b, s->n);
}

static void full_exchange(script *s)
{
    handshake(s);
    seg(s, SKIFF_TCP_ACK | SKIFF_TCP_PSH, 0, ACK_NXT, 0, 502, 300, 0, NULL);
    app(s, APP_SEND, 2000);
    seg(s, SKIFF_TCP_ACK, 0, ACK_MAX, 0, 502, 0, 0, NULL);
    seg(s, SKIFF_TCP_ACK | SKIFF_TCP_FIN, 0, ACK_MAX, 0, 502, 0, 0, NULL);
    app(s, APP_SHUTDOWN, -1);
    seg(s, SKIFF_TCP_ACK, 1, ACK_MAX, 0, 502, 0, 0,
        NULL); /* after our FIN: seq past the peer's FIN */
    to_deadline(s);
}

void corpus_tcp_input_seeds(void)
{
    script s;
    /* Handshake, data both ways, the peer closes first, over IPv4 and IPv6. */
    start(&s, CFG0_8K_AUTOREAD, CFG1_MSL_1S, 0);
    full_exchange(&s);
    put(&s);
    start(&s, CFG0_8K_AUTOREAD, CFG1_MSL_1S, OP_V6 | 1u << 3);
    full_exchange(&s);
    put(&s);

    /* An RST inside the window (challenge ACK), then one at RCV.NXT (reset). */
    start(&s, CFG0_8K_AUTOREAD, 0, 0);
    handshake(&s);
    seg(&s, SKIFF_TCP_RST, 10, ACK_NXT, 0, 0, 0, 0, NULL);
    seg(&s, SKIFF_TCP_RST, 0, ACK_NXT, 0, 0, 0, 0, NULL);
    put(&s);

    /* Out of order: the second 100 bytes, then the first (a hole filled). */
    start(&s, 0x01, 0, 0); /* the application reads only when told */
    handshake(&s);
    seg(&s, SKIFF_TCP_ACK, 100, ACK_NXT, 0, 502, 100, 0, NULL);
    seg(&s, SKIFF_TCP_ACK, 0, ACK_NXT, 0, 502, 100, 0, NULL);
    app(&s, APP_READ_ALL, -1);
    put(&s);

    /* Active open to peer 2, data, then our abort. */
    start(&s, CFG0_8K_AUTOREAD, 0, 2u << 3);
    b8(&s, s.op | K_CONNECT);
    seg(&s, SKIFF_TCP_SYN | SKIFF_TCP_ACK, 0, ACK_NXT, 0, 64240, 0, 0, NULL);
    seg(&s, SKIFF_TCP_ACK | SKIFF_TCP_PSH, 0, ACK_NXT, 0, 502, 200, 0, NULL);
    app(&s, APP_SEND, 100);
    app(&s, APP_ABORT, -1);
    put(&s);

    /* A raw SYN whose addresses and checksums the target fixes, then ACK. */
    {
        skiff_tcp_segment syn = {0};
        syn.src.family = syn.dst.family = 4;
        syn.seq = 0x20000;
        syn.flags = SKIFF_TCP_SYN;
        syn.window = 65535;
        syn.opt = (skiff_tcp_options){.has_mss = true, .mss = 1400, .sack_permitted = true};
        uint8_t p[128];
        skiff_ssize n = skiff_tcp_segment_build(p, sizeof p, &syn);
        start(&s, CFG0_8K_AUTOREAD, 0, 0);
        if (n > 0) {
            b8(&s, K_RAW | OP_RAW_FIX);
            b16(&s, (unsigned)n);
            for (skiff_ssize i = 0; i < n; i++)
                b8(&s, p[i]);
        }
        seg(&s, SKIFF_TCP_ACK, 0, ACK_NXT, 0, 1000, 0, 0, NULL);
        put(&s);
    }

    /* A zero window: the stack's data waits, persist probes go out. */
    start(&s, CFG0_8K_AUTOREAD, 0, 0);
    seg(&s, SKIFF_TCP_SYN, 0, ACK_NXT, 0, 64240, 0, 0, NULL);
    seg(&s, SKIFF_TCP_ACK, 0, ACK_NXT, 0, 0, 0, 0, NULL);
    app(&s, APP_SEND, 3000);
    to_deadline(&s);
    to_deadline(&s);
    seg(&s, SKIFF_TCP_ACK, 0, ACK_UNA, 0, 502, 0, 0, NULL);
    put(&s);

    /* Fast recovery: 8 KB sent, the first segment lost, SACKs above it. */
    start(&s, CFG0_8K_AUTOREAD, 0, 0);
    handshake(&s);
    app(&s, APP_SEND, 8000);
    ms(&s, 20);
    for (int i = 1; i <= 3; i++) {
        int block[2] = {1448, 1448 * i};
        seg(&s, SKIFF_TCP_ACK, 0, ACK_UNA, 0, 502, 0, 1, block);
    }
    seg(&s, SKIFF_TCP_ACK, 0, ACK_MAX, 0, 502, 0, 0, NULL);
    put(&s);

    /* A SYN backlog of 1: peer 0's SYN fills it, peer 1 gets a SYN cookie
     * and completes the handshake with its ACK, then sends data. */
    start(&s, CFG0_8K_AUTOREAD, CFG1_COOKIES, 0);
    seg(&s, SKIFF_TCP_SYN, 0, ACK_NXT, 0, 64240, 0, 0, NULL);
    s.op = 1u << 3;
    seg(&s, SKIFF_TCP_SYN, 0, ACK_NXT, 0, 64240, 0, 0, NULL);
    seg(&s, SKIFF_TCP_ACK, 1, ACK_NXT, 0, 502, 0, 0,
        NULL); /* no connection: seq from the peer's ISN */
    seg(&s, SKIFF_TCP_ACK | SKIFF_TCP_PSH, 0, ACK_NXT, 0, 502, 100, 0, NULL);
    put(&s);
}
