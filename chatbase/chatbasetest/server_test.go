package chatbasetest_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
)

// post sends a raw chat request to the fake.
func post(t *testing.T, srv *chatbasetest.Server, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"agents/"+srv.AgentID()+"/chat", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	return resp, string(b)
}

func TestFakeStreamsByDefault(t *testing.T) {
	t.Parallel()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("Hi")
	resp, body := post(t, srv, `{"message":"hello"}`)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"), "Chatbase's stream defaults to true")
	assert.Equal(t, "v1", resp.Header.Get("X-Vercel-Ai-Ui-Message-Stream"))
	assert.Equal(t, "req_000001", resp.Header.Get("X-Request-Id"))
	assert.Contains(t, body, `data: {"delta":"Hi","id":"txt_0","type":"text-delta"}`)
	assert.True(t, strings.HasSuffix(body, "data: [DONE]\n\n"))

	resp, body = post(t, srv, `{"message":"hello","stream":false}`)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `"finishReason":"stop"`)
}

func TestFakeRateLimitsWithAResetInMilliseconds(t *testing.T) {
	t.Parallel()
	clk := fakes.NewManualClock(time.UnixMilli(1_800_000_000_500))
	srv := chatbasetest.NewServer(chatbasetest.Config{RateLimit: 1, RateWindow: 10 * time.Second, Clock: clk})
	t.Cleanup(srv.Close)
	resp, _ := post(t, srv, `{"message":"one","stream":false}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	assert.Equal(t, strconv.FormatInt(clk.Now().Add(10*time.Second).UnixMilli(), 10), resp.Header.Get("X-RateLimit-Reset"))

	clk.Advance(4 * time.Second)
	resp, body := post(t, srv, `{"message":"two","stream":false}`)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "6", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, `"code":"RATE_LIMIT_TOO_MANY_REQUESTS"`)

	clk.Advance(6 * time.Second)
	resp, _ = post(t, srv, `{"message":"three","stream":false}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the window slid")
}

func TestFakeValidatesLikeChatbase(t *testing.T) {
	t.Parallel()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	t.Cleanup(srv.Close)
	for body, want := range map[string]string{
		`{`:                               `"code":"VALIDATION_INVALID_JSON"`,
		`{"stream":false}`:                `"details":{"message":["Required"]}`,
		`{"message":"hi","userId":"a b"}`: `"code":"VALIDATION_INVALID_BODY"`,
		`{"conversationId":"conv_x","stream":false}`: `"code":"RESOURCE_NOT_FOUND"`,
	} {
		resp, got := post(t, srv, body)
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, body)
		assert.Contains(t, got, want, body)
	}
	assert.Equal(t, http.StatusPaymentRequired, chatbasetest.StatusFor("CHAT_CREDITS_EXHAUSTED"))
	assert.Equal(t, http.StatusNotFound, chatbasetest.StatusFor("RESOURCE_TOOL_CALL_NOT_FOUND"))
	assert.Equal(t, http.StatusForbidden, chatbasetest.StatusFor("AUTH_INSUFFICIENT_PERMISSIONS"))
	assert.Equal(t, http.StatusUnauthorized, chatbasetest.StatusFor("AUTH_INVALID_API_KEY"))
	assert.Equal(t, http.StatusBadRequest, chatbasetest.StatusFor("CHAT_CONVERSATION_NOT_ONGOING"))
}

// TestFakeScriptsUsageAndFinishReason: SetUsage writes the credits, the one
// count Chatbase's usage carries, and SetUsage(nil) drops the usage;
// SetFinishReason writes the AI SDK's word, in the JSON reply and in the
// stream's finish part.
func TestFakeScriptsUsageAndFinishReason(t *testing.T) {
	t.Parallel()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("Hi")
	srv.SetUsage(&chatbot.Usage{InputTokens: 3, Credits: 2.5})
	srv.SetFinishReason(chatbot.FinishLength)
	_, body := post(t, srv, `{"message":"hello","stream":false}`)
	assert.Contains(t, body, `"usage":{"credits":2.5}`)
	assert.Contains(t, body, `"finishReason":"length"`)
	assert.NotContains(t, body, "inputTokens")
	_, body = post(t, srv, `{"message":"hello"}`)
	assert.Contains(t, body, `"finishReason":"length"`)
	assert.Contains(t, body, `"usage":{"credits":2.5}`)

	srv.SetUsage(nil)
	srv.SetFinishReason("")
	for _, req := range []string{`{"message":"hello","stream":false}`, `{"message":"hello"}`} {
		_, body = post(t, srv, req)
		assert.NotContains(t, body, `"usage"`, req)
		assert.Contains(t, body, `"finishReason":"stop"`, req)
	}
}
