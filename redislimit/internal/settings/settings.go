// Package settings is the configuration of a redislimit.Limiter, which
// redislimit's options fill in. It is a package of its own, reachable only
// from inside module redislimit and its nested test modules, so that the
// fault tests (module redislimit/internal/faults) can set [Config.Now]: a
// seam for tests that no user needs as an option.
package settings

import (
	"context"
	"log/slog"
	"time"
)

// Config is what redislimit.New reads. redislimit.Option is a func(*Config).
type Config struct {
	Prefix      string
	Timeout     time.Duration
	Policy      int // a redislimit.Policy
	Logger      *slog.Logger
	LogInterval time.Duration
	Cooldown    time.Duration
	Replicas    int // for the local tier of redislimit.FailLocal
	// Metrics is called once per decision (see redislimit.WithMetrics).
	Metrics func(ctx context.Context, decision, by string, wait time.Duration)
	// Now is the clock of the cooldown and of the log interval: time.Now
	// unless a test replaces it.
	Now func() time.Time
}
