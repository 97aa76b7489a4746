package dify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
)

// Chat with a Dify app through the fake, as with the real API.
func Example() {
	srv := difytest.NewServer(difytest.Config{})
	defer srv.Close()
	srv.SetReply("We open ", "at nine.")

	bot, err := dify.NewClient(srv.APIKey(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	reply, err := bot.Chat(context.Background(), chatbot.Request{
		Message: "When do you open?",
		User:    chatbot.User{ID: "customer-42"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Text)
	fmt.Println(reply.Usage.TotalTokens, "tokens")
	// Output:
	// We open at nine.
	// 6 tokens
}

// Stream a reply from an agent app, and stop the run by breaking out.
func ExampleClient_Stream() {
	srv := difytest.NewServer(difytest.Config{Mode: difytest.ModeAgent})
	defer srv.Close()
	srv.SetReply("Looking ", "that ", "up.")

	bot, err := dify.NewClient(srv.APIKey(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	for chunk, err := range bot.Stream(context.Background(), chatbot.Request{Message: "Find my order"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(chunk.Text)
		if chunk.Done {
			fmt.Println()
			fmt.Println(chunk.FinishReason)
		}
	}
	// Output:
	// Looking that up.
	// complete
}

// Send the app's input variables, and a default user for a backend.
func ExampleClient_ChatWith() {
	bot, err := dify.NewClient(os.Getenv("DIFY_API_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	if bot, err = bot.WithDefaultUser("support-backend"); err != nil {
		log.Fatal(err)
	}
	reply, err := bot.ChatWith(context.Background(), dify.ChatRequest{
		Request: chatbot.Request{Message: "Summarise my last order"},
		Inputs:  map[string]any{"language": "fr", "max_items": 3},
	})
	switch {
	case dify.ErrorCodeOf(err) == dify.CodeTooManyRequests:
		log.Fatal("the app's concurrency cap: retry later")
	case errors.Is(err, chatbot.ErrRateLimited):
		log.Fatal("the model provider's rate limit")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(reply.Text)
}

// List a user's conversations, newest first, page by page as the loop goes.
func ExampleClient_Conversations() {
	srv := difytest.NewServer(difytest.Config{})
	defer srv.Close()
	bot, err := dify.NewClient(srv.APIKey(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{"Hello", "Hi again"} {
		if _, err := bot.Chat(ctx, chatbot.Request{Message: q, User: chatbot.User{ID: "alice"}}); err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for conv, err := range bot.Conversations(ctx, dify.ListOptions{User: "alice"}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		_ = conv.ID
	}
	fmt.Println(n, "conversations")
	// Output:
	// 2 conversations
}
