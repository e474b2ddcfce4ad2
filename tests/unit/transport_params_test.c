/* Transport parameters (RFC 9000 §7.4, §18; RFC 9221, RFC 9368, RFC 9287). */
#include "common/varint.h"
#include "common/wire.h"
#include "quic/transport_params.h"
#include "test.h"

#define V1 SKIFF_QUIC_V1
#define V2 SKIFF_QUIC_V2

/* ---- helpers ----------------------------------------------------------- */

/* Decodes hex through an exact-size heap copy, so ASan sees any over-read. */
static int decode_hex(const char *hexstr, skiff_role sender, skiff_transport_params *tp)
{
    uint8_t buf[2048];
    size_t n = test_hex(hexstr, buf, sizeof buf);
    uint8_t *exact = test_dup_exact(buf, n);
    int rc = skiff_transport_params_decode(tp, exact, n, sender);
    free(exact);
    return rc;
}

static int decode_exact(const uint8_t *p, size_t n, skiff_role sender, skiff_transport_params *tp)
{
    uint8_t *exact = test_dup_exact(p, n);
    int rc = skiff_transport_params_decode(tp, exact, n, sender);
    free(exact);
    return rc;
}

/* Walks an encoding (which the test trusts) and lists its IDs and the
 * offsets where each parameter ends. Returns the parameter count. */
static size_t walk(const uint8_t *p, size_t n, uint64_t *ids, size_t *ends, size_t max)
{
    skiff_reader r = skiff_reader_make(p, n);
    size_t count = 0;
    while (skiff_reader_left(&r) > 0 && count < max) {
        uint64_t id, len;
        const uint8_t *v;
        if (skiff_reader_varint(&r, &id) || skiff_reader_varint(&r, &len) ||
            skiff_reader_bytes(&r, (size_t)len, &v))
            abort();
        ids[count] = id;
        ends[count] = (size_t)(r.pos - p);
        count++;
    }
    return count;
}

static bool has_id(const uint64_t *ids, size_t count, uint64_t id)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] == id) return true;
    return false;
}

static void check_cid(const skiff_tp_cid *a, const skiff_tp_cid *b)
{
    CHECK_EQ(a->len, b->len);
    CHECK_MEM(a->data, b->data, a->len <= 20 ? a->len : 20);
}

/* Field-by-field equality (the structs may differ in padding). */
static void check_same(const skiff_transport_params *a, const skiff_transport_params *b)
{
    CHECK_U64(a->max_idle_timeout, b->max_idle_timeout);
    CHECK_U64(a->max_udp_payload_size, b->max_udp_payload_size);
    CHECK_U64(a->initial_max_data, b->initial_max_data);
    CHECK_U64(a->initial_max_stream_data_bidi_local, b->initial_max_stream_data_bidi_local);
    CHECK_U64(a->initial_max_stream_data_bidi_remote, b->initial_max_stream_data_bidi_remote);
    CHECK_U64(a->initial_max_stream_data_uni, b->initial_max_stream_data_uni);
    CHECK_U64(a->initial_max_streams_bidi, b->initial_max_streams_bidi);
    CHECK_U64(a->initial_max_streams_uni, b->initial_max_streams_uni);
    CHECK_U64(a->ack_delay_exponent, b->ack_delay_exponent);
    CHECK_U64(a->max_ack_delay, b->max_ack_delay);
    CHECK_U64(a->active_connection_id_limit, b->active_connection_id_limit);
    CHECK_EQ(a->has_max_datagram_frame_size, b->has_max_datagram_frame_size);
    if (a->has_max_datagram_frame_size)
        CHECK_U64(a->max_datagram_frame_size, b->max_datagram_frame_size);
    CHECK_EQ(a->disable_active_migration, b->disable_active_migration);
    CHECK_EQ(a->grease_quic_bit, b->grease_quic_bit);

    CHECK_EQ(a->has_original_destination_connection_id,
             b->has_original_destination_connection_id);
    if (a->has_original_destination_connection_id)
        check_cid(&a->original_destination_connection_id,
                  &b->original_destination_connection_id);
    CHECK_EQ(a->has_initial_source_connection_id, b->has_initial_source_connection_id);
    if (a->has_initial_source_connection_id)
        check_cid(&a->initial_source_connection_id, &b->initial_source_connection_id);
    CHECK_EQ(a->has_retry_source_connection_id, b->has_retry_source_connection_id);
    if (a->has_retry_source_connection_id)
        check_cid(&a->retry_source_connection_id, &b->retry_source_connection_id);
    CHECK_EQ(a->has_stateless_reset_token, b->has_stateless_reset_token);
    if (a->has_stateless_reset_token)
        CHECK_MEM(a->stateless_reset_token, b->stateless_reset_token, 16);
    CHECK_EQ(a->has_preferred_address, b->has_preferred_address);
    if (a->has_preferred_address) {
        const skiff_tp_preferred_address *x = &a->preferred_address, *y = &b->preferred_address;
        CHECK_MEM(x->ipv4, y->ipv4, 4);
        CHECK_EQ(x->ipv4_port, y->ipv4_port);
        CHECK_MEM(x->ipv6, y->ipv6, 16);
        CHECK_EQ(x->ipv6_port, y->ipv6_port);
        check_cid(&x->cid, &y->cid);
        CHECK_MEM(x->stateless_reset_token, y->stateless_reset_token, 16);
    }
    CHECK_EQ(a->has_version_information, b->has_version_information);
    if (a->has_version_information) {
        const skiff_tp_version_information *x = &a->version_information,
                                           *y = &b->version_information;
        CHECK_U64(x->chosen_version, y->chosen_version);
        CHECK_EQ(x->available_count, y->available_count);
        for (size_t i = 0; i < x->available_count && i < y->available_count; i++)
            CHECK_U64(x->available[i], y->available[i]);
    }
}

static void set_cid(skiff_tp_cid *cid, uint8_t first, uint8_t len)
{
    cid->len = len;
    for (uint8_t i = 0; i < len; i++) cid->data[i] = (uint8_t)(first + i);
}

