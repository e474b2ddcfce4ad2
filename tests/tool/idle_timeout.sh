#!/usr/bin/env bash
# Idle timeouts and keep-alive (RFC 9000 §10.1, seed 003) against quic-go 0.29:
#  1. quic-go 1 s, skiff 30 s: skiff ends at the negotiated 1 s (plus at most
#     3 PTO), silently; quic-go reports *quic.IdleTimeoutError.
#  2. skiff 2 s, quic-go 30 s: skiff ends at 2 s; quic-go, which raises a
#     peer's idle timeout below 5 s to 5 s on its own side (documented by
#     quic-go), reports an idle timeout too, later.
#  3. the same with a 1 s keep-alive on skiff's side: 10 s of silence and the
#     connection lives; quic-go then closes it itself.
#   usage: idle_timeout.sh SKIFF
set -uo pipefail
skiff=$1
build=$(dirname "$skiff")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$build/quicgo-peer" ] || bash "$here/../interop/build-quicgo.sh" "$build" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 1 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
wait_line() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
fail=0

run() { # run NAME SKIFF_IDLE_MS SKIFF_KEEPALIVE_MS QUICGO_IDLE HOLD
    local name=$1
    CLOSER_IDLE_MS=$2 CLOSER_KEEP_ALIVE_MS=$3 "$build/skiff-closer" 127.0.0.1:0 "$tmp/cert.pem" "$tmp/key.pem" \
        -1 0 "" >"$tmp/$name.closer" 2>&1 &
    local closer=$!
    started+=($closer)
    wait_line "$tmp/$name.closer" 'listening on'
    local port
    port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/$name.closer" | grep -oE '[0-9]+$')
    timeout 40 "$build/quicgo-peer" client --insecure --alpn hq-interop --max-idle-timeout "$4" --hold "$5" \
        "https://127.0.0.1:$port/none" >"$tmp/$name.quicgo" 2>&1
    wait_line "$tmp/$name.closer" 'ended'
    kill $closer 2>/dev/null
}
after() { grep -oE 'ended [0-9.]+ s' "$1" | grep -oE '[0-9.]+'; }

run min-is-quicgo 30000 "" 1s 8s
t=$(after "$tmp/min-is-quicgo.closer")
grep -q '^closer: idle timeout$' "$tmp/min-is-quicgo.closer" || { echo "1: skiff: $(head -3 "$tmp/min-is-quicgo.closer")"; fail=1; }
[ "$(echo "${t:-0} >= 0.9 && ${t:-0} < 2.5" | bc)" = 1 ] || { echo "1: skiff ended after ${t}s, want about 1 s"; fail=1; }
grep -q 'closed idle_timeout' "$tmp/min-is-quicgo.quicgo" || { echo "1: quic-go: $(grep closed "$tmp/min-is-quicgo.quicgo")"; fail=1; }

run min-is-skiff 2000 "" 30s 8s
t=$(after "$tmp/min-is-skiff.closer")
grep -q '^closer: idle timeout$' "$tmp/min-is-skiff.closer" || { echo "2: skiff: $(head -3 "$tmp/min-is-skiff.closer")"; fail=1; }
[ "$(echo "${t:-0} >= 1.9 && ${t:-0} < 3.5" | bc)" = 1 ] || { echo "2: skiff ended after ${t}s, want about 2 s"; fail=1; }
grep -q 'closed idle_timeout' "$tmp/min-is-skiff.quicgo" || { echo "2: quic-go: $(grep closed "$tmp/min-is-skiff.quicgo")"; fail=1; }

run keep-alive 2000 1000 30s 10s
grep -q 'closed by-us' "$tmp/keep-alive.quicgo" || { echo "3: quic-go: $(grep closed "$tmp/keep-alive.quicgo")"; fail=1; }
grep -q '^closer: application error 0x0 by peer' "$tmp/keep-alive.closer" || { echo "3: skiff: $(head -3 "$tmp/keep-alive.closer")"; fail=1; }
t=$(after "$tmp/keep-alive.closer")
[ "$(echo "${t:-0} >= 9.5" | bc)" = 1 ] || { echo "3: the connection ended after ${t}s, before 10 s"; fail=1; }
[ $fail -eq 0 ] && echo "idle timeout: the negotiated minimum either way; keep-alive holds 10 s of silence"
exit $fail
