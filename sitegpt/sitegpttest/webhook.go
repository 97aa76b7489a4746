package sitegpttest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/sitegpt"
)

// DefaultWebhookToken is a webhook token for tests.
const DefaultWebhookToken = "sitegpt-test-webhook-token-7c1e"

// WebhookEvent is the payload of a delivery: {"event": Type, "data": Data}.
type WebhookEvent struct {
	Type string `json:"event"`
	Data any    `json:"data,omitempty"`
}

// AddMessage returns an [sitegpt.EventAddMessage] event in the documented
// shape, for the chatbot chatbotID answering question with answer in the
// thread threadID.
func AddMessage(chatbotID, threadID, question, answer string) WebhookEvent {
	return WebhookEvent{Type: sitegpt.EventAddMessage, Data: map[string]any{
		"chatbotId":         chatbotID,
		"threadId":          threadID,
		"gptModel":          "gpt-3.5-turbo",
		"sources":           []string{},
		"question":          question,
		"answer":            answer,
		"messageType":       "NORMAL_MESSAGE",
		"agentId":           nil,
		"iconUrl":           nil,
		"agentName":         nil,
		"systemMessageType": nil,
	}}
}

// DeliveryOption changes how [DeliverWebhook] sends one delivery.
type DeliveryOption func(*delivery)

type delivery struct {
	client  *http.Client
	tamper  bool
	noToken bool
	header  http.Header
}

// Tampered sends the token with one byte changed, so the receiver must
// refuse the delivery.
func Tampered() DeliveryOption {
	return func(d *delivery) { d.tamper = true }
}

// WithoutToken sends no X-WEBHOOK-TOKEN header.
func WithoutToken() DeliveryOption {
	return func(d *delivery) { d.noToken = true }
}

// DeliveryHeader adds a header to the delivery (after the token, so it can
// also add a second token).
func DeliveryHeader(key, value string) DeliveryOption {
	return func(d *delivery) { d.header.Add(key, value) }
}

// DeliveryClient sends the delivery with c instead of a client of its own.
func DeliveryClient(c *http.Client) DeliveryOption {
	return func(d *delivery) { d.client = c }
}

// DeliverWebhook POSTs event to url as SiteGPT delivers a webhook:
// Content-Type application/json and the static token in X-WEBHOOK-TOKEN.
// event is sent verbatim when it is a []byte or a [encoding/json.RawMessage], and
// encoded as JSON otherwise (a [WebhookEvent], a map, …). It returns the
// receiver's HTTP status, or an error when event cannot be encoded or the
// request fails; the token never appears in the error. It delivers once and
// does not retry.
func DeliverWebhook(ctx context.Context, url, token string, event any, opts ...DeliveryOption) (int, error) {
	d := delivery{header: make(http.Header)}
	for _, o := range opts {
		if o != nil {
			o(&d)
		}
	}
	body, err := fake.EventBody(event)
	if err != nil {
		return 0, fmt.Errorf("sitegpttest: encoding webhook event: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if !d.noToken {
		if d.tamper {
			token = string(fake.Tamper([]byte(token)))
		}
		h.Set(sitegpt.WebhookTokenHeader, token)
	}
	for k, vs := range d.header {
		h[k] = append(h[k], vs...)
	}
	return fake.Deliver(ctx, d.client, url, h, body)
}

// DeliverThreadWebhook delivers event to the webhook set on the thread
// threadID through the thread PATCH (webhookUrl and webhookToken), as
// [DeliverWebhook] does. It fails when the thread is unknown or has no
// webhook URL.
func (s *Server) DeliverThreadWebhook(ctx context.Context, threadID string, event any, opts ...DeliveryOption) (int, error) {
	s.mu.Lock()
	t := s.threads[threadID]
	var url, token string
	if t != nil {
		url, token = t.webhookURL, t.webhookToken
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		return 0, fmt.Errorf("sitegpttest: no thread %q", threadID)
	case url == "":
		return 0, fmt.Errorf("sitegpttest: thread %q has no webhook URL", threadID)
	}
	return DeliverWebhook(ctx, url, token, event, opts...)
}
