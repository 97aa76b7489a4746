package flowisetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
)

// post sends a prediction request to the fake's flow.
func post(t *testing.T, srv *flowisetest.Server, key, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/v1/prediction/"+srv.ChatbotID(), strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestStreamIsFlowiseSSEStreamer: the fake writes its events byte for byte
// as Flowise's own SSEStreamer does (recorded in ../testdata): the first
// token also as "start", every event as "message:\ndata:{…}\n\n".
func TestStreamIsFlowiseSSEStreamer(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile("../testdata/ssestreamer_rag.golden")
	require.NoError(t, err)
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("We", " are", " open", ` 9–5 "daily"`, ",\n", "see 🕘.")
	resp, body := post(t, srv, srv.APIKey(), `{"question":"When?","streaming":true}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	tokens := string(golden[:strings.Index(string(golden), `message:`+"\n"+`data:{"event":"sourceDocuments"`)])
	assert.True(t, strings.HasPrefix(body, tokens), "the fake's token events differ from SSEStreamer's:\n%s\nwant prefix:\n%s", body, tokens)
	assert.True(t, strings.HasSuffix(body, "message:\ndata:{\"event\":\"end\",\"data\":\"[DONE]\"}\n\n"), body)
	assert.Contains(t, body, `{"event":"metadata","data":{`)
}

func TestKeyedFlow(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	require.NotEmpty(t, srv.APIKey())

	resp, body := post(t, srv, "wrong", `{"question":"hi"}`)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.JSONEq(t, `{"statusCode":401,"success":false,"message":"Unauthorized","stack":{}}`, body)

	// Flowise checks the key once the stream has started.
	resp, body = post(t, srv, "", `{"question":"hi","streaming":true}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "message:\ndata:{\"event\":\"error\",\"data\":\"Unauthorized\"}\n\nmessage:\ndata:{\"event\":\"end\",\"data\":\"[DONE]\"}\n\n", body)
	assert.Equal(t, 2, srv.Count())
}

func TestPublicFlow(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{Public: true, APIKey: "ignored"})
	t.Cleanup(srv.Close)
	assert.Empty(t, srv.APIKey())
	for _, key := range []string{"", "anything"} {
		resp, body := post(t, srv, key, `{"question":"hi","chatId":"c1"}`)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `"text":"You said: hi"`)
	}
	assert.Equal(t, []string{"hi", "hi"}, srv.Messages("c1"))
}

func TestRateLimitIsPlainText(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.RateLimitNext(1, 0)
	resp, body := post(t, srv, srv.APIKey(), `{"question":"hi"}`)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, flowisetest.RateLimitMessage, body)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Empty(t, resp.Header.Get("Retry-After"))

	srv.FailNext(1, flowisetest.Failure{Status: 429, Message: "Easy there."})
	_, body = post(t, srv, srv.APIKey(), `{"question":"hi"}`)
	assert.Equal(t, "Easy there.", body)
}

func TestErrorShape(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.FailNext(1, flowisetest.Failure{Status: 500, Message: "boom"})
	resp, body := post(t, srv, srv.APIKey(), `{"question":"hi"}`)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.JSONEq(t, `{"statusCode":500,"success":false,"message":"boom","stack":{}}`, body)
}

// TestFollowUpPromptsEncoding: encoded twice in a JSON answer, as
// buildChatflow does, and once in the stream's metadata, as SSEStreamer
// decodes it once.
func TestFollowUpPromptsEncoding(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetFollowUpPrompts("a?", "b?")
	_, body := post(t, srv, srv.APIKey(), `{"question":"hi"}`)
	var m struct {
		FollowUpPrompts string `json:"followUpPrompts"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	assert.Equal(t, `"[\"a?\",\"b?\"]"`, m.FollowUpPrompts)

	_, body = post(t, srv, srv.APIKey(), `{"question":"hi","streaming":true}`)
	assert.Contains(t, body, `"followUpPrompts":"[\"a?\",\"b?\"]"`)
}

func TestBreakNext(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.BreakNext(1, flowisetest.BreakMetadataOnly)
	_, body := post(t, srv, srv.APIKey(), `{"question":"hi","streaming":true}`)
	assert.NotContains(t, body, `"token"`)
	assert.Contains(t, body, `"event":"metadata"`)
	assert.Contains(t, body, `"event":"end"`)

	srv.BreakNext(1, flowisetest.BreakEmptyBody)
	_, body = post(t, srv, srv.APIKey(), `{"question":"hi"}`)
	assert.Contains(t, body, `"text":"You said: hi"`, "a request without streaming is not broken")
	resp, body := post(t, srv, srv.APIKey(), `{"question":"hi","streaming":true}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)

	_, body = post(t, srv, srv.APIKey(), `{"question":"hi","streaming":"true"}`)
	assert.Contains(t, body, `{"event":"token","data":"You "}`, "only the next n streams break")
}

func TestNoStreamingFlowAnswersJSON(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{NoStreaming: true})
	t.Cleanup(srv.Close)
	resp, body := post(t, srv, srv.APIKey(), `{"question":"hi","streaming":true}`)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, body, `"text":"You said: hi"`)
}

func TestUnknownFlowAndPath(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/api/v1/prediction/nope", "application/json", strings.NewReader(`{"question":"hi"}`))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.JSONEq(t, `{"statusCode":404,"success":false,"message":"Chatflow nope not found","stack":{}}`, string(b))

	resp, err = http.Get(srv.URL + "/api/v1/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestSetSources: SetSources writes LangChain documents, in the JSON
// answer's sourceDocuments and in the stream's sourceDocuments event.
func TestSetSources(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("Open.")
	srv.SetSources(
		chatbot.Source{ID: "d1", Title: "Hours", URL: "https://example.com/hours", Snippet: "9 to 5", Score: 0.9},
		chatbot.Source{Snippet: "Closed on Sundays."},
	)
	want := `[{"metadata":{"id":"d1","source":"https://example.com/hours","title":"Hours"},"pageContent":"9 to 5"},` +
		`{"metadata":{},"pageContent":"Closed on Sundays."}]`
	_, body := post(t, srv, srv.APIKey(), `{"question":"When?"}`)
	var answer struct {
		SourceDocuments json.RawMessage `json:"sourceDocuments"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &answer))
	assert.JSONEq(t, want, string(answer.SourceDocuments))
	_, body = post(t, srv, srv.APIKey(), `{"question":"When?","streaming":true}`)
	assert.Contains(t, body, `message:`+"\n"+`data:{"event":"sourceDocuments","data":`+want+"}\n\n")

	srv.SetSources()
	_, body = post(t, srv, srv.APIKey(), `{"question":"When?","streaming":true}`)
	assert.NotContains(t, body, "sourceDocuments")
}
