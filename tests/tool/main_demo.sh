#!/usr/bin/env bash
# `make run`'s demo (scripts/demo) with its 200 MB file: it must show HTTP/3
# negotiated, the handshake time and rate, byte-exact copies, and a graceful
# GOAWAY shutdown that lets the in-flight download finish.
#   usage: main_demo.sh SKIFF
set -uo pipefail
skiff=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 100 bash "$here/../../scripts/demo" "$(dirname "$skiff")" 200 >"$out" 2>&1
status=$?
fail=0
[ $status -eq 0 ] || { echo "demo exited $status"; fail=1; }
for want in 'connected, alpn h3, TLS_[A-Z0-9_]+, handshake [0-9.]+ ms' '< :status: 200' \
    'Hello over HTTP/3 from skiff' '200000000 bytes in [0-9.]+ s, [0-9.]+ MB/s' 'the copy is byte-exact' \
    'client: skiff get: the server is going away \(GOAWAY, stream 4\)' 'server: skiff serve: stopping: GOAWAY sent' \
    'the download that was in flight completed byte-exact'; do
    grep -qE -- "$want" "$out" || { echo "missing from the demo: $want"; fail=1; }
done
[ $fail -eq 0 ] && echo "main demo: all checks passed" || cat "$out"
exit $fail
