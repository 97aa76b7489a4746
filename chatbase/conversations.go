package chatbase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// MaxPageLimit is the largest page Chatbase serves (doc); its default is 20.
const MaxPageLimit = 100

// ListOptions tunes the lists ([Client.Conversations],
// [Client.UserConversations], [Client.Messages]). The zero value lists
// everything from the start, in pages of Chatbase's default size.
type ListOptions struct {
	// Limit is the page size, 1 to [MaxPageLimit]; 0 leaves it to Chatbase
	// (20). It changes how many requests a list makes, not what it yields.
	Limit int

	// Cursor starts the list where an earlier page ended; empty starts at
	// the beginning.
	Cursor string
}

// ConversationStatus says whether a conversation takes messages.
type ConversationStatus string

// The conversation statuses (seen in Chatbase's SDKs).
const (
	StatusOngoing   ConversationStatus = "ongoing"    // the agent answers
	StatusEnded     ConversationStatus = "ended"      // closed: start a new conversation
	StatusTakenOver ConversationStatus = "taken_over" // a human answers: the API gets CHAT_CONVERSATION_NOT_ONGOING
)

// Conversation is one Chatbase conversation. Only conversations created
// through the API are listed (doc). A field Chatbase did not send is zero.
type Conversation struct {
	ID        string
	Title     string
	UserID    string
	Status    ConversationStatus
	CreatedAt time.Time
	UpdatedAt time.Time

	// Raw is the conversation object as received, for fields the SDK does
	// not map.
	Raw json.RawMessage
}

// UnmarshalJSON decodes a conversation and keeps the object in Raw.
// Timestamps are read as unix milliseconds, unix seconds or RFC 3339 text.
func (cv *Conversation) UnmarshalJSON(b []byte) error {
	var v struct {
		ID        string             `json:"id"`
		Title     string             `json:"title"`
		UserID    string             `json:"userId"`
		Status    ConversationStatus `json:"status"`
		CreatedAt timestamp          `json:"createdAt"`
		UpdatedAt timestamp          `json:"updatedAt"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*cv = Conversation{ID: v.ID, Title: v.Title, UserID: v.UserID, Status: v.Status,
		CreatedAt: time.Time(v.CreatedAt), UpdatedAt: time.Time(v.UpdatedAt), Raw: bytes.Clone(b)}
	return nil
}

// Message is one message of a conversation.
type Message struct {
	ID        string
	Role      string // "user" or "assistant"
	Parts     []Part
	CreatedAt time.Time

	// Raw is the message object as received (feedback, score…).
	Raw json.RawMessage
}

// Text returns the text parts of the message, joined.
func (m *Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// UnmarshalJSON decodes a message and keeps the object in Raw.
func (m *Message) UnmarshalJSON(b []byte) error {
	var v struct {
		ID        string    `json:"id"`
		Role      string    `json:"role"`
		Parts     []Part    `json:"parts"`
		CreatedAt timestamp `json:"createdAt"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Message{ID: v.ID, Role: v.Role, Parts: v.Parts, CreatedAt: time.Time(v.CreatedAt), Raw: bytes.Clone(b)}
	return nil
}

// Part is one part of a message: text, or a tool call and its result (the
// AI SDK's UI message parts, as Chatbase's SDKs read them).
type Part struct {
	Type       string          `json:"type"`       // "text", "tool-call", "tool-result", …
	Text       string          `json:"text"`       // of a "text" part
	ToolCallID string          `json:"toolCallId"` // of a tool part
	ToolName   string          `json:"toolName"`   // of a tool part
	Input      json.RawMessage `json:"input"`      // of a "tool-call" part
	Output     json.RawMessage `json:"output"`     // of a "tool-result" part
}

// timestamp reads unix milliseconds, unix seconds or RFC 3339 text; anything
// else (null, absent) is the zero time.
type timestamp time.Time

func (t *timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
			*t = timestamp(v)
		}
		return nil
	}
	var n float64
	if json.Unmarshal(b, &n) == nil && n > 0 && n < 1e15 {
		if n > 1e12 {
			*t = timestamp(time.UnixMilli(int64(n)))
		} else {
			*t = timestamp(time.Unix(int64(n), 0))
		}
	}
	return nil
}

