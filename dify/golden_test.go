package dify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// Ids of the golden streams in testdata.
const (
	goldenConv = "9a2c1f3e-4b5d-4e6f-8a7b-1c2d3e4f5a6b"
	goldenMsg  = "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f"
	goldenTask = "0d1e2f3a-4b5c-4d6e-9f70-8192a3b4c5d6"
)

// stopCall is a stop request a test server observed.
type stopCall struct {
	path string
	body map[string]any
}

// sseServer serves body as the answer to every chat request, in writes of
// at most size bytes (0: the whole body in one write, so several events
// share a network chunk), and reports each stop call on the returned
// channel.
func sseServer(t testing.TB, body []byte, size int) (*httptest.Server, <-chan stopCall) {
	t.Helper()
	stops := make(chan stopCall, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/stop") {
			var b map[string]any
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&b))
			stops <- stopCall{path: r.URL.Path, body: b}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"result": "success"}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		written := 0
		fake.Writer{WriteSize: size}.Write(r.Context(), w, &written, body)
	}))
	t.Cleanup(srv.Close)
	return srv, stops
}

// golden is what a golden stream gave: its chunks, its final error, and
// the stop calls its server observed.
type golden struct {
	chunks []chatbot.Chunk
	err    error
	stops  <-chan stopCall
}

// collectGolden streams testdata/name through a client, in one write and in
// small writes, checks that both give the same chunks, and returns what the
// one write gave.
func collectGolden(t *testing.T, name string) golden {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var first []chatbot.Chunk
	var firstErr error
	var firstStops <-chan stopCall
	for _, size := range []int{0, 1, 7} {
		srv, stops := sseServer(t, body, size)
		bot, err := dify.NewClient("app-golden", chatbot.WithBaseURL(srv.URL+"/v1/"))
		require.NoError(t, err)
		var chunks []chatbot.Chunk
		var last error
		for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "When do you open?"}) {
			if err != nil {
				last = err
				break
			}
			chunks = append(chunks, ch)
		}
		if size == 0 {
			first, firstErr, firstStops = chunks, last, stops
			continue
		}
		require.Equal(t, first, chunks, "writes of %d bytes", size)
		require.Equal(t, errText(firstErr), errText(last), "writes of %d bytes", size)
	}
	return golden{first, firstErr, firstStops}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// withoutRaw returns sources with Raw checked to be JSON objects and
// cleared, for comparison.
func withoutRaw(t *testing.T, sources []chatbot.Source) []chatbot.Source {
	t.Helper()
	out := make([]chatbot.Source, len(sources))
	for i, s := range sources {
		var m map[string]any
		require.NoError(t, json.Unmarshal(s.Raw, &m), "source %d Raw", i)
		s.Raw = nil
		out[i] = s
	}
	return out
}

func TestStreamGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		text    string
		finish  chatbot.FinishReason
		usage   *chatbot.Usage
		sources []chatbot.Source
	}{
		{
			file:   "stream_chat.sse",
			text:   "We open at 9 — café 😀 included.",
			finish: chatbot.FinishComplete,
			usage:  &chatbot.Usage{InputTokens: 1033, OutputTokens: 135, TotalTokens: 1168, Price: "0.0013030", Currency: "USD"},
			sources: []chatbot.Source{{
				ID: "ed599c7f-2766-4294-9d1d-e5235a61270a", Title: "opening-hours.md",
				Snippet: "Open daily from 9:00 to 18:00.", Score: 0.98457545,
			}},
		},
		{
			file:   "stream_agent.sse",
			text:   "On Monday we open at 9:00.",
			finish: chatbot.FinishComplete,
			usage:  &chatbot.Usage{InputTokens: 412, OutputTokens: 38, TotalTokens: 450, Price: "0.000488", Currency: "USD"},
		},
		{
			file:   "stream_chatflow.sse",
			text:   "Nine o'clock.",
			finish: chatbot.FinishComplete,
			usage:  &chatbot.Usage{InputTokens: 80, OutputTokens: 16, TotalTokens: 96, Price: "0.0000760", Currency: "USD"},
			sources: []chatbot.Source{
				{ID: "seg-1", Title: "hours.pdf", Snippet: "9:00", Score: 0.5},
				{ID: "doc-2", Title: "holidays.pdf", Snippet: "Closed on holidays.", Score: 0.25},
			},
		},
		{
			file:   "stream_replace.sse",
			text:   "I cannot share that. Ask me something else.",
			finish: chatbot.FinishContentFilter,
			usage:  &chatbot.Usage{InputTokens: 10, OutputTokens: 9, TotalTokens: 19, Price: "0.0000190", Currency: "USD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			g := collectGolden(t, tt.file)
			chunks := g.chunks
			require.NoError(t, g.err)
			require.NotEmpty(t, chunks)
			for i, ch := range chunks {
				require.Equal(t, goldenConv, ch.ConversationID, "chunk %d", i)
				require.Equal(t, goldenMsg, ch.MessageID, "chunk %d", i)
				require.Equal(t, i == len(chunks)-1, ch.Done, "chunk %d", i)
			}
			reply, err := chatbot.Collect(replay(chunks))
			require.NoError(t, err)
			require.Equal(t, tt.text, reply.Text)
			require.Equal(t, goldenConv, reply.ConversationID)
			require.Equal(t, goldenMsg, reply.MessageID)
			require.Equal(t, tt.finish, reply.FinishReason)
			require.Equal(t, tt.usage, reply.Usage)
			if tt.sources == nil {
				require.Empty(t, reply.Sources)
			} else {
				require.Equal(t, tt.sources, withoutRaw(t, reply.Sources))
			}
		})
	}
}

