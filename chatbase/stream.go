package chatbase

import (
	"context"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Stream sends req as [Client.Chat] does, with "stream": true and "Accept:
// text/event-stream", and returns the reply as it arrives, decoded as the AI
// SDK UI message stream Chatbase answers with: one [chatbot.Chunk] per
// text-delta part, yielded as soon as it is parsed. The first chunk carries
// the rate-limit state.
//
// Chatbase sends the conversation id, the message id, the credits and the
// finish reason only at the end (in the finish part, or a message-metadata
// part before it), so they are on the final chunk (Done set) and
// [chatbot.Collect] returns them; earlier chunks carry the message id only
// when the start part named it. Parts other than text (steps, tool input,
// tool output) never become text. The first part may be "start" or
// "message-start", the metadata may be under "messageMetadata" or
// "metadata", and an SSE "event:" field beside "type" is accepted, as the
// docs' variants show.
//
// A reply that stopped for a client action (finishReason "tool-calls" with
// calls pending) ends with a final chunk whose FinishReason is
// [chatbot.FinishActionRequired] and whose Actions are the pending calls;
// Collect returns it with an error wrapping [chatbot.ErrActionRequired]
// (see [Client.SubmitToolResult]).
//
// Errors come as the last pair, after the text received so far: an error
// part is a [*chatbot.Error] with StatusCode 0 and its errorText as Message;
// a body that ends before "finish" and "[DONE]", or a connection cut
// mid-body, is an error wrapping io.ErrUnexpectedEOF; a reply with no text
// and no pending action is never an empty success. Errors before the stream
// starts are those of [Client.Chat]. A JSON reply where a stream was asked
// for is yielded as one final chunk.
//
// The sequence is lazy and single-use: nothing is sent before the loop
// starts, a second range yields only an error wrapping
// [chatbot.ErrStreamUsed], and breaking out of the loop closes the
// connection at once.
//
// See https://www.chatbase.co/docs/api-v2/streaming.
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.stream(ctx, func() (rest.Call, error) { return c.chatCall(req, true) })
}

// stream runs one streamed chat call, built by mk on the first iteration.
func (c *Client) stream(ctx context.Context, mk func() (rest.Call, error)) iter.Seq2[chatbot.Chunk, error] {
	return c.rest.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		call, err := mk()
		if err != nil {
			return err
		}
		resp, body, err := g.Open(ctx, call)
		if err != nil {
			return withSentinel(err)
		}
		defer body.Close()
		w.SetResponse(resp)
		if resp.IsJSON() {
			return c.streamJSON(body, w)
		}
		dec := dialect.New(dialect.UIMessage, resp.Header)
		return withSentinel(dialect.Run(c.rest, body, w, dec, dialect.Options{}))
	})
}

// streamJSON yields a JSON reply to a stream request as one final chunk.
func (c *Client) streamJSON(body *rest.Body, w *rest.ChunkWriter) error {
	var out chatResponse
	resp, err := body.Decode(&out)
	if err != nil {
		return withSentinel(err)
	}
	reply, err := c.replyOf(&out, resp)
	if err != nil {
		return err
	}
	w.SetIDs(reply.ConversationID, reply.MessageID)
	w.SetFinish(reply.Usage, reply.FinishReason, reply.Actions)
	w.Final(reply.Text)
	return nil
}
