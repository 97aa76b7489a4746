package sitegpt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// DefaultBaseURL is the base URL of SiteGPT's REST API v0, used unless
// [chatbot.WithBaseURL] sets another.
const DefaultBaseURL = "https://sitegpt.ai/api/v0/"

// MaxMessageChars is the longest message the SDK sends to SiteGPT, in
// characters (runes, not bytes). SiteGPT publishes no limit of its own; this one
// is far above any real chat turn and catches a file passed by mistake before
// it is uploaded. A longer message is refused with [chatbot.ErrInvalidRequest]
// and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one SiteGPT chatbot. Create it with [NewClient]; the zero
// value is not usable. A Client is immutable and safe for concurrent use by
// multiple goroutines: make one per chatbot and reuse it.
type Client struct {
	rest      *rest.Client
	chatbotID string
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the SiteGPT chatbot chatbotID, authenticated
// with apiKey as "Authorization: Bearer <apiKey>". Options are the shared
// chatbot.With* options; the base URL defaults to [DefaultBaseURL].
//
// It never sends a request. An empty or malformed key or chatbot id, or an
// invalid option, is returned as a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest].
func NewClient(apiKey, chatbotID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if chatbotID == "" {
		return nil, rc.Invalid("chatbot id is empty")
	}
	if _, err := rc.Path("chatbots/%s", chatbotID); err != nil {
		return nil, err
	}
	return &Client{rest: rc, chatbotID: chatbotID}, nil
}

// ChatbotID returns the id of the chatbot the client talks to.
func (c *Client) ChatbotID() string { return c.chatbotID }

// BaseURL returns the base URL requests are sent to, ending in "/".
func (c *Client) BaseURL() string { return c.rest.BaseURL() }

// restConfig is what the shared HTTP client needs to know about SiteGPT's
// API: its address, its auth scheme and its errors
// ({"success": false, "message": "…", "error": {"code": "…", "message": "…"}}).
var restConfig = rest.Config{
	RateWindow:     time.Minute, // quotas are requests per minute
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	Codes: map[string]chatbot.Code{
		string(CodeAPIKeyNotValid):          chatbot.CodeUnauthorized,
		string(CodeRequestValidationFailed): chatbot.CodeInvalidRequest,
		string(CodeChatbotNotFound):         chatbot.CodeNotFound,
		string(CodeChatbotFetchForbidden):   chatbot.CodeForbidden,
		string(CodeChatbotLimitReached):     chatbot.CodeQuotaExceeded,
		string(CodeMessagesLimitReached):    chatbot.CodeQuotaExceeded,
	},
	SuccessField: "success",
}

// envelope is SiteGPT's wrapper around every response:
// {"success": true, "message": "…", "data": {…}}. A "success": false is
// turned into an error by rest (restConfig).
type envelope struct {
	Data json.RawMessage `json:"data"`
}

// do sends call through d and decodes the envelope's data into data (when
// non-nil).
func (c *Client) do(ctx context.Context, d rest.Doer, what string, call rest.Call, data any) (*rest.Response, error) {
	var env envelope
	resp, err := d.Do(ctx, call, &env)
	if err != nil {
		return nil, err
	}
	if data != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, data); err != nil {
			return nil, c.rest.Safe(fmt.Errorf("sitegpt: %s: decoding data: %w", what, err))
		}
	}
	return resp, nil
}

// checkID validates an id sent in a request body, named name in the error,
// with the same rules as an id in a path (not blank, not "." or "..", valid
// UTF-8 without NUL or line breaks).
func (c *Client) checkID(name, id string) error {
	if _, err := c.rest.Path("%s", id); err != nil {
		return c.rest.Invalid(name + " is blank or contains invalid characters")
	}
	return nil
}

// errNoData reports a successful response that lacks what the call returns.
func errNoData(what, field string) error {
	return fmt.Errorf("sitegpt: %s: response has no %s", what, field)
}

// Info reports the provider ("sitegpt"), the chatbot id and the client's
// [chatbot.Capabilities], for middleware, logs and the conformance suite
// (see [chatbot.InfoOf]).
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.chatbotID, Capabilities: chatbot.Capabilities{
		// No streaming (Stream yields one chunk), usage, finish reasons or
		// rate-limit headers on the wire.
		Sources:         true, // data.message.sources
		MessageIDs:      true, // data.message.id
		Conversations:   chatbot.ConversationServerIssued,
		MaxMessageChars: MaxMessageChars,
	}}
}
