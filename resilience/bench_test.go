package resilience_test

import (
	"context"
	"iter"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
)

// chunkBot streams n chunks from memory, so that a benchmark measures only
// what the layers over it cost.
type chunkBot struct{ n int }

func (b chunkBot) Chat(context.Context, chatbot.Request) (*chatbot.Reply, error) {
	return &chatbot.Reply{Text: "x", ConversationID: "c1"}, nil
}

func (b chunkBot) Stream(context.Context, chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for i := range b.n {
			if !yield(chatbot.Chunk{Text: " tok", ConversationID: "c1", Done: i == b.n-1}, nil) {
				return
			}
		}
	}
}

func (b chunkBot) Info() chatbot.Info { return chatbot.Info{Provider: "memory", ChatbotID: "bot"} }

// BenchmarkStackPerChunk measures what Fallback, Breaker and Limit add to a
// stream of 10,000 chunks, per chunk:
//
//	go test -run '^$' -bench StackPerChunk -benchmem
func BenchmarkStackPerChunk(b *testing.B) {
	const n = 10_000
	bare := chunkBot{n: n}
	wrapped, err := resilience.NewFallback(resilience.Named{Name: "primary", Bot: chatbot.Wrap(bare,
		resilience.Breaker(),
		resilience.Limit(resilience.NewLocalLimiter(resilience.PerSecond(1_000_000_000))),
	)})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		bot  chatbot.Chatbot
	}{{"bare", bare}, {"Fallback+Breaker+Limit", wrapped}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				for c, err := range bc.bot.Stream(b.Context(), chatbot.Request{Message: "hi"}) {
					if err != nil {
						b.Fatal(err)
					}
					got += len(c.Text)
				}
				if got != 4*n {
					b.Fatalf("%d bytes", got)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/chunk")
		})
	}
}
