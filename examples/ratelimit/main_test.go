package main

import (
	"context"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestRateLimitDecisions(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	var out strings.Builder
	require.NoError(t, run(t.Context(), &out, srv))

	want := `Backend policy: wait out a RetryAfter of up to 2s itself, hand longer ones to the caller.

1. No limit in the way.
caller asks "Hello"
  answered (rate limit: 999 of 1000 left)
  caller gets: You said: Hello

2. The provider refuses the next request with retryAfter 1s.
caller asks "Are you there?"
  rate limited, RetryAfter 1s: short, waiting it out, then retrying
  answered (rate limit: 998 of 1000 left)
  caller gets: You said: Are you there?

3. The provider refuses the next request with retryAfter 1h.
caller asks "Still there?"
  rate limited, RetryAfter 1h0m0s: too long to hold the caller, handing it on
  caller told: busy, come back in 1h0m0s (as HTTP 429, Retry-After: 3600)

4. The provider's sliding window, shrunk to 2 requests per minute.
caller asks "One"
  answered (rate limit: 1 of 2 left)
  caller gets: You said: One
caller asks "Two"
  answered (rate limit: 0 of 2 left)
  caller gets: You said: Two
caller asks "Three"
  held back by the client: the provider's X-RateLimit window is used up, nothing was sent
  rate limited, RetryAfter 1m0s: too long to hold the caller, handing it on
  caller told: busy, come back in 1m0s (as HTTP 429, Retry-After: 60)

The provider received 6 requests.
`
	// The window's wait is the announced reset (whole seconds, a minute
	// after "One" was admitted, rounded up) less the time since, rounded: a
	// second more or, on a very slow machine, a second or two less.
	got := regexp.MustCompile(`RetryAfter (5[89]s|1m1s):`).ReplaceAllString(out.String(), "RetryAfter 1m0s:")
	got = regexp.MustCompile(`come back in (5[89]s|1m1s) \(as HTTP 429, Retry-After: (5[89]|61)\)`).ReplaceAllString(got, "come back in 1m0s (as HTTP 429, Retry-After: 60)")
	assert.Equal(t, want, got)
	// 1 + (429 + retry) + 429 + 2; "Three" is held back by the client.
	assert.Equal(t, 6, srv.Count())
}

// TestBackendHandsOn covers the decisions the demo does not reach: a short
// wait that would pass the caller's deadline, and the attempts running out.
func TestBackendHandsOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxAttempts int
		retryAfter  int           // seconds
		timeout     time.Duration // of the caller's context; 0: none
		decision    string
	}{
		{"past the deadline", 3, 5, 4 * time.Second, "RetryAfter 5s: past the caller's deadline, handing it on"},
		{"attempts used up", 1, 1, 0, "rate limited again after 1 attempts: handing it to the caller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := workspacetest.NewServer(workspacetest.Config{})
			t.Cleanup(srv.Close)
			bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
			require.NoError(t, err)
			srv.RateLimitNext(1, time.Duration(tt.retryAfter)*time.Second)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			var log strings.Builder
			b := &backend{bot: bot, maxWait: 10 * time.Second, maxAttempts: tt.maxAttempts, log: &log}

			_, err = b.Ask(ctx, "Hi")
			var busy *BusyError
			require.ErrorAs(t, err, &busy)
			assert.Equal(t, time.Duration(tt.retryAfter)*time.Second, busy.RetryAfter)
			assert.ErrorIs(t, err, chatbot.ErrRateLimited)
			assert.Contains(t, log.String(), tt.decision)
			assert.Equal(t, 1, srv.Count(), "nothing is retried")
		})
	}
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	var out strings.Builder
	err := start([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out.String(), "no scenario ran")
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "ratelimit", err))
}
