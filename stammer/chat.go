package stammer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// MessageRequest is one message for [Client.Message], field for field what
// Stammer's message endpoint accepts. The zero value is not valid: Query is
// required.
type MessageRequest struct {
	// Query is the user's message: non-empty valid UTF-8 without NUL bytes,
	// at most [MaxMessageChars] characters.
	Query string

	// UserKey identifies the person; Stammer continues the conversation per
	// user_key. Empty means a fresh random key (a new conversation), returned
	// in [MessageResponse.UserKey].
	UserKey string

	// CustomBaseSystemPrompt, when non-empty, replaces the chatbot's own
	// base system prompt for this message.
	CustomBaseSystemPrompt string
}

// MessageResponse is Stammer's answer to one message.
type MessageResponse struct {
	// Message is the API's status text, such as "Chatbot successfully answered.".
	Message string

	// Answer is the chatbot's reply (data.answer).
	Answer string

	// ChatID is the id of this exchange (data.chat_id, an integer on the
	// wire, kept as its decimal text); empty if the response carried none.
	ChatID string

	// UserKey is the user_key the message was sent with; pass it back to
	// continue the conversation.
	UserKey string

	// StatusCode is the HTTP status: 200, 201 or 202 all mean success.
	StatusCode int

	// RateLimit is the rate-limit state the response reported, or nil (Stammer
	// publishes no rate-limit headers).
	RateLimit *chatbot.RateLimit

	// Raw is the response body, for fields the SDK does not map.
	Raw json.RawMessage
}

// messageBody is the JSON body of POST chatbot/api/v1/message/.
type messageBody struct {
	ChatbotUUID            string `json:"chatbot_uuid"`
	Query                  string `json:"query"`
	UserKey                string `json:"user_key"`
	CustomBaseSystemPrompt string `json:"custom_base_system_prompt,omitempty"`
}

// messageEnvelope is the success body:
// {"message": "Chatbot successfully answered.", "data": {"answer": "…", "chat_id": 634}}.
type messageEnvelope struct {
	Message json.RawMessage `json:"message"`
	Data    *struct {
		Answer  json.RawMessage `json:"answer"` // empty when absent; null is an empty answer
		ChatID  flexID          `json:"chat_id"`
		UserKey string          `json:"user_key"`
	} `json:"data"`
}

// flexID is an id sent as a JSON number or a string; null leaves it empty.
type flexID string

func (id *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a number nor a string: %w", err)
	}
	*id = flexID(n.String())
	return nil
}

// Message sends one message to the chatbot and returns Stammer's typed
// response. Unlike [Client.Chat] it can set a custom base system prompt and
// reports the API's own status text.
//
// An invalid request (empty or over-long query, malformed user key) is
// refused before sending with a *[chatbot.Error] of code
// [chatbot.CodeInvalidRequest]; errors the API reports are *[chatbot.Error]
// too. The message is never sent twice: it is retried only when it provably
// never left or Stammer refused it unprocessed (429).
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api/ai-agent-api/message-ai-agent
func (c *Client) Message(ctx context.Context, req MessageRequest) (*MessageResponse, error) {
	return c.message(ctx, c.rest, req)
}

// message is Message, sending through d.
func (c *Client) message(ctx context.Context, d rest.Doer, req MessageRequest) (*MessageResponse, error) {
	body, err := c.messageBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := d.Do(ctx, rest.Call{Method: http.MethodPost, Path: pathMessage, Body: body}, nil)
	if err != nil {
		return nil, err
	}
	out, err := c.decodeMessage(resp)
	if err != nil {
		return nil, err
	}
	out.UserKey = body.UserKey
	return out, nil
}

// messageBody validates req and builds the wire body, choosing a random
// user_key when req has none.
func (c *Client) messageBody(req MessageRequest) (messageBody, error) {
	if err := c.rest.CheckMessage(req.Query, MaxMessageChars); err != nil {
		return messageBody{}, err
	}
	key := req.UserKey
	if key == "" {
		var err error
		if key, err = newUserKey(); err != nil {
			return messageBody{}, err
		}
	} else if err := c.checkText("user key", key); err != nil {
		return messageBody{}, err
	}
	if req.CustomBaseSystemPrompt != "" {
		if err := c.checkText("custom base system prompt", req.CustomBaseSystemPrompt); err != nil {
			return messageBody{}, err
		}
	}
	return messageBody{
		ChatbotUUID:            c.chatbotUUID,
		Query:                  req.Query,
		UserKey:                key,
		CustomBaseSystemPrompt: req.CustomBaseSystemPrompt,
	}, nil
}

