package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/config"
)

// Stream returns the lazy, single-use sequence behind every provider's
// Stream method. run is started on the first iteration with what it may
// use: g, through which it sends its requests (each guarded by the stream
// idle timeout), and w, to which it writes the reply. run returns nil at the
// end of a complete reply; Stream then yields the final Done chunk (unless
// run already did, or the consumer stopped). An error from run is yielded
// last, after whatever text arrived. A second iteration yields only
// ErrStreamUsed.
func (c *Client) Stream(ctx context.Context, run func(ctx context.Context, g *Guard, w *ChunkWriter) error) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("%s: %w", c.cfg.Provider, errStreamUsed))
			return
		}
		if ctx == nil {
			yield(chatbot.Chunk{}, c.Invalid("nil context"))
			return
		}
		w := &ChunkWriter{yield: yield}
		err := run(ctx, &Guard{c: c}, w)
		switch {
		case w.stopped:
		case err != nil:
			yield(chatbot.Chunk{}, c.Safe(err))
		case !w.done:
			w.Final("")
		}
	}
}

// errStreamUsed is chatbot.ErrStreamUsed without its own "chatbot: " prefix,
// which the provider's prefix replaces.
var errStreamUsed = unprefixed{chatbot.ErrStreamUsed}

type unprefixed struct{ error }

func (u unprefixed) Error() string {
	msg, _ := strings.CutPrefix(u.error.Error(), "chatbot: ")
	return msg
}

func (u unprefixed) Unwrap() error { return u.error }

// Guard sends the requests of one stream. Each is bounded by the stream idle
// timeout: the idle timer runs only while the client waits for the server,
// for the response headers and then inside each read of the body, so neither
// the consumer's time in its loop body nor the parsing counts as silence.
type Guard struct {
	c *Client
}

// Open sends the call and returns the 2xx response with its body unread, for
// streaming. The caller must close the body. A non-2xx response is returned
// as *chatbot.Error.
func (g *Guard) Open(ctx context.Context, call Call) (_ *Response, _ *Body, err error) {
	defer func() { err = g.c.Safe(err) }()
	return g.c.open(ctx, call, true)
}

// open sends the call and returns the 2xx response with its body unread,
// every read of it bounded by the idle timeout. A body to be streamed
// (stream is true; errors then name the call "stream") is sniffed first
// (see [Body.sniff]), so that an HTML page is an error and not a reply, and
// the rate-limit headers of the API reply are then observed for the
// pre-check; a body read whole is classified by [Body.Decode] instead.
func (c *Client) open(ctx context.Context, call Call, stream bool) (*Response, *Body, error) {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	idle := c.newIdleTimer(cancel)
	if call.WatchContent {
		idle.watchContent()
	}
	resp, err := c.send(ctx, call, idle)
	if err != nil {
		idle.stop()
		cancel(nil)
		return nil, nil, c.streamError(parent, ctx, callName(call, stream), err, false)
	}
	idle.pause() // the headers arrived; each Read re-arms it
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, RateLimit: c.rateLimit(resp.Header)}
	body := &Body{c: c, resp: r, rc: resp.Body, call: call, stream: stream, parent: parent, ctx: ctx, cancel: cancel, idle: idle}
	if stream {
		if err := body.sniff(); err != nil {
			body.Close()
			return nil, nil, err
		}
		body.observe()
	}
	return r, body, nil
}

// callName names a call in errors: "stream" for a stream's requests, else
// its method and path.
func callName(call Call, stream bool) string {
	if stream {
		return "stream"
	}
	return call.Method + " " + call.Path
}

// observe hands the response's rate-limit headers to the pre-check, once,
// when the body has been classified as an API reply.
func (b *Body) observe() {
	if !b.observed {
		b.observed = true
		b.c.observe(b.ctx, b.call, b.resp.Header)
	}
}

// Do is [Client.Do] for a request a stream makes: a conversation created
// first, or a reply that comes in one body. The whole body is read through a
// guarded [Body], so a silent server ends the stream with ErrIdleTimeout.
func (g *Guard) Do(ctx context.Context, call Call, out any) (*Response, error) {
	_, body, err := g.Open(ctx, call)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return body.Decode(out)
}

