package dify_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
)

// setup starts a fake Dify app and a client for it, without retries so
// that each scripted failure is seen once.
func setup(t *testing.T, opts ...chatbot.Option) (*dify.Client, *difytest.Server) {
	t.Helper()
	srv := difytest.NewServer(difytest.Config{})
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	bot, err := dify.NewClient(srv.APIKey(), opts...)
	require.NoError(t, err)
	return bot, srv
}

func TestChat(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	srv.SetReply("We open ", "at nine.")
	srv.SetSources(chatbot.Source{Title: "hours.md", Snippet: "9 to 5", Score: 0.75})

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "When do you open?"})
	require.NoError(t, err)
	require.Equal(t, "We open at nine.", reply.Text)
	require.Equal(t, "00000001-0000-4000-8000-000000000001", reply.ConversationID)
	require.Equal(t, "00000003-0000-4000-8000-000000000003", reply.MessageID)
	require.Equal(t, chatbot.FinishComplete, reply.FinishReason)
	require.Equal(t, &chatbot.Usage{InputTokens: 4, OutputTokens: 2, TotalTokens: 6, Price: "0.0000114", Currency: "USD"}, reply.Usage)
	require.Equal(t, []chatbot.Source{{ID: "seg-1", Title: "hours.md", Snippet: "9 to 5", Score: 0.75}}, withoutRaw(t, reply.Sources))
	require.True(t, json.Valid(reply.Raw))

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/v1/chat-messages", reqs[0].Path)
	require.Equal(t, "Bearer "+srv.APIKey(), reqs[0].Header.Get("Authorization"))
	require.Equal(t, map[string]any{
		"query": "When do you open?", "inputs": map[string]any{}, "user": dify.DefaultUser, "response_mode": "blocking",
	}, reqs[0].JSON())

	next, err := bot.Chat(t.Context(), chatbot.Request{Message: "And on Sunday?", ConversationID: reply.ConversationID})
	require.NoError(t, err)
	require.Equal(t, reply.ConversationID, next.ConversationID)
	require.Equal(t, []string{"When do you open?", "And on Sunday?"}, srv.Messages(reply.ConversationID))
}

func TestChatUserAndInputs(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	backend, err := bot.WithDefaultUser("backend-7")
	require.NoError(t, err)
	require.Equal(t, dify.DefaultUser, bot.DefaultUser(), "WithDefaultUser changed the original client")

	_, err = backend.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	_, err = backend.Chat(t.Context(), chatbot.Request{Message: "hi", User: chatbot.User{ID: "alice"}})
	require.NoError(t, err)
	_, err = bot.ChatWith(t.Context(), dify.ChatRequest{
		Request:    chatbot.Request{Message: "hi", Metadata: map[string]string{"language": "fr", "tone": "formal"}},
		Inputs:     map[string]any{"tone": "friendly", "count": 3},
		Files:      []dify.File{{Type: "image", TransferMethod: "remote_url", URL: "https://example.com/a.png"}},
		WorkflowID: "wf-1",
	})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, "backend-7", reqs[0].JSON()["user"])
	require.Equal(t, "alice", reqs[1].JSON()["user"])
	body := reqs[2].JSON()
	require.Equal(t, map[string]any{"language": "fr", "tone": "friendly", "count": float64(3)}, body["inputs"])
	require.Equal(t, []any{map[string]any{"type": "image", "transfer_method": "remote_url", "url": "https://example.com/a.png"}}, body["files"])
	require.Equal(t, "wf-1", body["workflow_id"])

	for _, user := range []string{"", "  ", "a\x00b"} {
		_, err := bot.WithDefaultUser(user)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "user %q", user)
	}
}

