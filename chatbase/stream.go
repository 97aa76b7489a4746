package chatbase

import (
	"context"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Stream sends req as [Client.Chat] does, with "stream": true, and returns
// the reply as it arrives, decoded as the AI SDK UI message stream Chatbase
// answers with.
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
			var out chatResponse
			if _, err := body.Decode(&out); err != nil {
				return withSentinel(err)
			}
			reply, err := replyOf(&out)
			if err != nil {
				return err
			}
			w.SetIDs(reply.ConversationID, reply.MessageID)
			w.Final(reply.Text)
			return nil
		}
		return errNotYet
	})
}
