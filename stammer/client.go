package stammer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "stammer"

// DefaultBaseURL is the base URL a [Client] uses unless
// [chatbot.WithBaseURL] says otherwise. Its "/en/" is a locale segment;
// white-labels use their own domain and locale.
const DefaultBaseURL = "https://app.stammer.ai/en/"

// The API's fixed paths, relative to the base URL (which carries the locale).
// Paths with a caller's id in them are built with rest.Client.Path.
const (
	pathMessage       = "chatbot/api/v1/message/"
	pathMe            = "user/api/v1/me/"
	pathConversations = "chatbot/api/v1/conversations/"
	pathQA            = "chatbot/api/v1/qa/"
)

// MaxMessageChars is the longest message (Stammer's "query") Stammer accepts,
// in characters (runes, not bytes): its docs say "under 5000 characters". A
// longer one is refused with [chatbot.ErrInvalidRequest] before anything is
// sent.
const MaxMessageChars = 5000

// Client talks to one Stammer chatbot (or one chatbot of a white-label
// agency). Create it with [NewClient]. A Client is immutable and safe for
// concurrent use by multiple goroutines; make one per chatbot and reuse it.
//
// Every failure the API reports is returned as a *[chatbot.Error]; a request
// refused before sending is a *[chatbot.Error] with
// [chatbot.CodeInvalidRequest] and StatusCode 0.
type Client struct {
	rest        *rest.Client
	base        *url.URL
	chatbotUUID string
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a [Client] for the chatbot with the given UUID (found on
// the chatbot's detail page), authenticating with the API token as
// "Authorization: Token <token>". The base URL defaults to [DefaultBaseURL];
// use [chatbot.WithBaseURL] for a white-label domain or another locale.
//
// NewClient sends nothing. It returns a *[chatbot.Error] with
// [chatbot.CodeInvalidRequest] when the token is empty or contains white
// space, when chatbotUUID is not a UUID (8-4-4-4-12 hexadecimal digits, in
// either case), or when an option is invalid.
func NewClient(token, chatbotUUID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, token, opts)
	if err != nil {
		return nil, err
	}
	switch {
	case chatbotUUID == "":
		return nil, rc.Invalid("chatbot UUID is empty")
	case !rest.IsUUID(chatbotUUID):
		return nil, rc.Invalid(fmt.Sprintf("chatbot UUID %q is not a UUID", chatbotUUID))
	}
	base, err := url.Parse(rc.BaseURL())
	if err != nil {
		return nil, rc.Invalid(err.Error()) // unreachable: rest.New validated it
	}
	return &Client{rest: rc, base: base, chatbotUUID: chatbotUUID}, nil
}

// restConfig is what the shared HTTP client needs to know about Stammer's
// API: its address, its auth scheme and its errors, which carry no codes
// ({"message": "…", "errors": {"field": ["…"]}}, {"detail": "…"}).
var restConfig = rest.Config{
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Token",
	Classify:       classify,
}

// classify makes an error whose message speaks of credits or quota
// [chatbot.CodeQuotaExceeded]: Stammer reports used-up credits in prose only.
// Errors already more precise (bad key, unknown chatbot, rate limit) stay.
func classify(e *chatbot.Error) {
	switch e.Code {
	case chatbot.CodeUnauthorized, chatbot.CodeNotFound, chatbot.CodeRateLimitExceeded:
		return
	}
	m := strings.ToLower(e.Message)
	if strings.Contains(m, "credit") || strings.Contains(m, "quota") {
		e.Code = chatbot.CodeQuotaExceeded
	}
}

// ChatbotUUID returns the chatbot UUID the client was created with.
func (c *Client) ChatbotUUID() string { return c.chatbotUUID }

// BaseURL returns the base URL requests are joined onto, ending in "/".
func (c *Client) BaseURL() string { return c.base.String() }

// newUserKey returns a random UUID version 4, used as the user_key of a new
// conversation.
func newUserKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("stammer: generating user_key: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// Info reports the provider ("stammer"), the chatbot UUID and the client's
// [chatbot.Capabilities], for middleware, logs and the conformance suite
// (see [chatbot.InfoOf]).
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.chatbotUUID, Capabilities: chatbot.Capabilities{
		// No streaming, sources, usage or rate-limit headers on the wire;
		// the conversation is the caller's user_key.
		MessageIDs:      true, // data.chat_id
		Conversations:   chatbot.ConversationCallerMade,
		MaxMessageChars: MaxMessageChars,
	}}
}
