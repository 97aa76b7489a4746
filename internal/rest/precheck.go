package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/chatbot-go/chatbot"
)

// codeClientRateLimited is the ProviderCode of a call the client refused
// itself, because the provider's rate-limit window was used up: nothing was
// sent. It is the code the resilience module's limiter uses too.
const codeClientRateLimited = "CLIENT_RATE_LIMITED"

// window is the rate-limit state a client remembers from the X-RateLimit-*
// headers of its responses, as go-github does: the time until which the
// provider said the window is used up. It is safe for concurrent use and
// costs nothing to read.
type window struct {
	until atomic.Int64 // unix nanoseconds; 0 when the window is not known to be used up
}

// DefaultRateWindow is the longest rate-limit window assumed of a provider
// whose [Config] names none.
const DefaultRateWindow = time.Hour

// resetSkew is how far a provider's clock may run ahead of the client's: a
// reset is believed up to the provider's window plus this much ahead.
const resetSkew = time.Minute

// observe records the rate-limit headers of a response that was classified
// as an API reply (a 2xx JSON or stream body, or an error the API sent; not
// a redirect, nor an HTML page, whose headers may come from a proxy or a
// login page): a Remaining of 0 with a Reset is a used-up window until the
// reset; any other Remaining clears it. A response without
// X-RateLimit-Remaining says nothing. A reset further ahead than the
// provider's window ([Config.RateWindow]) plus a minute of clock skew is
// not plausible: the headers are ignored, with a Warn line, so that one bad
// response cannot lock the client out of a provider it no longer calls.
func (c *Client) observe(ctx context.Context, call Call, h http.Header) {
	if c.window == nil {
		return
	}
	rem, ok := headerInt(h, hdrRemaining)
	if !ok {
		return
	}
	var until int64
	if rem == 0 {
		now := c.clock.Now()
		if rl := ParseRateLimit(h, now); rl != nil && !rl.Reset.IsZero() {
			if ahead := rl.Reset.Sub(now); ahead > c.rateWindow+resetSkew {
				c.logCall(ctx, slog.LevelWarn, "chatbot: implausible X-RateLimit-Reset ignored", call,
					slog.Duration("ahead", ahead), slog.Duration("window", c.rateWindow))
				return
			}
			until = rl.Reset.UnixNano()
		}
	}
	c.window.until.Store(until)
}

// precheck applies the remembered rate-limit state before a call is sent:
// while the window is used up, it waits until the reset (rounded up to a
// whole second) when the wait fits the
// same rules as a wait the provider asks for (at most the client's max retry
// wait, and before ctx's deadline), and otherwise returns the typed
// rate-limit error at once, nothing sent.
func (c *Client) precheck(ctx context.Context, call Call) error {
	if c.window == nil {
		return nil
	}
	until := c.window.until.Load()
	if until == 0 {
		return nil
	}
	now := c.clock.Now()
	wait := time.Unix(0, until).Sub(now)
	if wait <= 0 {
		return nil
	}
	// The reset has a resolution of seconds: round up, as for a wait the
	// provider asks for with it (see retryAfter), so that the call is never
	// sent before the reset.
	wait = ceilSecond(wait)
	dl, hasDeadline := ctx.Deadline()
	if wait > c.policy.maxWait || (hasDeadline && wait > dl.Sub(now)) {
		c.logCall(ctx, slog.LevelWarn, "chatbot: rate-limit window used up, not sent", call, slog.Duration("retry_after", wait))
		return &chatbot.Error{
			Provider:     c.cfg.Provider,
			Code:         chatbot.CodeRateLimitExceeded,
			ProviderCode: codeClientRateLimited,
			Message:      fmt.Sprintf("the provider's rate-limit window is used up until %s; the request was not sent", time.Unix(0, until).UTC().Format(time.RFC3339)),
			RetryAfter:   wait,
		}
	}
	c.logCall(ctx, slog.LevelInfo, "chatbot: waiting for the rate-limit window", call, slog.Duration("wait", wait))
	return c.sleep(ctx, wait)
}

// logCall writes one line naming the provider and the call, then attrs.
func (c *Client) logCall(ctx context.Context, level slog.Level, msg string, call Call, attrs ...slog.Attr) {
	if c.log == nil {
		return
	}
	attrs = append([]slog.Attr{slog.String("provider", c.cfg.Provider), slog.String("method", call.Method), slog.String("path", call.Path)}, attrs...)
	c.log.LogAttrs(ctx, level, msg, attrs...)
}
