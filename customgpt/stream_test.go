package customgpt_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// TestStreamCreatesConversationFirst: Stream creates the conversation when
// the loop starts, asks for a stream in the query and the Accept header,
// and stamps every chunk with the session id.
func TestStreamCreatesConversationFirst(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetReply("We are ", "open ", "9 to 5.")
	srv.SetCitations(customgpttestCitation(31), customgpttestCitation(32))
	chunks := c.Stream(t.Context(), chatbot.Request{Message: "When are you open?"})
	assert.Equal(t, 0, srv.Count(), "nothing is sent before the loop starts")
	got, err := collect(t, chunks)
	require.NoError(t, err)
	convs := srv.Conversations()
	require.Len(t, convs, 1)
	var texts []string
	for _, ch := range got {
		assert.Equal(t, convs[0], ch.ConversationID)
		if ch.Text != "" {
			texts = append(texts, ch.Text)
		}
	}
	assert.Equal(t, []string{"We are ", "open ", "9 to 5."}, texts, "one chunk per progress event")
	last := got[len(got)-1]
	require.True(t, last.Done)
	assert.NotEmpty(t, last.MessageID)
	assert.Equal(t, []string{"31", "32"}, ids(last.Sources))

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/v1/projects/4242/conversations/"+convs[0]+"/messages", reqs[1].Path)
	assert.Equal(t, "1", reqs[1].Query.Get("stream"))
	assert.Equal(t, "text/event-stream", reqs[1].Header.Get("Accept"))
	assert.JSONEq(t, `{"prompt":"When are you open?"}`, string(reqs[1].Body))
}

// TestStreamInConversation: with a conversation id nothing is created.
func TestStreamInConversation(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	conv, err := c.CreateConversation(t.Context(), "Support")
	require.NoError(t, err)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: conv.SessionID}))
	require.NoError(t, err)
	assert.Equal(t, "You said: Hi", reply.Text)
	assert.Equal(t, conv.SessionID, reply.ConversationID)
	assert.Len(t, srv.Conversations(), 1)
}

// TestStreamFinishWithWholeReply: a finish event that carries the whole
// answer completes the text the deltas brought.
func TestStreamFinishWithWholeReply(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetReply("We are ", "open")
	srv.SetFinish(map[string]any{"message": "We are open 9 to 5."})
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi"}))
	require.NoError(t, err)
	assert.Equal(t, "We are open 9 to 5.", reply.Text)
}

// TestStreamErrorEvent: an error event ends the stream with a typed error
// after the text received, naming the conversation the SDK created.
func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetReply("Part ", "one")
	srv.FailStream("Model overloaded")
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi"}))
	require.ErrorIs(t, err, chatbot.ErrServer)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Model overloaded", apiErr.Message)
	assert.Zero(t, apiErr.StatusCode)
	var convErr *customgpt.ConversationError
	require.ErrorAs(t, err, &convErr)
	assert.Equal(t, srv.Conversations()[0], convErr.SessionID)
	assert.Equal(t, "Part one", reply.Text, "nothing received is lost")
	assert.Equal(t, convErr.SessionID, reply.ConversationID)
}

// TestStreamJSONAnswer: a JSON answer where a stream was asked for is one
// final chunk with the ids and citations.
func TestStreamJSONAnswer(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "reply_doc.json")
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, string(body))
	})
	got, err := collect(t, c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session}))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.True(t, got[0].Done)
	assert.Equal(t, "Our support team answers 24/7 — see \"Contact\" 📞.", got[0].Text)
	assert.Equal(t, "5821", got[0].MessageID)
	assert.Equal(t, session, got[0].ConversationID)
	assert.Equal(t, []string{"3101", "3102"}, ids(got[0].Sources))
}

// TestStreamJSONAnswerWithoutText: an empty JSON answer is no reply.
func TestStreamJSONAnswerWithoutText(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, `{"status":"success","data":{"id":1,"openai_response":""}}`)
	})
	_, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestStreamCut: a connection cut mid-stream ends it with an error
// wrapping io.ErrUnexpectedEOF after the text received.
func TestStreamCut(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	conv, err := c.CreateConversation(t.Context(), "")
	require.NoError(t, err)
	srv.SetReply("Hello ", "world")
	srv.CutAfter(len(`data: {"message":"Hello ","status":"progress"}`) + 2 + 10)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: conv.SessionID}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "Hello ", reply.Text)
}

// TestStreamSplitWrites: events split anywhere, inside characters too,
// change nothing.
func TestStreamSplitWrites(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetReply("Grüße ", "😀 ", "done")
	srv.SplitWrites(1)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi"}))
	require.NoError(t, err)
	assert.Equal(t, "Grüße 😀 done", reply.Text)
}

// TestStreamIdleTimeout: a stream that goes silent ends with
// ErrIdleTimeout after the text received, and gives the connection up. The
// idle timer runs on a test clock.
func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	clk := clocktest.New(time.Now())
	c, srv := newFake(t, chatbot.WithStreamIdleTimeout(idle), config.WithClock(clk))
	conv, err := c.CreateConversation(t.Context(), "")
	require.NoError(t, err)
	srv.SetReply("First ", "second")
	srv.StallAfter(1)

	received := make(chan struct{})
	done := make(chan error, 1)
	var text string
	go func() {
		var last error
		for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: conv.SessionID}) {
			if err != nil {
				last = err
				break
			}
			if text += ch.Text; text == "First " {
				close(received)
			}
		}
		done <- last
	}()
	<-received           // the text before the stall has arrived…
	clk.WaitFor(t, idle) // …and the idle timer runs again
	clk.Advance(idle)
	require.ErrorIs(t, <-done, chatbot.ErrIdleTimeout)
	assert.Equal(t, "First ", text)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second):
		t.Fatal("the server still holds the stream")
	}
}

// TestStreamCancelledWhileCreating: cancelling while the conversation is
// being created ends the stream with context.Canceled and sends no
// message.
func TestStreamCancelledWhileCreating(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.StallNext(1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := chatbot.Collect(c.Stream(ctx, chatbot.Request{Message: "Hi"}))
		done <- err
	}()
	select {
	case <-srv.Stalled():
	case <-time.After(30 * time.Second):
		t.Fatal("the creation never reached the server")
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("the stream did not end")
	}
	assert.Equal(t, 1, srv.Count(), "no message after a cancelled creation")
}

// TestStreamSingleUse: a second range sends nothing.
func TestStreamSingleUse(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	chunks := c.Stream(t.Context(), chatbot.Request{Message: "Hi"})
	_, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	_, err = chatbot.Collect(chunks)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, 2, srv.Count())
	assert.Len(t, srv.Conversations(), 1)
}
