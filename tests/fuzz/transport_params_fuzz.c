/*
 * libFuzzer target: transport parameters as sent by either role.
 * Property: whatever decodes re-encodes, and the re-encoding decodes to
 * parameters that encode to the very same bytes (a fixed point).
 */
#include <stdlib.h>
#include <string.h>

#include "quic/transport_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    skiff_role sender = (data[0] & 1) ? SKIFF_ROLE_SERVER : SKIFF_ROLE_CLIENT;
    skiff_transport_params tp, again;
    if (skiff_transport_params_decode(&tp, data + 1, size - 1, sender) != 0) return 0;

    static uint8_t a[SKIFF_TRANSPORT_PARAMS_MAX_LEN], b[SKIFF_TRANSPORT_PARAMS_MAX_LEN];
    skiff_ssize na = skiff_transport_params_encode(a, sizeof a, &tp, sender, 0);
    if (na < 0) abort();
    if (skiff_transport_params_decode(&again, a, (size_t)na, sender) != 0) abort();
    skiff_ssize nb = skiff_transport_params_encode(b, sizeof b, &again, sender, 0);
    if (nb != na || memcmp(a, b, (size_t)na) != 0) abort();

    char text[SKIFF_TRANSPORT_PARAMS_FORMAT_MAX_LEN];
    if (skiff_transport_params_format(text, sizeof text, &tp) < 0) abort();
    return 0;
}
