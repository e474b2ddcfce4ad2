#!/usr/bin/env bash
# HTTP/3 servers compared with the same clients on loopback: skiff serve and
# caddy 2.6.2 (HTTP/3 through quic-go 0.29), each started fresh per run.
#   (a) BENCH_REQUESTS (default 10,000) GETs of a 1 KB file over one
#       connection, 100 in flight: requests/s. Clients: skiff get
#       (--parallel-max 100 -O DIR, one URL per request, names f_0..f_N-1,
#       hard links to one file), ngtcp2's gtlsclient (--download) and the
#       quic-go peer (-O; http3.RoundTripper, limited by the server's 100
#       concurrent streams). Every file must arrive with 1024 bytes, or the
#       run counts as FAILED.
#   (b) one download of BENCH_BYTES (default 1 GiB, zeros: nothing here
#       compresses) over one connection: MB/s (10^6 bytes) and the server's
#       CPU seconds. Clients discard the body: skiff get -o /dev/null, and
#       the quic-go peer, which must report every byte.
# Prints each run, then a table per part with the skiff/caddy ratio. A
# benchmark: it reports, it never fails on speed (exit 1 only when it
# cannot set up: no skiff, no certificate). Client and server share the
# machine's cores.
#   usage: h3.sh BUILD_DIR
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
skiff=$build/skiff
n=${BENCH_REQUESTS:-10000}
bytes=${BENCH_BYTES:-1073741824}
. "$here/../lib/h3_peers.sh"
[ -x "$skiff" ] || { echo "h3 bench: $skiff is missing"; exit 1; }

servers=(skiff)
if command -v caddy >/dev/null; then servers+=(caddy); else echo "h3 bench: caddy is not installed: skiff serve only"; fi
clients_a=(skiff)
command -v gtlsclient >/dev/null && clients_a+=(gtlsclient)
clients_b=(skiff)
if h3_build_quicgo "$build" >/dev/null 2>&1; then
    clients_a+=(quicgo)
    clients_b+=(quicgo)
else
    echo "h3 bench: the quic-go peer could not be built: without it"
fi

# tmpfs: 10,000 small files written per run and a 1 GiB file served.
h3_init /dev/shm
h3_make_cert || exit 1
www=$h3_tmp/www
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/small"
python3 - "$www" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.link(os.path.join(d, "small"), os.path.join(d, "f_%d" % i))
PY
head -c "$bytes" /dev/zero >"$www/blob"

cpu_of() { # user+system seconds of a live process
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# start SERVER: sets port and spid, or returns 1.
start() {
    if [ "$1" = skiff ]; then
        start_skiff_serve "$skiff" "$www" || return 1
    else
        start_caddy "$www" "$(free_port)" || return 1
    fi
    port=$peer_port spid=$peer_pid
}

# timed LOG SECONDS CMD...: runs CMD, output to LOG; sets secs and ccpu
# (client CPU seconds, children included); returns CMD's status.
timed() {
    local log=$1 limit=$2 st TIMEFORMAT='%R %U %S'
    shift 2
    { time timeout "$limit" "$@" >"$log" 2>&1; } 2>"$log.time"
    st=$?
    read -r secs u s <"$log.time"
    ccpu=$(echo "$u + $s" | bc -l)
    return $st
}

declare -A cell cpu
# (a) requests per second.
requests() { # requests CLIENT SERVER
    local client=$1 server=$2 out=$h3_tmp/out-$1-$2 log=$h3_tmp/req-$1-$2.log ok=1 got scpu
    start "$server" || { cell[a,$client,$server]=FAILED; return; }
    h3_urls "https://127.0.0.1:$port" $(seq -f 'f_%.0f' 0 $((n - 1)))
    mkdir -p "$out"
    case $client in
    skiff) timed "$log" 300 "$skiff" get --cacert "$h3_tmp/cert.pem" --parallel-max 100 -O "$out" "${h3_url[@]}" || ok=0 ;;
    gtlsclient) timed "$log" 300 gtlsclient -q --download="$out" --exit-on-all-streams-close 127.0.0.1 "$port" "${h3_url[@]}" || ok=0 ;;
    quicgo) timed "$log" 300 "$quicgo" client --cacert "$h3_tmp/cert.pem" --alpn h3 -O "$out" "${h3_url[@]}" || ok=0 ;;
    esac
    scpu=$(cpu_of "$spid")
    h3_stop "$spid"
    got=$(find "$out" -type f -size 1024c | wc -l)
    rm -rf "$out"
    if [ $ok -eq 0 ] || [ "$got" -ne "$n" ]; then
        echo "h3 requests $client -> $server: FAILED ($got of $n files; $(tail -1 "$log"))"
        cell[a,$client,$server]=FAILED
        return
    fi
    local rate
    rate=$(echo "$n / $secs" | bc -l)
    printf 'h3 requests %-10s -> %-5s %d GETs in %.2f s: %.0f req/s, client CPU %.2f s, server CPU %.2f s\n' \
        "$client" "$server" "$n" "$secs" "$rate" "$ccpu" "$scpu"
    cell[a,$client,$server]=$rate
}

