package chatbase_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

func Example() {
	ctx := context.TODO()
	srv := chatbasetest.NewServer(chatbasetest.Config{}) // a fake Chatbase
	defer srv.Close()

	bot, err := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text, reply.Usage.Credits)

	next, err := bot.Chat(ctx, chatbot.Request{Message: "And then?", ConversationID: reply.ConversationID})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(next.Text, next.ConversationID == reply.ConversationID)
	// Output:
	// You said: Hello 1
	// You said: And then? true
}

// Chatbase sends the conversation id, the credits and the finish reason only
// with the end of the stream: they are on the final chunk.
func ExampleClient_Stream() {
	ctx := context.TODO()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	defer srv.Close()
	srv.SetReply("Hello ", "there!")
	bot, _ := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))

	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: "Hi"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if chunk.Done {
			fmt.Printf("done: conversation %s, %v credit, %s\n", chunk.ConversationID, chunk.Usage.Credits, chunk.FinishReason)
			continue
		}
		fmt.Printf("%q conversation=%q\n", chunk.Text, chunk.ConversationID)
	}
	// Output:
	// "Hello " conversation=""
	// "there!" conversation=""
	// done: conversation conv_0001, 1 credit, complete
}

// A client action: the agent asks the caller to run lookup_order, then goes
// on with its result.
func ExampleClient_SubmitToolResult() {
	ctx := context.TODO()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	defer srv.Close()
	srv.SetReply("Let me look. ")
	srv.SetToolCall("lookup_order", map[string]string{"orderId": "42"})
	bot, _ := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))

	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Where is order 42?"})
	for errors.Is(err, chatbot.ErrActionRequired) {
		for _, a := range reply.Actions {
			fmt.Printf("run %s %s\n", a.Name, a.Input)
			if err := bot.SubmitToolResult(ctx, reply.ConversationID, a.ID, map[string]string{"status": "shipped"}); err != nil {
				fmt.Println(err)
				return
			}
		}
		srv.SetReply("It has shipped.")
		reply, err = bot.Continue(ctx, reply.ConversationID)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text)
	// Output:
	// run lookup_order {"orderId":"42"}
	// It has shipped.
}

func ExampleClient_Conversations() {
	ctx := context.TODO()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	defer srv.Close()
	srv.AddConversations(3, "user-1")
	bot, _ := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))

	for conv, err := range bot.Conversations(ctx, chatbase.ListOptions{Limit: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(conv.ID, conv.UserID, conv.Status)
	}
	// Output:
	// conv_0007 user-1 ongoing
	// conv_0004 user-1 ongoing
	// conv_0001 user-1 ongoing
}

func ExampleErrorCodeOf() {
	ctx := context.TODO()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	defer srv.Close()
	srv.FailNext(1, chatbasetest.Failure{Code: string(chatbase.CodeChatAgentCreditsExhausted), Message: "The agent's credits are used up."})
	bot, _ := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))

	_, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
	fmt.Println(errors.Is(err, chatbot.ErrQuotaExceeded), chatbase.ErrorCodeOf(err))
	// Output:
	// true CHAT_AGENT_CREDITS_EXHAUSTED
}
