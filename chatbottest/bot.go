// Package chatbottest helps test code that uses chatbot.Chatbot: [Bot] is a
// scripted fake for unit tests, the error constructors ([RateLimited],
// [Unauthorized], …) build the typed errors a provider returns, and [Run]
// is a conformance suite that any Chatbot implementation must pass: one
// named check per promise (each also exported, [CheckChat], [CheckSources],
// …, to run alone), chosen by what the Chatbot's [chatbot.Capabilities]
// claim.
//
// For tests that should exercise the real HTTP client against a fake server,
// use the provider fakes instead (workspace/workspacetest and the others);
// they share a vocabulary, documented in package
// [github.com/chatbot-go/chatbot/chatbottest/fakes], and [Bot] speaks
// the same where it applies: SetReply, StallNext, Stalled, StallAfter,
// Disconnects.
package chatbottest

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatbot-go/chatbot"
)

// Turn is one scripted answer of a [Bot].
type Turn struct {
	// Chunks is the reply, in the pieces Stream yields (Chat joins them).
	Chunks []string
	// Parts, when set, is the reply as whole chunks, used instead of
	// Chunks: Stream yields each as given (its Text, Replace and Sources;
	// a part with none of them is left out), stamped with the ids, and Chat
	// folds them as [chatbot.Collect] does, so a Replace part restarts the
	// text.
	Parts []chatbot.Chunk
	// Sources, Usage, FinishReason and Actions are set on the final chunk
	// and on Chat's reply. Empty ones take the Bot's defaults
	// ([Bot.SetSources], [Bot.SetUsage], [Bot.SetFinishReason]); the default
	// finish reason is [chatbot.FinishComplete]. A turn that finishes with
	// [chatbot.FinishActionRequired] makes Chat return the reply and an
	// error wrapping [chatbot.ErrActionRequired], as a provider does.
	Sources      []chatbot.Source
	Usage        *chatbot.Usage
	FinishReason chatbot.FinishReason
	Actions      []chatbot.Action
	// Err, when set, ends the turn: Chat returns it, and Stream yields it
	// after Chunks (so a stream can fail midway, with partial text).
	Err error
	// MessageID is the reply's message id; empty gives "msg-<n>".
	MessageID string
	// Delay is how long the Bot takes before answering: Chat returns, and
	// Stream yields its first chunk, after Delay. If the context is done
	// first, the call ends with the context's error, as a provider client
	// does, so a test can check its own timeouts: a Delay longer than the
	// caller's deadline never needs to pass.
	Delay time.Duration
}

// Bot is a scripted fake [chatbot.Chatbot] for users' unit tests. Queue
// answers with [Bot.Reply], [Bot.ReplyChunks], [Bot.Fail] and [Bot.Script];
// each call takes the next one. With nothing queued it answers with
// [Bot.SetReply]'s parts, or else "echo: <message>". A [Turn] can also
// script the rest of the reply model: sources, usage, a finish reason,
// pending actions and chunks that replace the text so far.
//
// Like a real provider it issues conversation ids ("conv-1", …) for requests
// that do not continue one, refuses an empty message with an *chatbot.Error
// (CodeInvalidRequest), honours context cancellation, and makes each stream
// lazy and single-use. It records every request it receives. Like a
// provider fake it can hold a call until the caller gives up
// ([Bot.StallNext], [Bot.StallAfter]) and reports each call the caller
// abandoned ([Bot.Disconnects]).
//
// The zero value is ready to use. A Bot is safe for concurrent use.
type Bot struct {
	mu         sync.Mutex
	script     []Turn
	reply      []string
	sources    []chatbot.Source // defaults of a Turn's fields
	usage      *chatbot.Usage
	finish     chatbot.FinishReason
	reqs       []chatbot.Request
	convs      int
	msgs       int
	stallN     int
	stallAfter int // +1, so that the zero value is off
	signals    struct {
		once        sync.Once
		stalled     chan struct{}
		disconnects chan struct{}
	}
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

// Fail queues an error, such as [RateLimited](time.Minute).
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

// SetReply makes every answer that is not queued these chunks; no parts
// restores the echo.
func (b *Bot) SetReply(parts ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reply = nil
	if len(parts) > 0 {
		b.reply = append([]string(nil), parts...)
	}
}

// SetSources makes every later answer whose [Turn] has no Sources carry
// these; none restores no sources.
func (b *Bot) SetSources(sources ...chatbot.Source) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sources = append([]chatbot.Source(nil), sources...)
}

