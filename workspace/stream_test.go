package workspace_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/workspace"
)

// serveBody serves body with the given Content-Type and extra header.
func serveBody(t *testing.T, contentType string, header [2]string, body string) *workspace.Client {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		if header[0] != "" {
			w.Header().Set(header[0], header[1])
		}
		_, _ = io.WriteString(w, body)
	})
}

// TestStreamIDOnlyEventDoesNotFixTheDialect: an event with an id and no
// text leaves the dialect open, so the plain text that follows is the reply
// (issue 25, item 6).
func TestStreamIDOnlyEventDoesNotFixTheDialect(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body, want string }{
		{name: "plain text after an id", body: "data: {\"conversationId\":\"c9\"}\n\ndata: Hello\n\ndata: , world\n\n", want: "Hello, world"},
		{name: "JSON text after an id", body: "data: {\"conversationId\":\"c9\"}\n\ndata: {\"token\":\"Hello\"}\n\ndata: not text in a JSON stream\n\n", want: "Hello"},
		{name: "quoted text after an id", body: "data: {\"chatId\":\"c9\"}\n\ndata: \"Hello\"\n\n", want: "Hello"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serveBody(t, "text/event-stream", [2]string{}, tt.body)
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			require.NoError(t, err)
			assert.Equal(t, tt.want, reply.Text)
			assert.Equal(t, "c9", reply.ConversationID)
		})
	}
}

// TestStreamDataStreamMalformedTextPartFails: a text part that is not a
// JSON string fails the stream with a typed error after the text before it,
// as the AI SDK's reader throws (issue 25, item 7).
func TestStreamDataStreamMalformedTextPartFails(t *testing.T) {
	t.Parallel()
	for _, part := range []string{"0:lo wor", "0:42", "0:{\"text\":\"x\"}", "0:\"unterminated"} {
		t.Run(part, func(t *testing.T) {
			t.Parallel()
			c := serveBody(t, "text/plain", [2]string{"X-Vercel-AI-Data-Stream", "v1"}, "0:\"hel\"\n"+part+"\n0:\"ld\"\nd:{\"finishReason\":\"stop\"}\n")
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "workspace", apiErr.Provider)
			assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
			assert.Contains(t, apiErr.Message, "malformed text part")
			assert.Equal(t, "hel", reply.Text, "the text before the bad part is kept")
		})
	}
}

// TestStreamLeadingBOMIsStripped: a byte order mark before the first part
// of a data stream, or opening a raw text body, is not part of the reply
// and does not lose the first part (issue 25, item 7).
func TestStreamLeadingBOMIsStripped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, contentType string
		header            [2]string
		body, want        string
	}{
		{name: "data stream", contentType: "text/plain", header: [2]string{"X-Vercel-AI-Data-Stream", "v1"},
			body: "\uFEFF0:\"first\"\n0:\" second\"\nd:{\"finishReason\":\"stop\"}\n", want: "first second"},
		{name: "raw text", contentType: "text/plain", body: "\uFEFFHello", want: "Hello"},
		{name: "SSE", contentType: "text/event-stream", body: "\uFEFFdata: Hello\n\n", want: "Hello"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serveBody(t, tt.contentType, tt.header, tt.body)
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			require.NoError(t, err)
			assert.Equal(t, tt.want, reply.Text)
		})
	}
}

// TestStreamAISDKSourcesUsageAndFinishReason: the sources parts, the usage
// in the message metadata and the finish reason of an AI SDK stream reach
// the reply.
func TestStreamAISDKSourcesUsageAndFinishReason(t *testing.T) {
	t.Parallel()
	body := "data: {\"type\":\"start\",\"messageId\":\"m1\"}\n\n" +
		"data: {\"type\":\"source-url\",\"sourceId\":\"s1\",\"url\":\"https://example.com/a\",\"title\":\"A\"}\n\n" +
		"data: {\"type\":\"text-delta\",\"id\":\"t\",\"delta\":\"Hi\"}\n\n" +
		"data: {\"type\":\"source-document\",\"sourceId\":\"s2\",\"mediaType\":\"text/plain\",\"title\":\"B\"}\n\n" +
		"data: {\"type\":\"finish\",\"finishReason\":\"length\",\"messageMetadata\":{\"conversationId\":\"c1\",\"usage\":{\"inputTokens\":5,\"outputTokens\":2,\"totalTokens\":7}}}\n\n" +
		"data: [DONE]\n\n"
	c := serveBody(t, "text/event-stream", [2]string{"X-Vercel-AI-UI-Message-Stream", "v1"}, body)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err)
	assert.Equal(t, "Hi", reply.Text)
	assert.Equal(t, "m1", reply.MessageID)
	assert.Equal(t, "c1", reply.ConversationID)
	assert.Equal(t, chatbot.FinishLength, reply.FinishReason)
	assert.Equal(t, &chatbot.Usage{InputTokens: 5, OutputTokens: 2, TotalTokens: 7}, reply.Usage)
	require.Len(t, reply.Sources, 2)
	assert.Equal(t, "s1", reply.Sources[0].ID)
	assert.Equal(t, "https://example.com/a", reply.Sources[0].URL)
	assert.Equal(t, "A", reply.Sources[0].Title)
	assert.Equal(t, "B", reply.Sources[1].Title)
	assert.JSONEq(t, `{"type":"source-document","sourceId":"s2","mediaType":"text/plain","title":"B"}`, string(reply.Sources[1].Raw))
}

// TestStreamAISDKPendingToolCall: an AI SDK stream that finishes for a tool
// call the server did not run is an action-required reply, never a
// complete one.
func TestStreamAISDKPendingToolCall(t *testing.T) {
	t.Parallel()
	body := "data: {\"type\":\"text-delta\",\"id\":\"t\",\"delta\":\"One moment.\"}\n\n" +
		"data: {\"type\":\"tool-input-available\",\"toolCallId\":\"call-1\",\"toolName\":\"book\",\"input\":{\"day\":\"mon\"}}\n\n" +
		"data: {\"type\":\"finish\",\"finishReason\":\"tool-calls\"}\n\ndata: [DONE]\n\n"
	c := serveBody(t, "text/event-stream", [2]string{}, body)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	assert.Equal(t, "One moment.", reply.Text)
	assert.Equal(t, chatbot.FinishActionRequired, reply.FinishReason)
	require.Len(t, reply.Actions, 1)
	assert.Equal(t, chatbot.Action{ID: "call-1", Name: "book", Input: []byte(`{"day":"mon"}`)}, reply.Actions[0])
}
