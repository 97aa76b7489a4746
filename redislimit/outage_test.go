package redislimit_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// lateDeadline is a context whose deadline has passed while its timer has
// not fired yet: Err is nil and Done open, as a context.WithDeadline is for
// a moment after its deadline. go-redis puts the deadline on the socket and
// reports it in that moment.
type lateDeadline struct {
	context.Context
	deadline time.Time
}

func (c lateDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// freeze stops srv until the test ends, as a stalled host would.
func freeze(t *testing.T, srv *redistest.Server) {
	t.Helper()
	srv.Freeze()
	t.Cleanup(srv.Thaw)
}

// requireRedisDecides checks that lim asks Redis for key (no cooldown
// applies): with a Rate of one call per hour, the first call is allowed and
// the second refused, which only Redis does.
func requireRedisDecides(t *testing.T, lim *redislimit.Limiter, key string) {
	t.Helper()
	wait, err := lim.Allow(t.Context(), key)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = lim.Allow(t.Context(), key)
	require.NoError(t, err)
	require.Positive(t, wait, "Redis refuses the second call of the hour: Redis decided, no policy")
}

var policies = []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed}

var hourly = resilience.Rate{Limit: 1, Period: time.Hour, Burst: 1}

// TestCallersDeadlineIsNotAnOutage is issue 32 item 1: a caller's deadline
// that passes while Redis is slow is the caller's error, whether or not its
// context counts as done yet; no policy applies, nothing is logged, and no
// cooldown starts.
func TestCallersDeadlineIsNotAnOutage(t *testing.T) {
	t.Parallel()
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			srv := redistest.NewServer(t)
			logger, logs := testenv.NewLogger()
			lim := redislimit.New(testenv.NewClient(t, srv.Addr), hourly, redislimit.WithPolicy(p),
				redislimit.WithLogger(logger), testenv.Patient) // the limiter's own timeout is far off

			// The deadline has passed, its timer not fired yet.
			_, err := lim.Allow(lateDeadline{t.Context(), time.Now().Add(-time.Millisecond)}, "late")
			require.Equal(t, context.DeadlineExceeded, err)
			requireRedisDecides(t, lim, "late")

			// A frozen Redis and callers holding short deadlines: had the
			// first started a cooldown, the second would get the policy at
			// once instead of its deadline.
			freeze(t, srv)
			for i := range 2 {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
				_, err = lim.Allow(ctx, "frozen")
				cancel()
				require.Equal(t, context.DeadlineExceeded, err, "call %d", i+1)
			}
			assert.Empty(t, logs.String(), "the caller's deadline is not logged as a Redis failure")
		})
	}
}

// TestFailureKeepsItsCause is issue 32 item 2: the cause of a Redis failure
// reaches the caller: a Redis error answered at once, and a refused
// connection, each matching errors.As for its type.
func TestFailureKeepsItsCause(t *testing.T) {
	t.Parallel()
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		srv := redistest.NewServer(t)
		require.NoError(t, testenv.NewClient(t, srv.Addr).ConfigSet(t.Context(), "requirepass", "the-right-one").Err())
		rdb := testenv.NewClient(t, srv.Addr, func(o *redis.Options) { o.Password = "wrong" })
		lim := redislimit.New(rdb, hourly, redislimit.WithPolicy(redislimit.FailClosed), testenv.Patient)
		_, err := lim.Allow(t.Context(), "k")
		require.ErrorIs(t, err, redislimit.ErrUnavailable)
		var rerr redis.Error
		require.ErrorAs(t, err, &rerr)
		assert.Contains(t, err.Error(), "WRONGPASS")
		assert.NotContains(t, err.Error(), "no answer")
	})
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := redistest.NewServer(t)
		addr := srv.Addr
		srv.Kill()
		lim := redislimit.New(testenv.NewClient(t, addr), hourly, redislimit.WithPolicy(redislimit.FailClosed), testenv.Patient)
		_, err := lim.Allow(t.Context(), "k")
		require.ErrorIs(t, err, redislimit.ErrUnavailable)
		var opErr *net.OpError
		require.ErrorAs(t, err, &opErr)
		assert.Contains(t, err.Error(), "connection refused")
		assert.NotErrorIs(t, err, context.DeadlineExceeded)

		// The cooldown keeps the cause.
		_, err = lim.Allow(t.Context(), "k")
		require.ErrorAs(t, err, &opErr)
		assert.Contains(t, err.Error(), "cooldown")
	})
	t.Run("own timeout", func(t *testing.T) {
		t.Parallel()
		srv := redistest.NewServer(t)
		lim := redislimit.New(testenv.NewClient(t, srv.Addr), hourly, redislimit.WithPolicy(redislimit.FailClosed),
			redislimit.WithTimeout(time.Millisecond))
		freeze(t, srv)
		_, err := lim.Allow(t.Context(), "k")
		require.ErrorIs(t, err, redislimit.ErrUnavailable)
		assert.Contains(t, err.Error(), "no answer within 1ms")
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the limiter's own deadline is not the caller's")
	})
}

// TestPrefixesNeverShareABudget is issue 32 item 4.
func TestPrefixesNeverShareABudget(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)
	a := redislimit.New(rdb, hourly, redislimit.WithPrefix("tenant-a:"), testenv.Patient)
	b := redislimit.New(rdb, hourly, redislimit.WithPrefix("tenant-a:eu:"), testenv.Patient)
	wait, err := a.Allow(t.Context(), "eu:workspace/bot")
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = b.Allow(t.Context(), "workspace/bot")
	require.NoError(t, err)
	require.Zero(t, wait, "another (prefix, key) pair is another budget")
}

// TestLimitReturnsCallersContextError is issue 32 item 5: through
// resilience.Limit, the caller's own deadline passing while Redis is slow
// comes back as the context's error, not a *resilience.LimiterError, and
// nothing is sent.
func TestLimitReturnsCallersContextError(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	fake := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(fake.Close)
	client, err := workspace.NewClient(fake.APIKey(), fake.ChatbotID(), chatbot.WithBaseURL(fake.URL))
	require.NoError(t, err)
	lim := redislimit.New(testenv.NewClient(t, srv.Addr), hourly, redislimit.WithPolicy(redislimit.FailClosed), testenv.Patient)
	bot := chatbot.Wrap(client, resilience.Limit(lim))

	_, err = bot.Chat(lateDeadline{t.Context(), time.Now().Add(-time.Millisecond)}, chatbot.Request{Message: "hi"})
	require.Equal(t, context.DeadlineExceeded, err)

	freeze(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = bot.Chat(ctx, chatbot.Request{Message: "hi"})
	require.Equal(t, context.DeadlineExceeded, err)
	var lerr *resilience.LimiterError
	assert.False(t, errors.As(err, &lerr))
	assert.Zero(t, fake.Count(), "nothing was sent")
}