# (b) one large download.
download() { # download CLIENT SERVER
    local client=$1 server=$2 log=$h3_tmp/dl-$1-$2.log ok=1 scpu
    start "$server" || { cell[b,$client,$server]=FAILED; return; }
    case $client in
    skiff) timed "$log" 600 "$skiff" get --cacert "$h3_tmp/cert.pem" -o /dev/null "https://127.0.0.1:$port/blob" || ok=0 ;;
    quicgo) timed "$log" 600 "$quicgo" client --cacert "$h3_tmp/cert.pem" --alpn h3 "https://127.0.0.1:$port/blob" || ok=0
        grep -qx "downloaded $bytes bytes /blob" "$log" || ok=0 ;;
    esac
    scpu=$(cpu_of "$spid")
    h3_stop "$spid"
    if [ $ok -eq 0 ]; then
        echo "h3 download $client <- $server: FAILED ($(tail -1 "$log"))"
        cell[b,$client,$server]=FAILED
        return
    fi
    local mbps
    mbps=$(echo "$bytes / $secs / 1000000" | bc -l)
    printf 'h3 download %-10s <- %-5s %d bytes in %.2f s: %.0f MB/s, client CPU %.2f s, server CPU %.2f s\n' \
        "$client" "$server" "$bytes" "$secs" "$mbps" "$ccpu" "$scpu"
    cell[b,$client,$server]=$mbps
    cpu[b,$client,$server]=$scpu
}

for c in "${clients_a[@]}"; do for s in "${servers[@]}"; do requests "$c" "$s"; done; done
rm -f "$www"/f_*
for c in "${clients_b[@]}"; do for s in "${servers[@]}"; do download "$c" "$s"; done; done

label() { case $1 in skiff) echo "skiff get" ;; quicgo) echo "quic-go 0.29" ;; *) echo "$1" ;; esac; }
ratio() { # ratio A B: A/B, or "-"
    if [[ $1 =~ ^[0-9.]+$ ]] && [[ $2 =~ ^[0-9.]+$ ]] && [ "$(echo "$2 > 0" | bc)" = 1 ]; then
        printf '%.2fx' "$(echo "$1 / $2" | bc -l)"
    else
        echo -
    fi
}
num() { [[ $1 =~ ^[0-9.]+$ ]] && printf '%.0f' "$1" || echo "$1"; }

echo
echo "h3 (a) $n GETs of 1024 bytes, one connection, 100 in flight: requests/s"
printf '  %-14s %14s %14s %12s\n' client "skiff serve" caddy skiff/caddy
for c in "${clients_a[@]}"; do
    printf '  %-14s %14s %14s %12s\n' "$(label "$c")" "$(num "${cell[a,$c,skiff]}")" \
        "$(num "${cell[a,$c,caddy]:--}")" "$(ratio "${cell[a,$c,skiff]}" "${cell[a,$c,caddy]:--}")"
done
echo "h3 (b) $bytes bytes, one connection: MB/s (server CPU seconds)"
printf '  %-14s %20s %20s %12s\n' client "skiff serve" caddy skiff/caddy
for c in "${clients_b[@]}"; do
    a=$(num "${cell[b,$c,skiff]}") b=$(num "${cell[b,$c,caddy]:--}")
    [ -n "${cpu[b,$c,skiff]:-}" ] && a="$a ($(printf '%.2f' "${cpu[b,$c,skiff]}"))"
    [ -n "${cpu[b,$c,caddy]:-}" ] && b="$b ($(printf '%.2f' "${cpu[b,$c,caddy]}"))"
    printf '  %-14s %20s %20s %12s\n' "$(label "$c")" "$a" "$b" "$(ratio "${cell[b,$c,skiff]}" "${cell[b,$c,caddy]:--}")"
done
exit 0
