/*
 * QUIC transport parameters: defaults, encoding, decoding with every check
 * of RFC 9000 §7.4 and §18 (and §4.6 for the stream limits), the RFC 9221,
 * RFC 9368 and RFC 9287 parameters, reserved grease parameters (§18.1), and
 * a "name: value" dump for tools.
 *
 * Decoding copies into a struct on the stack and only assigns *tp once the
 * whole blob has passed, so a rejected blob leaves the caller's struct as it
 * was. Duplicates, of unknown IDs as much as known ones (§7.4), are found by
 * scanning the IDs already seen; the scan is bounded because at most
 * SKIFF_TP_MAX_PARAMS parameters are accepted (at most 64 * 63 / 2 ID
 * comparisons per blob, and no allocation).
 */
#include "quic/transport_params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/varint.h"
#include "common/wire.h"

#define TRY(expr)                                                                        \
    do {                                                                                 \
        int try_rc_ = (expr);                                                            \
        if (try_rc_ < 0) return try_rc_;                                                 \
    } while (0)

/* Fixed part of preferred_address: IPv4 (4) + port (2) + IPv6 (16) + port (2)
 * + CID length (1) + reset token (16); the CID itself comes on top. */
#define PREFERRED_ADDRESS_FIXED_LEN (4 + 2 + 16 + 2 + 1 + SKIFF_TP_RESET_TOKEN_LEN)

/* The longest grease value the encoder writes. */
#define GREASE_MAX_VALUE_LEN 16

/* The parameters skiff writes, in the order it writes them. */
static const uint64_t known_ids[] = {
    SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID,
    SKIFF_TP_MAX_IDLE_TIMEOUT,
    SKIFF_TP_STATELESS_RESET_TOKEN,
    SKIFF_TP_MAX_UDP_PAYLOAD_SIZE,
    SKIFF_TP_INITIAL_MAX_DATA,
    SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL,
    SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE,
    SKIFF_TP_INITIAL_MAX_STREAM_DATA_UNI,
    SKIFF_TP_INITIAL_MAX_STREAMS_BIDI,
    SKIFF_TP_INITIAL_MAX_STREAMS_UNI,
    SKIFF_TP_ACK_DELAY_EXPONENT,
    SKIFF_TP_MAX_ACK_DELAY,
    SKIFF_TP_DISABLE_ACTIVE_MIGRATION,
    SKIFF_TP_PREFERRED_ADDRESS,
    SKIFF_TP_ACTIVE_CONNECTION_ID_LIMIT,
    SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID,
    SKIFF_TP_RETRY_SOURCE_CONNECTION_ID,
    SKIFF_TP_VERSION_INFORMATION,
    SKIFF_TP_MAX_DATAGRAM_FRAME_SIZE,
    SKIFF_TP_GREASE_QUIC_BIT,
};
#define KNOWN_COUNT (sizeof(known_ids) / sizeof(known_ids[0]))

void skiff_transport_params_init_default(skiff_transport_params *tp)
{
    memset(tp, 0, sizeof *tp);
    tp->max_udp_payload_size = SKIFF_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE;
    tp->ack_delay_exponent = SKIFF_TP_DEFAULT_ACK_DELAY_EXPONENT;
    tp->max_ack_delay = SKIFF_TP_DEFAULT_MAX_ACK_DELAY;
    tp->active_connection_id_limit = SKIFF_TP_DEFAULT_ACTIVE_CONNECTION_ID_LIMIT;
}

/* RFC 9000 §18.2: "A client MUST NOT include any server-only transport
 * parameter". */
static bool server_only(uint64_t id)
{
    return id == SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID ||
           id == SKIFF_TP_PREFERRED_ADDRESS || id == SKIFF_TP_RETRY_SOURCE_CONNECTION_ID ||
           id == SKIFF_TP_STATELESS_RESET_TOKEN;
}

