// Package fakes is the vocabulary the provider fakes share
// (workspace/workspacetest, userdesk/userdesktest, stammer/stammertest,
// sitegpt/sitegpttest, chatbase/chatbasetest, dify/difytest,
// flowise/flowisetest and customgpt/customgpttest): what a test scripts ([Failure]), what a fake
// records ([Request]) and the clock its rate windows run on ([Clock],
// [ManualClock]). Each fake names these types under its own package too
// (workspacetest.Failure is fakes.Failure), so a test imports only the fake
// it uses, and a helper written for one fake accepts the values of another.
//
// Every fake has the same methods for what they all have in common:
//
//	NewServer(Config) *Server      starts it; Config{APIKey, …} defaults to DefaultAPIKey, …
//	URL (field), Close()           the base URL for chatbot.WithBaseURL; Close ends held requests, then stops
//	APIKey(), ChatbotID()          the credentials it accepts (difytest has no ChatbotID: a Dify key names its app)
//	SetReply(parts ...string)      every reply is these parts (streamed one piece per part where the provider streams)
//	SetAnswer(func(string) string) every reply is computed from the message (streamed word by word)
//	FailNext(n, Failure)           the next n requests fail, in the provider's own error format
//	RateLimitNext(n, retryAfter)   the next n requests get a 429 asking to wait retryAfter
//	StallNext(n), Stalled()        the next n requests are held, unanswered, until their client goes away
//	Requests(), Count()            what it received, as [Request] records
//	Connections(), Disconnects()   TCP connections accepted; each request whose client went away
//
// The fakes of streaming providers (workspacetest, userdesktest,
// chatbasetest, difytest, flowisetest, customgpttest) also shape how a
// reply is written, with the same setters: SetPace, SplitWrites, CutAfter
// and StallAfter. A fake whose provider's replies carry sources, usage or
// finish reasons scripts them with SetSources, SetUsage and
// SetFinishReason, the setters chatbottest.Run's checks look for. Provider-specific behaviour
// (workspace formats and leads, Stammer conversations and Q&A, SiteGPT
// threads, Userdesk conversations, Chatbase client actions, Dify app modes,
// Flowise's broken streams, CustomGPT's citations and query credits) is in
// each fake's own methods.
//
// A test that scripts the fakes waits on what they observed (Stalled,
// Disconnects, Requests), never on the passing of time. The time the fakes
// read (the sliding rate-limit windows of workspace and Chatbase and their
// X-RateLimit-Reset, the timestamps of conversations and leads) comes from
// their Config.Clock, which a test sets to a [ManualClock] and moves
// itself.
//
// These types live in this small public package, which imports nothing of
// the module, so that users can name them, the fakes can share them without
// an import cycle (internal/fake, the fakes' common implementation, imports
// this package; nothing here imports a provider), and their documentation
// is readable where an alias of an internal type's would not be.
package fakes

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Failure is an error answer a fake gives instead of serving a request (see
// the fakes' FailNext). Each fake writes it in its provider's wire format:
// the same Failure means the same thing to every provider's client.
//
// The zero value is a 500 with the provider's default error body.
type Failure struct {
	// Status is the HTTP status. Zero means the status the provider
	// documents for Code where the fake knows one (sitegpttest.StatusFor),
	// else 500.
	Status int

	// Code is the provider's own error code (such as workspace's
	// "INSUFFICIENT_CREDITS" or sitegpt.CodeMessagesLimitReached), written
	// where the provider's error body has a code. Empty means the
	// provider's code for Status where it has one (workspace's
	// "RATE_LIMIT_EXCEEDED" for a 429), else none.
	Code string

	// Message is the error's human-readable message; empty means a default
	// for the status.
	Message string

	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds (rounded up), and also in the body where the provider puts
	// it there (workspace's "retryAfter").
	RetryAfter time.Duration

	// Body, when not empty, is sent verbatim instead of the provider's
	// error body (Code and Message are then unused). A body that starts
	// with "{" or "[" is sent as application/json, any other with the type
	// http.DetectContentType finds (text/html for an HTML page).
	Body string

	// Details is sent as the error's details where the provider's error
	// body has them (the error.details of SiteGPT and Chatbase); the other
	// fakes ignore it.
	Details any
}

// RetryAfterSeconds returns f.RetryAfter in whole seconds, rounded up, as
// the Retry-After header carries it; 0 when f.RetryAfter is not positive.
func (f Failure) RetryAfterSeconds() int {
	if f.RetryAfter <= 0 {
		return 0
	}
	return int((f.RetryAfter + time.Second - 1) / time.Second)
}

// Request is one request a fake received, recorded before the fake
// answered it.
type Request struct {
	Method string
	Path   string // the escaped path, as sent, such as "/api/v1/chatbots/bot/chat"
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the request body as a JSON object, or returns nil when it is
// not one.
func (r Request) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// Clock tells a fake the time: the time of its rate-limit windows, of the
// X-RateLimit-Reset it reports and of the timestamps it gives records. A
// nil Clock in a fake's Config means the real clock. Implementations must be
// safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ManualClock is a [Clock] that moves only when told to, so that a test
// can fill a rate-limit window and then let it slide without waiting. The
// zero value is not usable; create one with [NewManualClock]. It is safe
// for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock that reads start until it is moved.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