// TestStreamGoldenReplaceInTheMiddle checks the chunks themselves: the
// replacing text comes as one Replace chunk between the deltas.
func TestStreamGoldenReplaceInTheMiddle(t *testing.T) {
	t.Parallel()
	g := collectGolden(t, "stream_replace.sse")
	chunks := g.chunks
	require.NoError(t, g.err)
	var texts []string
	var replaced []bool
	for _, ch := range chunks {
		texts = append(texts, ch.Text)
		replaced = append(replaced, ch.Replace)
	}
	require.Equal(t, []string{"The secret code", " is 1234", "I cannot share that.", " Ask me something else.", ""}, texts)
	require.Equal(t, []bool{false, false, true, false, false}, replaced)
}

func TestStreamGoldenFailures(t *testing.T) {
	t.Parallel()
	t.Run("ping only", func(t *testing.T) {
		t.Parallel()
		g := collectGolden(t, "stream_ping_only.sse")
		chunks, err := g.chunks, g.err
		require.Empty(t, chunks)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.ErrorContains(t, err, "dify: stream: the stream carried only keep-alive pings")
	})
	t.Run("error after 200", func(t *testing.T) {
		t.Parallel()
		g := collectGolden(t, "stream_error.sse")
		chunks, err := g.chunks, g.err
		require.Len(t, chunks, 1)
		require.Equal(t, "Partial", chunks[0].Text)
		require.False(t, chunks[0].Done)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, "dify", apiErr.Provider)
		require.Equal(t, 0, apiErr.StatusCode)
		require.Equal(t, chatbot.CodeInvalidRequest, apiErr.Code)
		require.Equal(t, "completion_request_error", apiErr.ProviderCode)
		require.Equal(t, "[openai] Rate Limit Error, Error code: 429", apiErr.Message)
		require.Equal(t, dify.ErrorCode("completion_request_error"), dify.ErrorCodeOf(err))
	})
	t.Run("model rate limit", func(t *testing.T) {
		t.Parallel()
		g := collectGolden(t, "stream_model_limit.sse")
		chunks, err := g.chunks, g.err
		require.Empty(t, chunks)
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		require.Equal(t, dify.CodeRateLimitError, dify.ErrorCodeOf(err))
	})
	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		g := collectGolden(t, "stream_truncated.sse")
		chunks, err, stops := g.chunks, g.err, g.stops
		reply, _ := chatbot.Collect(replay(chunks))
		require.Equal(t, "We open at 9 — ", reply.Text)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.ErrorContains(t, err, "dify: stream: body ended before the end of the reply")
		// The run may still be going: the client stops it.
		select {
		case s := <-stops:
			require.Equal(t, "/v1/chat-messages/"+goldenTask+"/stop", s.path)
			require.Equal(t, map[string]any{"user": dify.DefaultUser}, s.body)
		case <-time.After(30 * time.Second):
			t.Fatal("no stop call for a truncated stream")
		}
	})
}

// replay yields recorded chunks again, for Collect.
func replay(chunks []chatbot.Chunk) func(func(chatbot.Chunk, error) bool) {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
	}
}
