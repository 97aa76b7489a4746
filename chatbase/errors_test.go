package chatbase_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

func TestErrorsAreMappedWithTheProviderCodeKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   chatbase.ErrorCode
		status int // 0: the fake's status for the code
		want   error
	}{
		{chatbase.CodeAuthMissingAPIKey, 0, chatbot.ErrUnauthorized},
		{chatbase.CodeAuthInvalidAPIKey, 0, chatbot.ErrUnauthorized},
		{chatbase.CodeAuthExpiredAPIKey, 0, chatbot.ErrUnauthorized},
		{chatbase.CodeAuthInsufficientPermissions, 0, chatbot.ErrForbidden},
		{"AUTH_SOMETHING_NEW", 403, chatbot.ErrForbidden},
		{"AUTH_SOMETHING_NEW", 401, chatbot.ErrUnauthorized},
		{chatbase.CodeChatCreditsExhausted, 0, chatbot.ErrQuotaExceeded},
		{chatbase.CodeChatAgentCreditsExhausted, 0, chatbot.ErrQuotaExceeded},
		{chatbase.CodeChatAgentCreditsExhausted, 429, chatbot.ErrQuotaExceeded},
		{"WORKSPACE_CREDITS_EXHAUSTED", 403, chatbot.ErrQuotaExceeded},
		{chatbase.CodeSubscriptionPlanRequired, 403, chatbot.ErrQuotaExceeded},
		{chatbase.CodeSubscriptionRestrictedPlan, 403, chatbot.ErrQuotaExceeded},
		{chatbase.CodeChatModelNotAllowed, 0, chatbot.ErrQuotaExceeded},
		{chatbase.CodeRateLimitTooManyRequests, 0, chatbot.ErrRateLimited},
		{chatbase.CodeResourceNotFound, 0, chatbot.ErrNotFound},
		{"AGENT_NOT_FOUND", 0, chatbot.ErrNotFound},
		{chatbase.CodeValidationInvalidJSON, 0, chatbot.ErrInvalidRequest},
		{chatbase.CodeChatConversationMismatch, 0, chatbot.ErrInvalidRequest},
		{chatbase.CodeChatRetryNoUserMessage, 0, chatbot.ErrInvalidRequest},
		{"INTERNAL_SERVER_ERROR", 500, chatbot.ErrServer},
	} {
		t.Run(string(tc.code), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, chatbasetest.Config{})
			srv.FailNext(1, chatbasetest.Failure{Status: tc.status, Code: string(tc.code), Message: "Nope."})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.code, chatbase.ErrorCodeOf(err))
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, "chatbase", apiErr.Provider)
			assert.Equal(t, "Nope.", apiErr.Message)
			assert.Equal(t, "req_000001", apiErr.RequestID, "x-request-id is kept")
			assert.Contains(t, err.Error(), "[request id req_000001]")
			assert.Equal(t, 1, srv.Count())
		})
	}
}

func TestValidationErrorsCarryTheFieldDetails(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		details any
		want    string
	}{
		"field lists":    {map[string]any{"userId": []string{"Invalid"}, "message": []string{"Required", "Too short"}}, "Invalid request body: message: Required; message: Too short; userId: Invalid"},
		"field messages": {map[string]any{"message": "Required"}, "Invalid request body: message: Required"},
		"validator tree": {map[string]any{"formErrors": []string{}, "fieldErrors": map[string]any{"message": []string{"Required"}}}, "Invalid request body: message: Required"},
		"issues":         {map[string]any{"issues": []any{map[string]any{"path": []string{"conversationId"}, "message": "Expected string"}}}, "Invalid request body: conversationId: Expected string"},
		"nested":         {map[string]any{"body": map[string]any{"stream": "Expected boolean"}}, "Invalid request body: body.stream: Expected boolean"},
		"none":           {nil, "Invalid request body"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, chatbasetest.Config{})
			srv.FailNext(1, chatbasetest.Failure{Code: string(chatbase.CodeValidationInvalidBody), Message: "Invalid request body", Details: tc.details})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, 400, apiErr.StatusCode)
			assert.Equal(t, tc.want, apiErr.Message)
		})
	}
}

