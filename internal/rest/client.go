package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/config"
)

// Body size limits.
const (
	maxErrorBody   = 64 << 10 // error bodies kept in chatbot.Error.Body
	maxSuccessBody = 8 << 20  // a non-streamed 2xx body larger than this is refused
)

// Config describes a provider to [New].
type Config struct {
	Provider       string // short name used in errors: "workspace"
	DefaultBaseURL string // must end in "/"
	AuthScheme     string // "Bearer" or "Token"
}

// Client sends requests to one provider. It is immutable after [New] and safe
// for concurrent use.
type Client struct {
	provider string
	base     *url.URL
	auth     string // the Authorization header value
	secret   string // redacted from everything the provider sends back
	ua       string
	hc       *http.Client
	retry    *retryablehttp.Client
	retries  int
	maxWait  time.Duration
	idle     time.Duration
	log      *slog.Logger
}

// New validates the credentials and options and builds a Client. Its errors
// are *chatbot.Error with CodeInvalidRequest and never contain the secret.
func New(cfg Config, secret string, opts []chatbot.Option) (*Client, error) {
	c := &Client{provider: cfg.Provider}
	switch {
	case secret == "":
		return nil, c.Invalid("API key is empty")
	case strings.TrimSpace(secret) != secret || strings.ContainsAny(secret, "\r\n\t\x00 "):
		return nil, c.Invalid("API key contains white space or control characters")
	}
	s, err := config.Resolve(config.Settings{
		MaxRetries:        chatbot.DefaultMaxRetries,
		MaxRetryWait:      chatbot.DefaultMaxRetryWait,
		StreamIdleTimeout: chatbot.DefaultStreamIdleTimeout,
		UserAgent:         "chatbot-go/" + chatbot.Version,
	}, opts...)
	if err != nil {
		return nil, c.Invalid(err.Error())
	}
	c.base = s.BaseURL
	if c.base == nil {
		if c.base, err = config.ParseBaseURL(cfg.DefaultBaseURL); err != nil {
			return nil, c.Invalid(err.Error())
		}
	}
	c.auth = cfg.AuthScheme + " " + secret
	c.secret = secret
	c.ua = s.UserAgent
	c.hc = s.HTTPClient
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	c.retries = s.MaxRetries
	c.maxWait = s.MaxRetryWait
	c.idle = s.StreamIdleTimeout
	c.log = s.Logger
	c.retry = c.newRetryClient()
	return c, nil
}

// defaultHTTPClient clones http.DefaultTransport, bounds the time to response
// headers, keeps as many idle connections to the provider as the transport
// keeps in all (the default of 2 per host would make concurrent chats dial
// anew), and sets no Client.Timeout, which would also cut long streams.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	return &http.Client{Transport: t}
}

// Provider returns the provider's short name.
func (c *Client) Provider() string { return c.provider }

// BaseURL returns the base URL requests are joined onto (a copy).
func (c *Client) BaseURL() string { return c.base.String() }

// Invalid returns the client-side validation error for msg: an *Error with
// CodeInvalidRequest and StatusCode 0.
func (c *Client) Invalid(msg string) *chatbot.Error {
	return &chatbot.Error{Provider: c.provider, Code: chatbot.CodeInvalidRequest, Message: msg}
}

// Path formats a path relative to the base URL. Each segment replaces one %s
// in format after url.PathEscape; a segment that is empty, "." or "..", or
// not valid UTF-8 is refused, so a caller's id never reaches another path.
func (c *Client) Path(format string, segments ...string) (string, error) {
	args := make([]any, len(segments))
	for i, s := range segments {
		switch {
		case strings.TrimSpace(s) == "":
			return "", c.Invalid("empty id in request path")
		case s == "." || s == "..":
			return "", c.Invalid(fmt.Sprintf("id %q is not allowed in a request path", s))
		case !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n"):
			return "", c.Invalid("id in request path contains invalid characters")
		}
		args[i] = url.PathEscape(s)
	}
	return fmt.Sprintf(format, args...), nil
}

// Call is one HTTP request to the provider.
type Call struct {
	Method string     // GET, POST, PATCH, DELETE
	Path   string     // relative to the base URL, already escaped (see Client.Path)
	Query  url.Values // optional
	Body   any        // JSON-encoded when non-nil
	Accept string     // default "application/json"
}

// Response is a successful (2xx) response.
type Response struct {
	StatusCode int
	Header     http.Header
	RateLimit  *chatbot.RateLimit // nil when no X-RateLimit-* header was sent
	Body       []byte             // the whole body (Do only)
}

