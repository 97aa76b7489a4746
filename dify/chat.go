package dify

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// ChatRequest is a [chatbot.Request] with what only Dify takes: the app's
// input variables, files, and a pinned chatflow version. The zero values of
// the extra fields send what [Client.Chat] sends.
type ChatRequest struct {
	chatbot.Request

	// Inputs are the values of the app's variables (the "inputs" object;
	// see [Client.Parameters] for the variables an app declares). Each
	// entry is encoded as JSON. Entries of Request.Metadata are sent as
	// string inputs too; an entry here wins over a Metadata entry of the
	// same name. Nil with no Metadata sends {}.
	Inputs map[string]any

	// Files are sent as "files", for apps whose model reads images or
	// documents. Nil sends none.
	Files []File

	// WorkflowID pins the published version of a chatflow app to run
	// ("workflow_id"); empty runs the app's current version.
	WorkflowID string
}

// File is a file sent with a message: a remote URL, or a file uploaded to
// Dify beforehand (by its upload id).
type File struct {
	Type           string `json:"type"`                     // "image", "document", "audio", "video" or "custom"
	TransferMethod string `json:"transfer_method"`          // "remote_url" or "local_file"
	URL            string `json:"url,omitempty"`            // for remote_url
	UploadFileID   string `json:"upload_file_id,omitempty"` // for local_file
}

// chatRequest is the body of POST chat-messages.
type chatRequest struct {
	Query          string         `json:"query"`
	Inputs         map[string]any `json:"inputs"` // never nil: Dify requires the object
	User           string         `json:"user"`
	ResponseMode   string         `json:"response_mode"`
	ConversationID string         `json:"conversation_id,omitempty"`
	Files          []File         `json:"files,omitempty"`
	WorkflowID     string         `json:"workflow_id,omitempty"`
}

// chatResponse is the blocking reply, and the fields of the stream's
// message events that the SDK reads.
type chatResponse struct {
	Event          string  `json:"event"`
	TaskID         string  `json:"task_id"`
	ID             string  `json:"id"`
	MessageID      string  `json:"message_id"`
	ConversationID string  `json:"conversation_id"`
	Answer         *string `json:"answer"` // nil: absent, no reply

	Metadata json.RawMessage `json:"metadata"` // usage and sources: dialect.DifyMetadata
}

// messageID returns the message id: message_id, or id where Dify sends only
// that.
func (r *chatResponse) messageID() string {
	if r.MessageID != "" {
		return r.MessageID
	}
	return r.ID
}

// Chat sends req.Message to the app and waits for the whole reply
// ("response_mode": "blocking"). It is [Client.ChatWith] without inputs
// beyond req.Metadata, files or a pinned version.
//
// Dify Cloud's edge (Cloudflare) cuts a blocking request after 100 seconds
// with no answer: for a long agent or chatflow run use [Client.Stream],
// which also lets a caller stop the run. Agent apps are documented as
// streaming-only and may refuse Chat; use Stream for them.
//
// See https://docs.dify.ai/en/api-reference/chat-messages/send-chat-message.
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return c.ChatWith(ctx, ChatRequest{Request: req})
}

