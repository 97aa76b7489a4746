package flowise_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

func TestIsStreaming(t *testing.T) {
	t.Parallel()
	for _, noStreaming := range []bool{false, true} {
		srv, c := setup(t, flowisetest.Config{NoStreaming: noStreaming})
		got, err := c.IsStreaming(t.Context())
		require.NoError(t, err)
		assert.Equal(t, !noStreaming, got)
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, "GET", reqs[0].Method)
		assert.Equal(t, "/api/v1/chatflows-streaming/"+srv.ChatbotID(), reqs[0].Path)
	}

	srv, _ := setup(t, flowisetest.Config{})
	c, err := flowise.NewClient("", "other-flow", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.IsStreaming(t.Context())
	require.ErrorIs(t, err, chatbot.ErrNotFound)

}

// TestIsStreamingIsRetried: the check is a GET, which may be sent again
// after a 5xx, unlike a prediction.
func TestIsStreamingIsRetried(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := setup(t, flowisetest.Config{Clock: clk}, chatbot.WithMaxRetries(1), config.WithClock(clk), chatbot.WithStreamIdleTimeout(0))
	srv.FailNext(1, flowisetest.Failure{Status: 500})
	done := make(chan error, 1)
	go func() {
		ok, err := c.IsStreaming(t.Context())
		if err == nil && !ok {
			err = errors.New("IsStreaming: false")
		}
		done <- err
	}()
	clk.WaitArmed(t, 1) // the backoff before the second attempt
	clk.Advance(time.Minute)
	require.NoError(t, <-done)
	assert.Equal(t, 2, srv.Count())

	srv.FailNext(1, flowisetest.Failure{Status: 500})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrServer, "a prediction is never sent twice")
	assert.Equal(t, 3, srv.Count())
}
