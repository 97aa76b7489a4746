package redislimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot/resilience"
)

var _ resilience.Throttler = (*Limiter)(nil)

// throttle moves a GCRA budget's theoretical arrival time (TAT), as
// redis_rate's script keeps it under the same key, so that the next unit is
// free only in ARGV[4] seconds: every Limiter that shares the budget then
// returns that wait from Allow. It never moves the TAT back. The TAT's format
// (seconds since 2017-01-01 by Redis's clock, expiring when the budget is
// whole again) is redis_rate's, which TestThrottle checks against.
var throttle = redis.NewScript(`
redis.replicate_commands()
local key = KEYS[1]
local emission_interval = tonumber(ARGV[3]) / tonumber(ARGV[2])
local burst_offset = emission_interval * tonumber(ARGV[1])
local wait = tonumber(ARGV[4])
local now = redis.call("TIME")
now = (now[1] - 1483228800) + (now[2] / 1000000)
local tat = redis.call("GET", key)
if tat then tat = tonumber(tat) else tat = now end
local want = now + wait + burst_offset - emission_interval
if want > tat then
  redis.call("SET", key, want, "EX", math.ceil(want - now))
  return 1
end
return 0
`)

// Throttle holds key's budget for wait, in Redis: until wait has passed,
// [Limiter.Allow] of every Limiter sharing the budget (same Redis, prefix and
// key, in any process) returns a wait that ends then, and the budget refills
// from empty afterwards. [resilience.Limit] calls it when the provider
// answers a call 429 with a Retry-After, so that one replica's 429 holds the
// whole fleet, as the client's rate-limit pre-check holds one process. It
// never shortens a wait already recorded, and is a no-op for an unlimited
// Rate or a wait of 0 or less.
//
// Throttle asks Redis at most the limiter's timeout, even when ctx has ended
// (the provider's wait holds whatever became of the call). A Redis failure is
// not reported (the caller already has the provider's refusal) and starts no
// cooldown; the other replicas then learn of the provider's limit from the
// provider.
func (l *Limiter) Throttle(ctx context.Context, key string, wait time.Duration) {
	if l.rl == nil || wait <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.Timeout)
	defer cancel()
	_ = throttle.Run(ctx, l.client, []string{"rate:" + l.redisKey(key)},
		l.limit.Burst, l.limit.Rate, l.limit.Period.Seconds(), wait.Seconds()).Err()
}