/* Every parameter away from its default, as a server would send them. */
static void fill_all(skiff_transport_params *tp)
{
    skiff_transport_params_init_default(tp);
    tp->has_original_destination_connection_id = true;
    set_cid(&tp->original_destination_connection_id, 0x01, 8);
    tp->max_idle_timeout = 30000;
    tp->has_stateless_reset_token = true;
    for (int i = 0; i < 16; i++) tp->stateless_reset_token[i] = (uint8_t)(0xa0 + i);
    tp->max_udp_payload_size = 1472;
    tp->initial_max_data = 1048576;
    tp->initial_max_stream_data_bidi_local = 262144;
    tp->initial_max_stream_data_bidi_remote = 131072;
    tp->initial_max_stream_data_uni = 65536;
    tp->initial_max_streams_bidi = 100;
    tp->initial_max_streams_uni = 3;
    tp->ack_delay_exponent = 10;
    tp->max_ack_delay = 40;
    tp->disable_active_migration = true;
    tp->has_preferred_address = true;
    skiff_tp_preferred_address *pa = &tp->preferred_address;
    memcpy(pa->ipv4, "\xc0\x00\x02\x01", 4); /* 192.0.2.1 */
    pa->ipv4_port = 4433;
    memcpy(pa->ipv6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16); /* 2001:db8::1 */
    pa->ipv6_port = 4434;
    set_cid(&pa->cid, 0xc1, 4);
    for (int i = 0; i < 16; i++) pa->stateless_reset_token[i] = (uint8_t)(0xb0 + i);
    tp->active_connection_id_limit = 8;
    tp->has_initial_source_connection_id = true;
    set_cid(&tp->initial_source_connection_id, 0x11, 5);
    tp->has_retry_source_connection_id = true;
    set_cid(&tp->retry_source_connection_id, 0x21, 6);
    tp->has_version_information = true;
    tp->version_information.chosen_version = V1;
    tp->version_information.available[0] = V1;
    tp->version_information.available[1] = V2;
    tp->version_information.available_count = 2;
    tp->version_information.available_total = 2;
    tp->has_max_datagram_frame_size = true;
    tp->max_datagram_frame_size = 65535;
    tp->grease_quic_bit = true;
}

/* fill_all() as a server encodes it with no grease, worked out by hand. */
static const char fill_all_server_hex[] =
    "00 08 0102030405060708"
    "01 04 80007530"
    "02 10 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
    "03 02 45c0"
    "04 04 80100000"
    "05 04 80040000"
    "06 04 80020000"
    "07 04 80010000"
    "08 02 4064"
    "09 01 03"
    "0a 01 0a"
    "0b 01 28"
    "0c 00"
    "0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
    "      b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "0e 01 08"
    "0f 05 1112131415"
    "10 06 212223242526"
    "11 0c 00000001 00000001 6b3343cf"
    "20 04 8000ffff"
    "6ab2 00";

/* Encodes into an exact-size heap buffer, so ASan sees any over-write. */
static skiff_ssize encode_exact(uint8_t *out, size_t cap, const skiff_transport_params *tp,
                                skiff_role sender, uint64_t seed)
{
    uint8_t *exact = malloc(cap ? cap : 1);
    if (!exact) abort();
    skiff_ssize n = skiff_transport_params_encode(exact, cap, tp, sender, seed);
    if (n > 0) memcpy(out, exact, (size_t)n);
    free(exact);
    return n;
}

/* ---- defaults ---------------------------------------------------------- */

static void defaults_are_the_rfc_ones(void)
{
    skiff_transport_params tp;
    memset(&tp, 0x5a, sizeof tp);
    skiff_transport_params_init_default(&tp);
    CHECK_U64(tp.max_udp_payload_size, 65527);
    CHECK_U64(tp.ack_delay_exponent, 3);
    CHECK_U64(tp.max_ack_delay, 25);
    CHECK_U64(tp.active_connection_id_limit, 2);
    CHECK_U64(tp.max_idle_timeout, 0);
    CHECK_U64(tp.initial_max_data, 0);
    CHECK_U64(tp.initial_max_streams_bidi, 0);
    CHECK_U64(tp.max_datagram_frame_size, 0);
    CHECK(!tp.disable_active_migration);
    CHECK(!tp.grease_quic_bit);
    CHECK(!tp.has_original_destination_connection_id);
    CHECK(!tp.has_initial_source_connection_id);
    CHECK(!tp.has_retry_source_connection_id);
    CHECK(!tp.has_stateless_reset_token);
    CHECK(!tp.has_preferred_address);
    CHECK(!tp.has_version_information);
    CHECK(!tp.has_max_datagram_frame_size);

    /* Defaults encode to nothing; nothing decodes to the defaults. */
    uint8_t out[16];
    CHECK_EQ(skiff_transport_params_encode(out, sizeof out, &tp, SKIFF_ROLE_CLIENT, 0), 0);
    CHECK_EQ(skiff_transport_params_encode(out, sizeof out, &tp, SKIFF_ROLE_SERVER, 0), 0);
    CHECK_EQ(skiff_transport_params_encode(NULL, 0, &tp, SKIFF_ROLE_SERVER, 0), 0);
    skiff_transport_params got;
    memset(&got, 0x5a, sizeof got);
    CHECK_EQ(skiff_transport_params_decode(&got, NULL, 0, SKIFF_ROLE_SERVER), 0);
    check_same(&got, &tp);
}

/* ---- round trips ------------------------------------------------------- */

static void server_round_trip_every_parameter(void)
{
    skiff_transport_params tp, got;
    fill_all(&tp);
    uint8_t expect[512], out[512];
    size_t expect_len = test_hex(fill_all_server_hex, expect, sizeof expect);
    skiff_ssize n = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_SERVER, 0);
    CHECK_EQ(n, (skiff_ssize)expect_len);
    CHECK_MEM(out, expect, expect_len);

    CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_SERVER, &got), 0);
    check_same(&got, &tp);
    CHECK_EQ(got.version_information.available_total, 2);

    /* A server-only parameter in it: a client could never have sent this. */
    CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_CLIENT, &got),
             SKIFF_ERR_TRANSPORT_PARAMETER);
}

static void client_round_trip_drops_server_only_parameters(void)
{
    skiff_transport_params tp, got, expect;
    fill_all(&tp);
    uint8_t out[512];
    skiff_ssize n = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_CLIENT, 0);
    CHECK(n > 0);
    uint64_t ids[64];
    size_t ends[64];
    size_t count = walk(out, (size_t)n, ids, ends, 64);
    CHECK_EQ(count, 16); /* 20 known, less the 4 server-only ones */
    CHECK(!has_id(ids, count, SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID));
    CHECK(!has_id(ids, count, SKIFF_TP_STATELESS_RESET_TOKEN));
    CHECK(!has_id(ids, count, SKIFF_TP_PREFERRED_ADDRESS));
    CHECK(!has_id(ids, count, SKIFF_TP_RETRY_SOURCE_CONNECTION_ID));
    /* The server's encoding is the client's plus those four parameters. */
    uint8_t server[512];
    size_t server_len = test_hex(fill_all_server_hex, server, sizeof server);
    CHECK_EQ(n, (skiff_ssize)(server_len - (2 + 8) - (2 + 16) - (2 + 45) - (2 + 6)));

    CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_CLIENT, &got), 0);
    expect = tp;
    expect.has_original_destination_connection_id = false;
    expect.has_stateless_reset_token = false;
    expect.has_preferred_address = false;
    expect.has_retry_source_connection_id = false;
    check_same(&got, &expect);
    CHECK_EQ(got.max_idle_timeout, 30000);
    CHECK_EQ(got.initial_source_connection_id.len, 5);
    CHECK_EQ(got.initial_source_connection_id.data[4], 0x15);
}

