package resilience_test

import (
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/resilience"
)

// richTurn is a reply that uses every field of the reply model: a Replace
// part, sources on a part and at the end, usage, a finish reason.
func richTurn() chatbottest.Turn {
	return chatbottest.Turn{
		Parts: []chatbot.Chunk{
			{Text: "Draft"},
			{Sources: []chatbot.Source{{ID: "s1", Title: "Hours", URL: "https://example.com/hours", Snippet: "9 to 5", Score: 0.9}}},
			{Text: "Open 9 to 5.", Replace: true},
		},
		Sources:      []chatbot.Source{{ID: "s2", URL: "https://example.com/faq"}},
		Usage:        &chatbot.Usage{InputTokens: 3, OutputTokens: 5, TotalTokens: 8, Credits: 1, Price: "0.001", Currency: "USD"},
		FinishReason: chatbot.FinishContentFilter,
	}
}

// actionTurn is a reply that stops for an action the caller must run.
func actionTurn() chatbottest.Turn {
	return chatbottest.Turn{
		Chunks:       []string{"Let me look that up."},
		FinishReason: chatbot.FinishActionRequired,
		Actions:      []chatbot.Action{{ID: "call-1", Name: "lookup_order", Input: []byte(`{"order":42}`)}},
	}
}

func chunksOf(t *testing.T, seq iter.Seq2[chatbot.Chunk, error]) []chatbot.Chunk {
	t.Helper()
	var out []chatbot.Chunk
	for ch, err := range seq {
		require.NoError(t, err)
		out = append(out, ch)
	}
	return out
}

// TestMiddlewarePassesTheReplyModelThrough checks that Limit, Breaker and
// Fallback hand every field of every chunk and reply through untouched
// (Fallback only prefixes conversation ids with the chatbot's name), and
// that a reply waiting for an action reaches the caller with its error
// instead of being dropped, retried elsewhere or counted as a failure.
func TestMiddlewarePassesTheReplyModelThrough(t *testing.T) {
	t.Parallel()
	wraps := map[string]func(*testing.T, chatbot.Chatbot) (chatbot.Chatbot, string){
		"Limit": func(_ *testing.T, b chatbot.Chatbot) (chatbot.Chatbot, string) {
			return chatbot.Wrap(b, resilience.Limit(resilience.NewLocalLimiter(resilience.PerSecond(100)))), ""
		},
		"Breaker": func(_ *testing.T, b chatbot.Chatbot) (chatbot.Chatbot, string) {
			return chatbot.Wrap(b, resilience.Breaker(resilience.WithFailures(1))), ""
		},
		"Fallback": func(t *testing.T, b chatbot.Chatbot) (chatbot.Chatbot, string) {
			fb, err := resilience.NewFallback(resilience.Named{Name: "a", Bot: b}, resilience.Named{Name: "b", Bot: chatbottest.NewBot()})
			require.NoError(t, err)
			return fb, "a:"
		},
	}
	for name, wrap := range wraps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			plain := chatbottest.NewBot().Script(richTurn(), richTurn(), actionTurn(), actionTurn())
			inner := chatbottest.NewBot().Script(richTurn(), richTurn(), actionTurn(), actionTurn())
			bot, prefix := wrap(t, inner)
			req := chatbot.Request{Message: "hours?"}

			want := chunksOf(t, plain.Stream(t.Context(), req))
			for i := range want {
				want[i].ConversationID = prefix + want[i].ConversationID
			}
			assert.Equal(t, want, chunksOf(t, bot.Stream(t.Context(), req)))

			wantReply, err := plain.Chat(t.Context(), req)
			require.NoError(t, err)
			wantReply.ConversationID = prefix + wantReply.ConversationID
			reply, err := bot.Chat(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, wantReply, reply)

			wantReply, wantErr := plain.Chat(t.Context(), req)
			require.ErrorIs(t, wantErr, chatbot.ErrActionRequired)
			wantReply.ConversationID = prefix + wantReply.ConversationID
			reply, err = bot.Chat(t.Context(), req)
			require.ErrorIs(t, err, chatbot.ErrActionRequired)
			assert.Equal(t, wantReply, reply, "the reply that waits for an action is returned with its error")

			// A breaker that opens after one failure would refuse the next
			// call had it counted the pending action as one.
			reply, err = bot.Chat(t.Context(), req)
			require.ErrorIs(t, err, chatbot.ErrActionRequired)
			require.NotNil(t, reply)
			assert.Len(t, inner.Requests(), 4, "every call reached the chatbot, once")
		})
	}
}
