package resilience

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatbot-go/chatbot"
)

// Limiter decides whether one call under a key may be sent now. The key
// names the budget the call spends (by default the provider and chatbot id,
// see [Limit]); implementations keep one budget per key.
//
// Allow takes one unit of the key's budget and returns 0 when the call may go
// now. When the budget is spent it takes nothing and returns how long until
// one unit will be free. An error means the limiter could not decide (its
// store is unreachable, say); what the caller then does is the limiter's
// documented policy.
//
// Implementations must be safe for concurrent use.
type Limiter interface {
	Allow(ctx context.Context, key string) (wait time.Duration, err error)
}

// Throttler is a [Limiter] that can hold a key's calls for a while: [Limit]
// calls Throttle when the provider refused a call under key with a
// rate-limit error that says how long to wait (its Retry-After), so that
// the limiter holds the key's calls for that long, everywhere its budget is
// shared, instead of letting them meet the provider's refusal one by one.
// Throttle must not block longer than the limiter would in Allow; it reports
// no error, since the provider's refusal is returned to the caller anyway.
type Throttler interface {
	Limiter
	Throttle(ctx context.Context, key string, wait time.Duration)
}

// Rate is a budget of Limit events per Period, of which up to Burst may be
// spent at once; unspent events accrue evenly (one every Period/Limit) up to
// Burst. It is the shared description of a rate for every [Limiter] of this
// module and of github.com/chatbot-go/chatbot/redislimit.
//
// Zero values: a Limit of 0 or less means no limit (every call is allowed and
// the other fields are ignored); a Period of 0 or less means one second; a
// Burst of 0 or less means Limit, so that the whole period's budget may be
// spent at once, as a provider's fixed window allows.
type Rate struct {
	Limit  int           // events per Period; 0 or less: unlimited
	Period time.Duration // the period Limit is counted over; 0 or less: one second
	Burst  int           // the most events allowed at once; 0 or less: Limit
}

// PerSecond returns a Rate of n events per second, n at once.
func PerSecond(n int) Rate { return Rate{Limit: n, Period: time.Second, Burst: n} }

// PerMinute returns a Rate of n events per minute, n at once.
func PerMinute(n int) Rate { return Rate{Limit: n, Period: time.Minute, Burst: n} }

// PerHour returns a Rate of n events per hour, n at once.
func PerHour(n int) Rate { return Rate{Limit: n, Period: time.Hour, Burst: n} }

// WithDefaults returns r with the zero values of Period and Burst replaced by
// what they mean: one second, and Limit. A Limit of 0 or less (no limit) is
// returned as is. A [Limiter] implementation reads a Rate through it, so that
// every limiter gives the zero values the same meaning.
func (r Rate) WithDefaults() Rate {
	if r.Limit <= 0 {
		return r
	}
	if r.Period <= 0 {
		r.Period = time.Second
	}
	if r.Burst <= 0 {
		r.Burst = r.Limit
	}
	return r
}

// limiter returns the rate.Limiter parameters of r, its zero values applied.
func (r Rate) limiter() (rate.Limit, int) {
	if r.Limit <= 0 {
		return rate.Inf, 0
	}
	r = r.WithDefaults()
	return rate.Limit(float64(r.Limit) / r.Period.Seconds()), r.Burst
}

// LocalLimiter is an in-process [Limiter] on golang.org/x/time/rate: one
// token bucket per key, created on the key's first call. Its budgets are per
// process: N replicas of a service each allow the full rate, so together
// they send N times the rate. A limit that belongs to an API key shared by a
// fleet needs a shared store (package redislimit).
//
// Each key costs about 200 bytes plus the key's length (a map entry and a
// rate.Limiter) and is kept for the life of the LocalLimiter, so keys should
// come from a bounded set (chatbots, tenants), not from per-request values.
//
// A LocalLimiter is safe for concurrent use. Its zero value is not usable;
// call [NewLocalLimiter].
type LocalLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time // the clock; time.Now, replaced by tests

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

// NewLocalLimiter returns a LocalLimiter that allows r for every key (see
// [Rate] for its zero values).
func NewLocalLimiter(r Rate) *LocalLimiter {
	limit, burst := r.limiter()
	return &LocalLimiter{limit: limit, burst: burst, now: time.Now, keys: make(map[string]*rate.Limiter)}
}

// Allow implements [Limiter]. It takes a token from key's bucket and returns
// 0, or, when the bucket is empty, takes nothing and returns how long until
// a token will be free, rounded up to the microsecond. It never fails and
// does not look at ctx.
func (l *LocalLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN is [LocalLimiter.Allow] for a call that costs n tokens: it takes n,
// or none and returns how long until n will be free. An n of 0 or less takes
// nothing and returns 0; an n above the burst can never be allowed and
// returns a *[chatbot.Error] with [chatbot.CodeInvalidRequest] saying so.
func (l *LocalLimiter) AllowN(_ context.Context, key string, n int) (time.Duration, error) {
	if l.limit == rate.Inf || n <= 0 {
		return 0, nil
	}
	if n > l.burst {
		return 0, &chatbot.Error{Code: chatbot.CodeInvalidRequest,
			Message: fmt.Sprintf("resilience: a cost of %d exceeds the burst of %d and can never be allowed", n, l.burst)}
	}
	l.mu.Lock()
	lim := l.keys[key]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.keys[key] = lim
	}
	l.mu.Unlock()

	now := l.now()
	res := lim.ReserveN(now, n)
	if !res.OK() { // cannot happen with a burst of at least 1; refuse for an hour rather than allow
		return time.Hour, nil
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused call takes nothing
		// Round up to the microsecond, so that float rounding never makes
		// a caller that waited exactly d find the bucket a nanosecond short.
		return (d + time.Microsecond - 1).Truncate(time.Microsecond), nil
	}
	return 0, nil
}