static void boundary_values_round_trip(void)
{
    /* Largest legal integers, 20-byte CIDs everywhere, an IPv6-only
     * preferred address, the most versions we keep. */
    skiff_transport_params tp, got;
    skiff_transport_params_init_default(&tp);
    tp.max_idle_timeout = SKIFF_VARINT_MAX;
    tp.max_udp_payload_size = SKIFF_VARINT_MAX;
    tp.initial_max_data = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_bidi_local = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_bidi_remote = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_uni = SKIFF_VARINT_MAX;
    tp.initial_max_streams_bidi = UINT64_C(1) << 60;
    tp.initial_max_streams_uni = UINT64_C(1) << 60;
    tp.ack_delay_exponent = 20;
    tp.max_ack_delay = 16383;
    tp.active_connection_id_limit = SKIFF_VARINT_MAX;
    tp.has_max_datagram_frame_size = true;
    tp.max_datagram_frame_size = SKIFF_VARINT_MAX;
    tp.disable_active_migration = true;
    tp.grease_quic_bit = true;
    tp.has_original_destination_connection_id = true;
    set_cid(&tp.original_destination_connection_id, 0x40, 20);
    tp.has_initial_source_connection_id = true;
    set_cid(&tp.initial_source_connection_id, 0x60, 20);
    tp.has_retry_source_connection_id = true;
    set_cid(&tp.retry_source_connection_id, 0x80, 20);
    tp.has_stateless_reset_token = true;
    memset(tp.stateless_reset_token, 0xff, 16);
    tp.has_preferred_address = true;
    memset(tp.preferred_address.ipv4, 0, 4); /* no IPv4 address: 0.0.0.0:0 */
    tp.preferred_address.ipv4_port = 0;
    memcpy(tp.preferred_address.ipv6, "\xfe\x80\0\0\0\0\0\0\x02\x11\x22\xff\xfe\x33\x44\x55", 16);
    tp.preferred_address.ipv6_port = 65535;
    set_cid(&tp.preferred_address.cid, 0xe0, 20);
    memset(tp.preferred_address.stateless_reset_token, 0x77, 16);
    tp.has_version_information = true;
    tp.version_information.chosen_version = V2;
    for (uint32_t i = 0; i < SKIFF_TP_MAX_AVAILABLE_VERSIONS; i++)
        tp.version_information.available[i] = i == 7 ? V2 : 0x0a0a0a0au + i * 0x10101010u;
    tp.version_information.available_count = SKIFF_TP_MAX_AVAILABLE_VERSIONS;

    /* Every seed: the grease parameter is ignored and the bound holds. */
    for (uint64_t seed = 0; seed < 64; seed++) {
        uint8_t out[SKIFF_TRANSPORT_PARAMS_MAX_LEN];
        skiff_ssize n = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_SERVER, seed * 7919);
        CHECK(n > 0 && n <= SKIFF_TRANSPORT_PARAMS_MAX_LEN);
        if (n <= 0) continue;
        CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_SERVER, &got), 0);
        check_same(&got, &tp);
        CHECK_EQ(got.version_information.available_total, SKIFF_TP_MAX_AVAILABLE_VERSIONS);
    }

    /* Zero-length CIDs (legal without a preferred address), the smallest
     * legal max_udp_payload_size, a server with an empty version list. */
    skiff_transport_params_init_default(&tp);
    tp.max_udp_payload_size = 1200;
    tp.ack_delay_exponent = 0;
    tp.max_ack_delay = 0;
    tp.has_original_destination_connection_id = true;
    tp.has_initial_source_connection_id = true;
    tp.has_retry_source_connection_id = true;
    tp.has_max_datagram_frame_size = true; /* present with 0: "no DATAGRAM frames" */
    tp.has_version_information = true;
    tp.version_information.chosen_version = V1;
    uint8_t out[64];
    skiff_ssize n = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_SERVER, 0);
    static const uint8_t zero_cids[] = {0x00, 0x00, 0x03, 0x02, 0x44, 0xb0, 0x0a, 0x01, 0x00,
                                        0x0b, 0x01, 0x00, 0x0f, 0x00, 0x10, 0x00, 0x11, 0x04,
                                        0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00};
    CHECK_EQ(n, sizeof zero_cids);
    CHECK_MEM(out, zero_cids, sizeof zero_cids);
    CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_SERVER, &got), 0);
    check_same(&got, &tp);
    CHECK_EQ(got.initial_source_connection_id.len, 0);
    CHECK_EQ(got.version_information.available_count, 0);
}

static void encode_reports_a_short_buffer_at_every_size(void)
{
    skiff_transport_params tp;
    fill_all(&tp);
    uint8_t full[512];
    skiff_ssize n = encode_exact(full, sizeof full, &tp, SKIFF_ROLE_SERVER, 99);
    CHECK(n > 0);
    for (size_t cap = 0; cap < (size_t)n; cap++) {
        uint8_t out[512];
        CHECK_EQ(encode_exact(out, cap, &tp, SKIFF_ROLE_SERVER, 99), SKIFF_ERR_BUFFER_TOO_SMALL);
    }
    uint8_t again[512];
    CHECK_EQ(encode_exact(again, (size_t)n, &tp, SKIFF_ROLE_SERVER, 99), n);
    CHECK_MEM(again, full, (size_t)n);
    CHECK_EQ(skiff_transport_params_encode(NULL, 0, &tp, SKIFF_ROLE_SERVER, 0),
             SKIFF_ERR_BUFFER_TOO_SMALL);
}

