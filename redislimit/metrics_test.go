package redislimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
)

// decisions records what a WithMetrics function is told.
type decisions struct {
	mu  sync.Mutex
	got []string
}

func (d *decisions) record(_ context.Context, decision, by string, wait time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := "0"
	if wait > 0 {
		w = "wait"
	}
	d.got = append(d.got, decision+" by "+by+" "+w)
}

func (d *decisions) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.got
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rate := resilience.Rate{Limit: 4, Period: time.Hour, Burst: 4}

	var live decisions
	lim := redislimit.New(testenv.NewClient(t, srv.Addr), rate, testenv.Patient, redislimit.WithMetrics(live.record))
	for range 5 {
		_, err := lim.Allow(t.Context(), "k")
		require.NoError(t, err)
	}
	_, err := lim.AllowN(t.Context(), "k", 0) // nothing to decide
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = lim.Allow(ctx, "k") // the caller's
	require.Equal(t, context.Canceled, err)
	assert.Equal(t, []string{
		"allowed by redis 0", "allowed by redis 0", "allowed by redis 0", "allowed by redis 0",
		"refused by redis wait",
	}, live.all())

	srv.Kill()
	for _, tt := range []struct {
		policy redislimit.Policy
		want   []string
	}{
		{redislimit.FailOpen, []string{"allowed by fail-open 0", "allowed by fail-open 0"}},
		{redislimit.FailClosed, []string{"refused by fail-closed 0", "refused by fail-closed 0"}},
		// A share of 4 over 2 replicas: 2 at once, then a wait.
		{redislimit.FailLocal, []string{"allowed by fail-local 0", "allowed by fail-local 0", "refused by fail-local wait"}},
	} {
		var d decisions
		lim := redislimit.New(testenv.NewClient(t, srv.Addr), rate, redislimit.WithPolicy(tt.policy),
			redislimit.WithReplicas(2), redislimit.WithMetrics(d.record))
		for range tt.want {
			_, _ = lim.Allow(t.Context(), "k")
		}
		assert.Equal(t, tt.want, d.all(), tt.policy.String())
	}
}