// Conversations lists the agent's conversations that were created through
// the API, in the order Chatbase lists them, fetching page after page as the
// loop advances. The sequence is lazy: nothing is sent before the loop
// starts, and breaking out stops fetching. Each iteration starts again from
// opts.Cursor.
//
// An error is yielded once, as the last pair: a Limit outside 0 to
// [MaxPageLimit] is a [*chatbot.Error] with [chatbot.CodeInvalidRequest],
// failures Chatbase reports are [*chatbot.Error], and a server that hands
// back a cursor it already gave ends the list with an error instead of
// looping.
//
// See https://www.chatbase.co/docs/api-v2/pagination.
func (c *Client) Conversations(ctx context.Context, opts ListOptions) iter.Seq2[Conversation, error] {
	return list[Conversation](c, ctx, "conversations", opts, "agents/%s/conversations", c.agentID)
}

// UserConversations is [Client.Conversations] for the conversations of one
// user, the userId a conversation was started with
// ([chatbot.Request.User].ID).
//
// See https://www.chatbase.co/docs/api-v2/user-conversations.
func (c *Client) UserConversations(ctx context.Context, userID string, opts ListOptions) iter.Seq2[Conversation, error] {
	return list[Conversation](c, ctx, "user conversations", opts, "agents/%s/users/%s/conversations", c.agentID, userID)
}

// Messages lists the messages of the conversation conversationID, page after
// page, as [Client.Conversations] lists conversations. An unknown
// conversation is a [*chatbot.Error] matching [chatbot.ErrNotFound].
//
// See https://www.chatbase.co/docs/api-v2/pagination.
func (c *Client) Messages(ctx context.Context, conversationID string, opts ListOptions) iter.Seq2[Message, error] {
	return list[Message](c, ctx, "messages", opts, "agents/%s/conversations/%s/messages", c.agentID, conversationID)
}

// page is one page of a list (doc): {"data": […], "pagination": {"cursor",
// "hasMore", "total"}}; the pagination fields are also read from the top
// level.
type page[T any] struct {
	Data []T `json:"data"`
	pagination
	Pagination *pagination `json:"pagination"`
}

type pagination struct {
	Cursor  *string `json:"cursor"`
	HasMore *bool   `json:"hasMore"`
}

// next returns the cursor of the next page, or false at the end.
func (p *page[T]) next() (string, bool) {
	pg := p.pagination
	if p.Pagination != nil {
		pg = *p.Pagination
	}
	if pg.Cursor == nil || *pg.Cursor == "" || (pg.HasMore != nil && !*pg.HasMore) {
		return "", false
	}
	return *pg.Cursor, true
}

// list is the lazy cursor pagination behind every list.
func list[T any](c *Client, ctx context.Context, what string, opts ListOptions, format string, segments ...string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if opts.Limit < 0 || opts.Limit > MaxPageLimit {
			yield(zero, c.rest.Invalid(fmt.Sprintf("%s: limit %d is outside 1 to %d", what, opts.Limit, MaxPageLimit)))
			return
		}
		path, err := c.rest.Path(format, segments...)
		if err != nil {
			yield(zero, err)
			return
		}
		cursor := opts.Cursor
		seen := map[string]bool{}
		for {
			q := url.Values{}
			if opts.Limit > 0 {
				q.Set("limit", strconv.Itoa(opts.Limit))
			}
			if cursor != "" {
				q.Set("cursor", cursor)
				seen[cursor] = true
			}
			var p page[T]
			if _, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path, Query: q}, &p); err != nil {
				yield(zero, withSentinel(err))
				return
			}
			for _, v := range p.Data {
				if !yield(v, nil) {
					return
				}
			}
			next, ok := p.next()
			switch {
			case !ok:
				return
			case seen[next]:
				// A server that ignores the cursor would be listed forever.
				yield(zero, fmt.Errorf("%s: %s: the server returned cursor %q again", provider, what, next))
				return
			}
			cursor = next
		}
	}
}
