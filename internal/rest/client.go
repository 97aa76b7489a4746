package rest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	maxSuccessBody = 8 << 20  // a 2xx body read whole larger than this is refused
)

// Config describes a provider to [New]: its name and address, and what it
// knows about its own errors.
type Config struct {
	Provider       string // short name used in errors, as in chatbot.Error.Provider
	DefaultBaseURL string // must end in "/"; empty: the caller must give chatbot.WithBaseURL
	AuthScheme     string // "Bearer" or "Token"

	// KeyOptional is true for a provider that also serves calls without a
	// key (a public Flowise flow): an empty key is then accepted and no
	// Authorization header is sent.
	KeyOptional bool

	// Codes maps the provider's own error codes, in upper case, onto the
	// normalised ones. A code found here wins over the HTTP status.
	Codes map[string]chatbot.Code

	// SuccessField names the boolean of the provider's JSON envelope that
	// says whether a call succeeded ("success"). A 2xx JSON body that sets it
	// to false fails the call with the *chatbot.Error decoded from that body,
	// in [Client.Do] and [Body.Decode] alike. Empty: the provider has none.
	SuccessField string

	// Classify, when set, may change the Code of every error decoded from a
	// response, after Codes and the status were applied, for knowledge a
	// table cannot hold.
	Classify func(*chatbot.Error)

	// RateWindow is the provider's longest rate-limit window, its
	// documented quota period: an X-RateLimit-Reset further ahead than it
	// (plus a minute of clock skew) is not believed by the pre-check. Zero:
	// [DefaultRateWindow].
	RateWindow time.Duration
}

// Client sends requests to one provider. It is immutable after [New] and safe
// for concurrent use.
type Client struct {
	cfg        Config
	base       *url.URL
	basePath   string // base.EscapedPath()
	auth       string // the Authorization header value
	secret     string // redacted from everything the provider sends back
	ua         string
	hc         *http.Client
	policy     retryPolicy
	idle       time.Duration
	rateWindow time.Duration // Config.RateWindow or its default
	log        *slog.Logger
	clock      config.Clock
	success    []byte // `"<SuccessField>"`, to skip bodies that cannot fail the check

	redactor *redactor // removes the secret, in every form, from what the provider sends back
	window   *window   // the remembered rate-limit state; nil when the pre-check is off
}

// New validates the credentials and options and builds a Client. Its errors
// are *chatbot.Error with CodeInvalidRequest and never contain the secret.
func New(cfg Config, secret string, opts []chatbot.Option) (*Client, error) {
	c := &Client{cfg: cfg}
	switch {
	case secret == "" && cfg.KeyOptional:
	case secret == "":
		return nil, c.Invalid("API key is empty")
	case strings.TrimSpace(secret) != secret || strings.ContainsRune(secret, ' ') || hasControl(secret):
		return nil, c.Invalid("API key contains white space or control characters")
	}
	s, err := resolve(opts)
	if err != nil {
		return nil, c.Invalid(err.Error())
	}
	c.base = s.BaseURL
	if c.base == nil && cfg.DefaultBaseURL == "" {
		return nil, c.Invalid("no base URL: " + cfg.Provider + " has no default host; give the server's address with chatbot.WithBaseURL")
	}
	if c.base == nil {
		if c.base, err = config.ParseBaseURL(cfg.DefaultBaseURL); err != nil {
			return nil, c.Invalid(err.Error())
		}
	}
	c.basePath = c.base.EscapedPath()
	if secret != "" {
		c.auth = cfg.AuthScheme + " " + secret
	}
	c.secret = secret
	c.ua = s.UserAgent
	c.redactor = newRedactor(secret)
	if !s.NoPrecheck {
		c.window = &window{}
	}
	c.rateWindow = cmp.Or(cfg.RateWindow, DefaultRateWindow)
	c.hc = s.HTTPClient
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	c.hc = c.guard(c.hc)
	c.policy = retryPolicy{maxRetries: s.MaxRetries, maxWait: s.MaxRetryWait, jitter: jitter}
	c.idle = s.StreamIdleTimeout
	c.log = s.Logger
	c.clock = s.Clock
	if c.clock == nil {
		c.clock = config.SystemClock{}
	}
	if cfg.SuccessField != "" {
		c.success = []byte(`"` + cfg.SuccessField + `"`)
	}
	return c, nil
}

// resolve applies opts over the documented defaults.
func resolve(opts []chatbot.Option) (config.Settings, error) {
	return config.Resolve(config.Settings{
		MaxRetries:        chatbot.DefaultMaxRetries,
		MaxRetryWait:      chatbot.DefaultMaxRetryWait,
		StreamIdleTimeout: chatbot.DefaultStreamIdleTimeout,
		UserAgent:         "chatbot-go/" + chatbot.Version,
	}, opts...)
}

// Provider returns the provider's short name, as in chatbot.Error.Provider.
func (c *Client) Provider() string { return c.cfg.Provider }

