package chatbot

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by every provider's NewClient.
const (
	DefaultMaxRetries        = 2
	DefaultMaxRetryWait      = 20 * time.Second
	DefaultStreamIdleTimeout = 2 * time.Minute
)

// Option configures a provider client. Options are shared by every provider's
// NewClient, applied in order (the last one wins), and created only by the
// With* functions; an invalid option makes NewClient return an error.
type Option struct {
	apply func(*Settings) error
}

// Settings is the configuration a list of Options resolves to. Provider
// packages read it through [ResolveOptions]; users configure clients with the
// With* functions and never need it.
type Settings struct {
	BaseURL           *url.URL      // nil: the provider's default; otherwise ends in "/"
	HTTPClient        *http.Client  // nil: a client of the SDK's own (see WithHTTPClient)
	MaxRetries        int           // retries after the first attempt
	MaxRetryWait      time.Duration // longest server-requested wait the client sleeps
	StreamIdleTimeout time.Duration // 0 disables
	Logger            *slog.Logger  // nil: no logging
	UserAgent         string        // the full User-Agent header
}

// ResolveOptions applies opts, in order, over the defaults. Provider packages
// call it from NewClient.
func ResolveOptions(opts ...Option) (Settings, error) {
	s := Settings{
		MaxRetries:        DefaultMaxRetries,
		MaxRetryWait:      DefaultMaxRetryWait,
		StreamIdleTimeout: DefaultStreamIdleTimeout,
		UserAgent:         "chatbot-go/" + Version,
	}
	for _, o := range opts {
		if o.apply == nil {
			return Settings{}, errors.New("zero Option: use the With* functions")
		}
		if err := o.apply(&s); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// WithBaseURL points the client at another base URL: a white-label domain, a
// self-hosted instance or a test server. A missing trailing "/" is added;
// relative API paths are joined onto it. The URL must be absolute and use
// https, except that plain http is allowed for loopback hosts (localhost,
// 127.0.0.0/8, ::1). It may not carry user info, a query or a fragment.
func WithBaseURL(rawURL string) Option {
	return Option{func(s *Settings) error {
		u, err := ParseBaseURL(rawURL)
		if err != nil {
			return err
		}
		s.BaseURL = u
		return nil
	}}
}

// ParseBaseURL validates and normalises a base URL as [WithBaseURL] does.
func ParseBaseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("base URL: %w", err)
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return nil, fmt.Errorf("base URL %q is not absolute", rawURL)
	case u.User != nil:
		return nil, errors.New("base URL must not carry user info; credentials go in NewClient")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("base URL %q must not have a query or fragment", u.Redacted())
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("base URL %q: plain http is allowed only for loopback hosts", u.String())
	default:
		return nil, fmt.Errorf("base URL %q: scheme must be https", u.String())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithHTTPClient sets the *http.Client used for every attempt, for proxies,
// custom TLS roots or tracing transports. Do not set its Timeout: it would cut
// long streams; use contexts and Transport.ResponseHeaderTimeout instead.
//
// The default is a client of the SDK's own with a clone of
// http.DefaultTransport whose ResponseHeaderTimeout is 2 minutes and no
// overall timeout. http.DefaultClient is never used.
//
// hc is not modified. The SDK sends with a shallow copy of it that applies
// the SDK's redirect policy (no redirect for a POST; at most 3 for a GET,
// within the base URL's origin) before hc's own CheckRedirect, shares hc's
// Transport and Jar, never closes hc's idle connections, and decodes a
// gzip-encoded reply even when the transport disables compression.
func WithHTTPClient(hc *http.Client) Option {
	return Option{func(s *Settings) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		s.HTTPClient = hc
		return nil
	}}
}

// WithMaxRetries sets how many times a refused request is tried again
// (default 2; 0 disables retries). A chat message is retried only when it
// provably never reached the provider or the provider refused it unprocessed
// (429, or 503 with Retry-After); see the package documentation.
func WithMaxRetries(n int) Option {
	return Option{func(s *Settings) error {
		if n < 0 {
			return fmt.Errorf("WithMaxRetries: negative count %d", n)
		}
		s.MaxRetries = n
		return nil
	}}
}

// WithMaxRetryWait sets the longest wait the client sleeps when a provider asks
// it to (Retry-After or retryAfter); default 20s. A longer requested wait is
// not slept: the call returns the typed error at once, with RetryAfter set.
// 0 means never sleep for a server-requested wait.
func WithMaxRetryWait(d time.Duration) Option {
	return Option{func(s *Settings) error {
		if d < 0 {
			return fmt.Errorf("WithMaxRetryWait: negative duration %s", d)
		}
		s.MaxRetryWait = d
		return nil
	}}
}

// WithStreamIdleTimeout sets how long a stream may stay silent, from the
// request being sent to the headers and then between reads of the body,
// before it ends with an error wrapping [ErrIdleTimeout]; default 2 minutes.
// It also bounds any request a stream makes first (Userdesk's conversation)
// and the one-body answers of providers that do not stream. Waits before a
// retry do not count. 0 disables the idle timeout (the context still applies).
func WithStreamIdleTimeout(d time.Duration) Option {
	return Option{func(s *Settings) error {
		if d < 0 {
			return fmt.Errorf("WithStreamIdleTimeout: negative duration %s", d)
		}
		s.StreamIdleTimeout = d
		return nil
	}}
}

// WithLogger makes the client write to l one Debug line per HTTP attempt
// (method, path, status, attempt, duration) and one before each retry (with
// its wait). Keys, Authorization headers, query strings and bodies are never
// logged. The default, like a nil l, is no logging at all.
func WithLogger(l *slog.Logger) Option {
	return Option{func(s *Settings) error {
		s.Logger = l
		return nil
	}}
}

// WithUserAgent prepends ua to the default User-Agent "chatbot-go/<Version>",
// so that "myapp/1.2" sends "myapp/1.2 chatbot-go/0.1.0".
func WithUserAgent(ua string) Option {
	return Option{func(s *Settings) error {
		if strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return errors.New("WithUserAgent: control characters in user agent")
		}
		ua = strings.TrimSpace(ua)
		if ua != "" {
			s.UserAgent = ua + " chatbot-go/" + Version
		}
		return nil
	}}
}