static void encode_refuses_what_a_peer_would_reject(void)
{
    skiff_transport_params tp;
    uint8_t out[512];
#define REFUSED(sender, mutate)                                                          \
    do {                                                                                 \
        fill_all(&tp);                                                                   \
        mutate;                                                                          \
        CHECK_EQ(skiff_transport_params_encode(out, sizeof out, &tp, sender, 0),         \
                 SKIFF_ERR_INVALID_ARGUMENT);                                            \
    } while (0)
    REFUSED(SKIFF_ROLE_SERVER, tp.max_udp_payload_size = 1199);
    REFUSED(SKIFF_ROLE_SERVER, tp.ack_delay_exponent = 21);
    REFUSED(SKIFF_ROLE_SERVER, tp.max_ack_delay = 16384);
    REFUSED(SKIFF_ROLE_SERVER, tp.active_connection_id_limit = 1);
    REFUSED(SKIFF_ROLE_SERVER, tp.initial_max_streams_bidi = (UINT64_C(1) << 60) + 1);
    REFUSED(SKIFF_ROLE_SERVER, tp.initial_max_streams_uni = (UINT64_C(1) << 60) + 1);
    REFUSED(SKIFF_ROLE_SERVER, tp.initial_max_data = SKIFF_VARINT_MAX + 1);
    REFUSED(SKIFF_ROLE_CLIENT, (tp.has_max_datagram_frame_size = false,
                                tp.max_datagram_frame_size = UINT64_MAX));
    REFUSED(SKIFF_ROLE_SERVER, tp.original_destination_connection_id.len = 21);
    REFUSED(SKIFF_ROLE_CLIENT, tp.initial_source_connection_id.len = 21);
    REFUSED(SKIFF_ROLE_SERVER, tp.retry_source_connection_id.len = 21);
    REFUSED(SKIFF_ROLE_SERVER, tp.preferred_address.cid.len = 0);
    REFUSED(SKIFF_ROLE_SERVER, tp.preferred_address.cid.len = 21);
    REFUSED(SKIFF_ROLE_SERVER, tp.initial_source_connection_id.len = 0);
    REFUSED(SKIFF_ROLE_SERVER, tp.version_information.chosen_version = 0);
    REFUSED(SKIFF_ROLE_SERVER, tp.version_information.available[1] = 0);
    REFUSED(SKIFF_ROLE_SERVER, tp.version_information.available_count = 17);
    REFUSED(SKIFF_ROLE_CLIENT, tp.version_information.chosen_version = 0x1a2a3a4a);
#undef REFUSED
    /* What a client does not send is not checked: it is never written. */
    fill_all(&tp);
    tp.retry_source_connection_id.len = 200;
    tp.preferred_address.cid.len = 0;
    CHECK(skiff_transport_params_encode(out, sizeof out, &tp, SKIFF_ROLE_CLIENT, 0) > 0);
    /* A server's Chosen Version need not be in its list (RFC 9368 §3). */
    fill_all(&tp);
    tp.version_information.chosen_version = 0x1a2a3a4a;
    CHECK(skiff_transport_params_encode(out, sizeof out, &tp, SKIFF_ROLE_SERVER, 0) > 0);
}

/* ---- grease ------------------------------------------------------------ */

static void grease_is_one_reserved_parameter_and_varies_with_the_seed(void)
{
    skiff_transport_params tp, got;
    fill_all(&tp);
    uint8_t plain[512];
    skiff_ssize plain_len = encode_exact(plain, sizeof plain, &tp, SKIFF_ROLE_SERVER, 0);
    uint64_t ids[64];
    size_t ends[64];
    CHECK_EQ(walk(plain, (size_t)plain_len, ids, ends, 64), 20);

    bool id_len_seen[9] = {false};
    bool first_seen = false, last_seen = false, empty_seen = false;
    uint64_t first_id = 0;
    bool ids_differ = false;
    for (uint64_t seed = 1; seed <= 500; seed++) {
        uint8_t out[512];
        skiff_ssize n = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_SERVER, seed);
        CHECK(n > plain_len);
        if (n <= plain_len) continue;
        size_t count = walk(out, (size_t)n, ids, ends, 64);
        CHECK_EQ(count, 21);
        size_t grease = 0, at = 0;
        for (size_t i = 0; i < count; i++) {
            if (ids[i] % 31 == 27) {
                grease++;
                at = i;
            }
        }
        CHECK_EQ(grease, 1);
        uint64_t gid = ids[at];
        size_t gstart = at ? ends[at - 1] : 0;
        size_t gid_len = skiff_varint_len(gid);
        size_t glen = ends[at] - gstart - gid_len - 1;
        CHECK(glen <= 16);
        if (glen == 0) empty_seen = true;
        id_len_seen[gid_len] = true;
        if (at == 0) first_seen = true;
        if (at == count - 1) last_seen = true;
        if (seed == 1) first_id = gid;
        else if (gid != first_id) ids_differ = true;
        /* The rest is the seed-0 encoding, byte for byte. */
        CHECK_EQ(n - (skiff_ssize)(ends[at] - gstart), plain_len);
        CHECK_MEM(out, plain, gstart);
        CHECK_MEM(out + ends[at], plain + gstart, (size_t)n - ends[at]);
        CHECK_EQ(decode_exact(out, (size_t)n, SKIFF_ROLE_SERVER, &got), 0);
        check_same(&got, &tp);
    }
    CHECK(id_len_seen[1] && id_len_seen[2] && id_len_seen[4] && id_len_seen[8]);
    CHECK(first_seen && last_seen && empty_seen && ids_differ);

    /* The same seed gives the same bytes. */
    uint8_t a[512], b[512];
    skiff_ssize na = encode_exact(a, sizeof a, &tp, SKIFF_ROLE_CLIENT, 12345);
    CHECK_EQ(encode_exact(b, sizeof b, &tp, SKIFF_ROLE_CLIENT, 12345), na);
    CHECK_MEM(a, b, (size_t)na);
}

