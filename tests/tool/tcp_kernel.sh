#!/usr/bin/env bash
# skiff's userspace TCP against the Linux kernel's, over a TUN device in a
# private network namespace (tests/lib/tcp_netns.sh), as seed 001 tells it:
#   - a kernel client (nc) sends 100 MB to `skiff tcp listen` and closes
#     first: skiff walks LISTEN, SYN-RECEIVED, ESTABLISHED, CLOSE-WAIT,
#     LAST-ACK, CLOSED, and the SHA-256 matches;
#   - `skiff tcp connect` sends 100 MB to a kernel server (nc -l) and closes
#     first: SYN-SENT, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSED,
#     with TIME-WAIT lasting 2 MSL (--msl 1s: about 2 s);
#   - skiff sends 100 MB to a kernel client while that client's FIN has
#     already half-closed the connection (CLOSE-WAIT while sending);
#   - the same over IPv6 (10 MB each way);
#   - an initial sequence number 1,000 below 2^32, in both roles, crosses the
#     wrap mid-transfer;
#   - CUBIC sends; a simultaneous close goes through CLOSING;
#   - connecting to a port nobody listens on gets RST: "connection refused".
#   usage: tcp_kernel.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
name=tcp_kernel
skiff=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/tcp_netns.sh
. "$here/../lib/tcp_netns.sh"
tcpns_require "$name"
tcpns_need_cmd "$name" nc netcat-openbsd
tcpns_init "$name"
tmp=$tcpns_tmp
fail=0

head -c 100000000 /dev/urandom >"$tmp/big"
head -c 10000000 /dev/urandom >"$tmp/mid"

# 1. Kernel client sends and closes first; skiff server closes after it (passive close).
tcpns_kernel_to_skiff "kernel -> skiff 100 MB" 5001 "$tmp/big"
tcpns_expect_states "passive close" "$tmp/5001.log" "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"

# 2. skiff client sends and closes first (active close, TIME-WAIT of 2 MSL).
tcpns_skiff_to_kernel "skiff -> kernel 100 MB" 5002 "$tmp/big" --msl 1s
tcpns_expect_states "active close" "$tmp/c5002.log" "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED"

# 3. TIME-WAIT lasts 2 MSL: with --msl 1s, the process ends about 2 s after entering it.
port=5003
tcpns_bg "$tmp/k3.log" sh -c "exec nc -l -p $port >/dev/null </dev/null"
tcpns_wait_listen $port 5
tcpns_bg "$tmp/c3.log" sh -c "echo hi | exec '$skiff' tcp connect -v --msl 1s 10.9.0.1 $port"
c3=$tcpns_pid
tcpns_wait_line "$tmp/c3.log" '-> TIME-WAIT$' 10 || { echo "FAIL no TIME-WAIT"; fail=1; }
t0=$(date +%s.%N)
tcpns_wait_exit "$c3" 10
t1=$(date +%s.%N)
took=$(echo "$t1 - $t0" | bc)
[ "$(echo "$took >= 1.7 && $took < 3.5" | bc)" = 1 ] || { echo "FAIL TIME-WAIT lasted ${took}s, want about 2 s (2 MSL)"; fail=1; }

# 4. skiff sends while the kernel client has already half-closed (CLOSE-WAIT while sending).
port=5004
tcpns_bg "$tmp/s4.log" sh -c "exec '$skiff' tcp listen -v $port <'$tmp/big' >/dev/null"
s4=$tcpns_pid
tcpns_wait_line "$tmp/s4.log" 'listening on port' 5
tcpns_exec timeout 60 nc -N 10.9.0.2 $port </dev/null >"$tmp/k4.out" || { echo "FAIL kernel client 4: nc exit $?"; fail=1; }
tcpns_wait_exit "$s4" 30
tcpns_same "skiff -> kernel client 100 MB, half-closed" "$tmp/big" "$tmp/k4.out"
tcpns_expect_states "half-close then close" "$tmp/s4.log" "LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"

