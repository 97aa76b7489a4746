package stammertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

// post sends body to path (relative to srv.URL) with the given
// Authorization header and returns the status and decoded JSON body.
func post(t *testing.T, srv *stammertest.Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return resp.StatusCode, m
}

func TestServerValidatesLikeTheAPI(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	auth := "Token " + srv.APIKey()
	const path = "chatbot/api/v1/message/"
	uuid := srv.ChatbotID()
	tests := []struct {
		name       string
		method     string
		path       string
		auth       string
		body       string
		wantStatus int
		want       map[string]any
	}{
		{name: "no token", method: "POST", path: path, body: `{}`, wantStatus: 401,
			want: map[string]any{"detail": "Authentication credentials were not provided."}},
		{name: "bearer scheme", method: "POST", path: path, auth: "Bearer " + srv.APIKey(), body: `{}`, wantStatus: 401,
			want: map[string]any{"detail": "Invalid token."}},
		{name: "missing fields", method: "POST", path: path, auth: auth, body: `{}`, wantStatus: 400,
			want: map[string]any{"message": "The provided parameters are not valid.", "errors": map[string]any{
				"chatbot_uuid": []any{"This field is required."}, "query": []any{"This field is required."}, "user_key": []any{"This field is required."}}}},
		{name: "bad UUID and blank query", method: "POST", path: path, auth: auth, body: `{"chatbot_uuid": "nope", "query": " ", "user_key": "k"}`, wantStatus: 400,
			want: map[string]any{"message": "The provided parameters are not valid.", "errors": map[string]any{
				"chatbot_uuid": []any{"Must be a valid UUID."}, "query": []any{"This field may not be blank."}}}},
		{name: "query too long", method: "POST", path: path, auth: auth,
			body:       `{"chatbot_uuid": "` + uuid + `", "query": "` + strings.Repeat("ü", 5001) + `", "user_key": "k"}`,
			wantStatus: 400,
			want: map[string]any{"message": "The provided parameters are not valid.", "errors": map[string]any{
				"query": []any{"Ensure this field has no more than 5000 characters."}}}},
		{name: "unknown chatbot", method: "POST", path: path, auth: auth,
			body:       `{"chatbot_uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "query": "q", "user_key": "k"}`,
			wantStatus: 404, want: map[string]any{"detail": "Not found."}},
		{name: "no trailing slash", method: "POST", path: "chatbot/api/v1/message", auth: auth,
			body: `{"chatbot_uuid": "` + uuid + `", "query": "q", "user_key": "k"}`, wantStatus: 404, want: map[string]any{"detail": "Not found."}},
		{name: "wrong method", method: "GET", path: path, auth: auth, wantStatus: 405, want: map[string]any{"detail": `Method "GET" not allowed.`}},
		{name: "not JSON", method: "POST", path: path, auth: auth, body: `query=q`, wantStatus: 400, want: map[string]any{"detail": "JSON parse error - Expecting value"}},
		{name: "answer", method: "POST", path: path, auth: auth, body: `{"chatbot_uuid": "` + strings.ToUpper(uuid) + `", "query": "5000 ü", "user_key": "k"}`,
			wantStatus: 200, want: map[string]any{"message": "Chatbot successfully answered.", "data": map[string]any{"answer": `Answer 1 to "5000 ü"`, "chat_id": float64(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv, tt.method, tt.path, tt.auth, tt.body)
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.want, body)
		})
	}
}

