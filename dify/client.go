package dify

import (
	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "dify"

// DefaultBaseURL is the base URL of Dify Cloud's Service API, used unless
// [chatbot.WithBaseURL] points the client at a self-hosted Dify
// ("https://dify.example.com/v1/").
const DefaultBaseURL = "https://api.dify.ai/v1/"

// DefaultUser is the end-user id sent as Dify's required "user" when a
// request names none ([chatbot.Request] User.ID is empty) and
// [Client.WithDefaultUser] set no other. Dify keeps conversations per user:
// every request without a user shares this one's conversations.
const DefaultUser = "chatbot-go"

// MaxMessageChars is the longest message the SDK sends to Dify, in
// characters (runes, not bytes). Dify publishes no limit of its own (the
// app's model context is the real one); this one is far above any real chat
// turn and catches a file passed by mistake before it is uploaded. A longer
// message is refused with [chatbot.ErrInvalidRequest] and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one Dify app (a chat, agent or chatflow app: a Dify API
// key belongs to one app). It implements [chatbot.Chatbot] and adds the
// conversation, message, feedback and app endpoints of Dify's Service API.
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// multiple goroutines; [Client.WithDefaultUser] returns a modified copy. The
// zero value is not usable: call [NewClient].
type Client struct {
	rest *rest.Client
	user string // the default end-user id
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the Dify app whose API key is apiKey (sent
// as "Authorization: Bearer <apiKey>"; Dify's app keys look like "app-…",
// but a key in another format is accepted all the same). Requests go to
// [DefaultBaseURL] unless [chatbot.WithBaseURL] says otherwise; opts are the
// shared [chatbot.Option] values, applied in order.
//
// NewClient never sends a request and never panics: an empty or malformed
// key or an invalid option gives a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest].
//
// See https://docs.dify.ai/en/api-reference/chat-messages/send-chat-message.
func NewClient(apiKey string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	return &Client{rest: rc, user: DefaultUser}, nil
}

// WithDefaultUser returns a copy of c that sends user as Dify's "user" when
// a request names none, instead of [DefaultUser]. Use a stable id per
// deployment (a service name): Dify lists conversations and messages per
// user, so a random one would lose them. An empty, blank or non-text user
// is refused with a [*chatbot.Error] of code [chatbot.CodeInvalidRequest].
func (c *Client) WithDefaultUser(user string) (*Client, error) {
	if err := c.checkUser(user); err != nil {
		return nil, err
	}
	cp := *c
	cp.user = user
	return &cp, nil
}

// DefaultUser returns the end-user id sent when a request names none.
func (c *Client) DefaultUser() string { return c.user }

// BaseURL returns the base URL requests are sent to, ending in "/".
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// Info reports the provider ("dify") and what it can do, for middleware
// (see [chatbot.InfoOf]). ChatbotID is empty: a Dify key names its app.
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, Capabilities: capabilities}
}

// capabilities is what Dify's Service API offers, from its reference.
var capabilities = chatbot.Capabilities{
	Streaming:       true,
	Sources:         true, // retriever_resources
	Usage:           true, // metadata.usage
	FinishReasons:   true, // message_end, message_replace
	MessageIDs:      true,
	Conversations:   chatbot.ConversationServerIssued,
	MaxMessageChars: MaxMessageChars,
}

// restConfig is what the shared HTTP client needs to know about Dify's
// API: its address, its auth scheme and its errors
// ({"code": "…", "message": "…", "status": 400, "params": "…"}).
var restConfig = rest.Config{
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	Codes: map[string]chatbot.Code{
		"UNAUTHORIZED":            chatbot.CodeUnauthorized,
		"NOT_FOUND":               chatbot.CodeNotFound,
		"PROVIDER_QUOTA_EXCEEDED": chatbot.CodeQuotaExceeded,
		"TOO_MANY_REQUESTS":       chatbot.CodeRateLimitExceeded,
		"RATE_LIMIT_ERROR":        chatbot.CodeRateLimitExceeded,
		"INVALID_PARAM":           chatbot.CodeInvalidRequest,
		"APP_UNAVAILABLE":         chatbot.CodeInvalidRequest,
		"NOT_CHAT_APP":            chatbot.CodeInvalidRequest,
		"CONVERSATION_COMPLETED":  chatbot.CodeInvalidRequest,
		"INTERNAL_SERVER_ERROR":   chatbot.CodeServerError,
	},
	Classify: withParams,
}
