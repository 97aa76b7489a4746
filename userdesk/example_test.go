package userdesk_test

import (
	"context"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

func ExampleClient_Chat() {
	srv := userdesktest.NewServer(userdesktest.Config{})
	defer srv.Close()
	srv.SetReply("About 384,400 km.")

	bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	reply, err := bot.Chat(context.TODO(), chatbot.Request{
		Message: "How far is the Moon?",
		User:    chatbot.User{Name: "Ada", Email: "ada@example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text)
	fmt.Println("conversation:", reply.ConversationID)
	// Output:
	// About 384,400 km.
	// conversation: conv-1
}

func ExampleClient_Stream() {
	srv := userdesktest.NewServer(userdesktest.Config{})
	defer srv.Close()
	srv.SetReply("Bonjour, ça va ? 🙂")
	srv.SplitWrites(1) // splits multi-byte characters on the wire

	bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	// No ConversationID: Stream creates the conversation first, so every
	// chunk carries its id.
	reply, err := chatbot.Collect(bot.Stream(context.TODO(), chatbot.Request{Message: "Salut"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text)
	fmt.Println("conversation:", reply.ConversationID)
	// Output:
	// Bonjour, ça va ? 🙂
	// conversation: conv-1
}

func ExampleClient_CreateConversation() {
	srv := userdesktest.NewServer(userdesktest.Config{Welcome: "Hi! How can I help?"})
	defer srv.Close()

	bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	conv, err := bot.CreateConversation(context.TODO(), userdesk.ConversationRequest{UserName: "Ada"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(conv.ConversationID, conv.WelcomeMessage)
	// Output:
	// conv-1 Hi! How can I help?
}
