package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// errNoReply is the reason of a 2xx response that carried no reply text at
// all. It is reported wrapped together with io.ErrUnexpectedEOF: for the
// caller an empty reply is a reply that ended before its first word, and
// nothing the provider said is lost (an error the provider reported is a
// *chatbot.Error instead).
var errNoReply = errors.New("the response carried no reply")

// errTruncated is the reason of a stream whose format always ends with a
// marker and whose body ended cleanly without it.
var errTruncated = errors.New("body ended before the end of the reply")

// errAborted is the reason of a stream the server said it stopped.
var errAborted = errors.New("the server aborted the reply")

// Stream sends req as [Client.Chat] does, with "stream": true and
// "Accept: text/event-stream", and returns the reply as it arrives: one
// [chatbot.Chunk] per text event (or per read, for a raw text body), yielded
// as soon as it is parsed. Every chunk carries the conversation and message
// ids once known, the first carries the rate-limit state, and the last has
// Done set.
//
// The provider does not publish its stream format, so the response is read
// by its Content-Type, in the formats of the JavaScript libraries chatbot
// platforms are built with (the README lists each with the library version
// its test transcripts were recorded from):
//
//   - application/json (or +json): the non-streaming reply, yielded as one
//     final chunk;
//   - text/event-stream (or no Content-Type): Server-Sent Events, decoded as
//     below;
//   - text/plain with an X-Vercel-AI-Data-Stream header: the AI SDK 3.x–4.x
//     data stream protocol, one "code:JSON" part per line: "0:" is text,
//     "3:" an error, "f:" carries the message id, "d:" ends the reply, and
//     every other part (reasoning, tool calls, data, steps) is ignored;
//   - other text/plain: raw text, as it arrives (AI SDK toTextStreamResponse,
//     LangChain.js with a text/plain parser), never splitting a UTF-8
//     character and never altering a byte; the end of the body ends it;
//   - anything else (an HTML page): a [*chatbot.Error] carrying the status
//     and the body, and no text.
//
// Server-Sent Events are decoded tolerantly, one dialect per stream, fixed
// by its first text-bearing event:
//
//   - JSON objects (AI SDK 5+ UI message stream, Flowise 2.x/3.x, Dify,
//     OpenAI, Anthropic, and similar {"type":"token","token":…} shapes): the
//     text is the first present of "content", "delta" (a string, or an
//     object with "content" or "text"), "token", "text", "chunk", "answer",
//     "choices[0].delta.content", and for Flowise's "token" events the
//     string "data". Events whose kind is reasoning, tool, source, file,
//     data-*, step, start or metadata never become text;
//   - JSON strings, in a stream that began with them (LangChain.js
//     HttpResponseOutputParser, "event: data"): each is unquoted;
//   - anything else: plain text, where every data is the text byte for byte,
//     even a token that looks like JSON ("ok", {"ok": true}, 42). Events
//     named other than message, data, token, delta, text, content, chunk or
//     answer carry no text.
//
// In every dialect the ids are "conversationId"/"conversation_id"/"chatId"
// and "messageId"/"message_id"/"chatMessageId", from any JSON event, at the
// top level or under "data". The kind is the JSON "type", else the JSON
// "event", else the SSE event name; "[DONE]" or a kind among done, end,
// complete, completed, finish, message_end, message_stop and stream_end ends
// the reply. A "response" holding the whole reply is used only when no text
// arrived before the end. Halves of a UTF-16 surrogate pair escaped in two
// consecutive deltas (JavaScript cuts strings by code unit) are joined; a
// half left alone becomes U+FFFD.
//
// Errors come as the last pair, after the text received so far. An error
// event (kind "error") or an error part is a [*chatbot.Error] whose
// StatusCode is 0 and whose ProviderCode and Message are the event's "code"
// and its "error", "errorText", "message" or "data". A format that always
// ends with a marker ("[DONE]", an OpenAI finish_reason, AI SDK "finish" or
// "d:", Flowise "end", Dify "message_end", Anthropic "message_stop",
// LangChain.js "event: end") whose body ends cleanly without it, a body cut
// at the transport level, and a Flowise "abort" end with an error wrapping
// io.ErrUnexpectedEOF; formats without an end marker end at the end of the
// body. A 2xx response that carried no reply text at all is never a
// successful empty reply: it ends with an error wrapping
// io.ErrUnexpectedEOF. A cancelled context ends the stream with the
// context's error.
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
		switch mediaType(resp) {
		case "application/json":
			return c.streamEnvelope(body, w)
		case "text/event-stream", "":
			return c.streamEvents(resp.Header, body, w)
		case "text/plain":
			if resp.Header.Get("X-Vercel-AI-Data-Stream") != "" {
				return c.streamDataParts(body, w)
			}
			return c.streamText(body, w)
		default:
			return c.unexpectedType(resp, body)
		}
	})
}