/* The field behind an integer-valued parameter, or NULL for other IDs. */
static uint64_t *int_field(skiff_transport_params *tp, uint64_t id)
{
    switch (id) {
    case SKIFF_TP_MAX_IDLE_TIMEOUT: return &tp->max_idle_timeout;
    case SKIFF_TP_MAX_UDP_PAYLOAD_SIZE: return &tp->max_udp_payload_size;
    case SKIFF_TP_INITIAL_MAX_DATA: return &tp->initial_max_data;
    case SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
        return &tp->initial_max_stream_data_bidi_local;
    case SKIFF_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
        return &tp->initial_max_stream_data_bidi_remote;
    case SKIFF_TP_INITIAL_MAX_STREAM_DATA_UNI: return &tp->initial_max_stream_data_uni;
    case SKIFF_TP_INITIAL_MAX_STREAMS_BIDI: return &tp->initial_max_streams_bidi;
    case SKIFF_TP_INITIAL_MAX_STREAMS_UNI: return &tp->initial_max_streams_uni;
    case SKIFF_TP_ACK_DELAY_EXPONENT: return &tp->ack_delay_exponent;
    case SKIFF_TP_MAX_ACK_DELAY: return &tp->max_ack_delay;
    case SKIFF_TP_ACTIVE_CONNECTION_ID_LIMIT: return &tp->active_connection_id_limit;
    case SKIFF_TP_MAX_DATAGRAM_FRAME_SIZE: return &tp->max_datagram_frame_size;
    default: return NULL;
    }
}

static const uint64_t *int_field_const(const skiff_transport_params *tp, uint64_t id)
{
    /* int_field only takes an address, it never writes through tp. */
    return int_field((skiff_transport_params *)tp, id);
}

/* Whether v is a permitted value of integer parameter `id`; the same rules
 * guard what we decode and what we agree to encode. */
static bool int_value_ok(uint64_t id, uint64_t v)
{
    if (v > SKIFF_VARINT_MAX) return false;
    switch (id) {
    case SKIFF_TP_MAX_UDP_PAYLOAD_SIZE:
        return v >= SKIFF_TP_MIN_MAX_UDP_PAYLOAD_SIZE; /* §18.2: "below 1200 are invalid" */
    case SKIFF_TP_ACK_DELAY_EXPONENT:
        return v <= SKIFF_TP_MAX_ACK_DELAY_EXPONENT; /* §18.2: "above 20 are invalid" */
    case SKIFF_TP_MAX_ACK_DELAY:
        return v < SKIFF_TP_MAX_ACK_DELAY_LIMIT; /* §18.2: "2^14 or greater are invalid" */
    case SKIFF_TP_ACTIVE_CONNECTION_ID_LIMIT:
        return v >= 2; /* §18.2: "MUST be at least 2" */
    case SKIFF_TP_INITIAL_MAX_STREAMS_BIDI:
    case SKIFF_TP_INITIAL_MAX_STREAMS_UNI:
        return v <= SKIFF_TP_MAX_STREAMS_LIMIT; /* §4.6: above 2^60 is an error */
    default: return true;
    }
}

/* RFC 9000 §18.2: "A server that chooses a zero-length connection ID MUST
 * NOT provide a preferred address." Needs both parameters, so it is checked
 * once the whole blob is read. */
static bool preferred_address_consistent(const skiff_transport_params *tp)
{
    return !(tp->has_preferred_address && tp->has_initial_source_connection_id &&
             tp->initial_source_connection_id.len == 0);
}

/* ---- Encoding ---------------------------------------------------------- */