// checkText refuses a caller's string that is blank, not UTF-8, or carries a
// NUL byte.
func (c *Client) checkText(what, s string) error {
	if strings.TrimSpace(s) == "" {
		return c.rest.Invalid(what + " is blank")
	}
	return c.rest.CheckField(what, s)
}

// decodeMessage maps a 2xx body. A JSON body without a data object is
// Stammer reporting a failure with a success status, returned as a
// *chatbot.Error; so is a data object without an answer (absent; a null or
// empty answer is an empty one), which is no reply.
func (c *Client) decodeMessage(resp *rest.Response) (*MessageResponse, error) {
	var env messageEnvelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return nil, c.rest.Safe(fmt.Errorf("stammer: message: decoding %d response: %w", resp.StatusCode, err))
	}
	if env.Data == nil {
		e := c.rest.ErrorFor(resp)
		if e.Message == "" {
			e.Message = "response has no data"
		}
		return nil, e
	}
	out := &MessageResponse{
		Message:    jsonText(env.Message),
		ChatID:     string(env.Data.ChatID),
		StatusCode: resp.StatusCode,
		RateLimit:  resp.RateLimit,
		Raw:        json.RawMessage(resp.Body),
	}
	if len(env.Data.Answer) == 0 {
		return nil, c.rest.MissingReply(resp, "data.answer")
	}
	if err := json.Unmarshal(env.Data.Answer, &out.Answer); err != nil {
		return nil, c.rest.Safe(fmt.Errorf("stammer: message: decoding %d response: answer: %w", resp.StatusCode, err))
	}
	return out, nil
}

// jsonText returns raw as a string when it is a JSON string, else "".
func jsonText(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// Chat sends req.Message and waits for the whole reply. The user_key sent is
// req.ConversationID when set, else req.User.ID when set, else a fresh
// random key; [chatbot.Reply.ConversationID] is that key, so passing it back
// continues the conversation. [chatbot.Reply.MessageID] is data.chat_id and
// Raw the response body. User names, emails and Metadata are not sent:
// Stammer has no field for them.
//
// The message may be at most [MaxMessageChars] characters; a longer or
// otherwise invalid one is refused before sending with a *[chatbot.Error] of
// code [chatbot.CodeInvalidRequest]. Errors the API reports are
// *[chatbot.Error] too.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api/ai-agent-api/message-ai-agent
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	resp, err := c.message(ctx, c.rest, messageRequest(req))
	if err != nil {
		return nil, err
	}
	return &chatbot.Reply{
		Text:           resp.Answer,
		ConversationID: resp.UserKey,
		MessageID:      resp.ChatID,
		RateLimit:      resp.RateLimit,
		Raw:            resp.Raw,
	}, nil
}

// messageRequest chooses the user_key for a shared request.
func messageRequest(req chatbot.Request) MessageRequest {
	key := req.ConversationID
	if key == "" {
		key = req.User.ID
	}
	return MessageRequest{Query: req.Message, UserKey: key}
}

// Stream sends req as [Client.Chat] does and yields the reply. Stammer does
// not stream: the whole reply arrives at once and is yielded as one final
// chunk (Done set) carrying the text, the conversation id (the user_key) and
// the message id. The sequence is lazy and single-use: nothing is sent until
// the loop starts, and a second range yields only an error wrapping
// [chatbot.ErrStreamUsed]. An error, including a refused request, is yielded
// as the only pair; it is a *[chatbot.Error] when Stammer reported it.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api/ai-agent-api/message-ai-agent
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.rest.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		resp, err := c.message(ctx, g, messageRequest(req))
		if err != nil {
			return err
		}
		w.SetResponse(&rest.Response{StatusCode: resp.StatusCode, RateLimit: resp.RateLimit})
		w.SetIDs(resp.UserKey, resp.ChatID)
		w.Final(resp.Answer)
		return nil
	})
}