// TestChatRefusedBeforeSending checks that the caller's mistakes are typed
// errors and reach no server.
func TestChatRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	for name, req := range map[string]dify.ChatRequest{
		"empty message":            {Request: chatbot.Request{}},
		"conversation id not UUID": {Request: chatbot.Request{Message: "hi", ConversationID: "conv-1"}},
		"conversation id braces":   {Request: chatbot.Request{Message: "hi", ConversationID: "{00000001-0000-4000-8000-000000000001}"}},
		"user with NUL":            {Request: chatbot.Request{Message: "hi", User: chatbot.User{ID: "a\x00"}}},
		"blank user":               {Request: chatbot.Request{Message: "hi", User: chatbot.User{ID: " "}}},
		"metadata not UTF-8":       {Request: chatbot.Request{Message: "hi", Metadata: map[string]string{"k": "\xff"}}},
	} {
		_, err := bot.ChatWith(t.Context(), req)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr, name)
		require.Equal(t, chatbot.CodeInvalidRequest, apiErr.Code, name)
		require.Equal(t, 0, apiErr.StatusCode, name)
		var last error
		for _, err := range bot.StreamWith(t.Context(), req) {
			last = err
		}
		require.ErrorIs(t, last, chatbot.ErrInvalidRequest, name)
	}
	require.Equal(t, 0, srv.Count())
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		code     dify.ErrorCode
		sentinel error
	}{
		{http.StatusUnauthorized, dify.CodeUnauthorized, chatbot.ErrUnauthorized},
		{http.StatusNotFound, dify.CodeNotFound, chatbot.ErrNotFound},
		{http.StatusBadRequest, dify.CodeProviderQuotaExceeded, chatbot.ErrQuotaExceeded},
		{http.StatusTooManyRequests, dify.CodeTooManyRequests, chatbot.ErrRateLimited},
		{http.StatusTooManyRequests, dify.CodeRateLimitError, chatbot.ErrRateLimited},
		{http.StatusBadRequest, dify.CodeInvalidParam, chatbot.ErrInvalidRequest},
		{http.StatusBadRequest, dify.CodeAppUnavailable, chatbot.ErrInvalidRequest},
		{http.StatusBadRequest, dify.CodeNotChatApp, chatbot.ErrInvalidRequest},
		{http.StatusBadRequest, dify.CodeConversationCompleted, chatbot.ErrInvalidRequest},
		{http.StatusBadRequest, "provider_not_initialize", chatbot.ErrInvalidRequest},
		{http.StatusInternalServerError, dify.CodeInternalServerError, chatbot.ErrServer},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			bot, srv := setup(t)
			srv.FailNext(1, difytest.Failure{Status: tt.status, Code: string(tt.code), Message: "It failed."})
			_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, tt.sentinel)
			require.Equal(t, tt.code, dify.ErrorCodeOf(err))
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.status, apiErr.StatusCode)
			require.Equal(t, "It failed.", apiErr.Message)
			require.Equal(t, 1, srv.Count(), "a failed chat message was sent again")
		})
	}
}

// TestChatWithoutAnswer: a 200 whose body has no "answer" (Dify's error
// fields in a 200, a body that is no chat message) is an error carrying the
// body, never an empty reply, and is not sent again; a present, empty
// answer is a reply.
func TestChatWithoutAnswer(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"code": "invalid_param", "message": "Something went wrong.", "status": 400}`,
		`{"event": "message", "conversation_id": "00000001-0000-4000-8000-000000000001"}`,
		`{}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			bot, srv := setup(t, chatbot.WithMaxRetries(2))
			srv.FailNext(1, difytest.Failure{Status: http.StatusOK, Body: body})
			reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.Nil(t, reply)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, chatbot.CodeUnknown, apiErr.Code)
			require.Equal(t, http.StatusOK, apiErr.StatusCode)
			require.Contains(t, apiErr.Message, "no answer")
			require.JSONEq(t, body, string(apiErr.Body))
			require.Equal(t, 1, srv.Count(), "the message was sent again")
		})
	}

	bot, srv := setup(t)
	srv.FailNext(1, difytest.Failure{Status: http.StatusOK, Body: `{"answer": "", "conversation_id": "c"}`})
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	require.Empty(t, reply.Text)
	require.Equal(t, "c", reply.ConversationID)
}

func TestChatErrorParams(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	srv.FailNext(1, difytest.Failure{Status: http.StatusBadRequest,
		Body: `{"code": "invalid_param", "message": "Invalid param.", "params": "conversation_id", "status": 400}`})
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "Invalid param (params: conversation_id)", apiErr.Message)
}

func TestChatServerChecks(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	// A UUID the server never issued.
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "0a0b0c0d-0000-4000-8000-000000000000"})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	require.Equal(t, dify.CodeNotFound, dify.ErrorCodeOf(err))

	other, err := dify.NewClient("app-wrong", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = other.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	require.NotContains(t, err.Error(), "app-wrong")
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	bot, err := dify.NewClient("app-key")
	require.NoError(t, err)
	require.Equal(t, dify.DefaultBaseURL, bot.BaseURL())
	info := bot.Info()
	require.Equal(t, "dify", info.Provider)
	require.Empty(t, info.ChatbotID)
	require.True(t, info.Capabilities.Streaming)
	require.Equal(t, chatbot.ConversationServerIssued, info.Capabilities.Conversations)

	for _, key := range []string{"", " app-key", "app key"} {
		_, err := dify.NewClient(key)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "key %q", key)
	}
	_, err = dify.NewClient("app-key", chatbot.WithBaseURL("http://dify.example.com/v1"))
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	self, err := dify.NewClient("app-key", chatbot.WithBaseURL("https://dify.example.com/v1"))
	require.NoError(t, err)
	require.Equal(t, "https://dify.example.com/v1/", self.BaseURL())
}
