package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/chatbot-go/chatbot"
)

// memBlockSize is about the size of the block the memory scenarios' server
// repeats.
const memBlockSize = 64 << 10

// memTextBlock is the raw text block, whole samples only.
var memTextBlock = bytes.Repeat([]byte(textSample), memBlockSize/len(textSample))

// memDelta is the text of every delta of the SSE memory scenario.
var memDelta = string(bytes.Repeat([]byte("0123456789"), 20))

// memSSEBlock is the SSE block: whole events only.
var memSSEBlock = bytes.Repeat(openAIEvent(memDelta), memBlockSize/len(openAIEvent(memDelta)))

// memText returns the text bytes a reply of about cfg.memoryBytes made of
// block carries, given the text bytes of one block.
func memText(cfg config, block []byte, textPerBlock int) int64 {
	blocks := (cfg.memoryBytes + int64(len(block)) - 1) / int64(len(block))
	return blocks * int64(textPerBlock)
}

// memoryScenarios are scenario 5: a long reply consumed chunk by chunk
// (without Collect), raw text (userdesk) and SSE (workspace): peak heap
// growth.
func memoryScenarios() []scenario {
	key := func(r testing.BenchmarkResult) float64 { return r.Extra["live-peak-MiB"] }
	row := func(r, floor testing.BenchmarkResult) (string, string) {
		figure := fmt.Sprintf("heap peak +%.2f MiB, retained (after GC) +%.2f MiB, %.0f allocs/MB, %.0f KiB allocated/MB",
			r.Extra["heap-peak-MiB"], r.Extra["live-peak-MiB"], float64(r.AllocsPerOp())/(r.Extra["MB/op"]),
			float64(r.AllocedBytesPerOp())/1024/r.Extra["MB/op"])
		ratio := fmt.Sprintf("%+.2f MiB retained, %+.2f MiB heap peak", r.Extra["live-peak-MiB"]-floor.Extra["live-peak-MiB"],
			r.Extra["heap-peak-MiB"]-floor.Extra["heap-peak-MiB"])
		return figure, ratio
	}
	sseText := len(memSSEBlock) / len(openAIEvent(memDelta)) * len(memDelta)
	return []scenario{
		{
			name: "5a. memory, raw text",
			setup: func(cfg config) ([]contender, func()) {
				srv := newServer(repeatHandler("text/plain; charset=utf-8", memTextBlock, cfg.memoryBytes, nil))
				hc := newHTTPClient()
				bot := mustUserdesk(srv.URL)
				url := srv.URL + "/v1/chatbot/" + chatbotID + "/message"
				return srv.count([]contender{
					heapMeasured(cfg, "floor: net/http body read loop", func(ctx context.Context, probe func(int)) (outcome, error) {
						return floorText(ctx, hc, url, func(b []byte) { probe(len(b)) })
					}),
					heapMeasured(cfg, "chatbot: userdesk Stream", func(ctx context.Context, probe func(int)) (outcome, error) {
						req := chatbot.Request{Message: "Hello", ConversationID: convID}
						return chatbotStreamReq(ctx, bot, req, func(s string) { probe(len(s)) })
					}),
				}), srv.Close
			},
			check: func(cfg config, o outcome) error {
				if want := memText(cfg, memTextBlock, len(memTextBlock)); o.bytes != want {
					return fmt.Errorf("%d bytes, want %d", o.bytes, want)
				}
				return nil
			},
			key: key, row: row,
		},
		{
			name: "5b. memory, SSE",
			setup: func(cfg config) ([]contender, func()) {
				srv := newServer(repeatHandler("text/event-stream", memSSEBlock, cfg.memoryBytes, doneEvent))
				hc := newHTTPClient()
				bot := mustWorkspace(srv.URL)
				url := srv.URL + "/api/v1/chatbots/" + chatbotID + "/chat"
				return srv.count([]contender{
					heapMeasured(cfg, "floor: net/http + sse.Read + encoding/json", func(ctx context.Context, probe func(int)) (outcome, error) {
						return floorSSE(ctx, hc, url, func(s string) { probe(len(s)) })
					}),
					heapMeasured(cfg, "chatbot: workspace Stream", func(ctx context.Context, probe func(int)) (outcome, error) {
						return chatbotStream(ctx, bot, func(s string) { probe(len(s)) })
					}),
				}), srv.Close
			},
			check: func(cfg config, o outcome) error {
				if want := memText(cfg, memSSEBlock, sseText); o.bytes != want {
					return fmt.Errorf("%d bytes, want %d", o.bytes, want)
				}
				return nil
			},
			key: key, row: row,
		},
	}
}

// heapMeasured makes a contender whose operation records the peak growth
// of the heap, against the heap after a GC just before it: sampled every
// 200 µs (live and not yet swept objects: this depends on the GC's pacing),
// and retained, read after a GC forced by the consumer itself every tenth of
// the reply, while nothing else allocates (op calls probe with the size of
// each piece it receives).
func heapMeasured(cfg config, name string, op func(ctx context.Context, probe func(n int)) (outcome, error)) contender {
	return contender{name: name, op: func(ctx context.Context) (outcome, error) {
		runtime.GC()
		base := readHeap()
		every := max(cfg.memoryBytes/10, 1)
		var seen, retained int64
		next := every
		probe := func(n int) {
			if seen += int64(n); seen < next {
				return
			}
			next += every
			runtime.GC()
			retained = max(retained, readHeap().objects-base.objects)
		}
		stop, peaks := make(chan struct{}), make(chan heap)
		go sampleHeap(stop, peaks)
		o, err := op(ctx, probe)
		close(stop)
		peak := <-peaks
		o.heapPeak = peak.objects - base.objects
		o.livePeak = max(retained, 1) // 1 byte: a zero would hide the metric
		return o, err
	}}
}

// heap is a reading of the heap: the bytes of live and not yet swept
// objects.
type heap struct{ objects int64 }

func readHeap() heap {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return heap{objects: int64(s[0].Value.Uint64())}
}

// sampleHeap reads the heap every 200 µs until stop is closed, then sends
// the peak.
func sampleHeap(stop <-chan struct{}, peaks chan<- heap) {
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	var peak heap
	for {
		peak.objects = max(peak.objects, readHeap().objects)
		select {
		case <-stop:
			peaks <- peak
			return
		case <-tick.C:
		}
	}
}
