package rest_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// textStream streams the raw body of a call as chunks, the way userdesk does.
func textStream(c *rest.Client, ctx context.Context) func(func(chatbot.Chunk, error) bool) {
	return c.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		resp, body, err := g.Open(ctx, rest.Call{Method: http.MethodPost, Path: "chat", Body: map[string]bool{"stream": true}, Accept: "text/plain"})
		if err != nil {
			return err
		}
		defer body.Close()
		w.SetResponse(resp)
		w.SetIDs("conv-1", "")
		for s, err := range stream.Text(body) {
			if err != nil {
				return err
			}
			if !w.Text(s) {
				return nil
			}
		}
		return nil
	})
}

// pieces writes each piece flushed, then waits for the client to leave or
// for release to close.
func pieces(release <-chan struct{}, ps ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "4")
		for _, p := range ps {
			io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestStreamChunks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	close(release)
	c, _ := setup(t, pieces(release, "Hel", "lo"))
	var got []chatbot.Chunk
	for ch, err := range textStream(c, t.Context()) {
		require.NoError(t, err)
		got = append(got, ch)
	}
	require.NotEmpty(t, got)
	last := got[len(got)-1]
	assert.True(t, last.Done)
	assert.Equal(t, &chatbot.RateLimit{Limit: 5, Remaining: 4}, got[0].RateLimit, "rate limit on the first chunk")
	text := ""
	for i, ch := range got {
		text += ch.Text
		assert.Equal(t, "conv-1", ch.ConversationID)
		if i > 0 {
			assert.Nil(t, ch.RateLimit, "only the first chunk carries the rate limit")
		}
	}
	assert.Equal(t, "Hello", text)
}

func TestStreamIsLazyAndSingleUse(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	close(release)
	c, srv := setup(t, pieces(release, "once"))
	chunks := textStream(c, t.Context())
	assert.Equal(t, 0, srv.Count(), "nothing is sent before the loop starts")
	reply, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	assert.Equal(t, "once", reply.Text)
	_, err = chatbot.Collect(chunks)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, "workspace: stream already consumed; call Stream again to send another message", err.Error())
	assert.Equal(t, 1, srv.Count(), "a second range never sends the message again")
}

// consume ranges over chunks on another goroutine, handing each chunk to
// the test over the returned channel (the consumer holds it until the test
// receives it) and closing it at the end, then the final error (nil for a
// complete reply).
func consume(chunks func(func(chatbot.Chunk, error) bool)) (<-chan chatbot.Chunk, <-chan error) {
	got := make(chan chatbot.Chunk)
	done := make(chan error, 1)
	go func() {
		defer close(got)
		var last error
		for ch, err := range chunks {
			if err != nil {
				last = err
				break
			}
			got <- ch
		}
		done <- last
	}()
	return got, done
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	never := make(chan struct{})
	c, srv, clk := setupClock(t, time.Now(), pieces(never, "partial "), chatbot.WithStreamIdleTimeout(idle))
	got, done := consume(textStream(c, t.Context()))
	assert.Equal(t, "partial ", (<-got).Text, "the text that arrived is delivered")
	clk.WaitFor(t, idle) // re-armed once the consumer let go of the chunk
	clk.Advance(idle)
	require.ErrorIs(t, <-done, chatbot.ErrIdleTimeout)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second):
		t.Fatal("the server never saw the client leave")
	}
}

func TestStreamIdleTimerPausedWhileConsumerHoldsAChunk(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	release := make(chan struct{})
	c, _, clk := setupClock(t, time.Now(), func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		select {
		case <-release:
			io.WriteString(w, "b")
		case <-r.Context().Done():
		}
	}, chatbot.WithStreamIdleTimeout(idle))
	held := make(chan string)
	resume := make(chan struct{})
	reply := make(chan *chatbot.Reply, 1)
	go func() {
		first := true
		r, err := chatbot.Collect(func(yield func(chatbot.Chunk, error) bool) {
			for ch, err := range textStream(c, t.Context()) {
				if first && err == nil {
					first = false
					held <- ch.Text // the consumer is inside its loop body…
					<-resume        // …until the test lets it go
				}
				if !yield(ch, err) {
					return
				}
			}
		})
		assert.NoError(t, err)
		reply <- r
	}()
	assert.Equal(t, "a", <-held)
	assert.Empty(t, clk.Pending(), "no idle timer runs while the consumer holds a chunk")
	clk.Advance(time.Hour) // however long the consumer takes
	close(resume)
	clk.WaitFor(t, idle) // re-armed once the consumer let go
	close(release)
	assert.Equal(t, "ab", (<-reply).Text)
}

func TestStreamIdleTimeoutBeforeHeaders(t *testing.T) {
	t.Parallel()
	// Longer than the 2 minutes a transport header timeout once imposed:
	// one setting bounds the wait for headers, and its error is ErrIdleTimeout.
	const idle = 5 * time.Minute
	arrived := make(chan struct{})
	c, _, clk := setupClock(t, time.Now(), func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}, chatbot.WithStreamIdleTimeout(idle))
	_, done := consume(textStream(c, t.Context()))
	<-arrived
	clk.WaitFor(t, idle)
	clk.Advance(idle)
	err := <-done
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
	assert.Contains(t, err.Error(), "workspace: stream:")
}

