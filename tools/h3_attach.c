/* HTTP/3 on a QUIC connection of the tool's engine, client or server. */
#include <string.h>

#include "h3/h3_quic.h"
#include "tool.h"

int tool_h3_attach(skiff_h3_conn **out, skiff_conn *c, bool is_server, const skiff_h3_callbacks *cb,
                   void *ud)
{
    skiff_h3_config cfg;
    skiff_h3_config_default(&cfg, is_server);
    /* Grease values change from run to run, so a peer cannot special-case one. */
    uint8_t seed[8];
    tool_random(seed, sizeof seed);
    memcpy(&cfg.grease_seed, seed, sizeof seed);
    cfg.grease_seed %= 1000;
    skiff_h3_transport t;
    skiff_h3_quic_transport(&t, c);
    return skiff_h3_conn_new(out, &cfg, cb, ud, &t);
}
