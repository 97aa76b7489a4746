package resilience_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
)

// throttler is a Throttler that records what Limit tells it.
type throttler struct {
	resilience.Limiter
	mu    sync.Mutex
	waits map[string]time.Duration
}

func (t *throttler) Throttle(_ context.Context, key string, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waits == nil {
		t.waits = map[string]time.Duration{}
	}
	t.waits[key] = wait
}

func (t *throttler) recorded() map[string]time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waits
}

var allowAll = limiterFunc(func(context.Context, string) (time.Duration, error) { return 0, nil })

func TestLimitTellsAThrottlerOfTheProvidersWait(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	key := "workspace/" + srv.ChatbotID()
	for _, call := range []struct {
		name string
		do   func(bot chatbot.Chatbot) error
	}{
		{"chat", func(bot chatbot.Chatbot) error {
			_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			return err
		}},
		{"stream", func(bot chatbot.Chatbot) error {
			_, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			return err
		}},
	} {
		th := &throttler{Limiter: allowAll}
		bot := chatbot.Wrap(c, resilience.Limit(th))
		srv.RateLimitNext(1, 7*time.Second)
		require.ErrorIs(t, call.do(bot), chatbot.ErrRateLimited, call.name)
		assert.Equal(t, map[string]time.Duration{key: 7 * time.Second}, th.recorded(), call.name)

		th = &throttler{Limiter: allowAll}
		bot = chatbot.Wrap(c, resilience.Limit(th))
		require.NoError(t, call.do(bot), call.name)
		assert.Empty(t, th.recorded(), "%s: a success throttles nothing", call.name)
	}

	// The client's own refusal is not the provider's: nothing to pass on.
	th := &throttler{Limiter: limiterFunc(func(context.Context, string) (time.Duration, error) { return time.Hour, nil })}
	_, err := chatbot.Wrap(c, resilience.Limit(th)).Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Empty(t, th.recorded())
}

// lateDeadline is a context whose deadline has passed while its timer has
// not fired yet: Err is nil, as a context.WithDeadline's is for a moment.
type lateDeadline struct{ context.Context }

func (lateDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestLimitReturnsCallersContextErrorFromLimiter(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	var lerr *resilience.LimiterError

	// Cancelled while the limiter asked its store.
	ctx, cancel := context.WithCancel(t.Context())
	lim := limiterFunc(func(ctx context.Context, _ string) (time.Duration, error) {
		cancel()
		return 0, fmt.Errorf("store: %w", ctx.Err())
	})
	_, err := chatbot.Wrap(c, resilience.Limit(lim)).Chat(ctx, chatbot.Request{Message: "hi"})
	require.Equal(t, context.Canceled, err)

	// The deadline passed while the limiter asked, its timer not fired yet.
	lim = func(context.Context, string) (time.Duration, error) { return 0, context.DeadlineExceeded }
	_, err = chatbot.Wrap(c, resilience.Limit(lim)).Chat(lateDeadline{t.Context()}, chatbot.Request{Message: "hi"})
	require.Equal(t, context.DeadlineExceeded, err)

	// The limiter's own deadline, the caller's still ahead: its failure.
	_, err = chatbot.Wrap(c, resilience.Limit(lim)).Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorAs(t, err, &lerr)

	assert.Zero(t, srv.Count(), "nothing was sent")
}

func TestLocalLimiterAllowN(t *testing.T) {
	t.Parallel()
	clk := resilience.NewFakeClock(time.Unix(1_700_000_000, 0))
	l := resilience.NewLocalLimiter(resilience.Rate{Limit: 100, Period: time.Hour})
	l.SetClock(clk)
	wait, err := l.AllowN(t.Context(), "k", 60)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = l.AllowN(t.Context(), "k", 41)
	require.NoError(t, err)
	require.Equal(t, time.Hour, wait, "one credit short, taking nothing: the window frees the first 60 an hour later")
	wait, err = l.AllowN(t.Context(), "k", 40)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = l.AllowN(t.Context(), "k", 0)
	require.NoError(t, err)
	require.Zero(t, wait)
	_, err = l.AllowN(t.Context(), "k", 101)
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	require.ErrorContains(t, err, "a cost of 101 exceeds the burst of 100 and can never be allowed")
}
