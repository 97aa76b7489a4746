// Command fleet runs N replicas of a service in one process, each with its
// own chatbot client and its own rate limiter, all sending to one provider
// (the workspace fake, which allows 12 requests per sliding second) under
// one shared budget of 10 calls per second, bursts of 2. It prints what
// each replica sent and how often it was throttled.
//
// With REDIS_ADDR set (host:port; REDIS_PASSWORD if the server needs one),
// the replicas share one budget in Redis through redislimit and the
// provider never answers 429. Without it, each replica falls back to an
// in-process limiter that knows nothing of the others: together they would
// admit up to N times the budget. The provider refuses the excess with
// 429s, and each SDK client's rate-limit pre-check then waits for (or
// refuses calls until) the reset its headers announce, so the fleet sends
// more than the budget but less than N times it.
//
//	REDIS_ADDR=127.0.0.1:6379 go run ./examples/fleet -replicas 4 -for 3s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// rate is the fleet's shared budget; the provider fake allows Limit+Burst
// per Period.
var rate = resilience.Rate{Limit: 10, Period: time.Second, Burst: 2}

type config struct {
	Replicas      int
	Duration      time.Duration
	RedisAddr     string // empty: in-process limiters
	RedisPassword string
}

// counts is what one replica saw.
type counts struct {
	Sent      int // admitted by its limiter and sent to the provider
	Refused   int // of those, refused by the provider with a 429
	Throttled int // refused by its own limiter, never sent
	Held      int // admitted by its limiter, then held back by the SDK's pre-check, never sent
}

// countingLimiter counts the calls its Limiter refused: the SDK's pre-check
// refuses with the same ProviderCode, so the error alone cannot tell them
// apart.
type countingLimiter struct {
	resilience.Limiter
	refused atomic.Int64
}

func (c *countingLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	wait, err := c.Limiter.Allow(ctx, key)
	if err == nil && wait > 0 {
		c.refused.Add(1)
	}
	return wait, err
}

func main() {
	replicas := flag.Int("replicas", 4, "how many replicas to run")
	dur := flag.Duration("for", 3*time.Second, "how long the replicas send")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{Replicas: *replicas, Duration: *dur, RedisAddr: os.Getenv("REDIS_ADDR"), RedisPassword: os.Getenv("REDIS_PASSWORD")}
	if _, _, err := run(ctx, os.Stdout, cfg); err != nil {
		log.Fatal(err)
	}
}

// run starts the provider fake and the replicas, lets them send for
// cfg.Duration, prints the counts to w and returns them with the number of
// requests the provider received.
func run(ctx context.Context, w io.Writer, cfg config) ([]counts, int, error) {
	if cfg.Replicas < 1 || cfg.Duration <= 0 {
		return nil, 0, errors.New("fleet: need at least one replica and a positive duration")
	}
	provider := workspacetest.NewServer(workspacetest.Config{})
	defer provider.Close()
	provider.SetReply("ok")
	provider.SetRateLimit(rate.Limit+rate.Burst, rate.Period)

	limiters := make([]*countingLimiter, cfg.Replicas)
	if cfg.RedisAddr == "" {
		fmt.Fprintln(w, "REDIS_ADDR is not set: each replica uses its own in-process limiter, so together they would admit up to",
			cfg.Replicas, "times the budget; the provider refuses the excess with 429s, and each SDK client then waits for",
			"(or refuses calls until) the reset the provider announces. Set REDIS_ADDR=host:port to share one budget in Redis.")
		for i := range limiters {
			limiters[i] = &countingLimiter{Limiter: resilience.NewLocalLimiter(rate)}
		}
	} else {
		fmt.Fprintln(w, "sharing one budget in Redis at", cfg.RedisAddr)
		prefix := fmt.Sprintf("fleet-example-%d:", time.Now().UnixNano()) // a fresh budget for each run
		for i := range limiters {
			// One client per replica, as separate processes would have.
			rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, ContextTimeoutEnabled: true})
			defer rdb.Close()
			// FailClosed and a patient timeout: the example shows a Redis
			// failure rather than letting calls through unlimited.
			limiters[i] = &countingLimiter{Limiter: redislimit.New(rdb, rate, redislimit.WithPrefix(prefix),
				redislimit.WithPolicy(redislimit.FailClosed), redislimit.WithTimeout(2*time.Second))}
		}
	}

	all := make([]counts, cfg.Replicas)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failure error
	begin := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	for i, lim := range limiters {
		client, err := workspace.NewClient(provider.APIKey(), provider.ChatbotID(),
			chatbot.WithBaseURL(provider.URL), chatbot.WithMaxRetries(0))
		if err != nil {
			return nil, 0, err
		}
		// WithMaxWait(0): a throttled call is refused at once, and the
		// replica backs off for its RetryAfter below.
		bot := chatbot.Wrap(client, resilience.Limit(lim, resilience.WithMaxWait(0)))
		for range 2 { // two callers per replica
			wg.Add(1)
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					_, err := bot.Chat(ctx, chatbot.Request{Message: "hello"})
					var apiErr *chatbot.Error
					errors.As(err, &apiErr)
					mu.Lock()
					switch {
					case err == nil:
						all[i].Sent++
					case apiErr != nil && apiErr.ProviderCode == resilience.CodeClientRateLimited:
						all[i].Held++ // its limiter's refusals are moved to Throttled below
					case errors.Is(err, chatbot.ErrRateLimited):
						all[i].Sent++
						all[i].Refused++
					default:
						if failure == nil {
							failure = err
						}
						cancel()
					}
					mu.Unlock()
					if apiErr != nil && apiErr.ProviderCode == resilience.CodeClientRateLimited {
						sleep(runCtx, apiErr.RetryAfter)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if failure != nil {
		return nil, 0, fmt.Errorf("fleet: %w", failure)
	}

	var total counts
	for i, c := range all {
		c.Throttled = int(limiters[i].refused.Load())
		c.Held -= c.Throttled
		all[i] = c
		fmt.Fprintf(w, "replica %d: sent %3d (429 from the provider %3d), throttled by its limiter %3d, held back by the SDK %3d\n",
			i+1, c.Sent, c.Refused, c.Throttled, c.Held)
		total.Sent += c.Sent
		total.Refused += c.Refused
		total.Throttled += c.Throttled
		total.Held += c.Held
	}
	fmt.Fprintf(w, "total:     sent %3d (429 from the provider %3d), throttled by its limiter %3d, held back by the SDK %3d\n",
		total.Sent, total.Refused, total.Throttled, total.Held)
	budget := rate.Burst + int(elapsed.Seconds()*float64(rate.Limit)/rate.Period.Seconds())
	fmt.Fprintf(w, "the budget (%d per %v, burst %d) allowed about %d calls in %v: the fleet sent %.2f times that\n",
		rate.Limit, rate.Period, rate.Burst, budget, elapsed.Round(10*time.Millisecond), float64(total.Sent)/float64(budget))
	return all, provider.Count(), nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
