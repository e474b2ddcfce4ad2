#!/usr/bin/env bash
# `skiff demo` and `skiff decode`, as a user runs them: the RFC 9001 §A.2
# client Initial decoded field by field, and clear failures on bad input.
#   usage: demo.sh SKIFF
set -uo pipefail
skiff=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect FILE PATTERN: the output has a line matching PATTERN
    if ! grep -qE -- "$2" "$1"; then
        echo "missing in $(basename "$1"): $2"
        fail=1
    fi
}

"$skiff" demo >"$tmp/demo.out" 2>"$tmp/demo.err" || { echo "skiff demo failed:"; cat "$tmp/demo.err"; exit 1; }
out=$tmp/demo.out
expect "$out" '^datagram: 1200 bytes$'
expect "$out" '^packet 1: Initial, 1200 bytes$'
expect "$out" 'version: +0x00000001 \(QUIC v1\)'
expect "$out" 'first byte \(protected\): +0xc0$'
expect "$out" 'first byte \(unprotected\): +0xc3 \(packet number length 4\)'
expect "$out" 'destination connection id: +8394c8f03e515708 \(8 bytes\)'
expect "$out" 'source connection id: +\(empty\) \(0 bytes\)'
expect "$out" 'length: +1182$'
expect "$out" 'packet number: +2$'
expect "$out" 'payload: 1162 bytes decrypted'
expect "$out" '^    CRYPTO offset=0 length=241$'
expect "$out" '^    PADDING length=917$'
expect "$out" 'server name: example.com$'
expect "$out" 'ALPN: alpn$'
expect "$out" 'cipher suites: 0x1301 0x1302$'
expect "$out" 'quic_transport_parameters \([0-9]+ bytes\)'
expect "$out" 'initial_max_stream_data_bidi_local: [0-9]+'

# The demo's bytes through `decode`, as hex with whitespace, give the same output.
"$skiff" demo --hex >"$tmp/sample.hex" || { echo "skiff demo --hex failed"; fail=1; }
"$skiff" decode "$tmp/sample.hex" >"$tmp/decode.out" 2>&1 || { echo "decode of the hex failed"; fail=1; }
tail -n +2 "$out" | diff - <(tail -n +1 "$tmp/decode.out") >/dev/null \
    || { echo "decode output differs from demo output"; diff <(tail -n +2 "$out") "$tmp/decode.out" | head; fail=1; }

# One flipped ciphertext bit: authentication fails, one clear line, exit 1.
python3 - "$tmp/sample.hex" "$tmp/bad.bin" <<'PY'
import sys
data = bytearray.fromhex(open(sys.argv[1]).read())
data[600] ^= 0x01
open(sys.argv[2], "wb").write(data)
PY
"$skiff" decode "$tmp/bad.bin" >"$tmp/bad.out" 2>"$tmp/bad.err"
status=$?
[ $status -eq 1 ] || { echo "corrupt packet: exit $status, want 1"; fail=1; }
expect "$tmp/bad.err" '^skiff: payload: packet authentication failed$'

# A truncated datagram: the Length runs past its end.
head -c 600 "$tmp/bad.bin" >"$tmp/short.bin"
"$skiff" decode "$tmp/short.bin" >/dev/null 2>"$tmp/short.err"
status=$?
[ $status -eq 1 ] || { echo "truncated datagram: exit $status, want 1"; fail=1; }
expect "$tmp/short.err" '^skiff: packet 1: input truncated$'

# Usage errors exit 2; help exits 0.
"$skiff" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || { echo "unknown command: want exit 2"; fail=1; }
"$skiff" --help | grep -q '^usage: skiff' || { echo "--help shows no usage"; fail=1; }

[ $fail -eq 0 ] && echo "tool demo: all checks passed"
exit $fail
