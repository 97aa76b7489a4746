package chatbase

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// chatRequest is the body of POST agents/{agentId}/chat. Stream is always
// sent, since Chatbase streams when it is omitted. Message is omitted only
// to continue after a tool result ([Client.Continue]); UserID only when the
// request starts a conversation.
type chatRequest struct {
	Message        string `json:"message,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	Stream         bool   `json:"stream"`
	UserID         string `json:"userId,omitempty"`
}

// chatResponse is the non-streaming reply (doc):
// {"data": {"id", "role", "parts": […], "metadata": {…}}}. The fields of the
// metadata are also read from data itself, where the chat page's example
// puts them.
type chatResponse struct {
	Data *struct {
		ID    string `json:"id"`
		Parts []Part `json:"parts"`
		messageMetadata
		Metadata *messageMetadata `json:"metadata"`
	} `json:"data"`
}

// messageMetadata is the metadata of a reply: in the JSON reply's
// data.metadata, and in a stream's finish and message-metadata parts (doc).
type messageMetadata struct {
	MessageID      string `json:"messageId"`
	UserMessageID  string `json:"userMessageId"`
	ConversationID string `json:"conversationId"`
	FinishReason   string `json:"finishReason"`
	Usage          *struct {
		Credits *float64 `json:"credits"`
	} `json:"usage"`
}

// merge fills m's empty fields from o.
func (m *messageMetadata) merge(o *messageMetadata) {
	if o == nil {
		return
	}
	m.MessageID = cmp.Or(m.MessageID, o.MessageID)
	m.UserMessageID = cmp.Or(m.UserMessageID, o.UserMessageID)
	m.ConversationID = cmp.Or(m.ConversationID, o.ConversationID)
	m.FinishReason = cmp.Or(m.FinishReason, o.FinishReason)
	if m.Usage == nil {
		m.Usage = o.Usage
	}
}

// usage returns the credits as a [chatbot.Usage], or nil when none were
// reported.
func (m *messageMetadata) usage() *chatbot.Usage {
	if m.Usage == nil || m.Usage.Credits == nil {
		return nil
	}
	return &chatbot.Usage{Credits: *m.Usage.Credits}
}

// Chat sends req.Message to the agent and waits for the whole reply. It
// always sends "stream": false. req.ConversationID continues a conversation
// (Chatbase's conversationId); empty starts one, and then req.User.ID, when
// set, is sent as its userId (at most [MaxUserIDChars] letters, digits, '.',
// '_' or '-', checked before sending; Chatbase ignores it for an existing
// conversation, so the SDK does not send it then). Other User fields,
// Metadata and History are not sent: Chatbase keeps the history itself.
//
// The reply's Text is the text parts of the answer, joined; ConversationID,
// MessageID, FinishReason and Usage (credits, in [chatbot.Usage.Credits])
// come from the answer and its metadata, RateLimit from the X-RateLimit-*
// headers, and Raw is the response body.
//
// When the agent calls an action configured to run on the caller's side,
// the reply ends with [chatbot.FinishActionRequired] and lists the pending
// calls in Actions (tool call id, tool name, input): Chat then returns the
// reply and an error wrapping [chatbot.ErrActionRequired]. Run each action,
// post its output with [Client.SubmitToolResult], and get the rest of the
// answer with [Client.Continue].
//
// Every failure Chatbase reports, and a request refused before sending, is a
// [*chatbot.Error] (see [ErrorCode] for the mapping); a message into an ended
// conversation also matches [ErrConversationNotOngoing]. The message is
// never sent twice.
//
// See https://www.chatbase.co/docs/api-v2/agents/chat-with-an-agent.
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	call, err := c.chatCall(req, false)
	if err != nil {
		return nil, err
	}
	return c.chatJSON(ctx, call)
}

// chatJSON sends a non-streaming chat call and reads its reply.
func (c *Client) chatJSON(ctx context.Context, call rest.Call) (*chatbot.Reply, error) {
	var out chatResponse
	resp, err := c.rest.Do(ctx, call, &out)
	if err != nil {
		return nil, withSentinel(err)
	}
	reply, err := c.replyOf(&out, resp)
	if err != nil {
		return nil, err
	}
	reply.RateLimit = resp.RateLimit
	reply.Raw = json.RawMessage(resp.Body)
	return reply, actionRequired(reply)
}

// replyOf maps a non-streaming reply, the answer resp carried. A reply
// without data or without its parts (absent, not present and empty) is no
// reply: an error carrying the body, never an empty reply.
func (c *Client) replyOf(out *chatResponse, resp *rest.Response) (*chatbot.Reply, error) {
	d := out.Data
	if d == nil {
		return nil, c.rest.MissingReply(resp, "data")
	}
	if d.Parts == nil {
		return nil, c.rest.MissingReply(resp, "data.parts")
	}
	meta := messageMetadata{}
	meta.merge(d.Metadata)
	meta.merge(&d.messageMetadata)
	reply := &chatbot.Reply{
		ConversationID: meta.ConversationID,
		MessageID:      cmp.Or(d.ID, meta.MessageID),
		Usage:          meta.usage(),
	}
	var text strings.Builder
	for _, p := range d.Parts {
		switch p.Type {
		case "text":
			text.WriteString(p.Text)
		case "tool-call":
			reply.Actions = append(reply.Actions, chatbot.Action{ID: p.ToolCallID, Name: p.ToolName, Input: p.Input})
		}
	}
	reply.Text = text.String()
	// "tool-calls" with no call left to the caller: the tools ran on the
	// server, as the stream dialect reads the same finish.
	reply.FinishReason = dialect.FinishReason(meta.FinishReason, len(reply.Actions) > 0)
	return reply, nil
}

// actionRequired returns the error that goes with a reply waiting for the
// caller's actions, or nil.
func actionRequired(reply *chatbot.Reply) error {
	if reply.FinishReason != chatbot.FinishActionRequired {
		return nil
	}
	return fmt.Errorf("%s: %w (%d pending; post each result with SubmitToolResult, then Continue)", provider, chatbot.ErrActionRequired, len(reply.Actions))
}

// chatCall validates req and builds the chat call.
func (c *Client) chatCall(req chatbot.Request, streaming bool) (rest.Call, error) {
	if err := c.rest.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return rest.Call{}, err
	}
	body := chatRequest{Message: req.Message, ConversationID: req.ConversationID, Stream: streaming}
	if req.ConversationID != "" {
		if err := c.checkID("conversation id", req.ConversationID); err != nil {
			return rest.Call{}, err
		}
	} else if req.User.ID != "" {
		if err := c.checkUserID(req.User.ID); err != nil {
			return rest.Call{}, err
		}
		body.UserID = req.User.ID
	}
	return c.chatCallFor(body), nil
}

// chatCallFor is the chat call carrying body.
func (c *Client) chatCallFor(body chatRequest) rest.Call {
	call := rest.Call{Method: http.MethodPost, Path: c.chatPath, Body: body}
	if body.Stream {
		call.Accept = "text/event-stream"
	}
	return call
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

// checkUserID applies Chatbase's rule for a userId (doc): 1 to 128 of
// letters, digits, '.', '_' and '-'.
func (c *Client) checkUserID(id string) error {
	for i := range len(id) {
		if b := id[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return c.rest.Invalid("user id may contain only letters, digits, '.', '_' and '-'")
		}
	}
	if len(id) > MaxUserIDChars {
		return c.rest.Invalid(fmt.Sprintf("user id is %d characters; Chatbase allows at most %d", len(id), MaxUserIDChars))
	}
	return nil
}
