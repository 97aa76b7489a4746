package main

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkChatPaired measures scenario 1's ratio in a way a shared machine
// can resolve: each iteration times a block of calls of the floor and one of
// the SDK back to back (in alternating order), and the figure reported is the
// median of the per-block ratios, from which the machine's drift and its
// neighbours' load cancel out. BenchmarkChat's separate one-second runs of
// each contender do not resolve a 10 % difference on a busy machine. Run it
// with a fixed count of pairs (ns/op is the time of one pair of blocks):
//
//	go test -run '^$' -bench ChatPaired -benchtime 300x
func BenchmarkChatPaired(b *testing.B) {
	const block = 200 // calls per contender per pair, about 15 ms each
	cs, stop := chatScenario().setup(fullConfig)
	defer stop()
	floor, sdk := cs[0], cs[1]
	run := func(c contender) time.Duration {
		start := time.Now()
		for range block {
			if _, err := c.op(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	run(floor) // warm both connections
	run(sdk)
	var (
		ratios         []float64
		floorT, chatbT time.Duration
	)
	for i := 0; b.Loop(); i++ {
		var f, s time.Duration
		if i%2 == 0 {
			f, s = run(floor), run(sdk)
		} else {
			s, f = run(sdk), run(floor)
		}
		floorT, chatbT = floorT+f, chatbT+s
		ratios = append(ratios, float64(s)/float64(f))
	}
	slices.Sort(ratios)
	n := len(ratios)
	b.ReportMetric(ratios[n/2], "chatbot/floor")
	b.ReportMetric(ratios[n/4], "q1")
	b.ReportMetric(ratios[3*n/4], "q3")
	calls := float64(n * block)
	b.ReportMetric(float64(floorT.Microseconds())/calls, "floor-µs/call")
	b.ReportMetric(float64(chatbT.Microseconds())/calls, "chatbot-µs/call")
}
