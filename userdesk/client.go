package userdesk

import (
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "userdesk"

// DefaultBaseURL is the base URL a [Client] sends requests to unless
// [chatbot.WithBaseURL] says otherwise.
const DefaultBaseURL = "https://api.userdesk.io/v1/"

// MaxMessageChars is the longest message the SDK sends to Userdesk, in
// characters (runes, not bytes). Userdesk publishes no limit of its own; this one
// is far above any real chat turn and catches a file passed by mistake before
// it is uploaded. A longer message is refused with [chatbot.ErrInvalidRequest]
// and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one Userdesk chatbot. Create it with [NewClient]; the zero
// value is not usable. A Client is immutable and safe for concurrent use by
// multiple goroutines: make one per chatbot and reuse it.
type Client struct {
	rc               *rest.Client
	chatbotID        string
	messagePath      string // chatbot/{chatbotId}/message, escaped
	conversationPath string // chatbot/{chatbotId}/conversation, escaped
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a [Client] for the chatbot chatbotID, authenticated with
// apiKey (Userdesk makes one key per chatbot), sent as
// "Authorization: Bearer <apiKey>". Options are the shared ones
// ([chatbot.WithBaseURL], [chatbot.WithMaxRetries], …); by default requests go
// to [DefaultBaseURL].
//
// An empty or malformed key, an empty chatbot id or one that cannot be a path
// segment ("." or ".."), or an invalid option gives a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest]; the key never appears in it. NewClient sends
// nothing and never panics.
//
// API reference: https://docs.userdesk.io/api/send-a-message
func NewClient(apiKey, chatbotID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if chatbotID == "" {
		return nil, rc.Invalid("chatbot id is empty")
	}
	c := &Client{rc: rc, chatbotID: chatbotID}
	if c.messagePath, err = rc.Path("chatbot/%s/message", chatbotID); err != nil {
		return nil, err
	}
	if c.conversationPath, err = rc.Path("chatbot/%s/conversation", chatbotID); err != nil {
		return nil, err
	}
	return c, nil
}

// restConfig is what the shared HTTP client needs to know about Userdesk's
// API: its address, its auth scheme and its errors, which carry no codes
// ({"success": false, "message": "…"}).
var restConfig = rest.Config{
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	SuccessField:   "success",
	Classify:       classify,
}

// classify makes Userdesk's answer to an unknown or expired conversation id,
// a 400 "conversationId is not valid", [chatbot.CodeNotFound], as the other
// providers that report it say with a 404: the request was well formed, the
// conversation it names does not exist.
func classify(e *chatbot.Error) {
	m := strings.ToLower(e.Message)
	if e.StatusCode == http.StatusBadRequest && strings.Contains(m, "conversationid") &&
		(strings.Contains(m, "not valid") || strings.Contains(m, "invalid") || strings.Contains(m, "not found")) {
		e.Code = chatbot.CodeNotFound
	}
}

// ChatbotID returns the id of the chatbot the client talks to.
func (c *Client) ChatbotID() string { return c.chatbotID }

// BaseURL returns the base URL the client's requests are joined onto, ending
// in "/".
func (c *Client) BaseURL() string { return c.rc.BaseURL() }

// Info reports the provider ("userdesk"), the chatbot id and the client's
// [chatbot.Capabilities], for middleware, logs and the conformance suite
// (see [chatbot.InfoOf]).
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.chatbotID, Capabilities: chatbot.Capabilities{
		// Raw text deltas: no sources, usage, finish reasons, message ids or
		// rate-limit headers on the wire. Stream creates the conversation
		// first when it has none; Chat gets it from the reply.
		Streaming:       true,
		Conversations:   chatbot.ConversationServerIssued,
		MaxMessageChars: MaxMessageChars,
	}}
}
