package redislimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
)

// TestThrottle checks that a wait recorded by one Limiter holds another on
// the same budget, is never shortened, and leaves the budget to refill from
// empty; it also checks redis_rate's format of the budget, which Throttle
// writes.
func TestThrottle(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rate := resilience.Rate{Limit: 10, Period: time.Second, Burst: 5}
	a := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient)
	b := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient)

	wait, err := a.Allow(t.Context(), "k")
	require.NoError(t, err)
	require.Zero(t, wait)
	a.Throttle(t.Context(), "k", time.Hour)
	wait, err = b.Allow(t.Context(), "k")
	require.NoError(t, err)
	assert.Greater(t, wait, time.Hour-time.Minute, "b waits for the hour a recorded")
	assert.LessOrEqual(t, wait, time.Hour)

	b.Throttle(t.Context(), "k", time.Second)
	wait2, err := a.Allow(t.Context(), "k")
	require.NoError(t, err)
	assert.Greater(t, wait2, time.Hour-time.Minute, "a shorter wait does not shorten the hour")

	ttl, err := testenv.NewClient(t, srv.Addr).TTL(t.Context(), "rate:8:chatbot:k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Hour-time.Minute, "the budget expires when it is whole again, not before")

	// Another key, and an unlimited rate, are not held.
	wait, err = b.Allow(t.Context(), "other")
	require.NoError(t, err)
	require.Zero(t, wait)
	unlimited := redislimit.New(testenv.NewClient(t, srv.Addr), resilience.Rate{}, testenv.Patient)
	unlimited.Throttle(t.Context(), "k", time.Hour)
	wait, err = unlimited.Allow(t.Context(), "k")
	require.NoError(t, err)
	require.Zero(t, wait)
}

// TestThrottleRefillsFromEmpty checks the end of a recorded wait: one call
// goes, then the budget refills at its rate (no burst right away).
func TestThrottleRefillsFromEmpty(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rate := resilience.Rate{Limit: 1, Period: time.Hour, Burst: 3}
	lim := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient)
	lim.Throttle(t.Context(), "k", time.Millisecond)
	var wait time.Duration
	var err error
	for range 1000 { // the millisecond passes by Redis's clock
		if wait, err = lim.Allow(t.Context(), "k"); err != nil || wait == 0 {
			break
		}
	}
	require.NoError(t, err)
	require.Zero(t, wait, "the recorded millisecond passed")
	wait, err = lim.Allow(t.Context(), "k")
	require.NoError(t, err)
	assert.Greater(t, wait, time.Hour-time.Minute, "after the wait, one unit: the burst refills at the rate")
}
