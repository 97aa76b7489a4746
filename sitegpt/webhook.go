package sitegpt

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
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
	// WebhookTokenHeader carries the static token configured for the
	// webhook (doc).
	WebhookTokenHeader = "X-WEBHOOK-TOKEN"
	// DefaultWebhookMaxBody is the largest body [NewWebhookHandler] reads
	// unless [WithWebhookMaxBody] says otherwise: 1 MiB.
	DefaultWebhookMaxBody = 1 << 20
)

// EventAddMessage is the event type of the messages webhook (doc): the
// chatbot answered a visitor. Other event types (escalations, leads) are
// recognised by name, see [WebhookEvent].
const EventAddMessage = "ADD_MESSAGE"

// ErrWebhookToken is matched (with [errors.Is]) by every error that refuses
// a delivery as not authentic: a missing, repeated or wrong X-WEBHOOK-TOKEN.
// The error text never contains either token.
var ErrWebhookToken = errors.New("webhook token rejected")

// ErrWebhookPayload is matched (with [errors.Is]) by the error of an
// authentic body that is not a JSON object.
var ErrWebhookPayload = errors.New("webhook payload is not a JSON object")

// WebhookEvent is one authenticated webhook delivery. Every event is
// delivered, including types this package does not know: Data and Raw
// always hold what was received.
//
// SiteGPT documents the payload of the messages webhook only ({"event":
// "ADD_MESSAGE", "data": {…}}). The escalation and lead webhooks are
// documented to exist but their payloads are not published (guess): an event
// whose type contains "ESCALAT" is decoded into Escalation, one whose type
// contains "LEAD" into Lead, both tolerantly from "data" (or the top level
// when there is no "data").
//
// A delivery may be retried and so arrive more than once: deduplicate with
// [WebhookEvent.DedupKey].
type WebhookEvent struct {
	// Type is the payload's "event" member verbatim (or "type" when there
	// is no "event"); "" when it has neither.
	Type string
	// ID is the id the event carries, if any: the top level's "id" or
	// "eventId", else, for an [EventAddMessage], data's "id" or
	// "messageId", which name the message (guess: none is documented). The
	// id in the data of a lead or escalation event names the lead or the
	// thread, which every update of it shares, so it is not the event's.
	// Often empty, see DedupKey.
	ID string
	// Message is the answer of an [EventAddMessage] event; nil otherwise.
	Message *WebhookMessage
	// Escalation is set for an escalation event; nil otherwise.
	Escalation *WebhookEscalation
	// Lead is set for a lead event; nil otherwise.
	Lead *WebhookLead
	// Data is the payload's "data" member as received; nil when absent.
	Data json.RawMessage
	// Raw is the whole body as received.
	Raw json.RawMessage
}

