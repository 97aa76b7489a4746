package chatbot

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/config"
)

// Defaults applied by every provider's NewClient.
const (
	DefaultMaxRetries        = 2
	DefaultMaxRetryWait      = 20 * time.Second
	DefaultStreamIdleTimeout = 2 * time.Minute
)

// Option configures a provider client. Options are shared by every provider's
// NewClient, applied in order (the last one wins), and created only by the
// With* functions; an invalid option, or the zero Option, makes NewClient
// return an error.
type Option = config.Option

// WithBaseURL points the client at another base URL: a white-label domain, a
// self-hosted instance or a test server. A missing trailing "/" is added;
// relative API paths are joined onto it. The URL must be absolute and use
// https, except that plain http is allowed for loopback hosts (localhost,
// 127.0.0.0/8, ::1). It may not carry user info, a query or a fragment.
func WithBaseURL(rawURL string) Option {
	return config.New(func(s *config.Settings) error {
		u, err := config.ParseBaseURL(rawURL)
		if err != nil {
			return err
		}
		s.BaseURL = u
		return nil
	})
}

// WithHTTPClient sets the *http.Client used for every attempt, for proxies,
// custom TLS roots or tracing transports. Do not set its Timeout: it would cut
// long streams; use contexts and [WithStreamIdleTimeout] instead.
//
// The default is one client shared by every provider client made without
// WithHTTPClient, so that they share one connection pool: its transport is a
// clone of http.DefaultTransport with no overall timeout and no
// ResponseHeaderTimeout (the wait for headers is bounded by
// [WithStreamIdleTimeout]). http.DefaultClient is never used. A provider
// client needs no Close and holds no goroutine: drop it when done.
//
// hc is not modified. The SDK sends with a shallow copy of it that applies
// the SDK's redirect policy (no redirect for a POST; at most 3 for a GET,
// within the base URL's origin) before hc's own CheckRedirect, shares hc's
// Transport and Jar, never closes hc's idle connections, and decodes a
// gzip-encoded reply even when the transport disables compression.
func WithHTTPClient(hc *http.Client) Option {
	return config.New(func(s *config.Settings) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		s.HTTPClient = hc
		return nil
	})
}

// WithMaxRetries sets how many times a refused request is tried again
// (default 2; 0 disables retries). A chat message is retried only when it
// provably never reached the provider or the provider refused it unprocessed
// (429, or 503 with Retry-After); see the package documentation.
func WithMaxRetries(n int) Option {
	return config.New(func(s *config.Settings) error {
		if n < 0 {
			return fmt.Errorf("WithMaxRetries: negative count %d", n)
		}
		s.MaxRetries = n
		return nil
	})
}

// WithMaxRetryWait sets the longest wait the client sleeps when a provider asks
// it to (Retry-After or retryAfter); default 20s. A longer requested wait is
// not slept: the call returns the typed error at once, with RetryAfter set.
// 0 means never sleep for a server-requested wait.
func WithMaxRetryWait(d time.Duration) Option {
	return config.New(func(s *config.Settings) error {
		if d < 0 {
			return fmt.Errorf("WithMaxRetryWait: negative duration %s", d)
		}
		s.MaxRetryWait = d
		return nil
	})
}

// WithStreamIdleTimeout sets how long a request may stay silent before it
// ends with an error wrapping [ErrIdleTimeout]; default 2 minutes. It bounds
// every wait for the server in every call, Chat and the typed methods as
// well as Stream: the wait for the response headers, from the request being
// sent, and then each read of the body, a Chat's included, so that a
// provider that stalls after its headers cannot hang a call that has no
// deadline. For a stream it also covers any request the stream makes first
// (Userdesk's conversation). Waits before a retry, and the time the consumer
// of a stream spends in its loop body, do not count. 0 disables the idle
// timeout (the context still applies).
func WithStreamIdleTimeout(d time.Duration) Option {
	return config.New(func(s *config.Settings) error {
		if d < 0 {
			return fmt.Errorf("WithStreamIdleTimeout: negative duration %s", d)
		}
		s.StreamIdleTimeout = d
		return nil
	})
}

// WithLogger makes the client write to l: at Info, each retry and the wait
// before it; at Warn, each refusal by the provider (429 or 503) that is not
// retried, with the wait it asked for; at Debug, one line per HTTP attempt
// (method, path, status, attempt, duration). So slog.Default() shows retries
// and refusals. Keys, Authorization headers, query strings and bodies are
// never logged. The default, like a nil l, is no logging at all.
func WithLogger(l *slog.Logger) Option {
	return config.New(func(s *config.Settings) error {
		s.Logger = l
		return nil
	})
}

// WithUserAgent prepends ua to the default User-Agent "chatbot-go/<Version>",
// so that "myapp/1.2" sends "myapp/1.2 chatbot-go/0.1.0".
func WithUserAgent(ua string) Option {
	return config.New(func(s *config.Settings) error {
		if strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return errors.New("WithUserAgent: control characters in user agent")
		}
		ua = strings.TrimSpace(ua)
		if ua != "" {
			s.UserAgent = ua + " chatbot-go/" + Version
		}
		return nil
	})
}

// WithRateLimitPrecheck turns the rate-limit pre-check on (the default) or
// off. A client remembers the last X-RateLimit-Remaining and -Reset it saw;
// while they say the window is used up (Remaining 0, Reset in the future),
// the next call does not touch the network: it waits for the reset when the
// wait is at most [WithMaxRetryWait] and ends before the context's deadline,
// as for a wait the provider asks for, and otherwise returns at once a
// [*Error] matching [ErrRateLimited], with StatusCode 0, ProviderCode
// "CLIENT_RATE_LIMITED" and RetryAfter the time until the reset. The state is
// shared by the client's concurrent calls. Turn it off when another process
// spends the same key and you would rather let the provider decide.
func WithRateLimitPrecheck(enabled bool) Option {
	return config.New(func(s *config.Settings) error {
		s.NoPrecheck = !enabled
		return nil
	})
}
