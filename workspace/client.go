package workspace

import (
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "workspace"

// DefaultBaseURL is the API base URL used unless [chatbot.WithBaseURL] points
// the client at a white-label or self-hosted domain.
const DefaultBaseURL = "https://pollybot.app/api/v1/"

// MaxMessageChars is the longest message the SDK sends to a workspace
// chatbot, in characters (runes, not bytes). The API publishes no limit of its
// own; this one is far above any real chat turn and catches a file passed by
// mistake before it is uploaded. A longer message is refused with
// [chatbot.ErrInvalidRequest] and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one workspace chatbot. It implements [chatbot.Chatbot] and
// adds the leads endpoints ([Client.Leads], [Client.Lead], …).
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// multiple goroutines. The zero value is not usable: call [NewClient].
type Client struct {
	rest      *rest.Client
	chatbotID string
	chatPath  string // "chatbots/{chatbotId}/chat", escaped once
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the chatbot chatbotID, authenticated with
// apiKey (sent as "Authorization: Bearer <apiKey>"). Workspace keys look like
// "sk-workspace_…"; a key in another format is accepted all the same, since
// formats change.
//
// Requests go to [DefaultBaseURL] unless opts say otherwise; opts are the
// shared [chatbot.Option] values, applied in order. NewClient never panics:
// an empty or malformed key, an empty or unusable chatbot id, or an invalid
// option gives a [*chatbot.Error] with [chatbot.CodeInvalidRequest].
//
// See https://pollybot.app/docs/api-endpoints/chat/send.
func NewClient(apiKey, chatbotID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if chatbotID == "" {
		return nil, rc.Invalid("chatbot id is empty")
	}
	chatPath, err := rc.Path("chatbots/%s/chat", chatbotID)
	if err != nil {
		return nil, err
	}
	return &Client{rest: rc, chatbotID: chatbotID, chatPath: chatPath}, nil
}

// restConfig is what the shared HTTP client needs to know about the
// workspace API: its address, its auth scheme and its errors
// ({"success": false, "error": "…", "code": "…", "retryAfter": 60}).
var restConfig = rest.Config{
	RateWindow:     time.Hour, // 1,000 requests an hour per key (https://pollybot.app/docs/rate-limiting)
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	Codes: map[string]chatbot.Code{
		"INVALID_API_KEY":      chatbot.CodeUnauthorized,
		"MISSING_AUTH_HEADER":  chatbot.CodeUnauthorized,
		"CHATBOT_NOT_FOUND":    chatbot.CodeNotFound,
		"RATE_LIMIT_EXCEEDED":  chatbot.CodeRateLimitExceeded,
		"INSUFFICIENT_CREDITS": chatbot.CodeQuotaExceeded,
	},
	SuccessField: "success",
}

// ChatbotID returns the id of the chatbot the client talks to.
func (c *Client) ChatbotID() string { return c.chatbotID }

// BaseURL returns the base URL requests are sent to, ending in "/".
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// Info reports the provider ("workspace"), the chatbot id and the client's
// [chatbot.Capabilities], for middleware, logs and the conformance suite
// (see [chatbot.InfoOf]).
//
// The Capabilities claim no sources, usage or finish reasons: the documented
// JSON reply of [Client.Chat] carries none of them, and the stream format is
// unpublished. [Client.Stream] still fills them (and actions) when the
// stream it reads sends them, as an AI SDK or Dify stream does; a caller
// that relies on them must check each reply.
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.chatbotID, Capabilities: chatbot.Capabilities{
		Streaming:        true,
		MessageIDs:       true, // data.messageId, and the ids streams carry
		RateLimitHeaders: true, // X-RateLimit-* on every response
		Conversations:    chatbot.ConversationServerIssued,
		MaxMessageChars:  MaxMessageChars,
	}}
}