// Body is a response body, streamed or read whole: the idle timer runs
// while a read waits for the server, and read errors are reported as the
// caller's context error, ErrIdleTimeout, or io.ErrUnexpectedEOF for a
// connection cut mid-body. It is not safe for concurrent use.
type Body struct {
	c        *Client
	resp     *Response
	rc       io.ReadCloser
	call     Call
	stream   bool            // the body is streamed, and errors name the call "stream"
	observed bool            // the rate-limit headers were handed to the pre-check
	pending  []byte          // bytes read by sniff, not yet returned by Read
	parent   context.Context // the caller's context
	ctx      context.Context // parent plus the idle timer's cancellation
	cancel   context.CancelCauseFunc
	idle     *idleTimer
	err      error // the first read error, sticky
}

// Content restarts the idle countdown of a body in the mode set by
// [Call.WatchContent]: the event just parsed carried content (anything but
// a keep-alive).
func (b *Body) Content() { b.idle.content() }

// Read reads from the body.
func (b *Body) Read(p []byte) (int, error) {
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	b.idle.arm()
	n, err := b.rc.Read(p)
	b.idle.pause()
	if err != nil {
		switch {
		case err == io.EOF:
		case b.idle != nil && b.idle.watch && b.parent.Err() == nil && errors.Is(context.Cause(b.ctx), chatbot.ErrIdleTimeout):
			err = fmt.Errorf("%s: %s: %w: no content for %s (keep-alives do not count)", b.c.cfg.Provider, callName(b.call, b.stream), chatbot.ErrIdleTimeout, b.c.idle)
		default:
			err = b.c.Safe(b.c.streamError(b.parent, b.ctx, callName(b.call, b.stream), err, true))
		}
		b.err = err
	}
	return n, err
}

// sniffLen is how many bytes after the first '<' decide whether a body is
// markup: http.DetectContentType's longest HTML signature, "<!DOCTYPE HTML"
// and the byte that ends it.
const sniffLen = len("<!DOCTYPE HTML ")

// sniff reads the first bytes of a streamed body until it can tell an HTML
// page (a login page or captive portal served without a Content-Type, or
// under a wrong one) from an API reply, and returns the *chatbot.Error
// [isHTML] calls for. A text/plain body is not sniffed: a reply in plain
// text may itself begin with markup ("<b>Hello</b>"). Nothing is held back
// from a body whose first non-space byte is not '<', which is every JSON and
// event-stream reply; the bytes sniff read are returned by the next Reads.
func (b *Body) sniff() error {
	if contentType(b.resp.Header) == "text/plain" {
		return nil
	}
	var buf [512]byte
	n := 0
	for n < len(buf) {
		if rest := bytes.TrimLeft(buf[:n], " \t\r\n"); len(rest) > 0 && (rest[0] != '<' || len(rest) >= sniffLen) {
			break
		}
		m, err := b.Read(buf[n:])
		n += m
		if err != nil {
			break // the error is sticky: Read returns it after the bytes read
		}
	}
	b.pending = bytes.Clone(buf[:n])
	if isHTML(b.resp.Header, b.pending) {
		return b.c.htmlError(b.resp.StatusCode, b.resp.Header, b, nil)
	}
	return nil
}

// Err returns the body's first read error other than io.EOF, already
// classified as Read returned it, or nil. A parser over the body uses it to
// tell the body's errors, which need no further prefix, from its own.
func (b *Body) Err() error {
	if b.err == io.EOF {
		return nil
	}
	return b.err
}

