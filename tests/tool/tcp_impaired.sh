#!/usr/bin/env bash
# skiff's TCP against the kernel's when the path or the peer is difficult:
#   - 2% loss each way (nftables numgen drop rules on the TUN device), 8 MB
#     in each direction, SHA-256 equal;
#   - reordering, duplication and delay from skiff's own seeded impairment
#     layer between the device and the stack (this kernel has no netem);
#   - a slow reader: skiff's stdout drains slowly, its window closes, the
#     kernel probes it, and every byte still arrives;
#   - the kernel's SACK, timestamps and window scaling switched off in the
#     namespace, and a transfer repeated each way;
#   - an RST at a wrong sequence number inside the window (scapy) gets a
#     challenge ACK (RFC 5961) and the connection carries on.
#   usage: tcp_impaired.sh SKIFF
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
name=tcp_impaired
skiff=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/tcp_netns.sh
. "$here/../lib/tcp_netns.sh"
tcpns_require "$name"
tcpns_need_cmd "$name" nc netcat-openbsd
tcpns_need_cmd "$name" nft nftables
tcpns_need_scapy "$name"
tcpns_init "$name"
tmp=$tcpns_tmp
fail=0
head -c 20000000 /dev/urandom >"$tmp/data"
head -c 8000000 /dev/urandom >"$tmp/small"
t_start=$(date +%s.%N)
step() { printf 'tcp impaired: %s at %.1fs\n' "$1" "$(echo "$(date +%s.%N) - $t_start" | bc)"; }

step "2% loss"
# 1. 2% loss each way on the device (nftables rules match it by name, so
#    they can be in place before skiff creates it).
dev=skl0
tcpns_loss $dev 2 && tcpns_loss_in $dev 2 || { echo "FAIL the nftables loss rules"; fail=1; }
tcpns_kernel_to_skiff "2% loss each way, kernel -> skiff" 5102 "$tmp/small" --tun $dev
tcpns_skiff_to_kernel "2% loss each way, skiff -> kernel" 5103 "$tmp/small" --tun $dev
dropped=$(( $(tcpns_dropped $dev out) + $(tcpns_dropped $dev in) ))
[ "$dropped" -gt 100 ] || { echo "FAIL only $dropped packets dropped: the loss rules did not act"; fail=1; }
tcpns_loss $dev 0
tcpns_loss_in $dev 0

step "Reordering"
# 2. Reordering, duplication and delay from skiff's impairment layer.
impair=delay=1ms,jitter=1ms,reorder=3,dup=2,seed=7
tcpns_kernel_to_skiff "reordered, duplicated, delayed: kernel -> skiff" 5104 "$tmp/small" --impair "$impair"
tcpns_skiff_to_kernel "reordered, duplicated, delayed: skiff -> kernel" 5105 "$tmp/small" --impair "$impair"

