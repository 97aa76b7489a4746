package dify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// StopTimeout bounds the stop request [Client.Stream] sends for a run the
// caller left before its end. The request runs in a goroutine of its own,
// so that the caller's break is not held up; that goroutine ends within
// StopTimeout.
const StopTimeout = 5 * time.Second

// errOnlyPings is the reason of a stream that carried keep-alives and
// nothing else; it is reported wrapped together with io.ErrUnexpectedEOF.
var errOnlyPings = errors.New("the stream carried only keep-alive pings")

// Stream sends req.Message as [Client.Chat] does, with "response_mode":
// "streaming", and returns the reply as it arrives. It is
// [Client.StreamWith] without inputs beyond req.Metadata, files or a pinned
// version.
//
// See https://docs.dify.ai/en/api-reference/chat-messages/send-chat-message.
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return c.StreamWith(ctx, ChatRequest{Request: req})
}

// StreamWith sends req with "response_mode": "streaming" and returns the
// reply as it arrives, one [chatbot.Chunk] per text event. The request and
// its validation are those of [Client.ChatWith].
//
// Text comes from "message" (chat and chatflow apps), "agent_message"
// (agent apps) and "text_chunk" events. A "message_replace" (Dify's output
// moderation) yields a chunk with Replace set whose Text is the whole new
// answer: [chatbot.Collect] starts the text again from it, and the final
// chunk's FinishReason is then [chatbot.FinishContentFilter]. "message_end"
// ends the reply: the final chunk (Done) carries the usage, the sources and
// [chatbot.FinishComplete] ([chatbot.FinishOther] when a chatflow's
// workflow_finished said the run was stopped). Every other event
// (agent_thought, message_file,
// tts_message, workflow_*, node_*, iteration_*, loop_* …) is progress and
// never text. Every chunk carries the conversation and message ids once
// known.
//
// Errors come as the last pair, after the text received so far. An "error"
// event after the 200 is a [*chatbot.Error] with StatusCode 0 and Dify's
// code in ProviderCode. A stream that ends without "message_end", or with no
// text at all (a stream of pings only among them), ends with an error
// wrapping io.ErrUnexpectedEOF, never as an empty success.
//
// Keep-alives ("event: ping", every 10 s) do not count as content: the
// stream idle timeout ([chatbot.WithStreamIdleTimeout]) measures the time
// spent waiting for an event other than a ping, so a run that stalls while
// Dify keeps pinging ends with an error wrapping [chatbot.ErrIdleTimeout]
// once the timeout has passed since the last other event. Progress events
// count as content: a chatflow node that works longer than the timeout
// without any event fails the same way.
//
// Closing the connection does not stop a Dify run: it goes on generating
// (and billing). When the stream ends before "message_end" or an "error"
// (the caller breaks out of the loop, cancels ctx, the idle timeout fires,
// the connection is cut), Stream sends POST chat-messages/{task_id}/stop
// with the same user, the task id taken from the first event that carries
// it (a stream given up before its first event cannot be stopped: its task
// id is not known yet). The stop goes out in the background, so that a
// break returns at once;
// it keeps ctx's values but not its cancellation, and is given up after
// [StopTimeout]. Its failure is logged at Warn when a logger is set
// ([chatbot.WithLogger]) and is otherwise not reported.
//
// The sequence is lazy and single-use: nothing is sent before the loop
// starts, a second range yields only an error wrapping
// [chatbot.ErrStreamUsed], and breaking out of the loop closes the
// connection at once.
//
// See https://docs.dify.ai/en/api-reference/chat-messages/send-chat-message
// and https://docs.dify.ai/en/api-reference/chat-messages/stop-chat-message-generation.
func (c *Client) StreamWith(ctx context.Context, req ChatRequest) iter.Seq2[chatbot.Chunk, error] {
	return c.rest.Stream(ctx, func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		call, user, err := c.chatCall(req, true)
		if err != nil {
			return err
		}
		resp, body, err := g.Open(ctx, call)
		if err != nil {
			return err
		}
		defer body.Close()
		w.SetResponse(resp)
		if resp.IsJSON() {
			return c.streamBlocking(body, w)
		}
		var run runState
		err = dialect.Run(c.rest, body, w, dialect.New(dialect.Dify, resp.Header), dialect.Options{
			OnEvent: func(e *dialect.Event) error {
				run.see(e, body)
				return nil
			},
		})
		if !run.ended && run.taskID != "" {
			c.stop(ctx, run.taskID, user)
		}
		if run.pinged && !run.content && (errors.Is(err, dialect.ErrTruncated) || errors.Is(err, dialect.ErrNoReply)) {
			return fmt.Errorf("dify: stream: %w: %w", errOnlyPings, io.ErrUnexpectedEOF)
		}
		return err
	})
}

// runState is what a stream learns of its Dify run, event by event.
type runState struct {
	taskID   string // from the first event carrying one
	content  bool   // an event other than a keep-alive arrived
	pinged   bool   // a keep-alive arrived
	replaced bool   // a message_replace arrived
	ended    bool   // the run is over: message_end or error
}

// see records what e says of the run, restarts the body's idle countdown
// unless e is a keep-alive, and turns the end of a replaced answer into
// [chatbot.FinishContentFilter].
func (r *runState) see(e *dialect.Event, body *rest.Body) {
	if isKeepAlive(e) {
		r.pinged = true
		return
	}
	r.content = true
	body.Content()
	if r.taskID == "" {
		r.taskID = e.TaskID
	}
	r.replaced = r.replaced || e.Replace
	r.ended = r.ended || e.End || e.Err != nil
	if e.End && r.replaced {
		e.FinishReason = chatbot.FinishContentFilter
	}
}

// isKeepAlive reports whether e carries nothing at all: "event: ping"
// (which has no data), or an event with neither text nor ids nor an end.
// Every Dify event but the ping names its task or conversation.
func isKeepAlive(e *dialect.Event) bool {
	return e.Text == "" && !e.Replace && !e.End && e.Err == nil && e.TaskID == "" &&
		e.ConversationID == "" && e.MessageID == "" && e.Usage == nil && len(e.Sources) == 0
}

// streamBlocking reads a JSON answer to a stream request (a proxy that
// turned the stream into one body) as one final chunk.
func (c *Client) streamBlocking(body *rest.Body, w *rest.ChunkWriter) error {
	var resp chatResponse
	if _, err := body.Decode(&resp); err != nil {
		return err
	}
	w.SetIDs(resp.ConversationID, resp.messageID())
	if resp.Answer == nil || *resp.Answer == "" {
		return dialect.NoReply(c.rest)
	}
	usage, sources := dialect.DifyMetadata(resp.Metadata)
	w.AddSources(sources...)
	w.SetFinish(usage, chatbot.FinishComplete, nil)
	w.Final(*resp.Answer)
	return nil
}

// stop asks Dify, in the background and for at most StopTimeout, to stop
// the run taskID of user.
func (c *Client) stop(ctx context.Context, taskID, user string) {
	path, err := c.rest.Path("chat-messages/%s/stop", taskID)
	if err != nil {
		return // a task id no path can hold: nothing to stop by
	}
	c.rest.DoDetached(ctx, StopTimeout, rest.Call{Method: http.MethodPost, Path: path, Body: stopRequest{User: user}})
}

// stopRequest is the body of POST chat-messages/{task_id}/stop.
type stopRequest struct {
	User string `json:"user"`
}