func TestServerFailuresAndAnswer(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{APIKey: "t"})
	t.Cleanup(srv.Close)
	srv.SetHistoryAnswer(func(history []stammertest.Turn, query string) string {
		if len(history) > 0 {
			return history[len(history)-1].Query + " then " + query
		}
		return query
	})
	srv.FailNext(1, stammertest.Throttled())
	body := `{"chatbot_uuid": "` + srv.ChatbotID() + `", "query": "b", "user_key": "k"}`

	status, m := post(t, srv, "POST", "chatbot/api/v1/message/", "Token t", body)
	assert.Equal(t, 429, status)
	assert.Equal(t, "Request was throttled. Expected available in 1 second.", m["detail"])

	srv.SetStatus(http.StatusCreated)
	post(t, srv, "POST", "chatbot/api/v1/message/", "Token t", strings.Replace(body, `"b"`, `"a"`, 1))
	status, m = post(t, srv, "POST", "chatbot/api/v1/message/", "Token t", body)
	assert.Equal(t, 201, status)
	assert.Equal(t, "a then b", m["data"].(map[string]any)["answer"])
	assert.Len(t, srv.History("k"), 2)
	assert.Equal(t, 3, srv.Count())
}

func TestServerStallReleasedByClose(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	srv.StallNext(1)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"user/api/v1/me/", nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-srv.Stalled():
	case err := <-done:
		t.Fatalf("request ended before stalling: %v", err)
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the request never stalled")
	}
	// Close must not hang on the stalled request, which then ends.
	srv.Close()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the stalled request was not released by Close")
	}
	assert.Equal(t, 1, srv.Count())
}

func TestServerConcurrent(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"chatbot/api/v1/message/",
				strings.NewReader(`{"chatbot_uuid": "`+srv.ChatbotID()+`", "query": "q", "user_key": "same"}`))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Authorization", "Token "+srv.APIKey())
			resp, err := http.DefaultClient.Do(req)
			if assert.NoError(t, err) {
				assert.Equal(t, 200, resp.StatusCode, i)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	turns := srv.History("same")
	require.Len(t, turns, 8)
	ids := map[int]bool{}
	for _, turn := range turns {
		ids[turn.ChatID] = true
	}
	assert.Len(t, ids, 8, "every answer has its own chat_id")
}

// TestServerFailureWireFormat checks how each kind of Failure is written in
// Django REST Framework's shape.
func TestServerFailureWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		failure    stammertest.Failure
		status     int
		body       string
		retryAfter string
	}{
		{name: "rate limit", failure: stammertest.Failure{Status: 429, RetryAfter: 1500 * time.Millisecond}, status: 429,
			body: `{"detail":"Request was throttled. Expected available in 2 seconds."}`, retryAfter: "2"},
		{name: "message and code", failure: stammertest.Failure{Status: 403, Code: "permission_denied", Message: "No."}, status: 403,
			body: `{"code":"permission_denied","detail":"No."}`},
		{name: "verbatim body", failure: stammertest.NotFound(), status: 404, body: `{"detail": "Not found."}`},
		{name: "zero value", failure: stammertest.Failure{}, status: 500, body: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := stammertest.NewServer(stammertest.Config{})
			t.Cleanup(srv.Close)
			srv.FailNext(1, tt.failure)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"user/api/v1/me/", nil)
			require.NoError(t, err)
			resp, err := http.DefaultTransport.RoundTrip(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, string(b))
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
		})
	}
}

// TestServerCreatedAtFollowsTheClock checks that conversations are stamped
// with the configured clock's time.
func TestServerCreatedAtFollowsTheClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := stammertest.NewServer(stammertest.Config{Clock: fakes.NewManualClock(at)})
	t.Cleanup(srv.Close)
	auth := "Token " + srv.APIKey()
	status, _ := post(t, srv, "POST", "chatbot/api/v1/message/", auth, `{"chatbot_uuid": "`+srv.ChatbotID()+`", "query": "q", "user_key": "k"}`)
	require.Equal(t, 200, status)
	status, body := post(t, srv, "GET", "chatbot/api/v1/conversations/?chatbot_uuid="+srv.ChatbotID(), auth, "")
	require.Equal(t, 200, status)
	results := body["results"].([]any)
	require.Len(t, results, 1)
	assert.Equal(t, "2031-01-02T03:04:05Z", results[0].(map[string]any)["created_at"])
}
