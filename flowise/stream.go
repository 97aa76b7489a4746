package flowise

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Stream sends req as [Client.Chat] does, with "streaming": true, and
// returns the answer as it arrives: one [chatbot.Chunk] per "token" event,
// yielded as soon as it is read. Flowise writes each event as a
// "message:" line and a "data:" line holding {"event", "data"}; text comes
// only from "token" events ("start" repeats the first token and is not
// text). Every chunk carries req.ConversationID, which Flowise keeps as the
// chat's id; once the "metadata" event has come (at the end), chunks carry
// its chatId as the conversation id and its chatMessageId as the message
// id; the
// "sourceDocuments" event's documents come as [chatbot.Chunk.Sources] (see
// [Sources]); "end" ends the reply, and the last chunk has Done set. Every
// other event (usedTools, agentReasoning, the agentflow events, …) carries
// no text and is skipped. A flow that cannot stream answers with the whole
// reply as JSON: it is yielded as one final chunk, with its sources.
//
// Errors come as the last pair, after the text received so far:
//
//   - an "error" event is a [*chatbot.Error] with the event's message and
//     StatusCode 0; Flowise checks a flow's key only once the stream has
//     started, so a wrong or missing key comes as the error event
//     "Unauthorized", which is [chatbot.ErrUnauthorized], and Flowise
//     Cloud's quota errors ("Predictions limit exceeded", …) are
//     [chatbot.ErrQuotaExceeded], as they are without streaming;
//   - a stream with no token at all (only "metadata" and "end", or an empty
//     body, as Flowise Cloud has been reported to send where the same
//     request without streaming works), a stream cut before "end", and an
//     "abort" event end with an error wrapping io.ErrUnexpectedEOF, never
//     with an empty or partial success; when a stream without tokens sent
//     its metadata, the error names its chatId and chatMessageId, since no
//     chunk carried them;
//   - a failure before the stream starts is [Client.Predict]'s;
//   - a silent server ends it with [chatbot.ErrIdleTimeout], a cancelled
//     context with the context's error.
//
// The sequence is lazy and single-use: nothing is sent before the loop
// starts, a second range yields only an error wrapping
// [chatbot.ErrStreamUsed], and breaking out of the loop closes the
// connection at once.
//
// See https://docs.flowiseai.com/using-flowise/streaming.
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.PredictStream(ctx, predictionFor(req))
}

// PredictStream is [Client.Stream] with every field of Flowise's prediction
// call, as [Client.Predict] takes them: p.ChatID is the conversation id of
// every chunk when set. Its chunks and errors are Stream's.
//
// See https://docs.flowiseai.com/using-flowise/streaming.
func (c *Client) PredictStream(ctx context.Context, p PredictionRequest) iter.Seq2[chatbot.Chunk, error] {
	return c.rc.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		call, err := c.predictionCall(p, true)
		if err != nil {
			return err
		}
		resp, body, err := g.Open(ctx, call)
		if err != nil {
			return err
		}
		defer body.Close()
		w.SetResponse(resp)
		w.SetIDs(p.ChatID, "") // Flowise keeps the chatId it is given
		if resp.IsJSON() {
			return c.streamPrediction(body, w)
		}
		var ids [2]string // chatId, chatMessageId of the metadata event
		err = dialect.Run(c.rc, body, w, dialect.New(dialect.Flowise, resp.Header), dialect.Options{OnEvent: func(e *dialect.Event) error {
			if e.ConversationID != "" {
				ids = [2]string{e.ConversationID, e.MessageID}
			}
			classifyEvent(e)
			return nil
		}})
		if ids[0] != "" && errors.Is(err, dialect.ErrNoReply) {
			// No chunk carried the ids, which name the answer Flowise may
			// have stored in the chat's history: the error keeps them.
			err = fmt.Errorf("%w (chatId %q, chatMessageId %q)", err, ids[0], ids[1])
		}
		return err
	})
}

// streamPrediction yields the JSON answer of a flow that cannot stream as
// one final chunk. An answer without text is an error, as a stream without
// tokens is.
func (c *Client) streamPrediction(body *rest.Body, w *rest.ChunkWriter) error {
	var wp wirePrediction
	resp, err := body.Decode(&wp)
	if err != nil {
		return err
	}
	reply := wp.prediction(resp.Body, resp.RateLimit).reply()
	w.SetIDs(reply.ConversationID, reply.MessageID)
	if reply.Text == "" {
		return dialect.NoReply(c.rc)
	}
	w.AddSources(reply.Sources...)
	w.Final(reply.Text)
	return nil
}

// classifyEvent gives the error events of the refusals Flowise makes once
// a stream has started the status they have without streaming: a wrong or
// missing key (401 "Unauthorized") and Flowise Cloud's quotas (402
// "Predictions limit exceeded", "Storage limit exceeded", "Limit exceeded:
// …").
func classifyEvent(e *dialect.Event) {
	if e.Err == nil {
		return
	}
	switch m := strings.TrimSpace(e.Err.Message); {
	case m == "Unauthorized":
		e.ErrStatus = http.StatusUnauthorized
	case m == "Predictions limit exceeded", m == "Storage limit exceeded", strings.HasPrefix(m, "Limit exceeded: "):
		e.ErrStatus = http.StatusPaymentRequired
	}
}
