package redislimit

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
)

// Limiter is a [resilience.Limiter] that keeps one GCRA budget per key in
// Redis, shared by every Limiter (in any process) that uses the same Redis,
// prefix and key. Create it with [New]; a zero Limiter asks nothing and
// allows every call. It is safe for concurrent use and holds no resource of
// its own: closing the Redis client is the application's business.
type Limiter struct {
	rl      *redis_rate.Limiter // nil when the rate is unlimited
	client  redis.UniversalClient
	limit   redis_rate.Limit
	cluster *redis.ClusterClient     // non-nil when the client is one: cooldowns are per node
	single  bool                     // the client talks to one node: one cooldown for every key
	bad     error                    // non-nil when New had no client
	local   *resilience.LocalLimiter // the local tier of FailLocal
	cfg     config

	mu         sync.Mutex
	down       map[string]outage // by scope (see scope): Redis is not asked there before its end
	nextLog    time.Time
	suppressed int
}

// outage is a cooldown (see [WithCooldown]): the failure that started it,
// and when it ends.
type outage struct {
	until time.Time
	cause error
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
	cfg := config{Prefix: DefaultPrefix, Timeout: DefaultTimeout, LogInterval: DefaultLogInterval, Cooldown: DefaultCooldown, Replicas: 1, Now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	l := &Limiter{cfg: cfg, client: client}
	if client == nil {
		l.bad = errors.New("redislimit: nil Redis client")
		return l
	}
	switch c := client.(type) {
	case *redis.Client:
		l.single = true // one node, or a failover client's current master
	case *redis.ClusterClient:
		l.cluster = c
	}
	if r.Limit > 0 {
		r = r.WithDefaults()
		l.rl = redis_rate.NewLimiter(client)
		l.limit = redis_rate.Limit{Rate: r.Limit, Period: r.Period, Burst: r.Burst}
		if Policy(cfg.Policy) == FailLocal {
			n := cfg.Replicas
			l.local = resilience.NewLocalLimiter(resilience.Rate{Limit: r.Limit, Period: r.Period * time.Duration(n), Burst: max(r.Burst/n, 1)})
		}
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

// redisKey returns the Redis key of key's budget, after redis_rate's own
// "rate:" prefix: the prefix's length, a colon, the prefix and the key. The
// length keeps distinct (prefix, key) pairs apart: without it, prefix
// "a:" with key "b:c" and prefix "a:b:" with key "c" would share a budget.
// A hash tag ({…}) in the prefix or key still places the key in a cluster.
func (l *Limiter) redisKey(key string) string {
	return strconv.Itoa(len(l.cfg.Prefix)) + ":" + l.cfg.Prefix + key
}

// scope returns what a failure to decide for key puts in the cooldown: the
// whole limiter for a single node, the node serving the key in a cluster, and
// the key itself for a client whose node for a key cannot be seen (a ring, or
// a cluster whose slots are unknown).
func (l *Limiter) scope(ctx context.Context, rkey, key string) string {
	if l.single {
		return ""
	}
	if l.cluster != nil {
		if node, err := l.cluster.MasterForKey(ctx, "rate:"+rkey); err == nil { // redis_rate's prefix
			return "node " + node.Options().Addr
		}
	}
	return "key " + key
}

// Allow takes one unit of key's budget. It returns 0 and no error when the
// call may go now, and how long until a unit is free when the budget is
// spent (taking nothing).
//
// Allow waits for Redis at most the limiter's timeout (see [WithTimeout]).
// When ctx ends first, or its deadline has passed when Redis fails, Allow
// returns ctx's error (context.Canceled or context.DeadlineExceeded) as is:
// the caller's deadline is never taken for a Redis failure. When Redis cannot
// decide, the [Policy] applies: [FailOpen] returns 0 and no error (and logs),
// [FailClosed] returns an *[UnavailableError] matching [ErrUnavailable] and
// unwrapping to the cause, [FailLocal] returns the local tier's decision
// (and logs). After such a failure, Allow applies the policy at once,
// without asking Redis, for the cooldown (see [WithCooldown]), to every key
// served by what failed.
func (l *Limiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN is [Limiter.Allow] for a call that costs n units of key's budget
// (tokens or credits, where the caller knows the cost before the call): it
// takes n units, or none when fewer than n are free and returns how long
// until n will be. A cost above the Rate's Burst can never be allowed: AllowN
// returns a *[chatbot.Error] with [chatbot.CodeInvalidRequest] saying so,
// whatever the [Policy], and asks nothing. An n of 0 or less is a call that
// costs nothing: it returns 0 and no error without asking Redis.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (time.Duration, error) {
	if l.bad != nil {
		return 0, l.bad
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if l.rl == nil || n <= 0 {
		return 0, nil
	}
	if n > l.limit.Burst {
		return 0, &chatbot.Error{Code: chatbot.CodeInvalidRequest,
			Message: "redislimit: a cost of " + strconv.Itoa(n) + " exceeds the burst of " + strconv.Itoa(l.limit.Burst) + " and can never be allowed"}
	}
	cctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	ownDeadline, _ := cctx.Deadline()
	rkey := l.redisKey(key)
	scope := l.scope(cctx, rkey, key)
	if l.cfg.Cooldown > 0 {
		if cause := l.cooling(scope); cause != nil {
			return l.fail(ctx, key, n, cooldownError{cause})
		}
	}
	res, err := l.rl.AllowN(cctx, rkey, l.limit, n)
	if err != nil {
		// go-redis puts the earlier of the two deadlines on the socket and
		// can report it before either context counts as done, so the
		// clock, not ctx.Err, says whose deadline it was.
		now := time.Now()
		if cerr := ctx.Err(); cerr != nil {
			return 0, cerr
		}
		if deadline, ok := ctx.Deadline(); ok && !now.Before(deadline) {
			return 0, context.DeadlineExceeded
		}
		if !now.Before(ownDeadline) {
			err = timeoutError{d: l.cfg.Timeout, err: err}
		}
		if l.cfg.Cooldown > 0 {
			l.mu.Lock()
			if l.down == nil {
				l.down = make(map[string]outage)
			}
			l.down[scope] = outage{until: l.cfg.Now().Add(l.cfg.Cooldown), cause: err}
			l.mu.Unlock()
		}
		return l.fail(ctx, key, n, err)
	}
	wait := time.Duration(0)
	if res.Allowed == 0 {
		wait = max(res.RetryAfter, time.Nanosecond)
	}
	l.report(ctx, ByRedis, wait, nil)
	return wait, nil
}

// report calls the WithMetrics function, if any, with a decision.
func (l *Limiter) report(ctx context.Context, by string, wait time.Duration, err error) {
	if l.cfg.Metrics == nil {
		return
	}
	decision := DecisionAllowed
	if wait > 0 || err != nil {
		decision = DecisionRefused
	}
	l.cfg.Metrics(ctx, decision, by, wait)
}

// cooling returns the cause of scope's cooldown, or nil when it has none
// (and forgets an ended one).
func (l *Limiter) cooling(scope string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.down[scope]
	if !ok {
		return nil
	}
	if l.cfg.Now().Before(o.until) {
		return o.cause
	}
	delete(l.down, scope)
	return nil
}

// fail applies the policy to a Redis failure to decide a call of cost n.
func (l *Limiter) fail(ctx context.Context, key string, n int, cause error) (wait time.Duration, err error) {
	p := Policy(l.cfg.Policy)
	switch p {
	case FailClosed:
		err = &UnavailableError{Key: key, Err: cause}
	case FailLocal:
		// A cost above the local share's burst takes the whole burst: the
		// share could never allow it, and the fleet could.
		wait, err = l.local.AllowN(ctx, key, min(n, max(l.limit.Burst/l.cfg.Replicas, 1)))
	}
	if p != FailClosed {
		l.logFailure(p, cause)
	}
	l.report(ctx, p.String(), wait, err)
	return wait, err
}

// logFailure logs a failure under FailOpen or FailLocal, at most once per
// log interval, with the count of the failures in between.
func (l *Limiter) logFailure(p Policy, cause error) {
	if l.cfg.Logger == nil {
		return
	}
	now := l.cfg.Now()
	l.mu.Lock()
	if now.Before(l.nextLog) {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.suppressed, l.nextLog = 0, now.Add(l.cfg.LogInterval)
	l.mu.Unlock()
	msg := "redislimit: redis unavailable, call allowed (fail-open)"
	if p == FailLocal {
		msg = "redislimit: redis unavailable, call decided by the local tier (fail-local)"
	}
	l.cfg.Logger.Warn(msg, "err", cause.Error(), "suppressed", suppressed)
}