// Close closes the body, which for an unfinished response also closes the
// connection, and releases the timer.
func (b *Body) Close() error {
	b.idle.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// Decode reads the rest of the body (at most 8 MiB) and completes the
// response as [Client.Do] does: a failure reported by the provider's envelope
// is a *chatbot.Error, and the body is decoded as JSON into out when out is
// non-nil. It is for a JSON answer where a stream was asked for, and for the
// one-body replies of providers that do not stream.
func (b *Body) Decode(out any) (*Response, error) {
	data, err := io.ReadAll(io.LimitReader(b, maxSuccessBody+1))
	if err != nil {
		return nil, err // already classified by Read
	}
	if isHTML(b.resp.Header, data) {
		return nil, b.c.htmlError(b.resp.StatusCode, b.resp.Header, nil, data)
	}
	b.observe()
	return b.c.answer(b.resp, data, out)
}

// Finish is for a stream whose reply is complete before its body ends (an
// end marker such as "[DONE]" arrived): it reads what is left of the body,
// at most 4 KiB and for at most 100 ms, so that the connection can go back to
// the pool instead of being closed. Past those bounds it gives up, and Close
// closes the connection as for any unfinished body.
func (b *Body) Finish() {
	if b.err != nil {
		return
	}
	t := b.c.clock.AfterFunc(finishWithin, func() { b.cancel(errFinished) })
	defer t.Stop()
	_, _ = io.Copy(io.Discard, io.LimitReader(b.rc, 4<<10))
}

// finishWithin bounds [Body.Finish].
const finishWithin = 100 * time.Millisecond

// errFinished cancels a [Body.Finish] that waited too long for the body's end.
var errFinished = errors.New("rest: stream finished; body not drained in time")

// streamError classifies a failure of a call (what names it: "stream",
// "POST chat"): the caller's own cancellation, the idle timeout, or (once
// the body has started, mid is true) a cut connection, which wraps
// io.ErrUnexpectedEOF.
func (c *Client) streamError(parent, ctx context.Context, what string, err error, mid bool) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s: %s: %w", c.cfg.Provider, what, parent.Err())
	case errors.Is(context.Cause(ctx), chatbot.ErrIdleTimeout):
		return fmt.Errorf("%s: %s: %w: nothing received for %s", c.cfg.Provider, what, chatbot.ErrIdleTimeout, c.idle)
	case !mid:
		return err // already a *chatbot.Error or a wrapped transport error
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %s: %w", c.cfg.Provider, what, err)
	}
	return fmt.Errorf("%s: %s: connection cut: %w: %w", c.cfg.Provider, what, io.ErrUnexpectedEOF, err)
}

// idleTimer cancels a request's context with ErrIdleTimeout when it stays
// armed for d. A nil *idleTimer (idle timeout disabled) does nothing. Its
// methods are called from the goroutine that runs the request; only the
// timer's function runs elsewhere.
type idleTimer struct {
	d       time.Duration
	clock   config.Clock
	fire    func()
	t       config.Timer // set on the first arm
	stopped bool

	// In the mode of Call.WatchContent, arm continues a countdown that
	// ends at deadline, which only content moves.
	watch    bool
	deadline time.Time
	left     time.Duration // the countdown left when it was paused
}

func (c *Client) newIdleTimer(cancel context.CancelCauseFunc) *idleTimer {
	if c.idle <= 0 {
		return nil
	}
	return &idleTimer{d: c.idle, clock: c.clock, fire: func() { cancel(chatbot.ErrIdleTimeout) }}
}

// arm (re)starts the countdown: from d, or in the mode of watchContent
// from what was left of it when it was paused.
func (it *idleTimer) arm() {
	if it == nil || it.stopped {
		return
	}
	d := it.d
	if it.watch {
		if d = it.left; d <= 0 {
			it.fire()
			return
		}
		it.deadline = it.clock.Now().Add(d)
	}
	if it.t == nil {
		it.t = it.clock.AfterFunc(d, it.fire)
	} else {
		it.t.Reset(d)
	}
}

// pause stops the countdown until the next arm.
func (it *idleTimer) pause() {
	if it == nil || it.t == nil {
		return
	}
	it.t.Stop()
	if it.watch {
		it.left = it.deadline.Sub(it.clock.Now())
	}
}

// watchContent switches to counting from the last content: the countdown
// starts now, whole, and later arms continue it.
func (it *idleTimer) watchContent() {
	if it != nil {
		it.watch = true
		it.left = it.d
	}
}

