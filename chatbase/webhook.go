package chatbase

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot/internal/webhook"
)

// Webhook header and defaults.
const (
	// WebhookSignatureHeader carries the signature of a delivery (doc):
	// the hex HMAC-SHA1 of the raw body, keyed with the webhook's secret.
	WebhookSignatureHeader = "X-Chatbase-Signature"
	// DefaultWebhookMaxBody is the largest body [NewWebhookHandler] reads
	// unless [WithWebhookMaxBody] says otherwise: 1 MiB.
	DefaultWebhookMaxBody = 1 << 20
)

// EventLeadsSubmit is the event type of a visitor who submitted their name,
// email and phone to the agent (doc), decoded into [WebhookEvent.Lead].
const EventLeadsSubmit = "leads.submit"

// ErrWebhookSignature is matched (with [errors.Is]) by every error that
// refuses a delivery as not authentic: a missing, repeated, malformed or
// wrong X-Chatbase-Signature. The error text says which, and never contains
// the secret or the expected signature.
var ErrWebhookSignature = errors.New("webhook signature rejected")

// ErrWebhookPayload is matched (with [errors.Is]) by the error of a verified
// body that is not a JSON object.
var ErrWebhookPayload = errors.New("webhook payload is not a JSON object")

// WebhookEvent is one verified webhook delivery (doc: {"eventType",
// "chatbotId", "payload"}). Every event is delivered, including types this
// package does not know: Payload and Raw always hold what was received.
type WebhookEvent struct {
	// Type is the payload's "eventType" verbatim, such as
	// [EventLeadsSubmit]; "" when it has none.
	Type string
	// ChatbotID is the agent the event is about.
	ChatbotID string
	// Lead is the lead of a [EventLeadsSubmit] event; nil for other events
	// or when "payload" is not an object.
	Lead *WebhookLead
	// Payload is the "payload" member as received; nil when absent.
	Payload json.RawMessage
	// Raw is the whole body as received (and as signed).
	Raw json.RawMessage
}

// WebhookLead is the payload of a [EventLeadsSubmit] event (doc). A field
// that was absent or not text is "".
type WebhookLead struct {
	ConversationID string
	Email          string // customerEmail
	Name           string // customerName
	Phone          string // customerPhone
}

