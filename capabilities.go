package chatbot

// Capabilities says what a provider can do, in code, so that callers,
// middleware, the conformance suite in chatbottest and the README's tables
// read one value. The zero value claims nothing.
type Capabilities struct {
	// Streaming is true when Stream delivers the reply as the provider
	// writes it; false when the provider has no streaming and Stream yields
	// the whole reply as one chunk.
	Streaming bool

	// Sources is true when replies can carry [Reply.Sources].
	Sources bool

	// Usage is true when replies can carry [Reply.Usage].
	Usage bool

	// FinishReasons is true when replies carry a [FinishReason] the provider
	// reported.
	FinishReasons bool

	// MessageIDs is true when replies carry the provider's [Reply.MessageID].
	MessageIDs bool

	// RateLimitHeaders is true when responses carry X-RateLimit-* headers,
	// read into [Reply.RateLimit] and used by the rate-limit pre-check.
	RateLimitHeaders bool

	// History is true when the provider takes [Request.History]; providers
	// that keep the history on the server ignore it.
	History bool

	// Conversations says where a conversation id comes from.
	Conversations ConversationMode

	// MaxMessageChars is the longest [Request.Message] the client sends, in
	// characters (runes): the provider's published limit, or the SDK's own
	// cap when the provider publishes none. A longer message is refused with
	// [ErrInvalidRequest] before anything is sent. 0 means no limit.
	MaxMessageChars int
}

// ConversationMode says where a provider's conversation ids come from.
type ConversationMode uint8

// The conversation modes.
const (
	// ConversationUnknown: the provider did not say.
	ConversationUnknown ConversationMode = iota

	// ConversationServerIssued: the first reply carries a new id, which the
	// caller passes back; an id the caller makes up is refused or unknown.
	ConversationServerIssued

	// ConversationCallerMade: the caller chooses the id (any string the
	// provider accepts); an empty one lets the SDK or the server choose.
	ConversationCallerMade

	// ConversationCreatedFirst: a separate call creates the conversation
	// before the first message; the SDK makes that call when
	// [Request.ConversationID] is empty.
	ConversationCreatedFirst
)

// String returns the mode's name as the README tables write it.
func (m ConversationMode) String() string {
	switch m {
	case ConversationServerIssued:
		return "server-issued"
	case ConversationCallerMade:
		return "caller-made"
	case ConversationCreatedFirst:
		return "created first"
	default:
		return "unknown"
	}
}