static bool should_send(const skiff_transport_params *tp, uint64_t id, skiff_role sender)
{
    if (sender == SKIFF_ROLE_CLIENT && server_only(id)) return false;
    switch (id) {
    case SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID:
        return tp->has_original_destination_connection_id;
    case SKIFF_TP_STATELESS_RESET_TOKEN: return tp->has_stateless_reset_token;
    case SKIFF_TP_DISABLE_ACTIVE_MIGRATION: return tp->disable_active_migration;
    case SKIFF_TP_PREFERRED_ADDRESS: return tp->has_preferred_address;
    case SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID: return tp->has_initial_source_connection_id;
    case SKIFF_TP_RETRY_SOURCE_CONNECTION_ID: return tp->has_retry_source_connection_id;
    case SKIFF_TP_VERSION_INFORMATION: return tp->has_version_information;
    /* RFC 9221 §3: sent whenever the caller set it, even as 0 (which the
     * peer reads the same as absence). */
    case SKIFF_TP_MAX_DATAGRAM_FRAME_SIZE: return tp->has_max_datagram_frame_size;
    case SKIFF_TP_GREASE_QUIC_BIT: return tp->grease_quic_bit;
    case SKIFF_TP_MAX_UDP_PAYLOAD_SIZE:
        return tp->max_udp_payload_size != SKIFF_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE;
    case SKIFF_TP_ACK_DELAY_EXPONENT:
        return tp->ack_delay_exponent != SKIFF_TP_DEFAULT_ACK_DELAY_EXPONENT;
    case SKIFF_TP_MAX_ACK_DELAY: return tp->max_ack_delay != SKIFF_TP_DEFAULT_MAX_ACK_DELAY;
    case SKIFF_TP_ACTIVE_CONNECTION_ID_LIMIT:
        return tp->active_connection_id_limit != SKIFF_TP_DEFAULT_ACTIVE_CONNECTION_ID_LIMIT;
    default: {
        const uint64_t *v = int_field_const(tp, id);
        return v && *v != 0; /* the remaining integers default to 0 */
    }
    }
}

/* Whether everything `sender` would write is something a peer accepts. */
static bool encodable(const skiff_transport_params *tp, skiff_role sender)
{
    /* Every integer is checked, sent or not (only max_datagram_frame_size
     * can go unsent with a non-default value): an out-of-range one is a
     * caller bug either way. */
    for (size_t i = 0; i < KNOWN_COUNT; i++) {
        const uint64_t *v = int_field_const(tp, known_ids[i]);
        if (v && !int_value_ok(known_ids[i], *v)) return false;
    }
    if (should_send(tp, SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID, sender) &&
        tp->original_destination_connection_id.len > SKIFF_TP_CID_MAX_LEN)
        return false;
    if (should_send(tp, SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID, sender) &&
        tp->initial_source_connection_id.len > SKIFF_TP_CID_MAX_LEN)
        return false;
    if (should_send(tp, SKIFF_TP_RETRY_SOURCE_CONNECTION_ID, sender) &&
        tp->retry_source_connection_id.len > SKIFF_TP_CID_MAX_LEN)
        return false;
    if (should_send(tp, SKIFF_TP_PREFERRED_ADDRESS, sender)) {
        uint8_t n = tp->preferred_address.cid.len;
        if (n == 0 || n > SKIFF_TP_CID_MAX_LEN) return false; /* §18.2 */
        if (!preferred_address_consistent(tp)) return false;
    }
    if (tp->has_version_information) {
        const skiff_tp_version_information *vi = &tp->version_information;
        if (vi->chosen_version == 0) return false; /* RFC 9368 §4 */
        if (vi->available_count > SKIFF_TP_MAX_AVAILABLE_VERSIONS) return false;
        bool chosen_listed = false;
        for (size_t i = 0; i < vi->available_count; i++) {
            if (vi->available[i] == 0) return false; /* RFC 9368 §4 */
            if (vi->available[i] == vi->chosen_version) chosen_listed = true;
        }
        /* RFC 9368 §3: a client's Chosen Version "MUST be included" in its list. */
        if (sender == SKIFF_ROLE_CLIENT && !chosen_listed) return false;
    }
    return true;
}

static int put_header(skiff_writer *w, uint64_t id, size_t len)
{
    TRY(skiff_writer_varint(w, id));
    return skiff_writer_varint(w, len);
}

static int put_cid(skiff_writer *w, uint64_t id, const skiff_tp_cid *cid)
{
    TRY(put_header(w, id, cid->len));
    return skiff_writer_bytes(w, cid->data, cid->len);
}

