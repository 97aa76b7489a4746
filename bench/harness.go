package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// config sizes a run.
type config struct {
	benchtime     time.Duration // per contender and round, as go test's -benchtime
	rounds        int           // interleaved rounds; the median is reported
	latencyDeltas int           // deltas per latency stream (one per millisecond)
	memoryBytes   int64         // size of the memory scenario's reply
	streams       int           // concurrent streams in the concurrency scenario
	openStreams   int           // streams held open at once in the open-streams scenario
	h2Streams     int           // concurrent streams in the HTTP/2 scenario
}

// fullConfig is the default run; quickConfig is the -quick smoke run.
var (
	fullConfig  = config{benchtime: time.Second, rounds: 3, latencyDeltas: 2000, memoryBytes: 100 << 20, streams: 1000, openStreams: 10000, h2Streams: 1000}
	quickConfig = config{benchtime: 50 * time.Millisecond, rounds: 1, latencyDeltas: 100, memoryBytes: 8 << 20, streams: 100, openStreams: 1000, h2Streams: 100}
)

// outcome is what one operation of a contender observed.
type outcome struct {
	deltas     int             // text deltas received
	bytes      int64           // text bytes received
	conns      int             // TCP connections the server accepted during the operation
	latencies  []time.Duration // receive minus send, per delta
	heapPeak   int64           // peak growth of the heap (live and unswept objects)
	livePeak   int64           // peak growth of the heap live at a GC
	leftover   int             // goroutines left once the server is gone
	wall       time.Duration   // wall time of the operation's own work
	open       openCost        // what the streams held open at once cost
	idealConns int             // the fewest connections that could carry the operation's streams
}

// openCost is the client-side cost of streams held open at once, measured
// once all of them have received their first delta.
type openCost struct {
	streams    int   // streams open
	heap       int64 // growth of the live heap (after a GC)
	stacks     int64 // growth of goroutine stack memory
	goroutines int   // growth of the goroutine count, the consumers' own excluded
	dialed     int   // connections the server accepted
}

// contender is one way of doing a scenario's operation: the floor, the SDK
// or a peer SDK.
type contender struct {
	name string
	op   func(ctx context.Context) (outcome, error)
}

// scenario is one row group of the table.
type scenario struct {
	name string
	// setup starts the scenario's servers and returns its contenders, the
	// floor first, and the function that stops the servers.
	setup func(cfg config) ([]contender, func())
	// check validates one operation's outcome.
	check func(cfg config, o outcome) error
	// key is the figure compared across rounds to take the median.
	key func(r testing.BenchmarkResult) float64
	// row formats a result and its ratio to the floor's.
	row func(r, floor testing.BenchmarkResult) (figure, ratio string)
}

// aggregate sums the outcomes of a benchmark's operations.
type aggregate struct {
	ops       int
	deltas    int
	bytes     int64
	conns     int
	latencies []time.Duration
	heapPeak  int64
	livePeak  int64
	leftover  int
	wall      time.Duration
	open      openCost
	ideal     int
}

func (a *aggregate) add(o outcome) {
	a.ops++
	a.deltas += o.deltas
	a.bytes += o.bytes
	a.conns += o.conns
	a.latencies = append(a.latencies, o.latencies...)
	a.heapPeak = max(a.heapPeak, o.heapPeak)
	a.livePeak = max(a.livePeak, o.livePeak)
	a.leftover = max(a.leftover, o.leftover)
	a.wall += o.wall
	a.open.streams += o.open.streams
	a.open.heap += o.open.heap
	a.open.stacks += o.open.stacks
	a.open.goroutines += o.open.goroutines
	a.open.dialed += o.open.dialed
	a.ideal += o.idealConns
}

