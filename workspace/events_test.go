package workspace_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/workspace"
)

// serveEvents serves body as an event stream, written and flushed in pieces
// of size bytes (0: at once).
func serveEvents(t *testing.T, body []byte, size int) *workspace.Client {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-RateLimit-Remaining", "41")
		fake.Writer{WriteSize: size}.Write(r.Context(), w, new(int), body)
	})
}

func TestStreamDecoder(t *testing.T) {
	t.Parallel()
	const hello = "Hello, wörld ✓"
	tests := []struct {
		file       string
		wantTexts  []string // the text chunks before the final one
		wantFinal  string   // the final chunk's text
		wantConv   string
		wantMsg    string
		wantCode   chatbot.Code // an error event's code, or ""
		wantErrMsg string
	}{
		{file: "stream_type_content.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_aisdk.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_dify.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_flowise.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_openai.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_token_done.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_crlf_comments.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_event_names.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_no_end.sse", wantTexts: []string{"Hel", "lo, wörld ✓"}, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_final_response.sse", wantFinal: hello, wantConv: "cm5conv1", wantMsg: "cm5msg1"},
		{file: "stream_error.sse", wantTexts: []string{"Hel"}, wantConv: "cm5conv1", wantMsg: "cm5msg1",
			wantCode: chatbot.CodeQuotaExceeded, wantErrMsg: "Insufficient credits to generate AI response."},
	}
	for _, tt := range tests {
		for _, size := range []int{0, 1, 7} {
			t.Run(tt.file+"/"+map[int]string{0: "whole", 1: "1 byte", 7: "7 bytes"}[size], func(t *testing.T) {
				t.Parallel()
				c := serveEvents(t, readTestdata(t, tt.file), size)
				var (
					texts  []string
					chunks []chatbot.Chunk
					gotErr error
				)
				for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
					if err != nil {
						gotErr = err
						continue
					}
					chunks = append(chunks, ch)
					if !ch.Done {
						texts = append(texts, ch.Text)
					}
				}
				assert.Equal(t, tt.wantTexts, texts)
				require.NotEmpty(t, chunks)
				require.NotNil(t, chunks[0].RateLimit)
				assert.Equal(t, 41, chunks[0].RateLimit.Remaining)
				last := chunks[len(chunks)-1]
				assert.Equal(t, tt.wantConv, last.ConversationID)
				assert.Equal(t, tt.wantMsg, last.MessageID)
				if tt.wantCode != "" {
					var apiErr *chatbot.Error
					require.ErrorAs(t, gotErr, &apiErr)
					assert.Equal(t, tt.wantCode, apiErr.Code)
					assert.Equal(t, 0, apiErr.StatusCode)
					assert.Equal(t, tt.wantErrMsg, apiErr.Message)
					assert.False(t, last.Done)
					return
				}
				require.NoError(t, gotErr)
				assert.True(t, last.Done)
				assert.Equal(t, tt.wantFinal, last.Text)
			})
		}
	}
}

func TestStreamDecoderRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     string
		wantConv string
		wantCode chatbot.Code
	}{
		{name: "content wins over token", body: "data: {\"content\":\"a\",\"token\":\"b\"}\n\n", want: "a"},
		{name: "non-string candidate is skipped", body: "data: {\"content\":5,\"token\":\"b\"}\n\n", want: "b"},
		{name: "escaped JSON string", body: "data: {\"delta\":\"tab\\there \\u00e9 \\\"q\\\"\"}\n\n", want: "tab\there é \"q\""},
		{name: "numeric ids", body: "data: {\"text\":\"a\",\"conversationId\":42,\"message_id\":7}\n\n", want: "a", wantConv: "42"},
		{name: "delta object with content", body: "data: {\"delta\":{\"content\":\"a\"}}\n\n", want: "a"},
		{name: "non-JSON data is the text", body: "data: plain text\n\n", want: "plain text"},
		{name: "multi-line data", body: "data: line 1\ndata: line 2\n\n", want: "line 1\nline 2"},
		{name: "JSON string data", body: "data: \"quoted\"\n\n", want: "quoted"},
		{name: "ids under data", body: "data: {\"text\":\"a\",\"data\":{\"conversation_id\":\"c9\"}}\n\n", want: "a", wantConv: "c9"},
		{name: "type wins over event", body: "data: {\"type\":\"token\",\"event\":\"end\",\"token\":\"a\"}\n\ndata: {\"token\":\"b\"}\n\n", want: "ab"},
		{name: "event key ends", body: "data: {\"token\":\"a\"}\n\ndata: {\"event\":\"stream_end\"}\n\ndata: {\"token\":\"never\"}\n\n", want: "a"},
		{name: "SSE name ends", body: "data: a\n\nevent: complete\ndata: {}\n\ndata: never\n\n", want: "a"},
		{name: "DONE ends", body: "data: a\n\ndata: [DONE]\n\ndata: never\n\n", want: "a"},
		{name: "response ignored after deltas", body: "data: {\"token\":\"a\"}\n\ndata: {\"type\":\"completed\",\"response\":\"whole\"}\n\n", want: "a"},
		{name: "response used without deltas", body: "data: {\"type\":\"completed\",\"response\":\"whole\"}\n\n", want: "whole"},
		{name: "response without end marker", body: "data: {\"response\":\"whole\",\"conversationId\":\"c1\"}\n\n", want: "whole", wantConv: "c1"},
		{name: "error event with nested error", body: "data: {\"token\":\"a\"}\n\ndata: {\"type\":\"error\",\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"slow\"}}\n\n",
			want: "a", wantCode: chatbot.CodeRateLimitExceeded},
		{name: "SSE error event with text data", body: "event: error\ndata: boom\n\n", wantCode: chatbot.CodeUnknown},
		{name: "BOM and lone CR", body: "\ufeffdata: a\r\rdata: b\r\r", want: "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serveEvents(t, []byte(tt.body), 0)
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			assert.Equal(t, tt.want, reply.Text)
			assert.Equal(t, tt.wantConv, reply.ConversationID)
			if tt.wantCode != "" {
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.wantCode, apiErr.Code)
				return
			}
			require.NoError(t, err)
		})
	}
}
