package workspacetest_test

import (
	"bufio"
	"context"
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

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
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

// TestSlidingWindow fills the window on a manual clock and slides it by
// moving the clock: what the server answers depends only on the clock.
func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 250_000_000) // a quarter second past a whole second
	clock := fakes.NewManualClock(start)
	srv := workspacetest.NewServer(workspacetest.Config{RateLimit: 2, RateWindow: time.Minute, Clock: clock})
	t.Cleanup(srv.Close)

	admitted := func(t *testing.T, remaining string, reset int64) {
		t.Helper()
		resp := post(t, srv, srv.APIKey(), `{"message":"hi","stream":false}`)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, remaining, resp.Header.Get("X-RateLimit-Remaining"))
		assert.Equal(t, strconv.FormatInt(reset, 10), resp.Header.Get("X-RateLimit-Reset"))
	}
	refused := func(t *testing.T, retryAfter int, reset int64) {
		t.Helper()
		resp := post(t, srv, srv.APIKey(), `{"message":"hi"}`)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
		assert.Equal(t, strconv.FormatInt(reset, 10), resp.Header.Get("X-RateLimit-Reset"))
		assert.Equal(t, strconv.Itoa(retryAfter), resp.Header.Get("Retry-After"))
		var body struct {
			Code       string `json:"code"`
			RetryAfter int    `json:"retryAfter"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, "RATE_LIMIT_EXCEEDED", body.Code)
		assert.Equal(t, retryAfter, body.RetryAfter)
	}

	// The reset is when the oldest request leaves the window, rounded up to
	// a whole second: start+60.25 s.
	firstOut := start.Unix() + 61
	admitted(t, "1", firstOut)
	clock.Advance(10 * time.Second)
	admitted(t, "0", firstOut)
	refused(t, 50, firstOut) // 50 s until the first leaves

	clock.Advance(49750 * time.Millisecond) // 0.25 s short of the first leaving
	refused(t, 1, firstOut)                 // rounded up

	clock.Advance(250 * time.Millisecond) // the first has left
	admitted(t, "0", start.Unix()+71)     // the second is now the oldest
	refused(t, 10, start.Unix()+71)
	assert.Equal(t, 6, srv.Count())
}

// TestTimestampsFollowTheClock checks that leads are stamped with the
// configured clock's time.
func TestTimestampsFollowTheClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := workspacetest.NewServer(workspacetest.Config{Clock: fakes.NewManualClock(at)})
	t.Cleanup(srv.Close)
	id := srv.AddLead(map[string]any{"name": "Ada", "email": "ada@example.com"})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/chatbots/"+srv.ChatbotID()+"/leads/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, "2030-05-06T07:08:09Z", body.Data["createdAt"])
	assert.Equal(t, "2030-05-06T07:08:09Z", body.Data["updatedAt"])
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

// TestFailureWireFormat checks that every Failure is written as workspace
// documents its errors, with the rate-limit headers and Retry-After.
func TestFailureWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		script     func(*workspacetest.Server)
		status     int
		body       string
		retryAfter string
	}{
		{name: "rate limit", script: func(s *workspacetest.Server) { s.RateLimitNext(1, 2500*time.Millisecond) }, status: 429,
			body:       `{"success":false,"error":"Rate limit exceeded. Please wait before sending another message.","code":"RATE_LIMIT_EXCEEDED","retryAfter":3}`,
			retryAfter: "3"},
		{name: "code and message", script: func(s *workspacetest.Server) {
			s.FailNext(1, workspacetest.Failure{Status: 402, Code: "INSUFFICIENT_CREDITS", Message: "Insufficient credits"})
		}, status: 402, body: `{"success":false,"error":"Insufficient credits","code":"INSUFFICIENT_CREDITS"}`},
		{name: "zero value", script: func(s *workspacetest.Server) { s.FailNext(1, workspacetest.Failure{}) }, status: 500,
			body: `{"success":false,"error":"Internal Server Error","code":""}`},
		{name: "verbatim body", script: func(s *workspacetest.Server) {
			s.FailNext(1, workspacetest.Failure{Status: 503, Body: "<html>down</html>"})
		}, status: 503, body: `<html>down</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := workspacetest.NewServer(workspacetest.Config{})
			t.Cleanup(srv.Close)
			tt.script(srv)
			resp := post(t, srv, srv.APIKey(), `{"message":"hi"}`)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, strings.TrimSpace(string(b)))
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
			assert.Equal(t, "1000", resp.Header.Get("X-RateLimit-Limit"))
			assert.Equal(t, http.StatusOK, post(t, srv, srv.APIKey(), `{"message":"hi"}`).StatusCode, "only the next request fails")
		})
	}
}

// TestStallAfter checks that a reply stops after the given number of events
// and is held until its client goes away.
func TestStallAfter(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("one ", "two")
	srv.StallAfter(1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/chatbots/"+srv.ChatbotID()+"/chat", strings.NewReader(`{"message":"hi","stream":true}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, first, `"content":"one "`)
	select {
	case <-srv.Stalled():
	case <-time.After(10 * time.Second):
		require.Fail(t, "the reply never stalled")
	}
	cancel()
	select {
	case <-srv.Disconnects():
	case <-time.After(10 * time.Second):
		require.Fail(t, "the server did not observe the client leaving")
	}
}