// SetUsage makes every later answer whose [Turn] has no Usage report u; nil
// restores no usage.
func (b *Bot) SetUsage(u *chatbot.Usage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.usage = u
}

// SetFinishReason makes every later answer whose [Turn] has no FinishReason
// end with r; the empty reason restores the default,
// [chatbot.FinishComplete].
func (b *Bot) SetFinishReason(r chatbot.FinishReason) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finish = r
}

// Info reports the provider "chatbottest" and what a Bot can do: it
// streams (one chunk per part), and its replies carry message ids and, as
// scripted, sources, usage, finish reasons and actions; conversation ids
// are issued by the Bot.
func (b *Bot) Info() chatbot.Info {
	return chatbot.Info{Provider: "chatbottest", Capabilities: chatbot.Capabilities{
		Streaming:     true,
		Sources:       true,
		Usage:         true,
		FinishReasons: true,
		MessageIDs:    true,
		Conversations: chatbot.ConversationServerIssued,
	}}
}

// StallNext makes the next n calls wait, answering nothing, until their
// context is done; they then end with the context's error.
func (b *Bot) StallNext(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stallN = n
}

// StallAfter makes streams stop after n chunks and wait until their context
// is done (0: before the first chunk); a negative n, the default, turns it
// off. Chat is not affected.
func (b *Bot) StallAfter(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stallAfter = max(n+1, 0)
}

func (b *Bot) init() {
	b.signals.once.Do(func() {
		b.signals.stalled = make(chan struct{}, 1024)
		b.signals.disconnects = make(chan struct{}, 1024)
	})
}

// Stalled receives a value each time a call starts being held (see
// [Bot.StallNext], [Bot.StallAfter] and [Turn.Delay]), so that a test can
// act once the call is in progress.
func (b *Bot) Stalled() <-chan struct{} {
	b.init()
	return b.signals.stalled
}

// Disconnects receives a value each time a call ends before its answer
// did: its context was done, or its stream's loop stopped early. It is the
// Bot's counterpart of a fake server observing its client go away.
func (b *Bot) Disconnects() <-chan struct{} {
	b.init()
	return b.signals.disconnects
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Requests returns a copy of the requests received so far, in order. A
// request refused as invalid is not recorded, as a real provider would never
// have received it.
func (b *Bot) Requests() []chatbot.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chatbot.Request(nil), b.reqs...)
}

// turn is one call's answer, as taken from the script.
type turn struct {
	Turn
	conv, msg  string
	stall      bool
	stallAfter int // negative: never
}

// take records req and returns its turn.
func (b *Bot) take(req chatbot.Request) turn {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, req)
	conv := req.ConversationID
	if conv == "" {
		b.convs++
		conv = fmt.Sprintf("conv-%d", b.convs)
	}
	t := Turn{Chunks: []string{"echo: ", req.Message}}
	if b.reply != nil {
		t.Chunks = append([]string(nil), b.reply...)
	}
	if len(b.script) > 0 {
		t, b.script = b.script[0], b.script[1:]
	}
	if t.Sources == nil {
		t.Sources = b.sources
	}
	if t.Usage == nil {
		t.Usage = b.usage
	}
	if t.FinishReason == "" {
		t.FinishReason = cmp.Or(b.finish, chatbot.FinishComplete)
	}
	b.msgs++
	msg := t.MessageID
	if msg == "" {
		msg = fmt.Sprintf("msg-%d", b.msgs)
	}
	stall := b.stallN > 0
	if stall {
		b.stallN--
	}
	return turn{Turn: t, conv: conv, msg: msg, stall: stall, stallAfter: b.stallAfter - 1}
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

// wait holds a call for its turn's stall and delay. It returns the
// context's error, having reported the disconnect, if the context is done
// first.
func (b *Bot) wait(ctx context.Context, t turn) error {
	if t.stall {
		return b.hold(ctx)
	}
	if t.Delay <= 0 {
		return nil
	}
	signal(b.signals.stalled)
	timer := time.NewTimer(t.Delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		signal(b.signals.disconnects)
		return fmt.Errorf("chatbottest: %w", ctx.Err())
	}
}

