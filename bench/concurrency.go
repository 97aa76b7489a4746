package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// concurrentDeltas is the length of each stream of the concurrency scenario.
const concurrentDeltas = 100

// goroutineWait bounds the wait for goroutines to end once the server is
// closed.
const goroutineWait = 5 * time.Second

// concurrencyScenario is scenario 6: cfg.streams concurrent streams on one
// client, against a fresh server each time.
func concurrencyScenario() scenario {
	body, _ := sseBody(concurrentDeltas)
	handler := bodyHandler("text/event-stream", body)
	return scenario{
		name: "6. concurrency (1,000 streams, one client; -quick: 100)",
		setup: func(cfg config) ([]contender, func()) {
			return []contender{
				{"floor: net/http + sse.Read + encoding/json", func(ctx context.Context) (outcome, error) {
					return concurrent(ctx, cfg.streams, handler, func(base string) func(context.Context) (outcome, error) {
						hc := newHTTPClient()
						url := base + "/api/v1/chatbots/" + chatbotID + "/chat"
						return func(ctx context.Context) (outcome, error) { return floorSSE(ctx, hc, url, nil) }
					})
				}},
				{"chatbot: workspace Stream", func(ctx context.Context) (outcome, error) {
					return concurrent(ctx, cfg.streams, handler, func(base string) func(context.Context) (outcome, error) {
						bot := mustWorkspace(base)
						return func(ctx context.Context) (outcome, error) { return chatbotStream(ctx, bot, nil) }
					})
				}},
			}, func() {}
		},
		check: func(cfg config, o outcome) error {
			if want := cfg.streams * concurrentDeltas; o.deltas != want {
				return fmt.Errorf("%d deltas, want %d", o.deltas, want)
			}
			return nil
		},
		key: func(r testing.BenchmarkResult) float64 { return r.Extra["wall-ms/op"] },
		row: func(r, floor testing.BenchmarkResult) (string, string) {
			figure := fmt.Sprintf("%.0f ms wall, %.0f TCP conns, %.0f goroutines left",
				r.Extra["wall-ms/op"], r.Extra["conns/op"], r.Extra["goroutines-left"])
			return figure, fmt.Sprintf("%.2f× time", r.Extra["wall-ms/op"]/floor.Extra["wall-ms/op"])
		},
	}
}

// concurrent starts a server with handler, makes one client for it with
// newStream, runs n of its streams at once, closes the server and counts
// the goroutines left once the server's are gone.
func concurrent(ctx context.Context, n int, handler http.HandlerFunc, newStream func(base string) func(context.Context) (outcome, error)) (outcome, error) {
	before := runtime.NumGoroutine()
	srv := newServer(handler)
	total, err := fanOut(ctx, n, newStream(srv.URL))
	total.conns = int(srv.conns.Load())
	srv.Close()
	total.leftover = goroutinesLeft(ctx, before)
	return total, err
}

// fanOut runs n streams at once and sums what they received, with the wall
// time of the whole and the first error.
func fanOut(ctx context.Context, n int, stream func(context.Context) (outcome, error)) (outcome, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total outcome
		first error
	)
	start := time.Now()
	for range n {
		wg.Go(func() {
			o, err := stream(ctx)
			mu.Lock()
			defer mu.Unlock()
			total.deltas += o.deltas
			total.bytes += o.bytes
			first = firstErr(first, err)
		})
	}
	wg.Wait()
	total.wall = time.Since(start)
	return total, first
}

// goroutinesLeft waits up to goroutineWait for the goroutine count to fall
// back to before and returns how many more remain.
func goroutinesLeft(ctx context.Context, before int) int {
	deadline := time.NewTimer(goroutineWait)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		left := runtime.NumGoroutine() - before
		if left <= 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return left
		case <-deadline.C:
			return left
		case <-tick.C:
		}
	}
}
