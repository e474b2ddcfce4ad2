/*
 * Seeds for the tcp_segment fuzz target: whole IPv4 and IPv6 packets as a
 * TUN device delivers them, written by the library's own segment builder,
 * one of each common kind (SYN with every option, SYN-ACK, data with
 * timestamps, SACK, FIN, RST, urgent data), plus a packet that is not TCP.
 */
#include <string.h>

#include "corpus.h"
#include "tcp/segment.h"

static void put(const skiff_tcp_segment *s)
{
    uint8_t buf[2048];
    skiff_ssize n = skiff_tcp_segment_build(buf, sizeof buf, s);
    if (n > 0) corpus_write_seed("tcp_segment", buf, (size_t)n);
}

void corpus_tcp_seeds(void)
{
    static const uint8_t data[600] = "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n";
    for (int family = 4; family <= 6; family += 2) {
        skiff_tcp_segment s = {0};
        s.src.family = s.dst.family = (uint8_t)family;
        if (family == 4) {
            memcpy(s.src.ip, "\x0a\x00\x00\x02", 4);
            memcpy(s.dst.ip, "\x0a\x00\x00\x01", 4);
        } else {
            memcpy(s.src.ip, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
            memcpy(s.dst.ip, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
        }
        s.src.port = 45678;
        s.dst.port = 8080;
        s.seq = 0x9c3e5a21;
        s.window = 64240;
        s.flags = SKIFF_TCP_SYN;
        s.opt = (skiff_tcp_options){.has_mss = true, .mss = family == 4 ? 1460 : 1440,
                                    .sack_permitted = true, .has_timestamps = true,
                                    .ts_val = 0x003d1e5f, .has_wscale = true, .wscale = 7};
        put(&s);
        s.flags = SKIFF_TCP_SYN | SKIFF_TCP_ACK;
        s.ack = 0x11223344;
        s.opt.ts_ecr = 0x003d1e5f;
        put(&s);

        s.flags = SKIFF_TCP_ACK | SKIFF_TCP_PSH;
        s.opt = (skiff_tcp_options){.has_timestamps = true, .ts_val = 1000, .ts_ecr = 2000};
        s.payload = data;
        s.payload_len = sizeof data;
        put(&s);
        s.payload_len = 0;
        s.flags = SKIFF_TCP_ACK;
        s.opt.sack_count = 3;
        for (uint32_t b = 0; b < 3; b++) {
            s.opt.sack[b].left = s.ack + 2000 * (b + 1);
            s.opt.sack[b].right = s.ack + 2000 * (b + 1) + 1000;
        }
        put(&s);
        s.opt.sack_count = 0;
        s.flags = SKIFF_TCP_FIN | SKIFF_TCP_ACK;
        put(&s);
        s.opt = (skiff_tcp_options){0};
        s.flags = SKIFF_TCP_RST;
        s.window = 0;
        put(&s);
        s.flags = SKIFF_TCP_URG | SKIFF_TCP_ACK | SKIFF_TCP_PSH;
        s.payload = data;
        s.payload_len = 20;
        s.urgent = 5;
        put(&s);
    }
    /* An ICMPv6 router solicitation: NOT_TCP. */
    static const uint8_t rs[56] = {0x60, 0, 0, 0, 0, 16, 58, 255, 0xfe, 0x80, [23] = 1,
                                   0xff, 0x02, [39] = 2, 133, 0, 0x7d, 0x11, [48] = 1, 1, 2,
                                   [55] = 1};
    corpus_write_seed("tcp_segment", rs, sizeof rs);
}
