#!/usr/bin/env bash
# QUIC handshakes with ngtcp2 0.12 (gtlsclient / gtlsserver, GnuTLS backend),
# both directions, ALPN h3. ngtcp2's tools speak only HTTP/3, which skiff's
# HTTP/3 issue brings; here the handshake must complete on both ends and the
# peer must process skiff's 1-RTT packets (it answers with an HTTP/3 error).
#   usage: ngtcp2_handshake.sh SKIFF
set -uo pipefail
skiff=$1
command -v gtlsclient >/dev/null && [ -x /usr/sbin/gtlsserver ] ||
    { echo "SKIP ngtcp2: ngtcp2-client/ngtcp2-server are not installed"; exit 77; }
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 1 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
mkdir -p "$tmp/www"
echo hello >"$tmp/www/index.html"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# skiff client -> ngtcp2 server
port=$(free_port)
/usr/sbin/gtlsserver --htdocs="$tmp/www" 127.0.0.1 "$port" "$tmp/key.pem" "$tmp/cert.pem" >"$tmp/ngserver.log" 2>&1 &
started+=($!)
sleep 0.3
timeout 10 "$skiff" get --cacert "$tmp/cert.pem" --alpn h3 -o "$tmp/out" "https://127.0.0.1:$port/index.html" \
    >"$tmp/get.log" 2>&1
grep -q 'connected, alpn h3' "$tmp/get.log" || { echo "skiff->ngtcp2: no handshake:"; cat "$tmp/get.log"; fail=1; }
# ngtcp2 closes with an HTTP/3 error code (0x100-0x110): it read our 1-RTT packets.
grep -qE 'application error 0x1[0-9a-f]{2} by peer' "$tmp/get.log" ||
    { echo "skiff->ngtcp2: expected an HTTP/3 close from the peer:"; cat "$tmp/get.log"; fail=1; }
grep -q 'QUIC handshake has completed' "$tmp/ngserver.log" ||
    { echo "skiff->ngtcp2: the server did not complete the handshake"; fail=1; }

# ngtcp2 client -> skiff server
"$skiff" serve --listen 127.0.0.1:0 --alpn h3 --cert "$tmp/cert.pem" --key "$tmp/key.pem" "$tmp/www" \
    >"$tmp/serve.log" 2>&1 &
started+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/serve.log" | grep -oE '[0-9]+$')
timeout 10 gtlsclient --exit-on-all-streams-close 127.0.0.1 "$port" \
    "https://127.0.0.1:$port/index.html" >"$tmp/ngclient.log" 2>&1
grep -q 'QUIC handshake has completed' "$tmp/ngclient.log" ||
    { echo "ngtcp2->skiff: the client did not complete the handshake:"; tail -20 "$tmp/ngclient.log"; fail=1; }

[ $fail -eq 0 ] && echo "ngtcp2 handshake: both directions complete"
exit $fail
