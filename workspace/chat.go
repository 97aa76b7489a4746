package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// chatRequest is the body of POST chatbots/{chatbotId}/chat. Stream is always
// sent: when it is omitted the chatbot's own default applies, and a plain
// call could get Server-Sent Events back.
type chatRequest struct {
	Message        string            `json:"message"`
	ConversationID string            `json:"conversationId,omitempty"`
	Stream         bool              `json:"stream"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// envelope is the non-streaming reply:
// {"success":true,"data":{"response":"…","conversationId":"…","messageId":"…"}}.
// A "success": false is turned into an error by rest (restConfig).
type envelope struct {
	Data struct {
		Response       string `json:"response"`
		ConversationID string `json:"conversationId"`
		MessageID      string `json:"messageId"`
	} `json:"data"`
}

// Chat sends req.Message to the chatbot and waits for the whole reply. It
// always sends "stream": false. req.ConversationID continues a conversation;
// req.Metadata is sent as "metadata", with "userId", "userName" and
// "userEmail" added from req.User when set and not already in Metadata.
//
// The reply carries the text, the conversation and message ids, the
// rate-limit state from the X-RateLimit-* headers, and the raw body. Every
// failure the provider reports, and a request refused before sending (empty
// or invalid message), is a [*chatbot.Error]; a 429 carries
// [chatbot.Error.RetryAfter] from the body's retryAfter or the headers.
//
// See https://pollybot.app/docs/api-endpoints/chat/send.
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	call, err := c.chatCall(req, false)
	if err != nil {
		return nil, err
	}
	var env envelope
	resp, err := c.rest.Do(ctx, call, &env)
	if err != nil {
		return nil, err
	}
	return &chatbot.Reply{
		Text:           env.Data.Response,
		ConversationID: env.Data.ConversationID,
		MessageID:      env.Data.MessageID,
		RateLimit:      resp.RateLimit,
		Raw:            json.RawMessage(resp.Body),
	}, nil
}

// chatCall validates req and builds the chat call.
func (c *Client) chatCall(req chatbot.Request, streaming bool) (rest.Call, error) {
	if err := c.rest.CheckMessage(req.Message, rest.DefaultMaxMessageChars); err != nil {
		return rest.Call{}, err
	}
	for _, f := range [][2]string{{"conversation id", req.ConversationID}, {"user id", req.User.ID}, {"user name", req.User.Name}, {"user email", req.User.Email}} {
		if err := c.rest.CheckField(f[0], f[1]); err != nil {
			return rest.Call{}, err
		}
	}
	for k, v := range req.Metadata {
		if err := c.rest.CheckField("metadata", k+v); err != nil {
			return rest.Call{}, err
		}
	}
	call := rest.Call{
		Method: http.MethodPost,
		Path:   c.chatPath,
		Body: chatRequest{
			Message:        req.Message,
			ConversationID: req.ConversationID,
			Stream:         streaming,
			Metadata:       metadata(req),
		},
	}
	if streaming {
		call.Accept = "text/event-stream"
	}
	return call, nil
}

// metadata merges req.Metadata with the user fields it does not already hold.
func metadata(req chatbot.Request) map[string]string {
	m := maps.Clone(req.Metadata)
	add := func(k, v string) {
		if v == "" {
			return
		}
		if _, ok := m[k]; ok {
			return
		}
		if m == nil {
			m = make(map[string]string, 3)
		}
		m[k] = v
	}
	add("userId", req.User.ID)
	add("userName", req.User.Name)
	add("userEmail", req.User.Email)
	return m
}

// Stream sends req as [Client.Chat] does, with "stream": true and
// "Accept: text/event-stream", and returns the reply as it arrives: one
// [chatbot.Chunk] per text event, yielded as soon as the event is parsed.
// Every chunk carries the conversation and message ids once known, the first
// carries the rate-limit state, and the last has Done set.
//
// The provider does not publish its event format, so each event is decoded
// tolerantly:
//
//   - the text is the first present of "content", "delta" (a string, or an
//     object with "content" or "text"), "token", "text", "chunk", "answer"
//     and "choices[0].delta.content"; data that is not a JSON object is
//     itself the text;
//   - "conversationId"/"conversation_id" and "messageId"/"message_id" are
//     taken from any event, at the top level or under "data";
//   - the kind is the JSON "type", else the JSON "event", else the SSE event
//     name; "[DONE]" or a kind among done, end, complete, completed, finish,
//     message_end and stream_end ends the reply;
//   - a "response" holding the whole reply (in any event, the end event
//     included, or in the text fields of an end event) is used only when no
//     text arrived before the end;
//   - kind "error" ends the stream with a [*chatbot.Error] whose StatusCode
//     is 0 and whose ProviderCode and Message are the event's "code" and
//     "error" (or "message").
//
// A response with a JSON Content-Type is read as the non-streaming reply and
// yielded as one final chunk. A stream that ends cleanly without an end
// marker is complete; one cut at the transport level ends with an error
// wrapping io.ErrUnexpectedEOF after the text received so far, and a
// cancelled context ends it with the context's error.
//
// The sequence is lazy and single-use: nothing is sent before the loop
// starts, a second range yields only an error wrapping
// [chatbot.ErrStreamUsed], and breaking out of the loop closes the
// connection at once. Errors before the stream starts are the same as
// [Client.Chat]'s.
//
// See https://pollybot.app/docs/api-endpoints/chat/send.
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.rest.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		call, err := c.chatCall(req, true)
		if err != nil {
			return err
		}
		resp, body, err := g.Open(ctx, call)
		if err != nil {
			return err
		}
		defer body.Close()
		w.SetResponse(resp)
		if resp.IsJSON() { // a JSON answer instead of a stream: one final chunk
			var env envelope
			if _, err := body.Decode(&env); err != nil {
				return err
			}
			w.SetIDs(env.Data.ConversationID, env.Data.MessageID)
			w.Final(env.Data.Response)
			return nil
		}
		return c.streamEvents(body, w)
	})
}

// streamEvents decodes the Server-Sent Events of body into chunks.
func (c *Client) streamEvents(body *rest.Body, w *rest.ChunkWriter) error {
	var response string // a whole reply carried by an event
	var scratch wireEvent
	// finish yields the Done chunk, carrying a whole-reply "response" only
	// when no delta came.
	finish := func() bool {
		if w.Wrote() {
			return w.Final("")
		}
		return w.Final(response)
	}
	for ev, err := range stream.Events(body) {
		if err != nil {
			if berr := body.Err(); berr != nil && errors.Is(err, berr) {
				return err // the body's error: already "workspace: stream: …"
			}
			return fmt.Errorf("workspace: stream: %w", err)
		}
		d := decodeEvent(ev, &scratch)
		w.SetIDs(d.conversationID, d.messageID)
		if d.response != "" {
			response = d.response
		}
		switch {
		case d.err != nil:
			d.err.Message = c.rest.Redact(d.err.Message)
			d.err.ProviderCode = c.rest.Redact(d.err.ProviderCode)
			return d.err
		case d.end:
			if finish() {
				// The reply is complete and delivered: read the body's end
				// so the connection can be reused.
				body.Finish()
			}
			return nil
		case !w.Text(d.text):
			return nil // the consumer broke out of the loop
		}
	}
	finish()
	return nil
}
