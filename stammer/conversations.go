package stammer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// ConversationsOptions filters [Client.Conversations]. The zero value sends
// only chatbot_uuid, which gets the API's default listing.
type ConversationsOptions struct {
	// StartDate and EndDate, when non-zero, are sent as startDate and endDate
	// in the form 2006-01-02 (the date in the time's own location).
	StartDate time.Time
	EndDate   time.Time

	// OnlyDeleted lists only deactivated conversations
	// (onlyDeletedConversations=true).
	OnlyDeleted bool

	// Params are further query parameters, sent verbatim, for filters the
	// SDK does not name. They cannot override chatbot_uuid.
	Params url.Values
}

// Conversation is one conversation of the chatbot. Stammer publishes only
// part of this shape: the fields below are read where present and left zero
// otherwise; Raw always holds the whole object.
type Conversation struct {
	UUID      string    // "uuid", else "id"
	UserKey   string    // "user_key": pass it as ConversationID or UserKey to continue
	Active    *bool     // "is_active" or "active"; nil when absent
	CreatedAt time.Time // "created_at" or "created", RFC 3339
	UpdatedAt time.Time // "updated_at" or "updated", RFC 3339

	// Raw is the conversation's JSON object, for fields the SDK does not map.
	Raw json.RawMessage
}

