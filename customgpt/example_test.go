package customgpt_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
)

func Example() {
	ctx := context.TODO()
	srv := customgpttest.NewServer(customgpttest.Config{}) // a fake CustomGPT
	defer srv.Close()

	bot, err := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	// No conversation id: the client creates a conversation first.
	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text, reply.ConversationID)

	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: "And then?", ConversationID: reply.ConversationID}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q ", chunk.Text)
	}
	fmt.Println()
	// Output:
	// You said: Hello 00000000-0000-4000-8000-000000000001
	// "You " "said: " "And " "then?" ""
}

// Citations come as ids; ResolveSources reads what they point to, when
// asked.
func ExampleClient_ResolveSources() {
	ctx := context.TODO()
	srv := customgpttest.NewServer(customgpttest.Config{})
	defer srv.Close()
	srv.SetCitations(customgpttest.Citation{ID: 31, Title: "Opening hours", URL: "https://example.com/hours"})
	bot, _ := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	reply, err := bot.Chat(ctx, chatbot.Request{Message: "When are you open?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Sources[0].ID, reply.Sources[0].Title == "")
	sources, err := bot.ResolveSources(ctx, reply.Sources)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sources[0].Title, sources[0].URL)
	// Output:
	// 31 true
	// Opening hours https://example.com/hours
}

// A message that fails after the client created its conversation names
// the conversation.
func ExampleConversationError() {
	ctx := context.TODO()
	srv := customgpttest.NewServer(customgpttest.Config{})
	defer srv.Close()
	srv.SetCredits(0) // the account's query credits are used up
	bot, _ := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	_, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	var convErr *customgpt.ConversationError
	if errors.As(err, &convErr) {
		fmt.Println("created:", convErr.SessionID)
	}
	fmt.Println(errors.Is(err, chatbot.ErrQuotaExceeded))
	// Output:
	// created: 00000000-0000-4000-8000-000000000001
	// true
}
