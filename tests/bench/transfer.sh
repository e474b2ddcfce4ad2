#!/usr/bin/env bash
# One connection on loopback downloading BENCH_BYTES (default 1 GiB): skiff to
# skiff, and the quic-go peer to itself, in the same run. Both clients discard
# what they receive (writing 1 GiB to tmpfs costs more than the transfer), and
# succeed only when the whole body arrived. Prints goodput and
# the CPU seconds of client and server for each, and the ratio. A benchmark:
# it reports, it never fails on speed.
#   usage: transfer.sh BUILD_DIR
set -uo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
bytes=${BENCH_BYTES:-1073741824}
tmp=$(mktemp -d /dev/shm/skiff-bench.XXXXXX 2>/dev/null || mktemp -d)
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
mkdir -p "$tmp/www" "$tmp/out"
head -c "$bytes" /dev/zero >"$tmp/www/blob"

cpu_of() { # user+system seconds of a live process
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}
wait_port() {
    for _ in $(seq 1 100); do
        grep -m1 -oE "$2" "$1" 2>/dev/null | grep -oE '[0-9]+$' && return 0
        sleep 0.05
    done
    return 1
}

run() { # run NAME
    local name=$1 port spid t0 t1 client_cpu server_cpu secs
    if [ "$name" = skiff ]; then
        "$build/skiff" serve --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
            "$tmp/www" >"$tmp/server.log" 2>&1 &
        spid=$!
        port=$(wait_port "$tmp/server.log" 'listening on 127.0.0.1:[0-9]+')
    else
        "$build/quicgo-peer" server --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
            --root "$tmp/www" --alpn hq-interop >"$tmp/server.log" 2>&1 &
        spid=$!
        port=$(wait_port "$tmp/server.log" 'listening 127.0.0.1:[0-9]+')
    fi
    started+=("$spid")
    t0=$(date +%s.%N)
    local before=$(cat /proc/self/stat >/dev/null; awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    local status=0
    if [ "$name" = skiff ]; then
        "$build/skiff" get --cacert "$tmp/cert.pem" -o /dev/null "https://127.0.0.1:$port/blob" \
            2>/dev/null || status=1
    else
        "$build/quicgo-peer" client --cacert "$tmp/cert.pem" --alpn hq-interop \
            "https://127.0.0.1:$port/blob" >"$tmp/qg.out" || status=1
        grep -qE "downloaded $bytes bytes" "$tmp/qg.out" || status=1
    fi
    t1=$(date +%s.%N)
    local after=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    client_cpu=$(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)
    server_cpu=$(cpu_of "$spid")
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    secs=$(echo "$t1 - $t0" | bc -l)
    if [ "$status" -ne 0 ]; then
        echo "transfer $name: FAILED"
        return 1
    fi
    local mbps=$(echo "$bytes / $secs / 1000000" | bc -l)
    printf 'transfer %-7s %d bytes in %.2f s: %.0f MB/s, client CPU %.2f s, server CPU %.2f s\n' \
        "$name" "$bytes" "$secs" "$mbps" "$client_cpu" "$server_cpu"
    eval "rate_$name=$mbps"
}

rate_skiff=0 rate_quicgo=0
run skiff
run quicgo
if [ "$(echo "$rate_quicgo > 0" | bc)" = 1 ]; then
    printf 'transfer ratio: skiff/quic-go goodput = %.2fx\n' "$(echo "$rate_skiff / $rate_quicgo" | bc -l)"
fi
