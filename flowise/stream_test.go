package flowise_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

// collect ranges over a stream and returns its chunks and its error.
func collect(t *testing.T, c *flowise.Client, req chatbot.Request) ([]chatbot.Chunk, error) {
	t.Helper()
	var chunks []chatbot.Chunk
	for ch, err := range c.Stream(t.Context(), req) {
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, ch)
	}
	return chunks, nil
}

// texts returns the chunks' texts.
func texts(chunks []chatbot.Chunk) []string {
	var out []string
	for _, ch := range chunks {
		out = append(out, ch.Text)
	}
	return out
}

// TestStream: one chunk per token event, the ids of the metadata event on
// the final chunk, sources on a chunk of their own; the request asks for
// streaming with the same body as Chat's.
func TestStream(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("Héllo", ", ", "wörld 🎉")
	srv.SetSourceDocuments(map[string]any{"pageContent": "p", "metadata": map[string]any{"source": "https://example.com/p"}})
	chunks, err := collect(t, c, chatbot.Request{Message: "hi", ConversationID: "chat-9",
		History: []chatbot.Message{{Role: chatbot.RoleUser, Text: "before"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Héllo", ", ", "wörld 🎉", "", ""}, texts(chunks))
	require.Len(t, chunks, 5)
	for _, ch := range chunks {
		assert.Equal(t, "chat-9", ch.ConversationID, "the chat id the caller chose is on every chunk")
	}
	assert.Equal(t, []chatbot.Source{{URL: "https://example.com/p", Snippet: "p"}}, withoutRaw(chunks[3].Sources))
	last := chunks[4]
	assert.True(t, last.Done)
	assert.Equal(t, "chat-9", last.ConversationID)
	assert.NotEmpty(t, last.MessageID)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "text/event-stream, application/json", reqs[0].Header.Get("Accept"))
	assert.JSONEq(t, `{"question":"hi","streaming":true,"chatId":"chat-9","history":[{"role":"userMessage","content":"before"}]}`, string(reqs[0].Body))
	assert.Equal(t, []string{"hi"}, srv.Messages("chat-9"))
}

func TestStreamCRLFAndSplitWrites(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("Ünï", "cödé ", "✓")
	srv.SetCRLF(true)
	srv.SplitWrites(1)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err)
	assert.Equal(t, "Ünïcödé ✓", reply.Text)
	assert.NotEmpty(t, reply.ConversationID)
}

// TestStreamCloudFailures: the broken streams Flowise Cloud has been
// reported to send are errors wrapping io.ErrUnexpectedEOF, never an empty
// success, and the same request without streaming works.
func TestStreamCloudFailures(t *testing.T) {
	t.Parallel()
	for name, b := range map[string]flowisetest.Break{"metadata and end only": flowisetest.BreakMetadataOnly, "empty body": flowisetest.BreakEmptyBody} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, flowisetest.Config{})
			srv.BreakNext(1, b)
			chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Empty(t, chunks)
			var apiErr *chatbot.Error
			assert.NotErrorAs(t, err, &apiErr)
			if b == flowisetest.BreakMetadataOnly {
				assert.Contains(t, err.Error(), `chatId "`, "the chat the metadata named is kept")
			}

			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.NoError(t, err)
			assert.Equal(t, "You said: hi", reply.Text)
		})
	}
}

// TestStreamErrorEvent: a flow failing mid-run ends the stream with its
// message, after the text that came before, and the key is redacted from it.
func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("Partial ", "answer")
	srv.FailStream("Error: tool failed with key " + srv.APIKey())
	chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
	assert.Equal(t, []string{"Partial ", "answer"}, texts(chunks))
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "flowise", apiErr.Provider)
	assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
	assert.Zero(t, apiErr.StatusCode)
	assert.Equal(t, "Error: tool failed with key [REDACTED]", apiErr.Message)
	assert.NotContains(t, err.Error(), srv.APIKey())
}

// TestStreamWrongKey: Flowise checks a keyed flow's key once the stream has
// started, and says so with the error event "Unauthorized": that is
// ErrUnauthorized, as the same refusal without streaming is.
func TestStreamWrongKey(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	c, err := flowise.NewClient("flowise-wrong-key-123", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
	assert.Empty(t, chunks)
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "flowise-wrong-key-123")
	assert.Equal(t, 1, srv.Count())
}

