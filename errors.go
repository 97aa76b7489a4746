package chatbot

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Code is a provider-independent error category. Each provider's own codes
// and HTTP statuses are mapped onto these; the provider's code is kept
// verbatim in [Error.ProviderCode].
type Code string

// The normalised error codes.
const (
	CodeUnauthorized      Code = "UNAUTHORIZED"        // bad or missing credentials (401)
	CodeForbidden         Code = "FORBIDDEN"           // credentials valid, access denied (403)
	CodeNotFound          Code = "NOT_FOUND"           // unknown chatbot, thread or conversation (404)
	CodeRateLimitExceeded Code = "RATE_LIMIT_EXCEEDED" // too many requests (429); see Error.RetryAfter
	CodeQuotaExceeded     Code = "QUOTA_EXCEEDED"      // credits or plan limits used up (402 or a quota code)
	CodeInvalidRequest    Code = "INVALID_REQUEST"     // the request was rejected, by the provider or by the SDK before sending
	CodeServerError       Code = "SERVER_ERROR"        // the provider failed (5xx)
	CodeUnknown           Code = "UNKNOWN"             // anything else
)

// Sentinel errors matched by [Error.Is], so that errors.Is(err, ErrRateLimited)
// is true for any *Error with [CodeRateLimitExceeded], however it is wrapped.
var (
	ErrUnauthorized   = errors.New("chatbot: unauthorized")
	ErrForbidden      = errors.New("chatbot: forbidden")
	ErrNotFound       = errors.New("chatbot: not found")
	ErrRateLimited    = errors.New("chatbot: rate limited")
	ErrQuotaExceeded  = errors.New("chatbot: quota exceeded")
	ErrInvalidRequest = errors.New("chatbot: invalid request")
	ErrServer         = errors.New("chatbot: server error")
)

// ErrIdleTimeout ends a call or a stream whose provider stayed silent (no
// headers, or no byte of the body) for longer than the idle timeout set with
// [WithStreamIdleTimeout]. It is wrapped, not an *Error.
var ErrIdleTimeout = errors.New("chatbot: stream idle timeout")

var sentinels = map[Code]error{
	CodeUnauthorized:      ErrUnauthorized,
	CodeForbidden:         ErrForbidden,
	CodeNotFound:          ErrNotFound,
	CodeRateLimitExceeded: ErrRateLimited,
	CodeQuotaExceeded:     ErrQuotaExceeded,
	CodeInvalidRequest:    ErrInvalidRequest,
	CodeServerError:       ErrServer,
}

// Error is a failure reported by a provider, or a request the SDK refused to
// send because it was invalid (then StatusCode is 0 and Code is
// [CodeInvalidRequest]). Use errors.As to read its fields and errors.Is with
// the sentinels (ErrRateLimited, …) to branch on its [Code].
//
// Error never prints Body, and the SDK removes the API key from Message and
// Body before returning an Error.
type Error struct {
	Provider     string        // the provider package's name: "workspace", "sitegpt", "chatbase", …
	StatusCode   int           // HTTP status; 0 for client-side validation and for errors reported inside a stream
	Code         Code          // normalised category
	ProviderCode string        // the provider's own code, verbatim; empty if it sent none
	Message      string        // the provider's message, verbatim (secrets redacted), or the SDK's reason
	RetryAfter   time.Duration // how long the provider asked to wait; 0 if it did not say
	RequestID    string        // from a request-id response header, if any
	Body         ErrorBody     // the raw error body, at most 64 KiB; never printed by Error()
}

// ErrorBody is the raw body of a failed response, kept in [Error.Body]. It
// is a []byte: pass it to json.Unmarshal or convert it with string(). So that
// logging an Error value with %v or %+v does not dump a provider's body, it
// prints as "<N bytes>" with those verbs; %s and %q print its text.
type ErrorBody []byte

// Format prints b's text for %s and %q, hex for %x and %X, and "<N bytes>"
// for every other verb.
func (b ErrorBody) Format(f fmt.State, verb rune) {
	switch verb {
	case 's', 'q', 'x', 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), []byte(b))
	default:
		fmt.Fprintf(f, "<%d bytes>", len(b))
	}
}

// Error returns a one-line description such as
// "workspace: 429 RATE_LIMIT_EXCEEDED: Rate limit exceeded (retry after 1m0s)".
// It is always one line: control characters (C0, DEL, C1) and the Unicode
// line and paragraph separators in the provider's text are escaped as Go
// escapes them ("\n", "\x1b", "\u2028"), so that a provider's message
// cannot forge log lines. The fields themselves (Message) stay verbatim.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		writeLine(&b, e.Provider)
		b.WriteString(": ")
	}
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteByte(' ')
	}
	code := string(e.code())
	b.WriteString(code)
	if e.ProviderCode != "" && e.ProviderCode != code {
		b.WriteString(" (")
		writeLine(&b, e.ProviderCode)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		writeLine(&b, e.Message)
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		writeLine(&b, e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// writeLine writes s to b with every character that could break a line or
// drive a terminal escaped: C0 controls, DEL, C1 controls, U+2028 and
// U+2029. Text without them, the common case, is written as it is.
func writeLine(b *strings.Builder, s string) {
	if !strings.ContainsFunc(s, breaksLine) {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch {
		case !breaksLine(r):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(b, `\x%02x`, r)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
}

// breaksLine reports the characters [writeLine] escapes.
func breaksLine(r rune) bool {
	return r < 0x20 || 0x7f <= r && r <= 0x9f || r == '\u2028' || r == '\u2029'
}

// Is reports whether target is the sentinel for e's Code, so that
// errors.Is(err, ErrNotFound) matches any *Error with [CodeNotFound]. An
// Error whose Code is empty, as one built by hand in a test may be, is
// matched by the code its StatusCode implies ([CodeForStatus]).
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.code()]
	return ok && s == target
}

// code is e.Code, or the code e.StatusCode implies when Code is empty.
func (e *Error) code() Code {
	if e.Code != "" {
		return e.Code
	}
	return CodeForStatus(e.StatusCode)
}

// CodeForStatus returns the normalised code for an HTTP status, as the
// providers' statuses are mapped when they send no code of their own: 401
// [CodeUnauthorized], 403 [CodeForbidden], 404 [CodeNotFound], 429
// [CodeRateLimitExceeded], 402 [CodeQuotaExceeded], 400, 405, 413 and 422
// [CodeInvalidRequest], 5xx [CodeServerError], anything else [CodeUnknown].
func CodeForStatus(status int) Code {
	switch {
	case status == http.StatusUnauthorized:
		return CodeUnauthorized
	case status == http.StatusForbidden:
		return CodeForbidden
	case status == http.StatusNotFound:
		return CodeNotFound
	case status == http.StatusTooManyRequests:
		return CodeRateLimitExceeded
	case status == http.StatusPaymentRequired:
		return CodeQuotaExceeded
	case status == http.StatusBadRequest, status == http.StatusMethodNotAllowed,
		status == http.StatusRequestEntityTooLarge, status == http.StatusUnprocessableEntity:
		return CodeInvalidRequest
	case status >= 500 && status <= 599:
		return CodeServerError
	}
	return CodeUnknown
}
