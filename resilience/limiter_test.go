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
		assert.Equal(t, time.Second, wait, "until the first call is a second old")
	}
	wait, err := l.Allow(ctx, "other")
	require.NoError(t, err)
	assert.Zero(t, wait, "each key has its own budget")

	clk.Advance(500 * time.Millisecond)
	wait, err = l.Allow(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, wait, "both calls are still within the last second")
	clk.Advance(500 * time.Millisecond)
	for i := range 2 {
		wait, err = l.Allow(ctx, "k")
		require.NoError(t, err)
		assert.Zero(t, wait, "call %d: the first two left the window", i+1)
	}
	wait, err = l.Allow(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, time.Second, wait)
}

// TestLocalLimiterBurstBelowLimitSpacesCalls checks the token bucket a Burst
// below Limit adds: one call at once, then one every Period/Limit.
func TestLocalLimiterBurstBelowLimitSpacesCalls(t *testing.T) {
	t.Parallel()
	clk := resilience.NewFakeClock(time.Unix(1_700_000_000, 0))
	l := resilience.NewLocalLimiter(resilience.Rate{Limit: 2, Period: time.Second, Burst: 1})
	l.SetClock(clk)
	for i := range 4 {
		wait, err := l.Allow(t.Context(), "k")
		require.NoError(t, err)
		require.Zero(t, wait, "call %d", i+1)
		wait, err = l.Allow(t.Context(), "k")
		require.NoError(t, err)
		require.Equal(t, 500*time.Millisecond, wait, "after call %d", i+1)
		clk.Advance(wait)
	}
}

func TestRateZeroValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rate    resilience.Rate
		allowed int           // calls allowed at once
		wait    time.Duration // the wait of the next call: until the first leaves the window, or the bucket refills
	}{
		{"zero Limit is unlimited", resilience.Rate{}, 1000, 0},
		{"zero Period is a second", resilience.Rate{Limit: 4, Burst: 1}, 1, 250 * time.Millisecond},
		{"zero Burst is Limit", resilience.Rate{Limit: 3, Period: time.Minute}, 3, time.Minute},
		{"PerMinute", resilience.PerMinute(60), 60, time.Minute},
		{"PerHour", resilience.PerHour(1000), 1000, time.Hour},
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

// TestLocalLimiterNeverExceedsQuotaInAnyWindow configures PerHour(1000), a
// provider's published quota, and drives it for several hours on the fake
// clock with callers that take every call the limiter allows: no window of
// one hour, wherever it starts, may hold more than 1,000 allowed calls. The
// worst case of a token bucket is first: a full burst in the last second of
// an idle hour, then the refill of the next hour. The limiter must also
// give the whole quota: a greedy caller gets 1,000 calls in every hour.
func TestLocalLimiterNeverExceedsQuotaInAnyWindow(t *testing.T) {
	t.Parallel()
	const quota, window = 1000, time.Hour
	start := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name  string
		steps []time.Duration // the caller advances the clock by these in turn, then asks once
	}{
		{name: "burst at the end of an idle hour, then the refill", steps: nil},
		{name: "steady 1.8 s apart", steps: []time.Duration{1800 * time.Millisecond}},
		{name: "bursts and pauses", steps: []time.Duration{0, 0, 0, 7 * time.Second, 0, 20 * time.Minute, 1, 3599 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := resilience.NewFakeClock(start)
			l := resilience.NewLocalLimiter(resilience.PerHour(quota))
			l.SetClock(clk)
			clk.Advance(window - time.Second) // an idle hour, all but its last second
			var allowed []time.Time
			for i := 0; clk.Now().Before(start.Add(5 * window)); i++ {
				wait, err := l.Allow(t.Context(), "workspace/bot")
				require.NoError(t, err)
				switch {
				case wait == 0:
					allowed = append(allowed, clk.Now())
				case tt.steps == nil:
					clk.Advance(wait) // greedy: ask again as soon as told
				}
				if tt.steps != nil {
					clk.Advance(tt.steps[i%len(tt.steps)])
				}
			}
			require.NotEmpty(t, allowed)
			// The fullest window starts at an allowed call.
			most, j := 0, 0
			for i, at := range allowed {
				for j < len(allowed) && allowed[j].Sub(at) < window {
					j++
				}
				most = max(most, j-i)
			}
			assert.LessOrEqual(t, most, quota, "calls allowed within one hour")
			if tt.steps == nil {
				first := allowed[0]
				assert.Equal(t, start.Add(window-time.Second), first, "the burst came at the end of the idle hour")
				for h := 1; h <= 4; h++ {
					n := 0
					for _, at := range allowed {
						if at.Before(first.Add(time.Duration(h) * window)) {
							n++
						}
					}
					assert.Equal(t, h*quota, n, "a greedy caller gets the whole quota of every hour (%d hours)", h)
				}
			}
		})
	}
}