// mediaType returns the response's media type in lower case, JSON types
// (+json included) as "application/json", and "" when there is none.
func mediaType(resp *rest.Response) string {
	if resp.IsJSON() {
		return "application/json"
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// streamEnvelope reads a JSON answer to a stream request as one final chunk.
// A "success": false envelope is the provider's *chatbot.Error.
func (c *Client) streamEnvelope(body *rest.Body, w *rest.ChunkWriter) error {
	var env envelope
	if _, err := body.Decode(&env); err != nil {
		return err
	}
	w.SetIDs(env.Data.ConversationID, env.Data.MessageID)
	if env.Data.Response == "" {
		return noReply()
	}
	w.Final(env.Data.Response)
	return nil
}

// unexpectedType reports a 2xx response in a type that is no chat reply
// (an HTML page from a proxy, a login wall or a wrong base URL).
func (c *Client) unexpectedType(resp *rest.Response, body io.Reader) error {
	r := *resp
	r.Body = c.rest.ReadErrorBody(body)
	e := c.rest.ErrorFor(&r)
	ct := mediaType(resp)
	e.Code = chatbot.CodeUnknown // the 2xx status says nothing about what went wrong
	e.Message = fmt.Sprintf("unexpected Content-Type %q for a chat reply", ct)
	return e
}

// streamText yields a raw text body as it arrives.
func (c *Client) streamText(body io.Reader, w *rest.ChunkWriter) error {
	for text, err := range stream.Text(body) {
		if err != nil {
			return err // the body's own error, already "workspace: stream: …"
		}
		if !w.Text(text) {
			return nil
		}
	}
	if !w.Wrote() {
		return noReply()
	}
	return nil
}

// streamEvents decodes the Server-Sent Events of body into chunks.
func (c *Client) streamEvents(h http.Header, body *rest.Body, w *rest.ChunkWriter) error {
	dec := newEventDecoder(h)
	var response string // a whole reply carried by an event
	for ev, err := range stream.Events(body) {
		if err != nil {
			w.Text(dec.flush())
			if berr := body.Err(); berr != nil && errors.Is(err, berr) {
				return err // the body's error: already "workspace: stream: …"
			}
			return fmt.Errorf("workspace: stream: %w", err)
		}
		d := dec.decode(ev)
		w.SetIDs(d.conversationID, d.messageID)
		if d.response != "" {
			response = d.response
		}
		switch {
		case d.err != nil:
			w.Text(dec.flush())
			d.err.Message = c.rest.Redact(d.err.Message)
			d.err.ProviderCode = c.rest.Redact(d.err.ProviderCode)
			return d.err
		case d.aborted:
			w.Text(dec.flush())
			return fmt.Errorf("workspace: stream: %w: %w", errAborted, io.ErrUnexpectedEOF)
		case d.end:
			delivered, err := finishReply(w, dec.flush(), response)
			if delivered {
				// The reply is complete and delivered: read the body's end
				// so the connection can be reused.
				body.Finish()
			}
			return err
		case !w.Text(d.text):
			return nil // the consumer broke out of the loop
		}
	}
	if dec.truncated() {
		w.Text(dec.flush())
		return truncated()
	}
	_, err := finishReply(w, dec.flush(), response)
	return err
}

// finishReply yields the rest of the text and the Done chunk, which carries
// a whole-reply response only when no text came before; a reply with no
// text at all is an error. It reports whether the Done chunk was delivered
// to a consumer still listening.
func finishReply(w *rest.ChunkWriter, tail, response string) (bool, error) {
	if !w.Text(tail) {
		return false, nil
	}
	switch {
	case w.Wrote():
		return w.Final(""), nil
	case response != "":
		return w.Final(response), nil
	}
	return false, noReply()
}

func noReply() error {
	return fmt.Errorf("workspace: stream: %w: %w", errNoReply, io.ErrUnexpectedEOF)
}

func truncated() error {
	return fmt.Errorf("workspace: stream: %w: %w", errTruncated, io.ErrUnexpectedEOF)
}
