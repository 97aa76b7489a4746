package sitegpt

import (
	"errors"

	"github.com/chatbot-go/chatbot"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "sitegpt"

// ErrorCode is one of SiteGPT's own error codes, as SiteGPT sends them and
// as the SDK keeps them in [chatbot.Error.ProviderCode]. It is a type of its
// own so that comparing it with a normalised [chatbot.Code] does not compile:
// branch on the normalised code with errors.Is (errors.Is(err,
// chatbot.ErrQuotaExceeded)), and on SiteGPT's own with [ErrorCodeOf].
type ErrorCode string

// SiteGPT's documented error codes. The SDK maps each onto a [chatbot.Code]:
// the limit codes are [chatbot.ErrQuotaExceeded] whatever the HTTP status.
const (
	CodeAPIKeyNotValid          ErrorCode = "API_KEY_NOT_VALID"         // 401, chatbot.ErrUnauthorized
	CodeRequestValidationFailed ErrorCode = "REQUEST_VALIDATION_FAILED" // 400, chatbot.ErrInvalidRequest
	CodeChatbotNotFound         ErrorCode = "CHATBOT_NOT_FOUND"         // 404, chatbot.ErrNotFound
	CodeChatbotFetchForbidden   ErrorCode = "CHATBOT_FETCH_FORBIDDEN"   // 403, chatbot.ErrForbidden
	CodeChatbotLimitReached     ErrorCode = "CHATBOT_LIMIT_REACHED"     // chatbot.ErrQuotaExceeded
	CodeMessagesLimitReached    ErrorCode = "MESSAGES_LIMIT_REACHED"    // chatbot.ErrQuotaExceeded
)

// ErrorCodeOf returns SiteGPT's own code from the first [*chatbot.Error] in
// err's chain that SiteGPT reported, or "" when there is none (a transport
// error, a request refused before sending, another provider's error):
//
//	if sitegpt.ErrorCodeOf(err) == sitegpt.CodeMessagesLimitReached { … }
func ErrorCodeOf(err error) ErrorCode {
	var apiErr *chatbot.Error
	if !errors.As(err, &apiErr) || apiErr.Provider != provider {
		return ""
	}
	return ErrorCode(apiErr.ProviderCode)
}
