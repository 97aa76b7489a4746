package customgpt

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// Conversation is a conversation of the project, as CustomGPT describes it
// when it creates one.
type Conversation struct {
	// ID is CustomGPT's numeric id of the conversation; the API addresses
	// conversations by SessionID instead.
	ID int64 `json:"id"`
	// SessionID is the conversation's session id (a UUID): the
	// [chatbot.Request.ConversationID] to continue it.
	SessionID string `json:"session_id"`
	// Name is the conversation's name.
	Name string `json:"name"`
	// ProjectID is the project the conversation belongs to.
	ProjectID int64 `json:"project_id"`
	// CreatedBy is the id of the user who created it.
	CreatedBy int64 `json:"created_by"`
	// CreatedAt is the creation time, as CustomGPT wrote it.
	CreatedAt string `json:"created_at"`
	// Raw is the conversation's JSON, for the fields not mapped here.
	Raw json.RawMessage `json:"-"`
}

// createRequest is the body of POST …/conversations.
type createRequest struct {
	Name string `json:"name,omitempty"`
}

// CreateConversation creates a conversation named name (empty: CustomGPT
// names it) and returns it; send messages to its SessionID. [Client.Chat]
// and [Client.Stream] call it themselves for a request without a
// conversation id. A name longer than 255 characters, or not valid UTF-8,
// is refused before anything is sent. Failures CustomGPT reports are
// [*chatbot.Error]; an unknown project is [chatbot.ErrNotFound].
//
// API reference: https://docs.customgpt.ai/reference/post_api-v1-projects-projectid-conversations
func (c *Client) CreateConversation(ctx context.Context, name string) (*Conversation, error) {
	return c.createConversation(ctx, c.rc, name)
}

// maxNameChars is CustomGPT's limit on a conversation's name.
const maxNameChars = 255

// createConversation creates a conversation through d: the client, or a
// stream's guard.
func (c *Client) createConversation(ctx context.Context, d rest.Doer, name string) (*Conversation, error) {
	if err := c.rc.CheckField("conversation name", name); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(name) > maxNameChars {
		return nil, c.rc.Invalid("conversation name is longer than 255 characters")
	}
	var raw json.RawMessage
	call := rest.Call{Method: http.MethodPost, Path: c.convPath, Body: createRequest{Name: name}}
	if _, err := do(ctx, c, d, call, &raw); err != nil {
		return nil, err
	}
	conv := &Conversation{Raw: raw}
	if err := json.Unmarshal(raw, conv); err != nil || conv.SessionID == "" {
		return nil, c.rc.Safe(errNoSession(err))
	}
	return conv, nil
}

// DeleteConversation deletes the conversation sessionID and its messages,
// for instance the one a failed first message left behind (see
// [ConversationError]). An unknown conversation is [chatbot.ErrNotFound].
//
// API reference: https://docs.customgpt.ai/reference/delete_api-v1-projects-projectid-conversations-sessionid
func (c *Client) DeleteConversation(ctx context.Context, sessionID string) error {
	path, err := c.rc.Path("api/v1/projects/%s/conversations/%s", c.projectID, sessionID)
	if err != nil {
		return err
	}
	var data json.RawMessage
	_, err = do(ctx, c, c.rc, rest.Call{Method: http.MethodDelete, Path: path}, &data)
	return err
}
