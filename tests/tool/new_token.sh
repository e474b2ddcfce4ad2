#!/usr/bin/env bash
# NEW_TOKEN (RFC 9000 §8.1.3): a server that validates every address with a
# Retry gives the client a token for next time; the client's next connection
# presents it and is served without a Retry, and resumes its TLS session.
#   usage: new_token.sh SKIFF
set -uo pipefail
skiff=$1
tmp=$(mktemp -d)
started=()
cleanup() {
    for p in "${started[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/www"
head -c 5000 /dev/urandom >"$tmp/www/a"
"$skiff" serve --retry --listen 127.0.0.1:0 "$tmp/www" >"$tmp/serve.log" 2>&1 &
server=$!
started+=($server)
for _ in $(seq 1 100); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
port=$(grep -oE 'listening on 127.0.0.1:[0-9]+' "$tmp/serve.log" | grep -oE '[0-9]+$')
fail=0
for i in 1 2; do
    timeout 10 "$skiff" get --insecure --session-file "$tmp/session" -o "$tmp/a.$i" \
        "https://127.0.0.1:$port/a" 2>"$tmp/get.$i.log" || { echo "get $i failed"; cat "$tmp/get.$i.log"; fail=1; }
    cmp -s "$tmp/www/a" "$tmp/a.$i" || { echo "get $i: not byte-exact"; fail=1; }
done
grep -q 'address validated by a Retry' "$tmp/get.1.log" || { echo "first connection: no Retry"; fail=1; }
grep -q 'address validated by a Retry' "$tmp/get.2.log" && { echo "second connection: a Retry despite the token"; fail=1; }
grep -q 'resumed yes' "$tmp/get.2.log" || { echo "second connection: not resumed"; fail=1; }
kill -INT $server
for _ in $(seq 1 50); do grep -q 'stopped after' "$tmp/serve.log" && break; sleep 0.05; done
grep -q 'stopped after 2 requests, 1 retries' "$tmp/serve.log" ||
    { echo "server: $(grep 'stopped' "$tmp/serve.log")"; fail=1; }
[ $fail -eq 0 ] && echo "new token: the second connection skipped the Retry and resumed"
exit $fail
