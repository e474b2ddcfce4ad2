#!/usr/bin/env bash
# Handshakes per second against one skiff server and one quic-go server, in
# the same run, with the same client (the quic-go peer's --handshakes mode:
# each a new connection, closed right after its handshake). Reports; never
# fails on speed.
#   usage: handshakes.sh BUILD_DIR
set -uo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_HANDSHAKES:-2000}
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
wait_port() {
    for _ in $(seq 1 100); do
        grep -m1 -oE "$2" "$1" 2>/dev/null | grep -oE '[0-9]+$' && return 0
        sleep 0.05
    done
    return 1
}
rate() { # rate NAME
    local name=$1 port spid
    if [ "$name" = skiff ]; then
        "$build/skiff" serve --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" "$tmp/www" \
            >"$tmp/server.log" 2>&1 &
        spid=$!
        port=$(wait_port "$tmp/server.log" 'listening on 127.0.0.1:[0-9]+')
    else
        "$build/quicgo-peer" server --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
            --root "$tmp/www" --alpn hq-interop >"$tmp/server.log" 2>&1 &
        spid=$!
        port=$(wait_port "$tmp/server.log" 'listening 127.0.0.1:[0-9]+')
    fi
    started+=("$spid")
    local line
    line=$("$build/quicgo-peer" client --cacert "$tmp/cert.pem" --alpn hq-interop --handshakes "$n" \
        --concurrency 8 "https://127.0.0.1:$port/" 2>/dev/null | grep -E '^handshakes')
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    echo "handshakes server=$name: ${line:-FAILED}"
    eval "r_$name=$(echo "$line" | grep -oE '\(([0-9.]+)/s\)' | grep -oE '[0-9.]+' || echo 0)"
}
r_skiff=0 r_quicgo=0
rate skiff
rate quicgo
[ "$(echo "$r_quicgo > 0" | bc)" = 1 ] &&
    printf 'handshakes ratio: skiff/quic-go server = %.2fx (same quic-go client)\n' "$(echo "$r_skiff / $r_quicgo" | bc -l)"
