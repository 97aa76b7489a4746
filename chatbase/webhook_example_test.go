package chatbase_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

// ExampleNewWebhookHandler receives a signed lead and refuses a tampered
// copy, both delivered by the fake in Chatbase's wire format.
func ExampleNewWebhookHandler() {
	hooks, err := chatbase.NewWebhookHandler(chatbasetest.DefaultWebhookSecret,
		func(ctx context.Context, ev *chatbase.WebhookEvent) error {
			if ev.Lead != nil {
				fmt.Printf("%s: %s <%s> in %s\n", ev.Type, ev.Lead.Name, ev.Lead.Email, ev.Lead.ConversationID)
			}
			return nil
		})
	if err != nil {
		panic(err)
	}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()

	lead := chatbasetest.LeadsSubmit(chatbasetest.DefaultAgentID, "conv_0001", "Ada Lovelace", "ada@example.com", "+44 20 7946 0000")
	ctx := context.TODO()
	status, _ := chatbasetest.DeliverWebhook(ctx, receiver.URL, chatbasetest.DefaultWebhookSecret, lead)
	fmt.Println("signed:", status)
	status, _ = chatbasetest.DeliverWebhook(ctx, receiver.URL, chatbasetest.DefaultWebhookSecret, lead, chatbasetest.Tampered())
	fmt.Println("tampered:", status)
	// Output:
	// leads.submit: Ada Lovelace <ada@example.com> in conv_0001
	// signed: 200
	// tampered: 401
}
