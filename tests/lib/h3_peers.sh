# Shared helpers for the HTTP/3 interop tests and benchmark (tests/tool/h3_*.sh,
# tests/bench/h3.sh): a temporary directory, a P-256 test certificate, the
# standard file set, and functions that start the peers of ../shared/PEERS.md
# (caddy 2.6.2, ngtcp2's gtlsserver, the quic-go peer in h3 mode) or skiff
# serve on loopback, each waiting a bounded time until its port is open.
# Cleanup ends only the processes started here, by PID, and removes the
# temporary directory.
#   usage (sourced):  . tests/lib/h3_peers.sh
#                     h3_init                # $h3_tmp, trap, cleanup on exit
#                     h3_make_cert           # $h3_tmp/cert.pem, $h3_tmp/key.pem
#                     h3_make_www DIR        # the files of h3_files and h3_many
#                     start_caddy DIR PORT   # sets peer_pid (and peer_port)
#                     ...
# Every start_* function sets peer_pid and peer_port and returns 0, or prints
# the peer's log and returns 1. Call them directly from the test's shell,
# never in $(...) or a pipeline: cleanup ends only live children of that
# shell (so a PID reused by another process is never signalled).

. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

# The six files of the transfer cases, and their sizes in bytes.
h3_files=(f0 f1k f5k f10k f500k f10m)
declare -A h3_size=([f0]=0 [f1k]=1024 [f5k]=5120 [f10k]=10240 [f500k]=512000 [f10m]=10485760)
# 100 small files of distinct sizes and contents, for 100 requests at once.
h3_many=()
for _h3_i in $(seq -w 0 99); do h3_many+=("p$_h3_i"); done
unset _h3_i

h3_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
h3_tmp=
h3_www=
h3_gtlsserver=/usr/sbin/gtlsserver

