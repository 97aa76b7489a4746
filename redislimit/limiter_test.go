package redislimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
)

func TestServerHasPersistenceOff(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)
	cfg, err := rdb.ConfigGet(t.Context(), "*").Result()
	require.NoError(t, err)
	assert.Equal(t, "", cfg["save"])
	assert.Equal(t, "no", cfg["appendonly"])
	assert.Equal(t, "127.0.0.1", cfg["bind"])
}

func TestAllow(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)

	tests := []struct {
		name   string
		rate   resilience.Rate
		admits int // calls admitted at once
	}{
		{"burst 1", resilience.Rate{Limit: 1, Period: time.Hour, Burst: 1}, 1},
		{"burst 0 means Limit", resilience.Rate{Limit: 2, Period: time.Hour}, 2},
		{"period 0 means a second", resilience.Rate{Limit: 1, Burst: 1}, 1},
		{"burst 3", resilience.Rate{Limit: 2, Period: time.Hour, Burst: 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := redislimit.New(rdb, tt.rate, testenv.Patient, redislimit.WithPrefix("test:"+t.Name()+":"))
			for i := range tt.admits {
				wait, err := lim.Allow(t.Context(), "k")
				require.NoError(t, err)
				require.Zero(t, wait, "call %d is within the burst", i+1)
			}
			wait, err := lim.Allow(t.Context(), "k")
			require.NoError(t, err)
			period := tt.rate.Period
			if period == 0 {
				period = time.Second
			}
			interval := period / time.Duration(tt.rate.Limit)
			require.Positive(t, wait, "the burst is spent")
			require.LessOrEqual(t, wait, interval, "one unit frees up within one emission interval")

			// Another key has its own budget.
			wait, err = lim.Allow(t.Context(), "other")
			require.NoError(t, err)
			require.Zero(t, wait)
		})
	}
}

func TestAllowSharesBudgetAcrossLimiters(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rate := resilience.Rate{Limit: 1, Period: time.Hour, Burst: 2}
	// Two replicas: two clients, two limiters, one Redis.
	a := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient)
	b := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient)
	other := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient, redislimit.WithPrefix("other-service:"))

	wait, err := a.Allow(t.Context(), "workspace/bot")
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = b.Allow(t.Context(), "workspace/bot")
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = a.Allow(t.Context(), "workspace/bot")
	require.NoError(t, err)
	require.Positive(t, wait, "a and b spent the burst of 2 together")
	wait, err = other.Allow(t.Context(), "workspace/bot")
	require.NoError(t, err)
	require.Zero(t, wait, "another prefix is another budget")

	keys, err := testenv.NewClient(t, srv.Addr).Keys(t.Context(), "*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"rate:8:chatbot:workspace/bot", "rate:14:other-service:workspace/bot"}, keys)
}

func TestAllowUnlimitedAndNilClient(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)
	for _, p := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed} {
		t.Run(p.String(), func(t *testing.T) {
			unlimited := redislimit.New(rdb, resilience.Rate{Limit: 0, Period: time.Hour, Burst: 1}, redislimit.WithPolicy(p))
			for range 3 {
				wait, err := unlimited.Allow(t.Context(), "k")
				require.NoError(t, err)
				require.Zero(t, wait)
			}
			nilClient := redislimit.New(nil, resilience.Rate{Limit: 1}, redislimit.WithPolicy(p))
			_, err := nilClient.Allow(t.Context(), "k")
			require.ErrorContains(t, err, "nil Redis client")
			require.NotErrorIs(t, err, redislimit.ErrUnavailable)
		})
	}
	n, err := rdb.DBSize(t.Context()).Result()
	require.NoError(t, err)
	require.Zero(t, n, "a Limit of 0 sends nothing to Redis")
}

