package sitegpt

// SiteGPT's documented error codes, as found in [chatbot.Error.ProviderCode].
// The SDK maps each onto a [chatbot.Code]: the limit codes are
// [chatbot.ErrQuotaExceeded] whatever the HTTP status.
const (
	CodeAPIKeyNotValid          = "API_KEY_NOT_VALID"         // 401, chatbot.ErrUnauthorized
	CodeRequestValidationFailed = "REQUEST_VALIDATION_FAILED" // 400, chatbot.ErrInvalidRequest
	CodeChatbotNotFound         = "CHATBOT_NOT_FOUND"         // 404, chatbot.ErrNotFound
	CodeChatbotFetchForbidden   = "CHATBOT_FETCH_FORBIDDEN"   // 403, chatbot.ErrForbidden
	CodeChatbotLimitReached     = "CHATBOT_LIMIT_REACHED"     // chatbot.ErrQuotaExceeded
	CodeMessagesLimitReached    = "MESSAGES_LIMIT_REACHED"    // chatbot.ErrQuotaExceeded
)
