package flowise_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
)

func Example() {
	ctx := context.TODO()
	srv := flowisetest.NewServer(flowisetest.Config{}) // a fake Flowise
	defer srv.Close()

	// The base URL is the Flowise server's address; it has no default.
	bot, err := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text)

	next, err := bot.Chat(ctx, chatbot.Request{Message: "And then?", ConversationID: reply.ConversationID})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(next.Text, next.ConversationID == reply.ConversationID)
	// Output:
	// You said: Hello
	// You said: And then? true
}

// A public flow has no API key: pass an empty key, and no Authorization
// header is sent.
func ExampleNewClient_publicFlow() {
	srv := flowisetest.NewServer(flowisetest.Config{Public: true})
	defer srv.Close()
	bot, err := flowise.NewClient("", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, err := bot.Chat(context.TODO(), chatbot.Request{Message: "Hi"})
	fmt.Println(reply.Text, err)

	_, err = flowise.NewClient("", srv.ChatbotID())
	fmt.Println(err)
	// Output:
	// You said: Hi <nil>
	// flowise: INVALID_REQUEST: no base URL: flowise has no default host; give the server's address with chatbot.WithBaseURL
}

func ExampleClient_Predict() {
	ctx := context.TODO()
	srv := flowisetest.NewServer(flowisetest.Config{})
	defer srv.Close()
	srv.SetReply("We open at nine.")
	srv.SetFollowUpPrompts("Are you open on Sundays?")
	srv.SetSourceDocuments(map[string]any{"pageContent": "Hours: 9-5", "metadata": map[string]any{"source": "https://example.com/hours"}})
	bot, _ := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	p, err := bot.Predict(ctx, flowise.PredictionRequest{
		Question:  "When do you open?",
		ChatID:    "ticket-1234", // chat ids are the caller's to choose
		SessionID: "customer-42", // one memory across the customer's chats
		Vars:      map[string]string{"plan": "pro"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Text)
	fmt.Println(p.ChatID, p.SessionID)
	fmt.Println(p.FollowUpPrompts)
	fmt.Println(flowise.Sources(p.SourceDocuments)[0].URL)
	// Output:
	// We open at nine.
	// ticket-1234 customer-42
	// [Are you open on Sundays?]
	// https://example.com/hours
}

// A flow's rate limit answers 429 with the message configured in the flow.
func ExampleClient_Chat_rateLimited() {
	srv := flowisetest.NewServer(flowisetest.Config{})
	defer srv.Close()
	srv.FailNext(1, flowisetest.Failure{Status: 429, Message: "You have reached the message limit."})
	bot, _ := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))

	_, err := bot.Chat(context.TODO(), chatbot.Request{Message: "Hi"})
	var apiErr *chatbot.Error
	if errors.Is(err, chatbot.ErrRateLimited) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.Message, apiErr.RetryAfter)
	}
	// Output:
	// You have reached the message limit. 0s
}

func ExampleClient_Stream() {
	ctx := context.TODO()
	srv := flowisetest.NewServer(flowisetest.Config{})
	defer srv.Close()
	srv.SetReply("Hello", ", world")
	bot, _ := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	// One chunk per token event. A chat id the caller chose is on every
	// chunk; one the server makes comes with the metadata event, at the end.
	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: "Hi", ConversationID: "chat-1"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q done=%v conversation=%q\n", chunk.Text, chunk.Done, chunk.ConversationID)
	}
	// Output:
	// "Hello" done=false conversation="chat-1"
	// ", world" done=false conversation="chat-1"
	// "" done=true conversation="chat-1"
}
