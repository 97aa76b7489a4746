package relay

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/config"
)

// Format is a wire format of a relayed stream.
type Format string

// The formats. The zero Format lets [Negotiate] choose from the request.
const (
	// FormatAISDK is the AI SDK's UI message stream protocol, version 1
	// (Server-Sent Events of JSON parts, header
	// x-vercel-ai-ui-message-stream: v1), read by the AI SDK's useChat and
	// DefaultChatTransport.
	FormatAISDK Format = "ai-sdk"

	// FormatSSE is this package's own Server-Sent Events, one event per
	// chunk, readable by any SSE parser.
	FormatSSE Format = "sse"

	// FormatText is the reply's raw text (text/plain; charset=utf-8),
	// written as it arrives, with the outcome in HTTP trailers.
	FormatText Format = "text"
)

// Negotiate returns the format r asks for in its Accept header:
// [FormatSSE] for text/event-stream, [FormatText] for text/plain, and
// [FormatAISDK] otherwise (the AI SDK's transport sends no Accept header).
// The first media type of the header that names one of these wins.
func Negotiate(r *http.Request) Format {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/event-stream":
			return FormatSSE
		case "text/plain":
			return FormatText
		}
	}
	return FormatAISDK
}

// DefaultHeartbeat is the default interval of the heartbeat comments of the
// SSE formats.
const DefaultHeartbeat = 15 * time.Second

// Option configures [Handler] and [Write].
type Option func(*options)

type options struct {
	format    Format
	heartbeat time.Duration
	logger    *slog.Logger
	clock     config.Clock
	buffers   *sync.Pool // of *[]byte; nil: each stream keeps its own buffer
}

func newOptions(opts []Option) options {
	o := options{heartbeat: DefaultHeartbeat, clock: config.SystemClock{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithFormat fixes the format instead of negotiating it from the request's
// Accept header ([Negotiate]). The zero Format restores negotiation.
func WithFormat(f Format) Option {
	return func(o *options) { o.format = f }
}

// WithHeartbeat sets the interval of the SSE comment (": ping") written
// while the chatbot is silent, so that proxies and load balancers do not
// cut an idle stream. The default is [DefaultHeartbeat]; 0 or less turns
// heartbeats off. [FormatText] has no heartbeat: any byte would be text.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) { o.heartbeat = d }
}

// WithLogger makes [Handler] log each failed relay at level Warn (the error
// as the SDK wrote it, which never contains the API key; the browser never
// sees it). Nil, the default, logs nothing. [Write] returns its error
// instead.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// Decoder turns an incoming request into the chatbot request to relay. An
// error it returns is answered before the first byte: [Status] maps a
// *chatbot.Error or a [StatusError]; any other error is a 400.
type Decoder func(*http.Request) (chatbot.Request, error)

// Handler returns an http.Handler that decodes each request with decode
// ([DecodeJSON] when nil), streams the reply of bot with [Write], and
// answers a failure before the first byte with [WriteError]. The chatbot
// call runs under the request's context: when the browser goes away, the
// call to the provider is cancelled at once. The handler is safe for
// concurrent use if bot is.
func Handler(bot chatbot.Chatbot, decode Decoder, opts ...Option) http.Handler {
	if decode == nil {
		decode = DecodeJSON
	}
	o := newOptions(opts)
	o.buffers = new(sync.Pool) // so that an idle stream holds no buffer
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode(r)
		if err != nil {
			var se StatusError
			var apiErr *chatbot.Error
			if !errors.As(err, &se) && !errors.As(err, &apiErr) {
				err = &chatbot.Error{Code: chatbot.CodeInvalidRequest, Message: err.Error()}
			}
			o.log(r, "relay: request refused", err)
			WriteError(w, err)
			return
		}
		if err := write(w, r, bot.Stream(r.Context(), req), o); err != nil {
			o.log(r, "relay: reply failed", err)
		}
	})
}