// UnmarshalJSON reads a conversation object tolerantly: unknown or
// unparsable optional fields are left zero, and Raw keeps the object.
func (cv *Conversation) UnmarshalJSON(b []byte) error {
	var f struct {
		UUID      flexID          `json:"uuid"`
		ID        flexID          `json:"id"`
		UserKey   flexID          `json:"user_key"`
		IsActive  json.RawMessage `json:"is_active"`
		Active    json.RawMessage `json:"active"`
		CreatedAt json.RawMessage `json:"created_at"`
		Created   json.RawMessage `json:"created"`
		UpdatedAt json.RawMessage `json:"updated_at"`
		Updated   json.RawMessage `json:"updated"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*cv = Conversation{
		UUID:      string(f.UUID),
		UserKey:   string(f.UserKey),
		Active:    jsonBool(f.IsActive, f.Active),
		CreatedAt: parseTime(f.CreatedAt, f.Created),
		UpdatedAt: parseTime(f.UpdatedAt, f.Updated),
		Raw:       append(json.RawMessage(nil), b...),
	}
	if cv.UUID == "" {
		cv.UUID = string(f.ID)
	}
	return nil
}

// jsonBool returns the first of values that is a JSON boolean, or nil.
func jsonBool(values ...json.RawMessage) *bool {
	for _, v := range values {
		var b bool
		if len(v) > 0 && json.Unmarshal(v, &b) == nil {
			return &b
		}
	}
	return nil
}

// parseTime returns the first of values that is an RFC 3339 string, or zero.
func parseTime(values ...json.RawMessage) time.Time {
	for _, v := range values {
		if t, err := time.Parse(time.RFC3339Nano, jsonText(v)); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Conversations lists the chatbot's conversations as a lazy sequence,
// fetching pages as the loop advances (nothing is sent before it starts;
// breaking out stops fetching). The list may come as a bare JSON array, as
// Django REST Framework pagination ({count, next, previous, results}) or as
// {data: […]}. A next page is followed only on the base URL's scheme and
// host; a next link to another host ends the list there, so the token is
// never sent elsewhere, and so does a link to a page already read. A next
// link on the same host but outside the base URL's path yields an error.
//
// An error is yielded once, as the last pair: a *[chatbot.Error] for what
// the API reports, or a wrapped decoding or transport error.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api
func (c *Client) Conversations(ctx context.Context, opts ConversationsOptions) iter.Seq2[Conversation, error] {
	return func(yield func(Conversation, error) bool) {
		path := pathConversations
		q := url.Values{}
		for k, vs := range opts.Params {
			q[k] = append([]string(nil), vs...)
		}
		q.Set("chatbot_uuid", c.chatbotUUID)
		if !opts.StartDate.IsZero() {
			q.Set("startDate", opts.StartDate.Format(time.DateOnly))
		}
		if !opts.EndDate.IsZero() {
			q.Set("endDate", opts.EndDate.Format(time.DateOnly))
		}
		if opts.OnlyDeleted {
			q.Set("onlyDeletedConversations", "true")
		}
		seen := map[string]bool{}
		for {
			resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path, Query: q}, nil)
			if err != nil {
				yield(Conversation{}, err)
				return
			}
			items, next, err := decodeConversations(resp.Body)
			if err != nil {
				yield(Conversation{}, c.rest.Safe(fmt.Errorf("stammer: conversations: decoding %d response: %w", resp.StatusCode, err)))
				return
			}
			for _, cv := range items {
				if !yield(cv, nil) {
					return
				}
			}
			seen[path+"?"+q.Encode()] = true
			var ok bool
			if path, q, ok, err = c.nextPage(path, next); err != nil {
				yield(Conversation{}, c.rest.Safe(err))
				return
			}
			if !ok || seen[path+"?"+q.Encode()] {
				return
			}
		}
	}
}

// conversationList is every list shape accepted: DRF pagination, or a
// {data: […]} envelope.
type conversationList struct {
	Results []Conversation `json:"results"`
	Data    []Conversation `json:"data"`
	Next    *string        `json:"next"`
}

// decodeConversations decodes one page and returns its next link, if any.
func decodeConversations(body []byte) ([]Conversation, string, error) {
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '[' {
		var items []Conversation
		err := json.Unmarshal(b, &items)
		return items, "", err
	}
	var page conversationList
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, "", err
	}
	items := page.Results
	if items == nil {
		items = page.Data
	}
	next := ""
	if page.Next != nil {
		next = *page.Next
	}
	return items, next, nil
}

// nextPage turns a next link into a path relative to the base URL and its
// query. It reports false when there is no next page or the link leaves the
// base URL's scheme and host, and an error when it stays on the host but
// leaves the base path, which the client cannot address.
func (c *Client) nextPage(path string, next string) (string, url.Values, bool, error) {
	if next == "" {
		return "", nil, false, nil
	}
	cur := *c.base // the URL of the page just read, to resolve a relative link
	cur.Path = c.base.Path + mustUnescape(path)
	cur.RawPath = c.base.EscapedPath() + path
	u, err := cur.Parse(next)
	if err != nil {
		return "", nil, false, fmt.Errorf("stammer: conversations: next page link: %w", err)
	}
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
		return "", nil, false, nil
	}
	rel, ok := strings.CutPrefix(u.EscapedPath(), c.base.EscapedPath())
	if !ok {
		return "", nil, false, fmt.Errorf("stammer: conversations: next page link %q is outside the base URL %q", u.Redacted(), c.base.String())
	}
	return rel, u.Query(), true, nil
}

func mustUnescape(p string) string {
	if s, err := url.PathUnescape(p); err == nil {
		return s
	}
	return p
}

// Conversation returns one conversation by its UUID. The response may be the
// conversation object itself or wrap it under "data"; Raw keeps the object.
// An unknown UUID fails with a *[chatbot.Error] matching
// [chatbot.ErrNotFound]; an empty one is refused before sending.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api
func (c *Client) Conversation(ctx context.Context, uuid string) (*Conversation, error) {
	path, err := c.rest.Path("chatbot/api/v1/conversation/%s/", uuid)
	if err != nil {
		return nil, err
	}
	resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path}, nil)
	if err != nil {
		return nil, err
	}
	var cv Conversation
	if err := json.Unmarshal(unwrap(resp.Body, "data", "conversation"), &cv); err != nil {
		return nil, c.rest.Safe(fmt.Errorf("stammer: conversation: decoding %d response: %w", resp.StatusCode, err))
	}
	return &cv, nil
}

// Ack is the answer to an action whose response Stammer does not publish.
type Ack struct {
	StatusCode int             // the HTTP status (2xx)
	Message    string          // the body's "message" or "detail", if any
	Raw        json.RawMessage // the body when it is JSON, else nil
}

// DeactivateConversation deactivates the conversation with the given UUID
// (POST chatbot/api/v1/conversation/{uuid}/deactivate/). It is sent once
// and never retried after it may have been processed. An unknown UUID fails
// with a *[chatbot.Error] matching [chatbot.ErrNotFound]; an empty one is
// refused before sending.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api
func (c *Client) DeactivateConversation(ctx context.Context, uuid string) (*Ack, error) {
	path, err := c.rest.Path("chatbot/api/v1/conversation/%s/deactivate/", uuid)
	if err != nil {
		return nil, err
	}
	resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodPost, Path: path}, nil)
	if err != nil {
		return nil, err
	}
	return ack(resp), nil
}

// ack reads what it can of an action's response; a body that is empty or
// not JSON is not an error, the action having succeeded.
func ack(resp *rest.Response) *Ack {
	a := &Ack{StatusCode: resp.StatusCode, Raw: rawJSON(resp.Body)}
	var m map[string]json.RawMessage
	if json.Unmarshal(resp.Body, &m) == nil {
		a.Message = jsonText(m["message"])
		if a.Message == "" {
			a.Message = jsonText(m["detail"])
		}
	}
	return a
}
