// Client mode: fetch URLs over one connection (parallel hq-interop streams,
// or HTTP/3 requests through http3.RoundTripper on a connection we dial
// ourselves), optionally a second connection that resumes the session and
// sends 0-RTT, then hold, close, and report how the connection ended. Also
// the handshake-rate benchmark (--handshakes N).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	quic "github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

type clientOpts struct {
	insecure                          bool
	cacert, sni, alpn, outDir, keylog string
	maxIdle, keepAlive, handshakeIdle time.Duration
	versions                          []quic.VersionNumber
	resume, zerortt, datagrams        bool
	closeAfter                        time.Duration
	closeCode                         uint62Flag
	closeReason                       string
	hold                              time.Duration
	handshakes, concurrency           int

	addr  string // host:port of every URL
	paths []string
}

// The application close a client makes when it is done: 0 for hq-interop,
// H3_NO_ERROR for HTTP/3 (RFC 9114 §8.1).
const (
	hqNoError = 0x0
	h3NoError = 0x100
)

// datagramProbe is what --datagrams sends once after the downloads.
const datagramProbe = "quicgo-peer datagram probe"

func runClient(args []string) int {
	var o clientOpts
	fs := flag.NewFlagSet("quicgo-peer client", flag.ContinueOnError)
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate")
	fs.StringVar(&o.cacert, "cacert", "", "verify the server against this CA / self-signed certificate (PEM)")
	fs.StringVar(&o.sni, "sni", "", "server name to send and verify (default: the URL's host)")
	fs.StringVar(&o.alpn, "alpn", defaultALPN, "hq-interop (HTTP/0.9 over QUIC) or h3")
	fs.DurationVar(&o.maxIdle, "max-idle-timeout", 0, "max_idle_timeout to advertise (0: quic-go's 30s)")
	fs.DurationVar(&o.keepAlive, "keep-alive", 0, "send a PING after this much idle time (0: never)")
	fs.DurationVar(&o.handshakeIdle, "handshake-timeout", 0, "HandshakeIdleTimeout: give up a handshake after this long without a packet (0: 5s)")
	versions := fs.String("versions", "", "QUIC versions, comma-separated: v1, v2, draft29 (h3 uses the first only)")
	fs.BoolVar(&o.resume, "resume", false, "second connection resuming the first one's TLS session; prints \"resumed true|false\"")
	fs.BoolVar(&o.zerortt, "zerortt", false, "second connection sends its requests in 0-RTT; prints \"zerortt used|unused\"")
	fs.DurationVar(&o.closeAfter, "close-with-error-after", 0, "close with --close-code/--close-reason this long after the handshake")
	fs.Var(&o.closeCode, "close-code", "application error code for --close-with-error-after")
	fs.StringVar(&o.closeReason, "close-reason", "", "reason phrase for --close-with-error-after")
	fs.DurationVar(&o.hold, "hold", 0, "keep the connection open and idle this long after the downloads")
	fs.StringVar(&o.outDir, "O", "", "save downloads into DIR (default: count and discard)")
	fs.StringVar(&o.keylog, "keylog", "", "append TLS secrets to FILE (SSLKEYLOGFILE format)")
	fs.BoolVar(&o.datagrams, "datagrams", false, "offer DATAGRAM frames; send one after the downloads and wait for its echo")
	fs.IntVar(&o.handshakes, "handshakes", 0, "benchmark: N handshakes, each on a new connection closed right after it")
	fs.IntVar(&o.concurrency, "concurrency", 1, "handshakes in flight at once (with --handshakes)")
	urls, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.versions, err = parseVersions(*versions); err != nil {
		warn("%v", err)
		return exitUsage
	}
	if len(urls) == 0 {
		warn("client needs at least one URL (https://HOST:PORT/PATH)")
		return exitUsage
	}
	if o.insecure == (o.cacert != "") {
		warn("client needs exactly one of --insecure and --cacert")
		return exitUsage
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Port() == "" {
			warn("bad URL %q: want https://HOST:PORT/PATH", s)
			return exitUsage
		}
		if o.addr == "" {
			o.addr = u.Host
		} else if u.Host != o.addr {
			warn("all URLs must name the same HOST:PORT (one connection)")
			return exitUsage
		}
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		o.paths = append(o.paths, p)
	}
	if o.handshakes < 0 || o.concurrency < 1 {
		warn("--handshakes and --concurrency must be positive")
		return exitUsage
	}

	tlsConf := &tls.Config{
		ServerName:         o.sni,
		InsecureSkipVerify: o.insecure,
		NextProtos:         []string{o.alpn},
		MinVersion:         tls.VersionTLS13,
		ClientSessionCache: newTicketCache(),
	}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			warn("--cacert: %v", err)
			return exitUsage
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			warn("--cacert: no certificate in %s", o.cacert)
			return exitUsage
		}
		tlsConf.RootCAs = pool
	}
	keylog, err := openKeyLog(o.keylog)
	if err != nil {
		warn("--keylog: %v", err)
		return exitFailed
	}
	if keylog != nil {
		defer keylog.Close()
		tlsConf.KeyLogWriter = keylog
	}
	if o.alpn == "h3" {
		// http3 speaks one version per connection; its ALPN follows it.
		if len(o.versions) > 1 {
			o.versions = o.versions[:1]
		}
		if len(o.versions) == 1 && o.versions[0] == quic.VersionDraft29 {
			tlsConf.NextProtos = []string{"h3-29"}
		}
	}
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			warn("-O: %v", err)
			return exitFailed
		}
	}

	if o.handshakes > 0 {
		return runHandshakes(&o, tlsConf)
	}
	if !o.resume && !o.zerortt {
		return exitStatus(runSession(&o, tlsConf, o.paths, false))
	}
	// Two connections, as the interop runner's resumption and 0-RTT tests
	// do: the first fetches the first URL (and gets a session ticket), the
	// second fetches the rest (or the first again if there is only one).
	second := o.paths[1:]
	if len(second) == 0 {
		second = o.paths
	}
	ok1 := runSession(&o, tlsConf, o.paths[:1], false)
	ok2 := runSession(&o, tlsConf, second, true)
	return exitStatus(ok1 && ok2)
}

