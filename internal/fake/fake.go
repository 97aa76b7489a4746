// Package fake is the machinery shared by the provider fakes
// (<provider>/<provider>test), so that each fake only speaks its provider's
// wire format: a loopback server that records what it receives and counts
// connections, the scripted replies, failures and stalls of the vocabulary
// documented in package [fakes], and a reply writer that paces, splits, cuts
// or stalls a body.
package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing/iotest"
	"time"

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
)

// realClock is the default clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Server is a running loopback HTTP server that records every request and
// holds the scripting every provider fake shares. Its methods are safe for
// concurrent use.
type Server struct {
	*httptest.Server

	clock       fakes.Clock
	conns       atomic.Int64
	disconnects chan struct{}
	stalled     chan struct{}

	mu      sync.Mutex
	reqs    []fakes.Request
	reply   []string                    // nil: not scripted
	answer  func(message string) string // nil: not scripted
	failN   int
	failure fakes.Failure
	stallN  int
	shape   Shape
}

// NewServer starts a server for h on the real clock. Each request's body is
// read and recorded before h runs (h sees the same bytes in r.Body).
func NewServer(h http.Handler) *Server { return NewServerWithClock(h, nil) }

// NewServerWithClock is [NewServer] with the server's time read from clock
// (nil: the real clock).
func NewServerWithClock(h http.Handler, clock fakes.Clock) *Server {
	if clock == nil {
		clock = realClock{}
	}
	s := &Server{
		clock:       clock,
		disconnects: make(chan struct{}, 1024),
		stalled:     make(chan struct{}, 1024),
		shape:       Shape{StallAfter: -1},
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, fakes.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
		if r.Context().Err() != nil {
			signal(s.disconnects)
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

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Now returns the time on the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []fakes.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
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

// Stalled receives a value each time a request starts stalling, so that a
// test can act once the request is in flight.
func (s *Server) Stalled() <-chan struct{} { return s.stalled }

// Close closes every client connection, which ends stalled handlers, then
// shuts the server down. (httptest's own Close would wait for them.)
func (s *Server) Close() {
	s.CloseClientConnections()
	s.Server.Close()
}

// hold signals a stall, then waits until the client goes away or the
// server closes.
func (s *Server) hold(ctx context.Context) {
	signal(s.stalled)
	<-ctx.Done()
}

// SetReply scripts every reply as parts; no parts ends the scripting (and
// so does [Server.SetAnswer]).
func (s *Server) SetReply(parts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply, s.answer = nil, nil
	if len(parts) > 0 {
		s.reply = slices.Clone(parts)
	}
}

// SetAnswer scripts every reply as fn(message); nil ends the scripting (and
// so does [Server.SetReply]).
func (s *Server) SetAnswer(fn func(message string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply, s.answer = nil, fn
}

// Reply returns the scripted reply to message as parts (a computed answer
// split into words), or false when none is scripted and the provider's
// default answer applies. fn runs without the lock held.
func (s *Server) Reply(message string) ([]string, bool) {
	s.mu.Lock()
	reply, answer := slices.Clone(s.reply), s.answer
	s.mu.Unlock()
	switch {
	case reply != nil:
		return reply, true
	case answer != nil:
		return Words(answer(message)), true
	}
	return nil, false
}

// FailNext makes the next n requests answer f (see [Server.Intercept]).
func (s *Server) FailNext(n int, f fakes.Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failure = n, f
}

// RateLimitNext makes the next n requests answer a 429 with retryAfter.
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.FailNext(n, fakes.Failure{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server closes.
func (s *Server) StallNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stallN = n
}

// Intercept applies the scripted stall or failure to r: a stalled request
// is held until its client goes away; a failing one is answered by write.
// It reports whether it handled r (a stall comes before a failure).
func (s *Server) Intercept(w http.ResponseWriter, r *http.Request, write func(http.ResponseWriter, fakes.Failure)) bool {
	s.mu.Lock()
	stall := s.stallN > 0
	fail := !stall && s.failN > 0
	f := s.failure
	switch {
	case stall:
		s.stallN--
	case fail:
		s.failN--
	}
	s.mu.Unlock()
	switch {
	case stall:
		s.hold(r.Context())
	case fail:
		write(w, f)
	}
	return stall || fail
}

// Shape is how replies are written. The zero value writes each piece as it
// comes, without pause, cut or stall.
type Shape struct {
	Size       int           // at most this many bytes per flushed write; 0: whole pieces
	Splits     []int         // absolute body offsets where writes are also cut
	Pace       time.Duration // wait between pieces and between the writes of a split piece
	CutAfter   int           // abort the connection after this many body bytes; 0: never
	StallAfter int           // hold the reply after this many pieces; negative: never
}

// SetPace sets [Shape.Pace].
func (s *Server) SetPace(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape.Pace = d
}

// SplitWrites sets [Shape.Size] and [Shape.Splits].
func (s *Server) SplitWrites(size int, offsets ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape.Size, s.shape.Splits = size, slices.Sorted(slices.Values(offsets))
}

// CutAfter sets [Shape.CutAfter].
func (s *Server) CutAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape.CutAfter = n
}

// StallAfter sets [Shape.StallAfter].
func (s *Server) StallAfter(pieces int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape.StallAfter = pieces
}

// Output returns a writer for one reply to r, shaped as the server's
// settings say now.
func (s *Server) Output(w http.ResponseWriter, r *http.Request) *Output {
	s.mu.Lock()
	sh := s.shape
	sh.Splits = slices.Clone(sh.Splits)
	s.mu.Unlock()
	return &Output{srv: s, w: w, ctx: r.Context(), sh: sh}
}

// Output writes the body of one reply, piece by piece, as its [Shape] says.
// [Output.JSON] and [Output.StartEvents] start the two kinds of reply the
// fakes send; a handler sets any other header before calling them.
type Output struct {
	srv     *Server
	w       http.ResponseWriter
	ctx     context.Context
	sh      Shape
	pieces  int
	written int
}

// Start sends the status line and headers, or holds the reply when it
// stalls before its first piece. It reports whether to go on.
func (o *Output) Start(status int) bool {
	o.w.WriteHeader(status)
	o.flush()
	return o.gate()
}

// JSON answers 200 with body, a whole JSON reply, as one piece: held
// before it when the reply stalls at 0, after it at any other count, and
// split or cut as the shape says.
func (o *Output) JSON(body []byte) {
	o.w.Header().Set("Content-Type", "application/json")
	if o.Start(http.StatusOK) {
		o.Piece(body)
	}
}

// StartEvents starts a 200 stream of Server-Sent Events (text/event-stream,
// not to be cached) and reports whether to go on, as [Output.Start] does.
func (o *Output) StartEvents() bool {
	o.w.Header().Set("Content-Type", "text/event-stream")
	o.w.Header().Set("Cache-Control", "no-cache")
	return o.Start(http.StatusOK)
}

// gate holds the reply if it stalls here, reporting whether to go on.
func (o *Output) gate() bool {
	if o.sh.StallAfter >= 0 && o.pieces == o.sh.StallAfter {
		o.srv.hold(o.ctx)
		return false
	}
	return o.ctx.Err() == nil
}

func (o *Output) flush() {
	if f, ok := o.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Piece writes one piece of the body (an event, a part of the text), after
// the pace, then holds the reply if it stalls after it. It reports whether
// the handler should go on; on false it should return. A cut aborts the
// connection with http.ErrAbortHandler.
func (o *Output) Piece(p []byte) bool {
	if o.pieces > 0 && o.sh.Pace > 0 && !Wait(o.ctx, o.sh.Pace) {
		return false
	}
	wr := Writer{WriteSize: o.sh.Size, Delay: o.sh.Pace, CutAfter: o.sh.CutAfter}
	for len(p) > 0 {
		n := len(p)
		for _, off := range o.sh.Splits {
			if off > o.written && off < o.written+n {
				n = off - o.written
				break
			}
		}
		if !wr.Write(o.ctx, o.w, &o.written, p[:n]) {
			return false
		}
		p = p[n:]
		if len(p) > 0 && o.sh.Pace > 0 && !Wait(o.ctx, o.sh.Pace) {
			return false
		}
	}
	o.pieces++
	return o.gate()
}

// Writer writes bytes in flushed pieces, for fakes and for tests' own
// handlers.
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

// Write writes p to w as the Writer says, flushing each piece; written
// counts the body bytes written so far. It returns false if the client went
// away; the handler should then return. A cut aborts the connection with
// http.ErrAbortHandler.
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

// Words splits s after each space, keeping the spaces, so that the pieces
// concatenate to s.
func Words(s string) []string {
	var parts []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			i = len(s) - 1
		}
		parts = append(parts, s[:i+1])
		s = s[i+1:]
	}
	return parts
}

// WriteBody answers status with body, typed application/json when it
// starts with "{" or "[", else as http.DetectContentType finds (nothing for
// an empty body).
func WriteBody(w http.ResponseWriter, status int, body string) {
	switch {
	case strings.HasPrefix(body, "{") || strings.HasPrefix(body, "["):
		w.Header().Set("Content-Type", "application/json")
	case body != "":
		w.Header().Set("Content-Type", http.DetectContentType([]byte(body)))
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// DecodeBody decodes the JSON body of r into v; an empty body is an empty
// object, not an error.
func DecodeBody(r *http.Request, v any) error {
	err := json.NewDecoder(r.Body).Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// WriteJSON answers status with v encoded as JSON by a json.Encoder
// (ending in a newline).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SetRetryAfter sets the Retry-After header of a failure that has one.
func SetRetryAfter(h http.Header, f fakes.Failure) {
	if n := f.RetryAfterSeconds(); n > 0 {
		h.Set("Retry-After", strconv.Itoa(n))
	}
}

// StatusOr returns f.Status, or def when it is zero.
func StatusOr(f fakes.Failure, def int) int {
	if f.Status != 0 {
		return f.Status
	}
	return def
}

// StreamTransport is an [http.RoundTripper] that answers every request 200
// with Body as an event stream, from memory, read one byte at a time when
// OneByte is set: a provider's stream reader fuzzed through its client
// costs no connection per iteration.
type StreamTransport struct {
	Body    []byte
	OneByte bool
}

// RoundTrip answers r with the stream.
func (st StreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body io.Reader = bytes.NewReader(st.Body)
	if st.OneByte {
		body = iotest.OneByteReader(body)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(body), Request: r}, nil
}
