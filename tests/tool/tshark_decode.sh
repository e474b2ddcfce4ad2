#!/usr/bin/env bash
# tshark, an independent decoder, reads a capture of one skiff-to-skiff
# transfer, decrypted with the key log skiff writes when SSLKEYLOGFILE is set:
# every packet decrypts (STREAM data is visible), and nothing is malformed or
# flagged as an error. Capturing needs root (CI runs as root).
#   usage: tshark_decode.sh SKIFF
set -uo pipefail
skiff=$1
command -v tshark >/dev/null || { echo "SKIP tshark: not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP tshark: capturing on loopback needs root"; exit 77; }
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/www" "$tmp/out"
head -c 300000 /dev/urandom >"$tmp/www/file"
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

tshark -i lo -f "udp port $port" -w "$tmp/cap.pcapng" -q >"$tmp/tshark.log" 2>&1 &
started+=($!)
for _ in $(seq 1 100); do grep -q "Capturing on" "$tmp/tshark.log" && break; sleep 0.05; done
sleep 0.3
# Without GSO, so the capture holds datagrams, not the kernel's GSO sends.
export SKIFF_GSO=0
SSLKEYLOGFILE=$tmp/keys.log "$skiff" serve --listen "127.0.0.1:$port" "$tmp/www" >"$tmp/serve.log" 2>&1 &
started+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
SSLKEYLOGFILE=$tmp/keys.log timeout 10 "$skiff" get --insecure -o "$tmp/out/file" "https://127.0.0.1:$port/file" \
    2>"$tmp/get.log" || { echo "transfer failed:"; cat "$tmp/get.log"; exit 1; }
cmp -s "$tmp/www/file" "$tmp/out/file" || { echo "transfer not byte-exact"; exit 1; }
sleep 0.5
kill "${started[0]}" 2>/dev/null
wait "${started[0]}" 2>/dev/null

fail=0
fields() { tshark -r "$tmp/cap.pcapng" -o "tls.keylog_file:$tmp/keys.log" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l; }
packets=$(fields quic)
streams=$(fields quic.stream.stream_id)
crypto=$(fields quic.crypto.offset)
undecrypted=$(fields 'quic.remaining_payload')
malformed=$(fields '_ws.malformed')
errors=$(fields '_ws.expert.severity == error')
echo "tshark: $packets QUIC datagrams, $streams with STREAM frames, $crypto with CRYPTO frames, $undecrypted undecrypted, $malformed malformed, $errors expert errors"
[ "$packets" -gt 20 ] || { echo "too few packets captured"; fail=1; }
[ "$streams" -gt 10 ] || { echo "STREAM frames not decrypted"; fail=1; }
[ "$crypto" -ge 4 ] || { echo "CRYPTO frames not decrypted"; fail=1; }
[ "$undecrypted" -eq 0 ] || { echo "packets tshark could not decrypt"; fail=1; }
[ "$malformed" -eq 0 ] || { echo "malformed packets"; fail=1; }
[ "$errors" -eq 0 ] || { echo "expert errors:"; tshark -r "$tmp/cap.pcapng" -o "tls.keylog_file:$tmp/keys.log" -Y '_ws.expert.severity == error' 2>/dev/null | head; fail=1; }
exit $fail
