package sitegpt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// Limits of the thread list.
const (
	DefaultThreadsLimit = 20  // threads per page when ThreadsOptions.Limit is 0
	MaxThreadsLimit     = 100 // the largest page SiteGPT serves
)

// Mode says who answers in a thread.
type Mode string

// The thread modes.
const (
	ModeAI    Mode = "AI"    // the chatbot answers
	ModeAgent Mode = "AGENT" // a human agent has taken over
)

// Thread is a SiteGPT conversation. A field SiteGPT did not send is zero.
type Thread struct {
	ThreadID      string    `json:"threadId"`
	StartedAt     time.Time `json:"startedAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	EndedAt       time.Time `json:"endedAt"` // zero while the thread is open
	ChatUser      *ChatUser `json:"chatUser"`
	Mode          Mode      `json:"mode"`
	Escalated     bool      `json:"escalated"`
	Important     bool      `json:"important"`
	Resolved      bool      `json:"resolved"`
	LastMessage   *Message  `json:"lastMessage"`   // in the thread list
	TotalMessages int       `json:"totalMessages"` // in the thread list
	Messages      []Message `json:"messages"`      // from [Client.Thread] only

	// Raw is the thread object as received, for fields the SDK does not map.
	// It is never encoded.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a thread and keeps the object in Raw. JSON null
// leaves t unchanged.
func (t *Thread) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	type plain Thread // without the method
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Thread(v)
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ChatUser is the visitor of a thread. Every field is optional.
type ChatUser struct {
	Email       string `json:"email,omitempty"`
	Name        string `json:"name,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// ThreadsOptions tunes [Client.Threads]. The zero value lists every thread,
// [DefaultThreadsLimit] per request.
type ThreadsOptions struct {
	// Limit is the page size, 1 to [MaxThreadsLimit]; 0 means
	// [DefaultThreadsLimit].
	Limit int
}

// Threads lists the chatbot's threads, fetching page after page (from page 1)
// as the loop advances, until a page comes back empty or shorter than the
// limit. The sequence is lazy: nothing is sent before the loop starts, and
// breaking out stops fetching. Each iteration starts again from page 1.
//
// An error is yielded once, as the last pair: a Limit outside 0 to
// [MaxThreadsLimit] is a [*chatbot.Error] with [chatbot.CodeInvalidRequest]
// and failures SiteGPT reports are [*chatbot.Error].
//
// https://sitegpt.ai/docs/api-reference/chatbot-threads/fetch-all-threads
func (c *Client) Threads(ctx context.Context, opts ThreadsOptions) iter.Seq2[Thread, error] {
	return func(yield func(Thread, error) bool) {
		limit := opts.Limit
		switch {
		case limit == 0:
			limit = DefaultThreadsLimit
		case limit < 0 || limit > MaxThreadsLimit:
			yield(Thread{}, c.rest.Invalid(fmt.Sprintf("threads limit %d is outside 1 to %d", limit, MaxThreadsLimit)))
			return
		}
		path, err := c.rest.Path("chatbots/%s/threads", c.chatbotID)
		if err != nil {
			yield(Thread{}, err)
			return
		}
		prevFirst := ""
		for page := 1; ; page++ {
			q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limit)}}
			var data struct {
				Threads []Thread `json:"threads"`
			}
			if _, err := c.do(ctx, c.rest, "threads", rest.Call{Method: http.MethodGet, Path: path, Query: q}, &data); err != nil {
				yield(Thread{}, err)
				return
			}
			if len(data.Threads) == 0 {
				return
			}
			// A server that ignores page would otherwise be listed forever.
			first := data.Threads[0].ThreadID
			if first != "" && first == prevFirst {
				yield(Thread{}, fmt.Errorf("sitegpt: threads: page %d repeats page %d", page, page-1))
				return
			}
			prevFirst = first
			for _, t := range data.Threads {
				if !yield(t, nil) {
					return
				}
			}
			if len(data.Threads) < limit {
				return
			}
		}
	}
}

// Thread returns the thread threadID with its messages. An unknown thread is
// a [*chatbot.Error] matching [chatbot.ErrNotFound]; an empty or malformed id
// is refused before sending with [chatbot.CodeInvalidRequest].
//
// https://sitegpt.ai/docs/api-reference/chatbot-threads/fetch-all-threads
func (c *Client) Thread(ctx context.Context, threadID string) (*Thread, error) {
	path, err := c.rest.Path("chatbots/%s/threads/%s", c.chatbotID, threadID)
	if err != nil {
		return nil, err
	}
	var data struct {
		Thread *Thread `json:"thread"`
	}
	if _, err := c.do(ctx, c.rest, "thread", rest.Call{Method: http.MethodGet, Path: path}, &data); err != nil {
		return nil, err
	}
	if data.Thread == nil {
		return nil, errNoData("thread", "data.thread")
	}
	if data.Thread.ThreadID == "" {
		data.Thread.ThreadID = threadID
	}
	return data.Thread, nil
}

