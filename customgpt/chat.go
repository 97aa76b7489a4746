package customgpt

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// ResponseSource says which knowledge an answer may draw on.
type ResponseSource string

// The response sources CustomGPT documents.
const (
	// SourceDefault is the project's setting.
	SourceDefault ResponseSource = "default"
	// SourceOwnContent answers from the project's content only.
	SourceOwnContent ResponseSource = "own_content"
	// SourceOpenAIContent lets the model add its own knowledge.
	SourceOpenAIContent ResponseSource = "openai_content"
)

// MessageRequest is one message with every field CustomGPT documents for
// it. Only Prompt is required; a zero field is not sent.
type MessageRequest struct {
	// SessionID is the conversation to send to; empty creates one first
	// (see [Client.SendMessage]).
	SessionID string
	// Prompt is the user's message.
	Prompt string
	// CustomPersona replaces the project's persona for this message.
	CustomPersona string
	// ChatbotModel is the model to answer with ("gpt-4-o",
	// "claude-3.5-sonnet", …), as CustomGPT names it; empty: the
	// project's. It is sent as given: CustomGPT's list changes.
	ChatbotModel string
	// ResponseSource is the knowledge the answer may draw on; empty: not
	// sent. Anything but the three documented values is refused.
	ResponseSource ResponseSource
	// Lang is the language of the prompt (query parameter "lang");
	// empty: CustomGPT's default, "en".
	Lang string
	// ExternalID is your own id for this message (query parameter
	// "external_id", at most 128 characters), kept in its metadata.
	ExternalID string
	// NoCache asks for a fresh answer even when CustomGPT has one cached
	// for the same prompt (header Cache-Control: no-cache).
	NoCache bool
}

// messageBody is the body of POST …/conversations/{sessionId}/messages.
type messageBody struct {
	Prompt         string         `json:"prompt"`
	CustomPersona  string         `json:"custom_persona,omitempty"`
	ChatbotModel   string         `json:"chatbot_model,omitempty"`
	ResponseSource ResponseSource `json:"response_source,omitempty"`
}

// maxExternalIDChars is CustomGPT's limit on ExternalID.
const maxExternalIDChars = 128

// Message is CustomGPT's record of one prompt and its answer.
type Message struct {
	// ID is the message's id (CustomGPT's prompt id); 0 when the answer
	// had none.
	ID int64
	// SessionID is the conversation the message went to.
	SessionID string
	// ConversationID is CustomGPT's numeric id of that conversation.
	ConversationID int64
	// UserID is the id of the user the message is recorded under.
	UserID int64
	// UserQuery is the prompt, as recorded.
	UserQuery string
	// OpenAIResponse is the answer.
	OpenAIResponse string
	// Citations are the ids of the citations of the answer; read what
	// they point to with [Client.Citation].
	Citations []int64
	// CreatedAt and UpdatedAt are the times CustomGPT recorded, as it
	// wrote them.
	CreatedAt, UpdatedAt string
	// RateLimit is the rate-limit state of the response: nil, since
	// CustomGPT sends no X-RateLimit-* headers, unless some appear.
	RateLimit *chatbot.RateLimit
	// Raw is the message's JSON ("data"), for the fields not mapped here
	// (metadata, response_feedback).
	Raw json.RawMessage
}

// wireMessage is a message as CustomGPT sends it. Ids are read from
// numbers or from strings holding them.
type wireMessage struct {
	ID             json.RawMessage `json:"id"`
	UserID         json.RawMessage `json:"user_id"`
	UserQuery      string          `json:"user_query"`
	OpenAIResponse *string         `json:"openai_response"` // nil: absent, no answer
	CreatedAt      string          `json:"created_at"`
	UpdatedAt      string          `json:"updated_at"`
	ConversationID json.RawMessage `json:"conversation_id"`
	Citations      json.RawMessage `json:"citations"`
}

// message maps the data of an answer onto a Message. Data without
// "openai_response" (absent, not present and empty) is no answer: an error
// carrying the body, never an empty answer.
func (c *Client) message(raw json.RawMessage, sessionID string, resp *rest.Response) (*Message, error) {
	var w wireMessage
	if err := c.rc.DecodeJSON(&rest.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: raw}, &w); err != nil {
		return nil, err
	}
	if w.OpenAIResponse == nil {
		return nil, c.rc.MissingReply(resp, "data.openai_response")
	}
	m := &Message{
		ID:             intOf(w.ID),
		SessionID:      sessionID,
		ConversationID: intOf(w.ConversationID),
		UserID:         intOf(w.UserID),
		UserQuery:      w.UserQuery,
		OpenAIResponse: *w.OpenAIResponse,
		CreatedAt:      w.CreatedAt,
		UpdatedAt:      w.UpdatedAt,
		RateLimit:      resp.RateLimit,
		Raw:            raw,
	}
	for _, s := range dialect.CitationSources(w.Citations) {
		if id, err := strconv.ParseInt(s.ID, 10, 64); err == nil {
			m.Citations = append(m.Citations, id)
		}
	}
	return m, nil
}

// intOf reads an id written as a JSON number or a string holding one; 0
// when it is neither.
func intOf(raw json.RawMessage) int64 {
	n, _ := strconv.ParseInt(dialect.FirstText(raw), 10, 64)
	return n
}

// reply is the [chatbot.Reply] of a message.
func (m *Message) reply() *chatbot.Reply {
	r := &chatbot.Reply{
		Text:           m.OpenAIResponse,
		ConversationID: m.SessionID,
		RateLimit:      m.RateLimit,
		Sources:        citationSources(m.Citations),
		Raw:            m.Raw,
	}
	if m.ID != 0 {
		r.MessageID = strconv.FormatInt(m.ID, 10)
	}
	return r
}