// DedupKey returns a key that is the same for every delivery of one event:
// its ID when it has one, else "sha256:" and the hex SHA-256 of the body (a
// retry resends the same body).
func (e *WebhookEvent) DedupKey() string {
	if e.ID != "" {
		return e.ID
	}
	sum := sha256.Sum256(e.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// WebhookMessage is the data of an [EventAddMessage] event (doc). Question
// and Answer are plain text here, unlike in [Message].
// A field that was null, absent or of another type is "" (ids sent as
// numbers are kept as their decimal text).
type WebhookMessage struct {
	ChatbotID         string
	ThreadID          string
	GPTModel          string
	Sources           []Source // strings (URLs) or objects
	Question          string   // the visitor's message
	Answer            string   // the chatbot's answer
	MessageType       string   // "NORMAL_MESSAGE", …
	AgentID           string
	IconURL           string
	AgentName         string
	SystemMessageType string
}

// WebhookEscalation is the data of an escalation event. Its shape is not
// documented (guess): the fields are read tolerantly, and Raw keeps the
// object.
type WebhookEscalation struct {
	ChatbotID string
	ThreadID  string
	ChatUser  *ChatUser // from "chatUser" or "user"; nil when absent
	Raw       json.RawMessage
}

// WebhookLead is the data of a lead event. Its shape is not documented
// (guess): the fields are read tolerantly (Phone from "phoneNumber" or
// "phone"), and Raw keeps the object.
type WebhookLead struct {
	ChatbotID string
	ThreadID  string
	Name      string
	Email     string
	Phone     string
	Raw       json.RawMessage
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

// VerifyWebhook reports whether header carries exactly one X-WEBHOOK-TOKEN
// equal to token. It returns nil, or an error matching [ErrWebhookToken];
// an empty token never verifies.
//
// The comparison is constant-time and does not reveal the token's length: it
// compares the SHA-256 digests of both values with
// [subtle.ConstantTimeCompare]. SiteGPT's token is static and covers nothing
// of the body, so anyone who learns it can forge deliveries: serve the
// webhook over HTTPS only, and keep the token as secret as an API key.
func VerifyWebhook(token string, header http.Header) error {
	if token == "" {
		return fmt.Errorf("sitegpt: webhook: %w: no token configured", ErrWebhookToken)
	}
	vals := header.Values(WebhookTokenHeader)
	switch len(vals) {
	case 0:
		return fmt.Errorf("sitegpt: webhook: %w: %s header missing", ErrWebhookToken, WebhookTokenHeader)
	case 1:
	default:
		return fmt.Errorf("sitegpt: webhook: %w: %d %s headers", ErrWebhookToken, len(vals), WebhookTokenHeader)
	}
	got := sha256.Sum256([]byte(vals[0]))
	want := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("sitegpt: webhook: %w: token does not match", ErrWebhookToken)
	}
	return nil
}

// ParseWebhook authenticates a delivery as [VerifyWebhook] does and decodes
// body into a [WebhookEvent]. A delivery that is not authentic is an error
// matching [ErrWebhookToken] (the body is then not decoded); a body that is
// not one JSON object, or whose "event" is not a string, matches
// [ErrWebhookPayload].
func ParseWebhook(token string, header http.Header, body []byte) (*WebhookEvent, error) {
	if err := VerifyWebhook(token, header); err != nil {
		return nil, err
	}
	return decodeWebhook(body)
}

func decodeWebhook(body []byte) (*WebhookEvent, error) {
	top, typ, err := webhook.Envelope(body)
	if err != nil {
		return nil, fmt.Errorf("sitegpt: webhook: %w: %w", ErrWebhookPayload, err)
	}
	ev := &WebhookEvent{Type: typ, Raw: bytes.Clone(body)}
	data := top
	if raw, ok := top["data"]; ok {
		ev.Data = bytes.Clone(raw)
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil && inner != nil {
			data = inner
		} else {
			data = nil
		}
	}
	ev.ID = webhook.String(top, "id", "eventId")
	kind := strings.ToUpper(ev.Type)
	if ev.ID == "" && kind == EventAddMessage {
		// A message is sent once: its id names the event. The id in the
		// data of other events names a lead or a thread, which several
		// events share.
		ev.ID = webhook.String(data, "id", "messageId")
	}
	switch {
	case kind == EventAddMessage:
		if data != nil {
			ev.Message = webhookMessage(data)
		}
	case strings.Contains(kind, "ESCALAT") && data != nil:
		ev.Escalation = &WebhookEscalation{
			ChatbotID: webhook.String(data, "chatbotId"),
			ThreadID:  webhook.String(data, "threadId"),
			ChatUser:  webhookChatUser(data),
			Raw:       dataRaw(ev),
		}
	case strings.Contains(kind, "LEAD") && data != nil:
		l := &WebhookLead{
			ChatbotID: webhook.String(data, "chatbotId"),
			ThreadID:  webhook.String(data, "threadId"),
			Name:      webhook.String(data, "name"),
			Email:     webhook.String(data, "email"),
			Phone:     webhook.String(data, "phoneNumber", "phone"),
			Raw:       dataRaw(ev),
		}
		if u := webhookChatUser(data); u != nil {
			l.Name, l.Email, l.Phone = cmp.Or(l.Name, u.Name), cmp.Or(l.Email, u.Email), cmp.Or(l.Phone, u.PhoneNumber)
		}
		ev.Lead = l
	}
	return ev, nil
}

// dataRaw returns the object the event's fields were read from: "data", or
// the whole body when there is no "data".
func dataRaw(ev *WebhookEvent) json.RawMessage {
	if ev.Data != nil {
		return ev.Data
	}
	return ev.Raw
}

// webhookMessage reads an ADD_MESSAGE data object field by field, so one
// field of an unexpected type does not lose the others.
func webhookMessage(data map[string]json.RawMessage) *WebhookMessage {
	m := &WebhookMessage{
		ChatbotID:         webhook.String(data, "chatbotId"),
		ThreadID:          webhook.String(data, "threadId"),
		GPTModel:          webhook.String(data, "gptModel"),
		Question:          webhook.String(data, "question"),
		Answer:            webhook.String(data, "answer"),
		MessageType:       webhook.String(data, "messageType"),
		AgentID:           webhook.String(data, "agentId"),
		IconURL:           webhook.String(data, "iconUrl"),
		AgentName:         webhook.String(data, "agentName"),
		SystemMessageType: webhook.String(data, "systemMessageType"),
	}
	_ = json.Unmarshal(data["sources"], &m.Sources) // not an array: left nil, still in Data
	return m
}

func webhookChatUser(data map[string]json.RawMessage) *ChatUser {
	for _, k := range []string{"chatUser", "user"} {
		var obj map[string]json.RawMessage
		if json.Unmarshal(data[k], &obj) == nil && obj != nil {
			return &ChatUser{
				Email:       webhook.String(obj, "email"),
				Name:        webhook.String(obj, "name"),
				PhoneNumber: webhook.String(obj, "phoneNumber", "phone"),
			}
		}
	}
	return nil
}

// NewWebhookHandler returns an [http.Handler] that receives SiteGPT's
// webhook deliveries authenticated with token, and calls fn with each event
// and the request's context.
//
// SiteGPT configures a separate URL and token for each of its webhooks
// (messages, escalations, leads) and one per thread through
// [Client.UpdateThread] (WebhookURL, WebhookToken): mount one handler per
// token.
//
// The handler answers:
//   - 405 to anything but POST;
//   - 401 when X-WEBHOOK-TOKEN is missing, repeated or wrong (see
//     [VerifyWebhook]), before the body is read;
//   - 413 when the body is larger than the limit ([DefaultWebhookMaxBody],
//     see [WithWebhookMaxBody]), reading at most one byte past it;
//   - 400 when the body is not a JSON object;
//   - 500 when fn returns an error, so SiteGPT may deliver again;
//   - 200 only after fn has returned nil.
//
// Events of unknown types reach fn like the others, with Type, Data and Raw.
// A delivery can repeat, so fn should deduplicate with
// [WebhookEvent.DedupKey]. Response bodies are short fixed texts: neither
// token nor fn's error is ever written. An empty token is an error, not a
// handler that accepts everything. The handler is safe for concurrent use.
//
// See https://sitegpt.ai/docs/developers/webhooks.
func NewWebhookHandler(token string, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) (http.Handler, error) {
	switch {
	case token == "":
		return nil, errors.New("sitegpt: webhook handler: token is empty")
	case fn == nil:
		return nil, errors.New("sitegpt: webhook handler: nil function")
	}
	cfg := webhookConfig{maxBody: DefaultWebhookMaxBody}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	preauth := func(h http.Header) bool { return VerifyWebhook(token, h) == nil }
	open := func(_ http.Header, body []byte) (func(context.Context) error, int) {
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