// CreateThreadRequest is the thread [Client.CreateThread] creates. The zero
// value creates an anonymous thread with a SiteGPT-chosen id.
type CreateThreadRequest struct {
	ThreadID      string `json:"threadId,omitempty"`      // optional: the id to give the thread
	Mode          Mode   `json:"mode,omitempty"`          // optional: ModeAI (SiteGPT's default) or ModeAgent
	ChatUserEmail string `json:"chatUserEmail,omitempty"` // optional: attributes the thread to this visitor
}

// CreateThread creates a thread and returns it as SiteGPT reports it; its
// ThreadID is always set. An invalid ThreadID or an unknown Mode is refused
// before sending with a [*chatbot.Error] of code [chatbot.CodeInvalidRequest];
// failures SiteGPT reports are also [*chatbot.Error].
//
// https://sitegpt.ai/docs/api-reference/chatbot-threads/fetch-all-threads
func (c *Client) CreateThread(ctx context.Context, req CreateThreadRequest) (*Thread, error) {
	return c.createThread(ctx, c.rest, req)
}

// createThread is CreateThread, sending through d.
func (c *Client) createThread(ctx context.Context, d rest.Doer, req CreateThreadRequest) (*Thread, error) {
	if req.ThreadID != "" {
		if err := c.checkID("thread id", req.ThreadID); err != nil {
			return nil, err
		}
	}
	if err := c.checkMode(req.Mode); err != nil {
		return nil, err
	}
	path, err := c.rest.Path("chatbots/%s/threads", c.chatbotID)
	if err != nil {
		return nil, err
	}
	t, err := c.threadCall(ctx, d, "create thread", rest.Call{Method: http.MethodPost, Path: path, Body: req})
	if err != nil {
		return nil, err
	}
	if t.ThreadID == "" {
		t.ThreadID = req.ThreadID
	}
	if t.ThreadID == "" {
		return nil, errNoData("create thread", "thread id")
	}
	return t, nil
}

// UpdateThreadRequest is the change [Client.UpdateThread] makes. Empty fields
// are left unchanged; at least one must be set.
type UpdateThreadRequest struct {
	Mode         Mode      `json:"mode,omitempty"`         // ModeAI or ModeAgent
	WebhookURL   string    `json:"webhookUrl,omitempty"`   // where SiteGPT posts the thread's new messages
	WebhookToken string    `json:"webhookToken,omitempty"` // sent with each webhook call
	ChatUser     *ChatUser `json:"chatUser,omitempty"`     // the visitor's details
}

// UpdateThread changes the thread threadID and returns it as SiteGPT reports
// it (only ThreadID is set when the response carries no thread). An empty
// request, an unknown Mode or a malformed id is refused before sending with a
// [*chatbot.Error] of code [chatbot.CodeInvalidRequest]; failures SiteGPT
// reports are also [*chatbot.Error].
//
// https://sitegpt.ai/docs/api-reference/chatbot-threads/fetch-all-threads
func (c *Client) UpdateThread(ctx context.Context, threadID string, req UpdateThreadRequest) (*Thread, error) {
	if req == (UpdateThreadRequest{}) {
		return nil, c.rest.Invalid("update thread: nothing to update")
	}
	if err := c.checkMode(req.Mode); err != nil {
		return nil, err
	}
	path, err := c.rest.Path("chatbots/%s/threads/%s", c.chatbotID, threadID)
	if err != nil {
		return nil, err
	}
	t, err := c.threadCall(ctx, c.rest, "update thread", rest.Call{Method: http.MethodPatch, Path: path, Body: req})
	if err != nil {
		return nil, err
	}
	if t.ThreadID == "" {
		t.ThreadID = threadID
	}
	return t, nil
}

// threadCall sends call and reads the thread from data.thread, or only its
// id from data.threadId.
func (c *Client) threadCall(ctx context.Context, d rest.Doer, what string, call rest.Call) (*Thread, error) {
	var data struct {
		Thread   *Thread `json:"thread"`
		ThreadID string  `json:"threadId"`
	}
	if _, err := c.do(ctx, d, what, call, &data); err != nil {
		return nil, err
	}
	t := data.Thread
	if t == nil {
		t = &Thread{}
	}
	if t.ThreadID == "" {
		t.ThreadID = data.ThreadID
	}
	return t, nil
}

func (c *Client) checkMode(m Mode) error {
	switch m {
	case "", ModeAI, ModeAgent:
		return nil
	}
	return c.rest.Invalid(`mode must be "AI" or "AGENT"`)
}
