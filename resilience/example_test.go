package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// A limiter of two calls an hour that never waits: the third call is
// refused by the client's own limit, without being sent.
func ExampleLimit() {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	client, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	bot := chatbot.Wrap(client, resilience.Limit(resilience.NewLocalLimiter(resilience.PerHour(2)), resilience.WithMaxWait(0)))

	for range 3 {
		_, err := bot.Chat(context.Background(), chatbot.Request{Message: "hello"})
		var apiErr *chatbot.Error
		if errors.As(err, &apiErr) && apiErr.ProviderCode == resilience.CodeClientRateLimited {
			fmt.Println("refused by the client's own limit:", errors.Is(err, chatbot.ErrRateLimited))
			continue
		}
		fmt.Println("sent:", err == nil)
	}
	fmt.Println("requests received:", srv.Count())
	// Output:
	// sent: true
	// sent: true
	// refused by the client's own limit: true
	// requests received: 2
}

// A new conversation that the primary refuses unprocessed (a 429) goes to
// the backup, and the conversation id says so.
func ExampleNewFallback() {
	ws := workspacetest.NewServer(workspacetest.Config{})
	defer ws.Close()
	st := stammertest.NewServer(stammertest.Config{})
	defer st.Close()
	primary, err := workspace.NewClient(ws.APIKey(), ws.ChatbotID(), chatbot.WithBaseURL(ws.URL), chatbot.WithMaxRetries(0))
	if err != nil {
		panic(err)
	}
	backup, err := stammer.NewClient(st.APIKey(), st.ChatbotID(), chatbot.WithBaseURL(st.URL))
	if err != nil {
		panic(err)
	}
	bot, err := resilience.NewFallback(
		resilience.Named{Name: "primary", Bot: chatbot.Wrap(primary, resilience.Breaker())},
		resilience.Named{Name: "backup", Bot: chatbot.Wrap(backup, resilience.Breaker())},
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	reply, _ := bot.Chat(ctx, chatbot.Request{Message: "hello"})
	fmt.Println(reply.ConversationID)
	ws.RateLimitNext(1, time.Minute)
	reply, _ = bot.Chat(ctx, chatbot.Request{Message: "hello", User: chatbot.User{ID: "ann"}})
	fmt.Println(reply.ConversationID)
	reply, _ = bot.Chat(ctx, chatbot.Request{Message: "and then?", ConversationID: reply.ConversationID})
	fmt.Println(reply.ConversationID, reply.Text)
	// Output:
	// primary:cm5conv0001
	// backup:ann
	// backup:ann Answer 2 to "and then?"
}
