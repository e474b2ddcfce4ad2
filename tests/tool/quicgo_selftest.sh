#!/usr/bin/env bash
# The quic-go 0.29 interop peer against itself on loopback, before skiff is
# tested against it: if these fail, an interop failure is the peer's fault,
# not skiff's. Checks, as a test script sees them (docs/internals/interop-quicgo.md):
#   - 5 MB over hq-interop and over HTTP/3 (a random file byte for byte, and
#     the generated /bytes/N pattern), close by the client with NO_ERROR;
#   - CloseWithError(0x42, "I don't want to talk to you anymore 🙉") from the
#     server and from the client reaches the other side exactly;
#   - idle timeout: client 1 s, server 30 s: the client times out after ~1 s,
#     the server after quic-go's 5 s floor on the peer's value; keep-alive
#     PINGs keep the same 1 s connection up;
#   - a silent server: the handshake gives up after --handshake-timeout;
#   - version negotiation, draft-29, Retry, resumption + 0-RTT, DATAGRAM echo,
#     key log, handshake-rate mode.
#   usage: quicgo_selftest.sh SKIFF   (the peer is built next to SKIFF)
set -uo pipefail
build=$(cd "$(dirname "$1")" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peer=$build/quicgo-peer

bash "$here/../interop/build-quicgo.sh" "$build"
case $? in
0) ;;
3) echo "SKIP quicgo_selftest: Go or quic-go is not installed (run scripts/install-deps)"; exit 0 ;;
*) echo "quicgo_selftest: building the peer failed"; exit 1 ;;
esac

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
expect() { # expect FILE REGEX: some line of FILE matches
    if ! grep -qE -- "$2" "$1"; then
        echo "missing in $(basename "$1"): $2"
        echo "--- $(basename "$1"):"; sed 's/^/    /' "$1"
        fail=1
    fi
}
expect_count() { # expect_count FILE REGEX N: exactly N lines match
    local n
    n=$(grep -cE -- "$2" "$1")
    if [ "$n" -ne "$3" ]; then
        echo "$(basename "$1"): $n lines match $2, want $3"
        sed 's/^/    /' "$1"
        fail=1
    fi
}
now_ms() { date +%s%3N; }

cd "$tmp" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
    -out cert.pem -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 \
    || { echo "openssl could not make a certificate"; exit 1; }
mkdir -p www
head -c 5242880 /dev/urandom >www/five

# start_server NAME ARGS...: runs a server on a free port (the peer binds
# port 0 and prints the port it got), sets $port.
start_server() {
    local name=$1
    shift
    timeout 60 "$peer" server --listen 127.0.0.1:0 --cert cert.pem --key key.pem --root www "$@" \
        >"$name.out" 2>"$name.err" &
    pids+=($!)
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$name.out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    echo "server $name did not start:"; cat "$name.err"
    exit 1
}
# wait_line FILE REGEX SECONDS: wait until FILE has a matching line.
wait_line() {
    local deadline=$(($(now_ms) + $3 * 1000))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        grep -qE -- "$2" "$1" && return 0
        sleep 0.05
    done
    return 1
}
client() { timeout 30 "$peer" client "$@"; }
reason="I don't want to talk to you anymore 🙉"
reason_re="I don't want to talk to you anymore 🙉"

