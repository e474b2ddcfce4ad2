#!/usr/bin/env bash
# skiff get against caddy 2.6.2 (HTTP/3 through quic-go 0.29), on loopback:
# the six files of tests/lib/h3_peers.sh (0 B to 10 MB) in one invocation,
# then 100 small files at once on one connection (one `skiff get` with 100
# URLs, --parallel-max 100; caddy allows 100 concurrent request streams),
# every file byte-exact, and the connection really HTTP/3 ("connected, alpn
# h3" from skiff get: caddy also offers h2 and h1 over TCP on the same port).
# Skips (77) only when caddy is not installed; scripts/install-deps installs it.
#   usage: h3_caddy.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
skiff=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v caddy >/dev/null; then
    echo "SKIP h3_caddy: caddy is not installed (run scripts/install-deps) -- HTTP/3 against caddy NOT TESTED"
    exit 77
fi
. "$here/../lib/h3_peers.sh"
h3_init
h3_make_cert || exit 1
h3_make_www "$h3_tmp/www"

port=$(free_port)
[ -n "$port" ] || { echo "FAIL no free port"; exit 1; }
start_caddy "$h3_www" "$port" || exit 1
echo "caddy $(caddy version | cut -d' ' -f1) on 127.0.0.1:$port"

fail=0
h3_check_skiff_get "$skiff" caddy-six 15 "$port" "${h3_files[@]}" || fail=1
h3_check_skiff_get "$skiff" caddy-100 15 "$port" "${h3_many[@]}" || fail=1

if [ $fail -eq 0 ]; then echo "h3 caddy: all checks passed"; else echo "h3 caddy: FAIL"; fi
exit $fail
