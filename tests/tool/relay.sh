#!/usr/bin/env bash
# skiff-relay as a test uses it: a UDP echo server behind the relay on
# loopback, datagrams through it byte-exact, a seeded loss count that is
# exact, NAT rebinding seen by the server as a new source port or address,
# loopback-only addresses, and --duration ending the relay by itself.
#   usage: relay.sh SKIFF   (the relay is built next to the skiff tool)
set -uo pipefail
relay=$(dirname "$1")/skiff-relay
[ -x "$relay" ] || { echo "no relay at $relay"; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# The echo server: binds a free loopback port, writes it to $1.port, logs
# "ADDR PORT" of every datagram's source to $1.log, echoes, and gives up
# after 30 s whatever happens.
cat >"$tmp/echo.py" <<'PY'
import socket, sys, time
base = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.2)
log = open(base + ".log", "w", buffering=1)
open(base + ".port.tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(base + ".port.tmp", base + ".port")
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        data, addr = s.recvfrom(65536)
    except socket.timeout:
        continue
    log.write("%s %d\n" % addr)
    s.sendto(data, addr)
PY

# The client: sends N numbered datagrams of varying sizes, 1 ms apart, to
# port $1; collects echoes until all are back or 1.5 s pass without one.
# Prints "received R exact E duplicates D".
cat >"$tmp/client.py" <<'PY'
import socket, sys, time
port, n, gap = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def payload(i):
    head = b"skiff-%05d-" % i
    return head + bytes((i * 7 + k) & 0xff for k in range(20 + (i * 37) % 1100))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
got, exact, dups = set(), 0, 0
def drain():
    global exact, dups
    while True:
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return
        try:
            i = int(data[6:11])
        except ValueError:
            continue
        if i in got:
            dups += 1
            continue
        got.add(i)
        if data == payload(i):
            exact += 1
for i in range(n):
    s.sendto(payload(i), ("127.0.0.1", port))
    time.sleep(gap)
    drain()
quiet_since = time.monotonic()
while len(got) < n and time.monotonic() - quiet_since < 1.5:
    before = len(got)
    time.sleep(0.01)
    drain()
    if len(got) != before:
        quiet_since = time.monotonic()
print("received %d exact %d duplicates %d" % (len(got), exact, dups))
PY

# start_echo NAME: sets echo_port; the log is $tmp/NAME.log.
start_echo() {
    python3 "$tmp/echo.py" "$tmp/$1" &
    pids+=($!)
    echo_pid=$!
    for _ in $(seq 100); do [ -s "$tmp/$1.port" ] && break; sleep 0.05; done
    echo_port=$(cat "$tmp/$1.port" 2>/dev/null)
    [ -n "$echo_port" ] || { echo "echo server did not start"; exit 1; }
}

# start_relay NAME ARGS...: sets relay_pid and relay_port; stderr in $tmp/NAME.err.
start_relay() {
    local name=$1
    shift
    "$relay" --listen 127.0.0.1:0 --server "127.0.0.1:$echo_port" "$@" 2>"$tmp/$name.err" &
    relay_pid=$!
    pids+=($relay_pid)
    relay_port=
    for _ in $(seq 100); do
        relay_port=$(sed -n 's/^relay: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/$name.err")
        [ -n "$relay_port" ] && break
        sleep 0.05
    done
    [ -n "$relay_port" ] || { echo "relay did not start:"; cat "$tmp/$name.err"; exit 1; }
}

# stop PID: SIGTERM, then wait at most 5 s.
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$1" 2>/dev/null && { bad "process $1 ignored SIGTERM"; kill -KILL "$1"; }
    wait "$1" 2>/dev/null
}

# stop_relay NAME: stops the relay, which must exit 0 (a sanitizer report would not).
stop_relay() {
    kill -TERM "$relay_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$relay_pid" 2>/dev/null && { bad "relay ignored SIGTERM"; kill -KILL "$relay_pid"; }
    wait "$relay_pid"
    local status=$?
    [ $status -eq 0 ] || { bad "relay $1 exited $status"; cat "$tmp/$1.err"; }
}

client() { timeout 30 python3 "$tmp/client.py" "$relay_port" "$@"; }

# 1. A perfect relay: all 200 come back, byte for byte, once each.
start_echo clean
start_relay clean
out=$(client 200 0.001)
[ "$out" = "received 200 exact 200 duplicates 0" ] || bad "clean relay: $out"
stop_relay clean
stop "$echo_pid"
grep -q '^relay: up: submitted=200 delivered=200 dropped_loss=0 ' "$tmp/clean.err" \
    || bad "clean relay counters: $(cat "$tmp/clean.err")"
grep -q '^relay: clients=1 ' "$tmp/clean.err" || bad "clean relay: want one client"

# 2. 50% loss upstream, seed 42: the loss stream draws once per datagram, so
#    the count is exact whatever the timing: 98 of the 200 are lost.
start_echo lossy
start_relay lossy --up loss=50,seed=42
out=$(client 200 0.001)
[ "$out" = "received 102 exact 102 duplicates 0" ] || bad "50% loss: $out"
stop_relay lossy
stop "$echo_pid"
grep -q '^relay: up: submitted=200 delivered=102 dropped_loss=98 ' "$tmp/lossy.err" \
    || bad "lossy counters: $(grep 'up:' "$tmp/lossy.err")"
[ "$(wc -l <"$tmp/lossy.log")" -eq 102 ] || bad "lossy: echo server saw $(wc -l <"$tmp/lossy.log")"

# 3. Delay and duplication: everything arrives (twice), none before its time.
start_echo dup
start_relay dup --up delay=20ms,dup=100 --down delay=20ms
out=$(client 20 0.001)
[ "$out" = "received 20 exact 20 duplicates 20" ] || bad "dup: $out"
stop_relay dup
stop "$echo_pid"
[ "$(wc -l <"$tmp/dup.log")" -eq 40 ] || bad "dup: echo server saw $(wc -l <"$tmp/dup.log"), want 40"

# 4. NAT rebinding at 1 s: the server sees the one client from two ports.
#    (The time counts from the relay's start, and a client that comes after
#    a rebind starts on it: 1 s leaves room for a slow, sanitized start.)
start_echo rebind
start_relay rebind --up rebind=1s
out=$(client 400 0.005)
case $out in "received 39"[5-9]*|"received 400 "*) ;; *) bad "rebind: $out" ;; esac
stop_relay rebind
stop "$echo_pid"
ports=$(awk '{print $2}' "$tmp/rebind.log" | uniq | wc -l)
addrs=$(awk '{print $1}' "$tmp/rebind.log" | sort -u | tr '\n' ' ')
[ "$ports" -eq 2 ] || bad "rebind: server saw $ports source ports in a row, want 2"
[ "$addrs" = "127.0.0.1 " ] || bad "rebind: server saw addresses $addrs"
grep -q 'rebinds=1 ' "$tmp/rebind.err" || bad "rebind counters: $(tail -1 "$tmp/rebind.err")"

