package redislimit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot/resilience"
)

// Limiter is a [resilience.Limiter] that keeps one GCRA budget per key in
// Redis, shared by every Limiter (in any process) that uses the same Redis,
// prefix and key. Create it with [New]; a zero Limiter asks nothing and
// allows every call. It is safe for concurrent use and holds no resource of
// its own: closing the Redis client is the application's business.
type Limiter struct {
	rl    *redis_rate.Limiter // nil when the rate is unlimited
	limit redis_rate.Limit
	bad   error // non-nil when New had no client
	cfg   config

	mu         sync.Mutex
	downUntil  time.Time // Redis is not asked before it (see WithCooldown)
	downCause  error     // the failure that started the cooldown
	nextLog    time.Time
	suppressed int
}

var _ resilience.Limiter = (*Limiter)(nil)

// New returns a Limiter over the application's client that allows r for
// every key, with the zero values of [resilience.Rate]: a Limit of 0 or less
// allows every call without asking Redis, a Period of 0 or less means one
// second, a Burst of 0 or less means Limit. GCRA lets at most Limit+Burst-1
// calls into any window of one Period, so a Burst of 1 never exceeds a
// provider's sliding window of Limit per Period.
//
// client may be a *redis.Client, a *redis.ClusterClient, a failover client
// or a ring; build it with ContextTimeoutEnabled: true so that [WithTimeout]
// holds (New logs a warning through [WithLogger] when a client it can
// inspect has it off). A nil client makes every Allow fail with an error
// saying so, whatever the [Policy].
func New(client redis.UniversalClient, r resilience.Rate, opts ...Option) *Limiter {
	cfg := config{Prefix: DefaultPrefix, Timeout: DefaultTimeout, LogInterval: DefaultLogInterval, Cooldown: DefaultCooldown, Now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	l := &Limiter{cfg: cfg}
	if client == nil {
		l.bad = errors.New("redislimit: nil Redis client")
		return l
	}
	if r.Limit > 0 {
		r = r.WithDefaults()
		l.rl = redis_rate.NewLimiter(client)
		l.limit = redis_rate.Limit{Rate: r.Limit, Period: r.Period, Burst: r.Burst}
	}
	if cfg.Logger != nil && !contextTimeouts(client) {
		cfg.Logger.Warn("redislimit: the Redis client ignores context deadlines (ContextTimeoutEnabled is false): "+
			"a slow Redis can hold Allow up to the client's ReadTimeout instead of the limiter's timeout",
			"timeout", cfg.Timeout)
	}
	return l
}

// contextTimeouts reports whether client honours context deadlines on its
// sockets, as far as it can be seen (true when it cannot).
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Allow takes one unit of key's budget. It returns 0 and no error when the
// call may go now, and how long until a unit is free when the budget is
// spent (taking nothing).
//
// Allow waits for Redis at most the limiter's timeout (see [WithTimeout]).
// When ctx ends first, Allow returns ctx.Err() as is. When Redis cannot
// decide, the [Policy] applies: [FailOpen] returns 0 and no error (and logs),
// [FailClosed] returns an *[UnavailableError] matching [ErrUnavailable].
// After such a failure, Allow applies the policy at once, without asking
// Redis, for the cooldown (see [WithCooldown]).
func (l *Limiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	if l.bad != nil {
		return 0, l.bad
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if l.rl == nil {
		return 0, nil
	}
	if l.cfg.Cooldown > 0 {
		l.mu.Lock()
		down, cause := l.cfg.Now().Before(l.downUntil), l.downCause
		l.mu.Unlock()
		if down {
			return l.fail(key, cooldownError{cause})
		}
	}
	cctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	res, err := l.rl.Allow(cctx, l.cfg.Prefix+key, l.limit)
	cancel()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, cerr
		}
		if cctx.Err() != nil {
			// The limiter's own deadline: go-redis reports it as
			// context.DeadlineExceeded or as a socket i/o timeout.
			err = timeoutError{l.cfg.Timeout}
		}
		if l.cfg.Cooldown > 0 {
			l.mu.Lock()
			l.downUntil, l.downCause = l.cfg.Now().Add(l.cfg.Cooldown), err
			l.mu.Unlock()
		}
		return l.fail(key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Nanosecond), nil
}

// fail applies the policy to a Redis failure.
func (l *Limiter) fail(key string, cause error) (time.Duration, error) {
	if Policy(l.cfg.Policy) == FailClosed {
		return 0, &UnavailableError{Key: key, Err: cause}
	}
	if l.cfg.Logger == nil {
		return 0, nil
	}
	now := l.cfg.Now()
	l.mu.Lock()
	if now.Before(l.nextLog) {
		l.suppressed++
		l.mu.Unlock()
		return 0, nil
	}
	suppressed := l.suppressed
	l.suppressed, l.nextLog = 0, now.Add(l.cfg.LogInterval)
	l.mu.Unlock()
	l.cfg.Logger.Warn("redislimit: redis unavailable, call allowed (fail-open)",
		"err", cause.Error(), "suppressed", suppressed)
	return 0, nil
}