# 5. IPv6 both ways, 10 MB.
port=5005
v6=(--peer-net 10.9.0.1/24 --peer-net fd00:9::1/64 --addr 10.9.0.2 --addr fd00:9::2)
tcpns_bg "$tmp/s5.log" sh -c "exec '$skiff' tcp listen -v ${v6[*]} --close-after-peer $port </dev/null >'$tmp/s5.out'"
s5=$tcpns_pid
tcpns_wait_line "$tmp/s5.log" 'listening on port' 5
sleep 0.2
tcpns_exec timeout 60 nc -N fd00:9::2 $port <"$tmp/mid" || { echo "FAIL IPv6 kernel client: nc exit $?"; fail=1; }
tcpns_wait_exit "$s5" 30
tcpns_same "IPv6 kernel -> skiff" "$tmp/mid" "$tmp/s5.out"
port=5006
tcpns_bg "$tmp/k6.log" sh -c "exec nc -6 -l -p $port >'$tmp/k6.out' </dev/null"
k6=$tcpns_pid
tcpns_wait_listen $port 5
tcpns_exec timeout 60 "$skiff" tcp connect -v --msl 100ms "${v6[@]}" fd00:9::1 $port <"$tmp/mid" >/dev/null 2>"$tmp/c6.log" ||
    { echo "FAIL IPv6 skiff connect: exit $?"; tail -3 "$tmp/c6.log"; fail=1; }
tcpns_wait_exit "$k6" 10
tcpns_same "IPv6 skiff -> kernel" "$tmp/mid" "$tmp/k6.out"

# 6. An ISN 1,000 below 2^32 in both roles: the sequence numbers wrap mid-transfer.
port=5007
tcpns_bg "$tmp/s7.log" sh -c "exec '$skiff' tcp listen -v --isn 4294966296 $port <'$tmp/mid' >'$tmp/s7.out'"
s7=$tcpns_pid
tcpns_wait_line "$tmp/s7.log" 'listening on port' 5
tcpns_exec timeout 60 nc -N 10.9.0.2 $port <"$tmp/mid" >"$tmp/k7.out" || { echo "FAIL wrap (server): nc exit $?"; fail=1; }
tcpns_wait_exit "$s7" 30
tcpns_same "ISN wrap, skiff server sending" "$tmp/mid" "$tmp/k7.out"
tcpns_same "ISN wrap, skiff server receiving" "$tmp/mid" "$tmp/s7.out"
tcpns_skiff_to_kernel "ISN wrap, skiff client sending" 5008 "$tmp/mid" --isn 4294966296

# 7. CUBIC (RFC 9438, the congestion code QUIC shares) sending to the kernel.
tcpns_skiff_to_kernel "CUBIC, skiff -> kernel" 5010 "$tmp/mid" --cc cubic

# 8. Simultaneous close (RFC 9293 §3.6, figure 13) with the kernel: packets
#    to skiff are held 300 ms, the kernel's FIN (nc -N) leaves at once, and
#    skiff's stdin ends 50 ms after ESTABLISHED: the FINs cross, and both
#    sides pass through CLOSING. (stdin waits on skiff's own log, so the
#    margin does not depend on how fast skiff starts.)
port=5011
tcpns_bg "$tmp/k11.log" sh -c "exec nc -l -N -p $port >/dev/null </dev/null"
k11=$tcpns_pid
tcpns_wait_listen $port 5
tcpns_exec sh -c "(for i in \$(seq 1 500); do grep -q 'ESTABLISHED\$' '$tmp/c11.log' 2>/dev/null && break; sleep 0.01; done; sleep 0.05) |
    exec timeout 20 '$skiff' tcp connect -v --msl 200ms --impair delay=300ms,dir=in 10.9.0.1 $port" \
    >/dev/null 2>"$tmp/c11.log" || { echo "FAIL simultaneous close: exit $?"; fail=1; }
tcpns_wait_exit "$k11" 10
tcpns_expect_states "simultaneous close" "$tmp/c11.log" "CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED"

# 9. A closed port answers RST: connection refused.
tcpns_exec timeout 20 "$skiff" tcp connect -v 10.9.0.1 5999 </dev/null >/dev/null 2>"$tmp/c9.log"
status=$?
[ $status -ne 0 ] || { echo "FAIL connecting to a closed port: exit 0"; fail=1; }
grep -q '^skiff: connection refused$' "$tmp/c9.log" || { echo "FAIL closed port: $(cat "$tmp/c9.log")"; fail=1; }
tcpns_expect_states "refused" "$tmp/c9.log" "CLOSED SYN-SENT CLOSED"

[ $fail -eq 0 ] && echo "tcp kernel: 100 MB each way, IPv6, both closes with the seed's states, TIME-WAIT 2 MSL, ISN wrap both roles, refused port: all passed"
exit $fail