static void unknown_and_grease_parameters_are_ignored(void)
{
    skiff_transport_params tp;
    CHECK_EQ(decode_hex("1b 00"                          /* grease 27, empty */
                        "01 02 4064"                     /* max_idle_timeout 100 */
                        "3a 03 010203"                   /* grease 58 */
                        "21 01 05"                       /* unknown 0x21 */
                        "80007933 02 ffff"               /* grease 31*1000+27, 4-byte id */
                        "bf00de1a 00"                    /* unknown 0x3f00de1a */
                        "c000000000001002 04 00000000"   /* unknown, 8-byte id */
                        "6ab3 00"                        /* unknown 0x2ab3 */
                        "4008 01 07",                    /* non-minimal id 8 */
                        SKIFF_ROLE_CLIENT, &tp),
             0);
    CHECK_U64(tp.max_idle_timeout, 100);
    CHECK_U64(tp.initial_max_streams_bidi, 7);
    CHECK(!tp.grease_quic_bit);
    CHECK_U64(tp.max_udp_payload_size, 65527);
    CHECK_U64(tp.initial_max_data, 0);
    CHECK(!tp.has_max_datagram_frame_size);

    /* 64 parameters are accepted, 65 are not. */
    uint8_t blob[3 * 65];
    size_t n = 0;
    for (uint64_t i = 0; i < 65; i++) {
        uint64_t id = 31 * (i + 2) + 27; /* 2-byte varints */
        n = (size_t)(skiff_varint_encode(blob + n, id) - blob);
        blob[n++] = 0;
    }
    CHECK_EQ(decode_exact(blob, n - 3, SKIFF_ROLE_SERVER, &tp), 0);
    CHECK_EQ(decode_exact(blob, n, SKIFF_ROLE_SERVER, &tp), SKIFF_ERR_TRANSPORT_PARAMETER);
}

/* ---- RFC 9001 Appendix A.2 --------------------------------------------- */

/* The CRYPTO frame of the client Initial in RFC 9001 Appendix A.2. */
static const char rfc9001_a2_crypto_frame[] =
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff";

/* Finds the quic_transport_parameters extension (0x39, RFC 9001 §8.2) in
 * the ClientHello inside the frame. */
static bool find_extension_0x39(const uint8_t *frame, size_t n, const uint8_t **ext,
                                size_t *ext_len)
{
    skiff_reader r = skiff_reader_make(frame, n);
    uint64_t type, offset, len;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    const uint8_t *p;
    if (skiff_reader_varint(&r, &type) || type != 0x06 || skiff_reader_varint(&r, &offset) ||
        skiff_reader_varint(&r, &len) || len != skiff_reader_left(&r))
        return false;
    if (skiff_reader_u32(&r, &u32) || u32 >> 24 != 0x01) return false; /* ClientHello */
    if (skiff_reader_bytes(&r, 2 + 32, &p)) return false; /* legacy_version, random */
    if (skiff_reader_u8(&r, &u8) || skiff_reader_bytes(&r, u8, &p)) return false;
    if (skiff_reader_u16(&r, &u16) || skiff_reader_bytes(&r, u16, &p)) return false;
    if (skiff_reader_u8(&r, &u8) || skiff_reader_bytes(&r, u8, &p)) return false;
    if (skiff_reader_u16(&r, &u16) || u16 != skiff_reader_left(&r)) return false;
    while (skiff_reader_left(&r) > 0) {
        uint16_t ext_type, elen;
        if (skiff_reader_u16(&r, &ext_type) || skiff_reader_u16(&r, &elen) ||
            skiff_reader_bytes(&r, elen, &p))
            return false;
        if (ext_type == 0x39) {
            *ext = p;
            *ext_len = elen;
            return true;
        }
    }
    return false;
}

static void rfc9001_client_hello_parameters(void)
{
    uint8_t frame[512];
    size_t n = test_hex(rfc9001_a2_crypto_frame, frame, sizeof frame);
    const uint8_t *ext = NULL;
    size_t ext_len = 0;
    CHECK(find_extension_0x39(frame, n, &ext, &ext_len));
    CHECK_EQ(ext_len, 50);
    if (!ext) return;

    skiff_transport_params tp;
    CHECK_EQ(decode_exact(ext, ext_len, SKIFF_ROLE_CLIENT, &tp), 0);
    CHECK_U64(tp.initial_max_data, SKIFF_VARINT_MAX);
    CHECK_U64(tp.initial_max_stream_data_bidi_local, 65535);
    CHECK_U64(tp.initial_max_stream_data_bidi_remote, 65535);
    CHECK_U64(tp.initial_max_stream_data_uni, 65535);
    CHECK_U64(tp.initial_max_streams_bidi, 16);
    CHECK_U64(tp.initial_max_streams_uni, 16);
    CHECK_U64(tp.max_idle_timeout, 30000);
    CHECK(tp.has_initial_source_connection_id);
    CHECK_EQ(tp.initial_source_connection_id.len, 8);
    CHECK_MEM(tp.initial_source_connection_id.data, "\x83\x94\xc8\xf0\x3e\x51\x57\x08", 8);
    /* Not sent, so the defaults. */
    CHECK_U64(tp.max_udp_payload_size, 65527);
    CHECK_U64(tp.ack_delay_exponent, 3);
    CHECK_U64(tp.max_ack_delay, 25);
    CHECK_U64(tp.active_connection_id_limit, 2);
    CHECK(!tp.disable_active_migration);
    CHECK(!tp.has_original_destination_connection_id);
    CHECK(!tp.has_version_information);
    CHECK(!tp.has_max_datagram_frame_size);

    char text[SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN];
    static const char expect[] = "max_idle_timeout: 30000\n"
                                 "max_udp_payload_size: 65527\n"
                                 "initial_max_data: 4611686018427387903\n"
                                 "initial_max_stream_data_bidi_local: 65535\n"
                                 "initial_max_stream_data_bidi_remote: 65535\n"
                                 "initial_max_stream_data_uni: 65535\n"
                                 "initial_max_streams_bidi: 16\n"
                                 "initial_max_streams_uni: 16\n"
                                 "ack_delay_exponent: 3\n"
                                 "max_ack_delay: 25\n"
                                 "active_connection_id_limit: 2\n"
                                 "initial_source_connection_id: 8394c8f03e515708\n";
    CHECK_EQ(skiff_transport_params_format(text, sizeof text, &tp), sizeof expect - 1);
    CHECK(strcmp(text, expect) == 0);

    /* Re-encoded: the same parameters in ID order (the RFC's varints are
     * already minimal). */
    uint8_t out[128], reencoded[64];
    skiff_transport_params again;
    size_t reencoded_len = test_hex("01 04 80007530 04 08 ffffffffffffffff 05 04 8000ffff"
                                    "06 04 8000ffff 07 04 8000ffff 08 01 10 09 01 10"
                                    "0f 08 8394c8f03e515708",
                                    reencoded, sizeof reencoded);
    skiff_ssize len = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_CLIENT, 0);
    CHECK_EQ(len, (skiff_ssize)reencoded_len);
    CHECK_MEM(out, reencoded, reencoded_len);
    CHECK_EQ(decode_exact(out, (size_t)len, SKIFF_ROLE_CLIENT, &again), 0);
    check_same(&again, &tp);

    /* Truncations of the RFC blob: only parameter boundaries are valid. */
    uint64_t ids[16];
    size_t ends[16];
    size_t count = walk(ext, ext_len, ids, ends, 16);
    CHECK_EQ(count, 8);
    for (size_t cut = 1; cut < ext_len; cut++) {
        bool boundary = false;
        for (size_t i = 0; i < count; i++) boundary |= ends[i] == cut;
        CHECK_EQ(decode_exact(ext, cut, SKIFF_ROLE_CLIENT, &again),
                 boundary ? 0 : SKIFF_ERR_TRANSPORT_PARAMETER);
    }
}

