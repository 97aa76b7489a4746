package chatbottest

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/chatbot-go/chatbot"
)

// promptly bounds how long an early break or a cancellation may take to
// end a call and reach the server: far above any machine's latency, it
// fails only an implementation that does not give the call up.
const promptly = 10 * time.Second

// Server is what [Run] needs of the server behind a Chatbot to check, at
// the wire, that a cancelled call and an early break give the connection
// up. Every provider fake (workspacetest.Server, userdesktest.Server,
// stammertest.Server, sitegpttest.Server) implements it, and so does
// [Bot]. If it also has a StallAfter(n int) method, as the fakes of
// streaming providers and Bot do, Run holds a stream after its first chunk
// to check breaks and cancellation midway.
type Server interface {
	SetReply(parts ...string)
	StallNext(n int)
	Stalled() <-chan struct{}
	Disconnects() <-chan struct{}
}

// Target is what one subtest of [Run] checks: a Chatbot and the server it
// talks to.
type Target struct {
	// Bot is the Chatbot under test.
	Bot chatbot.Chatbot
	// Server is the fake server Bot talks to (a provider fake, or Bot
	// itself for a [Bot]). Nil skips the checks of breaks and cancellation
	// at the wire, which then pass whatever Stream does with its
	// connection; set it whenever there is one.
	Server Server
}

// staller is the optional part of a [Server].
type staller interface {
	StallAfter(n int)
}

