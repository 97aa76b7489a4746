package main

import (
	"context"
	"fmt"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/resilience"
)

// layersScenario is scenario 2l: the SSE scenario's stream read through the
// bare workspace client and through each middleware that has landed, one at
// a time, so that each layer's own cost shows: the circuit breaker, the
// in-process rate limiter (a rate that never throttles), and OpenTelemetry
// tracing with the SDK's tracer and meter providers recording every span
// and metric (nothing exported). The bare client is the reference the ratio
// is taken to. The Redis limiter's cost per call is a network round trip;
// redislimit's own benchmark measures it against a real redis-server.
func layersScenario() scenario {
	sse := sseScenario()
	return scenario{
		name: "2l. SSE stream through each middleware (10,000 deltas)",
		setup: func(cfg config) ([]contender, func()) {
			body, _ := sseBody(sseDeltas)
			srv := newServer(bodyHandler("text/event-stream", body))
			bare := mustWorkspace(srv.URL)
			tp := sdktrace.NewTracerProvider()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			layers := []struct {
				name string
				mw   chatbot.Middleware
			}{
				{"Breaker", resilience.Breaker()},
				{"Limit (local)", resilience.Limit(resilience.NewLocalLimiter(resilience.PerSecond(1_000_000)))},
				{"otelchatbot", otelchatbot.Middleware(otelchatbot.WithTracerProvider(tp), otelchatbot.WithMeterProvider(mp))},
			}
			cs := []contender{{"reference: workspace Stream, bare", func(ctx context.Context) (outcome, error) {
				return chatbotStream(ctx, bare, nil)
			}}}
			for _, l := range layers {
				bot := chatbot.Wrap(bare, l.mw)
				cs = append(cs, contender{"chatbot: workspace Stream + " + l.name, func(ctx context.Context) (outcome, error) {
					return chatbotStream(ctx, bot, nil)
				}})
			}
			return srv.count(cs), func() {
				srv.Close()
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			}
		},
		check: sse.check,
		key:   sse.key,
		row: func(r, ref testing.BenchmarkResult) (string, string) {
			figure, _ := sse.row(r, ref)
			return figure, fmt.Sprintf("%.3f× deltas/s, %+.4f allocs/delta", r.Extra["deltas/s"]/ref.Extra["deltas/s"],
				float64(int64(r.AllocsPerOp())-int64(ref.AllocsPerOp()))/sseDeltas)
		},
	}
}