/* ---- rejections -------------------------------------------------------- */

static void truncation_at_every_position_is_rejected(void)
{
    /* With grease, every parameter kind is cut inside its ID, its Length and
     * its Value. A cut that lands between two parameters leaves a shorter,
     * valid blob, and must decode to the parameters before it. */
    skiff_transport_params tp, got, before;
    fill_all(&tp);
    for (int role = 0; role < 2; role++) {
        skiff_role sender = role ? SKIFF_ROLE_SERVER : SKIFF_ROLE_CLIENT;
        uint8_t out[512];
        skiff_ssize n = encode_exact(out, sizeof out, &tp, sender, 0x5eed);
        CHECK(n > 0);
        uint64_t ids[64];
        size_t ends[64];
        size_t count = walk(out, (size_t)n, ids, ends, 64);
        size_t rejected = 0;
        for (size_t cut = 1; cut < (size_t)n; cut++) {
            bool boundary = false;
            for (size_t i = 0; i < count; i++) boundary |= ends[i] == cut;
            memset(&got, 0xee, sizeof got);
            memcpy(&before, &got, sizeof got);
            int rc = decode_exact(out, cut, sender, &got);
            if (boundary) {
                CHECK_EQ(rc, 0);
            } else {
                CHECK_EQ(rc, SKIFF_ERR_TRANSPORT_PARAMETER);
                /* A rejected blob leaves the struct alone. */
                CHECK(memcmp(&got, &before, sizeof got) == 0);
                rejected++;
            }
        }
        CHECK_EQ(rejected, (size_t)n - count);
    }
}

