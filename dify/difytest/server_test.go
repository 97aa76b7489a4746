package difytest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify/difytest"
)

// post sends body to the fake's path with its key and returns the status,
// the Content-Type and the body.
func post(t *testing.T, srv *difytest.Server, key, path, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestServerChecksRequests(t *testing.T) {
	t.Parallel()
	srv := difytest.NewServer(difytest.Config{})
	defer srv.Close()
	tests := []struct {
		key, body string
		status    int
		code      string
	}{
		{"wrong", `{"query":"hi","inputs":{},"user":"u"}`, 401, "unauthorized"},
		{srv.APIKey(), `{"inputs":{},"user":"u"}`, 400, "invalid_param"},
		{srv.APIKey(), `{"query":"hi","user":"u"}`, 400, "invalid_param"},
		{srv.APIKey(), `{"query":"hi","inputs":{}}`, 400, "invalid_param"},
		{srv.APIKey(), `{"query":"hi","inputs":{},"user":"u","conversation_id":"c1"}`, 400, "invalid_param"},
		{srv.APIKey(), `{"query":"hi","inputs":{},"user":"u","conversation_id":"00000000-0000-4000-8000-000000000000"}`, 404, "not_found"},
	}
	for _, tt := range tests {
		status, ct, body := post(t, srv, tt.key, "chat-messages", tt.body)
		require.Equal(t, tt.status, status, tt.body)
		require.Equal(t, "application/json", ct)
		var e struct {
			Code   string `json:"code"`
			Status int    `json:"status"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		require.Equal(t, tt.code, e.Code, tt.body)
		require.Equal(t, tt.status, e.Status)
	}
}

func TestServerStreams(t *testing.T) {
	t.Parallel()
	srv := difytest.NewServer(difytest.Config{Mode: difytest.ModeChatflow})
	defer srv.Close()
	srv.SetReply("a ", "b")
	srv.SetPings(1)
	srv.SetBatch(2)
	status, ct, body := post(t, srv, srv.APIKey(), "chat-messages", `{"query":"hi","inputs":{},"user":"u","response_mode":"streaming"}`)
	require.Equal(t, 200, status)
	require.Equal(t, "text/event-stream", ct)
	require.True(t, strings.HasPrefix(body, "event: ping\n\ndata: {"), body)
	var kinds []string
	for _, ev := range strings.Split(strings.TrimSpace(body), "\n\n")[1:] {
		var e struct {
			Event string `json:"event"`
		}
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &e))
		kinds = append(kinds, e.Event)
	}
	require.Equal(t, []string{"workflow_started", "node_started", "node_finished", "node_started", "message", "message",
		"node_finished", "workflow_finished", "message_end"}, kinds)

	// The agent refuses blocking mode.
	srv.SetMode(difytest.ModeAgent)
	status, _, body = post(t, srv, srv.APIKey(), "chat-messages", `{"query":"hi","inputs":{},"user":"u","response_mode":"blocking"}`)
	require.Equal(t, 400, status)
	require.Contains(t, body, "app_unavailable")
}

func TestServerRecordsStops(t *testing.T) {
	t.Parallel()
	srv := difytest.NewServer(difytest.Config{})
	defer srv.Close()
	status, _, _ := post(t, srv, srv.APIKey(), "chat-messages/task-1/stop", `{"user":"u"}`)
	require.Equal(t, 200, status)
	<-srv.Stopped()
	require.Equal(t, []difytest.Stop{{TaskID: "task-1", User: "u"}}, srv.Stops())
	status, _, _ = post(t, srv, srv.APIKey(), "chat-messages/task-2/stop", `{}`)
	require.Equal(t, 400, status)
	require.Len(t, srv.Stops(), 1)
	require.True(t, bytes.Contains(srv.Requests()[1].Body, []byte("{}")))
}

// TestServerScriptsSourcesAndUsage: SetSources and SetUsage write Dify's
// retriever_resources and metadata.usage, in the blocking answer and in
// message_end; SetUsage(nil) drops the usage.
func TestServerScriptsSourcesAndUsage(t *testing.T) {
	t.Parallel()
	srv := difytest.NewServer(difytest.Config{})
	defer srv.Close()
	srv.SetSources(chatbot.Source{ID: "seg-9", Title: "hours.md", URL: "https://example.com/hours", Snippet: "9 to 5", Score: 0.5})
	srv.SetUsage(&chatbot.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 3, Credits: 7, Price: "0.0000057", Currency: "USD"})
	wantUsage := map[string]any{"prompt_tokens": 1.0, "completion_tokens": 2.0, "total_tokens": 3.0,
		"total_price": "0.0000057", "currency": "USD", "latency": 0.5}
	metadata := func(body string) map[string]any {
		var v struct {
			Metadata map[string]any `json:"metadata"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &v), body)
		return v.Metadata
	}
	for _, mode := range []string{"blocking", "streaming"} {
		status, _, body := post(t, srv, srv.APIKey(), "chat-messages", `{"query":"hi","inputs":{},"user":"u","response_mode":"`+mode+`"}`)
		require.Equal(t, 200, status)
		if mode == "streaming" {
			events := strings.Split(strings.TrimSpace(body), "\n\n")
			body = strings.TrimPrefix(events[len(events)-1], "data: ")
		}
		meta := metadata(body)
		require.Equal(t, wantUsage, meta["usage"], mode)
		res := meta["retriever_resources"].([]any)
		require.Len(t, res, 1, mode)
		r := res[0].(map[string]any)
		require.Equal(t, "seg-9", r["segment_id"], mode)
		require.Equal(t, "hours.md", r["document_name"], mode)
		require.Equal(t, "9 to 5", r["content"], mode)
		require.Equal(t, 0.5, r["score"], mode)
		require.NotContains(t, r, "url", "a retriever resource has no URL")
	}

	srv.SetUsage(nil)
	srv.SetSources()
	_, _, body := post(t, srv, srv.APIKey(), "chat-messages", `{"query":"hi","inputs":{},"user":"u","response_mode":"blocking"}`)
	meta := metadata(body)
	require.NotContains(t, meta, "usage")
	require.Empty(t, meta["retriever_resources"])
}
