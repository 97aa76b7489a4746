package flowise_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// recordedChatID is the chat id of the streams recorded from Flowise's
// SSEStreamer (testdata/record_ssestreamer.js).
const recordedChatID = "a5f0c7e2-3b1d-4c8e-9f6a-2d7b8e1c4f90"

// golden is one stream of testdata and everything a client must make of it.
type golden struct {
	file           string
	text           string
	conversationID string
	messageID      string
	sources        []chatbot.Source // compared without Raw
	usage          *chatbot.Usage
	finish         chatbot.FinishReason
	wantEOF        bool   // the error wraps io.ErrUnexpectedEOF
	errContains    string // a part of the error's text
	errMessage     string // the *chatbot.Error's Message
	errCode        chatbot.Code
}

// goldens are the streams recorded byte for byte from Flowise 3.1.2's own
// SSEStreamer (ssestreamer_*), and those written from the reference's
// shapes (ref_*), the Flowise Cloud failures among them.
var goldens = []golden{
	{file: "ssestreamer_rag.golden", text: "We are open 9–5 \"daily\",\nsee 🕘.",
		conversationID: recordedChatID, messageID: "7d1e9b20-5c4a-4f3e-8b6d-0a9c2e4f1b37",
		sources: []chatbot.Source{
			{URL: "https://example.com/hours", Snippet: "Opening hours: 9 to 5."},
			{Title: "handbook.pdf", Snippet: "Closed on public holidays."},
		}},
	{file: "ssestreamer_agent.golden", text: "It is 21°C.", conversationID: recordedChatID, messageID: "msg-agent-1"},
	{file: "ssestreamer_error.golden", text: "Par",
		errMessage: "401 Unauthorized – check your API key and ensure it has access to the requested model.", errCode: chatbot.CodeUnknown},
	{file: "ssestreamer_metadata_only.golden", wantEOF: true,
		errContains: `(chatId "` + recordedChatID + `", chatMessageId "7d1e9b20-5c4a-4f3e-8b6d-0a9c2e4f1b37")`},
	{file: "ref_tokens.golden", text: "Our hours: 9–5\n\nSee {\"ok\": true}", conversationID: "chat-ref-1", messageID: "msg-ref-1",
		sources: []chatbot.Source{{ID: "d1", Title: "Opening hours", URL: "https://example.com/hours", Snippet: "Open 9 to 5"}}},
	{file: "ref_crlf.golden", text: "Our hours: 9–5\n\nSee {\"ok\": true}", conversationID: "chat-ref-1", messageID: "msg-ref-1",
		sources: []chatbot.Source{{ID: "d1", Title: "Opening hours", URL: "https://example.com/hours", Snippet: "Open 9 to 5"}}},
	{file: "ref_agentflow.golden", text: "Paris.", conversationID: "chat-agent-1", messageID: "msg-agent-2"},
	{file: "ref_metadata_end.golden", wantEOF: true, errContains: `(chatId "chat-cloud-1", chatMessageId "msg-cloud-1")`},
	{file: "ref_empty.golden", wantEOF: true},
	{file: "ref_truncated.golden", text: "Half a rep", wantEOF: true},
	{file: "ref_abort.golden", text: "Stopped", wantEOF: true},
	{file: "ref_error.golden", text: "Let", errMessage: "Error: vector store is not reachable", errCode: chatbot.CodeUnknown},
}

// streamGolden streams body through a client, written writeSize bytes at a
// time (0: at once), and returns the chunks and the final error.
func streamGolden(t *testing.T, body []byte, writeSize int) ([]chatbot.Chunk, error) {
	t.Helper()
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		written := 0
		fake.Writer{WriteSize: writeSize}.Write(r.Context(), w, &written, body)
	})
	var chunks []chatbot.Chunk
	var err error
	for ch, e := range c.Stream(context.WithoutCancel(t.Context()), chatbot.Request{Message: "hi"}) {
		if e != nil {
			err = e
			break
		}
		chunks = append(chunks, ch)
	}
	return chunks, err
}

func TestGoldenStreams(t *testing.T) {
	t.Parallel()
	for _, g := range goldens {
		for _, size := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/writes of %d", g.file, size), func(t *testing.T) {
				t.Parallel()
				chunks, err := streamGolden(t, readTestdata(t, g.file), size)
				reply, cerr := chatbot.Collect(replay(chunks, err))
				require.Equal(t, err, cerr)
				assert.Equal(t, g.text, reply.Text)
				assert.Equal(t, g.conversationID, reply.ConversationID)
				assert.Equal(t, g.messageID, reply.MessageID)
				assert.Equal(t, g.sources, withoutRaw(reply.Sources))
				assert.Equal(t, g.usage, reply.Usage)
				assert.Equal(t, g.finish, reply.FinishReason)
				for i, ch := range chunks {
					assert.Equal(t, i == len(chunks)-1 && err == nil, ch.Done, "chunk %d of %d", i+1, len(chunks))
				}
				switch {
				case g.wantEOF:
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
					var apiErr *chatbot.Error
					assert.NotErrorAs(t, err, &apiErr, "a broken stream is not an error the provider reported")
					assert.Contains(t, err.Error(), g.errContains)
				case g.errMessage != "":
					var apiErr *chatbot.Error
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, "flowise", apiErr.Provider)
					assert.Equal(t, g.errMessage, apiErr.Message)
					assert.Equal(t, g.errCode, apiErr.Code)
					assert.Zero(t, apiErr.StatusCode)
				default:
					require.NoError(t, err)
					require.NotEmpty(t, chunks)
				}
			})
		}
	}
}

// replay yields chunks, then err if not nil.
func replay(chunks []chatbot.Chunk, err error) func(func(chatbot.Chunk, error) bool) {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
		if err != nil {
			yield(chatbot.Chunk{}, err)
		}
	}
}

// withoutRaw returns sources with Raw cleared, for comparison; nil for none.
func withoutRaw(sources []chatbot.Source) []chatbot.Source {
	if len(sources) == 0 {
		return nil
	}
	out := make([]chatbot.Source, len(sources))
	for i, s := range sources {
		s.Raw = nil
		out[i] = s
	}
	return out
}
