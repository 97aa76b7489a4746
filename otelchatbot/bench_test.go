package otelchatbot_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace"
)

// sseBody renders a workspace stream of n deltas, as the bench module's SSE
// scenario does, in the workspace fake's default event format.
func sseBody(n int) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(`data: {"type":"content","content":" tok` + strconv.Itoa(i%1000) + `"}` + "\n\n")
	}
	b.WriteString(`data: {"type":"done","conversationId":"conv1","messageId":"msg1"}` + "\n\ndata: [DONE]\n\n")
	return []byte(b.String())
}

// BenchmarkStream reads the same pre-rendered SSE reply through a workspace
// client, plain and wrapped in the middleware with the OpenTelemetry SDK
// (every span sampled and recorded, every metric aggregated), and with
// WithChunkTimes as well. The server
// writes the whole body at once, so the figures are the client's own cost:
//
//	cd otelchatbot && go test -run '^$' -bench Stream -benchmem -count 6
func BenchmarkStream(b *testing.B) {
	for _, deltas := range []int{100, 10_000} {
		bots := benchBots(b, deltas)
		for _, name := range []string{"plain", "otel", "otel+chunktimes"} {
			b.Run(fmt.Sprintf("deltas=%d/%s", deltas, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					readStream(b, bots[name], deltas)
				}
				b.ReportMetric(float64(b.N*deltas)/b.Elapsed().Seconds(), "deltas/s")
			})
		}
	}
}

// BenchmarkStreamOverhead times plain and instrumented streams in
// alternation, one of each per iteration (the order alternating too), and
// reports the median time of each and the overhead of the medians, which a
// busy machine's drift affects far less than separate benchmarks:
//
//	cd otelchatbot && go test -run '^$' -bench StreamOverhead -benchtime 400x -count 3
func BenchmarkStreamOverhead(b *testing.B) {
	for _, deltas := range []int{100, 10_000} {
		bots := benchBots(b, deltas)
		for _, name := range []string{"otel", "otel+chunktimes"} {
			b.Run(fmt.Sprintf("deltas=%d/%s", deltas, name), func(b *testing.B) {
				var plain, traced []time.Duration
				timed := func(bot chatbot.Chatbot) time.Duration {
					start := time.Now()
					readStream(b, bot, deltas)
					return time.Since(start)
				}
				i := 0
				for b.Loop() {
					if i%2 == 0 {
						plain = append(plain, timed(bots["plain"]))
						traced = append(traced, timed(bots[name]))
					} else {
						traced = append(traced, timed(bots[name]))
						plain = append(plain, timed(bots["plain"]))
					}
					i++
				}
				p, o := median(plain), median(traced)
				b.ReportMetric(float64(p.Microseconds()), "plain-µs/stream")
				b.ReportMetric(float64(o.Microseconds()), "otel-µs/stream")
				b.ReportMetric(100*(float64(o)/float64(p)-1), "overhead-%")
			})
		}
	}
}

// benchBots serves a pre-rendered stream of deltas and returns a workspace
// client of it, plain and wrapped, by name.
func benchBots(b *testing.B, deltas int) map[string]chatbot.Chatbot {
	body := sseBody(deltas)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	plain, err := workspace.NewClient("sk-workspace_bench", "bot", chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(b, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	return map[string]chatbot.Chatbot{
		"plain": plain,
		"otel": chatbot.Wrap(plain, otelchatbot.Middleware(
			otelchatbot.WithTracerProvider(tp), otelchatbot.WithMeterProvider(mp))),
		"otel+chunktimes": chatbot.Wrap(plain, otelchatbot.Middleware(
			otelchatbot.WithTracerProvider(tp), otelchatbot.WithMeterProvider(mp), otelchatbot.WithChunkTimes())),
	}
}

// readStream reads one whole stream, checking it has every delta.
func readStream(b *testing.B, bot chatbot.Chatbot, deltas int) {
	n := 0
	for _, err := range bot.Stream(b.Context(), chatbot.Request{Message: "hi"}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != deltas+1 {
		b.Fatalf("%d chunks, want %d", n, deltas+1)
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// memBot streams n chunks from memory, so that BenchmarkCost measures the
// middleware alone.
type memBot struct{ n int }

func (m memBot) Chat(context.Context, chatbot.Request) (*chatbot.Reply, error) {
	return &chatbot.Reply{Text: "x", ConversationID: "c", MessageID: "m"}, nil
}

func (m memBot) Stream(context.Context, chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for i := range m.n {
			if !yield(chatbot.Chunk{Text: "x", ConversationID: "c", MessageID: "m", Done: i == m.n-1}, nil) {
				return
			}
		}
	}
}

func (memBot) Info() chatbot.Info { return chatbot.Info{Provider: "workspace", ChatbotID: "bot"} }

// BenchmarkCost is the middleware's own cost, over an in-memory stream of
// 1 and of 1,000 chunks: the difference between the plain and the otel
// figures is the cost per stream and per chunk.
//
//	cd otelchatbot && go test -run '^$' -bench Cost -benchmem -count 6
func BenchmarkCost(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	for _, n := range []int{1, 1000} {
		bots := map[string]chatbot.Chatbot{
			"plain": memBot{n},
			"otel":  chatbot.Wrap(memBot{n}, otelchatbot.Middleware(otelchatbot.WithTracerProvider(tp), otelchatbot.WithMeterProvider(mp))),
			"otel+chunktimes": chatbot.Wrap(memBot{n}, otelchatbot.Middleware(
				otelchatbot.WithTracerProvider(tp), otelchatbot.WithMeterProvider(mp), otelchatbot.WithChunkTimes())),
		}
		for _, name := range []string{"plain", "otel", "otel+chunktimes"} {
			b.Run(fmt.Sprintf("chunks=%d/%s", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for _, err := range bots[name].Stream(b.Context(), chatbot.Request{Message: "hi"}) {
						if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
