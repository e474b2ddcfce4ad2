# shellcheck shell=bash
# Shared helpers for the userspace-TCP tests (tests/tool/tcp_*.sh, tun_*.sh):
# a private network namespace per test, in which the skiff process creates its
# TUN device and gives the kernel side (the namespace's own stack) an address
# such as 10.9.0.1/24 and fd00:9::1/64, while skiff's userspace stack answers
# as 10.9.0.2 / fd00:9::2. Kernel peers (nc, python3 -m http.server, curl,
# iperf3) run inside the same namespace. Impairments: nftables random loss
# in either direction; per-namespace TCP sysctls (SACK, timestamps, window
# scaling, congestion control) to shape the kernel peer. docs/internals/tun.md
# describes the topology.
#
# Needs root, /dev/net/tun and `ip netns`; without them the test is skipped
# (exit 77) with a loud SKIP line. Cleanup ends only the processes started
# here, by PID, deletes the namespace and removes the temporary directory.
#   usage (sourced):  . tests/lib/tcp_netns.sh
#                     tcpns_init NAME            # skip checks, $tcpns_tmp, $tcpns_ns, traps
#                     tcpns_need_cmd NAME CMD PACKAGE   # skip if CMD is missing
#                     tcpns_need_scapy NAME      # skip if /usr/bin/python3 lacks scapy
#                     tcpns_exec CMD...          # run CMD inside the namespace
#                     tcpns_bg LOG CMD...        # start CMD inside it in the background:
#                                                #   sets tcpns_pid
#                     tcpns_wait_line FILE REGEX SECONDS
#                     tcpns_wait_dev DEV SECONDS # until DEV exists in the namespace
#                     tcpns_wait_listen PORT SECONDS  # until a TCP listener on PORT
#                     tcpns_wait_exit PID SECONDS     # until PID (ours) has exited
#                     tcpns_stop PID             # SIGTERM, SIGKILL after 5 s
#                     tcpns_loss DEV PERCENT     # drop PERCENT% of packets the kernel
#                                                #   sends toward DEV (0: none)
#                     tcpns_loss_in DEV PERCENT  # ... of packets arriving from DEV
#                     tcpns_dropped DEV [in|out] # packets those rules dropped so far
#                     tcpns_sysctl KEY VALUE     # e.g. net.ipv4.tcp_sack 0
#                     tcpns_free_port            # a TCP port free in the namespace
#                     tcpns_cleanup              # also run by the EXIT trap
# Call tcpns_bg directly from the test's shell, never in $(...) or a
# pipeline: cleanup ends only live children of that shell (so a PID reused
# by another process is never signalled).

. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"
tcpns_tmp=
tcpns_ns=
tcpns_pid=
# Debian's python3 (scapy is installed for it, not for a pyenv python3 that
# may come first on PATH).
tcpns_python=/usr/bin/python3

# tcpns_skip NAME WHY: the loud skip (exit 77).
tcpns_skip() {
    echo "SKIP $1: $2 -- userspace TCP over TUN NOT TESTED"
    exit 77
}

# tcpns_require NAME: skips unless this is root with /dev/net/tun and a
# working `ip netns`.
tcpns_require() {
    local name=$1 probe
    [ "$(id -u)" -eq 0 ] || tcpns_skip "$name" "needs root (network namespaces, TUN devices)"
    [ -c /dev/net/tun ] || tcpns_skip "$name" "/dev/net/tun is missing"
    command -v ip >/dev/null || tcpns_skip "$name" "ip (iproute2) is not installed"
    probe="skiff-probe-$$-$RANDOM"
    if ! ip netns add "$probe" 2>/dev/null; then
        tcpns_skip "$name" "\`ip netns add\` does not work here"
    fi
    ip netns delete "$probe" 2>/dev/null
    return 0
}

# tcpns_need_cmd NAME CMD PACKAGE: skips unless CMD is installed.
tcpns_need_cmd() {
    command -v "$2" >/dev/null || tcpns_skip "$1" "$2 is not installed (Debian package $3; scripts/install-deps)"
}

# tcpns_need_scapy NAME: skips unless $tcpns_python can import scapy.
tcpns_need_scapy() {
    "$tcpns_python" -c 'import scapy.all' >/dev/null 2>&1 ||
        tcpns_skip "$1" "scapy is not installed for $tcpns_python (python3-scapy)"
}

