package relay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chatbot-go/chatbot"
)

// StatusError is implemented by errors that know the HTTP status a relay
// answers them with, such as resilience.CircuitOpenError (503 with the time
// until the breaker's next probe). [Status] asks the first error in the
// chain that implements it before it applies its own table, so a package
// can give its errors a status without this package importing it.
type StatusError interface {
	error
	// HTTPStatus returns the status and, when positive, the wait to send as
	// Retry-After.
	HTTPStatus() (status int, retryAfter time.Duration)
}

// The codes of the JSON error body and of the error part or event of a
// stream that failed after its first byte; see the table in the package
// documentation.
const (
	CodeInvalidRequest  = "INVALID_REQUEST"  // 400: the request or the message was refused
	CodeRateLimited     = "RATE_LIMITED"     // 429: too many requests, by the provider's or the client's limit
	CodeUnavailable     = "UNAVAILABLE"      // 503: the circuit is open (or another StatusError's 503)
	CodeQuotaExceeded   = "QUOTA_EXCEEDED"   // 503: the site's credits with the provider are used up
	CodeTimeout         = "TIMEOUT"          // 504: the provider fell silent, or a deadline passed
	CodeUpstreamRefused = "UPSTREAM_REFUSED" // 502: the provider refused this server (401, 403, 404)
	CodeUpstreamError   = "UPSTREAM_ERROR"   // 502: any other provider or transport failure
	CodeInternal        = "INTERNAL"         // 500: a program error (a stream ranged twice)
)

// Status returns the HTTP status a relay answers err with when it fails
// before the first byte of the reply, as the table in the package
// documentation says: 200 for nil and for an error wrapping
// [chatbot.ErrActionRequired] (not a failure: Chat returned a whole reply
// that waits for the caller to run its Actions), 0 (write nothing: nobody
// is listening) for the caller's cancellation (context.Canceled), and a 4xx
// or 5xx status otherwise. Use it for errors of Chat too: a status of 200
// means that the reply is to be sent, Actions included.
func Status(err error) int {
	return classify(err).status
}

// RetryAfter returns the wait a relay sends as Retry-After with err's
// status: the provider's or the client-side limiter's wait for a rate
// limit, the time until the next probe for an open circuit (any
// [StatusError]), and 0 (no header) otherwise.
func RetryAfter(err error) time.Duration {
	return classify(err).retryAfter
}

// verdict is how a relay answers an error.
type verdict struct {
	status     int
	code       string
	message    string // written by this package (or by the SDK, for requests it refused before sending)
	retryAfter time.Duration
}

// classify applies the mapping table of the package documentation.
func classify(err error) verdict {
	var se StatusError
	var apiErr *chatbot.Error
	switch {
	case err == nil, errors.Is(err, chatbot.ErrActionRequired):
		return verdict{status: http.StatusOK}
	case errors.Is(err, context.Canceled):
		return verdict{}
	case errors.As(err, &se):
		status, wait := se.HTTPStatus()
		v := byStatus(status)
		v.retryAfter = max(wait, 0)
		return v
	case errors.Is(err, chatbot.ErrInvalidRequest):
		v := byStatus(http.StatusBadRequest)
		if errors.As(err, &apiErr) && apiErr.StatusCode == 0 && apiErr.Message != "" {
			// Refused before sending: the reason is the SDK's own words
			// about the caller's input, never the provider's.
			v.message = "The request is not valid: " + apiErr.Message + "."
		}
		return v
	case errors.Is(err, chatbot.ErrRateLimited):
		v := byStatus(http.StatusTooManyRequests)
		if errors.As(err, &apiErr) {
			v.retryAfter = max(apiErr.RetryAfter, 0)
		}
		return v
	case errors.Is(err, chatbot.ErrQuotaExceeded):
		return verdict{status: http.StatusServiceUnavailable, code: CodeQuotaExceeded, message: "The chatbot is not available at the moment."}
	case errors.Is(err, chatbot.ErrIdleTimeout), errors.Is(err, context.DeadlineExceeded):
		return byStatus(http.StatusGatewayTimeout)
	case errors.Is(err, chatbot.ErrUnauthorized), errors.Is(err, chatbot.ErrForbidden), errors.Is(err, chatbot.ErrNotFound):
		return verdict{status: http.StatusBadGateway, code: CodeUpstreamRefused, message: "The chatbot service refused this server's request."}
	case errors.Is(err, chatbot.ErrStreamUsed):
		return byStatus(http.StatusInternalServerError)
	}
	return byStatus(http.StatusBadGateway)
}

// byStatus is the verdict for a status of the table, and a generic one for
// any other status a [StatusError] chose.
func byStatus(status int) verdict {
	switch status {
	case http.StatusBadRequest:
		return verdict{status: status, code: CodeInvalidRequest, message: "The request is not valid."}
	case http.StatusTooManyRequests:
		return verdict{status: status, code: CodeRateLimited, message: "Too many requests: try again later."}
	case http.StatusServiceUnavailable:
		return verdict{status: status, code: CodeUnavailable, message: "The chatbot is not available at the moment."}
	case http.StatusGatewayTimeout:
		return verdict{status: status, code: CodeTimeout, message: "The chatbot did not answer in time."}
	case http.StatusBadGateway:
		return verdict{status: status, code: CodeUpstreamError, message: "The chatbot failed to answer."}
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		return verdict{status: status, code: CodeInternal, message: "The server failed to relay the reply."}
	}
	return verdict{status: status, code: CodeInvalidRequest, message: "The request is not valid."}
}

// errorBody is the JSON error of a relay: the HTTP body of a failure before
// the first byte, and the payload of a stream's error part or event.
type errorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter int64  `json:"retryAfter,omitempty"` // whole seconds, rounded up
}

func (v verdict) body() errorBody {
	return errorBody{Code: v.code, Message: v.message, RetryAfter: seconds(v.retryAfter)}
}

// seconds rounds d up to whole seconds, as Retry-After needs.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// WriteError answers err as a relay does before the first byte: Status(err)
// with Retry-After when [RetryAfter] is positive, and a small JSON body
// {"code": "…", "message": "…", "retryAfter": seconds} that never carries
// the provider's body, its message or the upstream URL. For the caller's
// cancellation it writes nothing, and for what is not a failure (nil, a
// reply waiting for actions: [Status] 200) neither: write the reply. It
// must be called before anything else was written to w.
func WriteError(w http.ResponseWriter, err error) {
	v := classify(err)
	if v.status == 0 || v.status == http.StatusOK {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if s := seconds(v.retryAfter); s > 0 {
		h.Set("Retry-After", strconv.FormatInt(s, 10))
	}
	w.WriteHeader(v.status)
	b, _ := json.Marshal(v.body()) // cannot fail: strings and an int
	_, _ = w.Write(append(b, '\n'))
}
