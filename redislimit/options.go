package redislimit

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/chatbot-go/chatbot/redislimit/internal/settings"
)

// Defaults of [New].
const (
	// DefaultTimeout bounds each [Limiter.Allow]. A healthy Redis in the same
	// network answers the rate script in well under a millisecond (see
	// BENCHMARKS.md), so 100 ms is two orders of magnitude of headroom for
	// a busy Redis or a GC pause, and stays small next to a chat call, which
	// takes seconds: only a sick Redis reaches it.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultPrefix starts every budget's name in Redis (see [WithPrefix]).
	DefaultPrefix = "chatbot:"
	// DefaultCooldown is how long a [Limiter] stops asking Redis after a
	// failure. While Redis is down, go-redis retries the dial until the
	// timeout ends, so every call that asks costs the whole timeout; with a
	// cooldown of a second a dead Redis costs each replica one timeout per
	// second, and recovery is noticed within a second.
	DefaultCooldown = time.Second
	// DefaultLogInterval is the least time between two log lines about Redis
	// failures under [FailOpen].
	DefaultLogInterval = 10 * time.Second
)

// Policy says what [Limiter.Allow] does when Redis cannot decide: it did not
// answer within the timeout, the connection failed, or it returned an error.
type Policy int

const (
	// FailOpen lets the call go (Allow returns 0 and no error) and logs one
	// line through the [WithLogger] logger, at most once per
	// [DefaultLogInterval] with the count of failures in between. It is the
	// default: the provider still enforces its own limit (its 429s come back
	// as chatbot.ErrRateLimited), so a Redis outage costs some 429s rather
	// than every chat call.
	FailOpen Policy = iota
	// FailClosed refuses the call: Allow returns an *[UnavailableError]
	// matching [ErrUnavailable]. Choose it when overshooting the provider's
	// limit costs more than refusing calls (a key that gets suspended).
	FailClosed
	// FailLocal falls back to a local tier: each replica decides alone, on
	// an in-process [resilience.LocalLimiter] allowing its share of the Rate
	// (the Limit over [WithReplicas]' count, over the same Period, and the
	// Burst divided alike, at least 1), so that a fleet of that many replicas
	// sends about the quota during an outage instead of the unbounded
	// [FailOpen]. It logs as FailOpen does. Each replica's share starts whole
	// when Redis first fails, whatever the fleet had spent, and is kept
	// across outages.
	FailLocal
)

// String returns "fail-open", "fail-closed" or "fail-local".
func (p Policy) String() string {
	switch p {
	case FailOpen:
		return "fail-open"
	case FailClosed:
		return "fail-closed"
	case FailLocal:
		return "fail-local"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Option configures [New].
type Option func(*config)

// config lives in an internal package, so that the fault tests of the nested
// module redislimit/internal/faults can set its clock.
type config = settings.Config

// WithPrefix sets the prefix of the limiter's Redis keys (default
// [DefaultPrefix]). Replicas that must share a budget use the same prefix;
// services that share a Redis but not a key use different ones. A budget's
// Redis key is "rate:", the prefix's length in bytes, ":", the prefix and the
// key ("rate:8:chatbot:workspace/bot"), so that no two distinct pairs of
// prefix and key share a budget.
func WithPrefix(p string) Option { return func(c *config) { c.Prefix = p } }

// WithTimeout bounds each [Limiter.Allow] call to d (default
// [DefaultTimeout]); a d of zero or less keeps the default. The bound holds
// when the client honours context deadlines on its sockets, that is when it
// was built with ContextTimeoutEnabled: true; otherwise go-redis waits up to
// its own ReadTimeout (3 s by default) and [New] logs a warning.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.Timeout = d
		}
	}
}

// WithCooldown sets how long the limiter stops asking Redis after it failed
// (default [DefaultCooldown]): meanwhile every [Limiter.Allow] applies the
// [Policy] at once, and the first call after it asks Redis again. A d of zero
// or less asks Redis on every call, each paying up to the timeout while Redis
// is down. The cooldown belongs to one Limiter (each replica finds out for
// itself) and covers what failed: with a *redis.Client, every key (one node
// serves them all); with a *redis.ClusterClient, the keys of the node that
// failed, so tenants on healthy nodes are still decided by Redis; with any
// other client (a ring), the key alone. A caller's own deadline or
// cancellation never starts it.
func WithCooldown(d time.Duration) Option { return func(c *config) { c.Cooldown = max(d, 0) } }

// WithPolicy sets what happens when Redis cannot decide (default
// [FailOpen]).
func WithPolicy(p Policy) Option { return func(c *config) { c.Policy = int(p) } }

// WithReplicas sets how many replicas share the budget (default 1), for the
// local tier of [FailLocal]: each then allows 1/n of the Rate while Redis
// cannot decide. An n below 1 keeps 1.
func WithReplicas(n int) Option { return func(c *config) { c.Replicas = max(n, 1) } }

// Values of the decision and by arguments of a [WithMetrics] function.
const (
	DecisionAllowed = "allowed" // the call may go now
	DecisionRefused = "refused" // the call must wait (or was refused for good by FailClosed)
	ByRedis         = "redis"   // Redis decided; otherwise by is the Policy's name ("fail-open", …)
)

// WithMetrics sets a function that [Limiter.Allow] and [Limiter.AllowN] call
// once per decision, for metrics: decision is [DecisionAllowed] or
// [DecisionRefused], by is [ByRedis] when Redis decided, or the [Policy]'s
// name ("fail-open", "fail-closed", "fail-local") when Redis could not (a
// failure, or the cooldown after one), and wait is the wait of a refusal (0
// otherwise; 0 also for a FailClosed refusal). A call that returns the
// caller's own context error, or that had nothing to decide (an unlimited
// Rate, a cost of 0), is not recorded. Both strings come from these small
// sets, so they make bounded metric attributes.
//
// The function is called on the calling goroutine and must be quick and safe
// for concurrent use. Module otelchatbot's LimiterMetrics returns one that
// records OpenTelemetry metrics, without this module depending on
// OpenTelemetry.
func WithMetrics(record func(ctx context.Context, decision, by string, wait time.Duration)) Option {
	return func(c *config) { c.Metrics = record }
}

// WithLogger sets the logger for Redis failures under [FailOpen] and
// [FailLocal] (one Warn
// line per [DefaultLogInterval] at most) and for the client warning of
// [WithTimeout]. The default, nil, logs nothing. No line carries a Redis
// password.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.Logger = l } }
