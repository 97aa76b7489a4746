package customgpt_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// streamGolden is one stream of testdata and everything a client must
// make of it.
type streamGolden struct {
	file      string
	text      string
	messageID string
	citations []string // the sources' ids
	wantEOF   bool     // the error wraps io.ErrUnexpectedEOF
	errCode   chatbot.Code
	errMsg    string
}

// streamGoldens are written from the reference's shapes: progress deltas,
// a finish with or without a whole reply, error events, cuts.
var streamGoldens = []streamGolden{
	{file: "stream_progress.sse", text: "Our support team answers 24/7 — see \"Contact\" 📞.", messageID: "5821",
		citations: []string{"3101", "3102"}},
	{file: "stream_crlf.sse", text: "Our support team answers 24/7."},
	{file: "stream_finish_whole.sse", text: "Our support team answers 24/7.", messageID: "5822", citations: []string{"3101"}},
	{file: "stream_error_credits.sse", text: "Our support ", errCode: chatbot.CodeQuotaExceeded,
		errMsg: "You have exhausted your current query credits. Please contact hello@customgpt.ai for further assistance."},
	{file: "stream_error_server.sse", text: "Our ", errCode: chatbot.CodeServerError, errMsg: "Internal server error"},
	{file: "stream_truncated.sse", text: "Our support ", wantEOF: true},
	{file: "stream_empty.sse", wantEOF: true},
	{file: "stream_finish_only.sse", wantEOF: true},
}

// streamBody streams body through a client, written writeSize bytes at a
// time (0: at once), into the conversation session.
func streamBody(t *testing.T, body []byte, writeSize int) ([]chatbot.Chunk, error) {
	t.Helper()
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1/projects/4242/conversations/"+session+"/messages", r.URL.Path)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fake.Writer{WriteSize: writeSize}.Write(r.Context(), w, new(int), body)
	})
	return collect(t, c.Stream(t.Context(), chatbot.Request{Message: "Do you offer support at night?", ConversationID: session}))
}

func TestGoldenStreams(t *testing.T) {
	t.Parallel()
	for _, g := range streamGoldens {
		for _, size := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/writes of %d", g.file, size), func(t *testing.T) {
				t.Parallel()
				chunks, err := streamBody(t, readTestdata(t, g.file), size)
				reply, cerr := chatbot.Collect(replay(chunks, err))
				require.Equal(t, err, cerr)
				assert.Equal(t, g.text, reply.Text)
				assert.Equal(t, g.messageID, reply.MessageID)
				assert.Equal(t, g.citations, ids(reply.Sources))
				assert.Nil(t, reply.Usage)
				assert.Equal(t, chatbot.FinishUnknown, reply.FinishReason)
				for i, ch := range chunks {
					assert.Equal(t, session, ch.ConversationID, "chunk %d", i+1)
					assert.Equal(t, i == len(chunks)-1 && err == nil, ch.Done, "chunk %d of %d", i+1, len(chunks))
				}
				switch {
				case g.wantEOF:
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
					var apiErr *chatbot.Error
					assert.NotErrorAs(t, err, &apiErr, "a broken stream is not an error the provider reported")
				case g.errCode != "":
					var apiErr *chatbot.Error
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, "customgpt", apiErr.Provider)
					assert.Equal(t, g.errCode, apiErr.Code)
					assert.Equal(t, g.errMsg, apiErr.Message)
					assert.Zero(t, apiErr.StatusCode, "reported inside a 200 stream")
				default:
					require.NoError(t, err)
				}
			})
		}
	}
}

// TestGoldenReplies: the answers of the reference, read by Chat and
// SendMessage.
func TestGoldenReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file           string
		text, msgID    string
		citations      []int64
		conversationID int64
	}{
		{"reply_doc.json", "Our support team answers 24/7 — see \"Contact\" 📞.", "5821", []int64{3101, 3102}, 991},
		{"reply_loose.json", "Hello!", "5823", []int64{3101, 3103}, 991},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.file)
			c := serve(t, func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "0", r.URL.Query().Get("stream"))
				fake.WriteBody(w, http.StatusOK, string(body))
			})
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session})
			require.NoError(t, err)
			assert.Equal(t, tt.text, reply.Text)
			assert.Equal(t, tt.msgID, reply.MessageID)
			assert.Equal(t, session, reply.ConversationID)
			var want []string
			for _, id := range tt.citations {
				want = append(want, fmt.Sprint(id))
			}
			assert.Equal(t, want, ids(reply.Sources))
			assert.JSONEq(t, string(mustData(t, body)), string(reply.Raw))

			m, err := c.SendMessage(t.Context(), customgpt.MessageRequest{SessionID: session, Prompt: "Hi"})
			require.NoError(t, err)
			assert.Equal(t, tt.citations, m.Citations)
			assert.Equal(t, tt.conversationID, m.ConversationID)
			assert.Equal(t, tt.text, m.OpenAIResponse)
		})
	}
}
