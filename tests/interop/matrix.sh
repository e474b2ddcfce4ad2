#!/usr/bin/env bash
# The interop matrix, like the QUIC interop runner's: one row per test case,
# one column per client-server pair, each cell pass or fail. The transport
# cases run hq-interop (HTTP/0.9), as the runner's do; the http3 case runs
# HTTP/3 (skiff's default) with quic-go's http3 package on the other side. Exits non-zero
# if any cell fails. Every process it starts is ended by PID; every wait is
# bounded. Impairments come from skiff-relay (this kernel has no netem).
#   usage: matrix.sh BUILD_DIR [CASE...]
set -uo pipefail
build=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
skiff=$build/skiff
relay=$build/skiff-relay
quicgo=$build/quicgo-peer

tmp=$(mktemp -d)
# Servers and relays start inside command substitutions (subshells), so
# their PIDs go to a file that the parent reads to end them.
pidfile=$tmp/pids
kill_started() {
    [ -f "$pidfile" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$pidfile"
    : >"$pidfile"
}
cleanup() {
    kill_started
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$quicgo" ]; then
    bash "$here/build-quicgo.sh" "$build" || { echo "matrix: cannot build the quic-go peer"; exit 1; }
fi
[ -x "$relay" ] || { echo "matrix: $relay is missing"; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

www=$tmp/www
mkdir -p "$www"
head -c 2000000 /dev/urandom >"$www/2MB"
head -c 3000000 /dev/urandom >"$www/3MB"
head -c 5000000 /dev/urandom >"$www/5MB"
head -c 10000000 /dev/urandom >"$www/10MB"
head -c 1000 /dev/urandom >"$www/small"
for i in $(seq 1 1999); do head -c $((32 + i % 97)) /dev/urandom >"$www/m$i"; done

# Waits (bounded) for a line matching $2 in file $1; prints the match.
wait_for() {
    for _ in $(seq 1 100); do
        grep -m1 -oE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

start_server() { # start_server KIND LOG → prints the port
    local kind=$1 log=$2
    if [ "$kind" = skiff ]; then
        "$skiff" serve --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" ${server_extra[@]+"${server_extra[@]}"} \
            "$www" >"$log" 2>&1 &
        echo $! >>"$pidfile"
        wait_for "$log" 'listening on 127.0.0.1:[0-9]+' | grep -oE '[0-9]+$'
    else
        "$quicgo" server --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
            --root "$www" --alpn "$alpn" ${server_extra[@]+"${server_extra[@]}"} >"$log" 2>&1 &
        echo $! >>"$pidfile"
        wait_for "$log" 'listening 127.0.0.1:[0-9]+' | grep -oE '[0-9]+$'
    fi
}

start_relay() { # start_relay SERVER_PORT UP DOWN LOG → prints the relay's port
    local port=$1 up=$2 down=$3 log=$4
    "$relay" --listen 127.0.0.1:0 --server "127.0.0.1:$port" --up "$up" --down "$down" \
        --duration 600 >"$log" 2>&1 &
    echo $! >>"$pidfile"
    wait_for "$log" 'listening on 127.0.0.1:[0-9]+' | grep -oE '[0-9]+$'
}

run_client() { # run_client KIND PORT OUTDIR SECONDS FILES...
    local kind=$1 port=$2 out=$3 secs=$4
    shift 4
    local urls=()
    for f in "$@"; do urls+=("https://127.0.0.1:$port/$f"); done
    mkdir -p "$out"
    if [ "$kind" = skiff ]; then
        timeout "$secs" "$skiff" get --cacert "$tmp/cert.pem" --alpn "$alpn" ${client_extra[@]+"${client_extra[@]}"} \
            -O "$out" "${urls[@]}"
    else
        timeout "$secs" "$quicgo" client --cacert "$tmp/cert.pem" --alpn "$alpn" ${qg_client_extra[@]+"${qg_client_extra[@]}"} \
            -O "$out" "${urls[@]}"
    fi
}

check_files() { # check_files OUTDIR FILES...
    local out=$1
    shift
    for f in "$@"; do cmp -s "$www/$f" "$out/$f" || { echo "  $f differs or is missing"; return 1; }; done
}

# One case for one pair: returns 0 on pass.
run_case() { # run_case CASE CLIENT SERVER DIR
    local name=$1 client=$2 server=$3 dir=$4
    local port files up="" down="" secs=60 target
    server_extra=() client_extra=() qg_client_extra=()
    alpn=hq-interop
    [ "$name" = http3 ] && alpn=h3
    if [ "$name" = handshakeloss ]; then
        # At 30% loss each way a probe round trip fails half the time, and
        # RFC 9002 doubles the PTO after each failure: a streak of ten takes
        # longer than a 30 s idle timeout. About one connection in a few
        # hundred meets one, so the handshake and idle timeouts are raised
        # for this case on every endpoint, as the interop runner allows.
        client_extra=(--handshake-timeout 120s --idle-timeout 120s)
        qg_client_extra=(--handshake-timeout 120s --max-idle-timeout 120s)
        [ "$server" = skiff ] && server_extra=(--idle-timeout 120s)
        [ "$server" = quicgo ] && server_extra=(--max-idle-timeout 120s)
    fi
    if [ "$name" = chacha20 ]; then
        # The client offers only ChaCha20-Poly1305; quic-go's client cannot be
        # told to, so then skiff's server accepts nothing else.
        local chacha=(--tls13-ciphers TLS_CHACHA20_POLY1305_SHA256)
        [ "$client" = skiff ] && client_extra=("${chacha[@]}")
        [ "$client" = quicgo ] && server_extra=("${chacha[@]}")
    fi
    # Both servers take --retry: every client address is validated first.
    [ "$name" = retry ] && server_extra=(--retry)
    [ "$name" = zerortt ] && [ "$server" = skiff ] && server_extra=(--0rtt)
    if [ "$name" = keyupdate ]; then
        # The client updates its keys (RFC 9001 §6); quic-go's client cannot
        # be made to, so then skiff's server does, and quic-go must follow.
        [ "$client" = skiff ] && client_extra=(--key-update)
        [ "$client" = quicgo ] && server_extra=(--key-update)
    fi
    port=$(start_server "$server" "$dir/server.log") || { echo "  server did not start"; return 1; }
    target=$port
    case $name in
    handshake | chacha20) files=(small 2MB) ;;
    keyupdate) files=(5MB) ;;
    retry) files=(small 2MB) ;;
    resumption | zerortt) files=(small 2MB) ;;
    transfer) files=(2MB 3MB 5MB) ;;
    multiplexing) files=(); for i in $(seq 1 1999); do files+=("m$i"); done ;;
    transferloss) files=(5MB); up="loss=2,seed=7"; down="loss=2,seed=8" ;;
    transfercorruption) files=(5MB); up="corrupt=2,seed=9"; down="corrupt=2,seed=10" ;;
    # 10 MB at 40 Mbit/s takes 2 s: the 2 s outage starting at 0.5 s falls inside it.
    blackhole) files=(10MB); up="rate=40mbit,queue=256k,blackhole=500ms+2s,seed=11"
        down="rate=40mbit,queue=256k,blackhole=500ms+2s,seed=12" ;;
    handshakeloss) files=(small); up="loss=30,maxdrop=6,seed=13"; down="loss=30,maxdrop=6,seed=14" ;;
    # HTTP/3 requests in parallel on one connection, through 1% loss each way.
    http3) files=(small 2MB 5MB); for i in $(seq 1 100); do files+=("m$i"); done
        up="loss=1,seed=15"; down="loss=1,seed=16" ;;
    *) echo "  unknown case $name"; return 1 ;;
    esac
    if [ -n "$up$down" ]; then
        target=$(start_relay "$port" "${up:-loss=0}" "${down:-loss=0}" "$dir/relay.log") ||
            { echo "  relay did not start"; return 1; }
    fi
    if [ "$name" = handshakeloss ]; then
        # 50 handshakes, 10 at a time, each a new connection through the lossy relay.
        local ok=0
        for batch in 0 1 2 3 4; do
            local bp=()
            for i in $(seq 1 10); do
                run_client "$client" "$target" "$dir/out-$batch-$i" 240 small >"$dir/client-$batch-$i.log" 2>&1 &
                bp+=($!)
            done
            local k=0
            for p in "${bp[@]}"; do
                k=$((k + 1))
                if wait "$p"; then ok=$((ok + 1)); else echo "  handshake $batch-$k: $(tail -2 "$dir/client-$batch-$k.log" | tr '\n' ' ')"; fi
            done
        done
        for batch in 0 1 2 3 4; do for i in $(seq 1 10); do
            check_files "$dir/out-$batch-$i" small >/dev/null || ok=$((ok - 1))
        done; done
        [ "$ok" -eq 50 ] || { echo "  $ok of 50 handshakes completed"; return 1; }
        return 0
    fi
    if [ "$name" = resumption ] || [ "$name" = zerortt ]; then
        # Two connections: the second resumes the first's session (and sends
        # its request as 0-RTT data).
        if [ "$client" = skiff ]; then
            client_extra=(--session-file "$dir/session")
            [ "$name" = zerortt ] && client_extra+=(--0rtt)
            run_client skiff "$target" "$dir/out" "$secs" small >"$dir/client1.log" 2>&1 &&
                run_client skiff "$target" "$dir/out" "$secs" 2MB >"$dir/client.log" 2>&1 ||
                { echo "  client failed: $(tail -2 "$dir/client.log" | tr '\n' ' ')"; return 1; }
            grep -q 'resumed yes' "$dir/client.log" || { echo "  not resumed"; return 1; }
            if [ "$name" = zerortt ]; then
                grep -q '0-RTT accepted' "$dir/client.log" || { echo "  0-RTT not accepted"; return 1; }
            fi
        else
            local more=(--resume)
            [ "$name" = zerortt ] && more+=(--zerortt)
            mkdir -p "$dir/out"
            timeout "$secs" "$quicgo" client --cacert "$tmp/cert.pem" --alpn "$alpn" "${more[@]}" \
                -O "$dir/out" "https://127.0.0.1:$target/small" "https://127.0.0.1:$target/2MB" \
                >"$dir/client.log" 2>&1 || { echo "  client failed: $(tail -2 "$dir/client.log" | tr '\n' ' ')"; return 1; }
            grep -q 'resumed true' "$dir/client.log" || { echo "  not resumed"; return 1; }
            if [ "$name" = zerortt ]; then
                grep -q 'zerortt used' "$dir/client.log" || { echo "  0-RTT not used"; return 1; }
            fi
        fi
        check_files "$dir/out" "${files[@]}"
        return
    fi
    run_client "$client" "$target" "$dir/out" "$secs" "${files[@]}" >"$dir/client.log" 2>&1 ||
        { echo "  client failed: $(tail -2 "$dir/client.log" | tr '\n' ' ')"; return 1; }
    if [ "$name" = http3 ]; then
        local said=$dir/client.log
        [ "$client" = quicgo ] && said=$dir/server.log
        [ "$client" = skiff ] && { grep -q 'connected, alpn h3' "$said" || { echo "  not HTTP/3"; return 1; }; }
    fi
    if [ "$name" = chacha20 ] && [ "$client" = skiff ]; then
        grep -q 'TLS_CHACHA20_POLY1305_SHA256' "$dir/client.log" || { echo "  not ChaCha20-Poly1305"; return 1; }
    fi
    if [ "$name" = retry ]; then
        grep -qE 'address validated by a Retry|retry received' "$dir/client.log" ||
            { echo "  the client saw no Retry"; return 1; }
    fi
    if [ "$name" = keyupdate ]; then
        local who=$dir/client.log
        [ "$client" = quicgo ] && who=$dir/server.log
        grep -q 'key updates: initiated 1' "$who" || { echo "  no key update was initiated"; return 1; }
        if [ "$client" = skiff ] && [ "$server" = skiff ]; then
            sleep 0.2 # the server reports when its connection ends
            grep -q 'followed 1' "$dir/server.log" || { echo "  the server did not follow"; return 1; }
        fi
    fi
    check_files "$dir/out" "${files[@]}"
}

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(handshake transfer multiplexing retry resumption zerortt chacha20 keyupdate transferloss handshakeloss transfercorruption blackhole http3)
pairs=("skiff:skiff" "skiff:quicgo" "quicgo:skiff")

