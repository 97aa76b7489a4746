package sitegpt_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

// ExampleNewWebhookHandler receives a message event and refuses a delivery
// with a wrong token, both sent by the fake as SiteGPT sends them.
func ExampleNewWebhookHandler() {
	hooks, err := sitegpt.NewWebhookHandler(sitegpttest.DefaultWebhookToken,
		func(ctx context.Context, ev *sitegpt.WebhookEvent) error {
			if ev.Message != nil {
				fmt.Printf("%s: %q -> %q\n", ev.Type, ev.Message.Question, ev.Message.Answer)
			}
			return nil
		})
	if err != nil {
		panic(err)
	}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()

	event := sitegpttest.AddMessage("365062873485935184", "thread-1", "Do you ship abroad?", "Yes.")
	ctx := context.TODO()
	status, _ := sitegpttest.DeliverWebhook(ctx, receiver.URL, sitegpttest.DefaultWebhookToken, event)
	fmt.Println("with the token:", status)
	status, _ = sitegpttest.DeliverWebhook(ctx, receiver.URL, sitegpttest.DefaultWebhookToken, event, sitegpttest.Tampered())
	fmt.Println("wrong token:", status)
	// Output:
	// ADD_MESSAGE: "Do you ship abroad?" -> "Yes."
	// with the token: 200
	// wrong token: 401
}
