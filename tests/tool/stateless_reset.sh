#!/usr/bin/env bash
# Stateless reset (RFC 9000 §10.3) across a server restart with the same
# static key, both ways with quic-go 0.29:
#  - skiff serve restarts under a quic-go client holding an idle connection
#    with keep-alives: the client sees *quic.StatelessResetError;
#  - a quic-go server restarts under a skiff download slowed by skiff-relay:
#    skiff get ends with "stateless reset by peer" and exits non-zero.
#   usage: stateless_reset.sh SKIFF
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
mkdir -p "$tmp/www"
head -c 1000 /dev/urandom >"$tmp/www/small"
head -c 20000000 /dev/urandom >"$tmp/www/big"
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_line() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
fail=0

# 1. skiff server restarts; quic-go client holds an idle connection.
port=$(free_port)
"$skiff" serve --listen "127.0.0.1:$port" --reset-key "$key" "$tmp/www" >"$tmp/s1.log" 2>&1 &
s1=$!
started+=($s1)
wait_line "$tmp/s1.log" 'listening on'
timeout 30 "$build/quicgo-peer" client --insecure --alpn hq-interop --keep-alive 300ms --hold 6s \
    "https://127.0.0.1:$port/small" >"$tmp/qc.log" 2>&1 &
qc=$!
started+=($qc)
wait_line "$tmp/qc.log" 'downloaded'
kill $s1
wait $s1 2>/dev/null
"$skiff" serve --listen "127.0.0.1:$port" --reset-key "$key" "$tmp/www" >"$tmp/s2.log" 2>&1 &
s2=$!
started+=($s2)
wait $qc
grep -q 'closed stateless_reset' "$tmp/qc.log" ||
    { echo "quic-go client: want 'closed stateless_reset', got: $(grep closed "$tmp/qc.log")"; fail=1; }
kill -INT $s2
wait $s2 2>/dev/null
grep -qE 'stateless resets' "$tmp/s2.log" && ! grep -q ', 0 stateless resets' "$tmp/s2.log" ||
    { echo "restarted skiff server sent no reset: $(tail -1 "$tmp/s2.log")"; fail=1; }

# 2. quic-go server restarts under a skiff download slowed to 20 Mbit/s.
port=$(free_port)
"$build/quicgo-peer" server --listen "127.0.0.1:$port" --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
    --root "$tmp/www" --alpn hq-interop --reset-key "$key" >"$tmp/q1.log" 2>&1 &
q1=$!
started+=($q1)
wait_line "$tmp/q1.log" 'listening'
"$build/skiff-relay" --listen 127.0.0.1:0 --server "127.0.0.1:$port" --up "loss=0" \
    --down "rate=20mbit,queue=512k" --duration 60 >"$tmp/relay.log" 2>&1 &
started+=($!)
wait_line "$tmp/relay.log" 'listening on'
rport=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/relay.log" | grep -oE '[0-9]+$')
timeout 30 "$skiff" get --insecure --alpn hq-interop --keep-alive 500ms -o /dev/null "https://127.0.0.1:$rport/big" \
    2>"$tmp/get.log" &
get=$!
sleep 1.5
kill -9 $q1 # lost state, not a graceful close
wait $q1 2>/dev/null
"$build/quicgo-peer" server --listen "127.0.0.1:$port" --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
    --root "$tmp/www" --alpn hq-interop --reset-key "$key" >"$tmp/q2.log" 2>&1 &
started+=($!)
wait $get
status=$?
[ $status -ne 0 ] || { echo "skiff get: exit 0 after the server lost the connection"; fail=1; }
grep -q '^skiff get: stateless reset by peer$' "$tmp/get.log" ||
    { echo "skiff get: want 'stateless reset by peer', got: $(cat "$tmp/get.log")"; fail=1; }
[ $fail -eq 0 ] && echo "stateless reset: seen by quic-go's client and by skiff's, each after a restart"
exit $fail