func exitStatus(ok bool) int {
	if ok {
		return exitOK
	}
	return exitFailed
}

func (o *clientOpts) quicConfig() *quic.Config {
	c := &quic.Config{
		Versions:             o.versions,
		MaxIdleTimeout:       o.maxIdle,
		KeepAlivePeriod:      o.keepAlive,
		HandshakeIdleTimeout: o.handshakeIdle,
		EnableDatagrams:      o.datagrams,
	}
	if o.alpn == "h3" {
		c.MaxIncomingStreams = -1 // an HTTP/3 server opens no bidi streams
	}
	return c
}

// ticketCache is the client's session cache; it also tells when a session
// ticket has arrived, so that the first of two connections is not closed
// before the server's NewSessionTicket (sent around HANDSHAKE_DONE, after
// the client's Finished, racing the first response) reaches it.
type ticketCache struct {
	tls.ClientSessionCache
	got chan struct{}
}

func newTicketCache() *ticketCache {
	return &ticketCache{tls.NewLRUClientSessionCache(4), make(chan struct{}, 1)}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.got <- struct{}{}:
		default:
		}
	}
}

// fetcher fetches one path on the session's connection into w.
type fetcher func(p string, w io.Writer) (int64, error)

func hqFetcher(conn quic.Connection) fetcher {
	return func(p string, w io.Writer) (int64, error) {
		str, err := conn.OpenStreamSync(context.Background())
		if err != nil {
			return 0, err
		}
		if _, err := fmt.Fprintf(str, "GET %s\r\n", p); err != nil {
			return 0, err
		}
		if err := str.Close(); err != nil {
			return 0, err
		}
		return io.CopyBuffer(w, str, make([]byte, 64*1024))
	}
}

func h3Fetcher(rt *http3.RoundTripper, o *clientOpts, early bool) fetcher {
	method := http.MethodGet
	if early {
		method = http3.MethodGet0RTT // the only method http3 sends in 0-RTT
	}
	return func(p string, w io.Writer) (int64, error) {
		req, err := http.NewRequest(method, "https://"+o.addr+p, nil)
		if err != nil {
			return 0, err
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			return 0, fmt.Errorf("HTTP status %d", resp.StatusCode)
		}
		return io.CopyBuffer(w, resp.Body, make([]byte, 64*1024))
	}
}

