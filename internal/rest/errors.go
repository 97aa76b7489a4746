package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot"
)

// code maps a provider code and an HTTP status to a normalised code: the
// provider's table ([Config.Codes]) first, then the status.
func (c *Client) code(providerCode string, status int) chatbot.Code {
	if code, ok := c.cfg.Codes[strings.ToUpper(providerCode)]; ok {
		return code
	}
	switch {
	case status == http.StatusUnauthorized:
		return chatbot.CodeUnauthorized
	case status == http.StatusForbidden:
		return chatbot.CodeForbidden
	case status == http.StatusNotFound:
		return chatbot.CodeNotFound
	case status == http.StatusTooManyRequests:
		return chatbot.CodeRateLimitExceeded
	case status == http.StatusPaymentRequired:
		return chatbot.CodeQuotaExceeded
	case status == http.StatusBadRequest, status == http.StatusMethodNotAllowed,
		status == http.StatusRequestEntityTooLarge, status == http.StatusUnprocessableEntity:
		return chatbot.CodeInvalidRequest
	case status >= 500:
		return chatbot.CodeServerError
	}
	return chatbot.CodeUnknown
}

// ErrorFor builds the *chatbot.Error for a 2xx response whose body reports a
// failure in a way only the provider can recognise.
func (c *Client) ErrorFor(r *Response) *chatbot.Error {
	return c.errorFrom(r.StatusCode, r.Header, r.Body)
}

// MissingReply is the error for a 2xx response r that lacks the field
// carrying the reply (absent, not present and empty): there is nothing to
// return, and an empty reply would invent one. It carries r's status and
// body, a message naming the field (and the provider's own message, if the
// body has one), and [chatbot.CodeUnknown], so that no retry layer resends a
// message the provider may have processed.
func (c *Client) MissingReply(r *Response, field string) *chatbot.Error {
	e := c.ErrorFor(r)
	e.Code = chatbot.CodeUnknown
	msg := "the response has no " + field
	if e.Message != "" {
		msg += ": " + e.Message
	}
	e.Message = msg
	return e
}

// NoReply is the error of a stream whose 2xx response carried no reply text
// and no end marker (an empty body, a 204, a JSON answer without the reply):
// never a complete, empty reply. It wraps io.ErrUnexpectedEOF, as for a
// reply that ended before its first word.
func (c *Client) NoReply() error {
	return fmt.Errorf("%s: stream: %w: %w", c.cfg.Provider, errNoReply, io.ErrUnexpectedEOF)
}

// errNoReply is the reason [Client.NoReply] gives.
var errNoReply = errors.New("the response carried no reply")

// errorFrom builds the one *chatbot.Error for a failure the provider reported
// with this status, headers and body, parsing the body once. The body is
// redacted and capped at 64 KiB (see [Client.errorBody]) and the secret is
// redacted from everything kept.
func (c *Client) errorFrom(status int, h http.Header, body []byte) *chatbot.Error {
	body = c.errorBody(body)
	f := ParseErrorBody(body)
	e := &chatbot.Error{
		Provider:     c.cfg.Provider,
		StatusCode:   status,
		Code:         c.code(f.Code, status),
		ProviderCode: c.Redact(f.Code),
		Message:      c.Redact(f.Message),
		RetryAfter:   c.retryAfter(status, h, f.RetryAfter),
		RequestID:    c.Redact(requestID(h)),
		Body:         body,
	}
	if c.cfg.Classify != nil {
		c.cfg.Classify(e)
	}
	return c.Scrub(e)
}

// EventError completes the error an event inside a 2xx stream reported (an
// SSE error event, an error part): it sets the provider, maps the
// ProviderCode, and the HTTP status the event names (0 when none), onto
// Code as for a response, applies [Config.Classify] and redacts the
// secret. StatusCode stays 0: the response itself succeeded.
func (c *Client) EventError(e *chatbot.Error, status int) *chatbot.Error {
	e.Provider = c.cfg.Provider
	e.Code = c.code(e.ProviderCode, status)
	if c.cfg.Classify != nil {
		c.cfg.Classify(e)
	}
	return c.Scrub(e)
}

