#!/usr/bin/env bash
# Userspace TCP goodput: 1 GiB between the kernel and skiff over a TUN
# device, each way, beside the kernel talking to itself over a veth pair
# with offloads off (ethtool -K: no TSO/GSO/GRO, so both move real MTU-sized
# segments), in the same run. Prints MB/s and the ratio; never fails on speed.
#   usage: tests/bench/tcp.sh BUILD_DIR   (needs root; skips otherwise)
set -uo pipefail
build=$(realpath "$1")
skiff=$build/skiff
bytes=${BENCH_TCP_BYTES:-1073741824}
[ "$(id -u)" -eq 0 ] || { echo "tcp bench: SKIP (needs root)"; exit 0; }
command -v nc >/dev/null && command -v ethtool >/dev/null || { echo "tcp bench: SKIP (nc or ethtool missing)"; exit 0; }
ns=skiff-bench-$$
nsb=skiff-bench-$$-b
cleanup() {
    ip netns del "$ns" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns" && ip netns add "$nsb" || exit 0
ip netns exec "$ns" ip link set lo up
ip netns exec "$nsb" ip link set lo up

now() { date +%s.%N; }
rate() { echo "scale=1; $bytes / ($2 - $1) / 1000000" | bc; }

# kernel -> skiff
ip netns exec "$ns" sh -c "exec '$skiff' tcp listen --close-after-peer 5201 </dev/null >/dev/null" 2>/dev/null &
srv=$!
sleep 0.5
t0=$(now)
head -c "$bytes" /dev/zero | ip netns exec "$ns" nc -N 10.9.0.2 5201
t1=$(now)
wait $srv
k2s=$(rate "$t0" "$t1")

# skiff -> kernel
ip netns exec "$ns" sh -c "exec nc -l -p 5202 >/dev/null </dev/null" &
sink=$!
sleep 0.3
t0=$(now)
head -c "$bytes" /dev/zero | ip netns exec "$ns" "$skiff" tcp connect --msl 10ms 10.9.0.1 5202 >/dev/null
t1=$(now)
wait $sink
s2k=$(rate "$t0" "$t1")

# kernel -> kernel over veth, offloads off
ip link add skb0 netns "$ns" type veth peer name skb1 netns "$nsb"
ip netns exec "$ns" ip addr add 10.8.0.1/24 dev skb0
ip netns exec "$nsb" ip addr add 10.8.0.2/24 dev skb1
ip netns exec "$ns" ip link set skb0 up
ip netns exec "$nsb" ip link set skb1 up
for side in "$ns skb0" "$nsb skb1"; do
    set -- $side
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1
done
ip netns exec "$nsb" sh -c "exec nc -l -p 5203 >/dev/null </dev/null" &
sink=$!
sleep 0.3
t0=$(now)
head -c "$bytes" /dev/zero | ip netns exec "$ns" nc -N 10.8.0.2 5203
t1=$(now)
wait $sink
k2k=$(rate "$t0" "$t1")

printf 'tcp %d bytes, one connection: MB/s\n' "$bytes"
printf '  kernel -> skiff (TUN)   %8s   %.2fx of kernel -> kernel\n' "$k2s" "$(echo "$k2s / $k2k" | bc -l)"
printf '  skiff -> kernel (TUN)   %8s   %.2fx of kernel -> kernel\n' "$s2k" "$(echo "$s2k / $k2k" | bc -l)"
printf '  kernel -> kernel (veth, offloads off) %8s\n' "$k2k"
