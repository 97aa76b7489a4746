package workspace

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/webhook"
)

// Webhook headers and defaults.
const (
	// WebhookSignatureHeader carries "sha256=<hex>", the HMAC-SHA256 of the
	// delivery (doc).
	WebhookSignatureHeader = "X-Webhook-Signature"
	// WebhookTimestampHeader carries the unix time of the delivery, in
	// seconds (doc, on the provider's security page only).
	WebhookTimestampHeader = "X-Webhook-Timestamp"
	// DefaultWebhookMaxBody is the largest body [NewWebhookHandler] reads
	// unless [WithWebhookMaxBody] says otherwise: 1 MiB.
	DefaultWebhookMaxBody = 1 << 20
	// DefaultWebhookTolerance is how far a signed timestamp may be from the
	// receiver's clock unless [WithWebhookTolerance] says otherwise. It
	// covers the provider's whole documented retry schedule (10 retries at
	// most 60 s apart, each with a 30 s timeout), so a retry that keeps its
	// first timestamp is not refused.
	DefaultWebhookTolerance = 15 * time.Minute
)

// EventLeadCreated is the event type of a new lead (doc). Every event type
// beginning with "LEAD_" is decoded into [WebhookEvent.Lead].
const EventLeadCreated = "LEAD_CREATED"

// ErrWebhookSignature is matched (with [errors.Is]) by every error that
// refuses a delivery as not authentic: a missing, malformed or wrong
// signature, or a signed timestamp outside the tolerance. The error text
// says which, and never contains the secret or the expected signature.
var ErrWebhookSignature = errors.New("webhook signature rejected")

// WebhookEvent is one verified webhook delivery. Every event is delivered,
// including types this package does not know: Data and Raw always hold what
// was received.
//
// The provider retries a delivery that did not get a 2xx answer, up to 10
// times, so the same event can arrive more than once: deduplicate with
// [WebhookEvent.DedupKey].
type WebhookEvent struct {
	// Type is the payload's "event" member verbatim (or "type" when there
	// is no "event"), such as [EventLeadCreated]; "" when it has neither.
	Type string
	// ID is the event's own id when the payload carries one: its "id",
	// "eventId", "deliveryId" or "webhookId". The docs name none of these
	// (guess), so ID is often empty; see DedupKey. Headers are not signed,
	// so no id is taken from them: a replay with a changed header would
	// otherwise escape deduplication.
	ID string
	// Timestamp is the X-Webhook-Timestamp when the signature covers it,
	// else the payload's "timestamp" or "createdAt"; zero when absent. An
	// unsigned X-Webhook-Timestamp is ignored.
	Timestamp time.Time
	// Lead is the lead of a "LEAD_…" event, decoded from "data" (or
	// "data.lead"); nil for other events or when "data" is not an object.
	Lead *Lead
	// Data is the payload's "data" member as received; nil when absent.
	Data json.RawMessage
	// Raw is the whole body as received (and as signed).
	Raw json.RawMessage
}

