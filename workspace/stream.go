package workspace

import (
	"context"
	"fmt"
	"io"
	"iter"
	"mime"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

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
//     data stream protocol, one "code:JSON" part per line: "0:" is text (a
//     text part whose value is not a JSON string fails the stream with a
//     [*chatbot.Error], as the AI SDK's own reader throws), "3:" an error,
//     "f:" carries the message id, "h:" is a source, "9:" a tool call and
//     "a:" its result, "d:" ends the reply with its finish reason and usage,
//     and every other part (reasoning, data, steps) is ignored;
//   - other text/plain: raw text, as it arrives (AI SDK toTextStreamResponse,
//     LangChain.js with a text/plain parser), never splitting a UTF-8
//     character and never altering a byte but a byte order mark opening the
//     body; the end of the body ends it;
//   - anything else (an HTML page): a [*chatbot.Error] carrying the status
//     and the body, and no text.
//
// A byte order mark opening the body is dropped in every format.
//
// Server-Sent Events are decoded tolerantly, one dialect per stream, fixed
// by its first text-bearing event (an event with ids and no text, such as
// {"conversationId":"c9"}, leaves the dialect open):
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
// arrived before the end. Sources, usage and the finish reason are read
// where the stream sends them: AI SDK "source-url" and "source-document"
// parts, the usage ("usage" or "totalUsage") in its message metadata, and
// the "finish" part's finishReason; Dify's message_end (usage and
// retriever_resources); Flowise's sourceDocuments. An AI SDK reply that
// finishes with "tool-calls" while a tool call has no output is not
// complete: its last chunk carries [chatbot.FinishActionRequired] and the
// pending [chatbot.Action] values. Halves of a UTF-16 surrogate pair escaped in two
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
			return dialect.Run(c.rest, body, w, dialect.New(dialect.Sniff, resp.Header), dialect.Options{})
		case "text/plain":
			if resp.Header.Get("X-Vercel-AI-Data-Stream") != "" {
				return dialect.Run(c.rest, body, w, dialect.New(dialect.DataStream, resp.Header), dialect.Options{})
			}
			return dialect.RunText(c.rest, body, w)
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
		return dialect.NoReply(c.rest)
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
