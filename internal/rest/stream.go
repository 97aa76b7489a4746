package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync/atomic"
	"time"

	"github.com/chatbot-go/chatbot"
)

// Open sends the call and returns the 2xx response with its body unread, for
// streaming. The body is guarded by the idle timeout and its read errors are
// classified (see [Body]); the caller must close it. A non-2xx response is
// returned as *chatbot.Error.
func (c *Client) Open(ctx context.Context, call Call) (_ *Response, _ io.ReadCloser, err error) {
	defer func() { err = c.Safe(err) }()
	if ctx == nil {
		return nil, nil, c.Invalid("nil context")
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	idle := newIdleTimer(c.idle, cancel)
	resp, err := c.send(ctx, call, idle)
	if err != nil {
		idle.stop()
		cancel(nil)
		return nil, nil, c.streamError(parent, ctx, err, false)
	}
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, RateLimit: RateLimitFrom(resp.Header)}
	return r, &body{c: c, rc: resp.Body, parent: parent, ctx: ctx, cancel: cancel, idle: idle}, nil
}

// body guards a streamed response body: every read re-arms the idle timer,
// and read errors are reported as the context's error, ErrIdleTimeout, or
// io.ErrUnexpectedEOF for a connection cut mid-body.
type body struct {
	c      *Client
	rc     io.ReadCloser
	parent context.Context // the caller's context
	ctx    context.Context // parent plus the idle timer's cancellation
	cancel context.CancelCauseFunc
	idle   *idleTimer
	err    error // the first read error, sticky
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if n > 0 {
		b.idle.arm()
	}
	if err != nil {
		if err != io.EOF {
			err = b.c.Safe(b.c.streamError(b.parent, b.ctx, err, true))
		}
		b.err = err
	}
	return n, err
}

// Close closes the body, which for an unfinished response also closes the
// connection, and releases the timer.
func (b *body) Close() error {
	b.idle.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// streamError classifies a failure of a stream: the caller's own
// cancellation, the idle timeout, or (once the body has started, mid is
// true) a cut connection, which wraps io.ErrUnexpectedEOF.
func (c *Client) streamError(parent, ctx context.Context, err error, mid bool) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s: stream: %w", c.provider, parent.Err())
	case errors.Is(context.Cause(ctx), chatbot.ErrIdleTimeout):
		return fmt.Errorf("%s: stream: %w: nothing received for %s", c.provider, chatbot.ErrIdleTimeout, c.idle)
	case !mid:
		return err // already a *chatbot.Error or a wrapped transport error
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: stream: %w", c.provider, err)
	}
	return fmt.Errorf("%s: stream: connection cut: %w: %w", c.provider, io.ErrUnexpectedEOF, err)
}

// idleTimer cancels a stream's context when nothing arrives for d. A nil
// *idleTimer (idle timeout disabled, or not streaming) does nothing.
type idleTimer struct {
	d time.Duration
	t *time.Timer
}

func newIdleTimer(d time.Duration, cancel context.CancelCauseFunc) *idleTimer {
	if d <= 0 {
		return nil
	}
	t := time.AfterFunc(d, func() { cancel(chatbot.ErrIdleTimeout) })
	t.Stop()
	return &idleTimer{d: d, t: t}
}

func (it *idleTimer) arm() {
	if it != nil {
		it.t.Reset(it.d)
	}
}

func (it *idleTimer) pause() {
	if it != nil {
		it.t.Stop()
	}
}

func (it *idleTimer) stop() { it.pause() }

// Stream returns the lazy, single-use sequence behind every provider's
// Stream method. run is started on the first iteration; it sends the
// request, feeds the reply to w, and returns nil at the end of a complete
// reply. Stream then yields the final Done chunk (unless run already did, or
// the consumer stopped); an error from run is yielded last, after whatever
// text arrived. A second iteration yields only ErrStreamUsed.
func (c *Client) Stream(ctx context.Context, run func(ctx context.Context, w *ChunkWriter) error) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("%s: %w", c.provider, chatbot.ErrStreamUsed))
			return
		}
		if ctx == nil {
			yield(chatbot.Chunk{}, c.Invalid("nil context"))
			return
		}
		w := &ChunkWriter{yield: yield}
		err := run(context.WithValue(ctx, streamingKey{}, true), w)
		switch {
		case w.stopped:
		case err != nil:
			yield(chatbot.Chunk{}, c.Safe(err))
		case !w.done:
			w.Final("")
		}
	}
}

// streamingKey marks the context of a stream's run, for [Client.Do].
type streamingKey struct{}

// ChunkWriter assembles chunks for [Client.Stream]: it stamps every chunk
// with the ids known so far and the first one with the rate-limit state.
type ChunkWriter struct {
	yield     func(chatbot.Chunk, error) bool
	convID    string
	msgID     string
	rateLimit *chatbot.RateLimit
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

// ConversationID returns the conversation id known so far.
func (w *ChunkWriter) ConversationID() string { return w.convID }

// SetResponse records the response's rate-limit state for the first chunk.
func (w *ChunkWriter) SetResponse(r *Response) {
	if r != nil && r.RateLimit != nil {
		w.rateLimit = r.RateLimit
	}
}

// Text yields one chunk of text at once. Empty text yields nothing. It
// reports false when the consumer has stopped; run must then return.
func (w *ChunkWriter) Text(s string) bool {
	if s == "" {
		return !w.stopped
	}
	w.texts++
	return w.emit(chatbot.Chunk{Text: s})
}

// Wrote reports whether any text has been yielded.
func (w *ChunkWriter) Wrote() bool { return w.texts > 0 }

// Final yields the Done chunk, carrying s (which may be empty).
func (w *ChunkWriter) Final(s string) bool {
	w.done = true
	return w.emit(chatbot.Chunk{Text: s, Done: true})
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
	if !w.yield(ch, nil) {
		w.stopped = true
	}
	return !w.stopped
}

// Finish is for a stream whose reply is complete before its body ends (an
// end marker such as "[DONE]" arrived): it reads what is left of the body,
// at most 4 KiB and for at most 100 ms, so that the connection can go back to
// the pool instead of being closed. Past those bounds it gives up, and the
// connection is closed as for any unfinished body. body must come from
// [Client.Open].
func Finish(r io.Reader) {
	b, ok := r.(*body)
	if !ok || b.err != nil {
		return
	}
	t := time.AfterFunc(100*time.Millisecond, func() { b.cancel(errFinished) })
	defer t.Stop()
	_, _ = io.Copy(io.Discard, io.LimitReader(b.rc, 4<<10))
}

// errFinished cancels a [Finish] that waited too long for the body's end.
var errFinished = errors.New("rest: stream finished; body not drained in time")