// TestStreamQuotaEvent: Flowise Cloud checks its quotas once the stream
// has started; its refusal is ErrQuotaExceeded, as the 402 without
// streaming is.
func TestStreamQuotaEvent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("never sent")
	srv.BreakNext(1, flowisetest.BreakMetadataOnly)
	srv.FailStream("Predictions limit exceeded")
	_, err := collect(t, c, chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Predictions limit exceeded", apiErr.Message)
}

// TestStreamFlowThatCannotStream: the whole answer, in JSON, is one final
// chunk with its ids and sources.
func TestStreamFlowThatCannotStream(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{NoStreaming: true})
	srv.SetReply("All ", "at once.")
	srv.SetSourceDocuments(map[string]any{"pageContent": "p", "metadata": map[string]any{"title": "P"}})
	chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	require.Len(t, chunks, 1)
	assert.Equal(t, "All at once.", chunks[0].Text)
	assert.True(t, chunks[0].Done)
	assert.NotEmpty(t, chunks[0].ConversationID)
	assert.NotEmpty(t, chunks[0].MessageID)
	assert.Equal(t, []chatbot.Source{{Title: "P", Snippet: "p"}}, withoutRaw(chunks[0].Sources))
}

func TestStreamJSONWithoutText(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"","chatId":"c1","chatMessageId":"m1"}`))
	})
	chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
	assert.Empty(t, chunks)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestStreamErrorsBeforeTheStream(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.RateLimitNext(1, 0)
	_, err := collect(t, c, chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, flowisetest.RateLimitMessage, apiErr.Message)

	srv.FailNext(1, flowisetest.Failure{Status: 500, Message: "boom"})
	_, err = collect(t, c, chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, 2, srv.Count(), "a failed prediction is not sent again")

	_, err = collect(t, c, chatbot.Request{Message: "hi", History: []chatbot.Message{{Role: "tool", Text: "x"}}})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 2, srv.Count(), "nothing is sent for a bad request")
}

// TestStreamCut: a connection cut before "end" keeps the text received and
// ends with an error wrapping io.ErrUnexpectedEOF.
func TestStreamCut(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("one ", "two ", "three")
	first := "message:\ndata:{\"event\":\"start\",\"data\":\"one \"}\n\nmessage:\ndata:{\"event\":\"token\",\"data\":\"one \"}\n\n"
	srv.CutAfter(len(first) + 10)
	chunks, err := collect(t, c, chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "one ", strings.Join(texts(chunks), ""))
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	clk := clocktest.New(time.Now())
	srv, c := setup(t, flowisetest.Config{}, chatbot.WithStreamIdleTimeout(idle), config.WithClock(clk))
	srv.SetReply("Hello", ", world")
	srv.StallAfter(1) // start and the first token

	received := make(chan struct{})
	done := make(chan error, 1)
	var text string
	go func() {
		var last error
		for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
			if err != nil {
				last = err
				break
			}
			if text += ch.Text; text == "Hello" {
				close(received)
			}
		}
		done <- last
	}()
	<-received           // the text before the stall has arrived…
	clk.WaitFor(t, idle) // …and the idle timer runs again
	clk.Advance(idle)
	require.ErrorIs(t, <-done, chatbot.ErrIdleTimeout)
	assert.Equal(t, "Hello", text)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		require.Fail(t, "the server never saw the client leave")
	}
}

// TestPredictStream: the streaming call takes every prediction field.
func TestPredictStream(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	reply, err := chatbot.Collect(c.PredictStream(t.Context(), flowise.PredictionRequest{
		Question: "hi", ChatID: "chat-2", SessionID: "memory-1", OverrideConfig: map[string]any{"temperature": 0},
	}))
	require.NoError(t, err)
	assert.Equal(t, "You said: hi", reply.Text)
	assert.Equal(t, "chat-2", reply.ConversationID)
	assert.JSONEq(t, `{"question":"hi","streaming":true,"chatId":"chat-2","overrideConfig":{"temperature":0,"sessionId":"memory-1"}}`,
		string(srv.Requests()[0].Body))

	_, err = chatbot.Collect(c.PredictStream(t.Context(), flowise.PredictionRequest{}))
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 1, srv.Count())
}

func TestStreamSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	seq := c.Stream(t.Context(), chatbot.Request{Message: "hi"})
	assert.Zero(t, srv.Count(), "nothing is sent before the loop starts")
	_, err := chatbot.Collect(seq)
	require.NoError(t, err)
	_, err = chatbot.Collect(seq)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, 1, srv.Count())
}
