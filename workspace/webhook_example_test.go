package workspace_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// ExampleNewWebhookHandler receives a signed lead and refuses a tampered
// copy, both delivered by the fake in the provider's wire format.
func ExampleNewWebhookHandler() {
	hooks, err := workspace.NewWebhookHandler(workspacetest.DefaultWebhookSecret,
		func(ctx context.Context, ev *workspace.WebhookEvent) error {
			if ev.Lead != nil {
				fmt.Printf("%s: %s <%s>\n", ev.Type, ev.Lead.Name, ev.Lead.Email)
			}
			return nil
		})
	if err != nil {
		panic(err)
	}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()

	lead := workspacetest.LeadCreated(map[string]any{"id": "cm5lead1", "name": "Ada Lovelace", "email": "ada@example.com"})
	ctx := context.TODO()
	status, _ := workspacetest.DeliverWebhook(ctx, receiver.URL, workspacetest.DefaultWebhookSecret, lead)
	fmt.Println("signed:", status)
	status, _ = workspacetest.DeliverWebhook(ctx, receiver.URL, workspacetest.DefaultWebhookSecret, lead, workspacetest.Tampered())
	fmt.Println("tampered:", status)
	// Output:
	// LEAD_CREATED: Ada Lovelace <ada@example.com>
	// signed: 200
	// tampered: 401
}
