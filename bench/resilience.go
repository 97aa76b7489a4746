package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
)

// resilienceScenario is scenario 2r: the SSE scenario's stream read through
// the bare workspace client and through three resilience layers over it (a
// Fallback over one chatbot behind Breaker and Limit with a generous local
// rate), to measure what the layers add. The bare client is the reference
// the ratio is taken to.
func resilienceScenario() scenario {
	sse := sseScenario()
	return scenario{
		name: "2r. SSE stream through three resilience middlewares (10,000 deltas)",
		setup: func(cfg config) ([]contender, func()) {
			body, _ := sseBody(sseDeltas)
			srv := newServer(bodyHandler("text/event-stream", body))
			bare := mustWorkspace(srv.URL)
			wrapped, err := resilience.NewFallback(resilience.Named{Name: "primary", Bot: chatbot.Wrap(bare,
				resilience.Breaker(),
				resilience.Limit(resilience.NewLocalLimiter(resilience.PerSecond(1_000_000))),
			)})
			if err != nil {
				panic(err)
			}
			return srv.count([]contender{
				{"reference: workspace Stream, bare", func(ctx context.Context) (outcome, error) {
					return chatbotStream(ctx, bare, nil)
				}},
				{"chatbot: workspace Stream + Fallback, Breaker, Limit", func(ctx context.Context) (outcome, error) {
					return chatbotStream(ctx, wrapped, nil)
				}},
			}), srv.Close
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
