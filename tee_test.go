package chatbot_test

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

// scripted yields texts as chunks, the last marked Done, and records whether
// its consumer stopped it early.
func scripted(stopped *bool, texts ...string) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for i, s := range texts {
			if !yield(chatbot.Chunk{Text: s, ConversationID: "c1", Done: i == len(texts)-1}, nil) {
				*stopped = true
				return
			}
		}
	}
}

func TestTeeWritesWhatCollectKeeps(t *testing.T) {
	var stopped bool
	var shown bytes.Buffer
	reply, err := chatbot.Collect(chatbot.Tee(&shown, scripted(&stopped, "Hel", "lo, ", "wörld")))
	require.NoError(t, err)
	assert.Equal(t, "Hello, wörld", reply.Text)
	assert.Equal(t, "Hello, wörld", shown.String())
	assert.Equal(t, "c1", reply.ConversationID)
	assert.False(t, stopped)
}

type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errDiskFull
	}
	w.n--
	return len(p), nil
}

func TestTeeStopsTheStreamWhenTheWriterFails(t *testing.T) {
	var stopped bool
	reply, err := chatbot.Collect(chatbot.Tee(&failingWriter{n: 1}, scripted(&stopped, "one ", "two ", "three")))
	require.ErrorIs(t, err, errDiskFull)
	assert.Equal(t, "one ", reply.Text, "the text that was written is kept")
	assert.True(t, stopped, "the stream is closed when the writer fails")
}

func TestTeePassesTheStreamsErrorLast(t *testing.T) {
	cut := func(yield func(chatbot.Chunk, error) bool) {
		if yield(chatbot.Chunk{Text: "partial"}, nil) {
			yield(chatbot.Chunk{}, io.ErrUnexpectedEOF)
		}
	}
	var shown bytes.Buffer
	reply, err := chatbot.Collect(chatbot.Tee(&shown, cut))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "partial", reply.Text)
	assert.Equal(t, "partial", shown.String())
}
