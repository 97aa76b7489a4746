package rest

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// isHTML reports whether a 2xx response is an HTML page rather than an API
// reply: its Content-Type says HTML, or (when body is non-nil) its first
// bytes are markup as http.DetectContentType sniffs it. No provider answers
// an API call with HTML; a login page behind a redirect, a captive portal or a
// proxy's error page does.
//
// It runs on every response, so it costs nothing for an API reply: the media
// type is compared without parsing its parameters, and only a body whose
// first non-space byte is '<' is sniffed.
func isHTML(h http.Header, body []byte) bool {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	mt = strings.TrimSpace(mt)
	if strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml") {
		return true
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '<' && strings.HasPrefix(http.DetectContentType(b), "text/html")
}

// htmlError is the error for a 2xx HTML page. Its code is
// [chatbot.CodeUnknown]: the page did not come from the provider's API (or the
// provider is misconfigured), the SDK cannot tell whether the message reached
// the provider, and so the error must match none of the sentinels a retry
// layer would resend on. body is what has been read already (nil: read what
// [Client.readErrorBody] reads of r).
func (c *Client) htmlError(status int, h http.Header, r io.Reader, body []byte) *chatbot.Error {
	if body == nil && r != nil {
		body = c.readErrorBody(r)
	}
	body = c.errorBody(body)
	return c.Scrub(&chatbot.Error{
		Provider:   c.cfg.Provider,
		StatusCode: status,
		Code:       chatbot.CodeUnknown,
		Message:    "the response is an HTML page, not an API reply (a login page, captive portal or proxy answered; check the base URL and the network)",
		RequestID:  requestID(h),
		Body:       body,
	})
}
