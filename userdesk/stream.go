package userdesk

import (
	"context"
	"iter"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// Stream sends req.Message with streaming on and returns the reply as it
// arrives: one [chatbot.Chunk] per read of the body, yielded at once, never
// splitting a UTF-8 character and never altering a byte (but a byte order
// mark opening the body, which [stream.Text] drops). The end of the body
// is the end of the reply (the last chunk has Done set). The sequence is lazy
// and single-use, as [chatbot.Chatbot.Stream] describes; breaking out of the
// loop closes the connection.
//
// Userdesk's streamed body does not carry the conversation id, so when
// req.ConversationID is empty Stream first creates a conversation (as
// [Client.CreateConversation] does, with req.User's name and email) and
// streams into it: every chunk carries its id. If the response carries a
// conversation id in an X-Conversation-Id or Conversation-Id header, that id
// is used instead. A 200 response with a JSON Content-Type is read as the
// non-streaming reply and yielded as one final chunk. A response that
// carried no reply (an empty body, a 204, a JSON answer without "response")
// is never a complete, empty reply: it ends with an error wrapping
// io.ErrUnexpectedEOF, as a reply cut before its first word would.
//
// Errors come as the last pair: [*chatbot.Error] for what Userdesk reports, an
// error wrapping io.ErrUnexpectedEOF for a connection cut mid-reply (after the
// text received so far), [chatbot.ErrIdleTimeout] for a silent stream, the
// context's error when it is cancelled, and [chatbot.ErrStreamUsed] on a
// second range.
//
// API reference: https://docs.userdesk.io/api/send-a-message
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.rc.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		msg, err := c.messageRequest(req, true)
		if err != nil {
			return err
		}
		if msg.ConversationID == "" {
			conv, err := c.createConversation(ctx, g, ConversationRequest{UserName: req.User.Name, UserEmail: req.User.Email})
			if err != nil {
				return err
			}
			msg.ConversationID = conv.ConversationID
		}
		w.SetIDs(msg.ConversationID, "")
		call := rest.Call{Method: http.MethodPost, Path: c.messagePath, Body: msg, Accept: "text/plain, application/json"}
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
			w.SetIDs(headerConversationID(resp.Header), "")
			w.SetIDs(env.ConversationID, "")
			if env.Response == nil {
				return c.rc.NoReply()
			}
			w.Final(*env.Response)
			return nil
		}
		w.SetIDs(headerConversationID(resp.Header), "")
		for text, err := range stream.Text(body) {
			if err != nil {
				return err
			}
			if !w.Text(text) {
				return nil
			}
		}
		if !w.Wrote() {
			return c.rc.NoReply() // an empty body, a 204: no end marker, no text
		}
		return nil
	})
}