// errorBody is the one place that bounds what an error keeps of a body (the
// plain error path, the HTML page path and the redirect path alike): the
// secret is redacted first, in every form, from the first 64 KiB and the
// longest span a match can have after them, and the result is then cut to
// 64 KiB, so that a secret straddling the cut is never kept in part. body
// should hold what [Client.readErrorBody] reads; a shorter one is used whole.
func (c *Client) errorBody(body []byte) []byte {
	return c.redactor.boundedBytes(body, maxErrorBody)
}

// readErrorBody reads what [Client.errorBody] needs of an error body.
func (c *Client) readErrorBody(r io.Reader) []byte {
	body, _ := io.ReadAll(io.LimitReader(r, c.redactor.readLimit(maxErrorBody)))
	return body
}

// ReadErrorBody reads from r as much of a response body as an error keeps
// (see [Client.ErrorFor]), for a response the provider's code turns into an
// error itself.
func (c *Client) ReadErrorBody(r io.Reader) []byte { return c.readErrorBody(r) }

// ErrorFields is what the error decoder found in a body.
type ErrorFields struct {
	Code       string
	Message    string
	RetryAfter time.Duration
}

// ParseErrorBody reads the common shapes of JSON error bodies:
//
//	{"error":"…","code":"…","retryAfter":60,"details":…}
//	{"message":"…","error":{"code":"…","message":"…","details":[…]}}
//	{"message":"…","errors":{"field":["…"]}}, {"error":"…"}, {"detail":"…"}
//	{"field":["…"]} (Django REST Framework)
//
// It never fails: a body that is not JSON (HTML, empty) gives zero fields.
func ParseErrorBody(body []byte) ErrorFields {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ErrorFields{}
	}
	var f ErrorFields
	f.Code = jsonString(m["code"])
	var nested struct {
		Code    any             `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	}
	msg := jsonString(m["error"])
	if msg == "" && json.Unmarshal(m["error"], &nested) == nil {
		msg = nested.Message
		if f.Code == "" {
			f.Code = scalar(nested.Code)
		}
	}
	for _, k := range []string{"detail", "message"} {
		if msg == "" {
			msg = jsonString(m[k])
		}
	}
	details := formatDetails(m["errors"])
	if details == "" {
		details = formatDetails(nested.Details)
	}
	if details == "" {
		details = formatDetails(m["details"])
	}
	if msg == "" && details == "" && f.Code == "" {
		details = formatFieldLists(m) // DRF's bare {"field": ["…"]}
	}
	switch {
	case msg == "":
		msg = details
	case details != "":
		msg = strings.TrimRight(msg, ".… ") + ": " + details
	}
	f.Message = msg
	f.RetryAfter = seconds(m["retryAfter"])
	return f
}

// jsonString returns raw as a string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// formatDetails renders validation details as "field: message; …": a map of
// field to messages (DRF), a list of strings, or a list of objects with
// path/field and message.
func formatDetails(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var byField map[string]any
	if json.Unmarshal(raw, &byField) == nil {
		keys := make([]string, 0, len(byField))
		for k := range byField {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			if s := textOf(byField[k]); s != "" {
				parts = append(parts, k+": "+s)
			}
		}
		return strings.Join(parts, "; ")
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		var parts []string
		for _, v := range list {
			if s := textOf(v); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// formatFieldLists renders the keys of m whose values are lists, as Django
// REST Framework sends field errors: {"query": ["This field is required."]}.
func formatFieldLists(m map[string]json.RawMessage) string {
	lists := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if len(v) > 0 && v[0] == '[' {
			lists[k] = v
		}
	}
	if len(lists) == 0 {
		return ""
	}
	b, err := json.Marshal(lists)
	if err != nil {
		return ""
	}
	return formatDetails(b)
}

// textOf renders one detail value: a string, a list of strings, or an object
// with a message (prefixed by its path or field when present).
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, e := range v {
			if s := textOf(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	case map[string]any:
		msg, _ := v["message"].(string)
		if msg == "" {
			return ""
		}
		for _, k := range []string{"path", "field", "param"} {
			switch p := v[k].(type) {
			case string:
				return p + ": " + msg
			case []any:
				if len(p) > 0 {
					return fmt.Sprint(p...) + ": " + msg
				}
			}
		}
		return msg
	}
	return ""
}

// seconds reads a JSON number, or a string holding one, of seconds (see
// parseWait).
func seconds(raw json.RawMessage) time.Duration {
	if s := jsonString(raw); s != "" {
		return parseWait(s, time.Second)
	}
	return parseWait(string(raw), time.Second)
}

// retryAfter returns the wait the provider asked for, from, in order:
// Retry-After-Ms (a JSON number), Retry-After (digits or an HTTP date, RFC
// 9110 §10.2.3; any other form is ignored), the body's retryAfter (inBody),
// and for a 429 with X-RateLimit-Remaining 0 the X-RateLimit-Reset time.
// Dates are converted on the client's clock, and the wait until one is
// rounded up to a whole second.
func (c *Client) retryAfter(status int, h http.Header, inBody time.Duration) time.Duration {
	if d := parseWait(h.Get("Retry-After-Ms"), time.Millisecond); d > 0 {
		return d
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if d, ok := delaySeconds(v); ok && d > 0 {
			return d
		} else if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(c.clock.Now()); d > 0 {
				return ceilSecond(d)
			}
		}
	}
	if inBody > 0 {
		return inBody
	}
	if status == http.StatusTooManyRequests && strings.TrimSpace(h.Get(hdrRemaining)) == "0" {
		now := c.clock.Now()
		if rl := ParseRateLimit(h, now); rl != nil && !rl.Reset.IsZero() {
			if d := rl.Reset.Sub(now); d > 0 {
				return ceilSecond(d)
			}
		}
	}
	return 0
}

// requestIDHeaders are the response headers a request id is read from.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "X-Correlation-Id", "Cf-Ray"}

func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// rateLimit parses the rate-limit headers of a response received now.
func (c *Client) rateLimit(h http.Header) *chatbot.RateLimit {
	if !hasRateLimit(h) {
		return nil // the common case reads no clock
	}
	return ParseRateLimit(h, c.clock.Now())
}

func hasRateLimit(h http.Header) bool {
	return len(h[hdrLimit]) > 0 || len(h[hdrRemaining]) > 0 || len(h[hdrUsed]) > 0 || len(h[hdrReset]) > 0
}

// ParseRateLimit parses X-RateLimit-Limit, -Remaining, -Used and -Reset of a
// response received at now. Reset is read as unix seconds (or milliseconds
// when the number is that large; a small number is taken as seconds from
// now). It returns nil when none of the headers is present.
func ParseRateLimit(h http.Header, now time.Time) *chatbot.RateLimit {
	limit, okL := headerInt(h, hdrLimit)
	rem, okR := headerInt(h, hdrRemaining)
	used, okU := headerInt(h, hdrUsed)
	reset, okT := headerReset(h)
	if !okL && !okR && !okU && !okT {
		return nil
	}
	rl := &chatbot.RateLimit{Limit: limit, Remaining: rem, Used: used}
	switch {
	case !okT || reset <= 0:
	case reset > 1e12:
		rl.Reset = time.UnixMilli(int64(reset))
	case reset < 1e9:
		rl.Reset = now.Add(time.Duration(reset) * time.Second).Truncate(time.Second)
	default:
		rl.Reset = time.Unix(int64(reset), 0)
	}
	return rl
}

// The rate-limit headers in canonical form, so that reading them on every
// response costs no canonicalisation (http.Header.Get would allocate here).
const (
	hdrLimit     = "X-Ratelimit-Limit"
	hdrRemaining = "X-Ratelimit-Remaining"
	hdrUsed      = "X-Ratelimit-Used"
	hdrReset     = "X-Ratelimit-Reset"
)

// headerInt reads the canonical header key as a non-negative number.
func headerInt(h http.Header, key string) (int, bool) {
	vs := h[key]
	if len(vs) == 0 {
		return 0, false
	}
	v := strings.TrimSpace(vs[0])
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 1e15 {
		return n, true // the common form, parsed without floating point
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e15 {
		return 0, false
	}
	return int(f), true
}
