package resilience

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"

	"github.com/chatbot-go/chatbot"
)

// Named is a chatbot with the name a [Fallback] knows it by. The name is
// written into the conversation ids the Fallback returns, so it must stay
// the same across restarts and across every replica of a service.
type Named struct {
	Name string          // non-empty, unique within the Fallback, without ':'
	Bot  chatbot.Chatbot // typically wrapped in Limit and Breaker
}

// Fallback is a [chatbot.Chatbot] over several named chatbots, in order of
// preference: the first is the primary.
//
// A new conversation (no ConversationID) goes to the first chatbot, and
// moves to the next only when the error proves that the message was not
// processed: it was refused before sending (a dial or DNS error, the
// client's own rate limit, an open circuit of [Breaker]) or refused
// unprocessed by the provider (429, quota exhausted, 503 with a
// Retry-After). Any other failure (500, 502, 504, a connection reset after
// sending, a timeout, the caller's cancellation, a stream that already
// yielded a chunk) is returned as is: the chatbot may have answered and
// billed, and the message is never sent twice. Wrapping each chatbot in
// [Breaker] makes a chatbot known to be failing refuse at once, so new
// conversations skip it without a round trip.
//
// A continued conversation stays with the chatbot that started it, where its
// history lives. The ConversationID of every [chatbot.Reply] and
// [chatbot.Chunk] the Fallback returns is "<name>:<the chatbot's own id>",
// so the owner is known from the id alone, with no shared state, on every
// replica. A ConversationID whose name is not one of the Fallback's (or that
// has no ':') is refused with [chatbot.ErrInvalidRequest] and nothing is
// sent. A continued conversation whose owner fails gets the owner's error.
//
// When more than one chatbot was tried, the error is a *[FallbackError]:
// its message leads with the primary's error, and errors.Is and errors.As
// reach every chatbot's error, the primary's first.
//
// A Fallback is safe for concurrent use if its chatbots are.
type Fallback struct {
	bots  []Named
	index map[string]int
}

// NewFallback returns a Fallback over bots, the first being the primary. It
// returns an error when bots is empty, or a name is empty, repeated or
// contains ':', or a Bot is nil.
func NewFallback(bots ...Named) (*Fallback, error) {
	if len(bots) == 0 {
		return nil, fmt.Errorf("resilience: NewFallback: no chatbots")
	}
	f := &Fallback{bots: append([]Named(nil), bots...), index: make(map[string]int, len(bots))}
	for i, nb := range bots {
		switch _, dup := f.index[nb.Name]; {
		case nb.Name == "" || strings.Contains(nb.Name, ":"):
			return nil, fmt.Errorf("resilience: NewFallback: chatbot %d: name %q is empty or contains ':'", i, nb.Name)
		case dup:
			return nil, fmt.Errorf("resilience: NewFallback: name %q is used twice", nb.Name)
		case nb.Bot == nil:
			return nil, fmt.Errorf("resilience: NewFallback: chatbot %q is nil", nb.Name)
		}
		f.index[nb.Name] = i
	}
	return f, nil
}

// Info returns the primary chatbot's [chatbot.Info], where new conversations
// go while it is available, with one change to its Capabilities: a
// Fallback issues the conversation ids (each names the chatbot that owns
// the conversation), so a caller cannot make one up, and a primary's
// [chatbot.ConversationCallerMade] is reported as
// [chatbot.ConversationServerIssued].
func (f *Fallback) Info() chatbot.Info {
	info := chatbot.InfoOf(f.bots[0].Bot)
	if info.Capabilities.Conversations == chatbot.ConversationCallerMade {
		info.Capabilities.Conversations = chatbot.ConversationServerIssued
	}
	return info
}

// FallbackError is the error of a new conversation that more than one
// chatbot of a [Fallback] refused, or that one refused and the next failed.
type FallbackError struct {
	Names []string // the chatbots tried, in order; the primary first
	Errs  []error  // their errors, in the same order
}

