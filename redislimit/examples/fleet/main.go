// Command fleet runs N replicas of a service in one process, each with its
// own chatbot client, rate limiter and go-redis client (as separate
// processes would have), all sending to one provider fake, in three phases:
//
//  1. For -for, the replicas share a budget of 10 calls per second, bursts
//     of 2, against a provider that allows 12 per sliding second.
//  2. The provider answers a call 429 with Retry-After: 60. resilience.Limit
//     records the wait in the shared budget (redislimit's Limiter.Throttle),
//     so the other replicas hold their calls instead of sending them into the
//     provider's window.
//  3. Redis refuses connections while each replica tries 10 calls under a
//     quota of 16 an hour, once per policy: FailOpen sends every call,
//     FailClosed none, FailLocal with WithReplicas(N) each replica's share.
//     WithMetrics counts the decisions.
//
// The replicas use the Redis at REDIS_ADDR (host:port; REDIS_PASSWORD if it
// needs one), or else a throw-away redis-server the example starts on a Unix
// socket when one is on PATH. With neither, each replica has an in-process
// limiter that knows nothing of the others, and phases 1 and 2 show what the
// shared budget prevents: the fleet sends more than the budget, and every
// replica sends into the provider's 429. Phase 3 needs no Redis.
//
//	cd redislimit && go run ./examples/fleet -replicas 4 -for 3s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
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

// rate is the fleet's shared budget in phases 1 and 2; the provider fake
// allows Limit+Burst per Period.
var rate = resilience.Rate{Limit: 10, Period: time.Second, Burst: 2}

// quota is the budget of phase 3: per hour, so that what the local tier
// allows does not depend on how fast the replicas call.
var quota = resilience.Rate{Limit: 16, Period: time.Hour, Burst: 16}

const (
	retryAfter  = time.Minute // the provider's Retry-After in phase 2
	outageCalls = 10          // calls each replica tries in phase 3
)

type config struct {
	Replicas int
	Duration time.Duration
	Redis    *redis.Options // nil: in-process limiters
}

// result is what the three phases observed.
type result struct {
	Budget         []counts // phase 1, by replica
	BudgetReceived int      // requests the provider received in phase 1
	Held           int      // phase 2: calls held back by the shared 429, never sent
	Received429    int      // phase 2: requests the provider received
	Outage         []outcome
}

// counts is what one replica saw in phase 1.
type counts struct {
	Sent      int // admitted by its limiter and sent to the provider
	Refused   int // of those, refused by the provider with a 429
	Throttled int // refused by its own limiter, never sent
	Held      int // admitted by its limiter, then held back by the SDK's pre-check, never sent
}

// outcome is what one policy let through during the outage of phase 3.
type outcome struct {
	Policy   redislimit.Policy
	Received int            // requests the provider received
	Metrics  map[string]int // WithMetrics decisions: "allowed by fail-local" → count
}

// countingLimiter counts the calls its Limiter refused: the SDK's pre-check
// refuses with the same ProviderCode, so the error alone cannot tell them
// apart. It hides the Limiter's Throttle, so it wraps only phase 1's.
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