static int put_param(skiff_writer *w, const skiff_transport_params *tp, uint64_t id)
{
    const uint64_t *v = int_field_const(tp, id);
    if (v) {
        TRY(put_header(w, id, skiff_varint_len(*v)));
        return skiff_writer_varint(w, *v);
    }
    switch (id) {
    case SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID:
        return put_cid(w, id, &tp->original_destination_connection_id);
    case SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID:
        return put_cid(w, id, &tp->initial_source_connection_id);
    case SKIFF_TP_RETRY_SOURCE_CONNECTION_ID:
        return put_cid(w, id, &tp->retry_source_connection_id);
    case SKIFF_TP_STATELESS_RESET_TOKEN:
        TRY(put_header(w, id, SKIFF_TP_RESET_TOKEN_LEN));
        return skiff_writer_bytes(w, tp->stateless_reset_token, SKIFF_TP_RESET_TOKEN_LEN);
    case SKIFF_TP_DISABLE_ACTIVE_MIGRATION:
    case SKIFF_TP_GREASE_QUIC_BIT: return put_header(w, id, 0);
    case SKIFF_TP_PREFERRED_ADDRESS: {
        const skiff_tp_preferred_address *pa = &tp->preferred_address;
        TRY(put_header(w, id, PREFERRED_ADDRESS_FIXED_LEN + pa->cid.len));
        TRY(skiff_writer_bytes(w, pa->ipv4, sizeof pa->ipv4));
        TRY(skiff_writer_u16(w, pa->ipv4_port));
        TRY(skiff_writer_bytes(w, pa->ipv6, sizeof pa->ipv6));
        TRY(skiff_writer_u16(w, pa->ipv6_port));
        TRY(skiff_writer_u8(w, pa->cid.len));
        TRY(skiff_writer_bytes(w, pa->cid.data, pa->cid.len));
        return skiff_writer_bytes(w, pa->stateless_reset_token, SKIFF_TP_RESET_TOKEN_LEN);
    }
    case SKIFF_TP_VERSION_INFORMATION: {
        const skiff_tp_version_information *vi = &tp->version_information;
        TRY(put_header(w, id, 4 + 4 * vi->available_count));
        TRY(skiff_writer_u32(w, vi->chosen_version));
        for (size_t i = 0; i < vi->available_count; i++)
            TRY(skiff_writer_u32(w, vi->available[i]));
        return 0;
    }
    default: return SKIFF_ERR_INTERNAL; /* known_ids and this switch disagree */
    }
}

/* splitmix64: a tiny, well-mixed generator, so that neighbouring seeds
 * (a counter, say) still give unrelated grease. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

typedef struct grease_param {
    uint64_t id;
    size_t len;
    uint8_t value[GREASE_MAX_VALUE_LEN];
    size_t position; /* written before the position-th real parameter */
} grease_param;

/* RFC 9000 §18.1: reserved IDs are 31 * N + 27. N is drawn so that the ID's
 * varint is 1, 2, 4 or 8 bytes long with equal odds, exercising the peer's
 * varint parsing rather than always sending an 8-byte ID. */
static void make_grease(grease_param *g, uint64_t seed, size_t real_count)
{
    static const uint64_t id_limits[4] = {63, 16383, (UINT64_C(1) << 30) - 1, SKIFF_VARINT_MAX};
    uint64_t state = seed;
    uint64_t r = next_random(&state);
    uint64_t n_max = (id_limits[r & 3] - 27) / 31;
    g->id = 31 * ((r >> 2) % (n_max + 1)) + 27;
    r = next_random(&state);
    g->len = (size_t)(r % (GREASE_MAX_VALUE_LEN + 1));
    g->position = (size_t)((r >> 8) % (real_count + 1));
    for (size_t i = 0; i < GREASE_MAX_VALUE_LEN; i += 8) {
        r = next_random(&state);
        for (size_t j = 0; j < 8; j++) g->value[i + j] = (uint8_t)(r >> (8 * j));
    }
}

skiff_ssize skiff_transport_params_encode(uint8_t *out, size_t cap,
                                          const skiff_transport_params *tp, skiff_role sender,
                                          uint64_t grease_seed)
{
    if (!encodable(tp, sender)) return SKIFF_ERR_INVALID_ARGUMENT;

    /* Allow (NULL, 0) for an encoding that turns out empty, without ever
     * forming NULL + 0. */
    uint8_t none;
    if (!out) {
        if (cap) return SKIFF_ERR_INVALID_ARGUMENT;
        out = &none;
    }

    size_t real_count = 0;
    for (size_t i = 0; i < KNOWN_COUNT; i++)
        if (should_send(tp, known_ids[i], sender)) real_count++;

    grease_param g;
    bool grease = grease_seed != 0;
    if (grease) make_grease(&g, grease_seed, real_count);

    skiff_writer w = skiff_writer_make(out, cap);
    size_t written = 0;
    for (size_t i = 0; i <= KNOWN_COUNT; i++) {
        if (grease && written == g.position) {
            TRY(put_header(&w, g.id, g.len));
            TRY(skiff_writer_bytes(&w, g.value, g.len));
            grease = false;
        }
        if (i == KNOWN_COUNT) break;
        if (!should_send(tp, known_ids[i], sender)) continue;
        TRY(put_param(&w, tp, known_ids[i]));
        written++;
    }
    return (skiff_ssize)(w.pos - out);
}

