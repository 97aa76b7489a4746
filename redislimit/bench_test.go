package redislimit_test

import (
	"testing"
	"time"

	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
)

// BenchmarkAllow measures one limiter decision: in-process
// (resilience.LocalLimiter) and in redis-server on loopback (one EVALSHA
// round trip), sequential and from parallel callers sharing one client. The
// rate never throttles, so every call takes the admit path.
//
//	go test -run '^$' -bench Allow -benchmem
func BenchmarkAllow(b *testing.B) {
	rate := resilience.Rate{Limit: 1 << 30, Period: time.Second}
	b.Run("local", func(b *testing.B) {
		lim := resilience.NewLocalLimiter(rate)
		for b.Loop() {
			if _, err := lim.Allow(b.Context(), "workspace/bot"); err != nil {
				b.Fatal(err)
			}
		}
	})
	srv := redistest.NewServer(b)
	for _, parallel := range []bool{false, true} {
		name := "redis"
		if parallel {
			name = "redis-parallel"
		}
		b.Run(name, func(b *testing.B) {
			rdb := testenv.NewClient(b, srv.Addr)
			lim := redislimit.New(rdb, rate, redislimit.WithPolicy(redislimit.FailClosed), redislimit.WithTimeout(time.Second))
			if _, err := lim.Allow(b.Context(), "workspace/bot"); err != nil { // dial, load the script
				b.Fatal(err)
			}
			if !parallel {
				for b.Loop() {
					if _, err := lim.Allow(b.Context(), "workspace/bot"); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := lim.Allow(b.Context(), "workspace/bot"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
