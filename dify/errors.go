package dify

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// ErrorCode is one of Dify's own error codes, as Dify sends them in "code"
// and as the SDK keeps them in [chatbot.Error.ProviderCode]. It is a type of
// its own so that comparing it with a normalised [chatbot.Code] does not
// compile: branch on the normalised code with errors.Is (errors.Is(err,
// chatbot.ErrRateLimited)), and on Dify's own with [ErrorCodeOf].
type ErrorCode string

// Dify's error codes on the chat endpoints, with the [chatbot.Code] each is
// mapped onto. A code not listed is mapped by its HTTP status.
const (
	CodeUnauthorized          ErrorCode = "unauthorized"            // 401, chatbot.ErrUnauthorized
	CodeNotFound              ErrorCode = "not_found"               // 404 "Conversation Not Exists.", chatbot.ErrNotFound
	CodeProviderQuotaExceeded ErrorCode = "provider_quota_exceeded" // 400, chatbot.ErrQuotaExceeded
	CodeTooManyRequests       ErrorCode = "too_many_requests"       // 429, the app's cap on concurrent requests; chatbot.ErrRateLimited
	CodeRateLimitError        ErrorCode = "rate_limit_error"        // 429, the upstream model's rate limit; chatbot.ErrRateLimited
	CodeInvalidParam          ErrorCode = "invalid_param"           // 400, chatbot.ErrInvalidRequest
	CodeAppUnavailable        ErrorCode = "app_unavailable"         // 400, chatbot.ErrInvalidRequest
	CodeNotChatApp            ErrorCode = "not_chat_app"            // 400, chatbot.ErrInvalidRequest
	CodeConversationCompleted ErrorCode = "conversation_completed"  // 400, chatbot.ErrInvalidRequest
	CodeInternalServerError   ErrorCode = "internal_server_error"   // 500, chatbot.ErrServer
)

// ErrorCodeOf returns Dify's own code from the first [*chatbot.Error] in
// err's chain that Dify reported, or "" when there is none (a transport
// error, a request refused before sending, another provider's error):
//
//	if dify.ErrorCodeOf(err) == dify.CodeTooManyRequests { … } // the app's concurrency cap, not the model's limit
func ErrorCodeOf(err error) ErrorCode {
	var apiErr *chatbot.Error
	if !errors.As(err, &apiErr) || apiErr.Provider != provider {
		return ""
	}
	return ErrorCode(apiErr.ProviderCode)
}

// withParams adds the field Dify names in "params" to the error's message
// ("Invalid param (params: conversation_id)"), as Dify's own pages do.
func withParams(e *chatbot.Error) {
	var body struct {
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(e.Body, &body) != nil || len(body.Params) == 0 {
		return
	}
	var p string
	if json.Unmarshal(body.Params, &p) != nil {
		p = string(body.Params) // a list or an object, shown as sent
	}
	if p = strings.TrimSpace(p); p != "" && p != "null" && !strings.Contains(e.Message, p) {
		e.Message = strings.TrimRight(e.Message, ". ") + " (params: " + p + ")"
	}
}
