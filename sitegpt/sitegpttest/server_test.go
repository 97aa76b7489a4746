package sitegpttest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func do(t *testing.T, srv *sitegpttest.Server, method, path, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServerDefaultsAndChecks(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	t.Cleanup(srv.Close)
	assert.Equal(t, sitegpttest.DefaultAPIKey, srv.APIKey())
	assert.Equal(t, sitegpttest.DefaultChatbotID, srv.ChatbotID())
	assert.True(t, strings.HasSuffix(srv.URL, "/api/v0/"))

	tests := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{name: "ok", method: "POST", path: "chatbots/" + srv.ChatbotID() + "/message", key: srv.APIKey(), body: `{"message":"Hi"}`, status: 200},
		{name: "wrong key", method: "POST", path: "chatbots/" + srv.ChatbotID() + "/message", key: "nope", body: `{"message":"Hi"}`, status: 401},
		{name: "unknown chatbot", method: "GET", path: "chatbots/other/threads", key: srv.APIKey(), status: 404},
		{name: "no message", method: "POST", path: "chatbots/" + srv.ChatbotID() + "/message", key: srv.APIKey(), body: `{}`, status: 400},
		{name: "agent without thread", method: "POST", path: "chatbots/" + srv.ChatbotID() + "/message", key: srv.APIKey(), body: `{"message":"Hi","from":"AGENT"}`, status: 400},
		{name: "limit over 100", method: "GET", path: "chatbots/" + srv.ChatbotID() + "/threads?limit=101", key: srv.APIKey(), status: 400},
		{name: "unknown thread", method: "GET", path: "chatbots/" + srv.ChatbotID() + "/threads/nope", key: srv.APIKey(), status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, srv, tt.method, tt.path, tt.key, tt.body)
			assert.Equal(t, tt.status, resp.StatusCode)
		})
	}
	assert.Equal(t, len(tests), srv.Count())
}

func TestServerFailNextCounts(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	t.Cleanup(srv.Close)
	srv.FailNext(2, sitegpttest.Failure{Code: string(sitegpt.CodeMessagesLimitReached)})

	path := "chatbots/" + srv.ChatbotID() + "/threads"
	var got []int
	for range 3 {
		got = append(got, do(t, srv, "GET", path, srv.APIKey(), "").StatusCode)
	}
	assert.Equal(t, []int{403, 403, 200}, got)
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[sitegpt.ErrorCode]int{
		sitegpt.CodeAPIKeyNotValid:          401,
		sitegpt.CodeRequestValidationFailed: 400,
		sitegpt.CodeChatbotNotFound:         404,
		sitegpt.CodeChatbotFetchForbidden:   403,
		sitegpt.CodeMessagesLimitReached:    403,
		sitegpt.CodeChatbotLimitReached:     403,
		"":                                  400,
	} {
		assert.Equal(t, want, sitegpttest.StatusFor(string(code)), code)
	}
}

func TestServerCloseReleasesStall(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	srv.StallNext(1)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"chatbots/"+srv.ChatbotID()+"/threads", nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-srv.Stalled():
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the request never stalled")
	}
	srv.Close() // must not hang on the stalled handler
	select {
	case <-done:
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the stalled request was not released")
	}
}

// TestServerFailureWireFormat checks that every Failure is written in
// SiteGPT's error envelope, with Retry-After when it asks for a wait.
func TestServerFailureWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		script     func(*sitegpttest.Server)
		status     int
		body       string
		retryAfter string
	}{
		{name: "rate limit", script: func(s *sitegpttest.Server) { s.RateLimitNext(1, 30*time.Second) }, status: 429,
			body:       `{"data":null,"error":{"details":null,"message":"Too Many Requests"},"message":"Too Many Requests","success":false}`,
			retryAfter: "30"},
		{name: "code decides the status", script: func(s *sitegpttest.Server) {
			s.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeChatbotNotFound), Message: "Chatbot not found"})
		}, status: 404,
			body: `{"data":null,"error":{"code":"CHATBOT_NOT_FOUND","details":null,"message":"Chatbot not found"},"message":"Chatbot not found","success":false}`},
		{name: "zero value", script: func(s *sitegpttest.Server) { s.FailNext(1, sitegpttest.Failure{}) }, status: 500,
			body: `{"data":null,"error":{"details":null,"message":"Internal Server Error"},"message":"Internal Server Error","success":false}`},
		{name: "verbatim body", script: func(s *sitegpttest.Server) {
			s.FailNext(1, sitegpttest.Failure{Status: 502, Body: "<html>bad gateway</html>"})
		}, status: 502, body: "<html>bad gateway</html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sitegpttest.NewServer(sitegpttest.Config{})
			t.Cleanup(srv.Close)
			tt.script(srv)
			resp := do(t, srv, "GET", "chatbots/"+srv.ChatbotID()+"/threads", srv.APIKey(), "")
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, strings.TrimSpace(string(b)))
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
		})
	}
}

func TestServerReplyAndAnswer(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	t.Cleanup(srv.Close)
	answer := func() string {
		t.Helper()
		resp := do(t, srv, "POST", "chatbots/"+srv.ChatbotID()+"/message", srv.APIKey(), `{"message":"Hi"}`)
		var body struct {
			Data struct {
				Message struct {
					Answer struct{ Text string } `json:"answer"`
				} `json:"message"`
			} `json:"data"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return body.Data.Message.Answer.Text
	}
	assert.Equal(t, "You said: Hi", answer())
	srv.SetReply("Hello ", "there")
	assert.Equal(t, "Hello there", answer())
	srv.SetAnswer(strings.ToUpper)
	assert.Equal(t, "HI", answer())
	srv.SetAnswer(nil)
	assert.Equal(t, "You said: Hi", answer())
}
