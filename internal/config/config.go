// Package config holds what the shared client options resolve to. The root
// package's With* functions build [Option] values (chatbot.Option is an alias
// of it) and provider packages resolve them through internal/rest. It imports
// nothing of this module, so that the root package may import it.
package config

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

// Settings is the configuration a list of Options resolves to.
type Settings struct {
	BaseURL           *url.URL      // nil: the provider's default; otherwise ends in "/"
	HTTPClient        *http.Client  // nil: the SDK's shared default client
	MaxRetries        int           // retries after the first attempt
	MaxRetryWait      time.Duration // longest server-requested wait the client sleeps
	StreamIdleTimeout time.Duration // 0 disables
	Logger            *slog.Logger  // nil: no logging
	UserAgent         string        // the full User-Agent header
	Clock             Clock         // nil: the system clock
	NoPrecheck        bool          // true: no rate-limit pre-check (see chatbot.WithRateLimitPrecheck)
}

// Option configures a client. The zero Option is invalid: [Resolve] refuses
// it.
type Option struct {
	apply func(*Settings) error
}

// New returns an Option that applies f.
func New(f func(*Settings) error) Option { return Option{apply: f} }

// Resolve applies opts, in order, over defaults.
func Resolve(defaults Settings, opts ...Option) (Settings, error) {
	s := defaults
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

// WithClock makes the client read the time and set its timers through c.
// It exists for tests inside this module; users cannot reach it.
func WithClock(c Clock) Option {
	return New(func(s *Settings) error {
		if c == nil {
			return errors.New("WithClock: nil Clock")
		}
		s.Clock = c
		return nil
	})
}

// ParseBaseURL validates and normalises a base URL: absolute, https (or
// plain http for a loopback host), no user info, query or fragment, and a
// path ending in "/".
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
	u.Host = strings.TrimSuffix(u.Host, ":") // an empty port is the default one, as net/http reads it
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
