package interop_test

import (
	"context"
	"iter"

	"github.com/chatbot-go/chatbot"
)

// scripted is a Chatbot whose Stream yields chunks, then err when set.
type scripted struct {
	chunks []chatbot.Chunk
	err    error
}

func (s scripted) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(s.Stream(ctx, req))
}

func (s scripted) Stream(context.Context, chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, c := range s.chunks {
			if !yield(c, nil) {
				return
			}
		}
		if s.err != nil {
			yield(chatbot.Chunk{}, s.err)
		}
	}
}
