// How a connection ended, as quic-go 0.29 reports it, turned into one line.
//
// quic-go 0.29 cancels Connection.Context() without a cause (Go 1.19 has no
// context.Cause), so the error that closed a connection is taken from the
// logging.ConnectionTracer's ClosedConnection callback, which the connection
// calls exactly once with the error it closed with (normalised to one of the
// typed errors below). The tracer also learns the negotiated version, which
// ConnectionState does not expose in 0.29.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	quic "github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/logging"
)

// connTrace is the per-connection tracer: it records the version and the
// close error, and closes done when the connection is gone.
type connTrace struct {
	logging.NullConnectionTracer
	mu      sync.Mutex
	version quic.VersionNumber
	retried bool // a Retry packet was received (client)
	err     error
	done    chan struct{}
	onClose func(error) // called once, on the connection's goroutine
}

func newConnTrace() *connTrace { return &connTrace{done: make(chan struct{})} }

func (t *connTrace) NegotiatedVersion(chosen logging.VersionNumber, _, _ []logging.VersionNumber) {
	t.mu.Lock()
	t.version = chosen
	t.mu.Unlock()
}

func (t *connTrace) ReceivedRetry(*logging.Header) {
	t.mu.Lock()
	t.retried = true
	t.mu.Unlock()
}

func (t *connTrace) Retried() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.retried
}

func (t *connTrace) ClosedConnection(err error) {
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		return
	}
	if err == nil {
		err = errors.New("closed without an error")
	}
	t.err = err
	cb := t.onClose
	t.mu.Unlock()
	close(t.done)
	if cb != nil {
		cb(err)
	}
}

func (t *connTrace) Version() quic.VersionNumber {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.version
}

// Err is the close error, nil while the connection is alive.
func (t *connTrace) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// oneTracer hands the same connTrace to the (single) connection a client
// dials with a given quic.Config.
type oneTracer struct {
	logging.NullTracer
	t *connTrace
}

func (o oneTracer) TracerForConnection(context.Context, logging.Perspective, logging.ConnectionID) logging.ConnectionTracer {
	return o.t
}

// serverTracer gives every server connection its own connTrace, found again
// from the connection through the tracing ID that quic-go puts both in the
// tracer's context and in Connection.Context().
type serverTracer struct {
	logging.NullTracer
	byID sync.Map // tracing ID -> *connTrace
}

func (s *serverTracer) TracerForConnection(ctx context.Context, _ logging.Perspective, _ logging.ConnectionID) logging.ConnectionTracer {
	t := newConnTrace()
	id := ctx.Value(quic.ConnectionTracingKey)
	t.onClose = func(err error) {
		report("%s", describeClose(err))
		if id != nil {
			// The watcher may still look the version up just after a
			// quick close; forget the connection a little later.
			time.AfterFunc(10*time.Second, func() { s.byID.Delete(id) })
		}
	}
	if id != nil {
		s.byID.Store(id, t)
	}
	return t
}

func (s *serverTracer) lookup(conn quic.Connection) *connTrace {
	id := conn.Context().Value(quic.ConnectionTracingKey)
	if id == nil {
		return nil
	}
	if v, ok := s.byID.Load(id); ok {
		return v.(*connTrace)
	}
	return nil
}

// describeClose is the "closed ..." line for the error a connection ended
// with. The reason is Go-quoted: printable UTF-8 (the emoji included) stays
// as it is, control characters and invalid bytes are escaped, so the line
// stays one line.
func describeClose(err error) string {
	var (
		statelessResetErr   *quic.StatelessResetError
		handshakeTimeoutErr *quic.HandshakeTimeoutError
		idleTimeoutErr      *quic.IdleTimeoutError
		appErr              *quic.ApplicationError
		transportErr        *quic.TransportError
		vnErr               *quic.VersionNegotiationError
	)
	switch {
	case errors.As(err, &statelessResetErr):
		return "closed stateless_reset"
	case errors.As(err, &handshakeTimeoutErr):
		return "closed handshake_timeout"
	case errors.As(err, &idleTimeoutErr):
		return "closed idle_timeout"
	case errors.As(err, &appErr):
		return fmt.Sprintf("closed application remote=%t code=%#x reason=%q",
			appErr.Remote, uint64(appErr.ErrorCode), appErr.ErrorMessage)
	case errors.As(err, &transportErr):
		s := fmt.Sprintf("closed transport remote=%t code=%#x reason=%q",
			transportErr.Remote, uint64(transportErr.ErrorCode), transportErr.ErrorMessage)
		if transportErr.FrameType != 0 {
			s += fmt.Sprintf(" frame=%#x", transportErr.FrameType)
		}
		return s
	case errors.As(err, &vnErr):
		return fmt.Sprintf("closed version_negotiation ours=%s theirs=%s",
			versionList(vnErr.Ours), versionList(vnErr.Theirs))
	default:
		return fmt.Sprintf("closed other error=%q", err.Error())
	}
}

func versionList(vs []quic.VersionNumber) string {
	s := "["
	for i, v := range vs {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("0x%08x", uint32(v))
	}
	return s + "]"
}