static void malformed_and_out_of_range_values_are_rejected(void)
{
    static const struct {
        const char *hex;
        skiff_role sender;
    } bad[] = {
        /* Truncated ID, Length or Value (§18). */
        {"40", SKIFF_ROLE_SERVER},
        {"c0000000", SKIFF_ROLE_SERVER},
        {"01", SKIFF_ROLE_SERVER},
        {"01 40", SKIFF_ROLE_SERVER},
        {"01 02 05", SKIFF_ROLE_SERVER},
        {"21 05 0000", SKIFF_ROLE_SERVER},              /* unknown, still must fit */
        {"21 c0000000000000ff 00", SKIFF_ROLE_SERVER},  /* huge length */
        /* An integer Value that is not exactly one varint. */
        {"01 00", SKIFF_ROLE_SERVER},
        {"01 02 05 00", SKIFF_ROLE_SERVER},
        {"01 01 40", SKIFF_ROLE_SERVER},
        {"01 03 80000005", SKIFF_ROLE_SERVER},
        {"20 02 05 00", SKIFF_ROLE_SERVER},
        {"20 00", SKIFF_ROLE_SERVER},
        /* Duplicates, known and unknown (§7.4). */
        {"01 01 05 01 01 05", SKIFF_ROLE_SERVER},
        {"01 01 05 04 01 01 01 01 06", SKIFF_ROLE_CLIENT},
        {"01 01 05 4001 01 05", SKIFF_ROLE_CLIENT}, /* same ID, non-minimal */
        {"0c 00 0c 00", SKIFF_ROLE_SERVER},
        {"0f 00 0f 00", SKIFF_ROLE_CLIENT},
        {"1b 00 1b 00", SKIFF_ROLE_SERVER},          /* grease 27 twice */
        {"21 01 00 01 01 05 21 00", SKIFF_ROLE_CLIENT}, /* unknown 0x21 twice */
        {"6ab2 00 6ab2 00", SKIFF_ROLE_CLIENT},
        /* Server-only parameters from a client (§18.2). */
        {"00 00", SKIFF_ROLE_CLIENT},
        {"00 04 01020304", SKIFF_ROLE_CLIENT},
        {"02 10 00000000000000000000000000000000", SKIFF_ROLE_CLIENT},
        {"10 04 01020304", SKIFF_ROLE_CLIENT},
        {"0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_CLIENT},
        /* Out-of-range integers (§18.2, §4.6). */
        {"03 02 44af", SKIFF_ROLE_SERVER},    /* max_udp_payload_size 1199 */
        {"03 01 00", SKIFF_ROLE_SERVER},      /* max_udp_payload_size 0 */
        {"0a 01 15", SKIFF_ROLE_SERVER},      /* ack_delay_exponent 21 */
        {"0a 08 c0000000000000ff", SKIFF_ROLE_CLIENT},
        {"0b 04 80004000", SKIFF_ROLE_SERVER}, /* max_ack_delay 2^14 */
        {"0e 01 01", SKIFF_ROLE_SERVER},      /* active_connection_id_limit 1 */
        {"0e 01 00", SKIFF_ROLE_CLIENT},      /* active_connection_id_limit 0 */
        {"08 08 d000000000000001", SKIFF_ROLE_SERVER}, /* 2^60 + 1 streams */
        {"09 08 ffffffffffffffff", SKIFF_ROLE_CLIENT}, /* 2^62 - 1 streams */
        /* Lengths of fixed-size values (§18.2). */
        {"02 0f 000000000000000000000000000000", SKIFF_ROLE_SERVER},
        {"02 11 0000000000000000000000000000000000", SKIFF_ROLE_SERVER},
        {"02 00", SKIFF_ROLE_SERVER},
        {"00 15 000102030405060708090a0b0c0d0e0f1011121314", SKIFF_ROLE_SERVER},
        {"0f 15 000102030405060708090a0b0c0d0e0f1011121314", SKIFF_ROLE_CLIENT},
        {"10 15 000102030405060708090a0b0c0d0e0f1011121314", SKIFF_ROLE_SERVER},
        {"0c 01 00", SKIFF_ROLE_SERVER},      /* disable_active_migration with a value */
        {"6ab2 01 00", SKIFF_ROLE_CLIENT},    /* grease_quic_bit with a value (RFC 9287) */
        /* preferred_address (§18.2): one byte long, one short, CID length
         * disagreeing with the Value's, zero-length CID, 21-byte CID. */
        {"0d 2e c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf 00",
         SKIFF_ROLE_SERVER},
        {"0d 2c c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbe",
         SKIFF_ROLE_SERVER},
        {"0d 2d c0000201 1151 20010db8000000000000000000000001 1152 05 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_SERVER},
        {"0d 2d c0000201 1151 20010db8000000000000000000000001 1152 03 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_SERVER},
        {"0d 29 c0000201 1151 20010db8000000000000000000000001 1152 00"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_SERVER},
        {"0d 3e c0000201 1151 20010db8000000000000000000000001 1152"
         "   15 000102030405060708090a0b0c0d0e0f1011121314"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_SERVER},
        {"0d 18 c0000201 1151 20010db8000000000000000000000001 1152", SKIFF_ROLE_SERVER},
        {"0d 00", SKIFF_ROLE_SERVER},
        /* A preferred address from a server using zero-length CIDs (§18.2). */
        {"0f 00 0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
         SKIFF_ROLE_SERVER},
        {"0d 2d c0000201 1151 20010db8000000000000000000000001 1152 04 c1c2c3c4"
         "   b0b1b2b3b4b5b6b7b8b9babbbcbdbebf 0f 00",
         SKIFF_ROLE_SERVER},
        /* version_information (RFC 9368 §4). */
        {"11 00", SKIFF_ROLE_SERVER},
        {"11 03 000001", SKIFF_ROLE_SERVER},
        {"11 05 00000001 00", SKIFF_ROLE_SERVER},
        {"11 06 00000001 0000", SKIFF_ROLE_SERVER},
        {"11 04 00000000", SKIFF_ROLE_SERVER},               /* Chosen Version 0 */
        {"11 08 00000000 00000001", SKIFF_ROLE_CLIENT},
        {"11 08 00000001 00000000", SKIFF_ROLE_SERVER},      /* an Available Version 0 */
        {"11 08 00000001 6b3343cf", SKIFF_ROLE_CLIENT},      /* client's chosen not listed */
        {"11 04 00000001", SKIFF_ROLE_CLIENT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        skiff_transport_params tp;
        int rc = decode_hex(bad[i].hex, bad[i].sender, &tp);
        if (rc != SKIFF_ERR_TRANSPORT_PARAMETER)
            fprintf(stderr, "  accepted bad[%zu]: %s\n", i, bad[i].hex);
        CHECK_EQ(rc, SKIFF_ERR_TRANSPORT_PARAMETER);
    }
}

static void values_at_the_limits_are_accepted(void)
{
    skiff_transport_params tp;
    CHECK_EQ(decode_hex("03 02 44b0 0a 01 14 0b 02 7fff 0e 01 02 08 08 d000000000000000"
                        "09 08 d000000000000000",
                        SKIFF_ROLE_CLIENT, &tp),
             0);
    CHECK_U64(tp.max_udp_payload_size, 1200);
    CHECK_U64(tp.ack_delay_exponent, 20);
    CHECK_U64(tp.max_ack_delay, 16383);
    CHECK_U64(tp.active_connection_id_limit, 2);
    CHECK_U64(tp.initial_max_streams_bidi, UINT64_C(1) << 60);
    CHECK_U64(tp.initial_max_streams_uni, UINT64_C(1) << 60);

    /* Non-minimal varints are fine (§16); RFC 9001 A.2 uses them. */
    CHECK_EQ(decode_hex("04 08 c000000000000005 0b 04 80000019", SKIFF_ROLE_SERVER, &tp), 0);
    CHECK_U64(tp.initial_max_data, 5);
    CHECK_U64(tp.max_ack_delay, 25);

    /* A server's Chosen Version may be missing from its list, and the list
     * may be empty (RFC 9368 §3). */
    CHECK_EQ(decode_hex("11 08 00000001 6b3343cf", SKIFF_ROLE_SERVER, &tp), 0);
    CHECK_U64(tp.version_information.chosen_version, V1);
    CHECK_EQ(tp.version_information.available_count, 1);
    CHECK_U64(tp.version_information.available[0], V2);
    CHECK_EQ(decode_hex("11 04 6b3343cf", SKIFF_ROLE_SERVER, &tp), 0);
    CHECK_EQ(tp.version_information.available_count, 0);

    /* More versions than we keep: the first 16 are kept and all are
     * checked; a client's Chosen Version listed past the cap takes the last
     * slot, so what was decoded can be encoded again. */
    uint8_t vi[2 + 2 + 4 * 21];
    size_t n = 0;
    vi[n++] = 0x11;
    vi[n++] = 0x40;
    vi[n++] = 4 * 21;
    vi[n++] = 0x0a, vi[n++] = 0x1a, vi[n++] = 0x2a, vi[n++] = 0x3a; /* chosen */
    for (uint32_t i = 0; i < 20; i++) {
        uint32_t v = i == 19 ? 0x0a1a2a3au : 0xff000000u + i;
        vi[n++] = (uint8_t)(v >> 24), vi[n++] = (uint8_t)(v >> 16);
        vi[n++] = (uint8_t)(v >> 8), vi[n++] = (uint8_t)v;
    }
    CHECK_EQ(decode_exact(vi, n, SKIFF_ROLE_CLIENT, &tp), 0);
    CHECK_EQ(tp.version_information.available_count, SKIFF_TP_MAX_AVAILABLE_VERSIONS);
    CHECK_EQ(tp.version_information.available_total, 20);
    CHECK_U64(tp.version_information.available[14], 0xff00000eu);
    CHECK_U64(tp.version_information.available[15], 0x0a1a2a3au);
    uint8_t out[SKIFF_TRANSPORT_PARAMS_MAX_LEN];
    skiff_transport_params again;
    skiff_ssize len = encode_exact(out, sizeof out, &tp, SKIFF_ROLE_CLIENT, 0);
    CHECK_EQ(len, 2 + 1 + 4 + 4 * 16);
    CHECK_EQ(decode_exact(out, (size_t)len, SKIFF_ROLE_CLIENT, &again), 0);
    check_same(&again, &tp);
    /* From a server nothing is moved: its Chosen Version need not be listed. */
    CHECK_EQ(decode_exact(vi, n, SKIFF_ROLE_SERVER, &tp), 0);
    CHECK_U64(tp.version_information.available[15], 0xff00000fu);
    /* A zero among the versions not kept is still found. */
    vi[n - 8] = 0, vi[n - 7] = 0, vi[n - 6] = 0, vi[n - 5] = 0; /* version 18 */
    CHECK_EQ(decode_exact(vi, n, SKIFF_ROLE_SERVER, &tp), SKIFF_ERR_TRANSPORT_PARAMETER);
}

/* ---- format ------------------------------------------------------------ */

static void format_prints_name_value_lines(void)
{
    skiff_transport_params tp;
    fill_all(&tp);
    static const char expect[] =
        "original_destination_connection_id: 0102030405060708\n"
        "max_idle_timeout: 30000\n"
        "stateless_reset_token: a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n"
        "max_udp_payload_size: 1472\n"
        "initial_max_data: 1048576\n"
        "initial_max_stream_data_bidi_local: 262144\n"
        "initial_max_stream_data_bidi_remote: 131072\n"
        "initial_max_stream_data_uni: 65536\n"
        "initial_max_streams_bidi: 100\n"
        "initial_max_streams_uni: 3\n"
        "ack_delay_exponent: 10\n"
        "max_ack_delay: 40\n"
        "disable_active_migration: true\n"
        "preferred_address: 192.0.2.1:4433 [2001:db8::1]:4434 cid=c1c2c3c4 "
        "reset_token=b0b1b2b3b4b5b6b7b8b9babbbcbdbebf\n"
        "active_connection_id_limit: 8\n"
        "initial_source_connection_id: 1112131415\n"
        "retry_source_connection_id: 212223242526\n"
        "version_information: chosen=0x00000001 available=0x00000001,0x6b3343cf\n"
        "max_datagram_frame_size: 65535\n"
        "grease_quic_bit: true\n";
    char text[SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN];
    CHECK_EQ(skiff_transport_params_format(text, sizeof text, &tp), sizeof expect - 1);
    CHECK(strcmp(text, expect) == 0);

    /* Too small: only whole lines are kept. */
    char small[60];
    CHECK_EQ(skiff_transport_params_format(small, sizeof small, &tp),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK(strcmp(small, "original_destination_connection_id: 0102030405060708\n") == 0);
    CHECK_EQ(skiff_transport_params_format(small, 1, &tp), SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(small[0], '\0');
    CHECK_EQ(skiff_transport_params_format(text, sizeof expect - 1, &tp),
             SKIFF_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ(skiff_transport_params_format(text, sizeof expect, &tp), sizeof expect - 1);

    /* IPv6 text per RFC 5952, an empty CID, a server's empty version list. */
    static const struct {
        const char *addr;
        const char *text;
    } v6[] = {
        {"00000000000000000000000000000000", "::"},
        {"00000000000000000000000000000001", "::1"},
        {"00010000000000000000000000000000", "1::"},
        {"20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"},
        {"20010000000000010000000000000001", "2001:0:0:1::1"},
        {"20010db8000000000001000000000001", "2001:db8::1:0:0:1"},
        {"fe80000000000000021122fffe334455", "fe80::211:22ff:fe33:4455"},
    };
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        skiff_transport_params_init_default(&tp);
        tp.has_preferred_address = true;
        test_hex(v6[i].addr, tp.preferred_address.ipv6, 16);
        tp.preferred_address.ipv6_port = 443;
        set_cid(&tp.preferred_address.cid, 0xaa, 1);
        char line[200];
        snprintf(line, sizeof line,
                 "preferred_address: 0.0.0.0:0 [%s]:443 cid=aa "
                 "reset_token=00000000000000000000000000000000\n",
                 v6[i].text);
        skiff_ssize n = skiff_transport_params_format(text, sizeof text, &tp);
        CHECK_EQ(n, (skiff_ssize)strlen(text));
        CHECK(strstr(text, line) != NULL);
        if (!strstr(text, line)) fprintf(stderr, "  wanted %s  got %s", line, text);
    }
    skiff_transport_params_init_default(&tp);
    tp.has_initial_source_connection_id = true;
    tp.has_version_information = true;
    tp.version_information.chosen_version = V2;
    tp.version_information.available_total = 3; /* as if decoded past the cap */
    CHECK(skiff_transport_params_format(text, sizeof text, &tp) > 0);
    CHECK(strstr(text, "\ninitial_source_connection_id: (empty)\n") != NULL);
    CHECK(strstr(text, "\nversion_information: chosen=0x6b3343cf available=(none) (+3 not "
                       "kept)\n") != NULL);
}

static void format_fits_its_bound(void)
{
    skiff_transport_params tp;
    fill_all(&tp);
    tp.max_idle_timeout = SKIFF_VARINT_MAX;
    tp.max_udp_payload_size = SKIFF_VARINT_MAX;
    tp.initial_max_data = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_bidi_local = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_bidi_remote = SKIFF_VARINT_MAX;
    tp.initial_max_stream_data_uni = SKIFF_VARINT_MAX;
    tp.active_connection_id_limit = SKIFF_VARINT_MAX;
    tp.max_datagram_frame_size = SKIFF_VARINT_MAX;
    set_cid(&tp.original_destination_connection_id, 0, 20);
    set_cid(&tp.initial_source_connection_id, 0, 20);
    set_cid(&tp.retry_source_connection_id, 0, 20);
    set_cid(&tp.preferred_address.cid, 0, 20);
    memset(tp.preferred_address.ipv4, 255, 4);
    memset(tp.preferred_address.ipv6, 0xff, 16);
    tp.preferred_address.ipv4_port = tp.preferred_address.ipv6_port = 65535;
    tp.version_information.available_count = SKIFF_TP_MAX_AVAILABLE_VERSIONS;
    tp.version_information.available_total = SIZE_MAX;
    char text[SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN];
    skiff_ssize n = skiff_transport_params_format(text, sizeof text, &tp);
    CHECK(n > 0 && n < SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN);
    CHECK(strstr(text, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535") != NULL);
}

int main(void)
{
    RUN(defaults_are_the_rfc_ones);
    RUN(server_round_trip_every_parameter);
    RUN(client_round_trip_drops_server_only_parameters);
    RUN(boundary_values_round_trip);
    RUN(encode_reports_a_short_buffer_at_every_size);
    RUN(encode_refuses_what_a_peer_would_reject);
    RUN(grease_is_one_reserved_parameter_and_varies_with_the_seed);
    RUN(unknown_and_grease_parameters_are_ignored);
    RUN(rfc9001_client_hello_parameters);
    RUN(truncation_at_every_position_is_rejected);
    RUN(malformed_and_out_of_range_values_are_rejected);
    RUN(values_at_the_limits_are_accepted);
    RUN(format_prints_name_value_lines);
    RUN(format_fits_its_bound);
    return test_report("transport_params");
}
