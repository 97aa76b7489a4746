package resilience_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/resilience"
)

func TestLocalLimiterRefusesWithoutSpending(t *testing.T) {
	t.Parallel()
	clk := resilience.NewFakeClock(time.Unix(1_700_000_000, 0))
	l := resilience.NewLocalLimiter(resilience.PerSecond(2))
	l.SetClock(clk)
	ctx := t.Context()

	for i := range 2 {
		wait, err := l.Allow(ctx, "k")
		require.NoError(t, err)
		assert.Zero(t, wait, "call %d is within the burst", i+1)
	}
	for range 3 { // refused calls take nothing: the wait does not grow
		wait, err := l.Allow(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, 500*time.Millisecond, wait)
	}
	wait, err := l.Allow(ctx, "other")
	require.NoError(t, err)
	assert.Zero(t, wait, "each key has its own budget")

	clk.Advance(500 * time.Millisecond)
	wait, err = l.Allow(ctx, "k")
	require.NoError(t, err)
	assert.Zero(t, wait, "one token accrued in half a second")
	wait, err = l.Allow(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, wait, "and only one")
}

func TestRateZeroValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rate    resilience.Rate
		allowed int           // calls allowed at once
		wait    time.Duration // the wait of the next call
	}{
		{"zero Limit is unlimited", resilience.Rate{}, 1000, 0},
		{"zero Period is a second", resilience.Rate{Limit: 4, Burst: 1}, 1, 250 * time.Millisecond},
		{"zero Burst is Limit", resilience.Rate{Limit: 3, Period: time.Minute}, 3, 20 * time.Second},
		{"PerMinute", resilience.PerMinute(60), 60, time.Second},
		{"PerHour", resilience.PerHour(1000), 1000, 3600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := resilience.NewLocalLimiter(tt.rate)
			l.SetClock(resilience.NewFakeClock(time.Unix(1_700_000_000, 0)))
			for i := range tt.allowed {
				wait, err := l.Allow(t.Context(), "k")
				require.NoError(t, err)
				require.Zero(t, wait, "call %d", i+1)
			}
			wait, err := l.Allow(t.Context(), "k")
			require.NoError(t, err)
			assert.Equal(t, tt.wait, wait)
		})
	}
}

func TestRateWithDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in, want resilience.Rate
	}{
		{"complete", resilience.Rate{Limit: 5, Period: time.Minute, Burst: 2}, resilience.Rate{Limit: 5, Period: time.Minute, Burst: 2}},
		{"no period: one second", resilience.Rate{Limit: 5, Burst: 2}, resilience.Rate{Limit: 5, Period: time.Second, Burst: 2}},
		{"no burst: the limit", resilience.Rate{Limit: 5, Period: time.Minute}, resilience.Rate{Limit: 5, Period: time.Minute, Burst: 5}},
		{"negatives are zero values", resilience.Rate{Limit: 5, Period: -1, Burst: -1}, resilience.Rate{Limit: 5, Period: time.Second, Burst: 5}},
		{"no limit: as is", resilience.Rate{Limit: 0, Period: -1}, resilience.Rate{Limit: 0, Period: -1}},
	} {
		assert.Equal(t, tc.want, tc.in.WithDefaults(), tc.name)
	}
}
