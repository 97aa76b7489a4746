package chatbot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
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

// A reply carries more than text when the provider reports it: the sources
// it drew on, what it cost, why it ended, and the actions the chatbot waits
// for the caller to run. Each is empty when the provider does not report it
// (see [Capabilities]). A reply that waits for an action comes with an error
// wrapping [ErrActionRequired], never as a complete empty reply.
func Example_replyModel() {
	bot := chatbottest.NewBot().Script(
		chatbottest.Turn{
			Chunks:  []string{"We open ", "at nine."},
			Sources: []chatbot.Source{{Title: "Opening hours", URL: "https://example.com/hours"}},
			Usage:   &chatbot.Usage{InputTokens: 12, OutputTokens: 5, TotalTokens: 17},
		},
		chatbottest.Turn{
			Chunks:       []string{"Let me look up your order."},
			FinishReason: chatbot.FinishActionRequired,
			Actions:      []chatbot.Action{{ID: "call-1", Name: "lookup_order", Input: json.RawMessage(`{"order":42}`)}},
		},
	)
	ctx := context.Background()

	reply, err := chatbot.Collect(bot.Stream(ctx, chatbot.Request{Message: "When do you open?"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (%s)\n", reply.Text, reply.FinishReason)
	for _, s := range reply.Sources {
		fmt.Printf("source: %s <%s>\n", s.Title, s.URL)
	}
	if reply.Usage != nil {
		fmt.Println("tokens:", reply.Usage.TotalTokens)
	}

	reply, err = bot.Chat(ctx, chatbot.Request{Message: "Where is my order?", ConversationID: reply.ConversationID})
	if errors.Is(err, chatbot.ErrActionRequired) {
		fmt.Println(reply.Text)
		for _, a := range reply.Actions {
			fmt.Printf("run %s(%s), then post its result for %s\n", a.Name, a.Input, a.ID)
		}
	}
	// Output:
	// We open at nine. (complete)
	// source: Opening hours <https://example.com/hours>
	// tokens: 17
	// Let me look up your order.
	// run lookup_order({"order":42}), then post its result for call-1
}
