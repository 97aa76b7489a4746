package sitegpt_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func Example() {
	ctx := context.TODO()
	srv := sitegpttest.NewServer(sitegpttest.Config{}) // a fake SiteGPT
	defer srv.Close()

	bot, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
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

func ExampleClient_Stream() {
	ctx := context.TODO()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	defer srv.Close()
	bot, _ := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	// SiteGPT does not stream: the whole answer comes as one final chunk.
	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: "Hello"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q done=%v\n", chunk.Text, chunk.Done)
	}
	// Output:
	// "You said: Hello" done=true
}

func ExampleClient_SendMessage() {
	ctx := context.TODO()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	defer srv.Close()
	bot, _ := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	m, err := bot.SendMessage(ctx, sitegpt.MessageRequest{Message: "I need a human"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A human agent answers in the same thread.
	agent, err := bot.SendMessage(ctx, sitegpt.MessageRequest{
		Message:   "Hi, Ann here. How can I help?",
		ThreadID:  m.ThreadID,
		From:      sitegpt.FromAgent,
		AgentName: "Ann",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(agent.AgentName+":", agent.Text())

	thread, err := bot.Thread(ctx, m.ThreadID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(thread.Messages), "messages")
	// Output:
	// Ann: Hi, Ann here. How can I help?
	// 2 messages
}

func ExampleClient_Threads() {
	ctx := context.TODO()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	defer srv.Close()
	srv.AddThreads(3)
	bot, _ := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	n := 0
	for _, err := range bot.Threads(ctx, sitegpt.ThreadsOptions{Limit: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
	}
	fmt.Println(n, "threads in", srv.Count(), "requests")
	// Output:
	// 3 threads in 2 requests
}

func Example_errors() {
	ctx := context.TODO()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	defer srv.Close()
	srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeMessagesLimitReached), Message: "Messages limit reached"})
	bot, _ := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))

	_, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	var apiErr *chatbot.Error
	if errors.Is(err, chatbot.ErrQuotaExceeded) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.ProviderCode, apiErr.StatusCode)
	}
	// Output:
	// MESSAGES_LIMIT_REACHED 403
}
