# Bounded waits shared by the test libraries (h3_peers.sh, tcp_netns.sh).
#   usage (sourced): . tests/lib/wait.sh

# wait_line FILE REGEX SECONDS: waits until a line of FILE matches (grep -E);
# returns 1 after SECONDS.
wait_line() {
    local i n=$(($3 * 20))
    for ((i = 0; i < n; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
