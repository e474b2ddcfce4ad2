#!/usr/bin/env bash
# The TUN plumbing under the userspace TCP tests, with skiff-tunping (a host
# that only answers pings) as the userspace side, in a private namespace:
#   - the kernel's `ping 10.9.0.2` and `ping fd00:9::2` get every reply
#     through the device (so the replies' checksums are right), and a ping to
#     an address the tool does not own gets none;
#   - the tool sees and ignores the kernel's unasked ICMPv6 chatter (router
#     solicitations, MLD reports);
#   - tcpns_loss at 30% drops 40..95 of 100 echo requests, the rule's counter
#     accounts for every request not answered, tcpns_loss_in drops replies,
#     and removing the rules restores every reply;
#   - afterwards neither the device nor the namespace nor the process is left.
#   usage: tun_ping.sh SKIFF   (skiff-tunping is looked for next to SKIFF)
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SKIFF" >&2; exit 2; }
name=tun_ping
tunping=$(cd "$(dirname "$1")" && pwd)/skiff-tunping
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/tcp_netns.sh
. "$here/../lib/tcp_netns.sh"
tcpns_require "$name"
tcpns_need_cmd "$name" ping iputils-ping
tcpns_need_cmd "$name" nft nftables
[ -x "$tunping" ] || { echo "FAIL $tunping is not built"; exit 1; }

before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
tcpns_init "$name"
ns=$tcpns_ns
dev=skt0
log=$tcpns_tmp/tunping.log
fail=0

tcpns_bg "$log" "$tunping" "$dev" 60 10.9.0.1/24 fd00:9::1/64 10.9.0.2 fd00:9::2
pid=$tcpns_pid
if ! tcpns_wait_line "$log" "^tunping: ready $dev\$" 5; then
    echo "FAIL skiff-tunping did not get ready:"
    sed 's/^/    /' "$log"
    exit 1
fi

# ping_count ARGS...: runs ping in the namespace and prints how many replies
# it received.
ping_count() {
    tcpns_exec ping -n -q "$@" 2>&1 | sed -nE 's/.* ([0-9]+) received.*/\1/p' | head -1
}

# expect_replies WHAT WANT ARGS...: ping must get exactly WANT replies.
expect_replies() {
    local what=$1 want=$2 got
    shift 2
    got=$(ping_count "$@")
    if [ "${got:-x}" = "$want" ]; then
        echo "ok $what: $got replies, as wanted"
    else
        echo "FAIL $what: ${got:-no} replies, want $want"
        fail=1
    fi
}

expect_replies "ping 10.9.0.2" 3 -c 3 -i 0.2 -W 2 10.9.0.2
expect_replies "ping fd00:9::2" 3 -6 -c 3 -i 0.2 -W 2 fd00:9::2
expect_replies "ping 10.9.0.3 (not the stack's)" 0 -c 2 -i 0.2 -W 1 10.9.0.3
answered=6 # echo requests the tool should have answered so far

# The kernel sends router solicitations (and, on some devices, MLD reports)
# by itself once the link is up: the first RS within about a second.
if tcpns_wait_line "$log" '^tunping: ignored ICMPv6 (router solicitation|MLD)' 10; then
    echo "ok the kernel's unasked chatter was ignored: $(grep -m1 '^tunping: ignored ICMPv6' "$log" | sed 's/^tunping: ignored //')"
else
    echo "FAIL no router solicitation or MLD report reached the tool in 10 s"
    fail=1
fi

# Loss toward the device: a request either is dropped (and counted) or
# answered.
if tcpns_loss "$dev" 30; then
    got=$(ping_count -c 100 -i 0.01 -W 1 10.9.0.2)
    dropped=$(tcpns_dropped "$dev")
    got=${got:-0}
    if [ "$got" -ge 40 ] && [ "$got" -le 95 ] && [ $((got + dropped)) -eq 100 ]; then
        echo "ok 30% loss toward $dev: $got of 100 replies, $dropped requests dropped"
    else
        echo "FAIL 30% loss toward $dev: $got of 100 replies (want 40..95), $dropped dropped (want $((100 - got)))"
        fail=1
    fi
    answered=$((answered + 100 - dropped))
else
    echo "FAIL tcpns_loss $dev 30 did not install its rule"
    fail=1
fi
tcpns_loss "$dev" 0 || { echo "FAIL tcpns_loss $dev 0"; fail=1; }

# Loss from the device: every reply is dropped, so the tool answers but
# ping hears nothing.
if tcpns_loss_in "$dev" 100; then
    expect_replies "100% loss from $dev" 0 -c 3 -i 0.2 -W 1 10.9.0.2
    din=$(tcpns_dropped "$dev" in)
    [ "$din" -ge 3 ] || { echo "FAIL tcpns_loss_in dropped $din replies, want 3"; fail=1; }
    answered=$((answered + 3))
else
    echo "FAIL tcpns_loss_in $dev 100 did not install its rule"
    fail=1
fi
tcpns_loss_in "$dev" 0 || { echo "FAIL tcpns_loss_in $dev 0"; fail=1; }
expect_replies "ping 10.9.0.2 with the loss rules removed" 3 -c 3 -i 0.2 -W 2 10.9.0.2
answered=$((answered + 3))

# The tool's own account, at SIGTERM.
tcpns_stop "$pid"
st=$?
summary=$(grep '^tunping: summary' "$log")
if [ $st -ne 0 ] || [ -z "$summary" ]; then
    echo "FAIL skiff-tunping exited $st, summary '${summary}':"
    sed 's/^/    /' "$log" | tail -10
    fail=1
else
    field() { echo "$summary" | sed -nE "s/.*[ (]$1=([0-9]+).*/\\1/p"; }
    e4=$(field echo4) e6=$(field echo6) rs=$(field rs) mld=$(field mld) bad=$(field bad)
    sok=1
    if [ "$((e4 + e6))" -ne "$answered" ] || [ "$e6" -ne 3 ]; then
        echo "FAIL the tool answered $e4 + $e6 echo requests, want $((answered - 3)) + 3"
        sok=0
    fi
    [ "$((rs + mld))" -ge 1 ] || { echo "FAIL the summary counts no RS or MLD: $summary"; sok=0; }
    [ "$bad" -eq 0 ] || { echo "FAIL the tool saw $bad malformed packets: $summary"; sok=0; }
    if [ $sok -eq 1 ]; then echo "ok ${summary#tunping: }"; else fail=1; fi
fi

# The device lives only as long as the tool's file descriptor.
if ip -n "$ns" link show dev "$dev" >/dev/null 2>&1; then
    echo "FAIL $dev still exists after skiff-tunping exited"
    fail=1
fi

tcpns_cleanup
after=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
if echo "$after" | grep -qx "$ns" || echo "$after" | grep -q "^skiff-$$-"; then
    echo "FAIL namespace $ns is still there after cleanup"
    fail=1
elif kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f4 "/proc/$pid/stat" 2>/dev/null)" = "$$" ]; then
    echo "FAIL skiff-tunping (pid $pid) still runs after cleanup"
    fail=1
else
    echo "ok cleanup: no namespace, device or process left ($(echo "$before" | grep -c .) namespaces before, $(echo "$after" | grep -c .) after)"
fi

if [ $fail -eq 0 ]; then echo "tun ping: all checks passed"; else echo "tun ping: FAIL"; fi
exit $fail
