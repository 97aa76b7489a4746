package chatbase_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

// TestPrecheckReadsTheResetInMilliseconds: Chatbase's X-RateLimit-Reset is
// a unix time in milliseconds. After a window is used up, the client knows
// when it resets to the millisecond: it refuses a call whose wait exceeds
// WithMaxRetryWait without sending it, and after the reset sends again.
func TestPrecheckReadsTheResetInMilliseconds(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.UnixMilli(1_800_000_000_250))
	srv, c := setup(t, chatbasetest.Config{RateLimit: 2, RateWindow: 10 * time.Second, Clock: clk},
		config.WithClock(clk), chatbot.WithStreamIdleTimeout(0), chatbot.WithMaxRetryWait(time.Second))
	for range 2 {
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		require.NotNil(t, reply.RateLimit)
		assert.Equal(t, clk.Now().Add(10*time.Second), reply.RateLimit.Reset, "the reset, read as unix milliseconds (.250 kept)")
	}

	_, chatErr := c.Chat(t.Context(), chatbot.Request{Message: "third"})
	_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "third"}))
	for _, err := range []error{chatErr, streamErr} {
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		var apiErr *chatbot.Error
		require.True(t, errors.As(err, &apiErr))
		assert.Equal(t, "CLIENT_RATE_LIMITED", apiErr.ProviderCode, "refused by the client")
		assert.Equal(t, 10*time.Second, apiErr.RetryAfter)
	}
	assert.Equal(t, 2, srv.Count(), "nothing was sent while the window was used up")

	clk.Advance(10 * time.Second)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "after the reset"})
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count())
}

// TestPrecheckWaitsForAMillisecondResetWhenItFits: a wait within
// WithMaxRetryWait is slept on the client's clock, then the call is sent.
func TestPrecheckWaitsForAMillisecondResetWhenItFits(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.UnixMilli(1_800_000_000_000))
	srv, c := setup(t, chatbasetest.Config{RateLimit: 1, RateWindow: 10 * time.Second, Clock: clk},
		config.WithClock(clk), chatbot.WithStreamIdleTimeout(0), chatbot.WithMaxRetryWait(time.Minute))
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "one"})
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "two"})
		done <- err
	}()
	clk.WaitFor(t, 10*time.Second)
	assert.Equal(t, 1, srv.Count(), "not sent before the reset")
	clk.Advance(10 * time.Second)
	require.NoError(t, <-done)
	assert.Equal(t, 2, srv.Count())
}

// TestA429WithoutRetryAfterWaitsForTheMillisecondReset: a 429 that carries
// no Retry-After but a used-up window asks to wait until X-RateLimit-Reset,
// read in milliseconds.
func TestA429WithoutRetryAfterWaitsForTheMillisecondReset(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.UnixMilli(1_800_000_000_000))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1800000007000") // 7 s after the client's now
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"code":"RATE_LIMIT_TOO_MANY_REQUESTS","message":"Too many requests"}}`))
	}))
	t.Cleanup(hs.Close)
	c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL), config.WithClock(clk), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
}
