package resilience_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// newWorkspace starts a workspace fake and returns it with a client of it
// that does not retry, so that the fake's count is the number of calls sent.
func newWorkspace(t *testing.T) (*workspacetest.Server, *workspace.Client) {
	t.Helper()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	c, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return srv, c
}

// recorder is a Limiter that records the keys it is asked about and
// delegates to another Limiter, or fails with err.
type recorder struct {
	next resilience.Limiter
	err  error

	mu   sync.Mutex
	keys []string
}

func (r *recorder) Allow(ctx context.Context, key string) (time.Duration, error) {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	return r.next.Allow(ctx, key)
}

func (r *recorder) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

// limitedBot wraps a workspace client in Limit over a LocalLimiter of rate,
// both on one fake clock.
func limitedBot(t *testing.T, bot chatbot.Chatbot, rate resilience.Rate, opts ...resilience.LimitOption) (chatbot.Chatbot, *resilience.FakeClock, *recorder) {
	t.Helper()
	clk := resilience.NewFakeClock(time.Now())
	local := resilience.NewLocalLimiter(rate)
	local.SetClock(clk)
	rec := &recorder{next: local}
	return chatbot.Wrap(bot, resilience.Limit(rec, append([]resilience.LimitOption{resilience.WithClock(clk)}, opts...)...)), clk, rec
}

func TestLimitPassesConformance(t *testing.T) {
	t.Parallel()
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv, c := newWorkspace(t)
		bot, _, _ := limitedBot(t, c, resilience.PerSecond(1000))
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}

// TestLimitWaitsOrRefuses drives the waiting rule by the fake clock: the
// second call of a one-per-minute budget must wait a minute.
func TestLimitWaitsOrRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []resilience.LimitOption
		timeout  time.Duration // 0: no deadline
		wantSent int           // requests the fake receives
		refused  bool
		sleeps   []time.Duration
	}{
		{name: "wait beyond the default max wait", wantSent: 1, refused: true},
		{name: "wait within a max wait", opts: []resilience.LimitOption{resilience.WithMaxWait(time.Minute)}, wantSent: 2, sleeps: []time.Duration{time.Minute}},
		{name: "wait beyond a max wait", opts: []resilience.LimitOption{resilience.WithMaxWait(time.Minute - 1)}, wantSent: 1, refused: true},
		{name: "max wait zero", opts: []resilience.LimitOption{resilience.WithMaxWait(0)}, wantSent: 1, refused: true},
		{name: "wait past the deadline", opts: []resilience.LimitOption{resilience.WithMaxWait(time.Hour)}, timeout: 30 * time.Second, wantSent: 1, refused: true},
		{name: "wait before the deadline", opts: []resilience.LimitOption{resilience.WithMaxWait(time.Hour)}, timeout: time.Hour, wantSent: 2, sleeps: []time.Duration{time.Minute}},
	}
	for _, tt := range tests {
		for _, mode := range []string{"Chat", "Stream"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv, c := newWorkspace(t)
				bot, clk, _ := limitedBot(t, c, resilience.PerMinute(1), tt.opts...)
				ctx := t.Context()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				call := func() error {
					if mode == "Chat" {
						_, err := bot.Chat(ctx, chatbot.Request{Message: "hello"})
						return err
					}
					_, err := chatbot.Collect(bot.Stream(ctx, chatbot.Request{Message: "hello"}))
					return err
				}
				require.NoError(t, call())
				err := call()
				assert.Equal(t, tt.wantSent, srv.Count())
				assert.Equal(t, tt.sleeps, clk.Sleeps())
				if !tt.refused {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, chatbot.ErrRateLimited)
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, resilience.CodeClientRateLimited, apiErr.ProviderCode)
				assert.Equal(t, "workspace", apiErr.Provider)
				assert.Equal(t, time.Minute, apiErr.RetryAfter)
				assert.Zero(t, apiErr.StatusCode)
			})
		}
	}
}

// TestLimitAsksAgainAfterWaiting checks that a wait is followed by a new
// question, and that the max wait bounds the total of the waits.
func TestLimitAsksAgainAfterWaiting(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	clk := resilience.NewFakeClock(time.Now())
	// A limiter that answers 1s three times, then 0.
	waits := []time.Duration{time.Second, time.Second, time.Second, 0}
	var mu sync.Mutex
	l := limiterFunc(func(context.Context, string) (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		w := waits[0]
		waits = waits[1:]
		return w, nil
	})
	bot := chatbot.Wrap(c, resilience.Limit(l, resilience.WithClock(clk), resilience.WithMaxWait(2500*time.Millisecond)))
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited, "the third wait would pass the max wait")
	assert.Equal(t, []time.Duration{time.Second, time.Second}, clk.Sleeps())
	assert.Equal(t, 0, srv.Count())

	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err, "the budget is per call")
	assert.Equal(t, 1, srv.Count())
}

type limiterFunc func(ctx context.Context, key string) (time.Duration, error)

func (f limiterFunc) Allow(ctx context.Context, key string) (time.Duration, error) {
	return f(ctx, key)
}

func TestLimitCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	ctx, cancel := context.WithCancel(t.Context())
	l := limiterFunc(func(context.Context, string) (time.Duration, error) {
		cancel() // the caller gives up while the call is throttled
		return time.Second, nil
	})
	bot := chatbot.Wrap(c, resilience.Limit(l, resilience.WithClock(resilience.NewFakeClock(time.Now()))))
	_, err := bot.Chat(ctx, chatbot.Request{Message: "hello"})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Equal(t, 0, srv.Count())
}

