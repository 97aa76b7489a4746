package rest

import (
	"encoding/json"
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

// providerCodes maps every provider's documented error codes onto the
// normalised ones (shared/providers/README.md, "Common error mapping"). A
// provider code wins over the HTTP status.
var providerCodes = map[string]chatbot.Code{
	"INVALID_API_KEY":           chatbot.CodeUnauthorized,
	"MISSING_AUTH_HEADER":       chatbot.CodeUnauthorized,
	"API_KEY_NOT_VALID":         chatbot.CodeUnauthorized,
	"CHATBOT_FETCH_FORBIDDEN":   chatbot.CodeForbidden,
	"CHATBOT_NOT_FOUND":         chatbot.CodeNotFound,
	"RATE_LIMIT_EXCEEDED":       chatbot.CodeRateLimitExceeded,
	"INSUFFICIENT_CREDITS":      chatbot.CodeQuotaExceeded,
	"MESSAGES_LIMIT_REACHED":    chatbot.CodeQuotaExceeded,
	"CHATBOT_LIMIT_REACHED":     chatbot.CodeQuotaExceeded,
	"REQUEST_VALIDATION_FAILED": chatbot.CodeInvalidRequest,
}

// CodeFor maps a provider code and an HTTP status (0 inside a stream) to a
// normalised code.
func CodeFor(providerCode string, status int) chatbot.Code {
	if c, ok := providerCodes[strings.ToUpper(providerCode)]; ok {
		return c
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

// apiError turns a non-2xx response into the one *chatbot.Error type.
func (c *Client) apiError(resp *http.Response) *chatbot.Error {
	if isRedirect(resp.StatusCode) {
		return c.redirectError(resp)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return c.ErrorFrom(resp.StatusCode, resp.Header, body)
}

// ErrorFrom builds the *chatbot.Error for a failure the provider reported
// with this status, headers and body: a non-2xx response, or a 2xx body
// that says {"success": false}. The body is capped at 64 KiB and the secret
// is redacted from everything kept.
func (c *Client) ErrorFrom(status int, h http.Header, body []byte) *chatbot.Error {
	body = body[:min(len(body), maxErrorBody)]
	f := ParseErrorBody(body)
	e := &chatbot.Error{
		Provider:     c.provider,
		StatusCode:   status,
		Code:         CodeFor(f.Code, status),
		ProviderCode: c.Redact(f.Code),
		Message:      c.Redact(f.Message),
		RetryAfter:   retryAfter(status, h, body),
		RequestID:    c.Redact(requestID(h)),
		Body:         c.redactBytes(body),
	}
	if _, known := providerCodes[strings.ToUpper(f.Code)]; !known && mentionsCredits(f.Message) &&
		e.Code != chatbot.CodeUnauthorized && e.Code != chatbot.CodeNotFound && e.Code != chatbot.CodeRateLimitExceeded {
		e.Code = chatbot.CodeQuotaExceeded // Stammer reports used-up credits in prose only
	}
	return c.Scrub(e)
}

func mentionsCredits(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "credit") || strings.Contains(m, "quota")
}

// ErrorFields is what the error decoder found in a body.
type ErrorFields struct {
	Code       string
	Message    string
	RetryAfter time.Duration
}

// ParseErrorBody reads the error shapes of every provider:
//
//	workspace  {"success":false,"error":"…","code":"…","retryAfter":60,"details":…}
//	sitegpt    {"success":false,"message":"…","error":{"code":"…","message":"…","details":[…]}}
//	stammer    {"message":"…","errors":{"field":["…"]}}, {"error":"…"}, {"detail":"…"}
//	DRF        {"field":["…"]}
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

// seconds reads a JSON number or numeric string of seconds (see parseWait).
func seconds(raw json.RawMessage) time.Duration {
	if s := jsonString(raw); s != "" {
		return parseWait(s, time.Second)
	}
	return parseWait(string(raw), time.Second)
}

// retryAfter returns the wait the provider asked for, from, in order:
// Retry-After-Ms, Retry-After (seconds or HTTP date), the body's retryAfter,
// and for a 429 with X-RateLimit-Remaining 0 the X-RateLimit-Reset time.
func retryAfter(status int, h http.Header, body []byte) time.Duration {
	if d := parseWait(h.Get("Retry-After-Ms"), time.Millisecond); d > 0 {
		return d
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if d := parseWait(v, time.Second); d > 0 {
			return d
		} else if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d.Round(time.Second)
			}
		}
	}
	if d := ParseErrorBody(body).RetryAfter; d > 0 {
		return d
	}
	if status == http.StatusTooManyRequests && strings.TrimSpace(h.Get(hdrRemaining)) == "0" {
		if rl := RateLimitFrom(h); rl != nil && !rl.Reset.IsZero() {
			if d := time.Until(rl.Reset); d > 0 {
				return d.Round(time.Second)
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

// RateLimitFrom parses X-RateLimit-Limit, -Remaining, -Used and -Reset. Reset
// is read as unix seconds (or milliseconds when the number is that large; a
// small number is taken as seconds from now). It returns nil when none of the
// headers is present.
func RateLimitFrom(h http.Header) *chatbot.RateLimit {
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
		rl.Reset = time.Now().Add(time.Duration(reset) * time.Second).Truncate(time.Second)
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
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e15 {
		return 0, false
	}
	return int(f), true
}
