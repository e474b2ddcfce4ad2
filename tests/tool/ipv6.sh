#!/usr/bin/env bash
# QUIC over IPv6 loopback: skiff to skiff, and quic-go's client to skiff's
# server, byte-exact.
#   usage: ipv6.sh SKIFF
set -uo pipefail
skiff=$1
build=$(dirname "$skiff")
here=$(cd "$(dirname "$0")" && pwd)
ip -6 addr show dev lo 2>/dev/null | grep -q '::1' || { echo "SKIP ipv6: no ::1 on loopback"; exit 77; }
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$build/quicgo-peer" ] || bash "$here/../interop/build-quicgo.sh" "$build" || exit 1
mkdir -p "$tmp/www" "$tmp/out"
head -c 3000000 /dev/urandom >"$tmp/www/f"
"$skiff" serve --listen '[::1]:0' "$tmp/www" >"$tmp/serve.log" 2>&1 &
started+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
port=$(grep -oE 'listening on \[::1\]:[0-9]+' "$tmp/serve.log" | grep -oE '[0-9]+$')
fail=0
timeout 20 "$skiff" get --insecure -o "$tmp/out/skiff" "https://[::1]:$port/f" 2>"$tmp/get.log" ||
    { echo "skiff over IPv6 failed: $(cat "$tmp/get.log")"; fail=1; }
cmp -s "$tmp/www/f" "$tmp/out/skiff" || { echo "skiff over IPv6: not byte-exact"; fail=1; }
mkdir -p "$tmp/qg"
timeout 20 "$build/quicgo-peer" client --insecure --alpn hq-interop -O "$tmp/qg" "https://[::1]:$port/f" \
    >"$tmp/qg.log" 2>&1 || { echo "quic-go over IPv6 failed: $(tail -3 "$tmp/qg.log")"; fail=1; }
cmp -s "$tmp/www/f" "$tmp/qg/f" || { echo "quic-go over IPv6: not byte-exact"; fail=1; }
[ $fail -eq 0 ] && echo "ipv6: skiff and quic-go clients byte-exact over ::1"
exit $fail
