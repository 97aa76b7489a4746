package sitegpt

import (
	"context"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Chat sends req.Message as a visitor's message and waits for the chatbot's
// answer. req.ConversationID is SiteGPT's thread id: empty starts a new
// thread. When req.User.Email is set and there is no conversation yet, Chat
// first creates a thread with that chatUserEmail (see [Client.CreateThread]),
// so that SiteGPT attributes the conversation, and sends the message into it.
// Other User fields and Metadata are not sent.
//
// The reply's Text is the answer's text ("" when SiteGPT sent no answer),
// ConversationID the thread id, MessageID the message id, Sources the pages
// the answer drew on (URL and Title as [Source] reads them, the element
// verbatim in Raw; nil when SiteGPT sent none) and Raw the response body.
// SiteGPT reports no usage and no finish reason. Errors are [*chatbot.Error] for invalid requests and for failures
// SiteGPT reports; the message is never sent twice.
//
// https://sitegpt.ai/docs/api-reference/chatbot-messages/send-message
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	m, resp, err := c.chat(ctx, c.rest, req)
	if err != nil {
		return nil, err
	}
	return &chatbot.Reply{
		Text:           m.Text(),
		ConversationID: m.ThreadID,
		MessageID:      m.ID,
		RateLimit:      resp.RateLimit,
		Raw:            resp.Body,
		Sources:        m.sources(),
	}, nil
}

// Stream sends req like [Client.Chat]. SiteGPT's REST API does not stream:
// the sequence waits for the whole answer and yields it as one final chunk
// (Done set, with the thread and message ids and the answer's Sources), or
// only an error.
//
// The sequence is lazy and single-use: nothing is sent before the first
// iteration, and a second iteration yields only an error wrapping
// [chatbot.ErrStreamUsed].
//
// https://sitegpt.ai/docs/api-reference/chatbot-messages/send-message
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var sources []chatbot.Source // the answer's, put on its one chunk below
	chunks := c.rest.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		m, resp, err := c.chat(ctx, g, req)
		if err != nil {
			return err
		}
		sources = m.sources()
		w.SetResponse(resp)
		w.SetIDs(m.ThreadID, m.ID)
		w.Final(m.Text())
		return nil
	})
	return func(yield func(chatbot.Chunk, error) bool) {
		for ch, err := range chunks {
			if ch.Done {
				ch.Sources = sources
			}
			if !yield(ch, err) {
				return
			}
		}
	}
}

// sources returns the answer's sources in the shared form, or nil when there
// are none. Each keeps the element SiteGPT sent in Raw.
func (m *Message) sources() []chatbot.Source {
	if len(m.Sources) == 0 {
		return nil
	}
	out := make([]chatbot.Source, len(m.Sources))
	for i, s := range m.Sources {
		out[i] = chatbot.Source{Title: s.Title, URL: s.URL, Raw: s.Raw}
	}
	return out
}

// chat adapts a chatbot.Request to SendMessage, creating an attributed
// thread first when the request names a user's email. It sends through d.
func (c *Client) chat(ctx context.Context, d rest.Doer, req chatbot.Request) (*Message, *rest.Response, error) {
	if err := c.rest.CheckMessage(req.Message, MaxMessageChars); err != nil {
		return nil, nil, err
	}
	threadID := req.ConversationID
	if threadID == "" && req.User.Email != "" {
		t, err := c.createThread(ctx, d, CreateThreadRequest{ChatUserEmail: req.User.Email})
		if err != nil {
			return nil, nil, err
		}
		threadID = t.ThreadID
	}
	return c.sendMessage(ctx, d, MessageRequest{Message: req.Message, ThreadID: threadID})
}
