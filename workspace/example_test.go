package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func Example() {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	srv.SetReply("Hello! ", "How can I help?")

	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.TODO()
	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello, how can you help me?"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text)
	fmt.Println("remaining:", reply.RateLimit.Remaining)
	// Output:
	// Hello! How can I help?
	// remaining: 999
}

func ExampleClient_Stream() {
	srv := workspacetest.NewServer(workspacetest.Config{Format: workspacetest.FormatDify})
	defer srv.Close()
	srv.SetReply("Stream", "ed ", "reply")

	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	for chunk, err := range bot.Stream(context.TODO(), chatbot.Request{Message: "Hi"}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%q done=%v\n", chunk.Text, chunk.Done)
	}
	// Output:
	// "Stream" done=false
	// "ed " done=false
	// "reply" done=false
	// "" done=true
}

func ExampleClient_Chat_rateLimited() {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	srv.RateLimitNext(1, time.Minute)

	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = bot.Chat(context.TODO(), chatbot.Request{Message: "Hi"})
	var apiErr *chatbot.Error
	if errors.Is(err, chatbot.ErrRateLimited) && errors.As(err, &apiErr) {
		fmt.Println("retry after", apiErr.RetryAfter)
	}
	// Output:
	// retry after 1m0s
}

func ExampleClient_Leads() {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	srv.AddLead(map[string]any{"name": "Ada", "email": "ada@example.com", "status": "qualified"})
	srv.AddLead(map[string]any{"name": "Bo", "email": "bo@example.com", "status": "new"})

	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	for lead, err := range bot.Leads(context.TODO(), workspace.LeadListOptions{Status: "qualified"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(lead.Name, lead.Email)
	}
	// Output:
	// Ada ada@example.com
}
