package chatbase

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// ErrorCode is one of Chatbase's own error codes, as Chatbase sends them and
// as the SDK keeps them in [chatbot.Error.ProviderCode]. It is a type of its
// own so that comparing it with a normalised [chatbot.Code] does not compile:
// branch on the normalised code with errors.Is (errors.Is(err,
// chatbot.ErrQuotaExceeded)), and on Chatbase's own with [ErrorCodeOf].
type ErrorCode string

// Chatbase's documented error codes and the [chatbot.Code] each is mapped
// onto, whatever the HTTP status (Chatbase documents the status of only a
// few). Codes of the same families that are not listed here are mapped by
// their family: AUTH_* is unauthorized (forbidden on a 403), *_CREDITS_EXHAUSTED
// and SUBSCRIPTION_* are quota exceeded, VALIDATION_* is an invalid request,
// *_NOT_FOUND is not found.
const (
	CodeValidationInvalidBody       ErrorCode = "VALIDATION_INVALID_BODY"          // chatbot.ErrInvalidRequest, with the field details in the message
	CodeValidationInvalidJSON       ErrorCode = "VALIDATION_INVALID_JSON"          // chatbot.ErrInvalidRequest
	CodeChatRetryNoUserMessage      ErrorCode = "CHAT_RETRY_NO_USER_MESSAGE"       // chatbot.ErrInvalidRequest
	CodeAuthMissingAPIKey           ErrorCode = "AUTH_MISSING_API_KEY"             // chatbot.ErrUnauthorized
	CodeAuthInvalidAPIKey           ErrorCode = "AUTH_INVALID_API_KEY"             // chatbot.ErrUnauthorized
	CodeAuthExpiredAPIKey           ErrorCode = "AUTH_EXPIRED_API_KEY"             // chatbot.ErrUnauthorized
	CodeAuthInsufficientPermissions ErrorCode = "AUTH_INSUFFICIENT_PERMISSIONS"    // chatbot.ErrForbidden
	CodeChatCreditsExhausted        ErrorCode = "CHAT_CREDITS_EXHAUSTED"           // chatbot.ErrQuotaExceeded, never retried
	CodeChatAgentCreditsExhausted   ErrorCode = "CHAT_AGENT_CREDITS_EXHAUSTED"     // chatbot.ErrQuotaExceeded, never retried
	CodeSubscriptionPlanRequired    ErrorCode = "SUBSCRIPTION_PLAN_REQUIRED"       // chatbot.ErrQuotaExceeded (one doc page's name)
	CodeSubscriptionRestrictedPlan  ErrorCode = "SUBSCRIPTION_API_RESTRICTED_PLAN" // chatbot.ErrQuotaExceeded (another page's name)
	CodeChatModelNotAllowed         ErrorCode = "CHAT_MODEL_NOT_ALLOWED"           // chatbot.ErrQuotaExceeded: the agent's model is not on the plan
	CodeChatConversationMismatch    ErrorCode = "CHAT_CONVERSATION_MISMATCH"       // chatbot.ErrInvalidRequest: the conversation is another agent's
	CodeChatConversationNotOngoing  ErrorCode = "CHAT_CONVERSATION_NOT_ONGOING"    // chatbot.ErrNotFound and ErrConversationNotOngoing
	CodeResourceNotFound            ErrorCode = "RESOURCE_NOT_FOUND"               // chatbot.ErrNotFound
	CodeResourceToolCallNotFound    ErrorCode = "RESOURCE_TOOL_CALL_NOT_FOUND"     // chatbot.ErrNotFound and ErrToolCallExpired
	CodeRateLimitTooManyRequests    ErrorCode = "RATE_LIMIT_TOO_MANY_REQUESTS"     // chatbot.ErrRateLimited, with RetryAfter
)

// codes maps the documented codes onto the normalised ones.
var codes = map[string]chatbot.Code{
	string(CodeValidationInvalidBody):       chatbot.CodeInvalidRequest,
	string(CodeValidationInvalidJSON):       chatbot.CodeInvalidRequest,
	string(CodeChatRetryNoUserMessage):      chatbot.CodeInvalidRequest,
	string(CodeAuthMissingAPIKey):           chatbot.CodeUnauthorized,
	string(CodeAuthInvalidAPIKey):           chatbot.CodeUnauthorized,
	string(CodeAuthExpiredAPIKey):           chatbot.CodeUnauthorized,
	string(CodeAuthInsufficientPermissions): chatbot.CodeForbidden,
	string(CodeChatCreditsExhausted):        chatbot.CodeQuotaExceeded,
	string(CodeChatAgentCreditsExhausted):   chatbot.CodeQuotaExceeded,
	string(CodeSubscriptionPlanRequired):    chatbot.CodeQuotaExceeded,
	string(CodeSubscriptionRestrictedPlan):  chatbot.CodeQuotaExceeded,
	string(CodeChatModelNotAllowed):         chatbot.CodeQuotaExceeded,
	string(CodeChatConversationMismatch):    chatbot.CodeInvalidRequest,
	string(CodeChatConversationNotOngoing):  chatbot.CodeNotFound,
	string(CodeResourceNotFound):            chatbot.CodeNotFound,
	string(CodeResourceToolCallNotFound):    chatbot.CodeNotFound,
	string(CodeRateLimitTooManyRequests):    chatbot.CodeRateLimitExceeded,
}