/* ---- Decoding ---------------------------------------------------------- */

/* An integer parameter's value must be exactly one varint (§18: the Length
 * is the Value's length), so trailing or missing bytes are both errors. */
static int get_int(const uint8_t *val, size_t len, uint64_t *v)
{
    skiff_ssize n = skiff_varint_decode(val, len, v);
    if (n < 0 || (size_t)n != len) return SKIFF_ERR_TRANSPORT_PARAMETER;
    return 0;
}

static int get_cid(const uint8_t *val, size_t len, skiff_tp_cid *cid, bool *present)
{
    if (len > SKIFF_TP_CID_MAX_LEN) return SKIFF_ERR_TRANSPORT_PARAMETER; /* §17.2 */
    cid->len = (uint8_t)len;
    if (len) memcpy(cid->data, val, len);
    *present = true;
    return 0;
}

/* RFC 9000 §18.2, Figure 22. */
static int get_preferred_address(const uint8_t *val, size_t len, skiff_tp_preferred_address *pa)
{
    skiff_reader r = skiff_reader_make(val, len);
    const uint8_t *p;
    uint8_t cid_len;
    if (len < PREFERRED_ADDRESS_FIXED_LEN) return SKIFF_ERR_TRANSPORT_PARAMETER;
    if (skiff_reader_bytes(&r, 4, &p) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    memcpy(pa->ipv4, p, 4);
    if (skiff_reader_u16(&r, &pa->ipv4_port) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    if (skiff_reader_bytes(&r, 16, &p) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    memcpy(pa->ipv6, p, 16);
    if (skiff_reader_u16(&r, &pa->ipv6_port) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    if (skiff_reader_u8(&r, &cid_len) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    /* §18.2: "a server MUST NOT include a zero-length connection ID in this
     * transport parameter"; and no CID is over 20 bytes in v1 (§17.2). */
    if (cid_len == 0 || cid_len > SKIFF_TP_CID_MAX_LEN) return SKIFF_ERR_TRANSPORT_PARAMETER;
    /* The CID length must account for the Value's length exactly. */
    if (len != PREFERRED_ADDRESS_FIXED_LEN + (size_t)cid_len) return SKIFF_ERR_TRANSPORT_PARAMETER;
    if (skiff_reader_bytes(&r, cid_len, &p) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    pa->cid.len = cid_len;
    memcpy(pa->cid.data, p, cid_len);
    if (skiff_reader_bytes(&r, SKIFF_TP_RESET_TOKEN_LEN, &p) < 0)
        return SKIFF_ERR_TRANSPORT_PARAMETER;
    memcpy(pa->stateless_reset_token, p, SKIFF_TP_RESET_TOKEN_LEN);
    return 0;
}

/* RFC 9368 §3 (format) and §4 (what counts as a parsing failure). Versions
 * past the storage cap are still checked, so a cap hit never hides an
 * error. */
static int get_version_information(const uint8_t *val, size_t len, skiff_role sender,
                                   skiff_tp_version_information *vi)
{
    /* §4: "too short or if its length is not divisible by four". */
    if (len < 4 || len % 4 != 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    skiff_reader r = skiff_reader_make(val, len);
    if (skiff_reader_u32(&r, &vi->chosen_version) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    /* §4: "a Chosen Version equal to zero, or any Available Version equal
     * to zero" is a parsing failure. */
    if (vi->chosen_version == 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
    bool chosen_listed = false;
    vi->available_count = 0;
    vi->available_total = 0;
    while (skiff_reader_left(&r) > 0) {
        uint32_t v;
        if (skiff_reader_u32(&r, &v) < 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
        if (v == 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
        if (v == vi->chosen_version) chosen_listed = true;
        if (vi->available_count < SKIFF_TP_MAX_AVAILABLE_VERSIONS)
            vi->available[vi->available_count++] = v;
        vi->available_total++;
    }
    /* §4: "If a server receives Version Information where the Chosen Version
     * is not included in Available Versions, it MUST treat it as a parsing
     * failure." */
    if (sender == SKIFF_ROLE_CLIENT && !chosen_listed) return SKIFF_ERR_TRANSPORT_PARAMETER;
    /* A client's list must keep its Chosen Version, or re-encoding what we
     * decoded would break the rule above. If it came after the cap, it takes
     * the last slot: it ranked below every kept version, so order holds. */
    if (sender == SKIFF_ROLE_CLIENT) {
        bool kept = false;
        for (size_t i = 0; i < vi->available_count; i++)
            kept |= vi->available[i] == vi->chosen_version;
        if (!kept) vi->available[vi->available_count - 1] = vi->chosen_version;
    }
    return 0;
}

static int get_param(skiff_transport_params *tp, uint64_t id, const uint8_t *val, size_t len,
                     skiff_role sender)
{
    /* §18.2: a server "MUST treat receipt of any of these transport
     * parameters as a connection error of type TRANSPORT_PARAMETER_ERROR". */
    if (sender == SKIFF_ROLE_CLIENT && server_only(id)) return SKIFF_ERR_TRANSPORT_PARAMETER;

    uint64_t *field = int_field(tp, id);
    if (field) {
        uint64_t v;
        TRY(get_int(val, len, &v));
        if (!int_value_ok(id, v)) return SKIFF_ERR_TRANSPORT_PARAMETER;
        *field = v;
        if (id == SKIFF_TP_MAX_DATAGRAM_FRAME_SIZE) tp->has_max_datagram_frame_size = true;
        return 0;
    }
    switch (id) {
    case SKIFF_TP_ORIGINAL_DESTINATION_CONNECTION_ID:
        return get_cid(val, len, &tp->original_destination_connection_id,
                       &tp->has_original_destination_connection_id);
    case SKIFF_TP_INITIAL_SOURCE_CONNECTION_ID:
        return get_cid(val, len, &tp->initial_source_connection_id,
                       &tp->has_initial_source_connection_id);
    case SKIFF_TP_RETRY_SOURCE_CONNECTION_ID:
        return get_cid(val, len, &tp->retry_source_connection_id,
                       &tp->has_retry_source_connection_id);
    case SKIFF_TP_STATELESS_RESET_TOKEN:
        /* §18.2: "This parameter is a sequence of 16 bytes." */
        if (len != SKIFF_TP_RESET_TOKEN_LEN) return SKIFF_ERR_TRANSPORT_PARAMETER;
        memcpy(tp->stateless_reset_token, val, SKIFF_TP_RESET_TOKEN_LEN);
        tp->has_stateless_reset_token = true;
        return 0;
    case SKIFF_TP_DISABLE_ACTIVE_MIGRATION:
        /* §18.2: "This parameter is a zero-length value." */
        if (len != 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
        tp->disable_active_migration = true;
        return 0;
    case SKIFF_TP_GREASE_QUIC_BIT:
        /* RFC 9287 §3: a non-zero-length value "MUST" be treated as a
         * TRANSPORT_PARAMETER_ERROR. */
        if (len != 0) return SKIFF_ERR_TRANSPORT_PARAMETER;
        tp->grease_quic_bit = true;
        return 0;
    case SKIFF_TP_PREFERRED_ADDRESS:
        TRY(get_preferred_address(val, len, &tp->preferred_address));
        tp->has_preferred_address = true;
        return 0;
    case SKIFF_TP_VERSION_INFORMATION:
        TRY(get_version_information(val, len, sender, &tp->version_information));
        tp->has_version_information = true;
        return 0;
    default:
        /* §7.4.2: "An endpoint MUST ignore transport parameters that it does
         * not support" - grease (§18.1) included. */
        return 0;
    }
}

int skiff_transport_params_decode(skiff_transport_params *tp, const uint8_t *in, size_t len,
                                  skiff_role sender)
{
    skiff_transport_params out;
    skiff_transport_params_init_default(&out);
    if (len == 0) { /* no parameters at all; and no NULL + 0 below */
        *tp = out;
        return 0;
    }

    uint64_t seen[SKIFF_TP_MAX_PARAMS];
    size_t seen_count = 0;
    skiff_reader r = skiff_reader_make(in, len);
    while (skiff_reader_left(&r) > 0) {
        uint64_t id, vlen;
        const uint8_t *val;
        if (skiff_reader_varint(&r, &id) < 0 || skiff_reader_varint(&r, &vlen) < 0 ||
            vlen > skiff_reader_left(&r) || skiff_reader_bytes(&r, (size_t)vlen, &val) < 0)
            return SKIFF_ERR_TRANSPORT_PARAMETER;

        if (seen_count == SKIFF_TP_MAX_PARAMS) return SKIFF_ERR_TRANSPORT_PARAMETER;
        /* §7.4: "An endpoint SHOULD treat receipt of duplicate transport
         * parameters as a connection error of type TRANSPORT_PARAMETER_ERROR." */
        for (size_t i = 0; i < seen_count; i++)
            if (seen[i] == id) return SKIFF_ERR_TRANSPORT_PARAMETER;
        seen[seen_count++] = id;

        TRY(get_param(&out, id, val, (size_t)vlen, sender));
    }
    if (!preferred_address_consistent(&out)) return SKIFF_ERR_TRANSPORT_PARAMETER;
    *tp = out;
    return 0;
}

/* ---- Formatting -------------------------------------------------------- */

/* An output cursor that keeps only whole lines: when a line does not fit,
 * the buffer is cut back to the end of the previous one. */
typedef struct line_writer {
    char *buf;
    size_t cap; /* > 0 */
    size_t len;
    size_t committed; /* end of the last whole line */
    bool overflow;
} line_writer;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(line_writer *lw, const char *fmt, ...)
{
    if (lw->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(lw->buf + lw->len, lw->cap - lw->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= lw->cap - lw->len) {
        lw->overflow = true;
        lw->buf[lw->committed] = '\0';
        return;
    }
    lw->len += (size_t)n;
}

static void end_line(line_writer *lw)
{
    put(lw, "\n");
    if (!lw->overflow) lw->committed = lw->len;
}

/* out must hold 2 * n + 1 characters. */
static const char *hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return out;
}

static void put_cid_line(line_writer *lw, const char *name, const skiff_tp_cid *cid)
{
    char h[2 * SKIFF_TP_CID_MAX_LEN + 1];
    size_t n = cid->len <= SKIFF_TP_CID_MAX_LEN ? cid->len : SKIFF_TP_CID_MAX_LEN;
    put(lw, "%s: %s", name, n ? hex(h, cid->data, n) : "(empty)");
    end_line(lw);
}

/* RFC 5952 text form: lowercase, no leading zeros, the longest run of two or
 * more zero groups (the first, on a tie) as "::". The core may not include
 * socket headers (STYLE.md), hence no inet_ntop. out holds 40 characters. */
static void format_ipv6(char *out, const uint8_t a[16])
{
    unsigned g[8];
    for (int i = 0; i < 8; i++) g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int gap = -1, gap_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0) j++;
        if (j - i > gap_len) {
            gap = i;
            gap_len = j - i;
        }
        i = j;
    }
    if (gap_len < 2) gap = -1;
    char *p = out;
    for (int i = 0; i < 8;) {
        if (i == gap) {
            *p++ = ':';
            *p++ = ':';
            i += gap_len;
            continue;
        }
        if (i > 0 && i != gap + gap_len) *p++ = ':';
        p += sprintf(p, "%x", g[i]);
        i++;
    }
    *p = '\0';
}

static void put_int_line(line_writer *lw, const char *name, uint64_t v)
{
    put(lw, "%s: %llu", name, (unsigned long long)v);
    end_line(lw);
}

skiff_ssize skiff_transport_params_format(char *buf, size_t cap, const skiff_transport_params *tp)
{
    if (!buf || cap == 0) return SKIFF_ERR_BUFFER_TOO_SMALL;
    line_writer lw = {buf, cap, 0, 0, false};
    buf[0] = '\0';
    char h[2 * SKIFF_TP_RESET_TOKEN_LEN + 1];

    if (tp->has_original_destination_connection_id)
        put_cid_line(&lw, "original_destination_connection_id",
                     &tp->original_destination_connection_id);
    put_int_line(&lw, "max_idle_timeout", tp->max_idle_timeout);
    if (tp->has_stateless_reset_token) {
        put(&lw, "stateless_reset_token: %s",
            hex(h, tp->stateless_reset_token, SKIFF_TP_RESET_TOKEN_LEN));
        end_line(&lw);
    }
    put_int_line(&lw, "max_udp_payload_size", tp->max_udp_payload_size);
    put_int_line(&lw, "initial_max_data", tp->initial_max_data);
    put_int_line(&lw, "initial_max_stream_data_bidi_local",
                 tp->initial_max_stream_data_bidi_local);
    put_int_line(&lw, "initial_max_stream_data_bidi_remote",
                 tp->initial_max_stream_data_bidi_remote);
    put_int_line(&lw, "initial_max_stream_data_uni", tp->initial_max_stream_data_uni);
    put_int_line(&lw, "initial_max_streams_bidi", tp->initial_max_streams_bidi);
    put_int_line(&lw, "initial_max_streams_uni", tp->initial_max_streams_uni);
    put_int_line(&lw, "ack_delay_exponent", tp->ack_delay_exponent);
    put_int_line(&lw, "max_ack_delay", tp->max_ack_delay);
    if (tp->disable_active_migration) {
        put(&lw, "disable_active_migration: true");
        end_line(&lw);
    }
    if (tp->has_preferred_address) {
        const skiff_tp_preferred_address *pa = &tp->preferred_address;
        char v6[40], cid[2 * SKIFF_TP_CID_MAX_LEN + 1];
        size_t n = pa->cid.len <= SKIFF_TP_CID_MAX_LEN ? pa->cid.len : SKIFF_TP_CID_MAX_LEN;
        format_ipv6(v6, pa->ipv6);
        put(&lw, "preferred_address: %u.%u.%u.%u:%u [%s]:%u cid=%s reset_token=%s", pa->ipv4[0],
            pa->ipv4[1], pa->ipv4[2], pa->ipv4[3], (unsigned)pa->ipv4_port, v6,
            (unsigned)pa->ipv6_port, n ? hex(cid, pa->cid.data, n) : "(empty)",
            hex(h, pa->stateless_reset_token, SKIFF_TP_RESET_TOKEN_LEN));
        end_line(&lw);
    }
    put_int_line(&lw, "active_connection_id_limit", tp->active_connection_id_limit);
    if (tp->has_initial_source_connection_id)
        put_cid_line(&lw, "initial_source_connection_id", &tp->initial_source_connection_id);
    if (tp->has_retry_source_connection_id)
        put_cid_line(&lw, "retry_source_connection_id", &tp->retry_source_connection_id);
    if (tp->has_version_information) {
        const skiff_tp_version_information *vi = &tp->version_information;
        size_t n = vi->available_count <= SKIFF_TP_MAX_AVAILABLE_VERSIONS
                       ? vi->available_count
                       : SKIFF_TP_MAX_AVAILABLE_VERSIONS;
        put(&lw, "version_information: chosen=0x%08x available=",
            (unsigned)vi->chosen_version);
        for (size_t i = 0; i < n; i++)
            put(&lw, "%s0x%08x", i ? "," : "", (unsigned)vi->available[i]);
        if (n == 0) put(&lw, "(none)");
        if (vi->available_total > n) put(&lw, " (+%zu not kept)", vi->available_total - n);
        end_line(&lw);
    }
    if (tp->has_max_datagram_frame_size)
        put_int_line(&lw, "max_datagram_frame_size", tp->max_datagram_frame_size);
    if (tp->grease_quic_bit) {
        put(&lw, "grease_quic_bit: true");
        end_line(&lw);
    }
    if (lw.overflow) return SKIFF_ERR_BUFFER_TOO_SMALL;
    return (skiff_ssize)lw.len;
}
