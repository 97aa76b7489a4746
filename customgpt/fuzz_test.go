package customgpt_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// streamBytes runs body through Stream, in a conversation, and collects it.
func streamBytes(t *testing.T, body []byte, oneByte bool) (*chatbot.Reply, error) {
	t.Helper()
	c, err := customgpt.NewClient("sk-fuzz", "4242", chatbot.WithHTTPClient(&http.Client{Transport: fake.StreamTransport{Body: body, OneByte: oneByte}}),
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
