#!/usr/bin/env bash
# Seed 003's example both ways with quic-go 0.29: CloseWithError(0x42, "I
# don't want to talk to you anymore 🙉") reaches skiff as "application error
# 0x42 by peer" with the reason intact, and skiff's close reaches quic-go as
# *quic.ApplicationError{Remote: true, ErrorCode: 0x42, ErrorMessage: ...}.
#   usage: close_with_error.sh SKIFF
set -uo pipefail
skiff=$1
build=$(dirname "$skiff")
here=$(cd "$(dirname "$0")" && pwd)
reason="I don't want to talk to you anymore 🙉"
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
head -c 50000000 /dev/urandom >"$tmp/www/big"
wait_line() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
fail=0

# quic-go closes: skiff get, mid-download (slowed by the relay), reports it.
"$build/quicgo-peer" server --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
    --root "$tmp/www" --alpn hq-interop --close-after 500ms --close-code 0x42 --close-reason "$reason" \
    >"$tmp/qs.log" 2>&1 &
started+=($!)
wait_line "$tmp/qs.log" listening
port=$(grep -oE 'listening 127.0.0.1:[0-9]+' "$tmp/qs.log" | grep -oE '[0-9]+$')
"$build/skiff-relay" --listen 127.0.0.1:0 --server "127.0.0.1:$port" --up loss=0 \
    --down "rate=50mbit,queue=512k" --duration 30 >"$tmp/relay.log" 2>&1 &
started+=($!)
wait_line "$tmp/relay.log" 'listening on'
rport=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/relay.log" | grep -oE '[0-9]+$')
timeout 20 "$skiff" get --insecure --alpn hq-interop -o /dev/null "https://127.0.0.1:$rport/big" 2>"$tmp/get.log"
[ $? -ne 0 ] || { echo "skiff get: exit 0 although the server closed with an error"; fail=1; }
grep -qxF "skiff get: application error 0x42 by peer: $reason" "$tmp/get.log" ||
    { echo "skiff get: $(cat "$tmp/get.log")"; fail=1; }

# skiff closes: quic-go's client, holding the connection, reports it.
"$build/skiff-closer" 127.0.0.1:0 "$tmp/cert.pem" "$tmp/key.pem" 300 0x42 "$reason" >"$tmp/closer.log" 2>&1 &
started+=($!)
wait_line "$tmp/closer.log" 'listening on'
port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/closer.log" | grep -oE '[0-9]+$')
timeout 20 "$build/quicgo-peer" client --insecure --alpn hq-interop --hold 5s "https://127.0.0.1:$port/none" \
    >"$tmp/qc.log" 2>&1
grep -qF "closed application remote=true code=0x42 reason=\"$reason\"" "$tmp/qc.log" ||
    { echo "quic-go client: $(grep closed "$tmp/qc.log")"; fail=1; }
wait_line "$tmp/closer.log" 'application error 0x42 locally'
grep -qF "closer: application error 0x42 locally: $reason" "$tmp/closer.log" ||
    { echo "skiff-closer: $(cat "$tmp/closer.log")"; fail=1; }
[ $fail -eq 0 ] && echo "close with error: 0x42 and the emoji reason intact, both ways"
exit $fail
