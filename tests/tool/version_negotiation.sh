#!/usr/bin/env bash
# Version negotiation (RFC 9000 §6) with quic-go 0.29 both ways, and the
# handshake timeout against a port where nothing answers. Each failure ends
# with its typed reason, on one line, and a non-zero exit.
#   usage: version_negotiation.sh SKIFF
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
echo hi >"$tmp/www/x"
wait_line() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
fail=0

# skiff (v1) against a quic-go server that speaks only draft-29.
"$build/quicgo-peer" server --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
    --root "$tmp/www" --alpn hq-interop --versions draft29 >"$tmp/qs.log" 2>&1 &
started+=($!)
wait_line "$tmp/qs.log" listening
port=$(grep -oE 'listening 127.0.0.1:[0-9]+' "$tmp/qs.log" | grep -oE '[0-9]+$')
timeout 10 "$skiff" get --insecure -o /dev/null "https://127.0.0.1:$port/x" 2>"$tmp/get.log"
[ $? -ne 0 ] || { echo "skiff get: exit 0 without a common version"; fail=1; }
grep -qE '^skiff get: version negotiation failed: ours 0x00000001, theirs .*0xff00001d' "$tmp/get.log" ||
    { echo "skiff get: $(cat "$tmp/get.log")"; fail=1; }

# A quic-go client that speaks only draft-29 against skiff (v1).
"$skiff" serve --listen 127.0.0.1:0 "$tmp/www" >"$tmp/ss.log" 2>&1 &
started+=($!)
wait_line "$tmp/ss.log" 'listening on'
port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/ss.log" | grep -oE '[0-9]+$')
timeout 10 "$build/quicgo-peer" client --insecure --alpn hq-interop --versions draft29 \
    "https://127.0.0.1:$port/x" >"$tmp/qc.log" 2>&1
grep -qE 'closed version_negotiation ours=\[0xff00001d\] theirs=\[0x00000001' "$tmp/qc.log" ||
    { echo "quic-go client: $(grep closed "$tmp/qc.log")"; fail=1; }

# Nothing answers: the handshake timeout ends it, on time.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c "import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $port)); time.sleep(10)" &
started+=($!)
start=$(date +%s.%N)
timeout 10 "$skiff" get --insecure --handshake-timeout 1s -o /dev/null "https://127.0.0.1:$port/x" 2>"$tmp/hs.log"
status=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
[ $status -ne 0 ] || { echo "handshake timeout: exit 0"; fail=1; }
grep -q '^skiff get: handshake timeout$' "$tmp/hs.log" || { echo "handshake timeout: $(cat "$tmp/hs.log")"; fail=1; }
[ "$(echo "$took >= 1.0 && $took < 3.0" | bc)" = 1 ] || { echo "handshake timeout after ${took}s, want about 1 s"; fail=1; }
[ $fail -eq 0 ] && echo "version negotiation both ways, and the handshake timeout, end with their reasons"
exit $fail
