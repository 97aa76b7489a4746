package sitegpt_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failure  sitegpttest.Failure
		status   int
		sentinel error
		code     chatbot.Code
		message  string
	}{
		{
			name:    "API_KEY_NOT_VALID",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeAPIKeyNotValid), Message: "API key is not valid"},
			status:  401, sentinel: chatbot.ErrUnauthorized, code: chatbot.CodeUnauthorized, message: "API key is not valid",
		},
		{
			name: "REQUEST_VALIDATION_FAILED with details",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeRequestValidationFailed), Message: "Request validation failed",
				Details: []any{map[string]any{"path": []any{"message"}, "message": "Required"}}},
			status: 400, sentinel: chatbot.ErrInvalidRequest, code: chatbot.CodeInvalidRequest,
			message: "Request validation failed: message: Required",
		},
		{
			name:    "CHATBOT_NOT_FOUND",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeChatbotNotFound), Message: "Chatbot not found"},
			status:  404, sentinel: chatbot.ErrNotFound, code: chatbot.CodeNotFound, message: "Chatbot not found",
		},
		{
			name:    "CHATBOT_FETCH_FORBIDDEN",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeChatbotFetchForbidden), Message: "Forbidden"},
			status:  403, sentinel: chatbot.ErrForbidden, code: chatbot.CodeForbidden, message: "Forbidden",
		},
		{
			name:    "MESSAGES_LIMIT_REACHED 403",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeMessagesLimitReached), Message: "Messages limit reached"},
			status:  403, sentinel: chatbot.ErrQuotaExceeded, code: chatbot.CodeQuotaExceeded, message: "Messages limit reached",
		},
		{
			name:    "MESSAGES_LIMIT_REACHED 400",
			failure: sitegpttest.Failure{Status: 400, Code: string(sitegpt.CodeMessagesLimitReached), Message: "Messages limit reached"},
			status:  400, sentinel: chatbot.ErrQuotaExceeded, code: chatbot.CodeQuotaExceeded, message: "Messages limit reached",
		},
		{
			name:    "MESSAGES_LIMIT_REACHED 429",
			failure: sitegpttest.Failure{Status: 429, Code: string(sitegpt.CodeMessagesLimitReached), Message: "Messages limit reached"},
			status:  429, sentinel: chatbot.ErrQuotaExceeded, code: chatbot.CodeQuotaExceeded, message: "Messages limit reached",
		},
		{
			name:    "CHATBOT_LIMIT_REACHED 403",
			failure: sitegpttest.Failure{Code: string(sitegpt.CodeChatbotLimitReached), Message: "Chatbot limit reached"},
			status:  403, sentinel: chatbot.ErrQuotaExceeded, code: chatbot.CodeQuotaExceeded, message: "Chatbot limit reached",
		},
		{
			name:    "CHATBOT_LIMIT_REACHED 500",
			failure: sitegpttest.Failure{Status: 500, Code: string(sitegpt.CodeChatbotLimitReached), Message: "Chatbot limit reached"},
			status:  500, sentinel: chatbot.ErrQuotaExceeded, code: chatbot.CodeQuotaExceeded, message: "Chatbot limit reached",
		},
		{
			name:    "429 without code",
			failure: sitegpttest.Failure{Status: 429},
			status:  429, sentinel: chatbot.ErrRateLimited, code: chatbot.CodeRateLimitExceeded, message: "Too Many Requests",
		},
		{
			name:    "500 without code",
			failure: sitegpttest.Failure{Status: 500, Message: "Something went wrong"},
			status:  500, sentinel: chatbot.ErrServer, code: chatbot.CodeServerError, message: "Something went wrong",
		},
		{
			name:    "405",
			failure: sitegpttest.Failure{Status: 405},
			status:  405, sentinel: chatbot.ErrInvalidRequest, code: chatbot.CodeInvalidRequest, message: "Method Not Allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, sitegpttest.Config{})
			srv.FailNext(1, tt.failure)

			m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
			assert.Nil(t, m)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.sentinel)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "sitegpt", apiErr.Provider)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.failure.Code, apiErr.ProviderCode)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Contains(t, string(apiErr.Body), `"success":false`)
			assert.Equal(t, 1, srv.Count(), "a failed POST must not be resent")
		})
	}
}

func TestErrorFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		status   int
		sentinel error
		code     string
		message  string
	}{
		{file: "401_api_key_not_valid.json", status: 401, sentinel: chatbot.ErrUnauthorized, code: "API_KEY_NOT_VALID", message: "API key is not valid"},
		{
			file: "400_request_validation_failed.json", status: 400, sentinel: chatbot.ErrInvalidRequest, code: "REQUEST_VALIDATION_FAILED",
			message: "Request validation failed: message: Required; from: Invalid enum value. Expected 'USER' | 'AGENT'",
		},
		{file: "404_chatbot_not_found.json", status: 404, sentinel: chatbot.ErrNotFound, code: "CHATBOT_NOT_FOUND", message: "Chatbot not found"},
		{file: "403_chatbot_fetch_forbidden.json", status: 403, sentinel: chatbot.ErrForbidden, code: "CHATBOT_FETCH_FORBIDDEN", message: "You are not allowed to access this chatbot"},
		{file: "400_chatbot_limit_reached.json", status: 400, sentinel: chatbot.ErrQuotaExceeded, code: "CHATBOT_LIMIT_REACHED", message: "Chatbot limit reached"},
		{file: "429_too_many_requests.json", status: 429, sentinel: chatbot.ErrRateLimited, message: "Too many requests"},
		{file: "500_server_error.html", status: 500, sentinel: chatbot.ErrServer},
		{file: "200_success_false.json", status: 200, sentinel: chatbot.ErrQuotaExceeded, code: "MESSAGES_LIMIT_REACHED", message: "Messages limit reached for this month"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			c := serveFile(t, tt.status, tt.file)
			_, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.sentinel)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.ProviderCode)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.NotEmpty(t, apiErr.Body)
		})
	}
}

func TestErrorWrongKeyAndChatbot(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	t.Cleanup(srv.Close)
	tests := []struct {
		name, key, chatbotID string
		sentinel             error
		code                 sitegpt.ErrorCode
	}{
		{name: "wrong key", key: "wrong-key", chatbotID: srv.ChatbotID(), sentinel: chatbot.ErrUnauthorized, code: sitegpt.CodeAPIKeyNotValid},
		{name: "unknown chatbot", key: srv.APIKey(), chatbotID: "other", sentinel: chatbot.ErrNotFound, code: sitegpt.CodeChatbotNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := sitegpt.NewClient(tt.key, tt.chatbotID, chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
			require.ErrorIs(t, err, tt.sentinel)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, string(tt.code), apiErr.ProviderCode)
			assert.Equal(t, tt.code, sitegpt.ErrorCodeOf(fmt.Errorf("asking: %w", err)))
			assert.NotContains(t, err.Error(), tt.key)
		})
	}
}

func TestErrorRedactsKey(t *testing.T) {
	t.Parallel()
	const key = "sk-secret-0123456789"
	srv := sitegpttest.NewServer(sitegpttest.Config{APIKey: key})
	t.Cleanup(srv.Close)
	srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeAPIKeyNotValid), Message: "API key " + key + " is not valid"})
	c, err := sitegpt.NewClient(key, srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	_, err = c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "API key [REDACTED] is not valid", apiErr.Message)
	assert.NotContains(t, err.Error(), key)
	assert.NotContains(t, string(apiErr.Body), key)
}

func TestRateLimitedMessageIsRetried(t *testing.T) {
	t.Parallel()
	// No Retry-After: the client backs off on its own clock, which only the
	// test moves.
	clk := clocktest.New(time.Now())
	srv, c := setup(t, sitegpttest.Config{}, chatbot.WithMaxRetries(1), config.WithClock(clk), chatbot.WithStreamIdleTimeout(0))
	srv.FailNext(1, sitegpttest.Failure{Status: http.StatusTooManyRequests})

	done := make(chan error, 1)
	var m *sitegpt.Message
	go func() {
		var err error
		m, err = c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
		done <- err
	}()
	clk.WaitArmed(t, 1)
	wait := clk.Pending()
	require.Len(t, wait, 1)
	assert.GreaterOrEqual(t, wait[0], 250*time.Millisecond, "the first backoff, with jitter")
	assert.LessOrEqual(t, wait[0], 500*time.Millisecond)
	assert.Equal(t, 1, srv.Count())
	clk.Advance(wait[0])
	require.NoError(t, <-done)
	assert.Equal(t, "You said: Hi", m.Text())
	assert.Equal(t, 2, srv.Count(), "a 429 was refused unprocessed and may be resent")
}

func TestServerErrorIsNotRetriedForMessages(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{}, chatbot.WithMaxRetries(2))
	srv.FailNext(1, sitegpttest.Failure{Status: http.StatusInternalServerError})

	_, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, 1, srv.Count(), "the message may have been processed: never resent")
	assert.Empty(t, srv.ThreadIDs())
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeChatbotFetchForbidden)})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "sitegpt: 403 FORBIDDEN (CHATBOT_FETCH_FORBIDDEN): Forbidden", err.Error())
}

func TestErrorCodeOfOtherErrors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, sitegpt.ErrorCode(""), sitegpt.ErrorCodeOf(nil))
	assert.Equal(t, sitegpt.ErrorCode(""), sitegpt.ErrorCodeOf(io.ErrUnexpectedEOF))
	other := &chatbot.Error{Provider: "workspace", ProviderCode: "API_KEY_NOT_VALID"}
	assert.Equal(t, sitegpt.ErrorCode(""), sitegpt.ErrorCodeOf(other), "another provider's code is not SiteGPT's")
}
