package redislimit_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// quiet drops go-redis's own log lines ("failed to dial after 5 attempts"),
// which the fault tests provoke on purpose. go-redis logs through a global
// logger that belongs to the application; the limiter itself logs only
// through its WithLogger.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}
