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
// signature (one of the scheme not accepted included), a missing or
// malformed timestamp under [WebhookSignedTimestamp], a signed timestamp
// outside the tolerance, or a body ending with a digit. The error text says
// which, and never contains the secret or the expected signature.
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
	// Timestamp is the signed X-Webhook-Timestamp under
	// [WebhookSignedTimestamp], else the payload's "timestamp" or
	// "createdAt"; zero when absent. An unsigned X-Webhook-Timestamp is
	// ignored.
	Timestamp time.Time
	// Lead is the lead of a "LEAD_…" event, decoded from "data" (or
	// "data.lead"); nil for other events or when "data" is not an object.
	Lead *Lead
	// Data is the payload's "data" member as received; nil when absent.
	Data json.RawMessage
	// Raw is the whole body as received (and as signed).
	Raw json.RawMessage
}

// DedupKey returns a key that is the same for every delivery of one event,
// and different for different events: the event's ID when it has one; else,
// for a lead event, Type, the lead's id and its UpdatedAt
// ("LEAD_UPDATED:cm5lead1:2025-10-05T18:40:00Z"), so that two updates of one
// lead differ, or Type and the lead's id alone for [EventLeadCreated] (a
// lead is created once); else "sha256:" and the hex SHA-256 of the body (a
// retry resends the same body).
func (e *WebhookEvent) DedupKey() string {
	switch {
	case e.ID != "":
		return e.ID
	case e.Lead == nil || e.Lead.ID == "":
	case !e.Lead.UpdatedAt.IsZero():
		return e.Type + ":" + e.Lead.ID + ":" + e.Lead.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case e.Type == EventLeadCreated:
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
	scheme    WebhookScheme
}

// WebhookScheme says what the X-Webhook-Signature of a delivery covers. The
// provider documents two schemes on two pages; a receiver accepts exactly
// one, so that a delivery signed under one can never pass for a delivery
// under the other.
type WebhookScheme int

const (
	// WebhookSignedTimestamp is the scheme of the provider's security page,
	// and the default: the MAC covers the body followed by the
	// X-Webhook-Timestamp (unix seconds, 1 to 12 decimal digits, no
	// separator), the header is required, and the timestamp must be within
	// the tolerance of now ([WithWebhookTolerance]). A signature over the
	// body alone is refused: accepting it would let anyone who saw one
	// delivery replay it at any time, by moving the timestamp's digits into
	// the body and dropping the header.
	WebhookSignedTimestamp WebhookScheme = iota

	// WebhookSignedBody is the scheme of the provider's webhooks overview:
	// the MAC covers the body alone, and an X-Webhook-Timestamp is ignored.
	// Nothing signed dates a delivery, so a recorded one can be replayed at
	// any time: deduplicate with [WebhookEvent.DedupKey], and choose this
	// scheme only if the provider's deliveries carry no timestamp.
	WebhookSignedBody
)

// WithWebhookScheme sets the one signature scheme accepted; the default is
// [WebhookSignedTimestamp]. An unknown scheme keeps the default.
func WithWebhookScheme(s WebhookScheme) WebhookOption {
	return func(c *webhookConfig) {
		if s == WebhookSignedBody {
			c.scheme = s
		}
	}
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
// now, in either direction; d < 0 turns the check off (and with it the
// protection against replays) and 0 keeps [DefaultWebhookTolerance]. It
// applies only to [WebhookSignedTimestamp]: a signature over the body alone
// carries no trustworthy time.
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
// covers body followed by timestamp ([WebhookSignedTimestamp]), else body
// alone ([WebhookSignedBody]). It is what [VerifyWebhook] checks, for tests
// and fakes.
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
// form "sha256=" followed by 64 hex digits (either case), the HMAC-SHA256
// keyed with the whole secret string as given, "whsec_" prefix included:
// the provider's examples key the HMAC with the secret string and mention
// no decoding (guess; the docs never show a real secret). What it covers is
// the one scheme accepted ([WithWebhookScheme]): by default
// ([WebhookSignedTimestamp]) the raw body bytes followed by the
// X-Webhook-Timestamp, which must be present and within the tolerance of
// now; with [WebhookSignedBody], the body alone. The other scheme's
// signature is refused.
//
// The provider's timestamp scheme puts no separator between body and
// timestamp, so a body that ends with a decimal digit is refused in both
// schemes: no JSON object does, and without such a body the signed bytes
// split into body and timestamp in exactly one way.
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
	if n := len(body); n > 0 && body[n-1] >= '0' && body[n-1] <= '9' {
		return time.Time{}, fmt.Errorf("workspace: webhook: %w: the body ends with a digit, so the signed bytes would not tell body from timestamp", ErrWebhookSignature)
	}
	if cfg.scheme == WebhookSignedBody {
		if !hmac.Equal(got, webhookMAC(secret, body, "")) {
			return time.Time{}, errMismatch
		}
		return time.Time{}, nil
	}
	ts, err := signedTimestamp(header)
	if err != nil {
		return time.Time{}, err
	}
	if !hmac.Equal(got, webhookMAC(secret, body, ts)) {
		return time.Time{}, errMismatch
	}
	sec, _ := strconv.ParseInt(ts, 10, 64) // digits only, at most 12
	at := time.Unix(sec, 0).UTC()
	if cfg.tolerance >= 0 {
		if d := cfg.now().Sub(at); d > cfg.tolerance || d < -cfg.tolerance {
			return time.Time{}, fmt.Errorf("workspace: webhook: %w: signed timestamp %s is outside the %s tolerance", ErrWebhookSignature, ts, cfg.tolerance)
		}
	}
	return at, nil
}

var errMismatch = fmt.Errorf("workspace: webhook: %w: signature does not match the delivery", ErrWebhookSignature)

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

// signedTimestamp returns the one X-Webhook-Timestamp, which must be made
// of 1 to 12 decimal digits.
func signedTimestamp(header http.Header) (string, error) {
	vals := header.Values(WebhookTimestampHeader)
	switch len(vals) {
	case 0:
		return "", fmt.Errorf("workspace: webhook: %w: %s header missing (see WithWebhookScheme)", ErrWebhookSignature, WebhookTimestampHeader)
	case 1:
	default:
		return "", fmt.Errorf("workspace: webhook: %w: %d %s headers", ErrWebhookSignature, len(vals), WebhookTimestampHeader)
	}
	ts := strings.TrimSpace(vals[0])
	if len(ts) == 0 || len(ts) > 12 || strings.Trim(ts, "0123456789") != "" {
		return "", fmt.Errorf("workspace: webhook: %w: %s is not 1 to 12 decimal digits", ErrWebhookSignature, WebhookTimestampHeader)
	}
	return ts, nil
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
//   - 401 when the signature is missing, malformed, wrong or of the other
//     scheme, or its signed timestamp is missing or outside the tolerance
//     (see [VerifyWebhook]); a request without well-formed signature (and,
//     under [WebhookSignedTimestamp], timestamp) headers is refused before
//     its body is read;
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
	preauth := func(h http.Header) bool {
		if _, err := parseSignature(h); err != nil {
			return false
		}
		if cfg.scheme == WebhookSignedTimestamp {
			if _, err := signedTimestamp(h); err != nil {
				return false
			}
		}
		return true
	}
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