func (o *options) log(r *http.Request, msg string, err error) {
	if o.logger != nil && r.Context().Err() == nil {
		o.logger.LogAttrs(r.Context(), slog.LevelWarn, msg, slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}

// ErrWrite wraps the error of writing to the browser (it went away, or the
// connection broke); the chatbot stream was closed at once.
var ErrWrite = errors.New("relay: writing the reply failed")

// Write relays chunks, the reply to r, to w in the format of [WithFormat]
// or else the one r negotiates ([Negotiate]), and returns the stream's error
// (or one wrapping [ErrWrite] when the browser went away), nil when the
// reply was relayed whole. chunks should be the stream of a call made with
// r's context, so that a browser that goes away cancels it.
//
// Nothing is written until the first chunk arrives: an error before it is
// answered by [WriteError] (an HTTP status, or nothing for the caller's
// cancellation). Each chunk is written and flushed before the next is read,
// with no backlog: a slow browser slows the loop, and so the provider's
// stream (back-pressure). An error after the first byte becomes the format's error
// part or event, after the text already sent; a stream that ends without
// its final chunk is such an error too ([chatbot.ErrIncomplete]).
//
// Write starts no goroutine of its own; the heartbeat, when on, is a timer
// stopped before Write returns, and never writes after it.
func Write(w http.ResponseWriter, r *http.Request, chunks iter.Seq2[chatbot.Chunk, error], opts ...Option) error {
	return write(w, r, chunks, newOptions(opts))
}

func write(w http.ResponseWriter, r *http.Request, chunks iter.Seq2[chatbot.Chunk, error], o options) error {
	f := o.format
	if f == "" {
		f = Negotiate(r)
	}
	enc, err := newEncoder(f)
	if err != nil {
		WriteError(w, err)
		return err
	}
	s := &sender{w: w, r: r, rc: http.NewResponseController(w), enc: enc, buffers: o.buffers, clock: o.clock, every: o.heartbeat}
	defer s.stop()
	// The loop body refers to s alone: what a range-over-func body captures
	// is allocated for each stream, and held while it is open.
	for chunk, err := range chunks {
		if err != nil {
			if errors.Is(err, chatbot.ErrActionRequired) {
				// Not a failure, and the final chunk carried the actions (a
				// stream built on Chat repeats them as its error); without
				// that chunk they never reached the browser.
				if s.done {
					break
				}
				err = fmt.Errorf("relay: %w (%v)", chatbot.ErrIncomplete, err)
			}
			return s.fail(err)
		}
		if !s.started {
			s.start(chunk)
		}
		if err := s.sendChunk(chunk); err != nil {
			return err // leaving the loop closes the chatbot's stream
		}
		s.done = s.done || chunk.Done
	}
	if !s.done {
		return s.fail(fmt.Errorf("relay: %w", chatbot.ErrIncomplete))
	}
	return s.send(s.enc.end)
}

// sender writes one stream. The mutex orders the loop's writes and the
// heartbeat's; stopped keeps the heartbeat from writing once Write returns.
type sender struct {
	w       http.ResponseWriter
	r       *http.Request
	rc      *http.ResponseController
	enc     encoder
	clock   config.Clock
	started bool
	done    bool // a Done chunk was relayed

	mu      sync.Mutex
	buf     []byte     // the bytes to write; between writes nil when pooled
	bufp    *[]byte    // the pool's handle of buf
	buffers *sync.Pool // nil: keep buf
	timer   config.Timer
	every   time.Duration
	stopped bool
}

// start writes the headers and arms the heartbeat.
func (s *sender) start(first chatbot.Chunk) {
	s.started = true
	h := s.w.Header()
	h.Set("Cache-Control", "no-cache, no-transform") // no-transform: proxies must not compress or rewrite it
	h.Set("X-Accel-Buffering", "no")                 // nginx and others: do not buffer
	h.Set("X-Content-Type-Options", "nosniff")       // browsers: no sniffing buffer before rendering
	h.Del("Content-Length")
	s.enc.header(h)
	s.w.WriteHeader(http.StatusOK)
	s.take()
	s.buf = s.enc.start(s.buf, first)
	if s.every > 0 && s.enc.heartbeat() != nil {
		s.timer = s.clock.AfterFunc(s.every, s.beat)
	}
}

// sendChunk writes and flushes one chunk. It takes the chunk by value, so
// that relaying one allocates no copy of it on the heap.
func (s *sender) sendChunk(c chatbot.Chunk) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.take()
	s.buf = s.enc.chunk(s.buf, c)
	return s.flushLocked()
}

// send appends what add writes to the pending bytes, writes and flushes them.
func (s *sender) send(add func([]byte) []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.take()
	s.buf = add(s.buf)
	return s.flushLocked()
}

func (s *sender) flushLocked() error {
	if len(s.buf) > 0 {
		_, err := s.w.Write(s.buf)
		s.giveBack()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrWrite, err)
		}
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	if s.timer != nil {
		s.timer.Reset(s.every) // silence is counted from the last write
	}
	return nil
}

// maxPooled is the largest buffer given back to the pool; a larger one,
// left by a huge chunk, is dropped.
const maxPooled = 64 << 10

// take gets a buffer from the pool when there is one and s holds none.
func (s *sender) take() {
	if s.buffers == nil || s.bufp != nil {
		return
	}
	if p, ok := s.buffers.Get().(*[]byte); ok {
		s.bufp, s.buf = p, (*p)[:0]
		return
	}
	s.bufp, s.buf = new([]byte), nil
}

// giveBack empties the buffer and gives it back to the pool.
func (s *sender) giveBack() {
	s.buf = s.buf[:0]
	if s.buffers == nil || s.bufp == nil {
		return
	}
	if cap(s.buf) <= maxPooled {
		*s.bufp = s.buf
		s.buffers.Put(s.bufp)
	}
	s.bufp, s.buf = nil, nil
}

// beat writes a heartbeat; it runs on the timer's goroutine.
func (s *sender) beat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.take()
	s.buf = append(s.buf, s.enc.heartbeat()...)
	_ = s.flushLocked() // a failed write is seen by the next chunk's
}

// stop disarms the heartbeat; no write happens after it returns.
func (s *sender) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

// fail answers err: an HTTP error before the first byte, the format's error
// part after it, nothing when the caller went away.
func (s *sender) fail(err error) error {
	if s.r.Context().Err() != nil {
		return err
	}
	if !s.started {
		WriteError(s.w, err)
		return err
	}
	v := classify(err)
	if v.status == 0 {
		return err
	}
	if werr := s.send(func(b []byte) []byte { return s.enc.fail(b, v.body()) }); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}
