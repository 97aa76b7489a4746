package customgpttest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
)

// The fake speaks the vocabulary every provider fake shares, and is a
// server chatbottest.Run can hold and watch.
var (
	_ interface {
		APIKey() string
		ChatbotID() string
		SetReply(parts ...string)
		SetAnswer(fn func(message string) string)
		FailNext(n int, f fakes.Failure)
		RateLimitNext(n int, retryAfter time.Duration)
		StallNext(n int)
		Stalled() <-chan struct{}
		Requests() []fakes.Request
		Count() int
		Connections() int
		Disconnects() <-chan struct{}
		Close()
		SetPace(d time.Duration)
		SplitWrites(size int, offsets ...int)
		CutAfter(n int)
		StallAfter(n int)
	} = (*customgpttest.Server)(nil)
	_ chatbottest.Server = (*customgpttest.Server)(nil)
)

// call sends one request to the fake and returns the status and body.
func call(t *testing.T, srv *customgpttest.Server, method, path, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimSuffix(srv.URL, "/")+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestErrorsAsCustomGPTWritesThem: the fake's errors have CustomGPT's
// shape, with its messages.
func TestErrorsAsCustomGPTWritesThem(t *testing.T) {
	t.Parallel()
	srv := customgpttest.NewServer(customgpttest.Config{})
	t.Cleanup(srv.Close)
	conv := "/api/v1/projects/" + srv.ChatbotID() + "/conversations"

	status, body := call(t, srv, http.MethodPost, conv, "", `{}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assertError(t, body, 401, customgpttest.UnauthorizedMessage)

	status, body = call(t, srv, http.MethodPost, "/api/v1/projects/1/conversations", srv.APIKey(), `{}`)
	assert.Equal(t, http.StatusNotFound, status)
	assertError(t, body, 404, "Project not found")

	srv.FailNext(1, customgpttest.Failure{Status: http.StatusTooManyRequests})
	status, body = call(t, srv, http.MethodPost, conv, srv.APIKey(), `{}`)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assertError(t, body, 429, customgpttest.CreditsMessage)

	status, body = call(t, srv, http.MethodPost, conv, srv.APIKey(), `{"name":"x"}`)
	assert.Equal(t, http.StatusCreated, status)
	var created struct {
		Status string
		Data   struct {
			SessionID string `json:"session_id"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	assert.Equal(t, "success", created.Status)

	status, body = call(t, srv, http.MethodPost, conv+"/"+created.Data.SessionID+"/messages", srv.APIKey(), `{"prompt":""}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assertError(t, body, 400, "The prompt field is required.")

	srv.SetCredits(1)
	status, _ = call(t, srv, http.MethodPost, conv+"/"+created.Data.SessionID+"/messages", srv.APIKey(), `{"prompt":"a"}`)
	assert.Equal(t, http.StatusOK, status)
	status, body = call(t, srv, http.MethodPost, conv+"/"+created.Data.SessionID+"/messages", srv.APIKey(), `{"prompt":"b"}`)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assertError(t, body, 429, customgpttest.CreditsMessage)
	prompts, ok := srv.Prompts(created.Data.SessionID)
	require.True(t, ok)
	assert.Equal(t, []string{"a"}, prompts, "a refused prompt is not recorded")
}

func assertError(t *testing.T, body string, code int, msg string) {
	t.Helper()
	var e struct {
		Status string
		URL    string
		Data   struct {
			Code    int
			Message string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	assert.Equal(t, "error", e.Status)
	assert.NotEmpty(t, e.URL)
	assert.Equal(t, code, e.Data.Code)
	assert.Equal(t, msg, e.Data.Message)
}

// TestStreamShape: stream=1 answers data-only events, one progress event
// per part, then a finish with the prompt id, the session and the
// citations.
func TestStreamShape(t *testing.T) {
	t.Parallel()
	srv := customgpttest.NewServer(customgpttest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("a", "b")
	srv.SetCitations(customgpttest.Citation{ID: 9})
	conv := "/api/v1/projects/" + srv.ChatbotID() + "/conversations"
	_, body := call(t, srv, http.MethodPost, conv, srv.APIKey(), `{}`)
	var created struct {
		Data struct {
			SessionID string `json:"session_id"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created), body)
	session := created.Data.SessionID
	status, body := call(t, srv, http.MethodPost, conv+"/"+session+"/messages?stream=1", srv.APIKey(), `{"prompt":"x"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, `data: {"message":"a","status":"progress"}`+"\n\n"+
		`data: {"message":"b","status":"progress"}`+"\n\n"+
		`data: {"citations":[9],"id":2,"session_id":"`+session+`","status":"finish"}`+"\n\n", body)
}

// TestSetSourcesOnTheWire: SetSources makes answers cite the sources by
// their integer ids, in the JSON answer and in the stream's finish event,
// and serves each at the citations endpoint (title, url, and the snippet as
// description; the score has no place); no sources cite none; an id that
// is no citation id is refused with a panic naming it.
func TestSetSourcesOnTheWire(t *testing.T) {
	t.Parallel()
	srv := customgpttest.NewServer(customgpttest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("a")
	srv.SetSources(
		chatbot.Source{ID: "101", Title: "Opening hours", URL: "https://example.com/hours", Snippet: "9 to 5", Score: 0.9},
		chatbot.Source{ID: "7"},
	)
	project := "/api/v1/projects/" + srv.ChatbotID()
	_, body := call(t, srv, http.MethodPost, project+"/conversations", srv.APIKey(), `{}`)
	var created struct {
		Data struct {
			SessionID string `json:"session_id"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created), body)
	messages := project + "/conversations/" + created.Data.SessionID + "/messages"

	citations := func(body string) json.RawMessage {
		t.Helper()
		var answer struct {
			Data struct {
				Citations json.RawMessage `json:"citations"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &answer), body)
		return answer.Data.Citations
	}
	status, body := call(t, srv, http.MethodPost, messages, srv.APIKey(), `{"prompt":"x"}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `[101,7]`, string(citations(body)))

	_, body = call(t, srv, http.MethodPost, messages+"?stream=1", srv.APIKey(), `{"prompt":"x"}`)
	assert.Equal(t, `data: {"message":"a","status":"progress"}`+"\n\n"+
		`data: {"citations":[101,7],"id":3,"session_id":"`+created.Data.SessionID+`","status":"finish"}`+"\n\n", body)

	status, body = call(t, srv, http.MethodGet, project+"/citations/101", srv.APIKey(), "")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"status":"success","data":{"id":101,"url":"https://example.com/hours","title":"Opening hours","description":"9 to 5","image":""}}`, body)
	status, body = call(t, srv, http.MethodGet, project+"/citations/7", srv.APIKey(), "")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"status":"success","data":{"id":7,"url":"","title":"","description":"","image":""}}`, body)

	srv.SetSources()
	_, body = call(t, srv, http.MethodPost, messages, srv.APIKey(), `{"prompt":"x"}`)
	assert.JSONEq(t, `[]`, string(citations(body)))
	status, _ = call(t, srv, http.MethodGet, project+"/citations/101", srv.APIKey(), "")
	assert.Equal(t, http.StatusNotFound, status, "no sources: the citation is no longer served")

	for _, id := range []string{"doc-1", "", "0", "-3", "07", "1.5"} {
		assert.PanicsWithValue(t,
			`customgpttest: SetSources: source id "`+id+`" is no CustomGPT citation id (a positive integer)`,
			func() { srv.SetSources(chatbot.Source{ID: "5"}, chatbot.Source{ID: id}) }, "id %q", id)
	}
	_, body = call(t, srv, http.MethodPost, messages, srv.APIKey(), `{"prompt":"x"}`)
	assert.JSONEq(t, `[]`, string(citations(body)), "a refused SetSources changes nothing")
}