// Error returns the errors in order, each after its chatbot's name:
// "primary: <error>; backup: <error>".
func (e *FallbackError) Error() string {
	var b strings.Builder
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Names[i])
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the errors, the primary's first, for errors.Is and
// errors.As.
func (e *FallbackError) Unwrap() []error { return e.Errs }

// route returns the chatbot that owns req's conversation, with req's
// ConversationID decoded, or -1 for a new conversation.
func (f *Fallback) route(req chatbot.Request) (int, chatbot.Request, error) {
	if req.ConversationID == "" {
		return -1, req, nil
	}
	name, id, ok := strings.Cut(req.ConversationID, ":")
	i, known := f.index[name]
	if !ok || !known {
		return 0, req, &chatbot.Error{
			Provider: chatbot.InfoOf(f.bots[0].Bot).Provider,
			Code:     chatbot.CodeInvalidRequest,
			Message:  "the ConversationID names no chatbot of this resilience.Fallback",
		}
	}
	req.ConversationID = id
	return i, req, nil
}

func (f *Fallback) encode(i int, id string) string {
	if id == "" {
		return ""
	}
	return f.bots[i].Name + ":" + id
}

// Chat sends req to the conversation's owner, or a new conversation to the
// first chatbot that takes it, as the [Fallback] documentation says.
func (f *Fallback) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	owner, req, err := f.route(req)
	if err != nil {
		return nil, err
	}
	if owner >= 0 {
		reply, err := f.bots[owner].Bot.Chat(ctx, req)
		if reply != nil {
			reply.ConversationID = f.encode(owner, reply.ConversationID)
		}
		return reply, err
	}
	var tried FallbackError
	for i, nb := range f.bots {
		reply, err := nb.Bot.Chat(ctx, req)
		if err == nil || reply != nil {
			// A reply, even one returned with an error (a pending action:
			// chatbot.ErrActionRequired), was answered: it is never lost,
			// and the message is not sent elsewhere.
			reply.ConversationID = f.encode(i, reply.ConversationID)
			return reply, err
		}
		tried.Names = append(tried.Names, nb.Name)
		tried.Errs = append(tried.Errs, err)
		if !unprocessed(ctx, err) {
			break
		}
	}
	return nil, tried.err()
}

// err returns the only error, or e when there are several.
func (e *FallbackError) err() error {
	if len(e.Errs) == 1 {
		return e.Errs[0]
	}
	return e
}

// Stream sends req like [Fallback.Chat] and returns the reply as it
// arrives. It moves to the next chatbot only before the first chunk.
func (f *Fallback) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("resilience: %w", chatbot.ErrStreamUsed))
			return
		}
		owner, req, err := f.route(req)
		if err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		if owner >= 0 {
			if started, err := f.relay(ctx, owner, req, yield); err != nil && !started {
				yield(chatbot.Chunk{}, err)
			}
			return
		}
		var tried FallbackError
		for i, nb := range f.bots {
			started, err := f.relay(ctx, i, req, yield)
			if err == nil || started {
				return
			}
			tried.Names = append(tried.Names, nb.Name)
			tried.Errs = append(tried.Errs, err)
			if !unprocessed(ctx, err) {
				break
			}
		}
		yield(chatbot.Chunk{}, tried.err())
	}
}

// relay streams req from chatbot i to yield, encoding conversation ids. An
// error before the first chunk is returned, not yielded, with started false;
// an error after it is yielded, and returned with started true. A consumer's
// break returns nil.
func (f *Fallback) relay(ctx context.Context, i int, req chatbot.Request, yield func(chatbot.Chunk, error) bool) (started bool, err error) {
	var raw, encoded string // the last id seen, and its encoding: one allocation per id, not per chunk
	f.bots[i].Bot.Stream(ctx, req)(func(c chatbot.Chunk, e error) bool {
		if e != nil {
			err = e
			if started {
				yield(c, e)
			}
			return false
		}
		started = true
		if c.ConversationID != "" {
			if c.ConversationID != raw {
				raw, encoded = c.ConversationID, f.encode(i, c.ConversationID)
			}
			c.ConversationID = encoded
		}
		return yield(c, nil)
	})
	return started, err
}
