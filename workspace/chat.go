package workspace

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// chatRequest is the body of POST chatbots/{chatbotId}/chat. Stream is always
// sent: when it is omitted the chatbot's own default applies, and a plain
// call could get Server-Sent Events back.
type chatRequest struct {
	Message        string            `json:"message"`
	ConversationID string            `json:"conversationId,omitempty"`
	Stream         bool              `json:"stream"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// envelope is the non-streaming reply:
// {"success":true,"data":{"response":"…","conversationId":"…","messageId":"…"}}.
// A "success": false is turned into an error by rest (restConfig).
type envelope struct {
	Data struct {
		Response       string `json:"response"`
		ConversationID string `json:"conversationId"`
		MessageID      string `json:"messageId"`
	} `json:"data"`
}

// chatReply is envelope as Chat reads it, where an absent response (nil,
// whether data is absent or not) is told from an empty one.
type chatReply struct {
	Data struct {
		Response       *string `json:"response"`
		ConversationID string  `json:"conversationId"`
		MessageID      string  `json:"messageId"`
	} `json:"data"`
}

// Chat sends req.Message to the chatbot and waits for the whole reply. It
// always sends "stream": false. req.ConversationID continues a conversation;
// req.Metadata is sent as "metadata", with "userId", "userName" and
// "userEmail" added from req.User when set and not already in Metadata.
//
// The reply carries the text, the conversation and message ids, the
// rate-limit state from the X-RateLimit-* headers, and the raw body. Every
// failure the provider reports, and a request refused before sending (empty
// or invalid message), is a [*chatbot.Error]; a 429 carries
// [chatbot.Error.RetryAfter] from the body's retryAfter or the headers. A
// 2xx response without data.response ({"success":true}, null) is no reply:
// a [*chatbot.Error] with [chatbot.CodeUnknown] carrying the body, never an
// empty reply (a present, empty response is one).
//
// See https://pollybot.app/docs/api-endpoints/chat/send.
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	call, err := c.chatCall(req, false)
	if err != nil {
		return nil, err
	}
	var env chatReply
	resp, err := c.rest.Do(ctx, call, &env)
	if err != nil {
		return nil, err
	}
	if env.Data.Response == nil {
		return nil, c.rest.MissingReply(resp, "data.response")
	}
	return &chatbot.Reply{
		Text:           *env.Data.Response,
		ConversationID: env.Data.ConversationID,
		MessageID:      env.Data.MessageID,
		RateLimit:      resp.RateLimit,
		Raw:            json.RawMessage(resp.Body),
	}, nil
}

// chatCall validates req and builds the chat call.
func (c *Client) chatCall(req chatbot.Request, streaming bool) (rest.Call, error) {
	if err := c.rest.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return rest.Call{}, err
	}
	for _, f := range [][2]string{{"conversation id", req.ConversationID}, {"user id", req.User.ID}, {"user name", req.User.Name}, {"user email", req.User.Email}} {
		if err := c.rest.CheckField(f[0], f[1]); err != nil {
			return rest.Call{}, err
		}
	}
	for k, v := range req.Metadata {
		// Each on its own: a key ending in half a character would pass
		// together with a value that completes it, and be sent altered.
		if err := c.rest.CheckField("metadata key", k); err != nil {
			return rest.Call{}, err
		}
		if err := c.rest.CheckField("metadata value", v); err != nil {
			return rest.Call{}, err
		}
	}
	call := rest.Call{
		Method: http.MethodPost,
		Path:   c.chatPath,
		Body: chatRequest{
			Message:        req.Message,
			ConversationID: req.ConversationID,
			Stream:         streaming,
			Metadata:       metadata(req),
		},
	}
	if streaming {
		call.Accept = "text/event-stream"
	}
	return call, nil
}

// metadata merges req.Metadata with the user fields it does not already hold.
func metadata(req chatbot.Request) map[string]string {
	m := maps.Clone(req.Metadata)
	add := func(k, v string) {
		if v == "" {
			return
		}
		if _, ok := m[k]; ok {
			return
		}
		if m == nil {
			m = make(map[string]string, 3)
		}
		m[k] = v
	}
	add("userId", req.User.ID)
	add("userName", req.User.Name)
	add("userEmail", req.User.Email)
	return m
}
