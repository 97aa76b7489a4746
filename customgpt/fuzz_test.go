package customgpt_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
)

// bodyTransport answers every request with an event stream whose body is
// read one byte at a time when oneByte is set: the whole stream in memory,
// so that a fuzz iteration costs no connection.
type bodyTransport struct {
	body    []byte
	oneByte bool
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body io.Reader = bytes.NewReader(b.body)
	if b.oneByte {
		body = iotest.OneByteReader(body)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(body), Request: r}, nil
}

// streamBytes runs body through Stream, in a conversation, and collects it.
func streamBytes(t *testing.T, body []byte, oneByte bool) (*chatbot.Reply, error) {
	t.Helper()
	c, err := customgpt.NewClient("sk-fuzz", "4242", chatbot.WithHTTPClient(&http.Client{Transport: bodyTransport{body, oneByte}}),
		chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: session}))
}

// FuzzStream feeds arbitrary bodies to Stream, seeded from the golden
// streams. It must never panic, never end a reply without text
// successfully, and reading the body one byte at a time must change
// nothing.
func FuzzStream(f *testing.F) {
	files, err := filepath.Glob("testdata/*.sse")
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		f.Add(readTestdata(f, filepath.Base(name)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, err := streamBytes(t, body, false)
		split, splitErr := streamBytes(t, body, true)
		assert.Equal(t, err == nil, splitErr == nil, "whole: %v; split: %v", err, splitErr)
		if err == nil {
			assert.NotEmpty(t, whole.Text, "a reply without text is never a success")
		}
		assert.Equal(t, whole.Text, split.Text)
		assert.Equal(t, whole.MessageID, split.MessageID)
		assert.Equal(t, ids(whole.Sources), ids(split.Sources))
	})
}