// Do sends the call, with retries, and reads the whole response. A non-2xx
// response is returned as *chatbot.Error. When out is non-nil the body is
// decoded into it as JSON.
//
// A call made inside [Client.Stream]'s run (a conversation created first, or
// a provider that answers a stream in one body) is guarded by the stream idle
// timeout too, so that a silent server ends the stream with ErrIdleTimeout.
func (c *Client) Do(ctx context.Context, call Call, out any) (*Response, error) {
	if ctx == nil {
		return nil, c.Invalid("nil context")
	}
	parent := ctx
	streaming := ctx.Value(streamingKey{}) != nil
	var idle *idleTimer
	if streaming {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		idle = newIdleTimer(c.idle, cancel)
		defer idle.stop()
	}
	resp, err := c.send(ctx, call, idle)
	if err != nil {
		if streaming {
			err = c.streamError(parent, ctx, err, false)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := c.ReadAll(resp.Body)
	if err != nil {
		if streaming {
			err = c.streamError(parent, ctx, err, false)
		}
		return nil, err
	}
	r := &Response{StatusCode: resp.StatusCode, Header: resp.Header, RateLimit: RateLimitFrom(resp.Header), Body: body}
	if out != nil {
		if err := c.DecodeJSON(r, out); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// ReadAll reads a whole response body, refusing one over 8 MiB (no chat
// reply comes near it) so that a hostile server cannot exhaust memory. Read
// errors are returned as they are; the provider prefixes the caller adds.
func (c *Client) ReadAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSuccessBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: reading response body: %w", c.provider, err)
	case len(b) > maxSuccessBody:
		return nil, fmt.Errorf("%s: response body exceeds %d MiB", c.provider, maxSuccessBody>>20)
	}
	return b, nil
}

// CheckField refuses an optional text field (an id, a name, an email) that
// JSON encoding would silently alter (invalid UTF-8) or that contains a NUL.
func (c *Client) CheckField(name, value string) error {
	if !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0 {
		return c.Invalid(name + " is not valid UTF-8 text or contains a NUL byte")
	}
	return nil
}

// DecodeJSON decodes a successful response body into out, with an error that
// names the provider, the status and the content type.
func (c *Client) DecodeJSON(r *Response, out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("%s: decoding %d response (%s): %w", c.provider, r.StatusCode, contentType(r.Header), err)
	}
	return nil
}

// IsJSON reports whether the response's Content-Type is JSON.
func IsJSON(h http.Header) bool {
	ct := contentType(h)
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

func contentType(h http.Header) string {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	if ct == "" {
		return "no content type"
	}
	return ct
}

// send builds the request and runs it through the retrying client. The
// returned response is 2xx with its body unread; anything else is an error.
func (c *Client) send(ctx context.Context, call Call, idle *idleTimer) (*http.Response, error) {
	if ctx == nil {
		return nil, c.Invalid("nil context")
	}
	var body []byte
	if call.Body != nil {
		var err error
		if body, err = json.Marshal(call.Body); err != nil {
			return nil, fmt.Errorf("%s: encoding request: %w", c.provider, err)
		}
	}
	u := c.url(call.Path, call.Query)
	st := &attempts{c: c, method: call.Method, path: call.Path, idle: idle, idempotent: call.Method == http.MethodGet}
	ctx = context.WithValue(ctx, attemptsKey{}, st)
	var raw any // a nil []byte must stay an untyped nil for retryablehttp
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, call.Method, u, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", c.provider, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("User-Agent", c.ua)
	accept := call.Accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.retry.Do(req)
	if err != nil {
		return nil, c.transportError(call, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, c.apiError(resp)
	}
	return resp, nil
}

// url joins the escaped relative path onto the base URL without resolving
// dot segments, so the path sent is exactly the one built.
func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		p = u.RawPath // unreachable: every segment was escaped by Path
	}
	u.Path = p
	u.RawQuery = q.Encode()
	return u.String()
}

// transportError wraps a failure that produced no HTTP response.
func (c *Client) transportError(call Call, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the whole URL
	}
	return fmt.Errorf("%s: %s %s: %w", c.provider, call.Method, call.Path, err)
}

// Redact removes the secret from s.
func (c *Client) Redact(s string) string {
	return strings.ReplaceAll(s, c.secret, "[REDACTED]")
}

func (c *Client) redactBytes(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(c.secret), []byte("[REDACTED]"))
}

// DefaultMaxMessageChars bounds messages for providers that publish no limit
// of their own: far above any real chat turn, low enough to catch a file
// passed by mistake before it is uploaded.
const DefaultMaxMessageChars = 100_000

// CheckMessage validates a chat message before anything is sent: non-empty,
// valid UTF-8, no NUL bytes, at most maxChars characters (runes).
func (c *Client) CheckMessage(msg string, maxChars int) error {
	switch {
	case strings.TrimSpace(msg) == "":
		return c.Invalid("message is empty")
	case !utf8.ValidString(msg):
		return c.Invalid("message is not valid UTF-8")
	case strings.IndexByte(msg, 0) >= 0:
		return c.Invalid("message contains a NUL byte")
	}
	if n := utf8.RuneCountInString(msg); n > maxChars {
		return c.Invalid(fmt.Sprintf("message is %d characters; the limit is %d", n, maxChars))
	}
	return nil
}
