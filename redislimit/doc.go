// Package redislimit is a [resilience.Limiter] whose budgets live in Redis,
// so that every replica of a service that shares an API key also shares its
// rate limit.
//
// A provider's limit belongs to the key, not to one process: with N replicas
// each limiting itself, the fleet sends N times the limit and collects the
// provider's 429s. A [Limiter] keeps one budget per key in Redis with the GCRA
// algorithm of github.com/go-redis/redis_rate/v10, so all replicas that use
// the same Redis and key prefix draw on one budget. A single process does not
// need it: [resilience.NewLocalLimiter] is in-process and has no dependency.
//
// Use it with the limiter middleware of package resilience:
//
//	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
//	lim := redislimit.New(rdb, resilience.Rate{Limit: 100, Period: time.Minute, Burst: 1})
//	bot = chatbot.Wrap(bot, resilience.Limit(lim))
//
// # Redis failures
//
// Every [Limiter.Allow] is bounded by a timeout (see [WithTimeout], default
// [DefaultTimeout]); a slow or dead Redis never holds a call longer. When
// Redis cannot answer, the [Policy] decides: [FailOpen] (the default) lets the
// call go and logs one line, [FailClosed] refuses it with an error matching
// [ErrUnavailable] that unwraps to the cause, [FailLocal] lets each replica
// spend its share of the Rate ([WithReplicas]) in process. After a failure
// the limiter stops asking Redis for a cooldown ([WithCooldown], default
// [DefaultCooldown]) and applies the policy at once, so a dead Redis does
// not cost every call the whole timeout; in a cluster the cooldown covers
// only the node that failed. The caller's own context ending, or its
// deadline passing, is never a Redis failure: Allow returns the context's
// error as is.
//
// # The provider's limit, costs and metrics
//
// A Limiter is a [resilience.Throttler]: when the provider answers 429 with a
// Retry-After, [resilience.Limit] records the wait in the shared budget
// ([Limiter.Throttle]) and every replica holds the key's calls until it ends.
// [Limiter.AllowN] charges a cost per call (tokens, credits).
// [WithMetrics] reports each decision to a plain function, which module
// otelchatbot's LimiterMetrics turns into OpenTelemetry metrics.
//
// # Testing
//
// Package [github.com/chatbot-go/chatbot/redislimit/redistest] starts a
// throw-away redis-server on a free loopback port for a test and stops it at
// the test's end; it skips the test where redis-server is not installed.
//
// # Third-party types
//
// This module exists to connect the SDK to Redis, so its constructor takes the
// application's go-redis client ([redis.UniversalClient]: a *redis.Client, a
// *redis.ClusterClient, a failover client or a ring). That is the one
// exported mention of a third-party type, accepted on purpose; redis_rate
// stays behind the package's own types.
//
// It is a module of its own (github.com/chatbot-go/chatbot/redislimit), so
// that go-redis stays out of the core module.
package redislimit