step "A slow reader"
# 3. A slow reader: 1 MB into a 64 KiB receive buffer drained 64 KiB every
#    half second: skiff's window stays closed longer than the kernel's
#    persist timer, the kernel probes it (TcpExtTCPWinProbe counts its
#    probes), and every byte arrives.
port=5106
probes_before=$(tcpns_exec nstat -az TcpExtTCPWinProbe 2>/dev/null | awk '/TcpExtTCPWinProbe/ {print $2}')
tcpns_bg "$tmp/slow.log" sh -c "'$skiff' tcp listen -v --buffer 65536 --close-after-peer $port </dev/null | /usr/bin/python3 -c '
import sys, time
out = open(sys.argv[1], \"wb\")
while True:
    b = sys.stdin.buffer.read1(65536)
    if not b: break
    out.write(b); time.sleep(0.5)
' '$tmp/slow.out'"
slow=$tcpns_pid
tcpns_wait_line "$tmp/slow.log" 'listening on port' 5
head -c 1000000 "$tmp/small" >"$tmp/two"
tcpns_exec timeout 120 nc -N 10.9.0.2 $port <"$tmp/two" || { echo "FAIL slow reader: nc exit $?"; fail=1; }
tcpns_wait_exit "$slow" 60
tcpns_same "slow reader" "$tmp/two" "$tmp/slow.out"
probes_after=$(tcpns_exec nstat -az TcpExtTCPWinProbe 2>/dev/null | awk '/TcpExtTCPWinProbe/ {print $2}')
[ "${probes_after:-0}" -gt "${probes_before:-0}" ] ||
    { echo "FAIL slow reader: the kernel sent no zero-window probe (TcpExtTCPWinProbe ${probes_before:-?} -> ${probes_after:-?})"; fail=1; }

step "The kernel without"
# 4. The kernel without SACK, timestamps and window scaling.
tcpns_sysctl net.ipv4.tcp_sack 0 && tcpns_sysctl net.ipv4.tcp_timestamps 0 &&
    tcpns_sysctl net.ipv4.tcp_window_scaling 0 || { echo "FAIL cannot switch the kernel's options off"; fail=1; }
tcpns_kernel_to_skiff "no SACK/TS/WS: kernel -> skiff" 5107 "$tmp/data"
tcpns_skiff_to_kernel "no SACK/TS/WS: skiff -> kernel" 5108 "$tmp/data"
tcpns_sysctl net.ipv4.tcp_sack 1
tcpns_sysctl net.ipv4.tcp_timestamps 1
tcpns_sysctl net.ipv4.tcp_window_scaling 1

step "A blind RST"
# 5. A blind RST inside the window at the wrong sequence number (RFC 5961
#    §3.2), sent with scapy: skiff answers with a challenge ACK (counted) and
#    the connection carries on. Its RCV.NXT is irs + 1 + the bytes received.
port=5109
tcpns_bg "$tmp/rst.log" sh -c "sleep 3 | exec '$skiff' tcp listen -v $port >'$tmp/rst.out'"
rst_pid=$tcpns_pid
tcpns_wait_line "$tmp/rst.log" 'listening on port' 5
tcpns_exec /usr/bin/python3 - "$port" "$tmp/rst.log" >"$tmp/scapy.log" 2>&1 <<'PY'
import re, socket, sys, time
from scapy.all import IP, TCP, send, conf
conf.verb = 0
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("10.9.0.2", port))
s.sendall(b"before ")
irs = None
for _ in range(100):
    m = re.search(r"iss \d+ irs (\d+)", open(log).read())
    if m: irs = int(m.group(1)); break
    time.sleep(0.05)
time.sleep(0.2)
sport = s.getsockname()[1]
seq = (irs + 1 + len(b"before ") + 1000) % 2**32   # inside the window, not RCV.NXT
send(IP(src="10.9.0.1", dst="10.9.0.2") / TCP(sport=sport, dport=port, flags="R", seq=seq))
time.sleep(0.3)
s.sendall(b"after")
s.shutdown(socket.SHUT_WR)
s.settimeout(10)
while s.recv(100): pass
print("done")
PY
tcpns_wait_exit "$rst_pid" 20
grep -q '^done$' "$tmp/scapy.log" || { echo "FAIL blind RST: $(cat "$tmp/scapy.log")"; fail=1; }
[ "$(cat "$tmp/rst.out")" = "before after" ] || { echo "FAIL blind RST: the connection did not carry on: '$(cat "$tmp/rst.out")'"; fail=1; }
grep -qE 'challenge acks [1-9]' "$tmp/rst.log" || { echo "FAIL blind RST: no challenge ACK: $(tail -1 "$tmp/rst.log")"; fail=1; }
grep -q 'CLOSED$' "$tmp/rst.log" && ! grep -q 'reset' "$tmp/rst.log" || { echo "FAIL blind RST: the connection ended badly: $(tail -3 "$tmp/rst.log")"; fail=1; }

[ $fail -eq 0 ] && echo "tcp impaired: 2% loss each way, reordering/duplication/delay, slow reader, kernel without SACK/TS/WS, blind RST: all byte-exact"
exit $fail