// tally is a WithMetrics function's store.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) record(_ context.Context, decision, by string, _ time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n[decision+" by "+by]++
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for k, v := range t.n {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func main() {
	// Phase 3's failed dials are counted by WithMetrics; go-redis would
	// also log each of them through its global logger, the application's.
	redis.SetLogger(quiet{})
	if err := start(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// quiet is a go-redis logger that logs nothing.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// start parses the command line (-h prints the usage and runs nothing),
// finds or starts a Redis, and runs the fleet.
func start(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	replicas := fs.Int("replicas", 4, "how many replicas to run")
	dur := fs.Duration("for", 3*time.Second, "how long the replicas send in phase 1")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fleet [-replicas n] [-for d]\n\n"+
			"Runs replicas sharing a rate limit in Redis (REDIS_ADDR, or a redis-server it starts): a shared budget,\n"+
			"a provider 429 shared by the fleet, and a Redis outage under each failure policy.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{Replicas: *replicas, Duration: *dur}
	if addr := getenv("REDIS_ADDR"); addr != "" {
		cfg.Redis = &redis.Options{Addr: addr, Password: getenv("REDIS_PASSWORD")}
	} else if bin, err := exec.LookPath("redis-server"); err == nil {
		sock, stop, err := startRedis(ctx, bin)
		if err != nil {
			return err
		}
		defer stop()
		cfg.Redis = &redis.Options{Network: "unix", Addr: sock}
	}
	_, err := run(ctx, stdout, cfg)
	return err
}

// startRedis starts a throw-away redis-server on a Unix socket in a
// temporary directory, without persistence, waits until it answers, and
// returns the socket and the function that stops it.
func startRedis(ctx context.Context, bin string) (sock string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "fleet-redis-")
	if err != nil {
		return "", nil, err
	}
	sock = filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a guard against a wedged binary
	defer cancel()
	for rdb.Ping(ctx).Err() != nil {
		select {
		case <-ctx.Done():
			stop()
			return "", nil, fmt.Errorf("fleet: redis-server on %s: %w", sock, ctx.Err())
		case <-time.After(10 * time.Millisecond): // polling pace, not a bound
		}
	}
	return sock, stop, nil
}

// run runs the three phases, printing what they show to w.
func run(ctx context.Context, w io.Writer, cfg config) (*result, error) {
	if cfg.Replicas < 1 || cfg.Duration <= 0 {
		return nil, errors.New("fleet: need at least one replica and a positive duration")
	}
	var res result
	var err error
	prefix := fmt.Sprintf("fleet-example-%d:", time.Now().UnixNano()) // fresh budgets for each run
	if res.Budget, res.BudgetReceived, err = budget(ctx, w, cfg, prefix+"budget:"); err != nil {
		return nil, err
	}
	if res.Held, res.Received429, err = shared429(ctx, w, cfg, prefix+"429:"); err != nil {
		return nil, err
	}
	if res.Outage, err = outage(ctx, w, cfg); err != nil {
		return nil, err
	}
	return &res, nil
}

// limiters returns one limiter per replica for phases 1 and 2, each with a
// Redis client of its own, and the function that closes the clients.
func limiters(cfg config, prefix string) ([]resilience.Limiter, func()) {
	all := make([]resilience.Limiter, cfg.Replicas)
	var clients []*redis.Client
	for i := range all {
		if cfg.Redis == nil {
			all[i] = resilience.NewLocalLimiter(rate)
			continue
		}
		opts := *cfg.Redis
		opts.ContextTimeoutEnabled = true
		rdb := redis.NewClient(&opts)
		clients = append(clients, rdb)
		// FailClosed and a patient timeout: a Redis failure shows instead
		// of letting calls through unlimited.
		all[i] = redislimit.New(rdb, rate, redislimit.WithPrefix(prefix),
			redislimit.WithPolicy(redislimit.FailClosed), redislimit.WithTimeout(2*time.Second))
	}
	return all, func() {
		for _, c := range clients {
			c.Close()
		}
	}
}

// newProvider starts a provider fake that answers "ok".
func newProvider() *workspacetest.Server {
	p := workspacetest.NewServer(workspacetest.Config{})
	p.SetReply("ok")
	return p
}

// newBot returns a replica's SDK client for provider, limited by lim.
// WithMaxRetries(0): a 429 comes back at once. WithMaxWait(0): a throttled
// call is refused at once, with the limiter's wait in RetryAfter.
func newBot(provider *workspacetest.Server, lim resilience.Limiter) (chatbot.Chatbot, error) {
	client, err := workspace.NewClient(provider.APIKey(), provider.ChatbotID(),
		chatbot.WithBaseURL(provider.URL), chatbot.WithMaxRetries(0))
	if err != nil {
		return nil, err
	}
	return chatbot.Wrap(client, resilience.Limit(lim, resilience.WithMaxWait(0))), nil
}

// clientLimited reports whether err is a refusal on this side (the limiter
// or the SDK's pre-check), and returns it.
func clientLimited(err error) (*chatbot.Error, bool) {
	var apiErr *chatbot.Error
	ok := errors.As(err, &apiErr) && apiErr.ProviderCode == resilience.CodeClientRateLimited
	return apiErr, ok
}

// budget is phase 1: two callers per replica send for cfg.Duration; it
// returns what each replica saw and what the provider received.
func budget(ctx context.Context, w io.Writer, cfg config, prefix string) ([]counts, int, error) {
	fmt.Fprintln(w, "1. A shared budget.")
	if cfg.Redis == nil {
		fmt.Fprintln(w, "No Redis (set REDIS_ADDR=host:port, or install redis-server): each replica uses its own in-process limiter,",
			"so together they would admit up to", cfg.Replicas, "times the budget; the provider refuses the excess with 429s,",
			"and each SDK client then waits for (or refuses calls until) the reset the provider announces.")
	} else {
		fmt.Fprintln(w, "sharing one budget in Redis at", cfg.Redis.Addr)
	}
	provider := newProvider()
	defer provider.Close()
	provider.SetRateLimit(rate.Limit+rate.Burst, rate.Period)
	shared, closeAll := limiters(cfg, prefix)
	defer closeAll()

	all := make([]counts, cfg.Replicas)
	counting := make([]*countingLimiter, cfg.Replicas)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failure error
	begin := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	for i := range shared {
		counting[i] = &countingLimiter{Limiter: shared[i]}
		bot, err := newBot(provider, counting[i])
		if err != nil {
			return nil, 0, err
		}
		for range 2 { // two callers per replica
			wg.Add(1)
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					_, err := bot.Chat(ctx, chatbot.Request{Message: "hello"})
					apiErr, held := clientLimited(err)
					mu.Lock()
					switch {
					case err == nil:
						all[i].Sent++
					case held:
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
					if held {
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
		c.Throttled = int(counting[i].refused.Load())
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
	allowed := rate.Burst + int(elapsed.Seconds()*float64(rate.Limit)/rate.Period.Seconds())
	fmt.Fprintf(w, "the budget (%d per %v, burst %d) allowed about %d calls in %v: the fleet sent %.2f times that\n",
		rate.Limit, rate.Period, rate.Burst, allowed, elapsed.Round(10*time.Millisecond), float64(total.Sent)/float64(allowed))
	return all, provider.Count(), nil
}

// shared429 is phase 2: the provider refuses calls with 429 and a
// Retry-After; replica 1 meets it, then every other replica tries one call.
// It returns how many calls were held back and what the provider received.
func shared429(ctx context.Context, w io.Writer, cfg config, prefix string) (held, received int, err error) {
	fmt.Fprintf(w, "\n2. The provider's window is full: it answers 429 with Retry-After: %v.\n", retryAfter)
	provider := newProvider()
	defer provider.Close()
	provider.RateLimitNext(cfg.Replicas, retryAfter)
	if cfg.Redis == nil {
		fmt.Fprintln(w, "No Redis: each replica's in-process limiter knows nothing of the others' 429s.")
	}
	shared, closeAll := limiters(cfg, prefix)
	defer closeAll()
	for i, lim := range shared {
		bot, err := newBot(provider, lim)
		if err != nil {
			return 0, 0, err
		}
		_, err = bot.Chat(ctx, chatbot.Request{Message: "hello"})
		apiErr, limited := clientLimited(err)
		switch {
		case limited:
			held++
			fmt.Fprintf(w, "replica %d: held back for %v by the wait replica 1 recorded in Redis, not sent\n", i+1, apiErr.RetryAfter.Round(time.Second))
		case errors.Is(err, chatbot.ErrRateLimited):
			fmt.Fprintf(w, "replica %d: sent, 429 from the provider\n", i+1)
		default:
			return 0, 0, fmt.Errorf("fleet: replica %d: want a 429 or a hold, got %v", i+1, err)
		}
	}
	received = provider.Count()
	fmt.Fprintf(w, "the provider received %d of %d calls\n", received, cfg.Replicas)
	return held, received, nil
}

// outage is phase 3: every replica's limiter asks a Redis address that
// refuses connections, and each replica tries outageCalls calls, once per
// policy.
func outage(ctx context.Context, w io.Writer, cfg config) ([]outcome, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there any more
	share := max(quota.Burst/cfg.Replicas, 1)
	fmt.Fprintf(w, "\n3. Redis is down (%s refuses connections); each replica tries %d calls under a quota of %d an hour;\n"+
		"with WithReplicas(%d), FailLocal allows each replica its share, %d.\n",
		dead, outageCalls, quota.Limit, cfg.Replicas, share)
	var all []outcome
	for _, p := range []redislimit.Policy{redislimit.FailOpen, redislimit.FailClosed, redislimit.FailLocal} {
		provider := newProvider()
		metrics := &tally{n: make(map[string]int)}
		for range cfg.Replicas {
			rdb := redis.NewClient(&redis.Options{Addr: dead, ContextTimeoutEnabled: true})
			lim := redislimit.New(rdb, quota, redislimit.WithPolicy(p), redislimit.WithReplicas(cfg.Replicas),
				redislimit.WithMetrics(metrics.record))
			bot, err := newBot(provider, lim)
			for i := 0; err == nil && i < outageCalls; i++ {
				_, err = bot.Chat(ctx, chatbot.Request{Message: "hello"})
				if _, limited := clientLimited(err); limited || errors.Is(err, redislimit.ErrUnavailable) {
					err = nil // refused by the policy: never sent
				}
			}
			rdb.Close()
			if err != nil {
				provider.Close()
				return nil, fmt.Errorf("fleet: %v: %w", p, err)
			}
		}
		o := outcome{Policy: p, Received: provider.Count(), Metrics: metrics.n}
		provider.Close()
		fmt.Fprintf(w, "%-12s the provider received %2d of %d calls; metrics: %s\n",
			p.String()+":", o.Received, cfg.Replicas*outageCalls, metrics)
		all = append(all, o)
	}
	return all, nil
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
