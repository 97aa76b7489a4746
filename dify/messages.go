package dify

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Message is one turn of a Dify conversation: the user's query and the
// app's answer. A field Dify did not send is zero.
type Message struct {
	ID             string
	ConversationID string
	Query          string
	Answer         string
	Inputs         map[string]any
	Sources        []chatbot.Source // from retriever_resources
	Rating         Rating           // the feedback given, or "" for none
	CreatedAt      time.Time

	// Raw is the message object as received, for fields the SDK does not
	// map (message_files, agent_thoughts, …).
	Raw json.RawMessage
}

// UnmarshalJSON decodes a message as Dify sends it and keeps the object in
// Raw.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                 string            `json:"id"`
		ConversationID     string            `json:"conversation_id"`
		Query              string            `json:"query"`
		Answer             string            `json:"answer"`
		Inputs             map[string]any    `json:"inputs"`
		RetrieverResources []json.RawMessage `json:"retriever_resources"`
		Feedback           *struct {
			Rating Rating `json:"rating"`
		} `json:"feedback"`
		CreatedAt int64 `json:"created_at"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Message{
		ID: w.ID, ConversationID: w.ConversationID, Query: w.Query, Answer: w.Answer, Inputs: w.Inputs,
		Sources: dialect.DifySources(w.RetrieverResources), CreatedAt: unix(w.CreatedAt), Raw: bytes.Clone(b),
	}
	if w.Feedback != nil {
		m.Rating = w.Feedback.Rating
	}
	return nil
}

// Messages lists the messages of the conversation conversationID of
// opts.User (default: the client's default user), newest first, fetching
// older pages (Dify's first_id cursor) as the loop advances until Dify says
// there is no more. Within a page Dify sends the oldest first; the SDK
// reverses a page whose first message is not newer than its last, so that
// the order is newest first whichever order the server used. The sequence is lazy and can be ranged again; breaking out stops
// fetching.
//
// Errors are yielded once, as the last pair, as for [Client.Conversations];
// an id that is not a UUID is refused before sending, and an unknown
// conversation is a [*chatbot.Error] matching [chatbot.ErrNotFound].
//
// See https://docs.dify.ai/en/api-reference/conversations/get-conversation-history-messages.
func (c *Client) Messages(ctx context.Context, conversationID string, opts ListOptions) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		if err := c.checkConversation(conversationID); err != nil {
			yield(Message{}, err)
			return
		}
		q, err := c.listQuery(opts)
		if err != nil {
			yield(Message{}, err)
			return
		}
		q.Set("conversation_id", conversationID)
		list := lister[Message]{c: c, path: "messages", cursor: "first_id", id: func(m Message) string { return m.ID }, arrange: newestFirst}
		list.all(ctx, q, yield)
	}
}

// newestFirst reverses a page of messages in Dify's order, oldest first (or
// all of one timestamp), so that the list runs from the newest to the
// oldest and the last message of each page is the cursor of the next.
func newestFirst(page []Message) {
	if n := len(page); n > 1 && !page[0].CreatedAt.After(page[n-1].CreatedAt) {
		slices.Reverse(page)
	}
}

// Rating is the feedback on a message.
type Rating string

// The ratings. RatingNone clears a rating given before (sent as null).
const (
	RatingLike    Rating = "like"
	RatingDislike Rating = "dislike"
	RatingNone    Rating = ""
)

// Feedback rates the message messageID on behalf of user (empty: the
// client's default user): [RatingLike], [RatingDislike], or [RatingNone] to
// clear it; content is an optional comment. Another rating is refused
// before sending with [chatbot.CodeInvalidRequest]; an unknown message is a
// [*chatbot.Error] matching [chatbot.ErrNotFound].
//
// See https://docs.dify.ai/en/api-reference/feedback/submit-message-feedback.
func (c *Client) Feedback(ctx context.Context, messageID, user string, rating Rating, content string) error {
	path, err := c.rest.Path("messages/%s/feedbacks", messageID)
	if err != nil {
		return err
	}
	if user, err = c.userOf(user); err != nil {
		return err
	}
	if rating != RatingLike && rating != RatingDislike && rating != RatingNone {
		return c.rest.Invalid("rating must be like, dislike or none")
	}
	if err := c.rest.CheckField("feedback content", content); err != nil {
		return err
	}
	body := struct {
		Rating  *Rating `json:"rating"` // null clears
		User    string  `json:"user"`
		Content string  `json:"content,omitempty"`
	}{User: user, Content: content}
	if rating != RatingNone {
		body.Rating = &rating
	}
	_, err = c.rest.Do(ctx, rest.Call{Method: http.MethodPost, Path: path, Body: body}, nil)
	return err
}

// Suggested returns the follow-up questions Dify suggests after the answer
// messageID, for user (empty: the client's default user). The app must
// have "suggested questions after answer" enabled; otherwise Dify answers
// with an error. An unknown message is a [*chatbot.Error] matching
// [chatbot.ErrNotFound].
//
// See https://docs.dify.ai/en/api-reference/chat-messages/get-next-suggested-questions.
func (c *Client) Suggested(ctx context.Context, messageID, user string) ([]string, error) {
	path, err := c.rest.Path("messages/%s/suggested", messageID)
	if err != nil {
		return nil, err
	}
	if user, err = c.userOf(user); err != nil {
		return nil, err
	}
	var out struct {
		Data []string `json:"data"`
	}
	if _, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path, Query: url.Values{"user": {user}}}, &out); err != nil {
		return nil, err
	}
	if out.Data == nil {
		out.Data = []string{}
	}
	return out.Data, nil
}
