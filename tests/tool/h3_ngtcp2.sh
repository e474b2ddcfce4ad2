#!/usr/bin/env bash
# HTTP/3 with ngtcp2 0.12 + nghttp3 0.8 (gtlsclient / gtlsserver), both
# directions, on loopback, every file byte-exact:
#   - skiff get -> gtlsserver: the non-empty five of the six files of
#     tests/lib/h3_peers.sh (gtlsserver answers 404 for a 0-byte file: it
#     mmaps what it serves), then 100 small files at once (one `skiff get`
#     with 100 URLs; gtlsserver allows 100 concurrent request streams, but
#     only 3 unidirectional streams: control + the two QPACK streams);
#   - gtlsclient -> skiff serve: the six files, then the 100 small files, on
#     one connection each. gtlsclient exits 0 whatever the status and saves
#     error bodies too, so its log must show ":status: 200" per request.
# nghttp3 uses the QPACK dynamic table (4096 bytes, 100 blocked streams)
# whenever the peer's SETTINGS allow it.
#   usage: h3_ngtcp2.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
skiff=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/h3_peers.sh"
command -v gtlsclient >/dev/null && [ -x "$h3_gtlsserver" ] ||
    { echo "SKIP h3_ngtcp2: ngtcp2-client/ngtcp2-server are not installed -- HTTP/3 against ngtcp2 NOT TESTED"; exit 77; }
h3_init
h3_make_cert || exit 1
h3_make_www "$h3_tmp/www"
fail=0

# skiff client -> ngtcp2 server
port=$(free_port)
[ -n "$port" ] || { echo "FAIL no free port"; exit 1; }
start_gtlsserver "$h3_www" "$port" || exit 1
nonempty=()
for f in "${h3_files[@]}"; do [ "${h3_size[$f]}" -gt 0 ] && nonempty+=("$f"); done
h3_check_skiff_get "$skiff" skiff-to-ngtcp2-five 15 "$port" "${nonempty[@]}" || fail=1
h3_check_skiff_get "$skiff" skiff-to-ngtcp2-100 15 "$port" "${h3_many[@]}" || fail=1
h3_stop "$peer_pid"

# ngtcp2 client -> skiff server
if start_skiff_serve "$skiff" "$h3_www"; then
    h3_check_gtlsclient ngtcp2-to-skiff-six 15 "$peer_port" "${h3_files[@]}" || fail=1
    h3_check_gtlsclient ngtcp2-to-skiff-100 15 "$peer_port" "${h3_many[@]}" || fail=1
    kill -0 "$peer_pid" 2>/dev/null || { echo "FAIL skiff serve exited during the test:"; tail -10 "$skiff_serve_log"; fail=1; }
else
    fail=1
fi

if [ $fail -eq 0 ]; then echo "h3 ngtcp2: all checks passed"; else echo "h3 ngtcp2: FAIL"; fi
exit $fail
