package resilience

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/chatbot-go/chatbot"
)

// verdict is what an outcome says about the provider, for the breaker.
type verdict int

const (
	healthy  verdict = iota // the provider answered, whatever the answer
	excluded                // says nothing about the provider: counted neither way
	failing                 // the provider is failing
)

// judge classifies the outcome err of a call made with ctx; see the decision
// table in the package documentation.
func judge(ctx context.Context, err error) verdict {
	if err == nil || errors.Is(err, chatbot.ErrActionRequired) {
		return healthy // an answer, complete or waiting for the caller's action
	}
	if errors.Is(err, errPanicked) {
		return failing // whatever the context says: the chatbot crashed
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, errAbandoned) {
		return excluded // the caller's cancellation, deadline or break
	}
	if errors.Is(err, ErrCircuitOpen) || errors.Is(err, chatbot.ErrStreamUsed) {
		return excluded // nothing was sent
	}
	var lerr *LimiterError
	if errors.As(err, &lerr) {
		return excluded // nothing was sent
	}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == chatbot.CodeRateLimitExceeded, apiErr.Code == chatbot.CodeQuotaExceeded:
			return excluded // the provider is up and refusing: the limiter and the fallback deal with it
		case apiErr.Code == chatbot.CodeServerError, apiErr.StatusCode >= 500:
			return failing
		case apiErr.StatusCode == 0 && apiErr.Code == chatbot.CodeUnknown:
			return failing // an error event of a stream, of no known cause: the generation failed
		case apiErr.StatusCode == 0:
			return excluded // refused by the SDK before sending, or a client error reported in a stream
		case apiErr.StatusCode < 400 && apiErr.Code == chatbot.CodeUnknown:
			return failing // a 2xx HTML page, a redirect not followed: something other than the provider's API answered
		}
		return healthy // 4xx: the caller's mistake, answered by a working provider
	}
	// Transport errors (dial, DNS, reset, header timeout), the idle timeout
	// and a stream cut mid-reply (io.ErrUnexpectedEOF).
	return failing
}

// unprocessed reports whether err, the outcome of a call made with ctx,
// proves that the message was not processed, so that another chatbot may be
// asked; see the decision table in the package documentation.
func unprocessed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrCircuitOpen) {
		return true
	}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == chatbot.CodeRateLimitExceeded, apiErr.Code == chatbot.CodeQuotaExceeded:
			return true // 429 or 402, or the client's own limiter
		case apiErr.StatusCode == http.StatusServiceUnavailable && apiErr.RetryAfter > 0:
			return true // refused unprocessed, the server says for how long
		}
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true // never connected
	}
	var dns *net.DNSError
	return errors.As(err, &dns) // never resolved
}
