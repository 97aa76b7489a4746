package flowise_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

// TestChatRequestBody: Chat sends the question, "streaming": false, the
// conversation as chatId, the history in Flowise's roles, the metadata as
// flow variables and the user's email as leadEmail; nothing else.
func TestChatRequestBody(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	_, err := c.Chat(t.Context(), chatbot.Request{
		Message:        "And on Sundays?",
		ConversationID: "ticket-42",
		User:           chatbot.User{ID: "u1", Name: "Ada", Email: "ada@example.com"},
		Metadata:       map[string]string{"plan": "pro"},
		History: []chatbot.Message{
			{Role: chatbot.RoleUser, Text: "When are you open?"},
			{Role: chatbot.RoleAssistant, Text: "9 to 5."},
		},
	})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
	assert.JSONEq(t, `{
		"question": "And on Sundays?",
		"streaming": false,
		"chatId": "ticket-42",
		"overrideConfig": {"vars": {"plan": "pro"}},
		"history": [
			{"role": "userMessage", "content": "When are you open?"},
			{"role": "apiMessage", "content": "9 to 5."}
		],
		"leadEmail": "ada@example.com"
	}`, string(reqs[0].Body))
}

func TestChatMinimalBody(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"question":"hi","streaming":false}`, string(srv.Requests()[0].Body))
}

// TestChatReply: the reply carries the text, the chat id the server made
// (passed back, it continues the chat), the message id, the sources and
// the raw body, from which ParsePrediction decodes the follow-up prompts
// Flowise encodes twice and the tools an agent used.
func TestChatReply(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetReply("We open ", "at nine.")
	srv.SetSourceDocuments(
		map[string]any{"pageContent": "Hours: 9-5", "metadata": map[string]any{"source": "https://example.com/hours", "title": "Hours"}},
		map[string]any{"pageContent": "Holidays: closed", "metadata": map[string]any{"source": "handbook.pdf", "id": "doc-7", "score": 0.82}},
	)
	srv.SetUsedTools(map[string]any{"tool": "calendar", "toolInput": map[string]any{"day": "sun"}, "toolOutput": "closed"})
	srv.SetFollowUpPrompts("Are you open on Sundays?", "Where are you?")

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "When do you open?"})
	require.NoError(t, err)
	assert.Equal(t, "We open at nine.", reply.Text)
	require.NotEmpty(t, reply.ConversationID)
	assert.NotEmpty(t, reply.MessageID)
	assert.Nil(t, reply.RateLimit)
	require.Len(t, reply.Sources, 2)
	assert.Equal(t, "https://example.com/hours", reply.Sources[0].URL)
	assert.Equal(t, "Hours", reply.Sources[0].Title)
	assert.Equal(t, "Hours: 9-5", reply.Sources[0].Snippet)
	assert.JSONEq(t, `{"pageContent":"Hours: 9-5","metadata":{"source":"https://example.com/hours","title":"Hours"}}`, string(reply.Sources[0].Raw))
	assert.Equal(t, chatbot.Source{ID: "doc-7", Title: "handbook.pdf", Snippet: "Holidays: closed", Raw: reply.Sources[1].Raw}, reply.Sources[1])

	p, err := flowise.ParsePrediction(reply.Raw)
	require.NoError(t, err)
	assert.Equal(t, []string{"Are you open on Sundays?", "Where are you?"}, p.FollowUpPrompts)
	require.Len(t, p.UsedTools, 1)
	assert.Equal(t, "calendar", p.UsedTools[0].Tool)
	assert.JSONEq(t, `{"day":"sun"}`, string(p.UsedTools[0].ToolInput))
	assert.JSONEq(t, `"closed"`, string(p.UsedTools[0].ToolOutput))
	assert.Equal(t, reply.ConversationID, p.ChatID)
	assert.Equal(t, "When do you open?", p.Question)

	next, err := c.Chat(t.Context(), chatbot.Request{Message: "Thanks", ConversationID: reply.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, reply.ConversationID, next.ConversationID)
	assert.Equal(t, []string{"When do you open?", "Thanks"}, srv.Messages(reply.ConversationID))
}

// TestUnknownChatIDStartsAChat: Flowise's chat ids are the caller's to
// choose; an id the server has never seen starts a chat under it.
func TestUnknownChatIDStartsAChat(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "my-own-id"})
	require.NoError(t, err)
	assert.Equal(t, "my-own-id", reply.ConversationID)
	assert.Equal(t, []string{"hi"}, srv.Messages("my-own-id"))
}

// TestStructuredOutput: a flow that answers with "json" only gives it
// verbatim as the reply's text, and in Prediction.JSON.
func TestStructuredOutput(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"","json":{"city":"Paris","open":true},"chatId":"c1","chatMessageId":"m1"}`))
	})
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, `{"city":"Paris","open":true}`, reply.Text)
	p, err := c.Predict(t.Context(), flowise.PredictionRequest{Question: "hi"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"city":"Paris","open":true}`, string(p.JSON))
	assert.Empty(t, p.Text)
}

// TestPredictOverrides: SessionID and Vars are merged into the caller's
// OverrideConfig, which is left unchanged; they win over the same keys.
func TestPredictOverrides(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	override := map[string]any{"temperature": 0.2, "sessionId": "lost"}
	p, err := c.Predict(t.Context(), flowise.PredictionRequest{
		Question:       "hi",
		ChatID:         "chat-1",
		SessionID:      "shared-memory",
		Vars:           map[string]string{"lang": "fr"},
		OverrideConfig: override,
	})
	require.NoError(t, err)
	assert.Equal(t, "shared-memory", p.SessionID)
	assert.Equal(t, "chat-1", p.ChatID)
	assert.Equal(t, map[string]any{"temperature": 0.2, "sessionId": "lost"}, override)
	assert.JSONEq(t, `{"question":"hi","streaming":false,"chatId":"chat-1",
		"overrideConfig":{"temperature":0.2,"sessionId":"shared-memory","vars":{"lang":"fr"}}}`, string(srv.Requests()[0].Body))
}

// TestInvalidRequestsSendNothing: the caller's mistakes are refused with a
// typed error before anything is sent.
func TestInvalidRequestsSendNothing(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	for name, p := range map[string]flowise.PredictionRequest{
		"empty question":         {},
		"blank question":         {Question: " \n"},
		"too long":               {Question: string(make([]rune, flowise.MaxMessageChars+1))},
		"NUL in chat id":         {Question: "hi", ChatID: "a\x00b"},
		"bad UTF-8 session":      {Question: "hi", SessionID: "\xff"},
		"system role in history": {Question: "hi", History: []chatbot.Message{{Role: "system", Text: "x"}}},
		"empty role in history":  {Question: "hi", History: []chatbot.Message{{Text: "x"}}},
		"bad UTF-8 in history":   {Question: "hi", History: []chatbot.Message{{Role: chatbot.RoleUser, Text: "\xff"}}},
		"bad UTF-8 variable":     {Question: "hi", Vars: map[string]string{"k": "\xff"}},
		"override not JSON":      {Question: "hi", OverrideConfig: map[string]any{"c": make(chan int)}},
	} {
		_, err := c.Predict(t.Context(), p)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, name)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr, name)
		assert.Zero(t, apiErr.StatusCode, name)
	}
	_, err := c.Chat(t.Context(), chatbot.Request{Message: ""})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Zero(t, srv.Count(), "nothing is sent for a request the caller got wrong")
}

// TestErrors: Flowise's JSON errors, its plain-text 429 and the answers of
// proxies in front of it, through Chat and Predict.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		failure    flowisetest.Failure
		want       error
		message    string
		retryAfter time.Duration
	}{
		{"400", flowisetest.Failure{Status: 400, Message: "Invalid input"}, chatbot.ErrInvalidRequest, "Invalid input", 0},
		{"401", flowisetest.Failure{Status: 401, Message: "Unauthorized"}, chatbot.ErrUnauthorized, "Unauthorized", 0},
		{"402", flowisetest.Failure{Status: 402, Message: "Predictions limit exceeded"}, chatbot.ErrQuotaExceeded, "Predictions limit exceeded", 0},
		{"403 domain not allowed, plain text", flowisetest.Failure{Status: 403, Body: "This site is not allowed to access this chatbot"}, chatbot.ErrForbidden, "This site is not allowed to access this chatbot", 0},
		{"404", flowisetest.Failure{Status: 404, Message: "Chatflow x not found"}, chatbot.ErrNotFound, "Chatflow x not found", 0},
		{"412", flowisetest.Failure{Status: 412, Message: "Error: predictionsController.createPrediction - body not provided!"}, chatbot.ErrInvalidRequest, "Error: predictionsController.createPrediction - body not provided!", 0},
		{"429 default message", flowisetest.Failure{Status: 429}, chatbot.ErrRateLimited, flowisetest.RateLimitMessage, 0},
		{"429 the flow's message", flowisetest.Failure{Status: 429, Message: "Slow down, friend."}, chatbot.ErrRateLimited, "Slow down, friend.", 0},
		{"429 with Retry-After", flowisetest.Failure{Status: 429, RetryAfter: 30 * time.Second}, chatbot.ErrRateLimited, flowisetest.RateLimitMessage, 30 * time.Second},
		{"500", flowisetest.Failure{Status: 500, Message: "Error: vector store is not reachable"}, chatbot.ErrServer, "Error: vector store is not reachable", 0},
		{"503", flowisetest.Failure{Status: 503, Message: "Service Unavailable"}, chatbot.ErrServer, "Service Unavailable", 0},
		{"502 proxy page", flowisetest.Failure{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}, chatbot.ErrServer, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, flowisetest.Config{})
			srv.FailNext(1, tt.failure)
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, tt.want)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "flowise", apiErr.Provider)
			assert.Equal(t, tt.failure.Status, apiErr.StatusCode)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Equal(t, tt.retryAfter, apiErr.RetryAfter, "no wait is invented")
			assert.Equal(t, 1, srv.Count())
		})
	}
}

// TestRateLimitedIsRetried: a 429 is a refusal, so with retries on the
// chat is sent again after the Retry-After Flowise asked for (waited on the
// client's clock), and answered once.
func TestRateLimitedIsRetried(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	srv, c := setup(t, flowisetest.Config{Clock: clk}, chatbot.WithMaxRetries(1), config.WithClock(clk), chatbot.WithStreamIdleTimeout(0))
	srv.RateLimitNext(1, 3*time.Second)
	done := make(chan error, 1)
	go func() {
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		if err == nil && reply.Text != "You said: hi" {
			err = fmt.Errorf("reply %q", reply.Text)
		}
		done <- err
	}()
	clk.WaitFor(t, 3*time.Second)
	clk.Advance(3 * time.Second)
	require.NoError(t, <-done)
	assert.Equal(t, 2, srv.Count())
}

// TestChatWithoutText: a 200 whose body has neither "text" nor "json" (a
// body that is no prediction) is an error
// carrying the body, never an empty reply, and is not sent again; a
// present, empty text is a reply.
func TestChatWithoutText(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"success": true, "message": "Queued."}`,
		`{"chatId": "c1", "chatMessageId": "m1"}`,
		`{}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, flowisetest.Config{}, chatbot.WithMaxRetries(2))
			srv.FailNext(1, flowisetest.Failure{Status: http.StatusOK, Body: body})
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.Nil(t, reply)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, chatbot.CodeUnknown, apiErr.Code)
			require.Equal(t, http.StatusOK, apiErr.StatusCode)
			require.Contains(t, apiErr.Message, "no text")
			require.JSONEq(t, body, string(apiErr.Body))
			require.Equal(t, 1, srv.Count(), "the message was sent again")
		})
	}

	srv, c := setup(t, flowisetest.Config{})
	srv.FailNext(1, flowisetest.Failure{Status: http.StatusOK, Body: `{"text": "", "chatId": "c1"}`})
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	require.Empty(t, reply.Text)
	require.Equal(t, "c1", reply.ConversationID)
}

// TestWrongKey: a keyed flow refuses a wrong key with 401, which is not
// retried, and the key never reaches the error.
func TestWrongKey(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	for _, key := range []string{"", "flowise-wrong-key-123"} {
		c, err := flowise.NewClient(key, srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, chatbot.ErrUnauthorized)
		if key != "" {
			assert.NotContains(t, err.Error(), key)
		}
	}
	assert.Equal(t, 2, srv.Count(), "a 401 is not retried")
}

// TestUnknownFlow: a flow id the server does not have is ErrNotFound.
func TestUnknownFlow(t *testing.T) {
	t.Parallel()
	srv := flowisetest.NewServer(flowisetest.Config{})
	t.Cleanup(srv.Close)
	c, err := flowise.NewClient(srv.APIKey(), "no-such-flow", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	assert.Contains(t, err.Error(), "Chatflow no-such-flow not found")
}

// TestFollowUpPromptShapes: the shapes "followUpPrompts" has been seen in
// all decode; anything else is dropped, and Raw keeps it.
func TestFollowUpPromptShapes(t *testing.T) {
	t.Parallel()
	want := []string{"a?", "b?"}
	list, _ := json.Marshal(want)
	once, _ := json.Marshal(string(list))
	twice, _ := json.Marshal(string(once))
	for name, tc := range map[string]struct {
		raw  string
		want []string
	}{
		"list":           {string(list), want},
		"encoded once":   {string(once), want},
		"encoded twice":  {string(twice), want},
		"absent":         {`null`, nil},
		"empty list":     {`"[]"`, nil},
		"not JSON":       {`"a?"`, nil},
		"not strings":    {`[1,2]`, nil},
		"object":         {`{"a":1}`, nil},
		"deeply encoded": {deep(string(list), 5), nil},
	} {
		p, err := flowise.ParsePrediction([]byte(`{"text":"x","followUpPrompts":` + tc.raw + `}`))
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, p.FollowUpPrompts, name)
	}
	_, err := flowise.ParsePrediction([]byte(`{"text":`))
	require.Error(t, err)
}

// deep encodes s as a JSON string n times.
func deep(s string, n int) string {
	for range n {
		b, _ := json.Marshal(s)
		s = string(b)
	}
	return s
}
