// Package chatbottest helps test code that uses chatbot.Chatbot: [Bot] is a
// scripted fake for unit tests, and [Run] is a conformance suite that any
// Chatbot implementation must pass.
//
// For tests that should exercise the real HTTP client against a fake server,
// use the provider fakes instead (workspace/workspacetest and the others).
package chatbottest

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chatbot-go/chatbot"
)

// Turn is one scripted answer of a [Bot].
type Turn struct {
	// Chunks is the reply, in the pieces Stream yields (Chat joins them).
	Chunks []string
	// Err, when set, ends the turn: Chat returns it, and Stream yields it
	// after Chunks (so a stream can fail midway, with partial text).
	Err error
	// MessageID is the reply's message id; empty gives "msg-<n>".
	MessageID string
}

// Bot is a scripted fake [chatbot.Chatbot] for users' unit tests. Queue
// answers with [Bot.Reply], [Bot.ReplyChunks] and [Bot.Fail]; each call takes
// the next one. With nothing queued it answers "echo: <message>".
//
// Like a real provider it issues conversation ids ("conv-1", …) for requests
// that do not continue one, refuses an empty message with an *chatbot.Error
// (CodeInvalidRequest), honours context cancellation, and makes each stream
// lazy and single-use. It records every request it receives.
//
// The zero value is ready to use. A Bot is safe for concurrent use.
type Bot struct {
	mu     sync.Mutex
	script []Turn
	reqs   []chatbot.Request
	convs  int
	msgs   int
}

var _ chatbot.Chatbot = (*Bot)(nil)

// NewBot returns a Bot that answers with replies, in order, then echoes.
func NewBot(replies ...string) *Bot {
	b := &Bot{}
	for _, r := range replies {
		b.Reply(r)
	}
	return b
}

// Reply queues a whole reply. It returns b for chaining.
func (b *Bot) Reply(text string) *Bot {
	return b.Script(Turn{Chunks: []string{text}})
}

// ReplyChunks queues a reply that Stream yields as these chunks.
func (b *Bot) ReplyChunks(chunks ...string) *Bot {
	return b.Script(Turn{Chunks: chunks})
}

// Fail queues an error, such as a *chatbot.Error with RetryAfter set.
func (b *Bot) Fail(err error) *Bot {
	return b.Script(Turn{Err: err})
}

// Script queues turns as given.
func (b *Bot) Script(turns ...Turn) *Bot {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.script = append(b.script, turns...)
	return b
}

// Requests returns a copy of the requests received so far, in order. A
// request refused as invalid is not recorded, as a real provider would never
// have received it.
func (b *Bot) Requests() []chatbot.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chatbot.Request(nil), b.reqs...)
}

// take records req and returns its turn, conversation id and message id.
func (b *Bot) take(req chatbot.Request) (Turn, string, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, req)
	conv := req.ConversationID
	if conv == "" {
		b.convs++
		conv = fmt.Sprintf("conv-%d", b.convs)
	}
	t := Turn{Chunks: []string{"echo: ", req.Message}}
	if len(b.script) > 0 {
		t, b.script = b.script[0], b.script[1:]
	}
	b.msgs++
	msg := t.MessageID
	if msg == "" {
		msg = fmt.Sprintf("msg-%d", b.msgs)
	}
	return t, conv, msg
}

func (b *Bot) check(ctx context.Context, req chatbot.Request) error {
	if ctx == nil {
		return &chatbot.Error{Provider: "chatbottest", Code: chatbot.CodeInvalidRequest, Message: "nil context"}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("chatbottest: %w", err)
	}
	if strings.TrimSpace(req.Message) == "" {
		return &chatbot.Error{Provider: "chatbottest", Code: chatbot.CodeInvalidRequest, Message: "message is empty"}
	}
	return nil
}

// Chat returns the next scripted answer.
func (b *Bot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	if err := b.check(ctx, req); err != nil {
		return nil, err
	}
	t, conv, msg := b.take(req)
	if t.Err != nil {
		return nil, t.Err
	}
	return &chatbot.Reply{Text: strings.Join(t.Chunks, ""), ConversationID: conv, MessageID: msg}, nil
}

// Stream yields the next scripted answer chunk by chunk, then a final Done
// chunk, or the turn's error after its chunks.
func (b *Bot) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("chatbottest: %w", chatbot.ErrStreamUsed))
			return
		}
		if err := b.check(ctx, req); err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		t, conv, msg := b.take(req)
		for _, s := range t.Chunks {
			if err := ctx.Err(); err != nil {
				yield(chatbot.Chunk{}, fmt.Errorf("chatbottest: %w", err))
				return
			}
			if s != "" && !yield(chatbot.Chunk{Text: s, ConversationID: conv, MessageID: msg}, nil) {
				return
			}
		}
		if t.Err != nil {
			yield(chatbot.Chunk{}, t.Err)
			return
		}
		yield(chatbot.Chunk{ConversationID: conv, MessageID: msg, Done: true}, nil)
	}
}
