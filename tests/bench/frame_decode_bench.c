/*
 * Frame decoding cost: a 1452-byte 1-RTT payload of ACK frames with several
 * ranges and STREAM frames, decoded frame by frame (with the packet-type
 * check, as the connection does) in a loop. Prints ns per packet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "quic/frame.h"

#define PACKET_LEN 1452

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ACK, then STREAM frames of 40..90 bytes, repeated; the last STREAM frame
 * takes the rest of the packet without a Length field. */
static size_t build(uint8_t *pkt)
{
    static uint8_t data[PACKET_LEN];
    size_t n = 0, round = 0;
    for (;;) {
        skiff_frame_ack_interval iv[6];
        uint64_t pn = 1000000 + round * 100;
        for (int i = 0; i < 6; i++) {
            iv[i].largest = pn;
            iv[i].smallest = pn - (uint64_t)(i % 3);
            pn = iv[i].smallest - 2 - (uint64_t)i;
        }
        skiff_ssize a =
            skiff_frame_ack_encode_intervals(pkt + n, PACKET_LEN - n, iv, 6, 25, NULL, NULL);
        if (a < 0) break;
        n += (size_t)a;
        for (int s = 0; s < 4; s++) {
            skiff_frame_stream st = {.stream_id = (uint64_t)(4 * s),
                                     .offset = 100000 + round * 1000,
                                     .data = data,
                                     .len = 40 + (size_t)(s * 17),
                                     .has_length = true};
            if (skiff_frame_stream_header_size(st.stream_id, st.offset, st.len, true) + st.len +
                    64 >
                PACKET_LEN - n) {
                st.has_length = false;
                st.len =
                    skiff_frame_stream_max_data(st.stream_id, st.offset, PACKET_LEN - n, false);
                n += (size_t)skiff_frame_stream_encode(pkt + n, PACKET_LEN - n, &st);
                return n;
            }
            n += (size_t)skiff_frame_stream_encode(pkt + n, PACKET_LEN - n, &st);
        }
        round++;
    }
    return n;
}

int main(void)
{
    uint8_t *pkt = malloc(PACKET_LEN);
    if (!pkt) return 1;
    size_t len = build(pkt);
    if (len != PACKET_LEN) {
        fprintf(stderr, "built %zu bytes\n", len);
        return 1;
    }

    size_t frames = 0;
    uint64_t sink = 0;
    const int iters = 2000000;
    uint64_t t0 = 0;
    for (int i = -iters / 10; i < iters; i++) { /* the first tenth warms up */
        if (i == 0) t0 = now_ns();
        size_t pos = 0, count = 0;
        while (pos < len) {
            skiff_frame f;
            skiff_ssize n = skiff_frame_decode_in(&f, pkt + pos, len - pos, SKIFF_PKT_1RTT);
            if (n <= 0) {
                fprintf(stderr, "decode failed at %zu: %zd\n", pos, n);
                return 1;
            }
            sink += f.type;
            pos += (size_t)n;
            count++;
        }
        frames = count;
    }
    uint64_t t1 = now_ns();
    printf("frame decode: %d-byte packet, %zu frames: %.1f ns/packet (%.2f ns/frame)\n", PACKET_LEN,
           frames, (double)(t1 - t0) / iters, (double)(t1 - t0) / iters / frames);
    free(pkt);
    return sink == 42; /* keeps the loop from being optimised away */
}
