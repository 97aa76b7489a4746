package workspacetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func post(t *testing.T, srv *workspacetest.Server, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/chatbots/"+srv.ChatbotID()+"/chat", strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	for key, code := range map[string]string{"": "MISSING_AUTH_HEADER", "sk-workspace_other": "INVALID_API_KEY"} {
		resp := post(t, srv, key, `{"message":"hi"}`)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		var body struct {
			Success bool   `json:"success"`
			Code    string `json:"code"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, code, body.Code)
		assert.False(t, body.Success)
		assert.NotEmpty(t, resp.Header.Get("X-RateLimit-Limit"), "rate-limit headers on every response")
	}
}

func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{RateLimit: 2, RateWindow: 200 * time.Millisecond})
	t.Cleanup(srv.Close)
	for i := range 2 {
		resp := post(t, srv, srv.APIKey(), `{"message":"hi","stream":false}`)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(1-i), resp.Header.Get("X-RateLimit-Remaining"))
		assert.Equal(t, strconv.Itoa(i+1), resp.Header.Get("X-RateLimit-Used"))
		reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		require.NoError(t, err)
		assert.InDelta(t, time.Now().Unix(), reset, 2)
	}
	resp := post(t, srv, srv.APIKey(), `{"message":"hi"}`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	var body struct {
		Code       string `json:"code"`
		RetryAfter int    `json:"retryAfter"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, "RATE_LIMIT_EXCEEDED", body.Code)
	assert.Equal(t, 1, body.RetryAfter)

	// Once the window has slid past the first two requests, one is admitted.
	require.Eventually(t, func() bool {
		resp := post(t, srv, srv.APIKey(), `{"message":"hi"}`)
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{RateLimit: 50})
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/chatbots/"+srv.ChatbotID()+"/chat",
				strings.NewReader(`{"message":"hi","stream":true}`))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Authorization", "Bearer "+srv.APIKey())
			resp, err := http.DefaultTransport.RoundTrip(req)
			if !assert.NoError(t, err) {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
		srv.SetReply("x") // setters race with requests: safe under -race
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 50, http.StatusTooManyRequests: 50}, counts)
	assert.Equal(t, 100, srv.Count())
}
