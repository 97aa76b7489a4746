// Package fake is the machinery shared by the provider fakes
// (<provider>/<provider>test): a loopback server that records what it
// receives and counts connections, and response writers that split, slow
// down, cut or stall a reply.
package fake

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string // the escaped path, as sent
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Server is a running loopback HTTP server that records every request.
type Server struct {
	*httptest.Server

	mu          sync.Mutex
	reqs        []Request
	conns       atomic.Int64
	disconnects chan struct{}
	stalled     chan struct{}
}

// NewServer starts a server for h. Each request's body is read and recorded
// before h runs (h sees the same bytes in r.Body).
func NewServer(h http.Handler) *Server {
	s := &Server{disconnects: make(chan struct{}, 1024), stalled: make(chan struct{}, 1024)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
		if r.Context().Err() != nil {
			select {
			case s.disconnects <- struct{}{}:
			default:
			}
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	return s
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count returns how many requests have been received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Disconnects receives a value each time a handler returns after its client
// went away (the request context was cancelled): the server's own
// observation of an early break or a cancelled call.
func (s *Server) Disconnects() <-chan struct{} { return s.disconnects }

// Close closes every client connection, which ends stalled handlers, then
// shuts the server down. (httptest's own Close would wait for them.)
func (s *Server) Close() {
	s.CloseClientConnections()
	s.Server.Close()
}

// Stall holds the request unanswered until its client goes away or the
// server closes, after signalling [Server.Stalled].
func (s *Server) Stall(r *http.Request) {
	select {
	case s.stalled <- struct{}{}:
	default:
	}
	<-r.Context().Done()
}

// Stalled receives a value each time a request starts stalling, so that a
// test can act once the request is in flight.
func (s *Server) Stalled() <-chan struct{} { return s.stalled }

// Writer shapes how a reply is written.
type Writer struct {
	// WriteSize splits every write into pieces of at most this many bytes,
	// each flushed on its own (0: as given). 1 splits multi-byte characters.
	WriteSize int
	// Delay waits between pieces.
	Delay time.Duration
	// CutAfter aborts the connection, without ending the body properly,
	// once this many body bytes have been written (0: never).
	CutAfter int
}

// Write writes p to w as the Writer says, flushing each piece. It returns
// false if the client went away or the cut was made; the handler should then
// return. A cut aborts the connection with http.ErrAbortHandler.
func (wr Writer) Write(ctx context.Context, w http.ResponseWriter, written *int, p []byte) bool {
	f, _ := w.(http.Flusher)
	for len(p) > 0 {
		n := len(p)
		if wr.WriteSize > 0 {
			n = min(n, wr.WriteSize)
		}
		if wr.CutAfter > 0 {
			n = min(n, wr.CutAfter-*written)
		}
		if _, err := w.Write(p[:n]); err != nil {
			return false
		}
		*written += n
		p = p[n:]
		if f != nil {
			f.Flush()
		}
		if wr.CutAfter > 0 && *written >= wr.CutAfter {
			panic(http.ErrAbortHandler) // closes the connection mid-body
		}
		if wr.Delay > 0 && len(p) > 0 && !Wait(ctx, wr.Delay) {
			return false
		}
	}
	return ctx.Err() == nil
}

// Wait blocks for d or until ctx is done, and reports whether d passed.
func Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Times is a counter of how many more times a scripted behaviour applies.
// The zero value applies never; it is safe for concurrent use.
type Times struct{ n atomic.Int64 }

// Set arms the behaviour for n more requests.
func (t *Times) Set(n int) { t.n.Store(int64(n)) }

// Take reports whether the behaviour applies to this request, using one.
func (t *Times) Take() bool {
	for {
		n := t.n.Load()
		if n <= 0 {
			return false
		}
		if t.n.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
