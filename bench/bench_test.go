package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmarks run the scenarios of go run . with the full sizes, one
// sub-benchmark per contender, for benchstat:
//
//	go test -run '^$' -bench . -benchmem -count 6 > new.txt

func BenchmarkChat(b *testing.B)        { benchScenarios(b, chatScenario()) }
func BenchmarkSSE(b *testing.B)         { benchScenarios(b, sseScenario()) }
func BenchmarkResilience(b *testing.B)  { benchScenarios(b, resilienceScenario()) }
func BenchmarkLayers(b *testing.B)      { benchScenarios(b, layersScenario()) }
func BenchmarkText(b *testing.B)        { benchScenarios(b, textScenario()) }
func BenchmarkLatency(b *testing.B)     { benchScenarios(b, latencyScenarios()...) }
func BenchmarkMemory(b *testing.B)      { benchScenarios(b, memoryScenarios()...) }
func BenchmarkConcurrency(b *testing.B) { benchScenarios(b, concurrencyScenario()) }
func BenchmarkOpenStreams(b *testing.B) { benchScenarios(b, openStreamsScenarios()...) }
func BenchmarkHTTP2(b *testing.B)       { benchScenarios(b, h2Scenario()) }
func BenchmarkRelay(b *testing.B)       { benchScenarios(b, relayScenarios()...) }

// TestMain lets the test binary serve the open-streams scenario when it is
// started as that scenario's child process.
func TestMain(m *testing.M) {
	serveIfChild()
	os.Exit(m.Run())
}

// benchScenarios runs each contender of each scenario as a sub-benchmark,
// named by the scenario's kind when there are several, then the contender.
func benchScenarios(b *testing.B, ss ...scenario) {
	for _, s := range ss {
		contenders, stop := s.setup(fullConfig)
		for _, c := range contenders {
			name := contenderID(c.name)
			if len(ss) > 1 {
				name = scenarioID(s.name) + "/" + name
			}
			b.Run(name, s.bench(fullConfig, c))
		}
		stop()
	}
}

// contenderID is the first word of a contender's name: floor, chatbot,
// openai-go, go-openai.
func contenderID(name string) string {
	return strings.Fields(strings.TrimSuffix(strings.SplitN(name, ":", 2)[0], ","))[0]
}

// scenarioID is the kind of a scenario in a group: "SSE" or "raw_text".
func scenarioID(name string) string {
	_, kind, _ := strings.Cut(name, ", ")
	kind, _, _ = strings.Cut(kind, " (")
	return strings.ReplaceAll(kind, " ", "_")
}

// testConfig keeps the tests short.
var testConfig = config{benchtime: time.Millisecond, rounds: 1, latencyDeltas: 20, memoryBytes: 2 << 20, streams: 50, openStreams: 50, h2Streams: 20}

// TestContenders runs one operation of every contender of every scenario and
// checks what it received: the whole reply, every stamp, no goroutine left.
func TestContenders(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) {
			contenders, stop := s.setup(testConfig)
			t.Cleanup(stop)
			require.GreaterOrEqual(t, len(contenders), 2, "the floor and at least one SDK")
			for _, c := range contenders {
				t.Run(contenderID(c.name), func(t *testing.T) {
					o, err := c.op(t.Context())
					require.NoError(t, err)
					require.NoError(t, s.check(testConfig, o))
					for _, l := range o.latencies {
						require.Positive(t, l, "a delta received before it was sent")
					}
					assert.Equal(t, 0, o.leftover, "goroutines left after the streams")
				})
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{"p99 of 100", ms(make([]int, 98)...), 0.99, 0},
		{"p99 takes the 99th of 100", append(ms(make([]int, 98)...), ms(5, 9)...), 0.99, 5 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3), 1, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}

func TestTable(t *testing.T) {
	s := chatScenario()
	floor := testing.BenchmarkResult{N: 10, T: 1000 * time.Microsecond, MemAllocs: 1000}
	sdk := testing.BenchmarkResult{N: 10, T: 1100 * time.Microsecond, MemAllocs: 1200}
	got := table([]scenario{s}, [][]result{{
		{name: "floor", median: floor},
		{name: "sdk", median: sdk, spread: 0.1},
		{name: "broken", failed: true},
	}})
	want := "| scenario | contender | figure | ratio to the floor |\n" +
		"|---|---|---|---|\n" +
		"| 1. chat round trip (200 B) | floor | 100.0 µs/op, 100 allocs/op | 1.00× time, +0 allocs |\n" +
		"| 1. chat round trip (200 B) | sdk | 110.0 µs/op, 120 allocs/op (±5%) | 1.10× time, +20 allocs |\n" +
		"| 1. chat round trip (200 B) | broken | FAILED | — |\n"
	assert.Equal(t, want, got)
}

func TestIDs(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"floor: net/http + sse.Read + encoding/json", "floor"},
		{"chatbot: workspace Stream", "chatbot"},
		{"openai-go v3.96.0", "openai-go"},
		{"go-openai v1.43.0", "go-openai"},
	} {
		assert.Equal(t, tt.want, contenderID(tt.in))
	}
	assert.Equal(t, "raw_text", scenarioID("5a. memory, raw text"))
	assert.Equal(t, "SSE", scenarioID("4a. delivery latency, SSE (1 delta/ms)"))
}

// TestOpenStreamsHoldOnlyNetHTTPGoroutines holds streams open through the
// SDK and checks that each costs only the two goroutines net/http keeps per
// HTTP/1.1 connection (its read and write loops): none of the SDK's own.
func TestOpenStreamsHoldOnlyNetHTTPGoroutines(t *testing.T) {
	for _, s := range openStreamsScenarios() {
		contenders, stop := s.setup(testConfig)
		o, err := contenders[1].op(t.Context())
		stop()
		require.NoError(t, err, s.name)
		require.NoError(t, s.check(testConfig, o), s.name)
		assert.LessOrEqual(t, o.open.goroutines, 2*o.open.streams, "%s: %d goroutines for %d open streams", s.name, o.open.goroutines, o.open.streams)
		assert.Equal(t, o.open.streams, o.open.dialed, "%s: one connection per open stream", s.name)
	}
}