func TestServerValidationOfTheUserID(t *testing.T) {
	t.Parallel()
	// The fake checks the user id as Chatbase does; a raw request shows its
	// answer reaches the caller with its details.
	srv, c := setup(t, chatbasetest.Config{})
	srv.FailNext(1, chatbasetest.Failure{Code: "VALIDATION_INVALID_BODY", Message: "Invalid request body.", Details: map[string]any{"userId": []string{"Invalid"}}})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi", User: chatbot.User{ID: "ok"}})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "Invalid request body: userId: Invalid")
}

func TestMessageIntoAnEndedConversation(t *testing.T) {
	t.Parallel()
	for _, takenOver := range []bool{false, true} {
		srv, c := setup(t, chatbasetest.Config{})
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		require.True(t, srv.EndConversation(reply.ConversationID, takenOver))

		_, chatErr := c.Chat(t.Context(), chatbot.Request{Message: "again", ConversationID: reply.ConversationID})
		_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "again", ConversationID: reply.ConversationID}))
		for _, err := range []error{chatErr, streamErr} {
			require.ErrorIs(t, err, chatbase.ErrConversationNotOngoing)
			require.ErrorIs(t, err, chatbot.ErrNotFound, "code written for any provider starts over")
			assert.Equal(t, chatbase.CodeChatConversationNotOngoing, chatbase.ErrorCodeOf(err))
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, 400, apiErr.StatusCode)
		}
		started, err := c.Chat(t.Context(), chatbot.Request{Message: "again"})
		require.NoError(t, err, "a new conversation works")
		assert.NotEqual(t, reply.ConversationID, started.ConversationID)
	}
}

func TestUnknownConversationIsNotFound(t *testing.T) {
	t.Parallel()
	_, c := setup(t, chatbasetest.Config{})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "conv_forgotten"})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	require.NotErrorIs(t, err, chatbase.ErrConversationNotOngoing)
	assert.Equal(t, chatbase.CodeResourceNotFound, chatbase.ErrorCodeOf(err))
}

func TestWrongKeyIsUnauthorizedAndNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := chatbasetest.NewServer(chatbasetest.Config{})
	t.Cleanup(srv.Close)
	const key = "cb_wrong_key_0123456789abcdef"
	c, err := chatbase.NewClient(key, srv.AgentID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	assert.Equal(t, chatbase.CodeAuthInvalidAPIKey, chatbase.ErrorCodeOf(err))
	assert.NotContains(t, err.Error(), key)
	assert.Equal(t, 1, srv.Count(), "a 401 is not retried")
}

func TestRateLimitedCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.RateLimitNext(1, 7*time.Second)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Equal(t, chatbase.CodeRateLimitTooManyRequests, chatbase.ErrorCodeOf(err))
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
}

func TestQuotaIsNeverRetried(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{}, chatbot.WithMaxRetries(3))
	srv.FailNext(5, chatbasetest.Failure{Status: http.StatusTooManyRequests, Code: string(chatbase.CodeChatCreditsExhausted), RetryAfter: time.Second})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	assert.Equal(t, 1, srv.Count(), "credits used up are not retried, even on a 429")
}

func TestErrorCodeOfOtherErrors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, chatbase.ErrorCode(""), chatbase.ErrorCodeOf(nil))
	assert.Equal(t, chatbase.ErrorCode(""), chatbase.ErrorCodeOf(errors.New("x")))
	assert.Equal(t, chatbase.ErrorCode(""), chatbase.ErrorCodeOf(&chatbot.Error{Provider: "sitegpt", ProviderCode: "RESOURCE_NOT_FOUND"}))
}