func TestAllowReturnsCallersContextError(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)
	for _, p := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed} {
		t.Run(p.String(), func(t *testing.T) {
			lim := redislimit.New(rdb, resilience.Rate{Limit: 1, Period: time.Hour}, redislimit.WithPolicy(p))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := lim.Allow(ctx, "k")
			require.Equal(t, context.Canceled, err, "returned as is, not wrapped")

			ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			defer cancel()
			_, err = lim.Allow(ctx, "k")
			require.Equal(t, context.DeadlineExceeded, err)
		})
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	addr := srv.Addr
	srv.Kill() // a port where nothing listens any more
	const password = "s3cret-redis-password"
	rdb := testenv.NewClient(t, addr, func(o *redis.Options) { o.Password = password; o.Username = "svc-user" })
	rate := resilience.Rate{Limit: 1, Period: time.Hour}

	t.Run("fail open", func(t *testing.T) {
		logger, logs := testenv.NewLogger()
		lim := redislimit.New(rdb, rate, redislimit.WithLogger(logger))
		for range 5 {
			wait, err := lim.Allow(t.Context(), "k")
			require.NoError(t, err)
			require.Zero(t, wait, "the call goes")
		}
		lines := logs.Lines()
		require.Len(t, lines, 1, "one line, then quiet for %v", redislimit.DefaultLogInterval)
		assert.Contains(t, lines[0], "redis unavailable")
		assert.NotContains(t, logs.String(), password)
		assert.NotContains(t, logs.String(), "svc-user")
	})
	t.Run("fail open without a logger", func(t *testing.T) {
		lim := redislimit.New(rdb, rate)
		wait, err := lim.Allow(t.Context(), "k")
		require.NoError(t, err)
		require.Zero(t, wait)
	})
	t.Run("fail closed", func(t *testing.T) {
		logger, logs := testenv.NewLogger()
		lim := redislimit.New(rdb, rate, redislimit.WithPolicy(redislimit.FailClosed), redislimit.WithLogger(logger))
		_, err := lim.Allow(t.Context(), "k")
		require.ErrorIs(t, err, redislimit.ErrUnavailable)
		var ue *redislimit.UnavailableError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "k", ue.Key)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.NotContains(t, err.Error(), password)
		assert.NotContains(t, err.Error(), "svc-user")
		assert.Empty(t, logs.String(), "fail-closed returns the error and logs nothing")
	})
}

func TestWrongPasswordIsNotLeaked(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	require.NoError(t, testenv.NewClient(t, srv.Addr).ConfigSet(t.Context(), "requirepass", "the-right-one").Err())
	const password = "s3cret-wrong-password"
	rdb := testenv.NewClient(t, srv.Addr, func(o *redis.Options) { o.Password = password })
	logger, logs := testenv.NewLogger()
	for _, p := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed} {
		lim := redislimit.New(rdb, resilience.Rate{Limit: 1, Period: time.Hour}, redislimit.WithPolicy(p), redislimit.WithLogger(logger))
		_, err := lim.Allow(t.Context(), "k")
		if p == redislimit.FailClosed {
			require.ErrorIs(t, err, redislimit.ErrUnavailable)
			assert.NotContains(t, err.Error(), password)
			assert.NotContains(t, err.Error(), "the-right-one")
		} else {
			require.NoError(t, err)
		}
	}
	require.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), password)
	assert.NotContains(t, logs.String(), "the-right-one")
}

func TestWarnsWhenClientIgnoresContextDeadlines(t *testing.T) {
	t.Parallel()
	rate := resilience.Rate{Limit: 1, Period: time.Second}
	for _, tt := range []struct {
		name   string
		client redis.UniversalClient
		warns  bool
	}{
		{"client off", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), true},
		{"client on", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), false},
		{"cluster off", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), true},
		{"ring on", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() { _ = tt.client.Close() })
			logger, logs := testenv.NewLogger()
			redislimit.New(tt.client, rate, redislimit.WithLogger(logger))
			if tt.warns {
				assert.Contains(t, logs.String(), "ContextTimeoutEnabled is false")
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
}

func TestPolicyString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "fail-open", redislimit.FailOpen.String())
	assert.Equal(t, "fail-closed", redislimit.FailClosed.String())
	assert.Equal(t, "fail-local", redislimit.FailLocal.String())
	assert.Equal(t, "Policy(7)", redislimit.Policy(7).String())
	assert.True(t, errors.Is(&redislimit.UnavailableError{Key: "k", Err: errors.New("x")}, redislimit.ErrUnavailable))
	assert.EqualError(t, &redislimit.UnavailableError{Key: "tenant-42", Err: errors.New("x")}, "redislimit: redis unavailable: x")
	assert.EqualError(t, &redislimit.UnavailableError{}, "redislimit: redis unavailable")
}

func TestZeroLimiterAllows(t *testing.T) {
	t.Parallel()
	var lim redislimit.Limiter
	wait, err := lim.Allow(t.Context(), "k")
	require.NoError(t, err)
	require.Zero(t, wait)
}

// TestFailOpenLogIsRateLimited checks the fail-open log: one line, then
// quiet for DefaultLogInterval, then one line that counts the failures it
// stayed quiet about.
func TestFailOpenLogIsRateLimited(t *testing.T) {
	srv := redistest.NewServer(t)
	addr := srv.Addr
	srv.Kill()
	logger, logs := testenv.NewLogger()
	clock := clocktest.New(time.Now())
	lim := redislimit.New(testenv.NewClient(t, addr), resilience.Rate{Limit: 1}, redislimit.WithLogger(logger), testenv.WithClock(clock))
	for range 7 {
		wait, err := lim.Allow(t.Context(), "k")
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	require.Len(t, logs.Lines(), 1)
	assert.Contains(t, logs.Lines()[0], "suppressed=0")

	clock.Advance(redislimit.DefaultLogInterval)
	wait, err := lim.Allow(t.Context(), "k")
	require.NoError(t, err)
	require.Zero(t, wait)
	lines := logs.Lines()
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], "suppressed=6")
	assert.Contains(t, lines[1], "level=WARN")
}