// content restarts the countdown, whole, at the next arm.
func (it *idleTimer) content() {
	if it != nil && it.watch {
		it.left = it.d
	}
}

// stop stops the countdown for good.
func (it *idleTimer) stop() {
	if it != nil {
		it.pause()
		it.stopped = true
	}
}

// ChunkWriter assembles chunks for [Client.Stream]: it stamps every chunk
// with the ids known so far and the first one with the rate-limit state,
// puts the sources given to it on the next chunk it yields, and the usage,
// finish reason and actions on the final chunk.
type ChunkWriter struct {
	yield     func(chatbot.Chunk, error) bool
	convID    string
	msgID     string
	rateLimit *chatbot.RateLimit
	sources   []chatbot.Source // for the next chunk
	usage     *chatbot.Usage
	finish    chatbot.FinishReason
	actions   []chatbot.Action
	sent      bool // a chunk has been yielded
	texts     int  // non-empty text chunks yielded
	stopped   bool // the consumer broke out of the loop
	done      bool // the Done chunk has been yielded
}

// SetIDs records the conversation and message ids; empty values are ignored.
func (w *ChunkWriter) SetIDs(conversationID, messageID string) {
	if conversationID != "" {
		w.convID = conversationID
	}
	if messageID != "" {
		w.msgID = messageID
	}
}

// SetResponse records the response's rate-limit state for the first chunk.
func (w *ChunkWriter) SetResponse(r *Response) {
	if r != nil && r.RateLimit != nil {
		w.rateLimit = r.RateLimit
	}
}

// AddSources records sources for the next chunk yielded, text or final: a
// Text call with empty text yields them on a chunk of their own.
func (w *ChunkWriter) AddSources(s ...chatbot.Source) {
	w.sources = append(w.sources, s...)
}

// SetFinish records what the final chunk carries besides its text: the
// usage (nil is none), the finish reason and the pending actions. Zero
// values leave what an earlier call recorded.
func (w *ChunkWriter) SetFinish(u *chatbot.Usage, reason chatbot.FinishReason, actions []chatbot.Action) {
	if u != nil {
		w.usage = u
	}
	if reason != chatbot.FinishUnknown {
		w.finish = reason
	}
	if len(actions) > 0 {
		w.actions = actions
	}
}

// FinishReason returns the finish reason recorded by [ChunkWriter.SetFinish].
func (w *ChunkWriter) FinishReason() chatbot.FinishReason { return w.finish }

// Text yields one chunk of text at once. Empty text yields nothing, unless
// sources are waiting. It reports false when the consumer has stopped; run
// must then return.
func (w *ChunkWriter) Text(s string) bool {
	if s == "" && len(w.sources) == 0 {
		return !w.stopped
	}
	if s != "" {
		w.texts++
	}
	return w.emit(chatbot.Chunk{Text: s})
}

// Replace yields a chunk whose text replaces all the text of the reply so
// far (Chunk.Replace), even when s is empty.
func (w *ChunkWriter) Replace(s string) bool {
	w.texts = 0
	if s != "" {
		w.texts++
	}
	return w.emit(chatbot.Chunk{Text: s, Replace: true})
}

// Wrote reports whether the reply has text: text yielded since the start,
// or since the last [ChunkWriter.Replace].
func (w *ChunkWriter) Wrote() bool { return w.texts > 0 }

// Final yields the Done chunk, carrying s (which may be empty) and what
// [ChunkWriter.SetFinish] recorded.
func (w *ChunkWriter) Final(s string) bool {
	w.done = true
	return w.emit(chatbot.Chunk{Text: s, Done: true, Usage: w.usage, FinishReason: w.finish, Actions: w.actions})
}

func (w *ChunkWriter) emit(ch chatbot.Chunk) bool {
	if w.stopped {
		return false
	}
	ch.ConversationID, ch.MessageID = w.convID, w.msgID
	if !w.sent {
		ch.RateLimit = w.rateLimit
		w.sent = true
	}
	if len(w.sources) > 0 {
		ch.Sources, w.sources = w.sources, nil
	}
	if !w.yield(ch, nil) {
		w.stopped = true
	}
	return !w.stopped
}
