package chatbot_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
)

// Collect folds a stream into a reply. On error it returns the partial reply
// together with the error, so nothing that arrived is lost.
func ExampleCollect() {
	chunks := func(yield func(chatbot.Chunk, error) bool) {
		_ = yield(chatbot.Chunk{Text: "Hello, ", ConversationID: "c-1"}, nil) &&
			yield(chatbot.Chunk{Text: "world.", ConversationID: "c-1"}, nil) &&
			yield(chatbot.Chunk{ConversationID: "c-1", MessageID: "m-9", Done: true}, nil)
	}
	reply, err := chatbot.Collect(chunks)
	if err != nil {
		fmt.Println("partial:", reply.Text, "error:", err)
		return
	}
	fmt.Println(reply.Text)
	fmt.Println(reply.ConversationID, reply.MessageID)
	// Output:
	// Hello, world.
	// c-1 m-9
}

// Branch on the normalised category with errors.Is, and read the details
// (such as how long to wait) with errors.As.
func ExampleError() {
	var err error = fmt.Errorf("answering ticket 42: %w", &chatbot.Error{
		Provider:     "workspace",
		StatusCode:   429,
		Code:         chatbot.CodeRateLimitExceeded,
		ProviderCode: "RATE_LIMIT_EXCEEDED",
		Message:      "Rate limit exceeded. Please wait before sending another message.",
		RetryAfter:   60 * time.Second,
	})

	if errors.Is(err, chatbot.ErrRateLimited) {
		var apiErr *chatbot.Error
		if errors.As(err, &apiErr) {
			fmt.Println("rate limited by", apiErr.Provider, "- retry in", apiErr.RetryAfter)
		}
	}
	fmt.Println(err)
	// Output:
	// rate limited by workspace - retry in 1m0s
	// answering ticket 42: workspace: 429 RATE_LIMIT_EXCEEDED: Rate limit exceeded. Please wait before sending another message. (retry after 1m0s)
}