// citationSources are the sources of citation ids, carrying only the ids.
func citationSources(ids []int64) []chatbot.Source {
	if len(ids) == 0 {
		return nil
	}
	sources := make([]chatbot.Source, len(ids))
	for i, id := range ids {
		sources[i].ID = strconv.FormatInt(id, 10)
	}
	return sources
}

// SendMessage sends one message with every documented field and waits for
// the whole answer. With an empty req.SessionID it first creates a
// conversation ([Client.CreateConversation]) and sends to it; if the
// message then fails, the error is a [*ConversationError] naming that
// conversation. req is validated before anything is sent, the conversation
// included.
//
// Failures CustomGPT reports are [*chatbot.Error]: an unknown project or
// conversation is [chatbot.ErrNotFound], a bad key [chatbot.ErrUnauthorized],
// and a 429, CustomGPT's answer once the account's query credits are
// exhausted, [chatbot.ErrQuotaExceeded], never retried (unless its message
// speaks of a rate limit: then [chatbot.ErrRateLimited]). A message is
// never sent twice.
//
// API reference: https://docs.customgpt.ai/reference/post_api-v1-projects-projectid-conversations-sessionid-messages
func (c *Client) SendMessage(ctx context.Context, req MessageRequest) (*Message, error) {
	call, err := c.messageCall(req, false)
	if err != nil {
		return nil, err
	}
	sessionID, created, err := c.session(ctx, c.rc, req.SessionID)
	if err != nil {
		return nil, err
	}
	if call.Path, err = c.messagesPath(sessionID); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	resp, err := do(ctx, c, c.rc, call, &raw)
	if err != nil {
		return nil, c.afterCreate(created, sessionID, err)
	}
	return c.message(raw, sessionID, resp)
}

// session returns sessionID, or when it is empty the session id of a
// conversation it creates through d, and whether it created one.
func (c *Client) session(ctx context.Context, d rest.Doer, sessionID string) (string, bool, error) {
	if sessionID != "" {
		return sessionID, false, nil
	}
	conv, err := c.createConversation(ctx, d, "")
	if err != nil {
		return "", false, err
	}
	return conv.SessionID, true, nil
}

// afterCreate wraps the error of a message sent to a conversation the SDK
// created for it.
func (c *Client) afterCreate(created bool, sessionID string, err error) error {
	if !created || err == nil {
		return err
	}
	return c.rc.Safe(&ConversationError{SessionID: sessionID, Err: err})
}

// messagesPath is the path of the messages of the conversation sessionID.
func (c *Client) messagesPath(sessionID string) (string, error) {
	return c.rc.Path("api/v1/projects/%s/conversations/%s/messages", c.projectID, sessionID)
}

// messageCall validates req and builds its call, all but the path, which
// names the conversation.
func (c *Client) messageCall(req MessageRequest, streaming bool) (rest.Call, error) {
	if err := c.rc.CheckMessage(req.Prompt, MaxMessageChars); err != nil {
		return rest.Call{}, err
	}
	for _, f := range [][2]string{{"session id", req.SessionID}, {"custom persona", req.CustomPersona},
		{"chatbot model", req.ChatbotModel}, {"lang", req.Lang}, {"external id", req.ExternalID}} {
		if err := c.rc.CheckField(f[0], f[1]); err != nil {
			return rest.Call{}, err
		}
	}
	if req.SessionID != "" {
		if _, err := c.messagesPath(req.SessionID); err != nil {
			return rest.Call{}, err
		}
	}
	switch req.ResponseSource {
	case "", SourceDefault, SourceOwnContent, SourceOpenAIContent:
	default:
		return rest.Call{}, c.rc.Invalid("response source must be default, own_content or openai_content")
	}
	if utf8.RuneCountInString(req.ExternalID) > maxExternalIDChars {
		return rest.Call{}, c.rc.Invalid("external id is longer than 128 characters")
	}
	call := rest.Call{
		Method: http.MethodPost,
		Body: messageBody{Prompt: req.Prompt, CustomPersona: req.CustomPersona, ChatbotModel: req.ChatbotModel,
			ResponseSource: req.ResponseSource},
		// The official SDK sends stream as 1 or 0, which a server validating
		// a boolean accepts where it may refuse "true".
		Query: url.Values{"stream": {"0"}},
	}
	if streaming {
		call.Query.Set("stream", "1")
		call.Accept = "text/event-stream"
	}
	if req.Lang != "" {
		call.Query.Set("lang", req.Lang)
	}
	if req.ExternalID != "" {
		call.Query.Set("external_id", req.ExternalID)
	}
	if req.NoCache {
		call.Header = http.Header{"Cache-Control": {"no-cache"}}
	}
	return call, nil
}

// Chat sends req.Message and waits for the whole answer. An empty
// req.ConversationID creates a conversation first, whose session id is the
// reply's ConversationID; if the message then fails, the error is a
// [*ConversationError] naming it. The reply's MessageID is CustomGPT's
// prompt id, its Sources carry the answer's citation ids only (resolve them
// with [Client.ResolveSources]: Chat makes no extra request per citation),
// and Raw is the answer's "data". req.Metadata, req.User and req.History
// are not sent: CustomGPT keeps the history on its server, and
// [Client.SendMessage] takes its other fields. Errors are as for
// [Client.SendMessage].
//
// API reference: https://docs.customgpt.ai/reference/post_api-v1-projects-projectid-conversations-sessionid-messages
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	m, err := c.SendMessage(ctx, MessageRequest{SessionID: req.ConversationID, Prompt: req.Message})
	if err != nil {
		return nil, err
	}
	return m.reply(), nil
}