declare -A result
failed=0
for c in "${cases[@]}"; do
    for pair in "${pairs[@]}"; do
        client=${pair%%:*} server=${pair##*:}
        dir=$tmp/$c-$client-$server
        mkdir -p "$dir"
        start=$(date +%s.%N)
        if run_case "$c" "$client" "$server" "$dir" >"$dir/why" 2>&1; then
            result[$c,$pair]=pass
        else
            result[$c,$pair]=fail
            failed=1
            echo "matrix: $c $client->$server failed:"
            sed 's/^/  /' "$dir/why"
            tail -5 "$dir/server.log" 2>/dev/null | sed 's/^/  server: /'
        fi
        printf 'matrix: %-20s %-15s %s (%.1fs)\n' "$c" "$client->$server" "${result[$c,$pair]}" \
            "$(echo "$(date +%s.%N) - $start" | bc)"
        # End this case's processes before the next.
        kill_started
        wait 2>/dev/null
    done
done

echo
printf '%-20s' "case \\ client->server"
for pair in "${pairs[@]}"; do printf ' %-15s' "${pair/:/->}"; done
echo
for c in "${cases[@]}"; do
    printf '%-20s' "$c"
    for pair in "${pairs[@]}"; do printf ' %-15s' "${result[$c,$pair]}"; done
    echo
done
total=$(( ${#cases[@]} * ${#pairs[@]} ))
bad=0
for k in "${!result[@]}"; do [ "${result[$k]}" = fail ] && bad=$((bad + 1)); done
echo "matrix: $((total - bad)) passed, $bad failed"
exit $failed
