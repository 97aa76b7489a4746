package workspace_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// exhaust makes two calls into a fake whose window allows two, so that the
// client has seen X-RateLimit-Remaining 0 with a Reset a minute away on clk.
func exhaust(t *testing.T, clk *clocktest.Clock, opts ...chatbot.Option) (*workspacetest.Server, *workspace.Client) {
	t.Helper()
	opts = append([]chatbot.Option{config.WithClock(clk), chatbot.WithStreamIdleTimeout(0)}, opts...)
	srv, c := setup(t, workspacetest.Config{RateLimit: 2, RateWindow: time.Minute, Clock: clk}, opts...)
	for range 2 {
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		require.NotNil(t, reply.RateLimit)
	}
	require.Equal(t, 2, srv.Count())
	return srv, c
}

func TestPrecheckRefusesWithoutSending(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := exhaust(t, clk, chatbot.WithMaxRetryWait(time.Second))

	_, chatErr := c.Chat(t.Context(), chatbot.Request{Message: "third"})
	_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "third"}))
	for _, err := range []error{chatErr, streamErr} {
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		var apiErr *chatbot.Error
		require.True(t, errors.As(err, &apiErr))
		assert.Equal(t, 0, apiErr.StatusCode, "refused by the client")
		assert.Equal(t, "CLIENT_RATE_LIMITED", apiErr.ProviderCode)
		assert.Equal(t, time.Minute, apiErr.RetryAfter, "until the reset the provider announced")
	}
	assert.Equal(t, 2, srv.Count(), "nothing was sent while the window was used up")
	assert.Empty(t, clk.Armed(), "a wait over WithMaxRetryWait is not slept")

	clk.Advance(time.Minute)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "after the reset"})
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count())
}

func TestPrecheckWaitsForTheResetWhenItFits(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := exhaust(t, clk, chatbot.WithMaxRetryWait(2*time.Minute))

	done := make(chan error, 1)
	go func() {
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "third"})
		done <- err
	}()
	clk.WaitFor(t, time.Minute) // the client waits exactly until the reset
	assert.Equal(t, 2, srv.Count(), "not sent before the reset")
	clk.Advance(time.Minute)
	require.NoError(t, <-done)
	assert.Equal(t, 3, srv.Count(), "sent once, after the reset")
}

func TestPrecheckHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := exhaust(t, clk, chatbot.WithMaxRetryWait(2*time.Minute))

	// A deadline 30 s away on the client's clock (an hour away in real time).
	ctx, cancel := context.WithDeadline(t.Context(), clk.Now().Add(30*time.Second))
	defer cancel()
	_, err := c.Chat(ctx, chatbot.Request{Message: "third"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited, "a wait past the deadline is not started")
	assert.Empty(t, clk.Armed())
	assert.Equal(t, 2, srv.Count())
}

func TestPrecheckOff(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := exhaust(t, clk, chatbot.WithRateLimitPrecheck(false))

	_, err := c.Chat(t.Context(), chatbot.Request{Message: "third"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 429, apiErr.StatusCode, "the provider refused it: the request was sent")
	assert.Equal(t, 3, srv.Count())
}

func TestPrecheckIsSharedByConcurrentCalls(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := exhaust(t, clk, chatbot.WithMaxRetryWait(time.Second))

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, chatbot.ErrRateLimited)
	}
	assert.Equal(t, 2, srv.Count(), "none of 200 concurrent calls was sent")
}

// TestPrecheckNeverSendsBeforeTheReset: when the client holds a call back
// until the announced reset, it waits at least until that second, never up
// to half a second less (rounding the wait to the nearest second did).
func TestPrecheckNeverSendsBeforeTheReset(t *testing.T) {
	t.Parallel()
	for _, after := range []time.Duration{400 * time.Millisecond, 600 * time.Millisecond, 999 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			t.Parallel()
			clk := clocktest.New(time.Unix(1_800_000_000, 0))
			srv, c := exhaust(t, clk, chatbot.WithMaxRetryWait(2*time.Minute))
			reset := clk.Now().Add(time.Minute) // X-RateLimit-Reset, in whole seconds
			clk.Advance(after)

			done := make(chan error, 1)
			go func() {
				_, err := c.Chat(t.Context(), chatbot.Request{Message: "third"})
				done <- err
			}()
			clk.WaitArmed(t, 1)
			wait := clk.Pending()[0]
			assert.False(t, clk.Now().Add(wait).Before(reset), "a wait of %s from %s ends before the reset", wait, clk.Now())
			assert.True(t, clk.Now().Add(wait).Before(reset.Add(time.Second)), "less than a second is added")
			clk.Advance(wait)
			require.NoError(t, <-done, "the provider accepted the call: its window had moved on")
			assert.Equal(t, 3, srv.Count())
		})
	}
}