// DedupKey returns a key that is the same for every delivery of one event:
// Chatbase sends no event id, so it is "sha256:" and the hex SHA-256 of the
// body (a repeated delivery resends the same body).
func (e *WebhookEvent) DedupKey() string {
	sum := sha256.Sum256(e.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// WebhookOption tunes [NewWebhookHandler].
type WebhookOption func(*webhookConfig)

type webhookConfig struct {
	maxBody int64
}

// WithWebhookMaxBody sets the largest body [NewWebhookHandler] reads; a
// larger one is answered 413 without being read past n+1 bytes. n <= 0
// keeps [DefaultWebhookMaxBody].
func WithWebhookMaxBody(n int64) WebhookOption {
	return func(c *webhookConfig) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// SignWebhook returns the X-Chatbase-Signature value for body signed with
// secret: the lowercase hex HMAC-SHA1 of body, keyed with the bytes of the
// secret string. It is what [VerifyWebhook] checks, for tests and fakes.
func SignWebhook(secret string, body []byte) string {
	return hex.EncodeToString(webhookMAC(secret, body))
}

func webhookMAC(secret string, body []byte) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyWebhook reports whether body, with header, is an authentic delivery
// signed with secret. It returns nil, or an error matching
// [ErrWebhookSignature].
//
// Chatbase's docs say to compute "a SHA-1 signature" of the raw body with
// the secret key and compare it with X-Chatbase-Signature, and their sample
// calls a sha1(body, secret) helper they do not show. The SDK assumes the
// usual reading (unconfirmed): the HMAC-SHA1 of the raw body bytes, keyed
// with the secret string, as 40 hex digits (either case; a "sha1=" prefix
// is accepted too). Exactly one header value is accepted, and the
// comparison is constant-time ([hmac.Equal]). Verify the bytes exactly as
// received: a body decoded and encoded again does not verify. SHA-1 is what
// Chatbase signs with; the signature covers no timestamp, so a recorded
// delivery can be replayed: deduplicate with [WebhookEvent.DedupKey].
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	if secret == "" {
		return fmt.Errorf("%s: webhook: %w: no secret configured", provider, ErrWebhookSignature)
	}
	got, err := parseSignature(header)
	if err != nil {
		return err
	}
	if !hmac.Equal(got, webhookMAC(secret, body)) {
		return fmt.Errorf("%s: webhook: %w: signature does not match the body", provider, ErrWebhookSignature)
	}
	return nil
}

// parseSignature reads the one X-Chatbase-Signature value into its MAC
// bytes.
func parseSignature(header http.Header) ([]byte, error) {
	vals := header.Values(WebhookSignatureHeader)
	switch len(vals) {
	case 0:
		return nil, fmt.Errorf("%s: webhook: %w: %s header missing", provider, ErrWebhookSignature, WebhookSignatureHeader)
	case 1:
	default:
		return nil, fmt.Errorf("%s: webhook: %w: %d %s headers", provider, ErrWebhookSignature, len(vals), WebhookSignatureHeader)
	}
	hexSig := strings.TrimSpace(vals[0])
	if len(hexSig) > 5 && strings.EqualFold(hexSig[:5], "sha1=") {
		hexSig = hexSig[5:]
	}
	if len(hexSig) != 2*sha1.Size {
		return nil, fmt.Errorf("%s: webhook: %w: signature has %d hex digits, want %d", provider, ErrWebhookSignature, len(hexSig), 2*sha1.Size)
	}
	mac, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, fmt.Errorf("%s: webhook: %w: signature is not hex", provider, ErrWebhookSignature)
	}
	return mac, nil
}

// ParseWebhook verifies body as [VerifyWebhook] does and decodes it into a
// [WebhookEvent]. A delivery that is not authentic is an error matching
// [ErrWebhookSignature]; an authentic body that is not one JSON object
// matches [ErrWebhookPayload]. The body is never decoded before it is
// verified.
func ParseWebhook(secret string, header http.Header, body []byte) (*WebhookEvent, error) {
	if err := VerifyWebhook(secret, header, body); err != nil {
		return nil, err
	}
	return decodeWebhook(body)
}

func decodeWebhook(body []byte) (*WebhookEvent, error) {
	top, typ, err := webhook.Envelope(body)
	if err != nil {
		return nil, fmt.Errorf("%s: webhook: %w: %w", provider, ErrWebhookPayload, err)
	}
	ev := &WebhookEvent{
		Type:      cmp.Or(webhook.String(top, "eventType"), typ),
		ChatbotID: webhook.String(top, "chatbotId", "agentId"),
		Raw:       bytes.Clone(body),
	}
	if raw, ok := top["payload"]; ok {
		ev.Payload = bytes.Clone(raw)
	}
	var payload map[string]json.RawMessage
	if ev.Type == EventLeadsSubmit && json.Unmarshal(ev.Payload, &payload) == nil && payload != nil {
		ev.Lead = &WebhookLead{
			ConversationID: webhook.String(payload, "conversationId"),
			Email:          webhook.String(payload, "customerEmail"),
			Name:           webhook.String(payload, "customerName"),
			Phone:          webhook.String(payload, "customerPhone"),
		}
	}
	return ev, nil
}

// NewWebhookHandler returns an [http.Handler] that receives Chatbase's
// webhook deliveries, signed with secret, and calls fn with each verified
// event and the request's context.
//
// The handler answers:
//   - 405 to anything but POST;
//   - 401 when the signature is missing, malformed or wrong (see
//     [VerifyWebhook]); a request without a well-formed signature header is
//     refused before its body is read;
//   - 413 when the body is larger than the limit ([DefaultWebhookMaxBody],
//     see [WithWebhookMaxBody]), reading at most one byte past it;
//   - 400 when the verified body is not a JSON object;
//   - 500 when fn returns an error, so that Chatbase may deliver again;
//   - 200 only after fn has returned nil.
//
// Events of unknown types reach fn like the others, with Type, Payload and
// Raw. fn should deduplicate with [WebhookEvent.DedupKey]. Response bodies
// are short fixed texts: neither the secret nor fn's error is ever written.
// An empty secret is an error, not a handler that accepts everything. The
// handler is safe for concurrent use.
//
// See https://www.chatbase.co/docs/developer-guides/webhooks.
func NewWebhookHandler(secret string, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) (http.Handler, error) {
	switch {
	case secret == "":
		return nil, errors.New("chatbase: webhook handler: secret is empty")
	case fn == nil:
		return nil, errors.New("chatbase: webhook handler: nil function")
	}
	cfg := webhookConfig{maxBody: DefaultWebhookMaxBody}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	preauth := func(h http.Header) bool { _, err := parseSignature(h); return err == nil }
	open := func(h http.Header, body []byte) (func(context.Context) error, int) {
		if VerifyWebhook(secret, h, body) != nil {
			return nil, http.StatusUnauthorized
		}
		ev, err := decodeWebhook(body)
		if err != nil {
			return nil, http.StatusBadRequest
		}
		return func(ctx context.Context) error { return fn(ctx, ev) }, 0
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webhook.Receive(w, r, cfg.maxBody, preauth, open)
	}), nil
}
