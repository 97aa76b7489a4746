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
	return c.Stream(ctx, func(ctx context.Context, w *rest.ChunkWriter) error {
		resp, body, err := c.Open(ctx, rest.Call{Method: http.MethodPost, Path: "chat", Body: map[string]bool{"stream": true}, Accept: "text/plain"})
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
	assert.Equal(t, 1, srv.Count(), "a second range never sends the message again")
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	never := make(chan struct{})
	c, srv := setup(t, pieces(never, "partial "), chatbot.WithStreamIdleTimeout(100*time.Millisecond))
	start := time.Now()
	reply, err := chatbot.Collect(textStream(c, t.Context()))
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, "partial ", reply.Text, "the text that arrived is kept")
	select {
	case <-srv.Disconnects():
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client leave")
	}
}

func TestStreamIdleTimeoutBeforeHeaders(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, chatbot.WithStreamIdleTimeout(50*time.Millisecond))
	_, err := chatbot.Collect(textStream(c, t.Context()))
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
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
	case <-time.After(5 * time.Second):
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
	var calls atomic.Int64
	release := make(chan struct{})
	close(release)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			status(429, ``, "Retry-After-Ms", "150")(w, r)
			return
		}
		pieces(release, "ok")(w, r)
	}, chatbot.WithStreamIdleTimeout(100*time.Millisecond))
	reply, err := chatbot.Collect(textStream(c, t.Context()))
	require.NoError(t, err, "the idle timer is paused while waiting to retry")
	assert.Equal(t, "ok", reply.Text)
}

func TestStreamGuardsItsPlainCallsWithTheIdleTimeout(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		chatbot.WithStreamIdleTimeout(50*time.Millisecond))
	chunks := c.Stream(t.Context(), func(ctx context.Context, w *rest.ChunkWriter) error {
		_, err := c.Do(ctx, chatCall, nil) // say, a conversation created first
		return err
	})
	_, err := chatbot.Collect(chunks)
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
	assert.Equal(t, 1, srv.Count())
}

func TestStreamNilContext(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, ok200)
	_, err := chatbot.Collect(textStream(c, nil)) // a nil context is an error, not a panic
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 0, srv.Count())
}