func TestDoIdleTimeoutBeforeHeaders(t *testing.T) {
	t.Parallel()
	const idle = 5 * time.Minute
	arrived := make(chan struct{})
	c, srv, clk := setupClock(t, time.Now(), func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}, chatbot.WithStreamIdleTimeout(idle))
	done := goDo(t.Context(), c, chatCall)
	<-arrived
	clk.WaitFor(t, idle)
	clk.Advance(idle)
	require.ErrorIs(t, (<-done).err, chatbot.ErrIdleTimeout)
	assert.Equal(t, 1, srv.Count())
}

func TestStreamTruncation(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		written := 0
		fake.Writer{CutAfter: 10}.Write(r.Context(), w, &written, []byte("0123456789abcdef"))
	})
	reply, err := chatbot.Collect(textStream(c, t.Context()))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "0123456789", reply.Text)
	assert.Contains(t, err.Error(), "workspace: stream:")
}

func TestStreamCancel(t *testing.T) {
	t.Parallel()
	never := make(chan struct{})
	c, srv := setup(t, pieces(never, "a"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n int
	var last error
	for ch, err := range textStream(c, ctx) {
		if err != nil {
			last = err
			break
		}
		n++
		assert.Equal(t, "a", ch.Text)
		cancel()
	}
	assert.Equal(t, 1, n)
	require.ErrorIs(t, last, context.Canceled)
	<-srv.Disconnects()
}

func TestStreamBreakClosesConnection(t *testing.T) {
	t.Parallel()
	never := make(chan struct{})
	c, srv := setup(t, pieces(never, "a", "b"))
	for range textStream(c, t.Context()) {
		break
	}
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second):
		t.Fatal("breaking out did not close the connection")
	}
}

func TestStreamErrorStatus(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, status(403, `{"error":"no","code":"CHATBOT_FETCH_FORBIDDEN"}`))
	var pairs int
	var last error
	for _, err := range textStream(c, t.Context()) {
		pairs++
		last = err
	}
	assert.Equal(t, 1, pairs, "the error is the only pair")
	assert.ErrorIs(t, last, chatbot.ErrForbidden)
}

func TestStreamRetriesRefusedRequestWithIdleTimer(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	var calls atomic.Int64
	release := make(chan struct{})
	close(release)
	c, _, clk := setupClock(t, time.Now(), func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			status(429, ``, "Retry-After-Ms", "150")(w, r)
			return
		}
		pieces(release, "ok")(w, r)
	}, chatbot.WithStreamIdleTimeout(idle))
	got, done := consume(textStream(c, t.Context()))
	clk.WaitFor(t, 150*time.Millisecond)
	assert.Equal(t, []time.Duration{150 * time.Millisecond}, clk.Pending(), "the idle timer is paused while waiting to retry")
	clk.Advance(150 * time.Millisecond)
	var text string
	for ch := range got {
		text += ch.Text
		if ch.Done {
			break
		}
	}
	require.NoError(t, <-done)
	assert.Equal(t, "ok", text)
}

func TestStreamGuardsItsOneBodyCallsWithTheIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 50 * time.Millisecond
	for name, tc := range map[string]struct {
		h     http.HandlerFunc
		armed int // timers set once the client waits: at the send, and at each read
	}{
		"no headers": {h: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, armed: 1},
		"half a body": {h: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"success":true,`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, armed: 2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{})
			c, srv, clk := setupClock(t, time.Now(), func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				tc.h(w, r)
			}, chatbot.WithStreamIdleTimeout(idle))
			chunks := c.Stream(t.Context(), func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
				_, err := g.Do(ctx, chatCall, nil) // a conversation created first, or a one-body reply
				return err
			})
			_, done := consume(chunks)
			<-arrived
			clk.WaitArmed(t, tc.armed) // the body's read re-armed the timer
			clk.Advance(idle)
			require.ErrorIs(t, <-done, chatbot.ErrIdleTimeout)
			assert.Equal(t, 1, srv.Count())
		})
	}
}

func TestStreamJSONEnvelopeFailure(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, status(200, `{"success":false,"error":"nope","code":"INSUFFICIENT_CREDITS"}`, "Retry-After", "7", "X-Request-Id", "req-1"))
	chunks := c.Stream(t.Context(), func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		_, body, err := g.Open(ctx, chatCall)
		if err != nil {
			return err
		}
		defer body.Close()
		_, err = body.Decode(nil)
		return err
	})
	_, err := chatbot.Collect(chunks)
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter, "the headers are kept")
	assert.Equal(t, "req-1", apiErr.RequestID)
}

func TestStreamNilContext(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, ok200)
	_, err := chatbot.Collect(textStream(c, nil)) // a nil context is an error, not a panic
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 0, srv.Count())
}

func TestFinishIsBoundedOnTheClock(t *testing.T) {
	t.Parallel()
	never := make(chan struct{})
	c, srv, clk := setupClock(t, time.Now(), pieces(never, "done"), chatbot.WithStreamIdleTimeout(0))
	chunks := c.Stream(t.Context(), func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		_, body, err := g.Open(ctx, chatCall)
		if err != nil {
			return err
		}
		defer body.Close()
		buf := make([]byte, 4)
		if _, err := io.ReadFull(body, buf); err != nil {
			return err
		}
		w.Final(string(buf)) // the reply is complete; the server keeps the body open
		body.Finish()
		return nil
	})
	reply := make(chan *chatbot.Reply, 1)
	go func() {
		r, err := chatbot.Collect(chunks)
		assert.NoError(t, err)
		reply <- r
	}()
	clk.WaitFor(t, 100*time.Millisecond) // Finish drains for at most 100 ms…
	clk.Advance(100 * time.Millisecond)  // …of the client's clock
	assert.Equal(t, "done", (<-reply).Text)
	<-srv.Disconnects()
}
