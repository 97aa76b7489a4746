package main

import (
	"flag"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
)

func TestFleetWithRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	var out strings.Builder
	start := time.Now()
	res, err := run(t.Context(), &out, config{Replicas: 4, Duration: 2 * time.Second, Redis: &redis.Options{Addr: srv.Addr}})
	elapsed := time.Since(start)
	require.NoError(t, err)
	t.Log("\n" + out.String())

	require.Len(t, res.Budget, 4)
	sent := 0
	// The provider's window counts arrivals, which a busy machine delays
	// after the limiter's decision, so a rare 429 says nothing about the
	// limiter: the bound on what was sent is the check.
	for i, c := range res.Budget {
		sent += c.Sent
		assert.Contains(t, out.String(), "replica "+string(rune('1'+i))+": sent")
	}
	assert.Equal(t, res.BudgetReceived, sent)
	assert.LessOrEqual(t, sent, rate.Burst+int(math.Ceil(elapsed.Seconds()*float64(rate.Limit))), "within the shared budget")
	assert.Contains(t, out.String(), "sharing one budget in Redis at "+srv.Addr)

	// Replica 1's 429 holds the three others: only its request reached
	// the provider.
	assert.Equal(t, 1, res.Received429)
	assert.Equal(t, 3, res.Held)
	assert.Contains(t, out.String(), "replica 4: held back for 1m0s by the wait replica 1 recorded in Redis, not sent")
	assert.Contains(t, out.String(), "the provider received 1 of 4 calls")

	assertOutage(t, res.Outage, 4)
}

func TestFleetWithoutRedis(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	res, err := run(t.Context(), &out, config{Replicas: 2, Duration: time.Second})
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Len(t, res.Budget, 2)
	assert.Contains(t, out.String(), "No Redis")
	assert.Equal(t, res.BudgetReceived, res.Budget[0].Sent+res.Budget[1].Sent)
	for _, c := range res.Budget {
		// Every refusal of its limiter came back as a client-side rate
		// limit error; the rest of those are the SDK's pre-check.
		assert.GreaterOrEqual(t, c.Held, 0)
	}
	assert.Contains(t, out.String(), "the fleet sent")

	// In-process limiters share no 429: each replica sends into it.
	assert.Equal(t, 2, res.Received429)
	assert.Zero(t, res.Held)

	assertOutage(t, res.Outage, 2)
}

// assertOutage checks phase 3 for n replicas: what each policy let reach
// the provider, as WithMetrics counted it.
func assertOutage(t *testing.T, got []outcome, n int) {
	t.Helper()
	calls, share := n*outageCalls, quota.Burst/n
	want := []outcome{
		{redislimit.FailOpen, calls, map[string]int{"allowed by fail-open": calls}},
		{redislimit.FailClosed, 0, map[string]int{"refused by fail-closed": calls}},
		{redislimit.FailLocal, n * share, map[string]int{"allowed by fail-local": n * share, "refused by fail-local": calls - n*share}},
	}
	assert.Equal(t, want, got)
}

func TestStartsItsOwnRedis(t *testing.T) {
	t.Parallel()
	redistest.NewServer(t) // skips the test where redis-server is not installed
	var out, stderr strings.Builder
	noEnv := func(string) string { return "" }
	require.NoError(t, start([]string{"-replicas", "2", "-for", "200ms"}, noEnv, &out, &stderr))
	t.Log("\n" + out.String())
	assert.Contains(t, out.String(), "sharing one budget in Redis at ")
	assert.Contains(t, out.String(), "redis.sock")
	assert.Contains(t, out.String(), "the provider received 1 of 2 calls")
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	t.Parallel()
	var out, stderr strings.Builder
	err := start([]string{"-h"}, func(string) string { panic("read the environment") }, &out, &stderr)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out.String(), "nothing ran")
	assert.Contains(t, stderr.String(), "usage: fleet")
	assert.Contains(t, stderr.String(), "-replicas")
}

func TestFleetRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := run(t.Context(), &strings.Builder{}, config{})
	require.Error(t, err)
}
