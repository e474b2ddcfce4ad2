// Server mode: one UDP listener (quic.ListenAddrEarly, so 0-RTT is accepted)
// serving hq-interop streams itself, or HTTP/3 through quic-go's http3.Server
// on the same kind of listener. Every connection is watched: "accepted ..."
// after its handshake, an optional CloseWithError after --close-after, an
// optional DATAGRAM echo, and "closed ..." (from the tracer) when it ends.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	quic "github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

type serverOpts struct {
	listen, cert, key, root, alpn string
	retry, datagrams              bool
	maxIdle, keepAlive            time.Duration
	closeAfter                    time.Duration
	closeCode                     uint62Flag
	closeReason                   string
	versions                      []quic.VersionNumber
	keylog                        string
	resetKey                      []byte
}

type server struct {
	opts   serverOpts
	tracer *serverTracer
}

func runServer(args []string) int {
	var o serverOpts
	fs := flag.NewFlagSet("quicgo-peer server", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4433", "UDP address to listen on (port 0 picks a free port; the \"listening\" line shows it)")
	fs.StringVar(&o.cert, "cert", "", "certificate chain (PEM)")
	fs.StringVar(&o.key, "key", "", "private key (PEM)")
	fs.StringVar(&o.root, "root", ".", "directory of files to serve (/bytes/N is generated)")
	fs.StringVar(&o.alpn, "alpn", defaultALPN, "hq-interop (HTTP/0.9 over QUIC) or h3")
	fs.BoolVar(&o.retry, "retry", false, "send a Retry to every client (RequireAddressValidation)")
	fs.DurationVar(&o.maxIdle, "max-idle-timeout", 0, "max_idle_timeout to advertise (0: quic-go's 30s)")
	fs.DurationVar(&o.keepAlive, "keep-alive", 0, "send a PING after this much idle time (0: never)")
	fs.DurationVar(&o.closeAfter, "close-after", 0, "close every connection this long after its handshake")
	fs.Var(&o.closeCode, "close-code", "application error code for --close-after")
	fs.StringVar(&o.closeReason, "close-reason", "", "reason phrase for --close-after")
	versions := fs.String("versions", "", "QUIC versions, comma-separated: v1, v2, draft29 (default: all three)")
	fs.BoolVar(&o.datagrams, "datagrams", false, "offer DATAGRAM frames (RFC 9221) and echo every datagram received")
	fs.StringVar(&o.keylog, "keylog", "", "append TLS secrets to FILE (SSLKEYLOGFILE format)")
	resetKey := fs.String("reset-key", "", "stateless reset key, hex (default: random per run)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(positional) > 0 || o.cert == "" || o.key == "" {
		warn("server needs --cert and --key and takes no positional arguments")
		return exitUsage
	}
	if o.versions, err = parseVersions(*versions); err != nil {
		warn("%v", err)
		return exitUsage
	}
	if *resetKey != "" {
		if o.resetKey, err = hex.DecodeString(*resetKey); err != nil || len(o.resetKey) == 0 {
			warn("--reset-key: want hex bytes")
			return exitUsage
		}
	} else {
		o.resetKey = make([]byte, 32)
		if _, err := rand.Read(o.resetKey); err != nil {
			warn("random: %v", err)
			return exitFailed
		}
	}
	s := &server{opts: o, tracer: &serverTracer{}}
	return s.run()
}

func (s *server) run() int {
	o := &s.opts
	cert, err := tls.LoadX509KeyPair(o.cert, o.key)
	if err != nil {
		warn("loading certificate: %v", err)
		return exitFailed
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{o.alpn},
		MinVersion:   tls.VersionTLS13,
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
	h3 := o.alpn == "h3"
	if h3 {
		// Picks "h3" or "h3-29" from the QUIC version of each connection.
		tlsConf = http3.ConfigureTLSConfig(tlsConf)
	}
	qconf := &quic.Config{
		Versions:          o.versions,
		MaxIdleTimeout:    o.maxIdle,
		KeepAlivePeriod:   o.keepAlive,
		EnableDatagrams:   o.datagrams,
		StatelessResetKey: o.resetKey,
		Tracer:            s.tracer,
	}
	if o.retry {
		qconf.RequireAddressValidation = func(net.Addr) bool { return true }
	}
	ln, err := quic.ListenAddrEarly(o.listen, tlsConf, qconf)
	if err != nil {
		warn("listen %s: %v", o.listen, err)
		return exitFailed
	}
	report("listening %s", ln.Addr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		ln.Close()
	}()

	wl := &watchingListener{EarlyListener: ln, s: s}
	if h3 {
		srv := &http3.Server{
			Handler:         http.HandlerFunc(s.serveHTTP),
			QuicConfig:      qconf,
			EnableDatagrams: o.datagrams,
		}
		// ServeListener returns when the listener is closed (by a signal).
		srv.ServeListener(wl)
		return exitOK
	}
	for {
		conn, err := wl.Accept(context.Background())
		if err != nil {
			return exitOK
		}
		go s.serveHQConn(conn)
	}
}

// watchingListener starts a watcher for every connection it hands out.
type watchingListener struct {
	quic.EarlyListener
	s *server
}

func (l *watchingListener) Accept(ctx context.Context) (quic.EarlyConnection, error) {
	conn, err := l.EarlyListener.Accept(ctx)
	if err == nil {
		go l.s.watch(conn)
	}
	return conn, err
}

func (s *server) watch(conn quic.EarlyConnection) {
	select {
	case <-conn.HandshakeComplete().Done():
	case <-conn.Context().Done():
		// A connection can complete its handshake and close in the same
		// datagram (a client that closes right away): still report it.
		select {
		case <-conn.HandshakeComplete().Done():
		default:
			return
		}
	}
	state := conn.ConnectionState()
	var version quic.VersionNumber
	if t := s.tracer.lookup(conn); t != nil {
		version = t.Version()
	}
	report("accepted remote=%s alpn=%s version=0x%08x resumed=%t zerortt=%t",
		conn.RemoteAddr(), state.TLS.NegotiatedProtocol, uint32(version),
		state.TLS.DidResume, state.TLS.Used0RTT)
	if s.opts.datagrams && state.SupportsDatagrams {
		go echoDatagrams(conn)
	}
	if s.opts.closeAfter > 0 {
		t := time.NewTimer(s.opts.closeAfter)
		defer t.Stop()
		select {
		case <-t.C:
			conn.CloseWithError(quic.ApplicationErrorCode(s.opts.closeCode.v), s.opts.closeReason)
		case <-conn.Context().Done():
		}
	}
}

// echoDatagrams sends every DATAGRAM back as it came (in h3 mode too: the
// quarter stream ID prefix then comes back unchanged).
func echoDatagrams(conn quic.Connection) {
	for {
		msg, err := conn.ReceiveMessage()
		if err != nil {
			return
		}
		report("datagram %d bytes", len(msg))
		if err := conn.SendMessage(msg); err != nil {
			warn("echo datagram: %v", err)
		}
	}
}

// --- hq-interop: "GET /path\r\n" on a client bidi stream, the file, FIN ---

// maxRequestLine caps what the server reads before it has a request line;
// a peer cannot make it buffer more.
const maxRequestLine = 4096

// hqStreamError resets a response for a path that does not exist or a
// request that is not "GET /path" (hq-interop has no status line).
const hqStreamError = 0x1

func (s *server) serveHQConn(conn quic.EarlyConnection) {
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go s.serveHQStream(str)
	}
}

// readRequestLine reads until a line feed, the end of the stream, or the cap.
func readRequestLine(r io.Reader) (string, error) {
	buf := make([]byte, 0, 256)
	tmp := make([]byte, 256)
	for len(buf) < maxRequestLine {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return string(buf[:i]), nil
		}
		if err == io.EOF {
			return string(buf), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("request line longer than %d bytes", maxRequestLine)
}

func (s *server) serveHQStream(str quic.Stream) {
	str.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := readRequestLine(str)
	if err != nil {
		str.CancelRead(hqStreamError)
		str.CancelWrite(hqStreamError)
		return
	}
	line = string(bytes.TrimRight([]byte(line), "\r \t"))
	if len(line) < 5 || line[:4] != "GET " {
		report("status 400 %q", line)
		str.CancelWrite(hqStreamError)
		return
	}
	reqPath := line[4:]
	body, _, err := openContent(s.opts.root, reqPath)
	if err != nil {
		report("status 404 %s", reqPath)
		str.CancelWrite(hqStreamError)
		return
	}
	defer body.Close()
	n, err := io.CopyBuffer(str, body, make([]byte, 64*1024))
	if err != nil {
		report("serve-failed %s: %v", reqPath, err)
		str.CancelWrite(hqStreamError)
		return
	}
	str.Close()
	report("served %d bytes %s", n, reqPath)
}

// --- HTTP/3: GET and HEAD of the same content, through http3.Server ---

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		report("status 405 %s", r.URL.Path)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, size, err := openContent(s.opts.root, r.URL.Path)
	if err != nil {
		report("status 404 %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	cw := &countingWriter{ResponseWriter: w}
	if _, err := io.CopyBuffer(cw, body, make([]byte, 64*1024)); err != nil {
		report("serve-failed %s: %v", r.URL.Path, err)
		return
	}
	report("served %d bytes %s", cw.n, r.URL.Path)
}
