package chatbot_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

func TestHandBuiltErrorTakesItsCodeFromTheStatus(t *testing.T) {
	err := fmt.Errorf("calling the bot: %w", &chatbot.Error{StatusCode: 429, RetryAfter: time.Second})
	assert.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.NotErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, "calling the bot: 429 RATE_LIMIT_EXCEEDED (retry after 1s)", err.Error())

	explicit := &chatbot.Error{StatusCode: 429, Code: chatbot.CodeQuotaExceeded}
	assert.ErrorIs(t, explicit, chatbot.ErrQuotaExceeded, "an explicit Code wins over the status")
	assert.NotErrorIs(t, explicit, chatbot.ErrRateLimited)

	assert.Equal(t, "UNKNOWN", (&chatbot.Error{}).Error())
}

func TestCodeForStatus(t *testing.T) {
	for status, want := range map[int]chatbot.Code{
		400: chatbot.CodeInvalidRequest, 401: chatbot.CodeUnauthorized, 402: chatbot.CodeQuotaExceeded,
		403: chatbot.CodeForbidden, 404: chatbot.CodeNotFound, 405: chatbot.CodeInvalidRequest,
		409: chatbot.CodeUnknown, 413: chatbot.CodeInvalidRequest, 422: chatbot.CodeInvalidRequest,
		429: chatbot.CodeRateLimitExceeded, 500: chatbot.CodeServerError, 503: chatbot.CodeServerError,
		599: chatbot.CodeServerError, 0: chatbot.CodeUnknown, 200: chatbot.CodeUnknown, 302: chatbot.CodeUnknown,
	} {
		assert.Equal(t, want, chatbot.CodeForStatus(status), "status %d", status)
	}
}

func TestErrorBodyIsNotDumpedWhenAnErrorIsLogged(t *testing.T) {
	e := chatbot.Error{Provider: "workspace", StatusCode: 500, Body: []byte(`{"error":"boom"}`)}
	for _, format := range []string{"%v", "%+v"} {
		got := fmt.Sprintf(format, e)
		assert.Contains(t, got, "<16 bytes>", format)
		assert.NotContains(t, got, "123 34", format+": the body is not printed as decimal bytes")
	}
	assert.Equal(t, `{"error":"boom"}`, fmt.Sprintf("%s", e.Body), "%s prints the body's text")
	assert.Equal(t, `"{\"error\":\"boom\"}"`, fmt.Sprintf("%q", e.Body))
	assert.Equal(t, "7b7d", fmt.Sprintf("%x", chatbot.ErrorBody("{}")))
	assert.Equal(t, "workspace: 500 SERVER_ERROR", fmt.Sprintf("%+v", &e), "a *Error prints its one line")

	var decoded map[string]string
	require.NoError(t, json.Unmarshal(e.Body, &decoded), "Body is still a []byte")
	assert.Equal(t, "boom", decoded["error"])
	var apiErr *chatbot.Error
	require.True(t, errors.As(fmt.Errorf("x: %w", &e), &apiErr))
}

func TestErrorTextIsOneLineAndMessageStaysVerbatim(t *testing.T) {
	msg := "bad input\nworkspace: 200 fake log line\r\x1b[31mred\u2028\u0085end\ttab"
	e := &chatbot.Error{Provider: "workspace", StatusCode: 400, Code: chatbot.CodeInvalidRequest,
		ProviderCode: "X\nY", Message: msg, RequestID: "r\n1"}
	assert.Equal(t, `workspace: 400 INVALID_REQUEST (X\nY): bad input\nworkspace: 200 fake log line\r\x1b[31mred\u2028\u0085end\ttab [request id r\n1]`, e.Error())
	assert.Equal(t, msg, e.Message, "the field is verbatim")
	assert.Equal(t, "workspace: 400 INVALID_REQUEST: ok é 日本", (&chatbot.Error{Provider: "workspace", StatusCode: 400, Message: "ok é 日本"}).Error())
}