# 5. Address and port: after the rebind the client comes from 127.0.0.2.
start_echo rebindaddr
start_relay rebindaddr --up rebindaddr=1s
out=$(client 400 0.005)
case $out in "received 39"[5-9]*|"received 400 "*) ;; *) bad "rebindaddr: $out" ;; esac
stop_relay rebindaddr
stop "$echo_pid"
addrs=$(awk '{print $1}' "$tmp/rebindaddr.log" | uniq | tr '\n' ' ')
[ "$addrs" = "127.0.0.1 127.0.0.2 " ] || bad "rebindaddr: server saw addresses $addrs"

# 6. Refusals: non-loopback addresses, names, bad specs; exit status 2.
refuse() { # refuse PATTERN ARGS...
    local want=$1
    shift
    timeout 5 "$relay" "$@" >/dev/null 2>"$tmp/refuse.err"
    local status=$?
    [ $status -eq 2 ] || bad "'$*': exit $status, want 2"
    grep -qE -- "$want" "$tmp/refuse.err" || bad "'$*': $(cat "$tmp/refuse.err")"
}
refuse "not a loopback address" --listen 127.0.0.1:0 --server 10.0.0.1:443
refuse "not a loopback address" --listen 0.0.0.0:0 --server 127.0.0.1:443
refuse "not a loopback address" --listen '[::]:0' --server '[::1]:443'
refuse "not a numeric" --listen 127.0.0.1:0 --server localhost:443
refuse "up: loss: want a percent" --listen 127.0.0.1:0 --server 127.0.0.1:443 --up loss=150
refuse "down: rebind applies" --listen 127.0.0.1:0 --server 127.0.0.1:443 --down rebind=1s
refuse "required" --listen 127.0.0.1:0

# 7. --duration: the relay ends by itself and still prints its counters.
start=$(date +%s%N)
timeout 10 "$relay" --listen 127.0.0.1:0 --server 127.0.0.1:9 --duration 0.3 2>"$tmp/dur.err"
status=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ $status -eq 0 ] || bad "--duration: exit $status"
[ $took -ge 280 ] && [ $took -lt 3000 ] || bad "--duration 0.3 took ${took} ms"
grep -q '^relay: down: submitted=0 ' "$tmp/dur.err" || bad "--duration: no counters"

[ $fail -eq 0 ] && echo "relay: clean, exact seeded loss, delay+dup, rebind port and address, refusals, duration"
exit $fail