# Generated content: byte i of /bytes/N is i mod 251.
check_pattern() {
    python3 - "$1" <<'PY' || { echo "$1: not the i mod 251 pattern"; fail=1; }
import sys
data = open(sys.argv[1], "rb").read()
want = bytes(range(251)) * (len(data) // 251 + 1)
sys.exit(0 if data == want[:len(data)] else 1)
PY
}

# --- 1. 5 MB over hq-interop and over HTTP/3 ---
for alpn in hq-interop h3; do
    start_server "srv-$alpn" --alpn "$alpn"
    out=$tmp/dl-$alpn
    client --cacert cert.pem --alpn "$alpn" -O "$out" \
        "https://127.0.0.1:$port/five" "https://127.0.0.1:$port/bytes/5242880" >"cli-$alpn.out" 2>&1
    status=$?
    [ $status -eq 0 ] || { echo "$alpn client: exit $status, want 0"; fail=1; }
    c=cli-$alpn.out
    expect "$c" "^handshake ok alpn=$alpn version=0x00000001$"
    expect "$c" '^downloaded 5242880 bytes /five$'
    expect "$c" '^downloaded 5242880 bytes /bytes/5242880$'
    expect "$c" '^goodput 10485760 [0-9.]+ [0-9.]+ MBps$'
    expect "$c" '^closed by-us$'
    cmp -s www/five "$out/five" || { echo "$alpn: /five differs from the served file"; fail=1; }
    check_pattern "$out/5242880"
    code=0x0
    [ "$alpn" = h3 ] && code=0x100 # H3_NO_ERROR
    wait_line "srv-$alpn.out" '^closed ' 5
    s=srv-$alpn.out
    expect "$s" "^accepted remote=127\.0\.0\.1:[0-9]+ alpn=$alpn version=0x00000001 resumed=false zerortt=false$"
    expect "$s" '^served 5242880 bytes /five$'
    expect "$s" '^served 5242880 bytes /bytes/5242880$'
    expect "$s" "^closed application remote=true code=$code reason=\"\"$"
done

# --- 2. CloseWithError with code 0x42 and an emoji reason, both directions ---
start_server srv-close --close-after 300ms --close-code 0x42 --close-reason "$reason"
client --insecure --hold 5s "https://127.0.0.1:$port/bytes/1000" >cli-close.out 2>&1
expect cli-close.out "^closed application remote=true code=0x42 reason=\"$reason_re\"$"
wait_line srv-close.out '^closed ' 5
expect srv-close.out "^closed application remote=false code=0x42 reason=\"$reason_re\"$"

start_server srv-close2
client --insecure --close-with-error-after 200ms --close-code 0x42 --close-reason "$reason" \
    "https://127.0.0.1:$port/bytes/1000" >cli-close2.out 2>&1
status=$?
[ $status -eq 0 ] || { echo "client close-with-error: exit $status, want 0"; fail=1; }
expect cli-close2.out "^closed application remote=false code=0x42 reason=\"$reason_re\"$"
wait_line srv-close2.out '^closed ' 5
expect srv-close2.out "^closed application remote=true code=0x42 reason=\"$reason_re\"$"

# --- 3. idle timeout, keep-alive and a silent server, concurrently ---
start_server srv-idle --max-idle-timeout 30s
idle_port=$port
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(15)
' >silent.port &
pids+=($!)
wait_line silent.port '^[0-9]+$' 5 || { echo "no silent UDP port"; exit 1; }
t0=$(now_ms)
client --insecure --max-idle-timeout 1s --hold 8s "https://127.0.0.1:$idle_port/bytes/10" >cli-idle.out 2>&1 &
idle_pid=$!
client --insecure --max-idle-timeout 1s --keep-alive 300ms --hold 2500ms \
    "https://127.0.0.1:$idle_port/bytes/10" >cli-keep.out 2>&1 &
keep_pid=$!
client --insecure --handshake-timeout 1s "https://127.0.0.1:$(cat silent.port)/x" >cli-silent.out 2>&1 &
silent_pid=$!

wait $silent_pid
status=$?
t_silent=$(($(now_ms) - t0))
# quic-go 0.29 reports a handshake that hears nothing as an idle timeout;
# HandshakeTimeoutError is for a handshake still running after 10 s.
[ $status -eq 1 ] || { echo "silent server: exit $status, want 1"; fail=1; }
expect cli-silent.out '^closed idle_timeout$'
[ $t_silent -lt 3000 ] || { echo "silent server: gave up after ${t_silent} ms, want ~1 s"; fail=1; }

wait $idle_pid
status=$?
t_idle=$(($(now_ms) - t0))
[ $status -eq 0 ] || { echo "idle client: exit $status, want 0 (the download worked)"; fail=1; }
expect cli-idle.out '^closed idle_timeout$'
# Its own 1 s timeout ended it, long before the 8 s hold.
[ $t_idle -lt 4000 ] || { echo "idle client: ended after ${t_idle} ms, want ~1 s"; fail=1; }

wait $keep_pid
expect cli-keep.out '^closed by-us$'

# The server applies max(5 s, the client's 1 s) (quic-go's floor on the
# peer's max_idle_timeout), so it times out at ~5 s, not at 1 s or 30 s.
wait_line srv-idle.out '^closed idle_timeout$' 10
t_srv=$(($(now_ms) - t0))
expect_count srv-idle.out '^closed idle_timeout$' 1
expect_count srv-idle.out '^closed application remote=true code=0x0 reason=""$' 1
[ $t_srv -ge 4500 ] && [ $t_srv -lt 9000 ] \
    || { echo "server idle timeout after ${t_srv} ms, want ~5 s"; fail=1; }

# --- 4. versions, Retry, resumption and 0-RTT, datagrams, key log, rate ---
start_server srv-misc --versions v1,draft29 --retry --datagrams --keylog "$tmp/server.keys"
misc_port=$port
client --insecure --versions v2 "https://127.0.0.1:$port/bytes/1" >cli-vn.out 2>&1
status=$?
[ $status -eq 1 ] || { echo "version negotiation failure: exit $status, want 1"; fail=1; }
# The server's list is v1 and draft-29 plus one greased version, anywhere.
expect cli-vn.out '^closed version_negotiation ours=\[0x709a50c4\] theirs=\[0x[0-9a-f]{8}(,0x[0-9a-f]{8}){2}\]$'
expect cli-vn.out '^closed version_negotiation .*theirs=.*0x00000001'
expect cli-vn.out '^closed version_negotiation .*theirs=.*0xff00001d'

client --insecure --versions draft29 "https://127.0.0.1:$port/bytes/1" >cli-d29.out 2>&1
expect cli-d29.out '^handshake ok alpn=hq-interop version=0xff00001d$'
expect cli-d29.out '^retry received$'

client --insecure --datagrams --keylog "$tmp/client.keys" "https://127.0.0.1:$port/bytes/1" >cli-dg.out 2>&1
expect cli-dg.out '^datagram echo 26 bytes match=true$'
expect "$tmp/client.keys" '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$'
expect "$tmp/server.keys" '^SERVER_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64}$'

for alpn in hq-interop h3; do
    start_server "srv-0rtt-$alpn" --alpn "$alpn"
    client --insecure --alpn "$alpn" --resume --zerortt \
        "https://127.0.0.1:$port/bytes/100" "https://127.0.0.1:$port/bytes/200" >"cli-0rtt-$alpn.out" 2>&1
    status=$?
    [ $status -eq 0 ] || { echo "$alpn 0-RTT client: exit $status, want 0"; fail=1; }
    expect "cli-0rtt-$alpn.out" '^resumed true$'
    expect "cli-0rtt-$alpn.out" '^zerortt used$'
    expect "cli-0rtt-$alpn.out" '^downloaded 200 bytes /bytes/200$'
done

client --insecure --handshakes 20 --concurrency 4 "https://127.0.0.1:$misc_port/" >cli-rate.out 2>&1
expect cli-rate.out '^handshakes 20 in [0-9.]+ seconds \([0-9.]+/s\)$'

[ $fail -eq 0 ] && echo "quicgo selftest: all checks passed"
exit $fail
