package dify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// Limits of Dify's list endpoints.
const (
	DefaultPageLimit = 20  // items per request when ListOptions.Limit is 0
	MaxPageLimit     = 100 // the largest page Dify serves
)

// ListOptions tunes [Client.Conversations] and [Client.Messages]. The zero
// value lists everything of the client's default user, [DefaultPageLimit]
// per request.
type ListOptions struct {
	// User is the end user whose items are listed (Dify keeps them per
	// user); empty means the client's default user.
	User string

	// Limit is the page size, 1 to [MaxPageLimit]; 0 means
	// [DefaultPageLimit].
	Limit int
}

// Conversation is a Dify conversation. A field Dify did not send is zero.
type Conversation struct {
	ID           string
	Name         string
	Inputs       map[string]any // the inputs the conversation started with
	Status       string         // "normal"
	Introduction string
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// Raw is the conversation object as received, for fields the SDK does
	// not map.
	Raw json.RawMessage
}

// wireConversation is a conversation as Dify sends it, with unix seconds.
type wireConversation struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Inputs       map[string]any `json:"inputs"`
	Status       string         `json:"status"`
	Introduction string         `json:"introduction"`
	CreatedAt    int64          `json:"created_at"`
	UpdatedAt    int64          `json:"updated_at"`
}

// UnmarshalJSON decodes a conversation as Dify sends it and keeps the
// object in Raw.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	var w wireConversation
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Conversation{
		ID: w.ID, Name: w.Name, Inputs: w.Inputs, Status: w.Status, Introduction: w.Introduction,
		CreatedAt: unix(w.CreatedAt), UpdatedAt: unix(w.UpdatedAt), Raw: bytes.Clone(b),
	}
	return nil
}

// unix converts Dify's unix seconds; 0 is the zero time.
func unix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// page is one page of a Dify list.
type page[T any] struct {
	HasMore bool `json:"has_more"`
	Data    []T  `json:"data"`
}

// Conversations lists the conversations of opts.User (default: the
// client's default user), most recently updated first, fetching page after
// page (Dify's last_id cursor) as the loop advances until Dify says there
// is no more. The sequence is lazy: nothing is sent before the loop starts,
// and breaking out stops fetching. Each iteration starts again from the
// newest.
//
// An error is yielded once, as the last pair: a Limit outside 0 to
// [MaxPageLimit] or an invalid user is a [*chatbot.Error] with
// [chatbot.CodeInvalidRequest], failures Dify reports are
// [*chatbot.Error], and a server that ignores the cursor (a page repeating
// the item it was asked to start after) ends the list with an error
// instead of listing forever.
//
// See https://docs.dify.ai/en/api-reference/conversations/get-conversations.
func (c *Client) Conversations(ctx context.Context, opts ListOptions) iter.Seq2[Conversation, error] {
	return func(yield func(Conversation, error) bool) {
		q, err := c.listQuery(opts)
		if err != nil {
			yield(Conversation{}, err)
			return
		}
		list := lister[Conversation]{c: c, path: "conversations", cursor: "last_id", id: func(conv Conversation) string { return conv.ID }}
		list.all(ctx, q, yield)
	}
}

// lister pages through one of Dify's cursor lists: each page's request
// names, in cursor, the id of the previous page's last item.
type lister[T any] struct {
	c       *Client
	path    string
	cursor  string // "last_id" or "first_id"
	id      func(T) string
	arrange func([]T) // orders a page before it is yielded; nil: as sent
}

// all yields the items of every page from the one q asks for, until Dify
// says there is no more, the consumer stops, or a request fails (its error
// is yielded last). A page holding the very item its cursor named means the
// server ignored the cursor: that is an error, not an endless list.
func (l lister[T]) all(ctx context.Context, q url.Values, yield func(T, error) bool) {
	var zero T
	for {
		var p page[T]
		if _, err := l.c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: l.path, Query: q}, &p); err != nil {
			yield(zero, err)
			return
		}
		if after := q.Get(l.cursor); after != "" && slices.ContainsFunc(p.Data, func(v T) bool { return l.id(v) == after }) {
			yield(zero, l.c.rest.Safe(fmt.Errorf("dify: %s: the page after %s=%s holds that item again: the server ignored the cursor", l.path, l.cursor, after)))
			return
		}
		if l.arrange != nil {
			l.arrange(p.Data)
		}
		for _, v := range p.Data {
			if !yield(v, nil) {
				return
			}
		}
		if !p.HasMore || len(p.Data) == 0 {
			return
		}
		next := l.id(p.Data[len(p.Data)-1])
		if next == "" {
			yield(zero, fmt.Errorf("dify: %s: an item without an id: cannot ask for the next page", l.path))
			return
		}
		q.Set(l.cursor, next)
	}
}

// listQuery validates opts and returns the query of a list's first page.
func (c *Client) listQuery(opts ListOptions) (url.Values, error) {
	limit := opts.Limit
	switch {
	case limit == 0:
		limit = DefaultPageLimit
	case limit < 0 || limit > MaxPageLimit:
		return nil, c.rest.Invalid(fmt.Sprintf("page limit %d is outside 1 to %d", limit, MaxPageLimit))
	}
	user, err := c.userOf(opts.User)
	if err != nil {
		return nil, err
	}
	return url.Values{"user": {user}, "limit": {strconv.Itoa(limit)}}, nil
}

// conversationPath validates a conversation id and formats its path.
func (c *Client) conversationPath(format, conversationID string) (string, error) {
	if err := c.checkConversation(conversationID); err != nil {
		return "", err
	}
	return c.rest.Path(format, conversationID)
}

// DeleteConversation deletes the conversation conversationID of user
// (empty: the client's default user). An unknown conversation is a
// [*chatbot.Error] matching [chatbot.ErrNotFound]; an id that is not a UUID
// is refused before sending with [chatbot.CodeInvalidRequest].
//
// See https://docs.dify.ai/en/api-reference/conversations/delete-conversation.
func (c *Client) DeleteConversation(ctx context.Context, conversationID, user string) error {
	path, err := c.conversationPath("conversations/%s", conversationID)
	if err != nil {
		return err
	}
	if user, err = c.userOf(user); err != nil {
		return err
	}
	_, err = c.rest.Do(ctx, rest.Call{Method: http.MethodDelete, Path: path, Body: stopRequest{User: user}}, nil)
	return err
}

// RenameConversation names the conversation conversationID of user (empty:
// the client's default user) and returns it as Dify reports it. An empty
// name asks Dify to generate one from the conversation ("auto_generate").
// Errors are those of [Client.DeleteConversation].
//
// See https://docs.dify.ai/en/api-reference/conversations/rename-conversation.
func (c *Client) RenameConversation(ctx context.Context, conversationID, user, name string) (*Conversation, error) {
	path, err := c.conversationPath("conversations/%s/name", conversationID)
	if err != nil {
		return nil, err
	}
	if user, err = c.userOf(user); err != nil {
		return nil, err
	}
	if err := c.rest.CheckField("conversation name", name); err != nil {
		return nil, err
	}
	body := struct {
		Name         string `json:"name,omitempty"`
		AutoGenerate bool   `json:"auto_generate"`
		User         string `json:"user"`
	}{Name: name, AutoGenerate: name == "", User: user}
	var conv Conversation
	if _, err := c.rest.Do(ctx, rest.Call{Method: http.MethodPost, Path: path, Body: body}, &conv); err != nil {
		return nil, err
	}
	return &conv, nil
}