// saveName is the file a download is saved as: the last path element.
func saveName(p string) string {
	name := path.Base(path.Clean("/" + p))
	if name == "/" || name == "." {
		return "index.html"
	}
	return name
}

type downloadResult struct {
	path string
	n    int64
	err  error
}

func download(o *clientOpts, f fetcher, p string) downloadResult {
	var w io.Writer = io.Discard
	if o.outDir != "" {
		file, err := os.Create(filepath.Join(o.outDir, saveName(p)))
		if err != nil {
			return downloadResult{p, 0, err}
		}
		defer file.Close()
		w = file
	}
	n, err := f(p, w)
	return downloadResult{p, n, err}
}

func downloadAll(o *clientOpts, f fetcher, paths []string) []downloadResult {
	results := make([]downloadResult, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			results[i] = download(o, f, p)
		}(i, p)
	}
	wg.Wait()
	return results
}

// runSession is one connection: dial, fetch, hold, close, report. It returns
// whether the handshake and every download succeeded.
func runSession(o *clientOpts, baseTLS *tls.Config, paths []string, second bool) bool {
	tr := newConnTrace()
	qconf := o.quicConfig()
	qconf.Tracer = oneTracer{t: tr}
	tlsConf := baseTLS.Clone()
	early := second && o.zerortt
	h3 := o.alpn == "h3"

	var conn quic.Connection
	var econn quic.EarlyConnection
	var err error
	if early {
		econn, err = quic.DialAddrEarly(o.addr, tlsConf, qconf)
		conn = econn
	} else {
		// DialAddr does not offer 0-RTT and returns after the handshake.
		conn, err = quic.DialAddr(o.addr, tlsConf, qconf)
		if err == nil {
			econn, _ = conn.(quic.EarlyConnection)
		}
	}
	if err != nil {
		reportClose(tr, err, false)
		return false
	}

	var fetch fetcher
	var rt *http3.RoundTripper
	noError := quic.ApplicationErrorCode(hqNoError)
	if h3 {
		noError = h3NoError
		rt = &http3.RoundTripper{
			TLSClientConfig: tlsConf,
			QuicConfig:      qconf,
			EnableDatagrams: o.datagrams,
			// The connection is ours: http3 uses it instead of dialing.
			Dial: func(context.Context, string, *tls.Config, *quic.Config) (quic.EarlyConnection, error) {
				return econn, nil
			},
		}
		defer rt.Close()
		fetch = h3Fetcher(rt, o, early)
	} else {
		fetch = hqFetcher(conn)
	}

	start := time.Now()
	resultsCh := make(chan []downloadResult, 1)
	go func() { resultsCh <- downloadAll(o, fetch, paths) }()

	handshakeOK := false
	if econn != nil {
		select {
		case <-econn.HandshakeComplete().Done():
			handshakeOK = conn.ConnectionState().TLS.HandshakeComplete
		case <-conn.Context().Done():
		}
	}
	if handshakeOK {
		st := conn.ConnectionState().TLS
		report("handshake ok alpn=%s version=0x%08x", st.NegotiatedProtocol, uint32(tr.Version()))
		if tr.Retried() {
			report("retry received")
		}
		if second && o.resume {
			report("resumed %t", st.DidResume)
		}
		if early {
			used := "unused"
			if st.Used0RTT {
				used = "used"
			}
			report("zerortt %s", used)
		}
		if o.closeAfter > 0 {
			go func(c quic.Connection) {
				t := time.NewTimer(o.closeAfter)
				defer t.Stop()
				select {
				case <-t.C:
					c.CloseWithError(quic.ApplicationErrorCode(o.closeCode.v), o.closeReason)
				case <-c.Context().Done():
				}
			}(conn)
		}
	}

	results := <-resultsCh
	// A server that rejects 0-RTT discards the early streams; quic-go then
	// hands out the connection to continue on (hq-interop only: http3 0.29
	// keeps its own state about the early connection).
	if early && !h3 && handshakeOK {
		var again []string
		for _, r := range results {
			if errors.Is(r.err, quic.Err0RTTRejected) {
				again = append(again, r.path)
			}
		}
		if len(again) > 0 {
			conn = econn.NextConnection()
			retried := downloadAll(o, hqFetcher(conn), again)
			for i, j := 0, 0; i < len(results) && j < len(retried); i++ {
				if results[i].path == retried[j].path && errors.Is(results[i].err, quic.Err0RTTRejected) {
					results[i] = retried[j]
					j++
				}
			}
		}
	}
	elapsed := time.Since(start)

	ok := handshakeOK
	var total int64
	for _, r := range results {
		if r.err != nil {
			report("download-failed %s: %v", r.path, r.err)
			ok = false
			continue
		}
		report("downloaded %d bytes %s", r.n, r.path)
		total += r.n
	}
	if ok && len(results) > 0 && elapsed > 0 {
		report("goodput %d %.6f %.3f MBps", total, seconds(elapsed), float64(total)/seconds(elapsed)/1e6)
	}

	if cache, ok := baseTLS.ClientSessionCache.(*ticketCache); ok && !second &&
		(o.resume || o.zerortt) && handshakeOK {
		select {
		case <-cache.got:
		case <-conn.Context().Done():
		case <-time.After(2 * time.Second):
			report("session-ticket missing")
		}
	}

	if o.datagrams && handshakeOK && conn.Context().Err() == nil {
		probeDatagram(conn)
	}

	// Hold: stay idle until the hold ends or the connection does. With
	// --close-with-error-after, wait for that close instead (it is bounded
	// by its own timer).
	if o.closeAfter > 0 && handshakeOK {
		<-conn.Context().Done()
	} else if o.hold > 0 {
		t := time.NewTimer(o.hold)
		select {
		case <-t.C:
		case <-conn.Context().Done():
		}
		t.Stop()
	}
	byUs := false
	if conn.Context().Err() == nil {
		byUs = true
		conn.CloseWithError(noError, "")
	}
	reportClose(tr, nil, byUs)
	return ok
}

