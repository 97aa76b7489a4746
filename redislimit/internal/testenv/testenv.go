// Package testenv holds what the tests of module redislimit and of its
// nested test module redislimit/internal/faults share: a go-redis client set
// up as the package documentation asks, a fake clock for the limiter, a log
// sink, and load pacing. It is imported only by tests.
package testenv

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/settings"
)

// Hang bounds the calls of the tests: a call that reaches it hung (the
// limiter's timeouts are tens of milliseconds). It is a hang detector, not a
// speed assertion.
const Hang = 20 * time.Second

// Patient is the timeout of limiters in tests whose subject is not a slow
// Redis: a busy CI machine can take more than the default 100 ms to dial,
// handshake and load the script, and that must not fail them.
var Patient = redislimit.WithTimeout(Hang)

// WithClock makes a limiter read its time (cooldown, log interval) from c.
func WithClock(c *clocktest.Clock) redislimit.Option {
	return func(s *settings.Config) { s.Now = c.Now }
}

// NewClient returns a go-redis client for addr that honours context
// deadlines, as the package documentation asks, closed at cleanup. Each mod
// changes the options before the client is built.
func NewClient(t testing.TB, addr string, mod ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	for _, m := range mod {
		m(o)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Log is a concurrency-safe log sink for slog.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// NewLogger returns a text logger writing to a new Log.
func NewLogger() (*slog.Logger, *Log) {
	l := &Log{}
	return slog.New(slog.NewTextHandler(l, nil)), l
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines returns the lines written, or nil.
func (l *Log) Lines() []string {
	s := strings.TrimSpace(l.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Pause waits d or until ctx ends: a load's pacing or back-off, not a test
// synchronisation.
func Pause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// QuietRedis drops go-redis's own log lines ("failed to dial after 5
// attempts"), which the fault tests provoke on purpose. go-redis logs through
// a global logger that belongs to the application; the limiter itself logs
// only through its WithLogger. Call it from TestMain.
func QuietRedis() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