// classify maps the codes no table lists by their family, and puts the
// field details of a validation error into its message.
func classify(e *chatbot.Error) {
	pc := strings.ToUpper(e.ProviderCode)
	if _, listed := codes[pc]; !listed {
		switch {
		case strings.HasPrefix(pc, "AUTH_") && e.StatusCode == 403:
			e.Code = chatbot.CodeForbidden
		case strings.HasPrefix(pc, "AUTH_"):
			e.Code = chatbot.CodeUnauthorized
		case strings.HasSuffix(pc, "_CREDITS_EXHAUSTED"), strings.HasPrefix(pc, "SUBSCRIPTION_"):
			e.Code = chatbot.CodeQuotaExceeded
		case strings.HasPrefix(pc, "VALIDATION_"):
			e.Code = chatbot.CodeInvalidRequest
		case strings.HasPrefix(pc, "RATE_LIMIT_"):
			e.Code = chatbot.CodeRateLimitExceeded
		case strings.HasSuffix(pc, "_NOT_FOUND"):
			e.Code = chatbot.CodeNotFound
		}
	}
	if e.Code == chatbot.CodeInvalidRequest {
		if msg, d, ok := details(e.Body); ok && d != "" {
			e.Message = strings.TrimRight(msg, ".… ") + ": " + d
		}
	}
}

// details reads the message and error.details of a Chatbase error body, the
// details rendered as "field: message; …" whatever their nesting (a map of
// fields to messages or lists of them, a validator's {"fieldErrors": {…}} or
// {"issues": [{"path", "message"}]}), in a stable order. ok is false for a
// body that is not Chatbase's error envelope.
func details(body []byte) (msg, rendered string, ok bool) {
	var env struct {
		Error *struct {
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		return "", "", false
	}
	var v any
	if json.Unmarshal(env.Error.Details, &v) != nil {
		return env.Error.Message, "", true
	}
	var parts []string
	flatten(&parts, "", v)
	return env.Error.Message, strings.Join(parts, "; "), true
}

// flatten appends "path: text" for every string under v. The wrappers of
// common validators (fieldErrors, formErrors, errors, issues) add nothing to
// the path.
func flatten(parts *[]string, path string, v any) {
	switch v := v.(type) {
	case string:
		if path == "" {
			*parts = append(*parts, v)
		} else {
			*parts = append(*parts, path+": "+v)
		}
	case []any:
		for _, e := range v {
			flatten(parts, path, e)
		}
	case map[string]any:
		// An issue {"path": […], "message": …}; without a path, "message"
		// is a field (Chatbase's own field is called message).
		if msg, ok := v["message"].(string); ok && v["path"] != nil {
			if p, ok := v["path"].([]any); ok && len(p) > 0 {
				path = fmt.Sprint(p[0])
				for _, e := range p[1:] {
					path += "." + fmt.Sprint(e)
				}
			}
			flatten(parts, path, msg)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			sub := k
			switch {
			case k == "fieldErrors" || k == "formErrors" || k == "errors" || k == "issues":
				sub = path
			case path != "":
				sub = path + "." + k
			}
			flatten(parts, sub, v[k])
		}
	}
}

// ErrConversationNotOngoing is matched (with [errors.Is]) by the error of a
// message sent into a conversation that has ended or that a human has taken
// over (Chatbase's CHAT_CONVERSATION_NOT_ONGOING): it will take no more
// messages, so start a new conversation (an empty
// [chatbot.Request.ConversationID]). The same error is a [*chatbot.Error]
// matching [chatbot.ErrNotFound], so code written for any provider starts
// over as it does for a forgotten conversation.
var ErrConversationNotOngoing = errors.New("chatbase: the conversation is no longer ongoing; start a new one")

// ErrToolCallExpired is matched (with [errors.Is]) by the error of
// [Client.SubmitToolResult] for a tool call Chatbase no longer waits for
// (RESOURCE_TOOL_CALL_NOT_FOUND): it expired, or its result was already
// posted. The same error is a [*chatbot.Error] matching [chatbot.ErrNotFound].
var ErrToolCallExpired = errors.New("chatbase: the tool call expired or was already answered")

// sentinels are the errors of this package added to a *chatbot.Error with
// one of these codes.
var sentinels = map[ErrorCode]error{
	CodeChatConversationNotOngoing: ErrConversationNotOngoing,
	CodeResourceToolCallNotFound:   ErrToolCallExpired,
}

// withSentinel returns err, wrapped so that it also matches this package's
// sentinel for its Chatbase code, if there is one.
func withSentinel(err error) error {
	if s, ok := sentinels[ErrorCodeOf(err)]; ok {
		return &sentinelError{err: err, sentinel: s}
	}
	return err
}

// sentinelError is an error that also matches a sentinel of this package;
// its text is the error's own.
type sentinelError struct {
	err      error
	sentinel error
}

func (e *sentinelError) Error() string   { return e.err.Error() }
func (e *sentinelError) Unwrap() []error { return []error{e.err, e.sentinel} }

// ErrorCodeOf returns Chatbase's own code from the first [*chatbot.Error] in
// err's chain that Chatbase reported, or "" when there is none (a transport
// error, a request refused before sending, another provider's error):
//
//	if chatbase.ErrorCodeOf(err) == chatbase.CodeChatAgentCreditsExhausted { … }
func ErrorCodeOf(err error) ErrorCode {
	var apiErr *chatbot.Error
	if !errors.As(err, &apiErr) || apiErr.Provider != provider {
		return ""
	}
	return ErrorCode(apiErr.ProviderCode)
}