# tcpns_init NAME [PARENT]: the skip checks, then $tcpns_tmp (under PARENT
# if given) and the namespace $tcpns_ns ("skiff-PID-N", the first N free),
# with lo up; sets the traps that clean up.
tcpns_init() {
    local name=$1 n
    tcpns_require "$name"
    if [ $# -gt 1 ]; then
        tcpns_tmp=$(mktemp -d "$2/skiff-tcpns.XXXXXX" 2>/dev/null || mktemp -d)
    else
        tcpns_tmp=$(mktemp -d)
    fi
    : >"$tcpns_tmp/pids"
    trap tcpns_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    for ((n = 0; n < 100; n++)); do
        if ip netns add "skiff-$$-$n" 2>/dev/null; then
            tcpns_ns="skiff-$$-$n"
            break
        fi
    done
    [ -n "$tcpns_ns" ] || { echo "FAIL could not create a network namespace skiff-$$-N"; exit 1; }
    ip -n "$tcpns_ns" link set lo up || { echo "FAIL could not bring lo up in $tcpns_ns"; exit 1; }
}

# tcpns_exec CMD...: runs CMD inside the namespace (in the foreground).
tcpns_exec() { ip netns exec "$tcpns_ns" "$@"; }

# tcpns_bg LOG CMD...: starts CMD inside the namespace in the background,
# stdout and stderr to LOG; sets tcpns_pid (`ip netns exec` execs CMD, so
# this is CMD's own PID) and records it for cleanup.
tcpns_bg() {
    local log=$1
    shift
    ip netns exec "$tcpns_ns" "$@" >"$log" 2>&1 &
    tcpns_pid=$!
    echo "$tcpns_pid" >>"$tcpns_tmp/pids"
}

# tcpns_ours PID: PID is still a running child of this shell: not a zombie,
# not a PID since reused by another process.
tcpns_ours() {
    local st
    st=$(sed -E 's/^.*\) ([A-Za-z]) ([0-9]+) .*$/\1 \2/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "${st#* }" = "$$" ] && [ "${st% *}" != Z ]
}

# tcpns_wait_exit PID SECONDS: waits until PID (one of ours) has exited;
# returns 1 if it still runs after SECONDS.
tcpns_wait_exit() {
    local i n=$(($2 * 20))
    for ((i = 0; i < n; i++)); do
        tcpns_ours "$1" || return 0
        sleep 0.05
    done
    return 1
}

# tcpns_stop PID: ends one process started here (SIGTERM, then SIGKILL after
# 5 s), reaps it, and forgets it. Returns its exit status.
tcpns_stop() {
    local p=$1 st
    if tcpns_ours "$p"; then
        kill "$p" 2>/dev/null
        tcpns_wait_exit "$p" 5 || kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    st=$?
    sed -i "/^$p\$/d" "$tcpns_tmp/pids"
    return $st
}

tcpns_cleanup() {
    local p left
    if [ -n "$tcpns_tmp" ] && [ -f "$tcpns_tmp/pids" ]; then
        while read -r p; do [ -n "$p" ] && tcpns_ours "$p" && kill "$p" 2>/dev/null; done <"$tcpns_tmp/pids"
        while read -r p; do
            [ -n "$p" ] || continue
            tcpns_wait_exit "$p" 5 || kill -KILL "$p" 2>/dev/null
        done <"$tcpns_tmp/pids"
        : >"$tcpns_tmp/pids"
    fi
    wait 2>/dev/null
    if [ -n "$tcpns_ns" ]; then
        # Anything still inside was started by one of ours (only this test
        # knows the namespace's name): say so, and end it with the namespace.
        left=$(ip netns pids "$tcpns_ns" 2>/dev/null | tr '\n' ' ')
        if [ -n "$left" ]; then
            echo "tcp_netns: ending processes left in $tcpns_ns: $left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null
        fi
        ip netns delete "$tcpns_ns" 2>/dev/null
        tcpns_ns=
    fi
    [ -n "$tcpns_tmp" ] && rm -rf "$tcpns_tmp"
    tcpns_tmp=
}

# tcpns_wait_line FILE REGEX SECONDS: waits until a line of FILE matches
# (grep -E); returns 1 after SECONDS.
tcpns_wait_line() { wait_line "$@"; }

# tcpns_wait_dev DEV SECONDS: waits until the device DEV exists in the
# namespace.
tcpns_wait_dev() {
    local i n=$(($2 * 20))
    for ((i = 0; i < n; i++)); do
        ip -n "$tcpns_ns" link show dev "$1" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# tcpns_wait_listen PORT SECONDS: waits until something in the namespace
# listens on TCP PORT (any address, IPv4 or IPv6).
tcpns_wait_listen() {
    local i n=$(($2 * 20))
    for ((i = 0; i < n; i++)); do
        [ -n "$(ip netns exec "$tcpns_ns" ss -Htln "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    return 1
}

# The nftables table of the loss rules: one per namespace, created on first
# use; chain "out" (postrouting: packets the kernel sends, toward the device)
# and chain "in" (prerouting: packets arriving from the device).
tcpns_nft_table() {
    tcpns_exec nft list table inet skiff_loss >/dev/null 2>&1 && return 0
    tcpns_exec nft -f - <<'EOF'
table inet skiff_loss {
	chain out {
		type filter hook postrouting priority 0; policy accept;
	}
	chain in {
		type filter hook prerouting priority 0; policy accept;
	}
}
EOF
}

# tcpns_loss_rule CHAIN MATCH DEV PERCENT: replaces CHAIN's rule for DEV.
tcpns_loss_rule() {
    local chain=$1 match=$2 dev=$3 pct=$4 h
    case $pct in
    '' | *[!0-9]*) echo "tcpns_loss: PERCENT must be 0..100, not '$pct'" >&2; return 1 ;;
    esac
    [ "$pct" -le 100 ] || { echo "tcpns_loss: PERCENT must be 0..100, not $pct" >&2; return 1; }
    command -v nft >/dev/null || { echo "tcpns_loss: nft is not installed (nftables)" >&2; return 1; }
    tcpns_nft_table || return 1
    # Remove this device's rule, if any, by its handle (the comment names it).
    for h in $(tcpns_exec nft -a list chain inet skiff_loss "$chain" 2>/dev/null |
        sed -nE "s/.*comment \"loss-$dev\".* handle ([0-9]+)\$/\\1/p"); do
        tcpns_exec nft delete rule inet skiff_loss "$chain" handle "$h" || return 1
    done
    [ "$pct" -eq 0 ] && return 0
    local pick=(numgen random mod 100 '<' "$pct")
    [ "$pct" -eq 100 ] && pick=() # numgen's range ends at 99
    tcpns_exec nft add rule inet skiff_loss "$chain" "$match" "\"$dev\"" \
        "${pick[@]}" counter drop comment "\"loss-$dev\""
}

# tcpns_loss DEV PERCENT: drops PERCENT% (0..100, at random, each packet on
# its own) of the packets the namespace's kernel sends toward DEV, i.e. what
# skiff's stack would have received; 0 removes the rule.
tcpns_loss() { tcpns_loss_rule out oifname "$1" "$2"; }

# tcpns_loss_in DEV PERCENT: the same for packets arriving from DEV (what
# skiff's stack sent).
tcpns_loss_in() { tcpns_loss_rule in iifname "$1" "$2"; }

# tcpns_dropped DEV [out|in]: prints how many packets the loss rule for DEV
# has dropped (0 when there is no rule).
tcpns_dropped() {
    local n
    n=$(tcpns_exec nft list chain inet skiff_loss "${2:-out}" 2>/dev/null |
        grep "comment \"loss-$1\"" | sed -nE 's/.*counter packets ([0-9]+) .*/\1/p')
    echo "${n:-0}"
}

# tcpns_sysctl KEY VALUE: sets a sysctl inside the namespace (the net.*
# keys are per namespace), e.g. net.ipv4.tcp_sack 0, net.ipv4.tcp_timestamps
# 0, net.ipv4.tcp_window_scaling 0, net.ipv4.tcp_congestion_control reno.
# Returns 1, with a message, unless it reads back VALUE.
tcpns_sysctl() {
    local got
    tcpns_exec sysctl -qw "$1=$2" >/dev/null 2>&1
    got=$(tcpns_exec sysctl -n "$1" 2>/dev/null)
    [ "$got" = "$2" ] && return 0
    echo "tcpns_sysctl: $1 is '$got' in $tcpns_ns, wanted '$2'" >&2
    return 1
}

# tcpns_free_port: prints a TCP port that is free inside the namespace on
# both 0.0.0.0 and ::, as the kernel picked it.
tcpns_free_port() {
    tcpns_exec "$tcpns_python" -c '
import socket
for _ in range(50):
    a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    a.bind(("0.0.0.0", 0))
    p = a.getsockname()[1]
    b = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        b.bind(("::", p))
    except OSError:
        continue
    print(p)
    break
'
}

# ---- transfers between skiff and the kernel, shared by the tcp_*.sh tests ----
# They use $skiff (the skiff binary), write their files under $tcpns_tmp,
# and on a failure print a FAIL line and set fail=1 (the test's verdict).

# tcpns_same WHAT A B: A and B hold the same bytes (SHA-256).
tcpns_same() {
    [ "$(sha256sum <"$2" | cut -d' ' -f1)" = "$(sha256sum <"$3" | cut -d' ' -f1)" ] ||
        { echo "FAIL $1: SHA-256 differs ($(stat -c %s "$3") of $(stat -c %s "$2") bytes)"; fail=1; }
}

# tcpns_states LOG: the state transitions `skiff tcp -v` logged, as "A B C ...".
tcpns_states() {
    grep -oE '^skiff tcp: [A-Z0-9-]+ -> [A-Z0-9-]+$' "$1" | awk '{s = s (NR == 1 ? $3 : "") " " $5} END {print s}'
}

# tcpns_expect_states WHAT LOG "STATE STATE ...": exactly these transitions.
tcpns_expect_states() {
    local got
    got=$(tcpns_states "$2")
    [ "$got" = "$3" ] || { echo "FAIL $1: states '$got', want '$3'"; fail=1; }
}

# tcpns_kernel_to_skiff WHAT PORT FILE [SKIFF OPTIONS...]: the kernel's nc
# sends FILE to `skiff tcp listen` and closes first; skiff closes after it.
# skiff's log is $tcpns_tmp/PORT.log, what it received $tcpns_tmp/PORT.out.
tcpns_kernel_to_skiff() {
    local what=$1 port=$2 file=$3 pid
    shift 3
    tcpns_bg "$tcpns_tmp/$port.log" sh -c "exec '$skiff' tcp listen -v --close-after-peer $* $port </dev/null >'$tcpns_tmp/$port.out'"
    pid=$tcpns_pid
    tcpns_wait_line "$tcpns_tmp/$port.log" 'listening on port' 5 || { echo "FAIL $what: skiff did not start"; fail=1; return; }
    tcpns_exec timeout 120 nc -N 10.9.0.2 "$port" <"$file" || { echo "FAIL $what: nc exit $?"; fail=1; }
    tcpns_wait_exit "$pid" 60 || { echo "FAIL $what: skiff did not end"; fail=1; }
    tcpns_same "$what" "$file" "$tcpns_tmp/$port.out"
}

# tcpns_skiff_to_kernel WHAT PORT FILE [SKIFF OPTIONS...]: `skiff tcp connect`
# sends FILE to the kernel's nc -l and closes first (--msl 100ms unless the
# options say otherwise). skiff's log is $tcpns_tmp/cPORT.log.
tcpns_skiff_to_kernel() {
    local what=$1 port=$2 file=$3 pid
    shift 3
    tcpns_bg "$tcpns_tmp/k$port.log" sh -c "exec nc -l -p $port >'$tcpns_tmp/k$port.out' </dev/null"
    pid=$tcpns_pid
    tcpns_wait_listen "$port" 5 || { echo "FAIL $what: nc -l did not start"; fail=1; return; }
    tcpns_exec timeout 120 "$skiff" tcp connect -v --msl 100ms "$@" 10.9.0.1 "$port" <"$file" >/dev/null \
        2>"$tcpns_tmp/c$port.log" ||
        { echo "FAIL $what: skiff exit $?: $(tail -2 "$tcpns_tmp/c$port.log" | tr '\n' ' ')"; fail=1; }
    tcpns_wait_exit "$pid" 20
    tcpns_same "$what" "$file" "$tcpns_tmp/k$port.out"
}
