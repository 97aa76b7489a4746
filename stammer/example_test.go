package stammer_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

// A conversation continues when the reply's ConversationID (the user_key)
// is passed back. The example runs against the fake API.
func Example() {
	srv := stammertest.NewServer(stammertest.Config{})
	defer srv.Close()

	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello", User: chatbot.User{ID: "contact-42"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.ConversationID, reply.Text)

	next, err := bot.Chat(ctx, chatbot.Request{Message: "And then?", ConversationID: reply.ConversationID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(next.ConversationID, next.Text)
	// Output:
	// contact-42 Answer 1 to "Hello"
	// contact-42 Answer 2 to "And then?"
}

// A white-label agency such as Lety serves the same API from its own domain,
// under a locale segment: the base URL is all that changes.
func ExampleNewClient_lety() {
	bot, err := stammer.NewClient("YOUR-API-TOKEN", "12345678-1234-5678-1234-567812345678",
		chatbot.WithBaseURL("https://chat.your-agency-domain.com/en/"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.BaseURL())
	// Output: https://chat.your-agency-domain.com/en/
}

// Stammer does not stream: the whole reply comes as one final chunk.
func ExampleClient_Stream() {
	srv := stammertest.NewServer(stammertest.Config{})
	defer srv.Close()
	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	for chunk, err := range bot.Stream(context.Background(), chatbot.Request{Message: "Hi", ConversationID: "c1"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(chunk.Done, chunk.Text)
	}
	// Output: true Answer 1 to "Hi"
}

// Message sets what the shared request cannot, such as a custom base
// system prompt, and reports Stammer's own status text.
func ExampleClient_Message() {
	srv := stammertest.NewServer(stammertest.Config{})
	defer srv.Close()
	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := bot.Message(context.Background(), stammer.MessageRequest{
		Query:                  "Where is my order?",
		UserKey:                "crm-contact-7",
		CustomBaseSystemPrompt: "Answer in one sentence.",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message)
	fmt.Println(resp.ChatID, resp.Answer)
	// Output:
	// Chatbot successfully answered.
	// 1 Answer 1 to "Where is my order?"
}

// Me is a cheap credentials check: a bad token is ErrUnauthorized.
func ExampleClient_Me() {
	srv := stammertest.NewServer(stammertest.Config{})
	defer srv.Close()
	bot, err := stammer.NewClient("wrong-token", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = bot.Me(context.Background())
	fmt.Println(errors.Is(err, chatbot.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// stammer: 401 UNAUTHORIZED: Invalid token.
}