// DedupKey returns a key that is the same for every delivery of one event:
// the event's ID when it has one, else Type and the lead's id for a lead
// event, else "sha256:" and the hex SHA-256 of the body (a retry resends the
// same body).
func (e *WebhookEvent) DedupKey() string {
	switch {
	case e.ID != "":
		return e.ID
	case e.Lead != nil && e.Lead.ID != "":
		return e.Type + ":" + e.Lead.ID
	}
	sum := sha256.Sum256(e.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// WebhookOption tunes [VerifyWebhook], [ParseWebhook] and
// [NewWebhookHandler].
type WebhookOption func(*webhookConfig)

type webhookConfig struct {
	maxBody   int64
	tolerance time.Duration
	now       func() time.Time
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

// WithWebhookTolerance sets how far a signed X-Webhook-Timestamp may be from
// now, in either direction; d < 0 turns the check off and 0 keeps
// [DefaultWebhookTolerance]. It applies only to signatures over the body
// and the timestamp: a signature over the body alone carries no trustworthy
// time.
func WithWebhookTolerance(d time.Duration) WebhookOption {
	return func(c *webhookConfig) {
		if d != 0 {
			c.tolerance = d
		}
	}
}

// WithWebhookClock sets the clock the timestamp is checked against; nil
// keeps [time.Now]. It exists for tests.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return func(c *webhookConfig) {
		if now != nil {
			c.now = now
		}
	}
}

func newWebhookConfig(opts []WebhookOption) webhookConfig {
	c := webhookConfig{maxBody: DefaultWebhookMaxBody, tolerance: DefaultWebhookTolerance, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// SignWebhook returns the X-Webhook-Signature value for body signed with
// secret: "sha256=" and the lowercase hex HMAC-SHA256 of body, keyed with the
// bytes of the whole secret string. When timestamp is not empty the MAC
// covers body followed by timestamp, as the provider's security page
// describes. It is what [VerifyWebhook] checks, for tests and fakes.
func SignWebhook(secret string, body []byte, timestamp string) string {
	return "sha256=" + hex.EncodeToString(webhookMAC(secret, body, timestamp))
}

func webhookMAC(secret string, body []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// VerifyWebhook reports whether body, with header, is an authentic delivery
// signed with secret. It returns nil, or an error matching
// [ErrWebhookSignature].
//
// The signature is the X-Webhook-Signature header, exactly one value of the
// form "sha256=" followed by 64 hex digits (either case). It must be the
// HMAC-SHA256 of the raw body bytes, keyed with the whole secret string as
// given, "whsec_" prefix included: the provider's examples key the HMAC with
// the secret string and mention no decoding (guess; the docs never show a
// real secret). The provider documents two schemes on two pages, and both
// are accepted: the MAC of the body alone (webhooks overview), and, when an
// X-Webhook-Timestamp of decimal digits is present, the MAC of the body
// followed by that timestamp (security page), in which case the timestamp
// must also be within the tolerance of now (see [WithWebhookTolerance]).
//
// Comparisons are constant-time ([hmac.Equal]). Verify the bytes exactly as
// received: a body decoded and encoded again does not verify.
func VerifyWebhook(secret string, header http.Header, body []byte, opts ...WebhookOption) error {
	_, err := verifyWebhook(secret, header, body, newWebhookConfig(opts))
	return err
}

// verifyWebhook verifies and returns the signed timestamp, if one was signed.
func verifyWebhook(secret string, header http.Header, body []byte, cfg webhookConfig) (time.Time, error) {
	if secret == "" {
		return time.Time{}, fmt.Errorf("workspace: webhook: %w: no secret configured", ErrWebhookSignature)
	}
	got, err := parseSignature(header)
	if err != nil {
		return time.Time{}, err
	}
	ts, hasTS := signedTimestamp(header)
	bodyOnly := hmac.Equal(got, webhookMAC(secret, body, ""))
	withTS := hasTS && hmac.Equal(got, webhookMAC(secret, body, ts))
	switch {
	case withTS:
		sec, _ := strconv.ParseInt(ts, 10, 64) // digits only, at most 12
		at := time.Unix(sec, 0).UTC()
		if cfg.tolerance >= 0 {
			if d := cfg.now().Sub(at); d > cfg.tolerance || d < -cfg.tolerance {
				return time.Time{}, fmt.Errorf("workspace: webhook: %w: signed timestamp %s is outside the %s tolerance", ErrWebhookSignature, ts, cfg.tolerance)
			}
		}
		return at, nil
	case bodyOnly:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("workspace: webhook: %w: signature does not match the body", ErrWebhookSignature)
}

// parseSignature reads the one X-Webhook-Signature value into its MAC bytes.
func parseSignature(header http.Header) ([]byte, error) {
	vals := header.Values(WebhookSignatureHeader)
	switch len(vals) {
	case 0:
		return nil, fmt.Errorf("workspace: webhook: %w: %s header missing", ErrWebhookSignature, WebhookSignatureHeader)
	case 1:
	default:
		return nil, fmt.Errorf("workspace: webhook: %w: %d %s headers", ErrWebhookSignature, len(vals), WebhookSignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(vals[0]), "sha256=")
	if !ok {
		return nil, fmt.Errorf("workspace: webhook: %w: %s does not start with \"sha256=\"", ErrWebhookSignature, WebhookSignatureHeader)
	}
	if len(hexSig) != 2*sha256.Size {
		return nil, fmt.Errorf("workspace: webhook: %w: signature has %d hex digits, want %d", ErrWebhookSignature, len(hexSig), 2*sha256.Size)
	}
	mac, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, fmt.Errorf("workspace: webhook: %w: signature is not hex", ErrWebhookSignature)
	}
	return mac, nil
}

// signedTimestamp returns the X-Webhook-Timestamp when there is exactly one,
// made of 1 to 12 decimal digits.
func signedTimestamp(header http.Header) (string, bool) {
	vals := header.Values(WebhookTimestampHeader)
	if len(vals) != 1 {
		return "", false
	}
	ts := strings.TrimSpace(vals[0])
	if len(ts) == 0 || len(ts) > 12 {
		return "", false
	}
	for i := range len(ts) {
		if ts[i] < '0' || ts[i] > '9' {
			return "", false
		}
	}
	return ts, true
}

// ErrWebhookPayload is matched (with [errors.Is]) by the error of a verified
// body that is not a JSON object.
var ErrWebhookPayload = errors.New("webhook payload is not a JSON object")

// ParseWebhook verifies body as [VerifyWebhook] does and decodes it into a
// [WebhookEvent]. A delivery that is not authentic is an error matching
// [ErrWebhookSignature]; an authentic body that is not one JSON object, or
// whose "event" is not a string, matches [ErrWebhookPayload]. The body is
// never decoded before it is verified.
func ParseWebhook(secret string, header http.Header, body []byte, opts ...WebhookOption) (*WebhookEvent, error) {
	cfg := newWebhookConfig(opts)
	at, err := verifyWebhook(secret, header, body, cfg)
	if err != nil {
		return nil, err
	}
	return decodeWebhook(body, at)
}

func decodeWebhook(body []byte, at time.Time) (*WebhookEvent, error) {
	top, typ, err := webhook.Envelope(body)
	if err != nil {
		return nil, fmt.Errorf("workspace: webhook: %w: %w", ErrWebhookPayload, err)
	}
	ev := &WebhookEvent{Type: typ, Raw: bytes.Clone(body), Timestamp: at}
	if raw, ok := top["data"]; ok {
		ev.Data = bytes.Clone(raw)
	}
	ev.ID = webhook.String(top, "id", "eventId", "deliveryId", "webhookId")
	if ev.Timestamp.IsZero() {
		for _, k := range []string{"timestamp", "createdAt"} {
			if t := timestamp(top[k]); !t.IsZero() {
				ev.Timestamp = t
				break
			}
		}
	}
	if strings.HasPrefix(ev.Type, "LEAD_") {
		ev.Lead = webhookLead(ev.Data)
	}
	return ev, nil
}

// webhookLead decodes a lead from data or data.lead; nil when neither is an
// object.
func webhookLead(data json.RawMessage) *Lead {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return nil
	}
	raw := json.RawMessage(data)
	var inner map[string]json.RawMessage
	if l, ok := obj["lead"]; ok && json.Unmarshal(l, &inner) == nil && inner != nil {
		raw = l
	}
	var lead Lead
	if json.Unmarshal(raw, &lead) != nil {
		return nil
	}
	return &lead
}

// NewWebhookHandler returns an [http.Handler] that receives the provider's
// webhook deliveries, signed with secret, and calls fn with each verified
// event and the request's context.
//
// The handler answers:
//   - 405 to anything but POST;
//   - 401 when the signature is missing, malformed or wrong, or its signed
//     timestamp is outside the tolerance (see [VerifyWebhook]); a request
//     without a well-formed signature header is refused before its body is
//     read;
//   - 413 when the body is larger than the limit ([DefaultWebhookMaxBody],
//     see [WithWebhookMaxBody]), reading at most one byte past it;
//   - 400 when the verified body is not a JSON object;
//   - 500 when fn returns an error, so the provider delivers again;
//   - 200 only after fn has returned nil.
//
// Events of unknown types reach fn like the others, with Type, Data and Raw.
// Deliveries repeat (the provider retries up to 10 times), so fn should
// deduplicate with [WebhookEvent.DedupKey] and be quick: the provider waits
// 30 s at most. Response bodies are short fixed texts: neither the secret nor
// fn's error is ever written. An empty secret is an error, not a handler that
// accepts everything. The handler is safe for concurrent use.
//
// See https://pollybot.app/docs/webhooks and
// https://pollybot.app/docs/webhooks/security.
func NewWebhookHandler(secret string, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) (http.Handler, error) {
	switch {
	case secret == "":
		return nil, errors.New("workspace: webhook handler: secret is empty")
	case fn == nil:
		return nil, errors.New("workspace: webhook handler: nil function")
	}
	cfg := newWebhookConfig(opts)
	preauth := func(h http.Header) bool { _, err := parseSignature(h); return err == nil }
	open := func(h http.Header, body []byte) (func(context.Context) error, int) {
		at, err := verifyWebhook(secret, h, body, cfg)
		if err != nil {
			return nil, http.StatusUnauthorized
		}
		ev, err := decodeWebhook(body, at)
		if err != nil {
			return nil, http.StatusBadRequest
		}
		return func(ctx context.Context) error { return fn(ctx, ev) }, 0
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webhook.Receive(w, r, cfg.maxBody, preauth, open)
	}), nil
}
