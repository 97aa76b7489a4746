package userdesk

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// conversationHeaders are the response headers a conversation id is read
// from. Userdesk documents none; they are accepted in case one appears.
var conversationHeaders = []string{"X-Conversation-Id", "Conversation-Id"}

// messageRequest is the body of POST chatbot/{chatbotId}/message.
type messageRequest struct {
	Message        string `json:"message"`
	Stream         bool   `json:"stream"` // always sent, false included
	ConversationID string `json:"conversationId,omitempty"`
	UserName       string `json:"userName,omitempty"`
	UserEmail      string `json:"userEmail,omitempty"`
}

// envelope is Userdesk's JSON response to a message or a new conversation:
// {"success": true, "conversationId": "…", "response": "…"}. A
// "success": false is turned into an error by rest (restConfig).
type envelope struct {
	ConversationID string  `json:"conversationId"`
	Response       *string `json:"response"` // nil when absent
}

// Chat sends req.Message to the chatbot and waits for the whole reply. An
// empty req.ConversationID starts a new conversation, whose id is returned in
// [chatbot.Reply.ConversationID]; req.User.Name and req.User.Email are sent
// as the user's name and email. Userdesk gives replies no message id, so
// MessageID is empty; it publishes no rate-limit headers, so RateLimit is nil
// unless a response carries X-RateLimit-* headers. Raw is the response body.
//
// An invalid request (empty message, invalid UTF-8) is refused before
// anything is sent. Failures Userdesk reports are [*chatbot.Error]; an
// unknown or expired conversation id, which Userdesk answers with a 400, is
// [chatbot.ErrNotFound] (its status stays 400). A 2xx response without
// "response" is no reply: a [*chatbot.Error] with [chatbot.CodeUnknown]
// carrying the body, never an empty reply (a present, empty response is
// one). A POST is never resent once Userdesk may have processed it.
//
// API reference: https://docs.userdesk.io/api/send-a-message
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	body, err := c.messageRequest(req, false)
	if err != nil {
		return nil, err
	}
	var env envelope
	resp, err := c.rc.Do(ctx, rest.Call{Method: http.MethodPost, Path: c.messagePath, Body: body}, &env)
	if err != nil {
		return nil, err
	}
	if env.Response == nil {
		return nil, c.rc.MissingReply(resp, "response")
	}
	convID := env.ConversationID
	if convID == "" {
		convID = headerConversationID(resp.Header)
	}
	return &chatbot.Reply{
		Text:           *env.Response,
		ConversationID: convID,
		RateLimit:      resp.RateLimit,
		Raw:            json.RawMessage(resp.Body),
	}, nil
}

// messageRequest validates req and builds the wire body.
func (c *Client) messageRequest(req chatbot.Request, streaming bool) (messageRequest, error) {
	if err := c.rc.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return messageRequest{}, err
	}
	for _, f := range [][2]string{{"conversation id", req.ConversationID}, {"user name", req.User.Name}, {"user email", req.User.Email}} {
		if err := c.rc.CheckField(f[0], f[1]); err != nil {
			return messageRequest{}, err
		}
	}
	return messageRequest{
		Message:        req.Message,
		Stream:         streaming,
		ConversationID: req.ConversationID,
		UserName:       req.User.Name,
		UserEmail:      req.User.Email,
	}, nil
}

// headerConversationID returns the conversation id a response header
// carries, or "".
func headerConversationID(h http.Header) string {
	for _, k := range conversationHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
