package userdesk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// ConversationRequest describes a conversation to create with
// [Client.CreateConversation]. Both fields are optional; the zero value
// creates an anonymous conversation.
type ConversationRequest struct {
	UserName  string // the user's name, sent as userName when non-empty
	UserEmail string // the user's email, sent as userEmail when non-empty
}

// Conversation is a conversation Userdesk created.
type Conversation struct {
	// ConversationID identifies the conversation: pass it as
	// [chatbot.Request.ConversationID] to send messages into it.
	ConversationID string

	// WelcomeMessage is the chatbot's greeting, or empty when it has none.
	WelcomeMessage string

	// Raw is Userdesk's response body, for fields the SDK does not map.
	Raw json.RawMessage
}

// conversationRequest is the body of POST chatbot/{chatbotId}/conversation.
type conversationRequest struct {
	UserName  string `json:"userName,omitempty"`
	UserEmail string `json:"userEmail,omitempty"`
}

// CreateConversation starts a new conversation with the chatbot, for the
// user req describes, and returns its id and the chatbot's welcome message.
// [Client.Stream] calls it itself when a request has no conversation id.
//
// Failures Userdesk reports are [*chatbot.Error]; a response without a
// conversation id is an error too, since nothing could continue it.
//
// API reference: https://docs.userdesk.io/api/create-a-conversation
func (c *Client) CreateConversation(ctx context.Context, req ConversationRequest) (*Conversation, error) {
	return c.createConversation(ctx, c.rc, req)
}

// createConversation is CreateConversation, sending through d.
func (c *Client) createConversation(ctx context.Context, d rest.Doer, req ConversationRequest) (*Conversation, error) {
	for _, f := range [][2]string{{"user name", req.UserName}, {"user email", req.UserEmail}} {
		if err := c.rc.CheckField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	body := conversationRequest(req)
	var env envelope
	resp, err := d.Do(ctx, rest.Call{Method: http.MethodPost, Path: c.conversationPath, Body: body}, &env)
	if err != nil {
		return nil, err
	}
	convID := env.ConversationID
	if convID == "" {
		convID = headerConversationID(resp.Header)
	}
	if convID == "" {
		return nil, errors.New("userdesk: create conversation: response carries no conversationId")
	}
	conv := &Conversation{ConversationID: convID, Raw: json.RawMessage(resp.Body)}
	if env.Response != nil {
		conv.WelcomeMessage = *env.Response // optional: a chatbot may have none
	}
	return conv, nil
}