// probeDatagram sends one DATAGRAM and waits (briefly) for the server's echo.
func probeDatagram(conn quic.Connection) {
	if !conn.ConnectionState().SupportsDatagrams {
		report("datagram unsupported")
		return
	}
	if err := conn.SendMessage([]byte(datagramProbe)); err != nil {
		report("datagram send-failed: %v", err)
		return
	}
	got := make(chan []byte, 1)
	go func() {
		msg, err := conn.ReceiveMessage()
		if err == nil {
			got <- msg
		}
	}()
	select {
	case msg := <-got:
		report("datagram echo %d bytes match=%t", len(msg), string(msg) == datagramProbe)
	case <-time.After(2 * time.Second):
		report("datagram echo missing")
	}
}

// reportClose prints the "closed ..." line: from the tracer (the error the
// connection really closed with), or from dialErr when the connection never
// ran (an address that does not resolve, say).
func reportClose(tr *connTrace, dialErr error, byUs bool) {
	select {
	case <-tr.done:
	case <-time.After(3 * time.Second):
	}
	err := tr.Err()
	if err == nil {
		err = dialErr
	}
	if err == nil {
		report("closed other error=%q", "connection did not report its close")
		return
	}
	var appErr *quic.ApplicationError
	if byUs && errors.As(err, &appErr) && !appErr.Remote {
		report("closed by-us")
		return
	}
	report("%s", describeClose(err))
}

// runHandshakes is the handshake-rate benchmark: N full handshakes (no
// session cache, so no resumption), C at a time, each connection closed with
// NO_ERROR right after its handshake.
func runHandshakes(o *clientOpts, baseTLS *tls.Config) int {
	tlsConf := baseTLS.Clone()
	tlsConf.ClientSessionCache = nil
	jobs := make(chan struct{})
	var done, failed int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				conn, err := quic.DialAddr(o.addr, tlsConf, o.quicConfig())
				if err != nil {
					atomic.AddInt64(&failed, 1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				code := quic.ApplicationErrorCode(hqNoError)
				if o.alpn == "h3" {
					code = h3NoError
				}
				conn.CloseWithError(code, "")
				atomic.AddInt64(&done, 1)
			}
		}()
	}
	for i := 0; i < o.handshakes; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	secs := seconds(time.Since(start))
	report("handshakes %d in %.3f seconds (%.1f/s)", done, secs, float64(done)/secs)
	if failed > 0 {
		report("handshake-failures %d first=%q", failed, firstErr.Load())
		return exitFailed
	}
	return exitOK
}