// hold waits until ctx is done, reporting the stall and the disconnect.
func (b *Bot) hold(ctx context.Context) error {
	signal(b.signals.stalled)
	<-ctx.Done()
	signal(b.signals.disconnects)
	return fmt.Errorf("chatbottest: %w", ctx.Err())
}

// Chat returns the next scripted answer, after its delay.
func (b *Bot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	if err := b.check(ctx, req); err != nil {
		return nil, err
	}
	b.init()
	t := b.take(req)
	if err := b.wait(ctx, t); err != nil {
		return nil, err
	}
	if t.Err != nil {
		return nil, t.Err
	}
	return chatbot.CollectN(replay(t.chunks()), -1) // the reply Stream's chunks collect to
}

// Stream yields the next scripted answer chunk by chunk, after its delay,
// then a final Done chunk, or the turn's error after its chunks.
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
		b.init()
		t := b.take(req)
		if err := b.wait(ctx, t); err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		chunks := t.chunks()
		last := len(chunks) - 1 // the final chunk, yielded after any stall
		for i, ch := range chunks[:last] {
			if i == t.stallAfter {
				yield(chatbot.Chunk{}, b.hold(ctx))
				return
			}
			if err := ctx.Err(); err != nil {
				signal(b.signals.disconnects)
				yield(chatbot.Chunk{}, fmt.Errorf("chatbottest: %w", err))
				return
			}
			if !yield(ch, nil) {
				signal(b.signals.disconnects) // the loop stopped before the end
				return
			}
		}
		if t.stallAfter >= last {
			yield(chatbot.Chunk{}, b.hold(ctx))
			return
		}
		if t.Err != nil {
			yield(chatbot.Chunk{}, t.Err)
			return
		}
		yield(chunks[last], nil)
	}
}

// chunks returns the chunks of t's reply, stamped with its ids: one per
// non-empty part, then the final Done chunk carrying the finish reason,
// usage, actions and the turn's sources.
func (t turn) chunks() []chatbot.Chunk {
	parts := t.Parts
	if parts == nil {
		parts = make([]chatbot.Chunk, len(t.Chunks))
		for i, s := range t.Chunks {
			parts[i] = chatbot.Chunk{Text: s}
		}
	}
	var out []chatbot.Chunk
	for _, p := range parts {
		if p.Text == "" && !p.Replace && len(p.Sources) == 0 {
			continue
		}
		out = append(out, chatbot.Chunk{Text: p.Text, Replace: p.Replace, Sources: p.Sources,
			ConversationID: t.conv, MessageID: t.msg})
	}
	return append(out, chatbot.Chunk{ConversationID: t.conv, MessageID: t.msg, Sources: t.Sources,
		Usage: t.Usage, FinishReason: t.FinishReason, Actions: t.Actions, Done: true})
}

// The error constructors below return the *chatbot.Error a provider client
// returns for each common failure, with Provider "chatbottest", for
// [Bot.Fail] and [Turn.Err]. errors.Is matches each with its sentinel
// (chatbot.ErrRateLimited, …) and errors.As reads its fields.

// RateLimited returns a 429 [chatbot.CodeRateLimitExceeded] error asking to
// wait retryAfter (0: the provider did not say).
func RateLimited(retryAfter time.Duration) *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 429, Code: chatbot.CodeRateLimitExceeded,
		Message: "Rate limit exceeded", RetryAfter: retryAfter}
}

// Unauthorized returns a 401 [chatbot.CodeUnauthorized] error.
func Unauthorized() *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 401, Code: chatbot.CodeUnauthorized, Message: "Invalid API key"}
}

// Forbidden returns a 403 [chatbot.CodeForbidden] error.
func Forbidden() *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 403, Code: chatbot.CodeForbidden, Message: "Access denied"}
}

// NotFound returns a 404 [chatbot.CodeNotFound] error, as for an unknown
// chatbot or conversation.
func NotFound() *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 404, Code: chatbot.CodeNotFound, Message: "Not found"}
}

// QuotaExceeded returns a 402 [chatbot.CodeQuotaExceeded] error, as for
// used-up credits.
func QuotaExceeded() *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 402, Code: chatbot.CodeQuotaExceeded, Message: "Insufficient credits"}
}

// ServerError returns a 500 [chatbot.CodeServerError] error.
func ServerError() *chatbot.Error {
	return &chatbot.Error{Provider: "chatbottest", StatusCode: 500, Code: chatbot.CodeServerError, Message: "Internal server error"}
}
