package main

import (
	"context"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
)

// BenchmarkRelayHeld isolates what scenario 11b measures with the network
// and the provider client around it: the heap a relay handler itself holds
// per open stream. It holds relayHeld handlers open at once, each relaying
// one delta of a chatbot that then stays silent, to an in-memory
// ResponseWriter, and reports the live heap growth per stream (heap-B/op is
// per stream):
//
//	go test -run '^$' -bench RelayHeld -count 6
func BenchmarkRelayHeld(b *testing.B) {
	for _, c := range []struct {
		name    string
		handler func(chatbot.Chatbot) http.Handler
	}{
		{"floor", floorRelay},
		{"floor-no-heartbeat", floorRelayNoHeartbeat},
		{"chatbot", func(bot chatbot.Chatbot) http.Handler {
			return relay.Handler(bot, nil, relay.WithFormat(relay.FormatSSE))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var perStream float64
			for b.Loop() {
				perStream = holdRelays(b, c.handler)
			}
			b.ReportMetric(perStream, "heap-B/stream")
		})
	}
}

const relayHeld = 1000

func init() {
	if os.Getenv("RELAY_HELD_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
}

func holdRelays(b *testing.B, handler func(chatbot.Chatbot) http.Handler) float64 {
	bot := &silentBot{release: make(chan struct{})}
	h := handler(bot)
	reqs := make([]*http.Request, relayHeld)
	ws := make([]*memWriter, relayHeld)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/chat", strings.NewReader(`{"message":"Hello"}`))
		reqs[i].Header.Set("Content-Type", "application/json")
		ws[i] = &memWriter{header: http.Header{}, wrote: make(chan struct{})}
	}
	before := readOpenCost()
	var done sync.WaitGroup
	for i := range reqs {
		done.Go(func() { h.ServeHTTP(ws[i], reqs[i]) })
	}
	for _, w := range ws {
		<-w.wrote
	}
	held := readOpenCost()
	runtime.KeepAlive(reqs) // as a server keeps each request while it is served
	if f := os.Getenv("RELAY_HELD_PROFILE"); f != "" {
		out, _ := os.Create(f)
		_ = pprof.Lookup("heap").WriteTo(out, 0)
		out.Close()
	}
	close(bot.release)
	done.Wait()
	for _, w := range ws {
		if w.n == 0 {
			b.Fatal("a relay wrote nothing")
		}
	}
	return float64(held.heap-before.heap) / relayHeld
}

// silentBot streams one delta, then nothing until release is closed.
type silentBot struct{ release chan struct{} }

func (s *silentBot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(s.Stream(ctx, req))
}

func (s *silentBot) Stream(ctx context.Context, _ chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		if !yield(chatbot.Chunk{Text: "Hello"}, nil) {
			return
		}
		select {
		case <-s.release:
			yield(chatbot.Chunk{Done: true}, nil)
		case <-ctx.Done():
			yield(chatbot.Chunk{}, ctx.Err())
		}
	}
}

// memWriter is a ResponseWriter that counts the bytes written and closes
// wrote at the first flush.
type memWriter struct {
	header http.Header
	n      int
	once   sync.Once
	wrote  chan struct{}
}

func (w *memWriter) Header() http.Header { return w.header }
func (w *memWriter) WriteHeader(int)     {}
func (w *memWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return io.Discard.Write(p)
}
func (w *memWriter) Flush() { w.once.Do(func() { close(w.wrote) }) }