// ChatWith sends req and waits for the whole reply, as [Client.Chat] does,
// with Dify's inputs, files and workflow version.
//
// The body is {"query", "inputs", "user", "response_mode": "blocking",
// "conversation_id"}: "user" is req.User.ID, or the client's default user
// ([DefaultUser], [Client.WithDefaultUser]) when that is empty; "inputs" is
// always an object (see [ChatRequest.Inputs]). req.User's Name and Email and
// req.History are not sent: Dify keeps the history of a conversation
// itself. req.ConversationID, when set,
// must be a UUID as Dify issues them (8-4-4-4-12 hex digits): anything else
// is refused before sending, since Dify answers it with a 400. A message
// that is empty, blank, not UTF-8 or longer than [MaxMessageChars] is
// refused the same way, with a [*chatbot.Error] of code
// [chatbot.CodeInvalidRequest].
//
// The reply carries the answer, the conversation and message ids, the usage
// (tokens, price and currency from metadata.usage), the sources (from
// metadata.retriever_resources), [chatbot.FinishComplete] and the raw body.
// Failures Dify reports are [*chatbot.Error] keeping Dify's code in
// ProviderCode (see [ErrorCode]): an unknown conversation is
// [chatbot.ErrNotFound]. A 2xx answer without "answer" (a proxy's page, a
// body that is no chat message) is no reply: a [*chatbot.Error] with
// [chatbot.CodeUnknown] carrying the body, never an empty reply (a present,
// empty answer is one).
//
// See https://docs.dify.ai/en/api-reference/chat-messages/send-chat-message.
func (c *Client) ChatWith(ctx context.Context, req ChatRequest) (*chatbot.Reply, error) {
	call, _, err := c.chatCall(req, false)
	if err != nil {
		return nil, err
	}
	var r chatResponse
	resp, err := c.rest.Do(ctx, call, &r)
	if err != nil {
		return nil, err
	}
	if r.Answer == nil {
		return nil, c.rest.MissingReply(resp, "answer")
	}
	usage, sources := dialect.DifyMetadata(r.Metadata)
	return &chatbot.Reply{
		Text:           *r.Answer,
		ConversationID: r.ConversationID,
		MessageID:      r.messageID(),
		RateLimit:      resp.RateLimit,
		Sources:        sources,
		Usage:          usage,
		FinishReason:   chatbot.FinishComplete,
		Raw:            json.RawMessage(resp.Body),
	}, nil
}

// chatCall validates req and builds the chat call. It returns the user it
// sends, which a stop of the run must repeat.
func (c *Client) chatCall(req ChatRequest, streaming bool) (rest.Call, string, error) {
	if err := c.rest.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return rest.Call{}, "", err
	}
	user, err := c.userOf(req.User.ID)
	if err != nil {
		return rest.Call{}, "", err
	}
	if req.ConversationID != "" {
		if err := c.checkConversation(req.ConversationID); err != nil {
			return rest.Call{}, "", err
		}
	}
	if err := c.rest.CheckField("workflow id", req.WorkflowID); err != nil {
		return rest.Call{}, "", err
	}
	inputs, err := c.inputs(req)
	if err != nil {
		return rest.Call{}, "", err
	}
	mode := "blocking"
	if streaming {
		mode = "streaming"
	}
	call := rest.Call{
		Method: http.MethodPost,
		Path:   "chat-messages",
		Body: chatRequest{
			Query:          req.Message,
			Inputs:         inputs,
			User:           user,
			ResponseMode:   mode,
			ConversationID: req.ConversationID,
			Files:          req.Files,
			WorkflowID:     req.WorkflowID,
		},
	}
	if streaming {
		call.Accept = "text/event-stream"
		call.WatchContent = true // pings must not keep a stalled run open
	}
	return call, user, nil
}

// inputs merges req.Metadata (as strings) under req.Inputs; never nil.
func (c *Client) inputs(req ChatRequest) (map[string]any, error) {
	m := make(map[string]any, len(req.Metadata)+len(req.Inputs))
	for k, v := range req.Metadata {
		if err := c.rest.CheckField("metadata", k+v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	for k := range req.Inputs {
		if err := c.rest.CheckField("input name", k); err != nil {
			return nil, err
		}
	}
	maps.Copy(m, req.Inputs)
	return m, nil
}

// userOf returns the user to send: id, or the client's default.
func (c *Client) userOf(id string) (string, error) {
	if id == "" {
		return c.user, nil
	}
	if err := c.checkUser(id); err != nil {
		return "", err
	}
	return id, nil
}

// checkUser refuses a user id Dify could not store as one.
func (c *Client) checkUser(user string) error {
	if strings.TrimSpace(user) == "" {
		return c.rest.Invalid("user id is empty or blank")
	}
	return c.rest.CheckField("user id", user)
}

// checkConversation refuses a conversation id that is not a UUID as Dify
// issues them: Dify answers anything else with a 400.
func (c *Client) checkConversation(id string) error {
	if !rest.IsUUID(id) {
		return c.rest.Invalid("conversation id must be a UUID as Dify issues them (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
	}
	return nil
}
