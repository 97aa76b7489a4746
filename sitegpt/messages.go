package sitegpt

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// From says who sends a message with [Client.SendMessage].
type From string

// The senders SiteGPT accepts.
const (
	FromUser  From = "USER"  // a visitor's message, answered by the chatbot (the default)
	FromAgent From = "AGENT" // a human agent's message into an existing thread
)

// MessageRequest is one message for [Client.SendMessage]. Only Message is
// required.
type MessageRequest struct {
	// Message is the text sent. It must be non-empty valid UTF-8 without NUL
	// bytes, at most [MaxMessageChars] characters.
	Message string

	// ThreadID continues that thread. Empty starts a new thread; it is
	// required when From is FromAgent.
	ThreadID string

	// From is FromUser (the default when empty) or FromAgent.
	From From

	// AgentName and IconURL present an agent's message; both are optional.
	AgentName string
	IconURL   string
}

// Message is a message of a SiteGPT thread: a question and the chatbot's (or
// an agent's) answer. A field SiteGPT did not send is zero.
type Message struct {
	ID           string       `json:"id"`           // the message id (a decimal string); "messageId" is accepted too
	Question     *MessageText `json:"question"`     // nil when SiteGPT sent null (an agent's message)
	Answer       *MessageText `json:"answer"`       // nil when SiteGPT sent null
	Sources      []Source     `json:"sources"`      // the pages the answer drew on
	GPTModel     string       `json:"gptModel"`     // "gpt-3.5-turbo", …
	Reaction     string       `json:"reaction"`     // "NEUTRAL", …
	ThreadID     string       `json:"threadId"`     // the thread the message belongs to
	MessageType  string       `json:"messageType"`  // "AGENT_MESSAGE", …
	IconURL      string       `json:"iconUrl"`      // an agent's icon
	AgentName    string       `json:"agentName"`    // an agent's name
	Prompts      []Prompt     `json:"prompts"`      // follow-up prompts offered with the answer
	SmartPrompts []string     `json:"smartPrompts"` // generated follow-up questions
	ChatbotID    string       `json:"chatbotId"`    // the chatbot that answered

	// Raw is the message object as received, for fields the SDK does not
	// map. It is never encoded.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a message as SiteGPT sends it, accepting its id as
// "id" (message endpoint) or "messageId" (thread endpoint), and keeps the
// object in Raw. JSON null leaves m unchanged.
func (m *Message) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	type plain Message // without the method
	var v struct {
		plain
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Message(v.plain)
	if m.ID == "" {
		m.ID = v.MessageID
	}
	m.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Text returns the answer's text, or "" when the answer is nil.
func (m *Message) Text() string {
	if m == nil || m.Answer == nil {
		return ""
	}
	return m.Answer.Text
}

// MessageText is the question or the answer of a [Message].
type MessageText struct {
	Text      string    `json:"text"`
	Timestamp time.Time `json:"timestamp"` // zero when SiteGPT sent none
}

// Prompt is a follow-up prompt offered with an answer.
type Prompt struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Source is a source of an answer. SiteGPT sends each either as a string (a
// URL) or as an object; URL and Title are filled from whichever was sent, and
// Raw keeps the element verbatim.
type Source struct {
	URL   string          // the string itself, or the object's "url" (or "link")
	Title string          // the object's "title" (or "name"); "" for a string
	Raw   json.RawMessage // the element as received
}

// UnmarshalJSON decodes a string or an object. Any other JSON value is kept
// in Raw only, so an unexpected element never fails the whole message.
func (s *Source) UnmarshalJSON(b []byte) error {
	*s = Source{Raw: append(json.RawMessage(nil), b...)}
	var url string
	if json.Unmarshal(b, &url) == nil {
		s.URL = url
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return nil
	}
	s.URL = firstString(obj, "url", "link", "source")
	s.Title = firstString(obj, "title", "name")
	return nil
}

// MarshalJSON encodes Raw when set, otherwise the URL as a string, or an
// object with url and title when Title is set.
func (s Source) MarshalJSON() ([]byte, error) {
	switch {
	case len(s.Raw) > 0:
		return s.Raw, nil
	case s.Title == "":
		return json.Marshal(s.URL)
	}
	return json.Marshal(struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	}{s.URL, s.Title})
}

// firstString returns the first of keys whose value in obj is a string.
func firstString(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		var v string
		if json.Unmarshal(obj[k], &v) == nil && v != "" {
			return v
		}
	}
	return ""
}

// messageBody is the JSON body of POST chatbots/{chatbotId}/message.
type messageBody struct {
	Message   string `json:"message"`
	ThreadID  string `json:"threadId,omitempty"`
	From      From   `json:"from"`
	AgentName string `json:"agentName,omitempty"`
	IconURL   string `json:"iconUrl,omitempty"`
}

// SendMessage sends req into a thread (a new one when req.ThreadID is empty)
// and returns the whole message, answer included, once SiteGPT has answered.
// Message.ThreadID is always set to the thread the message went to.
//
// An invalid request (empty message, FromAgent without a ThreadID, an unknown
// From) is refused before sending with a [*chatbot.Error] of code
// [chatbot.CodeInvalidRequest]; failures SiteGPT reports are also
// [*chatbot.Error]. The message is never sent twice.
//
// https://sitegpt.ai/docs/api-reference/chatbot-messages/send-message
func (c *Client) SendMessage(ctx context.Context, req MessageRequest) (*Message, error) {
	m, _, err := c.sendMessage(ctx, c.rest, req)
	return m, err
}

// sendMessage is SendMessage, sending through d and also returning the
// response for Chat.
func (c *Client) sendMessage(ctx context.Context, d rest.Doer, req MessageRequest) (*Message, *rest.Response, error) {
	if err := c.rest.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return nil, nil, err
	}
	from := req.From
	switch from {
	case "":
		from = FromUser
	case FromUser:
	case FromAgent:
		if req.ThreadID == "" {
			return nil, nil, c.rest.Invalid("a message from AGENT needs a thread id")
		}
	default:
		return nil, nil, c.rest.Invalid(`from must be "USER" or "AGENT"`)
	}
	if req.ThreadID != "" {
		if err := c.checkID("thread id", req.ThreadID); err != nil {
			return nil, nil, err
		}
	}
	path, err := c.rest.Path("chatbots/%s/message", c.chatbotID)
	if err != nil {
		return nil, nil, err
	}
	body := messageBody{Message: req.Message, ThreadID: req.ThreadID, From: from, AgentName: req.AgentName, IconURL: req.IconURL}
	var data struct {
		Message  *Message `json:"message"`
		ThreadID string   `json:"threadId"`
	}
	resp, err := c.do(ctx, d, "send message", rest.Call{Method: http.MethodPost, Path: path, Body: body}, &data)
	if err != nil {
		return nil, nil, err
	}
	if data.Message == nil {
		return nil, nil, errNoData("send message", "data.message")
	}
	m := data.Message
	for _, id := range []string{m.ThreadID, data.ThreadID, req.ThreadID} {
		if m.ThreadID == "" {
			m.ThreadID = id
		}
	}
	return m, resp, nil
}
