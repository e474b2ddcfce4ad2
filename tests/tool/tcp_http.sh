#!/usr/bin/env bash
# Real HTTP clients and servers against skiff's userspace TCP, over a TUN
# device in a private network namespace (tests/lib/tcp_netns.sh):
#   - curl (the kernel's TCP) fetches a 5 MB body from `skiff tcp listen`,
#     whose stdin is a canned HTTP/1.0 response: curl exits 0, the body is
#     byte-exact, and skiff's stdout holds curl's request line;
#   - `skiff tcp connect` sends a GET to the kernel's `python3 -m
#     http.server`: the status line is "HTTP/1.0 200 OK" and the body after
#     the first blank line is the 5 MB file, byte-exact;
#   - both again over IPv6.
# Every wait is bounded; each case takes a few seconds.
#   usage: tcp_http.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
name=tcp_http
skiff=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/tcp_netns.sh
. "$here/../lib/tcp_netns.sh"
tcpns_require "$name"
tcpns_need_cmd "$name" curl curl
[ -x "$tcpns_python" ] || tcpns_skip "$name" "$tcpns_python is not installed (python3)"
tcpns_init "$name"
tmp=$tcpns_tmp
fail=0

size=$((5 * 1024 * 1024))
head -c $size /dev/urandom >"$tmp/body"
{
    printf 'HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' $size
    cat "$tmp/body"
} >"$tmp/response"
mkdir "$tmp/www"
cp "$tmp/body" "$tmp/www/file"

sum() { sha256sum "$1" | cut -d' ' -f1; }
same() { # same WHAT WANT GOT
    if [ ! -f "$3" ] || [ "$(sum "$2")" != "$(sum "$3")" ]; then
        echo "FAIL $1: body differs ($(stat -c %s "$3" 2>/dev/null || echo no) bytes of $(stat -c %s "$2"))"
        fail=1
    fi
}
v6=(--peer-net 10.9.0.1/24 --peer-net fd00:9::1/64 --addr 10.9.0.2 --addr fd00:9::2)

# curl_from_skiff WHAT PORT URL [SKIFF OPTIONS...]: curl fetches the canned
# response from `skiff tcp listen`.
#
# Without --close-after-peer skiff sends the whole response at once (HTTP/1.0
# has the server speak when it likes; curl's request simply arrives while the
# body is going out) and its FIN at stdin's end: an active close, so skiff
# waits in TIME-WAIT (2 MSL, hence --msl 100ms) after curl's FIN. curl stops
# at Content-Length, having read everything, so its close is a FIN, not an
# RST. --close-after-peer also works (skiff's FIN after curl's, a passive
# close); the default is the one tested because it is how an HTTP/1.0 server
# ends a response, and it exercises TIME-WAIT.
curl_from_skiff() {
    local what=$1 port=$2 url=$3 pid code
    shift 3
    rm -f "$tmp/curl.out" "$tmp/skiff.out"
    tcpns_bg "$tmp/skiff.log" sh -c "exec '$skiff' tcp listen -v --msl 100ms $* $port <'$tmp/response' >'$tmp/skiff.out'"
    pid=$tcpns_pid
    if ! tcpns_wait_line "$tmp/skiff.log" 'listening on port' 5; then
        echo "FAIL $what: skiff tcp listen did not start"
        cat "$tmp/skiff.log"
        fail=1
        tcpns_stop "$pid"
        return
    fi
    code=$(tcpns_exec curl -s -g --max-time 30 -o "$tmp/curl.out" -w '%{http_code}' "$url")
    local st=$?
    [ $st -eq 0 ] || { echo "FAIL $what: curl exit $st"; fail=1; }
    [ "$code" = 200 ] || { echo "FAIL $what: HTTP status '$code', want 200"; fail=1; }
    same "$what" "$tmp/body" "$tmp/curl.out"
    if ! tcpns_wait_exit "$pid" 15; then
        echo "FAIL $what: skiff tcp listen did not end"
        tail -5 "$tmp/skiff.log"
        fail=1
    fi
    tcpns_stop "$pid" || { echo "FAIL $what: skiff exit status $?"; tail -3 "$tmp/skiff.log"; fail=1; }
    head -n 1 "$tmp/skiff.out" | grep -q $'^GET / HTTP/1.1\r$' ||
        { echo "FAIL $what: skiff's stdout does not start with curl's request line: $(head -c 80 "$tmp/skiff.out" | od -c | head -2)"; fail=1; }
}

# skiff_from_python WHAT PORT BIND HOST [SKIFF OPTIONS...]: skiff fetches
# /file from the kernel's http.server (HTTP/1.0: the server closes after the
# body). The server binds to the wildcard address: 10.9.0.1 and fd00:9::1
# exist only once skiff's device is up.
skiff_from_python() {
    local what=$1 port=$2 bind=$3 host=$4 pid hdr_len status
    shift 4
    rm -f "$tmp/skiff.out" "$tmp/got"
    tcpns_bg "$tmp/py.log" "$tcpns_python" -m http.server "$port" --bind "$bind" --directory "$tmp/www"
    pid=$tcpns_pid
    if ! tcpns_wait_listen "$port" 10; then
        echo "FAIL $what: http.server did not start"
        cat "$tmp/py.log"
        fail=1
        tcpns_stop "$pid"
        return
    fi
    printf 'GET /file HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" |
        tcpns_exec timeout 30 "$skiff" tcp connect -v --msl 100ms "$@" "$host" "$port" \
            >"$tmp/skiff.out" 2>"$tmp/skiff.log"
    local st=$?
    [ $st -eq 0 ] || { echo "FAIL $what: skiff tcp connect exit $st"; tail -3 "$tmp/skiff.log"; fail=1; }
    tcpns_stop "$pid"
    status=$(head -n 1 "$tmp/skiff.out" | tr -d '\r')
    [ "$status" = "HTTP/1.0 200 OK" ] || { echo "FAIL $what: status line '$status', want 'HTTP/1.0 200 OK'"; fail=1; }
    # The body starts after the first blank line (CRLF CRLF).
    hdr_len=$("$tcpns_python" -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\r\n\r\n")
print(i + 4 if i >= 0 else -1)' "$tmp/skiff.out")
    if [ "$hdr_len" -lt 0 ]; then
        echo "FAIL $what: no blank line after the headers ($(stat -c %s "$tmp/skiff.out") bytes)"
        fail=1
        return
    fi
    tail -c +$((hdr_len + 1)) "$tmp/skiff.out" >"$tmp/got"
    same "$what" "$tmp/body" "$tmp/got"
}

curl_from_skiff "curl <- skiff listen (IPv4)" 8081 "http://10.9.0.2:8081/"
skiff_from_python "skiff connect -> http.server (IPv4)" 8082 0.0.0.0 10.9.0.1
curl_from_skiff "curl <- skiff listen (IPv6)" 8083 "http://[fd00:9::2]:8083/" "${v6[@]}"
skiff_from_python "skiff connect -> http.server (IPv6)" 8084 :: fd00:9::1 "${v6[@]}"

[ $fail -eq 0 ] && echo "tcp http: curl fetched 5 MB from skiff, skiff fetched 5 MB from python3 http.server, over IPv4 and IPv6: all passed"
exit $fail
