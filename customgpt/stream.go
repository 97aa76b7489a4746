package customgpt

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// SendMessageStream is [Client.SendMessage] with streaming: the answer
// comes as it is written, one [chatbot.Chunk] per text event. The sequence
// is lazy and single-use, as [chatbot.Chatbot.Stream] describes: nothing is
// sent, not even the conversation's creation, until the loop starts;
// breaking out of the loop closes the connection.
//
// CustomGPT streams data-only Server-Sent Events, each a JSON object with a
// "status": the text comes from "progress" events' "message"; "finish" ends
// the reply. What "finish" carries is not documented; Stream keeps it:
// "citations" become the final chunk's Sources (ids only), "prompt_id" or
// "id" its MessageID, and a whole answer in "message" or "openai_response"
// completes the text (or replaces it, with [chatbot.Chunk.Replace], when it
// differs). Every chunk carries the conversation's session id. A 200 answer
// with a JSON body (no stream) is yielded as one final chunk.
//
// Errors come as the last pair, after the text received: an "error" event
// is a [*chatbot.Error] classified by its "data.code" (a 429 there is
// [chatbot.ErrQuotaExceeded] too); a stream cut before "finish", or one with
// no text at all, wraps io.ErrUnexpectedEOF; a silent stream
// [chatbot.ErrIdleTimeout]; a cancelled context its error; a second range
// [chatbot.ErrStreamUsed]. When the SDK created the conversation, any of
// these is a [*ConversationError] naming it.
//
// API reference: https://docs.customgpt.ai/reference/post_api-v1-projects-projectid-conversations-sessionid-messages
func (c *Client) SendMessageStream(ctx context.Context, req MessageRequest) iter.Seq2[chatbot.Chunk, error] {
	return c.rc.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		call, err := c.messageCall(req, true)
		if err != nil {
			return err
		}
		sessionID, created, err := c.session(ctx, g, req.SessionID)
		if err != nil {
			return err
		}
		w.SetIDs(sessionID, "")
		return c.afterCreate(created, sessionID, c.stream(ctx, g, w, sessionID, call))
	})
}

// stream sends the message call to the conversation sessionID and writes
// its answer to w.
func (c *Client) stream(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter, sessionID string, call rest.Call) error {
	var err error
	if call.Path, err = c.messagesPath(sessionID); err != nil {
		return err
	}
	resp, body, err := g.Open(ctx, call)
	if err != nil {
		return err
	}
	defer body.Close()
	w.SetResponse(resp)
	if resp.IsJSON() { // an answer instead of a stream: one final chunk
		var env envelope[json.RawMessage]
		r, err := body.Decode(&env)
		if err != nil {
			return err
		}
		if env.failed() {
			return c.rc.ErrorFor(r)
		}
		m, err := c.message(env.Data, sessionID, r)
		if err != nil {
			return err
		}
		reply := m.reply()
		w.SetIDs("", reply.MessageID)
		w.AddSources(reply.Sources...)
		if reply.Text == "" {
			return dialect.NoReply(c.rc)
		}
		w.Final(reply.Text)
		return nil
	}
	return dialect.Run(c.rc, body, w, dialect.New(dialect.CustomGPT, resp.Header), dialect.Options{
		OnEvent: func(e *dialect.Event) error {
			e.ConversationID = "" // the session is known; ids stay stable
			return nil
		},
	})
}

// Stream sends req.Message with streaming and returns the answer as it
// arrives, as [Client.SendMessageStream] describes. An empty
// req.ConversationID creates a conversation first, when the loop starts;
// every chunk carries its session id. req.Metadata, req.User and
// req.History are not sent.
//
// API reference: https://docs.customgpt.ai/reference/post_api-v1-projects-projectid-conversations-sessionid-messages
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.SendMessageStream(ctx, MessageRequest{SessionID: req.ConversationID, Prompt: req.Message})
}