func TestLimitLimiterFailure(t *testing.T) {
	t.Parallel()
	errStore := errors.New("store unreachable")
	srv, c := newWorkspace(t)
	bot := chatbot.Wrap(c, resilience.Limit(&recorder{err: errStore}))

	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	var lerr *resilience.LimiterError
	require.ErrorAs(t, err, &lerr)
	require.ErrorIs(t, err, errStore)
	assert.Equal(t, "workspace/"+srv.ChatbotID(), lerr.Key)
	assert.Equal(t, "resilience: limiter: store unreachable", err.Error())

	_, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hello"}))
	require.ErrorAs(t, err, &lerr)
	assert.Equal(t, 0, srv.Count(), "nothing is sent when the limiter fails")
}

func TestLimitKeys(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	bot, _, rec := limitedBot(t, c, resilience.PerSecond(100))
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	assert.Equal(t, []string{"workspace/" + srv.ChatbotID()}, rec.Keys(), "the default key is provider/chatbot id")
	assert.Equal(t, chatbot.InfoOf(c), chatbot.InfoOf(bot), "Limit forwards the Info of the chatbot it wraps")

	perUser, _, rec := limitedBot(t, c, resilience.Rate{Limit: 1, Period: time.Hour, Burst: 1},
		resilience.WithMaxWait(0),
		resilience.WithKeyFunc(func(_ context.Context, req chatbot.Request) string { return "tenant/" + req.User.ID }))
	_, err = perUser.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: "a"}})
	require.NoError(t, err)
	_, err = perUser.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: "b"}})
	require.NoError(t, err, "each tenant has its own budget")
	_, err = perUser.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: "a"}})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Equal(t, []string{"tenant/a", "tenant/b", "tenant/a"}, rec.Keys())
	assert.Equal(t, 3, srv.Count())
}

func TestLimitStreamIsLazyAndSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	bot, _, rec := limitedBot(t, c, resilience.PerSecond(100))
	chunks := bot.Stream(t.Context(), chatbot.Request{Message: "hello"})
	assert.Empty(t, rec.Keys(), "Stream asks nothing before the first iteration")
	assert.Equal(t, 0, srv.Count())

	_, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	var pairs int
	var last error
	for _, err := range chunks {
		pairs++
		last = err
	}
	assert.Equal(t, 1, pairs)
	require.ErrorIs(t, last, chatbot.ErrStreamUsed)
	assert.Len(t, rec.Keys(), 1, "a second range spends nothing")
	assert.Equal(t, 1, srv.Count())
}

func TestLimitNilLimiterPanics(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "resilience: Limit with a nil Limiter", func() { resilience.Limit(nil) })
}

// hidesInfo is a middleware that does not forward the Info of the chatbot
// it wraps.
func hidesInfo(next chatbot.Chatbot) chatbot.Chatbot { return struct{ chatbot.Chatbot }{next} }

// TestLimitRefusesEmptyInfo checks that Limit does not merge the budgets of
// chatbots it cannot tell apart: over a chatbot whose Info a middleware hid,
// it panics when wrapping (before anything is sent), and with a key function
// it wraps and counts under that key.
func TestLimitRefusesEmptyInfo(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	rec := &recorder{next: resilience.NewLocalLimiter(resilience.PerHour(10))}
	assert.PanicsWithValue(t, "resilience: Limit over a chatbot with an empty chatbot.Info (a struct { chatbot.Chatbot }): "+
		"its budget would be shared with every other such chatbot; use WithKeyFunc, or forward Info",
		func() { chatbot.Wrap(c, resilience.Limit(rec), hidesInfo) })

	bot := chatbot.Wrap(c, resilience.Limit(rec, resilience.WithKeyFunc(func(context.Context, chatbot.Request) string { return "tenant-a" })), hidesInfo)
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	assert.Equal(t, []string{"tenant-a"}, rec.Keys())
	assert.Equal(t, 1, srv.Count())

	// Below the middleware that hides it, Limit sees the Info.
	bot = chatbot.Wrap(c, hidesInfo, resilience.Limit(rec))
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	assert.Equal(t, []string{"tenant-a", "workspace/" + srv.ChatbotID()}, rec.Keys())
}

// TestLimitRace200Goroutines shares one limited chatbot among 200
// goroutines with a budget of 100: exactly 100 calls reach the fake, and
// the other 100 are refused by the client's own limit without being sent.
func TestLimitRace200Goroutines(t *testing.T) {
	t.Parallel()
	const n, budget = 200, 100
	srv, c := newWorkspace(t)
	bot, _, _ := limitedBot(t, c, resilience.Rate{Limit: budget, Period: 24 * time.Hour}, resilience.WithMaxWait(0))
	var wg sync.WaitGroup
	refused := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
			} else {
				_, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hello"}))
			}
			if err != nil {
				refused <- err
			}
		}()
	}
	wg.Wait()
	close(refused)
	count := 0
	for err := range refused {
		count++
		var apiErr *chatbot.Error
		if assert.ErrorAs(t, err, &apiErr) {
			assert.Equal(t, resilience.CodeClientRateLimited, apiErr.ProviderCode)
		}
	}
	assert.Equal(t, n-budget, count)
	assert.Equal(t, budget, srv.Count())
}
