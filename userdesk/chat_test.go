package userdesk_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

func TestChat(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	reply, err := c.Chat(t.Context(), chatbot.Request{
		Message: "How far is the Moon?",
		User:    chatbot.User{ID: "u1", Name: "Ada", Email: "ada@example.com"},
	})
	require.NoError(t, err)
	assert.Equal(t, "You said: How far is the Moon?", reply.Text)
	assert.Equal(t, "conv-1", reply.ConversationID)
	assert.Empty(t, reply.MessageID)
	assert.Nil(t, reply.RateLimit)
	assert.JSONEq(t, `{"success":true,"conversationId":"conv-1","response":"You said: How far is the Moon?"}`, string(reply.Raw))

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v1/chatbot/bot-1/message", r.Path)
	assert.Equal(t, "Bearer "+srv.APIKey(), r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"message":"How far is the Moon?","stream":false,"userName":"Ada","userEmail":"ada@example.com"}`, string(r.Body))

	conv, ok := srv.Conversation("conv-1")
	require.True(t, ok)
	assert.Equal(t, "Ada", conv.UserName)
	assert.Equal(t, "ada@example.com", conv.UserEmail)
}

func TestChatContinuesConversation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	first, err := c.Chat(t.Context(), chatbot.Request{Message: "one"})
	require.NoError(t, err)
	second, err := c.Chat(t.Context(), chatbot.Request{Message: "two", ConversationID: first.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, first.ConversationID, reqs[1].JSON()["conversationId"])
	conv, ok := srv.Conversation(first.ConversationID)
	require.True(t, ok)
	assert.Equal(t, []string{"one", "two"}, conv.Messages)
	assert.Equal(t, 1, srv.Conversations())
}

// TestUnknownConversationIsNotFound: Userdesk answers an unknown or expired
// conversation id with a 400 "conversationId is not valid"; the SDK reports
// it as chatbot.ErrNotFound, as the providers that answer 404 do, for Chat
// and Stream alike, keeping the status and message.
func TestUnknownConversationIsNotFound(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	_, chatErr := c.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "nope"})
	_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: "nope"}))
	for _, err := range []error{chatErr, streamErr} {
		require.ErrorIs(t, err, chatbot.ErrNotFound)
		assert.NotErrorIs(t, err, chatbot.ErrInvalidRequest)
		var apiErr *chatbot.Error
		require.True(t, errors.As(err, &apiErr))
		assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		assert.Equal(t, "The conversationId is not valid", apiErr.Message)
	}
	assert.Equal(t, 2, srv.Count(), "each was sent once")

	srv.FailNext(1, userdesktest.Failure{Status: http.StatusBadRequest, Message: "The request was malformed"})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "other 400s stay invalid requests")
}

func TestChatRefusesInvalidRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  chatbot.Request
	}{
		{name: "empty message", req: chatbot.Request{}},
		{name: "blank message", req: chatbot.Request{Message: " \n\t"}},
		{name: "invalid UTF-8 message", req: chatbot.Request{Message: "caf\xe9"}},
		{name: "NUL in message", req: chatbot.Request{Message: "a\x00b"}},
		{name: "too long message", req: chatbot.Request{Message: strings.Repeat("a", 100_001)}},
		{name: "invalid UTF-8 conversation id", req: chatbot.Request{Message: "hi", ConversationID: "\xff"}},
		{name: "NUL in user name", req: chatbot.Request{Message: "hi", User: chatbot.User{Name: "a\x00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			reply, err := c.Chat(t.Context(), tt.req)
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Nil(t, reply)
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, 0, apiErr.StatusCode)
			assert.Equal(t, 0, srv.Count(), "nothing is sent")
		})
	}
}

// errorBodies are the shapes Userdesk might give its undocumented error
// bodies.
var errorBodies = []struct {
	name, body, message string
}{
	{name: "empty body", body: ""},
	{name: "HTML body", body: "<!DOCTYPE html><html><body><h1>Error</h1></body></html>"},
	{name: "JSON message", body: `{"success":false,"message":"Something happened"}`, message: "Something happened"},
	{name: "JSON error", body: `{"success":false,"error":"Something happened"}`, message: "Something happened"},
}

var errorStatuses = []struct {
	status int
	want   error
}{
	{http.StatusBadRequest, chatbot.ErrInvalidRequest},
	{http.StatusUnauthorized, chatbot.ErrUnauthorized},
	{http.StatusForbidden, chatbot.ErrForbidden},
	{http.StatusNotFound, chatbot.ErrNotFound},
	{http.StatusTooManyRequests, chatbot.ErrRateLimited},
	{http.StatusInternalServerError, chatbot.ErrServer},
	{http.StatusBadGateway, chatbot.ErrServer},
}

func TestChatErrorStatuses(t *testing.T) {
	t.Parallel()
	for _, st := range errorStatuses {
		for _, b := range errorBodies {
			t.Run(fmt.Sprintf("%d %s", st.status, b.name), func(t *testing.T) {
				t.Parallel()
				srv, c := setup(t)
				srv.FailNext(1, userdesktest.Failure{Status: st.status, Body: b.body})

				reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
				require.Error(t, err)
				assert.Nil(t, reply)
				assert.ErrorIs(t, err, st.want)
				var apiErr *chatbot.Error
				require.True(t, errors.As(err, &apiErr))
				assert.Equal(t, "userdesk", apiErr.Provider)
				assert.Equal(t, st.status, apiErr.StatusCode)
				assert.Equal(t, b.message, apiErr.Message)
				assert.Equal(t, b.body, string(apiErr.Body))
				assert.Equal(t, 1, srv.Count())
			})
		}
	}
}

func TestChatServerErrorSentOnce(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, chatbot.WithMaxRetries(3))
			srv.FailNext(5, userdesktest.Failure{Status: status})

			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, chatbot.ErrServer)
			assert.Equal(t, 1, srv.Count(), "a POST answered %d may have been processed: never resent", status)
		})
	}
}

func TestChatRetriesRateLimit(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbot.WithMaxRetries(1))
	srv.FailNext(1, userdesktest.Failure{Status: http.StatusTooManyRequests}) // no Retry-After: a short backoff (≤ 0.5 s)

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "You said: hi", reply.Text)
	assert.Equal(t, 2, srv.Count())
}

func TestChatMalformedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body string
		apiError                bool
		want                    error
	}{
		{name: "not JSON", contentType: "text/plain", body: "all good"},
		{name: "empty 200", contentType: "application/json", body: ""},
		{name: "JSON array", contentType: "application/json", body: `["a"]`},
		{name: "wrong type", contentType: "application/json", body: `{"success":true,"response":42}`},
		{name: "success false", contentType: "application/json", body: `{"success":false,"message":"Bot is disabled"}`, apiError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(hs.Close)
			c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL), chatbot.WithMaxRetries(0))
			require.NoError(t, err)

			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.Error(t, err)
			assert.Nil(t, reply)
			assert.True(t, strings.HasPrefix(err.Error(), "userdesk: "), err.Error())
			var apiErr *chatbot.Error
			assert.Equal(t, tt.apiError, errors.As(err, &apiErr))
			if tt.apiError {
				assert.Equal(t, "Bot is disabled", apiErr.Message)
				assert.Equal(t, http.StatusOK, apiErr.StatusCode)
			}
		})
	}
}

// TestSuccessFalseKeepsHeaders: a 2xx "success": false answer is an
// *chatbot.Error with the response's Retry-After and request id, from Chat,
// CreateConversation and a Stream answered with JSON alike.
func TestSuccessFalseKeepsHeaders(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.Header().Set("X-Request-Id", "req-7")
		_, _ = w.Write([]byte(`{"success":false,"message":"Too many messages"}`))
	}))
	t.Cleanup(hs.Close)
	c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	calls := map[string]func() error{
		"chat": func() error {
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			return err
		},
		"conversation": func() error {
			_, err := c.CreateConversation(t.Context(), userdesk.ConversationRequest{})
			return err
		},
		"stream": func() error {
			_, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: "conv-1"}))
			return err
		},
	}
	for name, call := range calls {
		var apiErr *chatbot.Error
		require.ErrorAs(t, call(), &apiErr, name)
		assert.Equal(t, "Too many messages", apiErr.Message, name)
		assert.Equal(t, 30*time.Second, apiErr.RetryAfter, name)
		assert.Equal(t, "req-7", apiErr.RequestID, name)
	}
}

func TestChatRedactsKey(t *testing.T) {
	t.Parallel()
	const key = "ud-secret-123"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"success":false,"message":"Key ` + key + ` is wrong"}`))
	}))
	t.Cleanup(hs.Close)
	c, err := userdesk.NewClient(key, "bot", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)

	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.NotContains(t, err.Error(), key)
	assert.NotContains(t, string(apiErr.Body), key)
}

