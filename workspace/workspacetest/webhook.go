package workspacetest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/workspace"
)

// DefaultWebhookSecret is a webhook signing secret in the provider's format,
// for tests.
const DefaultWebhookSecret = "whsec_test_5f0c3d9a8b7e6f1a2c4d"

// WebhookEvent is the payload of a delivery: {"event": Type, "data": Data}.
type WebhookEvent struct {
	Type string `json:"event"`
	Data any    `json:"data,omitempty"`
}

// LeadCreated returns a [workspace.EventLeadCreated] event whose data is
// lead (a map or a struct that encodes to the lead's JSON object).
func LeadCreated(lead any) WebhookEvent {
	return WebhookEvent{Type: workspace.EventLeadCreated, Data: lead}
}

// DeliveryOption changes how [DeliverWebhook] sends one delivery.
type DeliveryOption func(*delivery)

type delivery struct {
	client   *http.Client
	at       *time.Time
	bodyOnly bool
	tamper   bool
	unsigned bool
	header   http.Header
}

// SignedAt sends an X-Webhook-Timestamp of t (unix seconds) instead of the
// time of the delivery.
func SignedAt(t time.Time) DeliveryOption {
	return func(d *delivery) { d.at = &t }
}

// BodySigned signs the body alone and sends no X-Webhook-Timestamp, as the
// provider's webhooks overview describes; a receiver accepts it only with
// [workspace.WithWebhookScheme]([workspace.WebhookSignedBody]).
func BodySigned() DeliveryOption {
	return func(d *delivery) { d.bodyOnly = true }
}

// Tampered changes one byte of the body after signing it, so the receiver
// must refuse the delivery.
func Tampered() DeliveryOption {
	return func(d *delivery) { d.tamper = true }
}

// Unsigned sends no X-Webhook-Signature header.
func Unsigned() DeliveryOption {
	return func(d *delivery) { d.unsigned = true }
}

// DeliveryHeader adds a header to the delivery (after the signature ones,
// so it can also add a second signature).
func DeliveryHeader(key, value string) DeliveryOption {
	return func(d *delivery) { d.header.Add(key, value) }
}

// DeliveryClient sends the delivery with c instead of a client of its own.
func DeliveryClient(c *http.Client) DeliveryOption {
	return func(d *delivery) { d.client = c }
}

// DeliverWebhook POSTs event to url as the provider delivers a webhook:
// Content-Type application/json, User-Agent Pollybot-Webhooks/1.0, an
// X-Webhook-Timestamp of now (see [SignedAt]) and X-Webhook-Signature
// "sha256=<hex HMAC-SHA256>" of the body followed by the timestamp, keyed
// with secret (see [workspace.SignWebhook]; [BodySigned] signs the body
// alone). event is sent verbatim when it is a []byte or a
// [encoding/json.RawMessage], and encoded as JSON otherwise (a [WebhookEvent], a map,
// …). It returns the receiver's HTTP status, or an error when event cannot
// be encoded or the request fails; the secret never appears in the error.
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
		return 0, fmt.Errorf("workspacetest: encoding webhook event: %w", err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Pollybot-Webhooks/1.0"}}
	ts := ""
	if !d.bodyOnly {
		at := time.Now()
		if d.at != nil {
			at = *d.at
		}
		ts = strconv.FormatInt(at.Unix(), 10)
		h.Set(workspace.WebhookTimestampHeader, ts)
	}
	if !d.unsigned {
		h.Set(workspace.WebhookSignatureHeader, workspace.SignWebhook(secret, body, ts))
	}
	for k, vs := range d.header {
		h[k] = append(h[k], vs...)
	}
	if d.tamper {
		body = fake.Tamper(body)
	}
	return fake.Deliver(ctx, d.client, url, h, body)
}
