package flowise

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "flowise"

// MaxMessageChars is the longest question the SDK sends to a flow, in
// characters (runes, not bytes). Flowise publishes no limit of its own; this
// one is far above any real chat turn and catches a file passed by mistake
// before it is uploaded. A longer question is refused with
// [chatbot.ErrInvalidRequest] and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one Flowise chatflow or agentflow. It implements
// [chatbot.Chatbot] and adds [Client.Predict] and [Client.PredictStream],
// the prediction call with every Flowise field, and [Client.IsStreaming].
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// multiple goroutines. The zero value is not usable: call [NewClient].
type Client struct {
	rc             *rest.Client
	chatflowID     string
	predictionPath string // api/v1/prediction/{chatflowId}, escaped once
	streamingPath  string // api/v1/chatflows-streaming/{chatflowId}, escaped once
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the flow chatflowID on the Flowise server
// given by [chatbot.WithBaseURL], which is required: Flowise is self-hosted
// under each company's own domain, and Flowise Cloud gives each account its
// own host, so there is no default. The base URL is the server's address, as
// the flow's "API Endpoint" dialog and the embed snippet's apiHost show it
// ("https://flowise.example.com"); requests go to "api/v1/…" under it.
//
// apiKey is the flow's API key, sent as "Authorization: Bearer <apiKey>". It
// may be empty: a flow with no API key assigned is public, and then no
// Authorization header is sent at all.
//
// opts are the shared [chatbot.Option] values, applied in order. NewClient
// sends nothing and never panics: a malformed key, an empty or unusable flow
// id, a missing base URL or an invalid option gives a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest]; the key never appears in it.
//
// See https://docs.flowiseai.com/using-flowise/prediction.
func NewClient(apiKey, chatflowID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if chatflowID == "" {
		return nil, rc.Invalid("chatflow id is empty")
	}
	c := &Client{rc: rc, chatflowID: chatflowID}
	if c.predictionPath, err = rc.Path("api/v1/prediction/%s", chatflowID); err != nil {
		return nil, err
	}
	if c.streamingPath, err = rc.Path("api/v1/chatflows-streaming/%s", chatflowID); err != nil {
		return nil, err
	}
	return c, nil
}

// restConfig is what the shared HTTP client needs to know about Flowise: no
// default host, an optional key, and its errors
// ({"statusCode": 404, "success": false, "message": "…", "stack": {}}), which
// carry no codes; a rate-limited call answers with a plain-text body.
var restConfig = rest.Config{
	Provider:     provider,
	AuthScheme:   "Bearer",
	KeyOptional:  true,
	SuccessField: "success",
	Classify:     classify,
}

// maxTextMessage bounds the message taken from a plain-text error body.
const maxTextMessage = 1 << 10

// classify keeps the message of an error body that is plain text, not JSON:
// the message a flow's rate limiter is configured with (Flowise answers a
// 429 with it, verbatim, typed text/html by Express), or a proxy's one-line
// answer. A body that is an HTML page is left out.
//
// A 412 (Flowise's answer to a request without a flow id or a body) is
// [chatbot.CodeInvalidRequest].
func classify(e *chatbot.Error) {
	if e.StatusCode == http.StatusPreconditionFailed {
		e.Code = chatbot.CodeInvalidRequest
	}
	if e.Message != "" {
		return
	}
	text := strings.TrimSpace(string(e.Body))
	switch {
	case text == "", text[0] == '{', text[0] == '[', text[0] == '<', !utf8.ValidString(text):
		return
	case len(text) > maxTextMessage:
		return
	}
	e.Message = text
}

// ChatflowID returns the id of the flow the client talks to.
func (c *Client) ChatflowID() string { return c.chatflowID }

// BaseURL returns the base URL requests are sent to, ending in "/".
func (c *Client) BaseURL() string { return c.rc.BaseURL() }

// Info reports the provider ("flowise"), the flow id and what Flowise can
// do, for middleware (see [chatbot.InfoOf]).
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.chatflowID, Capabilities: capabilities}
}

// capabilities are Flowise's, from its published docs and server code:
// streamed tokens, source documents, message ids and the history taken with
// each call; caller-made chat ids; no usage, finish reason or X-RateLimit-*
// headers (its per-flow limiter sends the IETF draft RateLimit-* headers
// only); no published message limit, so MaxMessageChars is the SDK's own,
// [MaxMessageChars].
var capabilities = chatbot.Capabilities{
	Streaming:       true,
	Sources:         true,
	MessageIDs:      true,
	History:         true,
	Conversations:   chatbot.ConversationCallerMade,
	MaxMessageChars: MaxMessageChars,
}
