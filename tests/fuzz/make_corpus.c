/*
 * Writes the fuzzers' seed corpus with the library's own encoders, so the
 * seeds always match the current wire format:
 *   DIR/packet/NN            byte 0 = short DCID length, then a datagram
 *   DIR/transport_params/NN  byte 0 = sender role, then the parameters
 * usage: fuzz_corpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpus.h"
#include "quic/frame.h"
#include "quic/packet_header.h"
#include "quic/packet_protection.h"
#include "quic/transport_params.h"

static const char *root;
static int seeds;

void corpus_write_seed(const char *target, const uint8_t *p, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/seed-%03d", root, target, seeds++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static const uint8_t cid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t token[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* One frame of each type, as a packet of type pt would carry them. */
static size_t sample_frames(uint8_t *out, size_t cap, skiff_packet_type pt)
{
    static const uint8_t data[40] = "GET /index.html\r\nHost: example\r\n";
    skiff_frame frames[24];
    size_t n = 0;
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_PING};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_CRYPTO,
                                .crypto = {.offset = 0, .data = data, .len = sizeof data}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_RESET_STREAM,
                                .reset_stream = {.stream_id = 4, .app_error_code = 0x10c, .final_size = 1000}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_STOP_SENDING,
                                .stop_sending = {.stream_id = 8, .app_error_code = 0x10b}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_NEW_TOKEN, .new_token = {token, sizeof token}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_MAX_DATA, .max_data = {1 << 20}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_MAX_STREAM_DATA,
                                .max_stream_data = {.stream_id = 0, .max = 65536}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_MAX_STREAMS_BIDI, .max_streams = {100, true}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_DATA_BLOCKED, .data_blocked = {4096}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_STREAM_DATA_BLOCKED,
                                .stream_data_blocked = {.stream_id = 4, .limit = 99}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_STREAMS_BLOCKED_UNI, .streams_blocked = {3, false}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_NEW_CONNECTION_ID,
                                .new_connection_id = {.seq = 2, .retire_prior_to = 1, .cid = cid,
                                                      .cid_len = 8, .reset_token = token}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_RETIRE_CONNECTION_ID, .retire_connection_id = {1}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_PATH_CHALLENGE,
                                .path_challenge = {{1, 2, 3, 4, 5, 6, 7, 8}}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_PATH_RESPONSE,
                                .path_response = {{8, 7, 6, 5, 4, 3, 2, 1}}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_HANDSHAKE_DONE};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_DATAGRAM_LEN,
                                .datagram = {.data = data, .len = 10, .has_length = true}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_STREAM | SKIFF_FRAME_STREAM_LEN | SKIFF_FRAME_STREAM_OFF,
                                .stream = {.stream_id = 0, .offset = 1000, .data = data, .len = 20,
                                           .has_length = true}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_CONNECTION_CLOSE_APP,
                                .connection_close = {.error_code = 0x42, .reason = data, .reason_len = 5,
                                                     .app = true}};
    frames[n++] = (skiff_frame){.type = SKIFF_FRAME_STREAM | SKIFF_FRAME_STREAM_FIN,
                                .stream = {.stream_id = 4, .data = data, .len = 12, .fin = true}};

    size_t off = 0;
    static const skiff_frame_ack_interval acked[] = {{90, 100}, {50, 80}, {10, 20}, {0, 5}};
    skiff_frame_ecn_counts ecn = {5, 0, 1};
    if (pt != SKIFF_PKT_0RTT) {
        skiff_ssize w = skiff_frame_ack_encode_intervals(out, cap, acked, 4, 1000, &ecn, NULL);
        if (w > 0) off += (size_t)w;
    }
    for (size_t i = 0; i < n; i++) {
        if (!skiff_frame_allowed(frames[i].type, pt)) continue;
        skiff_ssize w = skiff_frame_encode(out + off, cap - off, &frames[i]);
        if (w > 0) off += (size_t)w;
    }
    if (pt == SKIFF_PKT_INITIAL) {
        skiff_ssize w = skiff_frame_padding_encode(out + off, cap - off, 40);
        if (w > 0) off += (size_t)w;
    }
    return off;
}

/* Appends a packet of type pt with the sample frames as plaintext. */
static size_t add_packet(uint8_t *d, size_t cap, skiff_packet_type pt, uint32_t version)
{
    uint8_t payload[1500];
    size_t plen = sample_frames(payload, sizeof payload, pt);
    skiff_packet_header h = {.type = pt, .version = version, .dcid = cid, .dcid_len = 8,
                             .scid = cid, .scid_len = 4, .length = plen + 2};
    skiff_ssize hl = skiff_packet_header_encode(d, cap, &h, 0x1234, 2);
    if (hl < 0 || (size_t)hl + plen > cap) return 0;
    memcpy(d + hl, payload, plen);
    return (size_t)hl + plen;
}

