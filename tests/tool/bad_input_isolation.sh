#!/usr/bin/env bash
# A server that meets bad input closes that connection with the RFC 9000
# §20.1 code and keeps serving the others: a 100 MB download runs while
# misbehaving clients, one per violation, are refused beside it.
#   usage: bad_input_isolation.sh SKIFF
set -uo pipefail
skiff=$1
bad=$(dirname "$skiff")/skiff-badclient
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/www"
head -c 100000000 /dev/urandom >"$tmp/www/big"
"$skiff" serve --listen 127.0.0.1:0 "$tmp/www" >"$tmp/serve.log" 2>&1 &
started+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/serve.log" | grep -oE '[0-9]+$')

timeout 60 "$skiff" get --insecure -o "$tmp/big.out" "https://127.0.0.1:$port/big" 2>"$tmp/get.log" &
good=$!
fail=0
# frames (hex) and the code (and offending frame type) the server must close with
cases=(
    "0e0080989680 0178:0x3 (FLOW_CONTROL_ERROR) in frame 0xe"
    "0a47d00178:0x4 (STREAM_LIMIT_ERROR) in frame 0xa"
    "0f00000178 0f00050178:0x6 (FINAL_SIZE_ERROR) in frame 0xf"
    "06800f42400178:0xd (CRYPTO_BUFFER_EXCEEDED) in frame 0x6"
    "02800f4240000000:0xa (PROTOCOL_VIOLATION) in frame 0x2"
    "1f:0x7 (FRAME_ENCODING_ERROR) in frame 0x1f"
    "1e:0xa (PROTOCOL_VIOLATION) in frame 0x1e"
)
for c in "${cases[@]}"; do
    frames=${c%%:*}
    want=${c#*:}
    frames=${frames// /}
    out=$(timeout 15 "$bad" "127.0.0.1:$port" "$frames")
    if ! grep -qF "transport error $want by peer" <<<"$out"; then
        echo "frames $frames: want 'transport error $want by peer', got: $out"
        fail=1
    fi
done
wait $good || { echo "the good download failed: $(cat "$tmp/get.log")"; fail=1; }
cmp -s "$tmp/www/big" "$tmp/big.out" || { echo "the good download is not byte-exact"; fail=1; }
[ $fail -eq 0 ] && echo "bad input: ${#cases[@]} connections closed with their codes; the 100 MB download intact"
exit $fail
