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
	"sync/atomic"
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
	heart     *heart // the heartbeat timer its streams share; nil: one per stream
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
// cut an idle stream: the first comes after d to 1.5×d of silence, the
// next ones every d. The default is [DefaultHeartbeat]; 0 or less turns
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
	if o.heartbeat > 0 {
		o.heart = &heart{clock: o.clock, every: o.heartbeat} // shared by this handler's streams
	}
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
// Write starts no goroutine of its own. The heartbeat, when on, is written
// by a timer that all the streams of one interval share; a stream leaves it
// before Write returns, and it never writes to w after that.
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
	s := &sender{w: w, r: r, enc: enc}
	if o.heartbeat > 0 && enc.heartbeat() != nil {
		s.heart = o.heart
		if s.heart == nil { // Write alone: a timer of this stream's own
			s.heart = &heart{clock: o.clock, every: o.heartbeat}
		}
	}
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

// sender writes one stream. It is all the state a stream holds besides its
// encoder's, and is kept small: an open stream holds it for as long as the
// chatbot takes, and a server holds thousands. It keeps no buffer between
// writes (see [buffers]) and no timer (see [heart]). The mutex orders the
// loop's writes and the heartbeat's; stopped keeps the heartbeat from
// writing once Write returns.
type sender struct {
	w       http.ResponseWriter
	r       *http.Request
	enc     encoder
	started bool // the headers were written
	done    bool // a Done chunk was relayed
	stopped bool
	mu      sync.Mutex

	heart      *heart       // nil: no heartbeat
	prev, next *sender      // in the heart's list of streams, under its mutex
	last       atomic.Int64 // the heart's clock at the last write, in Unix nanoseconds
}

// sendChunk writes and flushes one chunk, after the headers and the
// format's start when it is the first. It takes the chunk by value, so that
// relaying one allocates no copy of it on the heap.
func (s *sender) sendChunk(c chatbot.Chunk) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := buffers.Get().(*[]byte)
	b := (*bp)[:0]
	if !s.started {
		s.start()
		b = s.enc.start(b, c)
	}
	b = s.enc.chunk(b, c)
	err := s.writeLocked(b)
	putBuffer(bp, b)
	return err
}

// start writes the headers and joins the heartbeat.
func (s *sender) start() {
	s.started = true
	h := s.w.Header()
	h["Cache-Control"] = noCache
	h["X-Accel-Buffering"] = noBuffering
	h["X-Content-Type-Options"] = nosniff
	h.Del("Content-Length")
	s.enc.header(h)
	s.w.WriteHeader(http.StatusOK)
	if s.heart != nil {
		s.heart.add(s)
	}
}

// The values of the headers of every stream, set as they are rather than
// allocated for each stream (a stream holds its header map while it is
// open): nothing writes to them, as code that changes a header replaces its
// values.
var (
	noCache     = []string{"no-cache, no-transform"} // no-transform: proxies must not compress or rewrite it
	noBuffering = []string{"no"}                     // X-Accel-Buffering: nginx and others must not buffer
	nosniff     = []string{"nosniff"}                // browsers: no sniffing buffer before rendering
	eventStream = []string{"text/event-stream"}
	uiStreamV1  = []string{"v1"}
)

// send writes and flushes what add appends to an empty buffer.
func (s *sender) send(add func([]byte) []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := buffers.Get().(*[]byte)
	b := add((*bp)[:0])
	err := s.writeLocked(b)
	putBuffer(bp, b)
	return err
}

// writeLocked writes b and flushes it.
func (s *sender) writeLocked(b []byte) error {
	if s.heart != nil {
		// Silence is counted from the last write; stamped before it, so
		// that the stamp is there once the browser has the bytes.
		s.last.Store(s.heart.clock.Now().UnixNano())
	}
	if len(b) > 0 {
		if _, err := s.w.Write(b); err != nil {
			return fmt.Errorf("%w: %w", ErrWrite, err)
		}
	}
	// A ResponseController of its own each time: it stays on the stack,
	// where one kept in s would be a heap object per stream.
	if err := http.NewResponseController(s.w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return nil
}

// buffers holds the buffers of the writes of every stream, so that an idle
// stream holds none.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled is the largest buffer given back to the pool; a larger one,
// left by a huge chunk, is dropped.
const maxPooled = 64 << 10

func putBuffer(bp *[]byte, b []byte) {
	if cap(b) <= maxPooled {
		*bp = b[:0]
		buffers.Put(bp)
	}
}

// beat writes a heartbeat at the heart's tick now, unless a write is under
// way (it may be blocked by a stalled browser: the tick does not wait for
// it) or one was written since the tick began.
func (s *sender) beat(now int64) {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if s.stopped || now-s.last.Load() < int64(s.heart.every) {
		return
	}
	_ = s.writeLocked(s.enc.heartbeat()) // a failed write is seen by the next chunk's
}

// stop leaves the heartbeat; no write happens after it returns.
func (s *sender) stop() {
	s.mu.Lock()
	s.stopped = true
	joined := s.started && s.heart != nil
	s.mu.Unlock()
	if joined {
		s.heart.remove(s)
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