// report attaches the aggregate's figures to b as custom metrics.
func (a *aggregate) report(b *testing.B) {
	if a.ops == 0 {
		return
	}
	secs := b.Elapsed().Seconds()
	ops := float64(a.ops)
	if a.deltas > 0 {
		b.ReportMetric(float64(a.deltas)/secs, "deltas/s")
	}
	if a.bytes > 0 {
		b.ReportMetric(float64(a.bytes)/1e6/secs, "MB/s")
	}
	b.ReportMetric(float64(a.conns)/ops, "conns/op")
	if len(a.latencies) > 0 {
		slices.Sort(a.latencies)
		b.ReportMetric(micros(percentile(a.latencies, 0.50)), "p50-µs")
		b.ReportMetric(micros(percentile(a.latencies, 0.99)), "p99-µs")
	}
	if a.heapPeak > 0 || a.livePeak > 0 {
		b.ReportMetric(float64(a.bytes)/1e6/ops, "MB/op")
		b.ReportMetric(float64(a.heapPeak)/(1<<20), "heap-peak-MiB")
		b.ReportMetric(float64(a.livePeak)/(1<<20), "live-peak-MiB")
	}
	if a.wall > 0 {
		b.ReportMetric(float64(a.wall.Milliseconds())/ops, "wall-ms/op")
		b.ReportMetric(float64(a.leftover), "goroutines-left")
	}
	if a.ideal > 0 {
		b.ReportMetric(float64(a.ideal)/ops, "ideal-conns/op")
	}
	if n := float64(a.open.streams); n > 0 {
		b.ReportMetric(float64(a.open.heap)/1024/n, "heap-KiB/stream")
		b.ReportMetric(float64(a.open.stacks)/1024/n, "stack-KiB/stream")
		b.ReportMetric(float64(a.open.goroutines)/n, "goroutines/stream")
		b.ReportMetric(float64(a.open.dialed)/n, "conns/stream")
	}
}

// percentile returns the p-th quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// bench turns a contender into a benchmark body for s.
func (s scenario) bench(cfg config, c contender) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		var agg aggregate
		for b.Loop() {
			o, err := c.op(b.Context())
			if err == nil {
				err = s.check(cfg, o)
			}
			if err != nil {
				b.Fatalf("%s: %s: %v", s.name, c.name, err)
			}
			agg.add(o)
		}
		agg.report(b)
	}
}

// result is a contender's median result over the rounds, with the spread of
// its key figure ((max-min)/median).
type result struct {
	scenario string
	name     string
	median   testing.BenchmarkResult
	spread   float64
	failed   bool
}

// runScenario runs every contender of s cfg.rounds times, interleaved, and
// returns the median results, the floor first.
func runScenario(cfg config, s scenario, progress io.Writer) []result {
	contenders, stop := s.setup(cfg)
	defer stop()
	runs := make([][]testing.BenchmarkResult, len(contenders))
	for round := range cfg.rounds {
		for i, c := range contenders {
			fmt.Fprintf(progress, "round %d/%d: %s: %s\n", round+1, cfg.rounds, s.name, c.name)
			runs[i] = append(runs[i], testing.Benchmark(s.bench(cfg, c)))
		}
	}
	results := make([]result, len(contenders))
	for i, c := range contenders {
		rs := runs[i]
		res := result{scenario: s.name, name: c.name}
		for _, r := range rs {
			if r.N == 0 {
				res.failed = true
			}
		}
		if !res.failed {
			slices.SortFunc(rs, func(a, b testing.BenchmarkResult) int { return cmpFloat(s.key(a), s.key(b)) })
			res.median = rs[len(rs)/2]
			if m := s.key(res.median); m != 0 {
				res.spread = (s.key(rs[len(rs)-1]) - s.key(rs[0])) / m
			}
		}
		results[i] = res
	}
	return results
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// table renders the results as one markdown table.
func table(scenarios []scenario, results [][]result) string {
	var sb strings.Builder
	sb.WriteString("| scenario | contender | figure | ratio to the floor |\n")
	sb.WriteString("|---|---|---|---|\n")
	for i, s := range scenarios {
		rs := results[i]
		for _, r := range rs {
			figure, ratio := "FAILED", "—"
			if !r.failed && !rs[0].failed {
				figure, ratio = s.row(r.median, rs[0].median)
				if r.spread > 0 {
					figure += fmt.Sprintf(" (±%.0f%%)", 100*r.spread/2)
				}
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s |\n", s.name, r.name, figure, ratio)
		}
	}
	return sb.String()
}
