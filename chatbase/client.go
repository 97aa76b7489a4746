package chatbase

import (
	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "chatbase"

// DefaultBaseURL is the base URL of Chatbase's API v2, used unless
// [chatbot.WithBaseURL] sets another.
const DefaultBaseURL = "https://www.chatbase.co/api/v2/"

// MaxMessageChars is the longest message the SDK sends to Chatbase, in
// characters (runes, not bytes). Chatbase publishes no limit of its own; this
// one is far above any real chat turn and catches a file passed by mistake
// before it is uploaded. A longer message is refused with
// [chatbot.ErrInvalidRequest] and nothing is sent.
const MaxMessageChars = 100_000

// MaxUserIDChars is the longest [chatbot.User.ID] Chatbase accepts as a
// conversation's userId (doc).
const MaxUserIDChars = 128

// Client talks to one Chatbase agent through API v2. It implements
// [chatbot.Chatbot] and adds client actions ([Client.SubmitToolResult],
// [Client.Continue]) and the conversation lists ([Client.Conversations],
// [Client.UserConversations], [Client.Messages]).
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// multiple goroutines. The zero value is not usable: call [NewClient].
type Client struct {
	rest     *rest.Client
	agentID  string
	chatPath string // "agents/{agentId}/chat", escaped once
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the Chatbase agent agentID, authenticated
// with apiKey (sent as "Authorization: Bearer <apiKey>"). Chatbase's keys are
// workspace-wide, and API v2 requires the Standard plan or above.
//
// Requests go to [DefaultBaseURL] unless opts say otherwise; opts are the
// shared [chatbot.Option] values, applied in order. NewClient never sends a
// request and never panics: an empty or malformed key, an empty or unusable
// agent id, or an invalid option gives a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest].
//
// See https://www.chatbase.co/docs/api-v2/authentication.
func NewClient(apiKey, agentID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if agentID == "" {
		return nil, rc.Invalid("agent id is empty")
	}
	chatPath, err := rc.Path("agents/%s/chat", agentID)
	if err != nil {
		return nil, err
	}
	return &Client{rest: rc, agentID: agentID, chatPath: chatPath}, nil
}

// restConfig is what the shared HTTP client needs to know about Chatbase's
// API: its address, its auth scheme and its errors
// ({"error": {"code": "…", "message": "…", "details": {…}}}).
var restConfig = rest.Config{
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	Codes:          codes,
	Classify:       classify,
}

// AgentID returns the id of the agent the client talks to.
func (c *Client) AgentID() string { return c.agentID }

// BaseURL returns the base URL requests are sent to, ending in "/".
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// Info reports the provider ("chatbase"), the agent id and what Chatbase can
// do, for middleware (see [chatbot.InfoOf]). Chatbase streams for real,
// reports credits ([chatbot.Usage.Credits]), finish reasons and message ids,
// sends X-RateLimit-* headers on every response, keeps the history on the
// server and issues conversation ids itself. It publishes no message limit,
// so MaxMessageChars is the SDK's own, [MaxMessageChars]; it sends no
// sources.
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.agentID, Capabilities: capabilities}
}

// capabilities is what [Client.Info] reports.
var capabilities = chatbot.Capabilities{
	Streaming:        true,
	Usage:            true,
	FinishReasons:    true,
	MessageIDs:       true,
	RateLimitHeaders: true,
	MaxMessageChars:  MaxMessageChars,
	Conversations:    chatbot.ConversationServerIssued,
}
