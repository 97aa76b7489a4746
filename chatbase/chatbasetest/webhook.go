package chatbasetest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// DefaultWebhookSecret is a webhook secret for tests.
const DefaultWebhookSecret = "cb-test-webhook-secret-4e9a1f"

// WebhookEvent is the payload of a delivery (doc): {"eventType": Type,
// "chatbotId": ChatbotID, "payload": Payload}.
type WebhookEvent struct {
	Type      string `json:"eventType"`
	ChatbotID string `json:"chatbotId"`
	Payload   any    `json:"payload,omitempty"`
}

// LeadsSubmit returns a [chatbase.EventLeadsSubmit] event in the documented
// shape: a visitor of the conversation conversationID left their name,
// email and phone.
func LeadsSubmit(chatbotID, conversationID, name, email, phone string) WebhookEvent {
	return WebhookEvent{Type: chatbase.EventLeadsSubmit, ChatbotID: chatbotID, Payload: map[string]any{
		"conversationId": conversationID,
		"customerEmail":  email,
		"customerName":   name,
		"customerPhone":  phone,
	}}
}

// DeliveryOption changes how [DeliverWebhook] sends one delivery.
type DeliveryOption func(*delivery)

type delivery struct {
	client   *http.Client
	tamper   bool
	unsigned bool
	header   http.Header
}

// Tampered changes one byte of the body after signing it, so the receiver
// must refuse the delivery.
func Tampered() DeliveryOption {
	return func(d *delivery) { d.tamper = true }
}

// Unsigned sends no X-Chatbase-Signature header.
func Unsigned() DeliveryOption {
	return func(d *delivery) { d.unsigned = true }
}

// DeliveryHeader adds a header to the delivery (after the signature, so it
// can also add a second signature).
func DeliveryHeader(key, value string) DeliveryOption {
	return func(d *delivery) { d.header.Add(key, value) }
}

// DeliveryClient sends the delivery with c instead of a client of its own.
func DeliveryClient(c *http.Client) DeliveryOption {
	return func(d *delivery) { d.client = c }
}

// DeliverWebhook POSTs event to url as Chatbase delivers a webhook:
// Content-Type application/json and X-Chatbase-Signature, the hex
// HMAC-SHA1 of the body keyed with secret (see [chatbase.SignWebhook]).
// event is sent verbatim when it is a []byte or a
// [encoding/json.RawMessage], and encoded as JSON otherwise (a
// [WebhookEvent], a map, …). It returns the receiver's HTTP status, or an
// error when event cannot be encoded or the request fails; the secret never
// appears in the error.
//
// It delivers once: it does not retry, so a test sees exactly what its
// receiver answered.
func DeliverWebhook(ctx context.Context, url, secret string, event any, opts ...DeliveryOption) (int, error) {
	d := delivery{header: make(http.Header)}
	for _, o := range opts {
		if o != nil {
			o(&d)
		}
	}
	body, err := fake.EventBody(event)
	if err != nil {
		return 0, fmt.Errorf("chatbasetest: encoding webhook event: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if !d.unsigned {
		h.Set(chatbase.WebhookSignatureHeader, chatbase.SignWebhook(secret, body))
	}
	for k, vs := range d.header {
		h[k] = append(h[k], vs...)
	}
	if d.tamper {
		body = fake.Tamper(body)
	}
	return fake.Deliver(ctx, d.client, url, h, body)
}
