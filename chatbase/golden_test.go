package chatbase_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// golden is what one transcript in testdata/stream must decode to.
type golden struct {
	text     string
	conv     string
	msg      string
	finish   chatbot.FinishReason
	credits  float64 // 0: no usage
	actions  []chatbot.Action
	err      error        // matched with errors.Is; nil: none
	errorMsg string       // the *chatbot.Error's Message, for an error part
	code     chatbot.Code // its Code; empty: CodeUnknown
}

var goldens = map[string]golden{
	"basic": {text: "Hello! How can I help? 👋", conv: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", msg: "msg_a1",
		finish: chatbot.FinishComplete, credits: 2},
	"event-field":      {text: "Opening hours: 9 to 5.", conv: "conv_2", msg: "msg_a2", finish: chatbot.FinishComplete, credits: 1.5},
	"metadata-key":     {text: "Sure.", conv: "conv_3", msg: "msg_a3", finish: chatbot.FinishComplete, credits: 3},
	"message-metadata": {text: "The id comes last.", conv: "conv_4", msg: "msg_a4", finish: chatbot.FinishComplete, credits: 2},
	"tool-calls": {text: "Let me check your order.", conv: "conv_5", msg: "msg_a5", finish: chatbot.FinishActionRequired, credits: 1,
		actions: []chatbot.Action{{ID: "call_1", Name: "lookup_order", Input: json.RawMessage(`{"orderId":"42"}`)}},
		err:     chatbot.ErrActionRequired},
	"tool-calls-no-text": {text: "", conv: "conv_6", msg: "msg_a6", finish: chatbot.FinishActionRequired, credits: 1,
		actions: []chatbot.Action{
			{ID: "call_2", Name: "open_ticket", Input: json.RawMessage(`{"priority":"high"}`)},
			{ID: "call_3", Name: "notify", Input: json.RawMessage(`null`)},
		},
		err: chatbot.ErrActionRequired},
	"error": {text: "Partial ", msg: "msg_a7", errorMsg: "The model provider failed"},
	"error-object": {text: "One moment", msg: "msg_b1", errorMsg: "The conversation has been taken over",
		code: chatbot.CodeNotFound, err: chatbase.ErrConversationNotOngoing},
	"truncated":  {text: "Cut here", msg: "msg_a8", err: io.ErrUnexpectedEOF},
	"multi-step": {text: "Refunds take 5 days.", conv: "conv_9", msg: "msg_a9", finish: chatbot.FinishComplete, credits: 4},
}

// TestGoldenStreams decodes every transcript of testdata/stream, whole and
// written one byte at a time, and checks the exact text, ids, finish
// reason, usage, actions and error, and that the conversation id, which
// Chatbase sends only at the end, is on the final chunk.
func TestGoldenStreams(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/stream/*.sse")
	require.NoError(t, err)
	require.Len(t, files, len(goldens), "every transcript has its expectation")
	for _, file := range files {
		name := filepath.Base(file[:len(file)-len(".sse")])
		want, ok := goldens[name]
		require.True(t, ok, name)
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, size := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/writes=%d", name, size), func(t *testing.T) {
				t.Parallel()
				c := sseClient(t, body, size)
				var chunks []chatbot.Chunk
				reply, err := chatbot.Collect(func(yield func(chatbot.Chunk, error) bool) {
					for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
						if err == nil {
							chunks = append(chunks, ch)
						}
						if !yield(ch, err) {
							return
						}
					}
				})
				require.NotNil(t, reply)
				assert.Equal(t, want.text, reply.Text)
				assert.Equal(t, want.conv, reply.ConversationID)
				assert.Equal(t, want.msg, reply.MessageID)
				assert.Equal(t, want.finish, reply.FinishReason)
				if want.credits == 0 {
					assert.Nil(t, reply.Usage)
				} else {
					assert.Equal(t, &chatbot.Usage{Credits: want.credits}, reply.Usage)
				}
				assert.Equal(t, want.actions, reply.Actions)
				assert.Nil(t, reply.Sources)
				switch {
				case want.errorMsg != "":
					var apiErr *chatbot.Error
					require.True(t, errors.As(err, &apiErr), "%v", err)
					assert.Equal(t, want.errorMsg, apiErr.Message)
					assert.Equal(t, cmp.Or(want.code, chatbot.CodeUnknown), apiErr.Code, "an error part without a code says nothing of its kind")
					assert.Equal(t, 0, apiErr.StatusCode, "reported inside a 2xx stream")
					assert.Equal(t, "chatbase", apiErr.Provider)
					if want.err != nil {
						require.ErrorIs(t, err, want.err)
					}
				case want.err != nil:
					require.ErrorIs(t, err, want.err)
				default:
					require.NoError(t, err)
				}
				for i, ch := range chunks {
					if i < len(chunks)-1 || want.conv == "" {
						assert.Empty(t, ch.ConversationID, "chunk %d: the conversation id comes only at the end", i)
						assert.False(t, ch.Done)
					}
				}
				if want.conv != "" {
					last := chunks[len(chunks)-1]
					assert.True(t, last.Done)
					assert.Equal(t, want.conv, last.ConversationID)
				}
			})
		}
	}
}

// sseClient returns a client of a server that answers every request with
// body as Chatbase streams, written in pieces of size bytes (0: whole).
func sseClient(t testing.TB, body []byte, size int) *chatbase.Client {
	t.Helper()
	return sseHandlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		written := 0
		fake.Writer{WriteSize: size}.Write(r.Context(), w, &written, body)
	})
}

// sseHandlerClient returns a client of a server that answers every request
// with the headers of Chatbase's stream and a body written by write.
func sseHandlerClient(t testing.TB, write func(http.ResponseWriter, *http.Request)) *chatbase.Client {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Vercel-Ai-Ui-Message-Stream", "v1")
		w.WriteHeader(http.StatusOK)
		write(w, r)
	}))
	t.Cleanup(hs.Close)
	c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)
	return c
}
