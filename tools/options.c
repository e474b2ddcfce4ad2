/* The options `skiff serve` and `skiff get` share, and how they set up a connection. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

void tool_options_init(tool_options *o)
{
    memset(o, 0, sizeof *o);
    o->alpn = "hq-interop";
    o->keylog = getenv("SSLKEYLOGFILE");
    o->idle = SKIFF_MS(30000);
    o->handshake_timeout = SKIFF_MS(10000);
}

int tool_options_parse(tool_options *o, int opt, const char *arg)
{
    switch (opt) {
    case 'a': o->alpn = arg; return 1;
    case 'K': o->keylog = arg; return 1;
    case 'U': o->key_update = true; return 1;
    case 'Z': o->early = true; return 1;
    case 'T':
        if (tool_tls13_priority(arg, o->priority, sizeof o->priority))
            return -tool_fail("bad --tls13-ciphers '%s'", arg);
        return 1;
    case 'i':
        if (tool_parse_duration(arg, &o->idle)) return -tool_fail("bad --idle-timeout '%s'", arg);
        return 1;
    case TOOL_OPT_HANDSHAKE_TIMEOUT:
        if (tool_parse_duration(arg, &o->handshake_timeout) || !o->handshake_timeout)
            return -tool_fail("bad --handshake-timeout '%s'", arg);
        return 1;
    case 'A':
        if (tool_parse_duration(arg, &o->keep_alive)) return -tool_fail("bad --keep-alive '%s'", arg);
        return 1;
    }
    return 0;
}

int tool_options_apply(tool_options *o, skiff_conn_config *cfg)
{
    int n = tool_parse_alpn(o->alpn, o->alpn_names, 16, &o->alpn_storage);
    if (n < 0) return tool_fail("bad --alpn '%s'", o->alpn);
    skiff_conn_config_default(cfg);
    cfg->alpn = o->alpn_names;
    cfg->alpn_count = (size_t)n;
    cfg->idle_timeout = o->idle;
    cfg->handshake_timeout = o->handshake_timeout;
    cfg->keep_alive = o->keep_alive;
    cfg->enable_0rtt = o->early;
    tool_random(o->static_key, sizeof o->static_key);
    cfg->static_key = o->static_key;
    return 0;
}

const char *tool_options_priority(const tool_options *o)
{
    return o->priority[0] ? o->priority : NULL;
}

void tool_options_free(tool_options *o)
{
    free(o->alpn_storage);
    o->alpn_storage = NULL;
}