func TestChatConcurrent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	const n = 16
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprintf("message %d", i)
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: msg})
			if assert.NoError(t, err) {
				assert.Equal(t, "You said: "+msg, reply.Text)
				ids <- reply.ConversationID
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	assert.Len(t, seen, n, "each new conversation gets its own id")
	assert.Equal(t, n, srv.Conversations())
}

// FuzzChatResponse feeds arbitrary statuses and bodies to Chat: it must never
// panic, succeed only on a 2xx, and report every non-2xx as a *chatbot.Error
// with that status.
func FuzzChatResponse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		for _, status := range []int{200, 400, 401, 403, 429, 500} {
			f.Add(uint16(status), b)
		}
	}
	f.Add(uint16(500), []byte("<html><body>Internal Server Error</body></html>"))
	f.Add(uint16(200), []byte(nil))
	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		status := int(code)
		if status < 200 || status > 599 {
			status = 200 + status%400
		}
		if status == http.StatusNoContent || (status >= 300 && status < 400) {
			status = http.StatusOK // no bodiless or redirect statuses
		}
		if status == http.StatusNoContent || (status >= 300 && status < 400) {
			status = http.StatusOK
		}
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
		defer hs.Close()
		c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL), chatbot.WithMaxRetries(0))
		require.NoError(t, err)

		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		if status >= 300 {
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr), "status %d: %v", status, err)
			assert.Equal(t, status, apiErr.StatusCode)
			return
		}
		if err == nil {
			require.NotNil(t, reply)
			var env struct {
				Response string `json:"response"`
			}
			require.NoError(t, json.Unmarshal(body, &env))
			assert.Equal(t, env.Response, reply.Text)
		}
	})
}