static void packet_seeds(void)
{
    static const skiff_packet_type types[] = {SKIFF_PKT_INITIAL, SKIFF_PKT_0RTT,
                                              SKIFF_PKT_HANDSHAKE, SKIFF_PKT_1RTT};
    static const uint32_t versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2};
    uint8_t d[8192];
    for (size_t v = 0; v < 2; v++)
        for (size_t t = 0; t < 4; t++) {
            d[0] = 8;
            size_t n = 1 + add_packet(d + 1, sizeof d - 1, types[t], versions[v]);
            corpus_write_seed("packet", d, n);
        }
    /* A coalesced Initial + Handshake + 1-RTT datagram. */
    size_t n = 1;
    d[0] = 8;
    n += add_packet(d + n, sizeof d - n, SKIFF_PKT_INITIAL, SKIFF_QUIC_V1);
    n += add_packet(d + n, sizeof d - n, SKIFF_PKT_HANDSHAKE, SKIFF_QUIC_V1);
    n += add_packet(d + n, sizeof d - n, SKIFF_PKT_1RTT, SKIFF_QUIC_V1);
    corpus_write_seed("packet", d, n);

    const uint32_t vn_versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2, 0x0a1a2a3a};
    skiff_ssize vn = skiff_version_negotiation_encode(d + 1, sizeof d - 1, cid, 8, cid, 4,
                                                      vn_versions, 3, 0x2a);
    if (vn > 0) corpus_write_seed("packet", d, (size_t)vn + 1);

    skiff_packet_header retry = {.version = SKIFF_QUIC_V1, .dcid = cid, .dcid_len = 4,
                                 .scid = cid, .scid_len = 8, .token = token, .token_len = 16};
    skiff_ssize rl = skiff_retry_encode(d + 1, sizeof d - 1, &retry, 0);
    if (rl > 0) {
        memcpy(d + 1 + rl, token, 16); /* a tag-sized tail */
        corpus_write_seed("packet", d, (size_t)rl + 17);
    }
}

/* Protected client Initials, padded to 1200 bytes, as a client sends them. */
static void initial_seeds(void)
{
    static const uint32_t versions[] = {SKIFF_QUIC_V1, SKIFF_QUIC_V2};
    for (size_t v = 0; v < 2; v++) {
        uint8_t d[1200] = {0};
        skiff_packet_header h = {.type = SKIFF_PKT_INITIAL, .version = versions[v], .dcid = cid,
                                 .dcid_len = 8, .scid = cid, .scid_len = 4};
        h.length = 0; /* patched below, once the payload length is known */
        skiff_ssize hl = skiff_packet_header_encode(d, sizeof d, &h, 0, 2);
        size_t payload_len = sizeof d - (size_t)hl - SKIFF_PACKET_TAG_LEN;
        uint8_t payload[1200];
        size_t used = sample_frames(payload, sizeof payload, SKIFF_PKT_INITIAL);
        memset(payload + used, 0, payload_len - used); /* PADDING */
        memcpy(d + hl, payload, payload_len);
        skiff_packet_keys client = {0}, server = {0};
        if (hl < 0 || skiff_packet_header_patch_length(d, &h, 2 + payload_len + SKIFF_PACKET_TAG_LEN) ||
            skiff_packet_keys_initial(versions[v], cid, 8, &client, &server) ||
            skiff_packet_protect(&client, d, h.pn_offset, 2, 0, payload_len, sizeof d) != (skiff_ssize)sizeof d) {
            fprintf(stderr, "fuzz_corpus: cannot build a protected Initial\n");
            exit(1);
        }
        skiff_packet_keys_clear(&client);
        skiff_packet_keys_clear(&server);
        corpus_write_seed("initial", d, sizeof d);
    }
}

static void transport_params_seeds(void)
{
    skiff_transport_params tp;
    skiff_transport_params_init_default(&tp);
    tp.max_idle_timeout = 30000;
    tp.initial_max_data = 1 << 20;
    tp.initial_max_stream_data_bidi_local = 1 << 18;
    tp.initial_max_stream_data_bidi_remote = 1 << 18;
    tp.initial_max_stream_data_uni = 1 << 18;
    tp.initial_max_streams_bidi = 100;
    tp.initial_max_streams_uni = 3;
    tp.max_udp_payload_size = 1452;
    tp.active_connection_id_limit = 4;
    tp.has_initial_source_connection_id = true;
    tp.initial_source_connection_id.len = 8;
    memcpy(tp.initial_source_connection_id.data, cid, 8);
    tp.has_max_datagram_frame_size = true;
    tp.max_datagram_frame_size = 65535;
    tp.has_version_information = true;
    tp.version_information.chosen_version = SKIFF_QUIC_V1;
    tp.version_information.available[0] = SKIFF_QUIC_V1;
    tp.version_information.available[1] = SKIFF_QUIC_V2;
    tp.version_information.available_count = 2;

    uint8_t buf[1 + SKIFF_TRANSPORT_PARAMS_MAX_LEN];
    buf[0] = 0;
    skiff_ssize n = skiff_transport_params_encode(buf + 1, sizeof buf - 1, &tp, SKIFF_ROLE_CLIENT, 7);
    if (n > 0) corpus_write_seed("transport_params", buf, (size_t)n + 1);

    tp.has_original_destination_connection_id = true;
    tp.original_destination_connection_id = tp.initial_source_connection_id;
    tp.has_stateless_reset_token = true;
    memcpy(tp.stateless_reset_token, token, 16);
    tp.has_preferred_address = true;
    tp.preferred_address.ipv4[0] = 127, tp.preferred_address.ipv4[3] = 1;
    tp.preferred_address.ipv4_port = 4433;
    tp.preferred_address.cid = tp.initial_source_connection_id;
    memcpy(tp.preferred_address.stateless_reset_token, token, 16);
    buf[0] = 1;
    n = skiff_transport_params_encode(buf + 1, sizeof buf - 1, &tp, SKIFF_ROLE_SERVER, 11);
    if (n > 0) corpus_write_seed("transport_params", buf, (size_t)n + 1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_corpus DIR\n");
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0755) != 0 && errno != EEXIST) {
        perror(root);
        return 1;
    }
    packet_seeds();
    transport_params_seeds();
    initial_seeds();
    corpus_qpack_seeds();
    corpus_h3_frame_seeds();
    corpus_h3_conn_seeds();
    corpus_tcp_seeds();
    corpus_tcp_input_seeds();
    printf("fuzz_corpus: %d seeds in %s\n", seeds, root);
    return 0;
}
