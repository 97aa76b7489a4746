package rest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// maxRedirects is how many redirects a GET follows, all within the base
// URL's origin.
const maxRedirects = 3

// guard returns the *http.Client the SDK sends with: a shallow copy of hc
// (which is not modified, and keeps its Jar and Timeout) whose CheckRedirect
// applies the SDK's redirect policy before hc's own, and whose Transport is
// hc's wrapped by [guardedTransport].
func (c *Client) guard(hc *http.Client) *http.Client {
	cp := *hc
	cp.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport // what hc itself uses
	}
	cp.Transport = &guardedTransport{rt: rt}
	return &cp
}

// checkRedirect is the redirect policy:
//
//   - a request other than GET or HEAD (every chat message is a POST) follows
//     no redirect: RFC 9110 §15.4.4 says a 303 means the POST was processed,
//     and a 307/308 would resend it;
//   - a GET follows at most [maxRedirects] redirects, each to the base URL's
//     origin (scheme, host and port), so that the Authorization header, which
//     net/http copies whenever the host name matches, never reaches another
//     origin;
//   - the caller's own CheckRedirect, when set, then has its say.
//
// A redirect not followed hands the 3xx response back (http.ErrUseLastResponse),
// which no retry policy retries and [Client.redirectError] turns into a typed
// error.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects || !sameOrigin(req.URL, c.base) {
			return http.ErrUseLastResponse
		}
		if next == nil {
			return nil
		}
		err := next(req, via)
		if err != nil && !errors.Is(err, http.ErrUseLastResponse) {
			return &redirectRefused{err: err}
		}
		return err
	}
}

// redirectRefused is the caller's CheckRedirect refusing a redirect. It is
// permanent: no retry makes the caller's policy change its mind.
type redirectRefused struct{ err error }

func (e *redirectRefused) Error() string { return "redirect refused: " + e.err.Error() }
func (e *redirectRefused) Unwrap() error { return e.err }

// sameOrigin reports whether u has base's scheme, host and port (RFC 6454),
// with the scheme's default port filled in.
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) &&
		strings.EqualFold(u.Hostname(), base.Hostname()) &&
		port(u) == port(base)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// isRedirect reports a 3xx status.
func isRedirect(status int) bool { return status >= 300 && status <= 399 }

// redirectError is the error for a 3xx response that was not followed, whose
// body has been read by [Client.readErrorBody]. Its
// code is [chatbot.CodeUnknown] whatever the body says: the SDK cannot tell
// whether the provider processed the request (after a 303 it did), so the
// error must match none of the sentinels a retry layer would resend on
// (ErrRateLimited, ErrServer), and a body claiming a rate limit is not
// believed. The Location is reported without user info, query or fragment.
func (c *Client) redirectError(resp *http.Response, body []byte) *chatbot.Error {
	e := &chatbot.Error{
		Provider:   c.cfg.Provider,
		StatusCode: resp.StatusCode,
		Code:       chatbot.CodeUnknown,
		RequestID:  requestID(resp.Header),
		Body:       c.errorBody(body),
	}
	var target *url.URL
	if loc := resp.Header.Get("Location"); loc != "" && resp.Request != nil {
		target, _ = resp.Request.URL.Parse(loc)
	}
	method := http.MethodGet
	if resp.Request != nil {
		method = resp.Request.Method
	}
	switch {
	case method != http.MethodGet && method != http.MethodHead:
		e.Message = fmt.Sprintf("redirect%s not followed: a %s is never resent after a redirect, and the provider may have processed it",
			to(target), method)
	case target == nil:
		e.Message = "redirect without a usable Location not followed"
	case !sameOrigin(target, c.base):
		e.Message = fmt.Sprintf("redirect%s not followed: it leaves the base URL's origin %s", to(target), origin(c.base))
	case hops(resp) >= maxRedirects:
		e.Message = fmt.Sprintf("redirect%s not followed: more than %d redirects", to(target), maxRedirects)
	default:
		e.Message = fmt.Sprintf("redirect%s not followed: the http.Client's CheckRedirect stopped it", to(target))
	}
	return c.Scrub(e)
}

// hops counts the redirects followed before resp.
func hops(resp *http.Response) int {
	n := 0
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		n++
	}
	return n
}

// to names a redirect target without its user info, query and fragment.
func to(u *url.URL) string {
	if u == nil {
		return ""
	}
	return " to " + origin(u) + u.EscapedPath()
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
