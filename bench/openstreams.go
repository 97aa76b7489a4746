package main

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatbot-go/chatbot"
)

// carefulBufSize is the read buffer of the floor's raw-text stream in the
// open-streams scenario: bufio's default, what a careful hand-written client
// holding thousands of streams would pick.
const carefulBufSize = 4 << 10

// openStreamsScenarios are scenario 7: cfg.openStreams streams held open at
// once against one server (in a child process) that sends a delta at once
// and then one every few seconds, as a relay service's provider streams
// are: mostly idle. Once every stream has received its first delta, the
// client's live heap and goroutines per open stream are read.
func openStreamsScenarios() []scenario {
	return []scenario{
		{
			name: "7a. open streams, SSE (10,000 held open; -quick: 1,000)",
			setup: func(cfg config) ([]contender, func()) {
				c, err := startChild()
				if err != nil {
					panic(err)
				}
				url := c.addr + "/api/v1/chatbots/" + chatbotID + "/chat"
				return []contender{
					{"floor: net/http + sse.Read + encoding/json", func(ctx context.Context) (outcome, error) {
						hc := newHTTPClient()
						defer hc.CloseIdleConnections()
						return holdStreams(ctx, c, cfg.openStreams, func(ctx context.Context, opened func()) (outcome, error) {
							return floorSSE(ctx, hc, url, func(string) { opened() })
						})
					}},
					{"chatbot: workspace Stream", func(ctx context.Context) (outcome, error) {
						bot := mustWorkspace(c.addr)
						return holdStreams(ctx, c, cfg.openStreams, func(ctx context.Context, opened func()) (outcome, error) {
							return chatbotStreamReq(ctx, bot, chatbot.Request{Message: "Hello"}, func(string) { opened() })
						})
					}},
				}, c.stop
			},
			check: openCheck, key: openKey, row: openRow,
		},
		{
			name: "7b. open streams, raw text (10,000 held open; -quick: 1,000)",
			setup: func(cfg config) ([]contender, func()) {
				c, err := startChild()
				if err != nil {
					panic(err)
				}
				url := c.addr + "/v1/chatbot/" + chatbotID + "/message"
				return []contender{
					{"floor: net/http body read loop, 4 KiB buffer", func(ctx context.Context) (outcome, error) {
						hc := newHTTPClient()
						defer hc.CloseIdleConnections()
						return holdStreams(ctx, c, cfg.openStreams, func(ctx context.Context, opened func()) (outcome, error) {
							return floorTextBuf(ctx, hc, url, carefulBufSize, func([]byte) { opened() })
						})
					}},
					{"chatbot: userdesk Stream", func(ctx context.Context) (outcome, error) {
						bot := mustUserdesk(c.addr)
						return holdStreams(ctx, c, cfg.openStreams, func(ctx context.Context, opened func()) (outcome, error) {
							return chatbotStreamReq(ctx, bot, chatbot.Request{Message: "Hello", ConversationID: convID}, func(string) { opened() })
						})
					}},
				}, c.stop
			},
			check: openCheck, key: openKey, row: openRow,
		},
	}
}

// openKey, openRow and openCheck are the key, row and check of the
// open-streams scenarios (7a, 7b, 11b).
func openKey(r testing.BenchmarkResult) float64 { return r.Extra["heap-KiB/stream"] }

func openRow(r, floor testing.BenchmarkResult) (string, string) {
	figure := fmt.Sprintf("%.2f KiB heap, %.2f KiB stack, %.2f goroutines besides the consumer, %.2f conns per open stream",
		r.Extra["heap-KiB/stream"], r.Extra["stack-KiB/stream"], r.Extra["goroutines/stream"], r.Extra["conns/stream"])
	ratio := fmt.Sprintf("%.2f× heap, %+.2f goroutines per stream", r.Extra["heap-KiB/stream"]/floor.Extra["heap-KiB/stream"],
		r.Extra["goroutines/stream"]-floor.Extra["goroutines/stream"])
	return figure, ratio
}

func openCheck(cfg config, o outcome) error {
	if o.open.streams != cfg.openStreams {
		return fmt.Errorf("%d streams held open, want %d", o.open.streams, cfg.openStreams)
	}
	if o.deltas < cfg.openStreams {
		return fmt.Errorf("%d deltas for %d streams", o.deltas, cfg.openStreams)
	}
	return nil
}

// holdStreams opens n streams at once with open, each calling opened after
// its first delta; once all have, it reads the heap, stack and goroutine
// growth against a reading taken before, then releases the streams and
// waits for them to complete.
func holdStreams(ctx context.Context, c *child, n int, open func(ctx context.Context, opened func()) (outcome, error)) (outcome, error) {
	var dialed atomic.Int64
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			dialed.Add(1)
		}
	}})
	before := readOpenCost()
	var (
		opened sync.WaitGroup
		done   sync.WaitGroup
		mu     sync.Mutex
		total  outcome
		first  error
	)
	opened.Add(n)
	for range n {
		done.Go(func() {
			var once sync.Once
			signal := func() { once.Do(opened.Done) }
			o, err := open(ctx, signal)
			signal() // a stream that failed before its first delta
			mu.Lock()
			defer mu.Unlock()
			total.deltas += o.deltas
			total.bytes += o.bytes
			first = firstErr(first, err)
		})
	}
	opened.Wait()
	held := readOpenCost()
	if err := writeHeapProfile(); err != nil {
		return total, err
	}
	if err := c.release(); err != nil {
		return total, err
	}
	done.Wait()
	total.open = openCost{
		streams:    n,
		heap:       held.heap - before.heap,
		stacks:     held.stacks - before.stacks,
		goroutines: held.goroutines - before.goroutines - n, // the consumers' own
		dialed:     int(dialed.Load()),
	}
	return total, first
}

// heapProfilePrefix, when set by -heapprofile, names the files to which
// each open-streams operation writes a heap profile while its streams are
// held open: the prefix, then a sequence number.
var (
	heapProfilePrefix string
	heapProfiles      atomic.Int64
)

func writeHeapProfile() error {
	if heapProfilePrefix == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s%d.pprof", heapProfilePrefix, heapProfiles.Add(1)))
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// readOpenCost reads the live heap (after two GCs, so that nothing
// unreachable is counted), the stack memory and the goroutine count.
func readOpenCost() openCost {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return openCost{heap: int64(s[0].Value.Uint64()), stacks: int64(s[1].Value.Uint64()), goroutines: runtime.NumGoroutine()}
}
