#!/usr/bin/env bash
# HTTP/3 with quic-go 0.29's http3 package (our peer, tests/interop/quicgo,
# --alpn h3), both directions, on loopback, every file byte-exact:
#   - the quic-go client -> skiff serve: the six files of tests/lib/h3_peers.sh,
#     then 100 small files at once, each run on one connection; the client
#     must report every download and close the connection itself
#     ("closed by-us", H3_NO_ERROR);
#   - skiff get -> the quic-go server: the same two sets (one `skiff get`
#     each; quic-go allows 100 concurrent request streams); the server must
#     report every file served, and see skiff close with H3_NO_ERROR (0x100).
# The peer is built next to SKIFF (tests/interop/build-quicgo.sh).
#   usage: h3_quicgo.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
skiff=$(realpath "$1")
build=$(dirname "$skiff")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/h3_peers.sh"
h3_build_quicgo "$build"
case $? in
0) ;;
3) echo "SKIP h3_quicgo: Go or quic-go is not installed (run scripts/install-deps) -- HTTP/3 against quic-go NOT TESTED"; exit 77 ;;
*) echo "FAIL building the quic-go peer"; exit 1 ;;
esac
h3_init
h3_make_cert || exit 1
h3_make_www "$h3_tmp/www"
fail=0

# quic-go client -> skiff server
if start_skiff_serve "$skiff" "$h3_www"; then
    h3_check_quicgo_client quicgo-to-skiff-six 15 "$peer_port" "${h3_files[@]}" || fail=1
    h3_check_quicgo_client quicgo-to-skiff-100 15 "$peer_port" "${h3_many[@]}" || fail=1
    kill -0 "$peer_pid" 2>/dev/null || { echo "FAIL skiff serve exited during the test:"; tail -10 "$skiff_serve_log"; fail=1; }
    h3_stop "$peer_pid"
else
    fail=1
fi

# skiff client -> quic-go server: a fresh server per set, so that its
# "closed" line belongs to that set's connection.
for set in six 100; do
    if [ $set = six ]; then names=("${h3_files[@]}"); else names=("${h3_many[@]}"); fi
    start_quicgo_h3_server "$h3_www" || { fail=1; continue; }
    log=$quicgo_server_log
    h3_check_skiff_get "$skiff" "skiff-to-quicgo-$set" 15 "$peer_port" "${names[@]}" || fail=1
    if ! grep -qE '^accepted .* alpn=h3 version=0x00000001 ' "$log"; then
        echo "FAIL skiff-to-quicgo-$set: the quic-go server saw no h3 connection"
        fail=1
        h3_stop "$peer_pid"
        continue
    fi
    missing=0
    for n in "${names[@]}"; do
        grep -qx "served ${h3_size[$n]:-$(stat -c %s "$h3_www/$n")} bytes /$n" "$log" || missing=$((missing + 1))
    done
    [ $missing -eq 0 ] || { echo "FAIL skiff-to-quicgo-$set: the server did not report $missing of ${#names[@]} files served"; fail=1; }
    # skiff get has exited: its close has reached the server (5 s at most).
    if h3_wait_line "$log" '^closed ' 5; then
        grep -qE '^closed application remote=true code=0x100 reason=' "$log" ||
            { echo "FAIL skiff-to-quicgo-$set: skiff get did not close with H3_NO_ERROR: $(grep -m1 '^closed ' "$log")"; fail=1; }
    else
        echo "FAIL skiff-to-quicgo-$set: the server saw no close within 5 s of skiff get's exit"
        fail=1
    fi
    h3_stop "$peer_pid"
done

if [ $fail -eq 0 ]; then echo "h3 quicgo: all checks passed"; else echo "h3 quicgo: FAIL"; fi
exit $fail
