package chatbot_test

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"strings"
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

func TestTeeYieldsTheChunkTheWriterFailedOnThenTheError(t *testing.T) {
	var stopped bool
	var got []string
	var last error
	for c, err := range chatbot.Tee(&failingWriter{n: 1}, scripted(&stopped, "one ", "two ", "three")) {
		got = append(got, c.Text)
		last = err
	}
	assert.Equal(t, []string{"one ", "two ", ""}, got, "the chunk the writer failed on reaches the caller, then the error")
	require.ErrorIs(t, last, errDiskFull)
	assert.True(t, stopped, "the stream is closed when the writer fails")

	stopped = false
	reply, err := chatbot.Collect(chatbot.Tee(&failingWriter{n: 1}, scripted(&stopped, "one ", "two ", "three")))
	require.ErrorIs(t, err, errDiskFull)
	assert.Equal(t, "one two ", reply.Text, "nothing received is lost")
	assert.True(t, stopped)
}

// shortWriter takes at most max bytes of each write and reports no error.
type shortWriter struct {
	max int
	got bytes.Buffer
}

func (w *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.max)
	w.got.Write(p[:n])
	return n, nil
}

func TestTeeReportsAShortWriteAsErrShortWrite(t *testing.T) {
	var stopped bool
	w := &shortWriter{max: 4}
	reply, err := chatbot.Collect(chatbot.Tee(w, scripted(&stopped, "one ", "two ", "three")))
	require.ErrorIs(t, err, io.ErrShortWrite)
	assert.Equal(t, "one two three", reply.Text, "the chunk cut short reaches the caller")
	assert.Equal(t, "one two thre", w.got.String())
}

func TestTeeStopsAfterTheErrorWhenTheCallerBreaks(t *testing.T) {
	var stopped bool
	var pairs int
	for range chatbot.Tee(&failingWriter{}, scripted(&stopped, "one ", "two")) {
		pairs++
		break
	}
	assert.Equal(t, 1, pairs, "a loop that breaks on the chunk gets no error pair after it")
	assert.True(t, stopped)
}

// replacing yields "Draft answer", then a moderated replacement.
func replacing(yield func(chatbot.Chunk, error) bool) {
	_ = yield(chatbot.Chunk{Text: "Draft "}, nil) &&
		yield(chatbot.Chunk{Text: "answer"}, nil) &&
		yield(chatbot.Chunk{Text: "Moderated.", Replace: true}, nil) &&
		yield(chatbot.Chunk{Text: " Sorry.", Done: true}, nil)
}

// plainWriter is an io.Writer with no Reset method.
type plainWriter struct{ buf bytes.Buffer }

func (w *plainWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func TestTeeOnAReplaceChunk(t *testing.T) {
	t.Run("a writer that can be reset holds what Collect returns", func(t *testing.T) {
		var shown bytes.Buffer
		reply, err := chatbot.Collect(chatbot.Tee(&shown, replacing))
		require.NoError(t, err)
		assert.Equal(t, "Moderated. Sorry.", reply.Text)
		assert.Equal(t, reply.Text, shown.String())

		var sb strings.Builder
		_, err = chatbot.Collect(chatbot.Tee(&sb, replacing))
		require.NoError(t, err)
		assert.Equal(t, "Moderated. Sorry.", sb.String())
	})
	t.Run("any other writer receives the replacement after what it was given", func(t *testing.T) {
		var shown plainWriter
		reply, err := chatbot.Collect(chatbot.Tee(&shown, replacing))
		require.NoError(t, err)
		assert.Equal(t, "Moderated. Sorry.", reply.Text)
		assert.Equal(t, "Draft answerModerated. Sorry.", shown.buf.String())
	})
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
