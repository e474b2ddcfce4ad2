// quicgo-peer: an independent QUIC peer for skiff's interop tests, built on
// quic-go 0.29 (Debian's golang-github-lucas-clemente-quic-go-dev, GOPATH
// mode, Go 1.19). One binary, two modes:
//
//	quicgo-peer server --listen ADDR --cert FILE --key FILE --root DIR [...]
//	quicgo-peer client (--insecure | --cacert FILE) [...] URL...
//
// It serves and fetches files over hq-interop (HTTP/0.9 over QUIC) or HTTP/3
// (quic-go's http3 package), and prints one machine-readable line per event
// on stdout ("listening ...", "handshake ok ...", "downloaded ...",
// "closed ...") for test scripts to grep. docs/internals/interop-quicgo.md
// lists every flag and line.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	quic "github.com/lucas-clemente/quic-go"
)

// Exit statuses: what a test script can tell apart without parsing stderr.
const (
	exitOK      = 0
	exitFailed  = 1 // a handshake, download or listener failed
	exitUsage   = 2
	defaultALPN = "hq-interop"
)

// out serialises the report lines: goroutines of several connections print
// concurrently and a line must never be split by another.
var outMu sync.Mutex

func report(format string, args ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

func warn(format string, args ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(os.Stderr, "quicgo-peer: "+format+"\n", args...)
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: quicgo-peer server --listen ADDR --cert FILE --key FILE --root DIR [options]
       quicgo-peer client (--insecure | --cacert FILE) [options] URL...
run "quicgo-peer server -h" or "quicgo-peer client -h" for the options
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(exitUsage)
	}
	switch os.Args[1] {
	case "server":
		os.Exit(runServer(os.Args[2:]))
	case "client":
		os.Exit(runClient(os.Args[2:]))
	case "-h", "--help", "help":
		usage()
		os.Exit(exitOK)
	default:
		usage()
		os.Exit(exitUsage)
	}
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (Go's flag package stops at the first positional one,
// but "client URL -O DIR" is how people type it).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// uint62Flag is an error code: decimal or 0x-prefixed, at most 2^62-1 (the
// largest varint, RFC 9000 §16).
type uint62Flag struct {
	v   uint64
	set bool
}

func (f *uint62Flag) String() string { return strconv.FormatUint(f.v, 10) }

func (f *uint62Flag) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return err
	}
	if v >= 1<<62 {
		return fmt.Errorf("%s is above 2^62-1", s)
	}
	f.v, f.set = v, true
	return nil
}

// parseVersions maps "v1", "v2", "draft29" (comma-separated, in preference
// order) to quic-go's version numbers. Empty means quic-go's default list.
func parseVersions(s string) ([]quic.VersionNumber, error) {
	if s == "" {
		return nil, nil
	}
	var vs []quic.VersionNumber
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "v1", "1":
			vs = append(vs, quic.Version1)
		case "v2", "2":
			vs = append(vs, quic.Version2)
		case "draft29", "draft-29", "29":
			vs = append(vs, quic.VersionDraft29)
		default:
			return nil, fmt.Errorf("unknown QUIC version %q (want v1, v2 or draft29)", name)
		}
	}
	return vs, nil
}

func openKeyLog(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

func seconds(d time.Duration) float64 { return d.Seconds() }
