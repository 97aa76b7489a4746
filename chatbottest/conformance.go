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

// promptly bounds how long an early break or a cancellation may take.
const promptly = 10 * time.Second

// Run is a conformance suite for [chatbot.Chatbot] implementations. newBot is
// called once per subtest and must return a ready Chatbot (typically a
// provider client pointed at that provider's fake server). Run checks that:
//
//   - Chat answers with text and a conversation id;
//   - Stream's chunks concatenate to the reply [chatbot.Collect] returns, the
//     last chunk (and only it) is Done, and ids stay stable once known;
//   - passing the returned ConversationID back continues the conversation;
//   - a stream can be ranged only once: the second range is an error
//     wrapping [chatbot.ErrStreamUsed], not a second message;
//   - breaking out of a stream returns promptly;
//   - a cancelled context ends both Chat and Stream with the context's error;
//   - an empty message is refused with [chatbot.ErrInvalidRequest].
func Run(t *testing.T, newBot func(t *testing.T) chatbot.Chatbot) {
	t.Helper()
	const question = "What are your opening hours?"

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
		bot := newBot(t)
		done := make(chan int, 1)
		go func() {
			n := 0
			for range bot.Stream(t.Context(), chatbot.Request{Message: question}) {
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

	t.Run("CancelDuringStream", func(t *testing.T) {
		bot := newBot(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			var last error
			for _, err := range bot.Stream(ctx, chatbot.Request{Message: question}) {
				cancel() // after the first pair: the rest must end promptly
				last = err
			}
			done <- last
		}()
		select {
		case err := <-done:
			// A reply that was complete before the cancellation took effect
			// is fine; anything else must be the context's error.
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("stream cancelled midway ended with %v; want context.Canceled or a complete reply", err)
			}
		case <-time.After(promptly):
			t.Fatalf("cancelling did not end the stream within %s", promptly)
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
