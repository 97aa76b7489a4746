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
// module and of github.com/chatbot-go/chatbot/redislimit. [LocalLimiter]
// also never allows more than Limit events in any window of one Period, so
// that a Rate copied from a provider's published quota is never exceeded.
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

// LocalLimiter is an in-process [Limiter]. For every key, created on the
// key's first call, it allows at most Rate.Limit calls in any window of
// Rate.Period: a sliding window, the way providers count their quotas, so
// that a LocalLimiter made with a provider's published quota
// (PerHour(1000) for 1,000 requests an hour) never lets through more than
// the provider accepts, even when a full burst at the end of one hour is
// followed by the next hour's calls. A call refused by the window waits
// until the oldest call in it is one Period old. When Burst is below Limit,
// a token bucket (golang.org/x/time/rate, refilled with Limit tokens per
// Period, holding at most Burst) also spaces the calls; a Burst above Limit
// means Limit.
//
// The guarantee holds for the moments calls are allowed, on the
// LocalLimiter's clock: a provider that counts arrivals on its own clock may
// see two calls closer together than they were allowed, by the difference
// of their network delays, so a budget meant to use a quota to the last call
// should leave a margin. Its budgets are per process: N replicas of a
// service each allow the full rate, so together they send N times the rate.
// A limit that belongs to an API key shared by a fleet needs a shared store
// (package redislimit).
//
// Each key keeps the times of its calls of the last Period, at most Limit of
// them, in 8 bytes each (PerHour(1000): at most 8 KB), plus about 250 bytes
// and the key's length, for the life of the LocalLimiter, so keys should
// come from a bounded set (chatbots, tenants), not from per-request values.
//
// A LocalLimiter is safe for concurrent use. Its zero value is not usable;
// call [NewLocalLimiter].
type LocalLimiter struct {
	rate   Rate       // with its defaults applied; Limit <= 0: unlimited
	bucket rate.Limit // the token bucket's rate, when Burst < Limit
	now    func() time.Time
	start  time.Time // the origin of the times kept in each window

	mu   sync.Mutex
	keys map[string]*budget
}

// budget is one key's state: the times of its calls of the last Period, and
// its token bucket when there is one.
type budget struct {
	mu     sync.Mutex
	window window
	bucket *rate.Limiter // nil when Burst >= Limit
}

// NewLocalLimiter returns a LocalLimiter that allows r for every key (see
// [Rate] for its zero values).
func NewLocalLimiter(r Rate) *LocalLimiter {
	r = r.WithDefaults()
	l := &LocalLimiter{rate: r, now: time.Now, keys: make(map[string]*budget)}
	l.start = l.now()
	if r.Limit > 0 && r.Burst < r.Limit {
		l.bucket = rate.Limit(float64(r.Limit) / r.Period.Seconds())
	}
	return l
}

// Allow implements [Limiter]. It counts a call for key and returns 0, or,
// when key's window is full or its bucket empty, counts nothing and returns
// how long until a call will be allowed, rounded up to the microsecond. It
// never fails and does not look at ctx.
func (l *LocalLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN is [LocalLimiter.Allow] for a call that costs n: it counts n calls,
// or none and returns how long until n fit. An n of 0 or less counts
// nothing and returns 0; an n above the burst (or the limit) can never be
// allowed and returns a *[chatbot.Error] with [chatbot.CodeInvalidRequest]
// saying so.
func (l *LocalLimiter) AllowN(_ context.Context, key string, n int) (time.Duration, error) {
	if l.rate.Limit <= 0 || n <= 0 {
		return 0, nil
	}
	if most := min(l.rate.Burst, l.rate.Limit); n > most {
		return 0, &chatbot.Error{Code: chatbot.CodeInvalidRequest,
			Message: fmt.Sprintf("resilience: a cost of %d exceeds the burst of %d and can never be allowed", n, most)}
	}
	l.mu.Lock()
	b := l.keys[key]
	if b == nil {
		b = &budget{}
		if l.bucket != 0 {
			b.bucket = rate.NewLimiter(l.bucket, l.rate.Burst)
		}
		l.keys[key] = b
	}
	l.mu.Unlock()

	now := l.now()
	at := now.Sub(l.start)
	b.mu.Lock()
	defer b.mu.Unlock()
	wait := b.window.wait(at, l.rate.Period, l.rate.Limit, n)
	if b.bucket != nil {
		res := b.bucket.ReserveN(now, n) // always OK: n is at most the burst
		if d := res.DelayFrom(now); d > 0 || wait > 0 {
			res.CancelAt(now) // a refused call takes nothing
			wait = max(wait, d)
		}
	}
	if wait > 0 {
		// Round up to the microsecond, so that float rounding never makes
		// a caller that waited exactly wait find the bucket a nanosecond
		// short.
		return (wait + time.Microsecond - 1).Truncate(time.Microsecond), nil
	}
	for range n {
		b.window.push(at, l.rate.Limit)
	}
	return 0, nil
}

// window is the times of a key's calls in the last period, oldest first, in
// a ring that grows up to the limit.
type window struct {
	times []time.Duration // since LocalLimiter.start
	head  int             // index of the oldest
	n     int             // how many are kept
}

// wait forgets the calls a period old or older at at, and returns 0 when n
// more calls fit in the window (n is at most limit), or how long until
// enough of the oldest calls leave it.
func (w *window) wait(at, period time.Duration, limit, n int) time.Duration {
	for w.n > 0 && at-w.times[w.head] >= period {
		w.head = (w.head + 1) % len(w.times)
		w.n--
	}
	over := w.n + n - limit // how many must leave first
	if over <= 0 {
		return 0
	}
	return w.times[(w.head+over-1)%len(w.times)] + period - at
}

// push records a call at at, once wait said it fits.
func (w *window) push(at time.Duration, limit int) {
	if w.n == len(w.times) {
		grown := make([]time.Duration, min(max(2*len(w.times), 8), limit))
		for i := range w.n {
			grown[i] = w.times[(w.head+i)%len(w.times)]
		}
		w.times, w.head = grown, 0
	}
	w.times[(w.head+w.n)%len(w.times)] = at
	w.n++
}
