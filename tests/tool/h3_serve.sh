#!/usr/bin/env bash
# What `skiff serve` answers over HTTP/3 and how `skiff get` shows it, as a
# user sees it: ranges (206, 416, ignored when several), HEAD with -I, 405
# with allow, 404 and -f's exit 22, content types, index.html for a folder,
# no way out of the root, one log line per request, and the progress bar
# on a terminal.
#   usage: h3_serve.sh SKIFF
set -uo pipefail
skiff=$1
. "$(dirname "$0")/../lib/h3_peers.sh"
h3_init
h3_make_cert
tmp=$h3_tmp
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
    local what=$1
    shift
    if ! "$@"; then echo "FAIL $what"; fail=1; fi
}
mkdir -p "$tmp/www/docs" "$tmp/out"
head -c 1000 /dev/urandom >"$tmp/www/data.bin"
echo '<p>index</p>' >"$tmp/www/docs/index.html"
echo '{"a":1}' >"$tmp/www/x.json"
head -c 30000000 /dev/urandom >"$tmp/www/big"
echo secret >"$tmp/secret"
start_skiff_serve "$skiff" "$tmp/www" || exit 1
port=$peer_port
base=https://127.0.0.1:$port
get() { timeout 20 "$skiff" get --insecure "$@"; }

# Ranges (RFC 9110 §14).
get -v -H 'Range: bytes=0-99' -o "$tmp/out/r1" "$base/data.bin" 2>"$tmp/r1.log"
check "range 0-99: 206" grep -q '< :status: 206' "$tmp/r1.log"
check "range 0-99: content-range" grep -q '< content-range: bytes 0-99/1000' "$tmp/r1.log"
check "range 0-99: the first 100 bytes" cmp -s "$tmp/out/r1" <(head -c 100 "$tmp/www/data.bin")
get -H 'range: bytes=-10' -o "$tmp/out/r2" "$base/data.bin" 2>/dev/null
check "suffix range: the last 10 bytes" cmp -s "$tmp/out/r2" <(tail -c 10 "$tmp/www/data.bin")
get -v -H 'Range: bytes=5000-' -o "$tmp/out/r3" "$base/data.bin" 2>"$tmp/r3.log"
check "range past the end: 416" grep -q '< :status: 416' "$tmp/r3.log"
check "range past the end: content-range */size" grep -q '< content-range: bytes \*/1000' "$tmp/r3.log"
get -H 'Range: bytes=0-1,5-6' -o "$tmp/out/r4" "$base/data.bin" 2>/dev/null
check "several ranges: the whole file" cmp -s "$tmp/out/r4" "$tmp/www/data.bin"

# HEAD with -I: the headers on stdout, no body.
get -I "$base/docs/" >"$tmp/head.out" 2>/dev/null
check "-I: status line" grep -q '^HTTP/3 200$' "$tmp/head.out"
check "-I: content-length of index.html" grep -q '^content-length: 13$' "$tmp/head.out"
check "-I: content-type" grep -q '^content-type: text/html; charset=utf-8$' "$tmp/head.out"
get -I "$base/x.json" 2>/dev/null | grep -q '^content-type: application/json$' || { echo "FAIL json content-type"; fail=1; }

# A folder serves its index.html.
get -o "$tmp/out/index" "$base/docs/" 2>/dev/null
check "folder: index.html" cmp -s "$tmp/out/index" "$tmp/www/docs/index.html"

# Methods other than GET and HEAD: 405 with allow.
get -v -X POST -o "$tmp/out/post" "$base/data.bin" 2>"$tmp/post.log"
check "POST: 405" grep -q '< :status: 405' "$tmp/post.log"
check "POST: allow" grep -q '< allow: GET, HEAD' "$tmp/post.log"

# 404, and -f turns it into exit 22 like curl.
get -o "$tmp/out/missing" "$base/missing" 2>"$tmp/404.log"
status=$?
check "404: exit 0 without -f" [ $status -eq 0 ]
check "404: the status is shown" grep -q 'missing: 404' "$tmp/404.log"
get -f -o "$tmp/out/missing" "$base/missing" 2>/dev/null
status=$?
check "404 with -f: exit 22 (got $status)" [ $status -eq 22 ]

# No way out of the root, raw or percent-encoded.
for path in '/../secret' '/%2e%2e/secret' '/docs/%2E%2E/%2e%2e/secret' '/.%2e/secret'; do
    get -o "$tmp/out/escape" "$base$path" 2>"$tmp/escape.log"
    grep -q ': 404' "$tmp/escape.log" || { echo "FAIL $path was not refused: $(cat "$tmp/escape.log")"; fail=1; }
    ! grep -q secret "$tmp/out/escape" 2>/dev/null || { echo "FAIL $path escaped the root"; fail=1; }
done

# One log line per request: method, path, status, bytes, protocol.
check "log: 206 line" grep -q '^GET /data.bin 206 100 h3$' "$skiff_serve_log"
check "log: 405 line" grep -q '^POST /data.bin 405 0 h3$' "$skiff_serve_log"
check "log: HEAD line" grep -q '^HEAD /docs/ 200 0 h3$' "$skiff_serve_log"

# The progress bar: on a terminal only, once a download has run a second.
# The relay slows the path to 60 Mbit/s, so 30 MB takes about 4 s.
relay=$(dirname "$skiff")/skiff-relay
"$relay" --listen 127.0.0.1:0 --server "127.0.0.1:$port" --up loss=0 --down rate=60mbit,queue=256k \
    --duration 60 >"$tmp/relay.log" 2>&1 &
h3_record $!
h3_wait_line "$tmp/relay.log" 'listening on' 5
rport=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/relay.log" | grep -oE '[0-9]+$')
script -qec "timeout 30 '$skiff' get --insecure -o '$tmp/out/big' 'https://127.0.0.1:$rport/big'" /dev/null \
    >"$tmp/tty.log" 2>&1
check "progress bar on a terminal" grep -qE '[0-9.]+% +[0-9.]+ MB of 30.0 MB +[0-9.]+ MB/s' "$tmp/tty.log"
check "big over the slow path: byte-exact" cmp -s "$tmp/out/big" "$tmp/www/big"
get -o "$tmp/out/big2" "https://127.0.0.1:$rport/big" 2>"$tmp/notty.log"
! grep -q '%' "$tmp/notty.log" || { echo "FAIL a progress bar when stderr is not a terminal"; fail=1; }

[ $fail -eq 0 ] && echo "h3 serve: all checks passed"
exit $fail
