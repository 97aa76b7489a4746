package chatbot

import (
	"encoding/json"
	"errors"
)

// Source is a document the chatbot drew on for its answer: a page of the
// knowledge base, a file, a citation. Every field is optional; a field the
// provider did not send stays empty.
type Source struct {
	// ID is the provider's id for the source (a document, segment or
	// citation id), or empty.
	ID string

	// Title is the document's title or file name.
	Title string

	// URL is where the document can be read, as the provider sent it (not
	// checked: treat it as untrusted before rendering it as a link).
	URL string

	// Snippet is the passage of the document the answer used.
	Snippet string

	// Score is the relevance the provider reported, in the provider's own
	// scale; 0 when it reported none.
	Score float64

	// Raw is the provider's JSON for this source, for fields the SDK does not
	// map; nil when the source was not JSON.
	Raw json.RawMessage
}

// Usage is what a reply cost, as the provider reported it. A field the
// provider did not report is zero; a provider that reports nothing leaves
// [Reply.Usage] nil, never a zero Usage.
type Usage struct {
	InputTokens  int64 // tokens of the prompt (Dify prompt_tokens)
	OutputTokens int64 // tokens of the answer (Dify completion_tokens)
	TotalTokens  int64 // as reported; not computed when absent

	// Credits is the platform's own unit of charge (Chatbase credits).
	Credits float64

	// Price is the price of the call as the provider wrote it, a decimal
	// string kept verbatim so that no rounding creeps in ("0.0000760"), in
	// Currency ("USD").
	Price    string
	Currency string
}

// FinishReason says why a reply ended. The zero value means the provider did
// not say.
type FinishReason string

// The finish reasons. Providers map their own values onto these; a value
// with no counterpart is [FinishOther].
const (
	FinishUnknown        FinishReason = ""                // the provider did not say
	FinishComplete       FinishReason = "complete"        // the answer is whole
	FinishLength         FinishReason = "length"          // cut by a token or length limit
	FinishContentFilter  FinishReason = "content_filter"  // withheld or replaced by moderation
	FinishActionRequired FinishReason = "action_required" // the chatbot waits for the caller to run an action; see [Reply.Actions]
	FinishError          FinishReason = "error"           // the provider reported an error
	FinishOther          FinishReason = "other"           // a reason this SDK has no name for
)

// Action is a call the chatbot asks the caller to run before it can go on
// (an AI SDK tool call whose result the caller must post back). Each
// provider that has actions documents how to send the result.
type Action struct {
	ID    string          // the provider's id for the call, needed to post its result
	Name  string          // the tool or action name
	Input json.RawMessage // the arguments, as JSON; nil when none were sent
}

// ErrActionRequired is wrapped by the error a Chat (and [Collect]) returns
// when the reply stopped because the chatbot asks the caller to run an
// action ([FinishActionRequired]). The reply returned beside it holds the
// text so far and the pending [Reply.Actions]; such a reply is never
// reported as a complete one.
var ErrActionRequired = errors.New("chatbot: the chatbot asks the caller to run an action")

// Role says who spoke a [Message] of a conversation's history.
type Role string

// The roles of a conversation.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one earlier turn of a conversation, sent in [Request.History]
// to providers that take the history with each call.
type Message struct {
	Role Role
	Text string
}