// Run is a conformance suite for [chatbot.Chatbot] implementations.
// newTarget is called once per subtest and must return a ready Chatbot
// (typically a provider client pointed at that provider's fake server) and
// the server it talks to. Run checks that:
//
//   - Chat answers with text and a conversation id;
//   - Stream's chunks concatenate to the reply [chatbot.Collect] returns, the
//     last chunk (and only it) is Done, and ids stay stable once known;
//   - passing the returned ConversationID back continues the conversation;
//   - a stream can be ranged only once: the second range is an error
//     wrapping [chatbot.ErrStreamUsed], not a second message;
//   - a cancelled context ends both Chat and Stream with the context's error,
//     before sending (nothing is received) and while the server holds the
//     request: the call ends and the server sees its client go away;
//   - breaking out of a stream returns promptly, and, while the server
//     holds the rest of the reply, the server sees the client go away (the
//     connection was given up, not kept open);
//   - cancelling midway through a held stream ends it with the context's
//     error and the server sees the client go away;
//   - an empty message is refused with [chatbot.ErrInvalidRequest].
//
// A check that waits fails after a bound far above any machine's latency,
// never because the machine is slow.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	const question = "What are your opening hours?"
	newBot := func(t *testing.T) chatbot.Chatbot { return newTarget(t).Bot }

	t.Run("Chat", func(t *testing.T) {
		reply, err := newBot(t).Chat(t.Context(), chatbot.Request{Message: question})
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		if reply == nil || reply.Text == "" {
			t.Fatalf("Chat: empty reply %+v", reply)
		}
		if reply.ConversationID == "" {
			t.Errorf("Chat: reply has no ConversationID")
		}
	})

	t.Run("StreamMatchesCollect", func(t *testing.T) {
		var got []chatbot.Chunk
		var text strings.Builder
		for ch, err := range newBot(t).Stream(t.Context(), chatbot.Request{Message: question}) {
			if err != nil {
				t.Fatalf("Stream: error after %d chunks: %v", len(got), err)
			}
			got = append(got, ch)
			text.WriteString(ch.Text)
		}
		if len(got) == 0 {
			t.Fatal("Stream: no chunks")
		}
		conv := ""
		for i, ch := range got {
			if ch.Done != (i == len(got)-1) {
				t.Errorf("chunk %d of %d: Done = %v; only the last chunk may be Done", i+1, len(got), ch.Done)
			}
			if conv != "" && ch.ConversationID != conv {
				t.Errorf("chunk %d: ConversationID changed from %q to %q", i+1, conv, ch.ConversationID)
			}
			if ch.ConversationID != "" {
				conv = ch.ConversationID
			}
		}
		if text.Len() == 0 {
			t.Error("Stream: the chunks carry no text")
		}
		reply, err := chatbot.Collect(replay(got))
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if reply.Text != text.String() {
			t.Errorf("Collect text = %q; the chunks concatenate to %q", reply.Text, text.String())
		}
		if reply.ConversationID != conv {
			t.Errorf("Collect ConversationID = %q; the chunks carry %q", reply.ConversationID, conv)
		}

		collected, err := chatbot.Collect(newBot(t).Stream(t.Context(), chatbot.Request{Message: question}))
		if err != nil || collected.Text == "" || collected.ConversationID == "" {
			t.Errorf("Collect(Stream) = %+v, %v; want text and a conversation id", collected, err)
		}
	})

	t.Run("ContinueConversation", func(t *testing.T) {
		bot := newBot(t)
		first, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
		if err != nil {
			t.Fatalf("first Chat: %v", err)
		}
		second, err := bot.Chat(t.Context(), chatbot.Request{Message: "And on Sundays?", ConversationID: first.ConversationID})
		if err != nil {
			t.Fatalf("second Chat: %v", err)
		}
		if second.ConversationID != first.ConversationID {
			t.Errorf("continued conversation id = %q; want %q", second.ConversationID, first.ConversationID)
		}
		streamed, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "Thanks!", ConversationID: first.ConversationID}))
		if err != nil {
			t.Fatalf("Stream in the conversation: %v", err)
		}
		if streamed.ConversationID != first.ConversationID {
			t.Errorf("streamed conversation id = %q; want %q", streamed.ConversationID, first.ConversationID)
		}
	})

	t.Run("StreamIsSingleUse", func(t *testing.T) {
		chunks := newBot(t).Stream(t.Context(), chatbot.Request{Message: question})
		if _, err := chatbot.Collect(chunks); err != nil {
			t.Fatalf("first range: %v", err)
		}
		var pairs int
		var last error
		for _, err := range chunks {
			pairs++
			last = err
		}
		if pairs != 1 || !errors.Is(last, chatbot.ErrStreamUsed) {
			t.Errorf("second range: %d pairs, last error %v; want only an error wrapping ErrStreamUsed", pairs, last)
		}
	})

	t.Run("BreakEarly", func(t *testing.T) {
		target := newTarget(t)
		held := hold(target.Server)
		done := make(chan int, 1)
		go func() {
			n := 0
			for range target.Bot.Stream(t.Context(), chatbot.Request{Message: question}) {
				n++
				break
			}
			done <- n
		}()
		select {
		case n := <-done:
			if n != 1 {
				t.Errorf("the loop body ran %d times; want 1", n)
			}
		case <-time.After(promptly):
			t.Fatalf("breaking out of Stream did not return within %s", promptly)
		}
		if held {
			// The server holds the rest of the reply: only a client that
			// gives the connection up ends the request.
			if !observed(target.Server.Disconnects()) {
				t.Errorf("after breaking out of Stream, the server still held the request %s later: the connection was kept", promptly)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		bot := newBot(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := bot.Chat(ctx, chatbot.Request{Message: question}); !errors.Is(err, context.Canceled) {
			t.Errorf("Chat with a cancelled context: %v; want context.Canceled", err)
		}
		var last error
		for _, err := range bot.Stream(ctx, chatbot.Request{Message: question}) {
			last = err
		}
		if !errors.Is(last, context.Canceled) {
			t.Errorf("Stream with a cancelled context ended with %v; want context.Canceled", last)
		}
	})

	t.Run("CancelWhileWaiting", func(t *testing.T) {
		target := newTarget(t)
		if target.Server == nil {
			return // nothing to observe: CancelledContext covers what can be
		}
		calls := []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Chat", func(ctx context.Context) error {
				_, err := target.Bot.Chat(ctx, chatbot.Request{Message: question})
				return err
			}},
			{"Stream", func(ctx context.Context) error {
				_, err := chatbot.Collect(target.Bot.Stream(ctx, chatbot.Request{Message: question}))
				return err
			}},
		}
		for _, c := range calls {
			target.Server.StallNext(1)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- c.call(ctx) }()
			if !observed(target.Server.Stalled()) {
				cancel()
				t.Fatalf("%s: the server never received the request", c.name)
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s cancelled while the server held it: %v; want context.Canceled", c.name, err)
				}
			case <-time.After(promptly):
				t.Fatalf("%s cancelled while the server held it did not return within %s: the cancellation was ignored", c.name, promptly)
			}
			if !observed(target.Server.Disconnects()) {
				t.Errorf("%s cancelled: the server still held the request %s later", c.name, promptly)
			}
		}
	})

	t.Run("CancelDuringStream", func(t *testing.T) {
		target := newTarget(t)
		held := hold(target.Server)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			var last error
			for _, err := range target.Bot.Stream(ctx, chatbot.Request{Message: question}) {
				cancel() // after the first pair: the rest must end promptly
				last = err
			}
			done <- last
		}()
		select {
		case err := <-done:
			switch {
			case held && !errors.Is(err, context.Canceled):
				t.Errorf("stream cancelled while the server held the rest ended with %v; want context.Canceled", err)
			case !held && err != nil && !errors.Is(err, context.Canceled):
				// Without a held reply, one completed before the
				// cancellation took effect is fine.
				t.Errorf("stream cancelled midway ended with %v; want context.Canceled or a complete reply", err)
			}
		case <-time.After(promptly):
			t.Fatalf("cancelling did not end the stream within %s", promptly)
		}
		if held && !observed(target.Server.Disconnects()) {
			t.Errorf("after cancelling the stream, the server still held the request %s later", promptly)
		}
	})

	t.Run("EmptyMessage", func(t *testing.T) {
		bot := newBot(t)
		if _, err := bot.Chat(t.Context(), chatbot.Request{Message: "  "}); !errors.Is(err, chatbot.ErrInvalidRequest) {
			t.Errorf("Chat with an empty message: %v; want ErrInvalidRequest", err)
		}
		var last error
		for _, err := range bot.Stream(t.Context(), chatbot.Request{}) {
			last = err
		}
		if !errors.Is(last, chatbot.ErrInvalidRequest) {
			t.Errorf("Stream with an empty message ended with %v; want ErrInvalidRequest", last)
		}
	})
}

// hold makes the server's next reply two chunks and stall after the first,
// and reports whether it could (the server exists and can stall midway).
func hold(s Server) bool {
	st, ok := s.(staller)
	if !ok {
		return false
	}
	s.SetReply("First part. ", "Second part.")
	st.StallAfter(1)
	return true
}

// observed reports whether c yields within promptly.
func observed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	case <-time.After(promptly):
		return false
	}
}

// replay yields the recorded chunks again, for Collect.
func replay(chunks []chatbot.Chunk) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
	}
}