// BaseURL returns the base URL requests are joined onto.
func (c *Client) BaseURL() string { return c.base.String() }

// Invalid returns the client-side validation error for msg: an *Error with
// CodeInvalidRequest and StatusCode 0.
func (c *Client) Invalid(msg string) *chatbot.Error {
	return &chatbot.Error{Provider: c.cfg.Provider, Code: chatbot.CodeInvalidRequest, Message: msg}
}

// Path formats a path relative to the base URL. Each segment replaces one %s
// in format after url.PathEscape; a segment that is blank, "." or "..", or
// not valid UTF-8 is refused, so a caller's id never reaches another path.
func (c *Client) Path(format string, segments ...string) (string, error) {
	args := make([]any, len(segments))
	for i, s := range segments {
		switch {
		case s == "":
			return "", c.Invalid("empty id in request path")
		case strings.TrimSpace(s) == "":
			return "", c.Invalid("blank id in request path")
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

	// WatchContent makes the idle timeout count from the last event that
	// carried content instead of from the last byte received, from the
	// request on: a read no longer restarts the countdown, only
	// [Body.Content] does. It is for a provider whose keep-alive events
	// (Dify's "event: ping") must not keep a stalled reply open forever. The
	// countdown still runs only while the client waits for the server.
	WatchContent bool
	// Header holds extra request headers (CustomGPT's Cache-Control:
	// no-cache). A header the SDK sets itself (Authorization, User-Agent,
	// Accept, Content-Type) is never replaced.
	Header http.Header
}

// Response is a successful (2xx) response.
type Response struct {
	StatusCode int
	Header     http.Header
	RateLimit  *chatbot.RateLimit // nil when no X-RateLimit-* header was sent
	Body       []byte             // the whole body, once read (Do, Body.Decode)
}

// IsJSON reports whether the response's Content-Type is JSON.
func (r *Response) IsJSON() bool {
	ct := contentType(r.Header)
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// Doer sends a call and reads its whole answer, bounded by the idle timeout.
// *Client is one; a stream's *Guard is another, whose errors name the
// stream. Provider code that a stream shares with a plain call takes a Doer.
type Doer interface {
	Do(ctx context.Context, call Call, out any) (*Response, error)
}

var (
	_ Doer = (*Client)(nil)
	_ Doer = (*Guard)(nil)
)

// Do sends the call, with retries, and reads the whole response. A non-2xx
// response, or a 2xx one whose envelope reports a failure (see
// [Config.SuccessField]), is returned as *chatbot.Error. When out is non-nil
// the body is decoded into it as JSON. The idle timeout bounds every wait
// for the server, the response headers and each read of the body alike,
// with an error wrapping chatbot.ErrIdleTimeout.
func (c *Client) Do(ctx context.Context, call Call, out any) (_ *Response, err error) {
	defer func() { err = c.Safe(err) }()
	if ctx == nil {
		return nil, c.Invalid("nil context")
	}
	_, body, err := c.open(ctx, call, false)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return body.Decode(out)
}

// answer completes r with its whole body b: it refuses an oversized body,
// fails when the provider's envelope reports a failure, and decodes b into
// out when out is non-nil. It is the one end of Do and Body.Decode.
func (c *Client) answer(r *Response, b []byte, out any) (*Response, error) {
	if len(b) > maxSuccessBody {
		return nil, fmt.Errorf("%s: response body exceeds %d MiB", c.cfg.Provider, maxSuccessBody>>20)
	}
	r.Body = b
	if c.failed(b) {
		return nil, c.ErrorFor(r)
	}
	if out != nil {
		if err := c.DecodeJSON(r, out); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// failed reports whether b is a JSON envelope whose success field is false.
// A body that does not name the field or never says false, as a successful
// answer does not, is not decoded.
func (c *Client) failed(b []byte) bool {
	if c.success == nil || !bytes.Contains(b, c.success) || !bytes.Contains(b, []byte("false")) {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	return string(bytes.TrimSpace(m[c.cfg.SuccessField])) == "false"
}

// CheckField refuses an optional text field (an id, a name, an email) that
// JSON encoding would silently alter (invalid UTF-8) or that contains a NUL.
func (c *Client) CheckField(name, value string) error {
	if !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0 {
		return c.Invalid(name + " is not valid UTF-8 text or contains a NUL byte")
	}
	return nil
}

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12
// hexadecimal form, in either case, as providers that issue UUIDs (Stammer
// chatbots, Dify conversations) require them, and as their fakes check.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
				return false
			}
		}
	}
	return true
}

// DecodeJSON decodes a successful response body into out, with an error that
// names the provider, the status and the content type.
func (c *Client) DecodeJSON(r *Response, out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return c.Safe(fmt.Errorf("%s: decoding %d response (%s): %w", c.cfg.Provider, r.StatusCode, contentType(r.Header), err))
	}
	return nil
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
// returned response is 2xx with its body unread; anything else is an error:
// the *chatbot.Error of the last response, or the wrapped transport error.
func (c *Client) send(ctx context.Context, call Call, idle *idleTimer) (*http.Response, error) {
	if err := c.precheck(ctx, call); err != nil {
		return nil, err
	}
	var body []byte
	if call.Body != nil {
		var err error
		if body, err = json.Marshal(call.Body); err != nil {
			return nil, fmt.Errorf("%s: encoding request: %w", c.cfg.Provider, err)
		}
	}
	req, err := retryablehttp.FromRequest(c.request(ctx, call, body != nil))
	if err == nil && body != nil {
		err = req.SetBody(body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", c.cfg.Provider, err)
	}
	a := &attempts{c: c, method: call.Method, path: call.Path, idempotent: call.Method == http.MethodGet, idle: idle}
	resp, err := a.run(req)
	switch {
	case err != nil:
		return nil, c.transportError(call, err)
	case a.failure != nil:
		resp.Body.Close()
		return nil, a.failure
	case isHTML(resp.Header, nil):
		defer resp.Body.Close()
		return nil, c.htmlError(resp.StatusCode, resp.Header, resp.Body, nil)
	case undecoded(resp.Header) != "":
		resp.Body.Close()
		return nil, c.encodingError(resp)
	}
	return resp, nil
}

// undecoded returns the response's Content-Encoding when it is one the body
// is still encoded with: anything but none and "identity" (the transport, or
// [guardedTransport] for gzip, removes the header of a body it decoded).
func undecoded(h http.Header) string {
	enc := strings.TrimSpace(h.Get("Content-Encoding"))
	if enc == "" || strings.EqualFold(enc, "identity") {
		return ""
	}
	return enc
}

// encodingError is the error for a 2xx body in a Content-Encoding the SDK
// does not decode (deflate, br, zstd, reaching it when the caller's
// transport sets DisableCompression): the bytes are not the reply, and
// delivering them as text would invent one. Its code is [chatbot.CodeUnknown]
// so that no retry layer resends a message the provider has processed.
func (c *Client) encodingError(resp *http.Response) *chatbot.Error {
	return c.Scrub(&chatbot.Error{
		Provider:   c.cfg.Provider,
		StatusCode: resp.StatusCode,
		Code:       chatbot.CodeUnknown,
		Message:    fmt.Sprintf("the response body is encoded with Content-Encoding %q, which the SDK does not decode (only gzip); let the transport decode it", undecoded(resp.Header)),
		RequestID:  requestID(resp.Header),
	})
}

// request builds the call's request, without its body. The URL is built as
// a *url.URL and the headers under their canonical keys, so that nothing is
// formatted to be parsed again: this runs for every call.
func (c *Client) request(ctx context.Context, call Call, hasBody bool) *http.Request {
	accept := call.Accept
	if accept == "" {
		accept = "application/json"
	}
	// One array holds every value, as http.Header.Clone does; each slice is
	// capped so that an append cannot reach its neighbour.
	v := []string{c.auth, c.ua, accept, "application/json"}
	h := make(http.Header, 4)
	if c.auth != "" {
		h["Authorization"] = v[0:1:1]
	}
	h["User-Agent"] = v[1:2:2]
	h["Accept"] = v[2:3:3]
	if hasBody {
		h["Content-Type"] = v[3:4:4]
	}

	for k, vs := range call.Header {
		if k = http.CanonicalHeaderKey(k); h[k] == nil {
			h[k] = vs
		}
	}
	u := c.url(call.Path, call.Query)
	// The fields http.NewRequestWithContext sets, for a RoundTripper of the
	// caller's that reads them.
	req := &http.Request{Method: call.Method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Host: u.Host}
	return req.WithContext(ctx)
}

// url joins the escaped relative path onto the base URL without resolving
// dot segments, so the path sent is exactly the one built.
func (c *Client) url(path string, q url.Values) *url.URL {
	u := *c.base
	u.RawPath = c.basePath + path
	u.Path, _ = url.PathUnescape(u.RawPath) // every segment was escaped by Path
	u.RawQuery = q.Encode()
	return &u
}

// transportError wraps a failure that produced no HTTP response.
func (c *Client) transportError(call Call, err error) error {
	return fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, call.Method, call.Path, withoutURL(err))
}

// withoutURL unwraps a *url.Error, whose text repeats the whole URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Redact removes the secret from s.
func (c *Client) Redact(s string) string {
	return c.redactor.string(s)
}

// CheckMessage validates a chat message before anything is sent: not blank,
// valid UTF-8, no NUL bytes, at most maxChars characters (runes).
func (c *Client) CheckMessage(msg string, maxChars int) error {
	switch {
	case msg == "":
		return c.Invalid("message is empty")
	case strings.TrimSpace(msg) == "":
		return c.Invalid("message is blank")
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
