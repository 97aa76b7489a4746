package userdesktest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

// send posts body to path (relative to srv.URL) with key, on ctx.
func send(t *testing.T, ctx context.Context, srv *userdesktest.Server, key, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// await fails the test if c yields nothing within a bound far above any
// machine's latency.
func await(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		require.FailNow(t, what)
	}
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestServerChecks(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	assert.Equal(t, userdesktest.DefaultAPIKey, srv.APIKey())
	assert.Equal(t, userdesktest.DefaultChatbotID, srv.ChatbotID())
	assert.True(t, strings.HasSuffix(srv.URL, "/v1/"))
	msg := "chatbot/" + srv.ChatbotID() + "/message"
	tests := []struct {
		name, key, path, body string
		status                int
		want                  string
	}{
		{name: "no key", path: msg, body: `{"message":"hi"}`, status: 401},
		{name: "wrong key", key: "other", path: msg, body: `{"message":"hi"}`, status: 401},
		{name: "other chatbot", key: srv.APIKey(), path: "chatbot/other/message", body: `{"message":"hi"}`, status: 403},
		{name: "no message", key: srv.APIKey(), path: msg, body: `{}`, status: 400,
			want: `{"message":"The request was malformed or missing required fields","success":false}`},
		{name: "unknown conversation", key: srv.APIKey(), path: msg, body: `{"message":"hi","conversationId":"nope"}`, status: 400,
			want: `{"message":"The conversationId is not valid","success":false}`},
		{name: "answer", key: srv.APIKey(), path: msg, body: `{"message":"hi"}`, status: 200,
			want: `{"success":true,"conversationId":"conv-1","response":"You said: hi"}`},
	}
	for _, tt := range tests {
		resp := send(t, t.Context(), srv, tt.key, tt.path, tt.body)
		assert.Equal(t, tt.status, resp.StatusCode, tt.name)
		assert.Equal(t, tt.want, read(t, resp), tt.name)
	}
	assert.Equal(t, len(tests), srv.Count())
	assert.Equal(t, 1, srv.Conversations())
	c, ok := srv.Conversation("conv-1")
	require.True(t, ok)
	assert.Equal(t, []string{"hi"}, c.Messages)
	assert.Equal(t, "hi", srv.Requests()[len(tests)-1].JSON()["message"])
}

func TestServerStreamsPartByPart(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	srv.SetConversationHeader("X-Conversation-Id")
	srv.SetReply("Grüße ", "aus ", "Köln")
	resp := send(t, t.Context(), srv, srv.APIKey(), "chatbot/"+srv.ChatbotID()+"/message", `{"message":"hi","stream":true}`)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "conv-1", resp.Header.Get("X-Conversation-Id"))
	assert.Equal(t, "Grüße aus Köln", read(t, resp))

	srv.SetJSONStream(true)
	srv.SetAnswer(strings.ToUpper)
	resp = send(t, t.Context(), srv, srv.APIKey(), "chatbot/"+srv.ChatbotID()+"/message", `{"message":"hi","stream":true}`)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var env map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	assert.Equal(t, "HI", env["response"])
}

func TestServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		script      func(*userdesktest.Server)
		status      int
		body        string
		contentType string
		retryAfter  string
	}{
		{name: "status only", script: func(s *userdesktest.Server) { s.FailNext(1, userdesktest.Failure{Status: 403}) }, status: 403},
		{name: "message", script: func(s *userdesktest.Server) {
			s.FailNext(1, userdesktest.Failure{Status: 400, Code: "ignored", Message: "bad"})
		}, status: 400, body: `{"message":"bad","success":false}`, contentType: "application/json"},
		{name: "html page", script: func(s *userdesktest.Server) {
			s.FailNext(1, userdesktest.Failure{Status: 502, Body: "<html><body>Bad gateway</body></html>"})
		}, status: 502, body: "<html><body>Bad gateway</body></html>", contentType: "text/html; charset=utf-8"},
		{name: "rate limit", script: func(s *userdesktest.Server) { s.RateLimitNext(1, 1200*time.Millisecond) }, status: 429, retryAfter: "2"},
		{name: "zero value", script: func(s *userdesktest.Server) { s.FailNext(1, userdesktest.Failure{}) }, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := userdesktest.NewServer(userdesktest.Config{})
			t.Cleanup(srv.Close)
			tt.script(srv)
			path := "chatbot/" + srv.ChatbotID() + "/conversation"
			resp := send(t, t.Context(), srv, srv.APIKey(), path, `{}`)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, read(t, resp))
			assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
			assert.Equal(t, 200, send(t, t.Context(), srv, srv.APIKey(), path, `{}`).StatusCode, "only the next request fails")
		})
	}
}

func TestServerShapesTheStream(t *testing.T) {
	t.Parallel()
	t.Run("split and cut", func(t *testing.T) {
		t.Parallel()
		srv := userdesktest.NewServer(userdesktest.Config{})
		t.Cleanup(srv.Close)
		srv.SetReply("abcdefghij")
		srv.SplitWrites(3)
		srv.CutAfter(7)
		resp := send(t, t.Context(), srv, srv.APIKey(), "chatbot/"+srv.ChatbotID()+"/message", `{"message":"hi","stream":true}`)
		b, err := io.ReadAll(resp.Body)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body was cut, not ended")
		assert.Equal(t, "abcdefg", string(b))
	})
	t.Run("stall after a part", func(t *testing.T) {
		t.Parallel()
		srv := userdesktest.NewServer(userdesktest.Config{})
		t.Cleanup(srv.Close)
		srv.SetReply("Hello", ", world")
		srv.StallAfter(1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		resp := send(t, ctx, srv, srv.APIKey(), "chatbot/"+srv.ChatbotID()+"/message", `{"message":"hi","stream":true}`)
		buf := make([]byte, 5)
		_, err := io.ReadFull(bufio.NewReader(resp.Body), buf)
		require.NoError(t, err)
		assert.Equal(t, "Hello", string(buf))
		await(t, srv.Stalled(), "the answer never stalled")
		cancel()
		await(t, srv.Disconnects(), "the server did not see the client leave")
	})
}

func TestServerStallNextAndClose(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	srv.StallNext(1)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"chatbot/"+srv.ChatbotID()+"/conversation", strings.NewReader(`{}`))
		if err == nil {
			var resp *http.Response
			if resp, err = http.DefaultTransport.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		}
		done <- err
	}()
	await(t, srv.Stalled(), "the request never stalled")
	srv.Close() // ends the stalled request rather than waiting for it
	assert.Error(t, <-done, "the stalled request got no answer")
	assert.Equal(t, 0, srv.Conversations())
}

func TestServerConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"chatbot/"+srv.ChatbotID()+"/message", strings.NewReader(`{"message":"hi"}`))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Authorization", "Bearer "+srv.APIKey())
			resp, err := http.DefaultTransport.RoundTrip(req)
			if assert.NoError(t, err) {
				assert.Equal(t, 200, resp.StatusCode)
				resp.Body.Close()
			}
		}()
		srv.SetReply("x") // setters race with requests: safe under -race
	}
	wg.Wait()
	assert.Equal(t, 20, srv.Conversations())
	assert.Equal(t, 20, srv.Count())
}
