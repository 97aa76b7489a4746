package chatbot_test

import (
	"iter"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

// endless yields chunks of text forever, counting them, and records whether
// the consumer stopped the sequence.
func endless(text string, yielded *int, stopped *bool) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for {
			*yielded++
			if !yield(chatbot.Chunk{Text: text, ConversationID: "c1"}, nil) {
				*stopped = true
				return
			}
		}
	}
}

func TestCollectNStopsAtTheBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chunk    string
		max      int
		wantText string
	}{
		{"exact fit then one more", "abcd", 8, "abcdabcd"},
		{"cut inside a chunk", "abc", 7, "abcabca"},
		{"never splits a character", "é日", 4, "é"},
		{"zero bound", "x", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n int
			var stopped bool
			reply, err := chatbot.CollectN(endless(tt.chunk, &n, &stopped), tt.max)
			require.ErrorIs(t, err, chatbot.ErrReplyTooLarge)
			assert.Equal(t, tt.wantText, reply.Text)
			assert.Equal(t, "c1", reply.ConversationID)
			assert.True(t, stopped, "the stream was not stopped")
			assert.Equal(t, tt.max/len(tt.chunk)+1, n, "chunks yielded")
		})
	}
}

func TestCollectDefaultBound(t *testing.T) {
	t.Parallel()
	var n int
	var stopped bool
	chunk := strings.Repeat("x", 64<<10)
	reply, err := chatbot.Collect(endless(chunk, &n, &stopped))
	require.ErrorIs(t, err, chatbot.ErrReplyTooLarge)
	assert.Equal(t, "chatbot: reply exceeds the collect bound: more than 8388608 bytes of text", err.Error())
	assert.Len(t, reply.Text, chatbot.DefaultMaxCollectBytes)
	assert.True(t, stopped)
	assert.Equal(t, chatbot.DefaultMaxCollectBytes/len(chunk)+1, n)
}

func TestCollectNUnbounded(t *testing.T) {
	t.Parallel()
	reply, err := chatbot.CollectN(chunks(
		chatbot.Chunk{Text: strings.Repeat("a", 100)},
		chatbot.Chunk{Text: "b", Done: true},
	), -1)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("a", 100)+"b", reply.Text)

	// Exactly at the bound is not past it.
	reply, err = chatbot.CollectN(chunks(chatbot.Chunk{Text: "abc", Done: true}), 3)
	require.NoError(t, err)
	assert.Equal(t, "abc", reply.Text)
}
