package chatbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Version is the version of this module, sent in the default User-Agent as
// "chatbot-go/<Version>".
const Version = "0.1.0"

// Chatbot is a conversation with one hosted chatbot. Every provider's *Client
// implements it, and so does the scripted fake in package chatbottest.
//
// Implementations are safe for concurrent use by multiple goroutines.
type Chatbot interface {
	// Chat sends one message and waits for the whole reply.
	Chat(ctx context.Context, req Request) (*Reply, error)

	// Stream sends one message and returns the reply as it arrives. The
	// sequence is lazy and single-use: nothing is sent until the first
	// iteration, and ranging over it a second time yields only an error
	// wrapping [ErrStreamUsed] (the message is never sent twice). An error, if
	// any, is the last pair; the last chunk of a complete reply has Done set.
	// Breaking out of the loop closes the connection.
	Stream(ctx context.Context, req Request) iter.Seq2[Chunk, error]
}

// Request is one message sent to a chatbot. The zero value is not valid:
// Message is required.
type Request struct {
	// Message is the user's message. It must be non-empty valid UTF-8 without
	// NUL bytes; providers may impose a length limit.
	Message string

	// ConversationID continues a conversation: pass back the
	// [Reply.ConversationID] of an earlier reply. Empty starts a new one.
	ConversationID string

	// User says who is speaking. Each provider uses the fields it supports.
	User User

	// Metadata is passed through to providers that accept free-form metadata
	// and ignored by the others.
	Metadata map[string]string

	// History is the conversation so far, oldest first, for providers that
	// take it with each call ([Capabilities.History]); the others keep the
	// history on the server and ignore it. Nil sends none.
	History []Message
}

// User identifies the person talking to the chatbot. Every field is optional.
type User struct {
	ID    string
	Name  string
	Email string
}

// Reply is a complete answer from a chatbot.
type Reply struct {
	// Text is the reply text.
	Text string

	// ConversationID identifies the conversation; pass it back in the next
	// [Request] to continue it.
	ConversationID string

	// MessageID is the provider's id for this reply, or empty if it has none.
	MessageID string

	// RateLimit is the rate-limit state the response reported, or nil when it
	// carried no rate-limit headers.
	RateLimit *RateLimit

	// Raw is the provider's response body, for fields the SDK does not map.
	// It is nil for replies assembled from a stream by [Collect].
	Raw json.RawMessage

	// Sources are the documents the answer drew on, in the provider's order;
	// nil when it reported none ([Capabilities.Sources]).
	Sources []Source

	// Usage is what the reply cost; nil when the provider reported nothing
	// ([Capabilities.Usage]).
	Usage *Usage

	// FinishReason says why the reply ended; empty when the provider did not
	// say.
	FinishReason FinishReason

	// Actions are the calls the chatbot waits for the caller to run, when
	// FinishReason is [FinishActionRequired]; the error returned beside such
	// a reply wraps [ErrActionRequired].
	Actions []Action
}

// Chunk is one piece of a streamed reply.
type Chunk struct {
	// Text is the next piece of the reply, exactly as received. It may be
	// empty, as it is on a final chunk that only marks the end.
	Text string

	// ConversationID is set on every chunk once it is known.
	ConversationID string

	// MessageID is set on every chunk once it is known.
	MessageID string

	// RateLimit is set on the first chunk when the response carried
	// rate-limit headers.
	RateLimit *RateLimit

	// Replace is true when Text replaces all the text of the reply so far
	// instead of extending it (Dify's moderation replaces a whole answer).
	// [Collect] and [CollectN] honour it; a caller that renders chunks itself
	// must clear what it showed.
	Replace bool

	// Sources are the sources that arrived with this chunk (not repeated on
	// later chunks); [Collect] appends them.
	Sources []Source

	// Usage is set on the final chunk when the provider reported usage.
	Usage *Usage

	// FinishReason is set on the final chunk when the provider said why the
	// reply ended.
	FinishReason FinishReason

	// Actions are set on the final chunk of a reply that stopped for
	// [FinishActionRequired].
	Actions []Action

	// Done is true on the final chunk of a complete reply.
	Done bool
}

// RateLimit is the rate-limit state a provider reported in its
// X-RateLimit-* response headers. A field the response did not carry is zero.
type RateLimit struct {
	Limit     int       // requests allowed in the window
	Remaining int       // requests left in the window
	Used      int       // requests used in the window
	Reset     time.Time // when the window resets
}

// ErrStreamUsed is returned, as the only pair, when a stream returned by
// [Chatbot.Stream] is ranged over a second time. The message is not sent again.
var ErrStreamUsed = errors.New("chatbot: stream already consumed; call Stream again to send another message")

// ErrIncomplete is returned by [Collect] when a stream ended without an error
// but also without a chunk marked Done.
var ErrIncomplete = errors.New("chatbot: stream ended without its final chunk")

// Collect ranges over a stream and folds its chunks into a [Reply]: the texts
// concatenated, the last ids seen, and the first rate-limit state seen. It is
// [CollectN] with the default bound [DefaultMaxCollectBytes] (8 MiB, the cap a
// provider's Chat puts on a reply): a longer reply stops the stream and ends
// in an error wrapping [ErrReplyTooLarge].
//
// On error Collect returns the partial reply (all the text that arrived) and
// the error, so nothing received is lost. A stream that ends without error
// and without a Done chunk yields the partial reply and [ErrIncomplete].
func Collect(chunks iter.Seq2[Chunk, error]) (*Reply, error) {
	return CollectN(chunks, DefaultMaxCollectBytes)
}

// String returns the rate-limit state in a form fit for logs.
func (rl *RateLimit) String() string {
	if rl == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%d/%d used, %d remaining, resets %s", rl.Used, rl.Limit, rl.Remaining, rl.Reset.UTC().Format(time.RFC3339))
}
