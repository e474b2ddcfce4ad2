#!/usr/bin/env bash
# Builds the quic-go 0.29 interop peer (tests/interop/quicgo) into BUILD_DIR,
# in GOPATH mode against Debian's quic-go source (the module proxy is not
# reachable): golang-go + golang-github-lucas-clemente-quic-go-dev.
#   usage: build-quicgo.sh BUILD_DIR      -> BUILD_DIR/quicgo-peer
# Quiet on success; exit 1 with the compiler's output on failure, 3 when Go
# or quic-go is not installed (scripts/install-deps installs both).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/quicgo
mkdir -p "$1"
out=$(cd "$1" && pwd)

export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$out/gocache GOFLAGS=
command -v go >/dev/null 2>&1 || { echo "build-quicgo: go not found (install golang-go)" >&2; exit 3; }
[ -d "$GOPATH/src/github.com/lucas-clemente/quic-go/http3" ] \
    || { echo "build-quicgo: quic-go source not found (install golang-github-lucas-clemente-quic-go-dev)" >&2; exit 3; }

# Tests that run at once may all build it: one at a time, each into its own
# temporary file, renamed into place (atomic, so no reader sees half a file).
exec 9>"$out/quicgo-peer.lock"
flock 9
tmp=$out/quicgo-peer.tmp.$$
# GOPATH mode builds a directory, not a module: build from the source dir.
if ! log=$(cd "$src" && go build -o "$tmp" . 2>&1); then
    rm -f "$tmp"
    echo "build-quicgo: go build failed:" >&2
    echo "$log" >&2
    exit 1
fi
mv -f "$tmp" "$out/quicgo-peer"