# h3_init [PARENT]: makes $h3_tmp (under PARENT if given, e.g. /dev/shm) and
# sets the traps that clean up.
h3_init() {
    if [ $# -gt 0 ]; then
        h3_tmp=$(mktemp -d "$1/skiff-h3.XXXXXX" 2>/dev/null || mktemp -d)
    else
        h3_tmp=$(mktemp -d)
    fi
    : >"$h3_tmp/pids"
    trap h3_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# h3_record PID: remember a process to end at cleanup.
h3_record() { echo "$1" >>"$h3_tmp/pids"; }

# h3_ours PID: PID is still a running child of this shell: not a zombie,
# not a PID since reused by another process.
h3_ours() {
    local st
    st=$(sed -E 's/^.*\) ([A-Za-z]) ([0-9]+) .*$/\1 \2/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "${st#* }" = "$$" ] && [ "${st% *}" != Z ]
}

# h3_stop PID: end one process started here (SIGTERM, then SIGKILL after
# 5 s) and forget it.
h3_stop() {
    local p=$1 i
    if h3_ours "$p"; then
        kill "$p" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            h3_ours "$p" || break
            sleep 0.05
        done
        h3_ours "$p" && kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    sed -i "/^$p\$/d" "$h3_tmp/pids"
    return 0
}

h3_cleanup() {
    local p i
    if [ -n "$h3_tmp" ] && [ -f "$h3_tmp/pids" ]; then
        while read -r p; do [ -n "$p" ] && h3_ours "$p" && kill "$p" 2>/dev/null; done <"$h3_tmp/pids"
        while read -r p; do
            [ -n "$p" ] || continue
            for ((i = 0; i < 100; i++)); do h3_ours "$p" || break; sleep 0.05; done
            h3_ours "$p" && kill -KILL "$p" 2>/dev/null
        done <"$h3_tmp/pids"
    fi
    wait 2>/dev/null
    [ -n "$h3_tmp" ] && rm -rf "$h3_tmp"
}

# h3_make_cert: a P-256 self-signed certificate for localhost and 127.0.0.1
# (no CA: clients trust the certificate itself).
h3_make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$h3_tmp/key.pem" \
        -out "$h3_tmp/cert.pem" -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
        { echo "FAIL openssl could not make a certificate"; return 1; }
}

# h3_make_www DIR: the six files (random bytes) and the 100 small files
# (random, 37..2017 bytes, all sizes distinct); sets h3_www=DIR.
h3_make_www() {
    local dir=$1 f
    h3_www=$dir
    mkdir -p "$dir"
    for f in "${h3_files[@]}"; do head -c "${h3_size[$f]}" /dev/urandom >"$dir/$f"; done
    python3 - "$dir" "${h3_many[@]}" <<'PY'
import os, sys
d = sys.argv[1]
for i, name in enumerate(sys.argv[2:]):
    with open(os.path.join(d, name), "wb") as f:
        f.write(os.urandom(37 + 20 * i))
PY
}

# h3_urls BASE NAME...: sets h3_url to BASE/NAME for each name.
h3_urls() {
    local base=$1
    shift
    h3_url=()
    local n
    for n in "$@"; do h3_url+=("$base/$n"); done
}

# h3_compare WWW OUT NAME...: each OUT/NAME must equal WWW/NAME byte for byte.
# Prints a FAIL line per file that differs or is missing; returns 1 if any.
h3_compare() {
    local www=$1 out=$2 bad=0 n
    shift 2
    for n in "$@"; do
        if [ ! -f "$out/$n" ]; then
            echo "FAIL $n: missing in $out"
            bad=$((bad + 1))
        elif ! cmp -s "$www/$n" "$out/$n"; then
            echo "FAIL $n: differs ($(stat -c %s "$out/$n") bytes, want $(stat -c %s "$www/$n"))"
            bad=$((bad + 1))
        fi
    done
    [ $bad -eq 0 ]
}

# free_port: a port free on 127.0.0.1 for both UDP and TCP (caddy listens on
# both), as the kernel picked it for UDP.
free_port() {
    python3 -c '
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break
'
}

# h3_wait_line FILE REGEX SECONDS: waits until a line of FILE matches.
h3_wait_line() { wait_line "$@"; }

# h3_wait_udp PORT SECONDS: waits until something is bound to UDP PORT on
# 127.0.0.1 (or any address).
h3_wait_udp() {
    local hex i n=$(($2 * 20))
    hex=$(printf '%04X' "$1")
    for ((i = 0; i < n; i++)); do
        grep -qE "^ *[0-9]+: (0100007F|00000000):$hex " /proc/net/udp 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# h3_dead PID LOG NAME: prints why a peer did not start; returns 1.
h3_dead() {
    echo "FAIL $3 did not start (pid $1):"
    tail -20 "$2" | sed 's/^/    /'
    return 1
}

# start_caddy ROOT PORT [LOGNAME]: caddy 2.6.2 serving ROOT over h1, h2 and
# h3 on 127.0.0.1:PORT (TCP and UDP), for the authorities 127.0.0.1:PORT
# and localhost:PORT, with the test certificate. Its HOME, XDG dirs and
# storage are in the temporary directory; no admin endpoint. Waits (10 s)
# for "enabling HTTP/3 listener".
start_caddy() {
    local root=$1 port=$2 name=${3:-caddy-$2}
    local dir=$h3_tmp/$name
    mkdir -p "$dir/cfg" "$dir/data" "$dir/storage"
    cat >"$dir/Caddyfile" <<EOF
{
	admin off
	auto_https disable_redirects
	storage file_system $dir/storage
	servers {
		protocols h1 h2 h3
	}
}
https://127.0.0.1:$port, https://localhost:$port {
	bind 127.0.0.1
	tls $h3_tmp/cert.pem $h3_tmp/key.pem
	root * $root
	file_server
}
EOF
    HOME=$dir XDG_CONFIG_HOME=$dir/cfg XDG_DATA_HOME=$dir/data \
        caddy run --config "$dir/Caddyfile" --adapter caddyfile >"$dir.log" 2>&1 &
    peer_pid=$!
    peer_port=$port
    h3_record "$peer_pid"
    h3_wait_line "$dir.log" 'enabling HTTP/3 listener' 10 || h3_dead "$peer_pid" "$dir.log" caddy || return 1
    h3_wait_udp "$port" 5 || h3_dead "$peer_pid" "$dir.log" caddy
}

# start_gtlsserver ROOT PORT [EXTRA...]: ngtcp2 0.12's server (nghttp3 0.8)
# serving ROOT on 127.0.0.1:PORT. It prints nothing useful with -q: waits (5 s)
# until its UDP port is bound.
start_gtlsserver() {
    local root=$1 port=$2
    shift 2
    local log=$h3_tmp/gtlsserver-$port.log
    "$h3_gtlsserver" -q --htdocs="$root" "$@" 127.0.0.1 "$port" "$h3_tmp/key.pem" "$h3_tmp/cert.pem" \
        >"$log" 2>&1 &
    peer_pid=$!
    peer_port=$port
    h3_record "$peer_pid"
    h3_wait_udp "$port" 5 || h3_dead "$peer_pid" "$log" gtlsserver
}

# start_skiff_serve SKIFF ROOT [EXTRA...]: skiff serve on 127.0.0.1:0 with the
# test certificate; reads the port from its "listening on" line (5 s).
start_skiff_serve() {
    local skiff=$1 root=$2
    shift 2
    local log=$h3_tmp/skiff-serve.$$.$RANDOM.log
    "$skiff" serve --listen 127.0.0.1:0 --cert "$h3_tmp/cert.pem" --key "$h3_tmp/key.pem" "$@" "$root" \
        >"$log" 2>&1 &
    peer_pid=$!
    h3_record "$peer_pid"
    skiff_serve_log=$log
    h3_wait_line "$log" 'listening on 127\.0\.0\.1:[0-9]+' 5 || h3_dead "$peer_pid" "$log" "skiff serve" || return 1
    peer_port=$(grep -m1 -oE 'listening on 127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$')
}

# h3_build_quicgo BUILD_DIR: builds the quic-go peer into BUILD_DIR (as
# tests/interop/build-quicgo.sh does; a warm rebuild is quick) and sets
# $quicgo. Returns build-quicgo.sh's status: 3 when Go or quic-go is missing.
h3_build_quicgo() {
    quicgo=$1/quicgo-peer
    bash "$h3_lib_dir/../interop/build-quicgo.sh" "$1"
}

# start_quicgo_h3_server ROOT [EXTRA...]: the quic-go 0.29 peer's HTTP/3
# server (http3.Server) on 127.0.0.1:0 after h3_build_quicgo; reads the port
# from its "listening" line (5 s).
start_quicgo_h3_server() {
    local root=$1
    shift
    local log=$h3_tmp/quicgo-server.$$.$RANDOM.log
    "$quicgo" server --listen 127.0.0.1:0 --cert "$h3_tmp/cert.pem" --key "$h3_tmp/key.pem" \
        --root "$root" --alpn h3 "$@" >"$log" 2>&1 &
    peer_pid=$!
    h3_record "$peer_pid"
    quicgo_server_log=$log
    h3_wait_line "$log" '^listening 127\.0\.0\.1:[0-9]+' 5 || h3_dead "$peer_pid" "$log" "quic-go server" || return 1
    peer_port=$(grep -m1 -oE '^listening 127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$')
}

# --- checks shared by the tool tests. Each prints "ok ..." or "FAIL ..."
# lines and returns 0 or 1; files are compared with $h3_www (h3_make_www). ---

h3_now() { date +%s.%N; }
# h3_compare_as CASE OUT NAME...: h3_compare against $h3_www; prints at most
# five FAIL lines, each naming CASE, and how many files were bad.
h3_compare_as() {
    local case=$1 msgs n
    shift
    msgs=$(h3_compare "$h3_www" "$@") && return 0
    n=$(echo "$msgs" | wc -l)
    echo "$msgs" | head -5 | sed "s/^FAIL /FAIL $case: /"
    [ "$n" -gt 5 ] && echo "FAIL $case: ... $n of $(($# - 1)) files missing or different"
    return 1
}
h3_since() { printf '%.2f' "$(echo "$(date +%s.%N) - $1" | bc -l)"; }

# h3_check_skiff_get SKIFF CASE SECONDS PORT NAME...: one `skiff get` of
# https://127.0.0.1:PORT/NAME for every name (one connection, all in
# flight: --parallel-max 100), saved with -O under $h3_tmp/CASE. Passes when
# it exits 0 within SECONDS, says "connected, alpn h3", and every file is
# byte-exact.
h3_check_skiff_get() {
    local skiff=$1 case=$2 secs=$3 port=$4
    shift 4
    local out=$h3_tmp/$case t0 status ok=1
    mkdir -p "$out"
    h3_urls "https://127.0.0.1:$port" "$@"
    t0=$(h3_now)
    timeout "$secs" "$skiff" get --cacert "$h3_tmp/cert.pem" --parallel-max 100 -O "$out" "${h3_url[@]}" \
        >"$out.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        [ $status -eq 124 ] && echo "FAIL $case: skiff get did not finish in $secs s" ||
            echo "FAIL $case: skiff get exited $status, want 0"
        ok=0
    fi
    grep -qE 'connected, alpn h3([, ]|$)' "$out.log" ||
        { echo "FAIL $case: no \"connected, alpn h3\" from skiff get"; ok=0; }
    h3_compare_as "$case" "$out" "$@" || ok=0
    if [ $ok -eq 1 ]; then
        echo "ok $case: $# files byte-exact ($(h3_since "$t0") s)"
        return 0
    fi
    echo "--- skiff get output (last 15 lines):"
    tail -15 "$out.log" | sed 's/^/    /'
    return 1
}

# h3_check_gtlsclient CASE SECONDS PORT NAME...: ngtcp2's client fetches
# every name over one connection into $h3_tmp/CASE. It exits 0 whatever the
# status, and creates a file even for an empty error response, so its
# (non-quiet) log must show one ":status: 200" per request, and every file
# must be byte-exact.
h3_check_gtlsclient() {
    local case=$1 secs=$2 port=$3
    shift 3
    local out=$h3_tmp/$case t0 status ok=1 n200
    mkdir -p "$out"
    h3_urls "https://127.0.0.1:$port" "$@"
    t0=$(h3_now)
    timeout "$secs" gtlsclient --no-quic-dump --no-http-dump --download="$out" --exit-on-all-streams-close \
        127.0.0.1 "$port" "${h3_url[@]}" >"$out.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        [ $status -eq 124 ] && echo "FAIL $case: gtlsclient did not finish in $secs s" ||
            echo "FAIL $case: gtlsclient exited $status, want 0"
        ok=0
    fi
    n200=$(grep -cE '^http: stream 0x[0-9a-f]+ \[:status: 200\]$' "$out.log")
    [ "$n200" -eq $# ] || { echo "FAIL $case: $n200 responses with status 200, want $#"; ok=0; }
    h3_compare_as "$case" "$out" "$@" || ok=0
    if [ $ok -eq 1 ]; then
        echo "ok $case: $# files byte-exact, all status 200 ($(h3_since "$t0") s)"
        return 0
    fi
    echo "--- gtlsclient log (statuses and last 10 lines):"
    grep -E ':status: |^http: .*(error|reset)|ERR' "$out.log" | grep -v ':status: 200' | head -10 | sed 's/^/    /'
    tail -10 "$out.log" | sed 's/^/    /'
    return 1
}

# h3_check_quicgo_client CASE SECONDS PORT NAME...: the quic-go peer's
# HTTP/3 client (http3.RoundTripper, all requests at once on one connection)
# fetches every name into $h3_tmp/CASE. Passes when it exits 0 (handshake
# and every request succeeded with status 200), reports each download, and
# every file is byte-exact.
h3_check_quicgo_client() {
    local case=$1 secs=$2 port=$3
    shift 3
    local out=$h3_tmp/$case t0 status ok=1 n
    mkdir -p "$out"
    h3_urls "https://127.0.0.1:$port" "$@"
    t0=$(h3_now)
    timeout "$secs" "$quicgo" client --cacert "$h3_tmp/cert.pem" --alpn h3 -O "$out" "${h3_url[@]}" \
        >"$out.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        [ $status -eq 124 ] && echo "FAIL $case: quic-go client did not finish in $secs s" ||
            echo "FAIL $case: quic-go client exited $status, want 0"
        ok=0
    fi
    grep -qx 'handshake ok alpn=h3 version=0x00000001' "$out.log" ||
        { echo "FAIL $case: no \"handshake ok alpn=h3\" from the quic-go client"; ok=0; }
    for n in "$@"; do
        grep -qx "downloaded $(stat -c %s "$h3_www/$n") bytes /$n" "$out.log" ||
            { echo "FAIL $case: the quic-go client did not report /$n complete"; ok=0; break; }
    done
    # The client closes the connection itself (H3_NO_ERROR) after the
    # downloads: the server must not have closed it, nor with an error.
    grep -qx 'closed by-us' "$out.log" ||
        { echo "FAIL $case: the connection did not stay up until the client closed it"; ok=0; }
    h3_compare_as "$case" "$out" "$@" || ok=0
    if [ $ok -eq 1 ]; then
        echo "ok $case: $# files byte-exact ($(h3_since "$t0") s)"
        return 0
    fi
    echo "--- quic-go client output (failures and last 10 lines):"
    grep -E 'failed|closed' "$out.log" | head -10 | sed 's/^/    /'
    tail -10 "$out.log" | sed 's/^/    /'
    return 1
}
