#!/usr/bin/env bash
# HTTP/3 bad input against `skiff serve` over real QUIC: each misbehaving
# client (skiff-h3bad writes raw bytes on its streams) is closed with the
# RFC 9114 / RFC 9204 code, while a 100 MB HTTP/3 download from the same
# server stays byte-exact.
#   usage: h3_bad_input.sh SKIFF
set -uo pipefail
skiff=$1
bad=$(dirname "$skiff")/skiff-h3bad
. "$(dirname "$0")/../lib/h3_peers.sh"
h3_init
h3_make_cert
tmp=$h3_tmp
mkdir -p "$tmp/www"
head -c 100000000 /dev/urandom >"$tmp/www/big"
start_skiff_serve "$skiff" "$tmp/www" || exit 1
port=$peer_port

timeout 60 "$skiff" get --insecure -o "$tmp/big.out" "https://127.0.0.1:$port/big" 2>"$tmp/get.log" &
good=$!
fail=0
control=uni:000400 # a control stream with an empty SETTINGS
blocked=()
for _ in $(seq 1 17); do blocked+=(bidi:0103020080); done
# the code the server must close with | the streams the client opens
cases=(
    "0x10a|uni:00070100"                    # GOAWAY before SETTINGS: H3_MISSING_SETTINGS
    "0x105|uni:0004000400"                  # a second SETTINGS: H3_FRAME_UNEXPECTED
    "0x103|$control $control"               # a second control stream: H3_STREAM_CREATION_ERROR
    "0x104|uni-fin:000400"                  # the control stream closed: H3_CLOSED_CRITICAL_STREAM
    "0x109|uni:0004020200"                  # SETTINGS_ENABLE_PUSH (HTTP/2 only): H3_SETTINGS_ERROR
    "0x105|$control bidi:00026869"          # DATA before HEADERS: H3_FRAME_UNEXPECTED
    "0x103|$control uni:0100"               # a push stream from a client: H3_STREAM_CREATION_ERROR (§6.2.2)
    "0x200|$control uni:023f214461616161046262626244636363630464646464 bidi:0103030081" # evicted entry
    "0x200|$control bidi:01050000518100"    # bad Huffman padding: QPACK_DECOMPRESSION_FAILED
    "0x200|$control ${blocked[*]}"          # 17 blocked streams, 16 allowed
)
for c in "${cases[@]}"; do
    want=${c%%|*}
    read -r -a streams <<<"${c#*|}"
    out=$(timeout 15 "$bad" "127.0.0.1:$port" "${streams[@]}")
    if ! grep -qF "application error $want by peer" <<<"$out"; then
        echo "streams ${streams[*]:0:3}: want 'application error $want by peer', got: $out"
        fail=1
    fi
done
wait $good || { echo "the good download failed: $(cat "$tmp/get.log")"; fail=1; }
cmp -s "$tmp/www/big" "$tmp/big.out" || { echo "the good download is not byte-exact"; fail=1; }
[ $fail -eq 0 ] && echo "h3 bad input: ${#cases[@]} connections closed with their codes; the 100 MB download intact"
exit $fail
