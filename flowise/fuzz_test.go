package flowise_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// streamBytes runs body through Stream and collects it.
func streamBytes(t *testing.T, body []byte, oneByte bool) (*chatbot.Reply, error) {
	t.Helper()
	c, err := flowise.NewClient("", "flow", chatbot.WithBaseURL("https://flowise.example.com"),
		chatbot.WithHTTPClient(&http.Client{Transport: fake.StreamTransport{Body: body, OneByte: oneByte}}), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
}

// FuzzStream feeds arbitrary bodies to Stream, seeded from the golden
// streams. It must never panic, must never end a reply without text
// successfully, and reading the body one byte at a time must change
// nothing.
func FuzzStream(f *testing.F) {
	files, err := filepath.Glob("testdata/*.golden")
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
		assert.Equal(t, whole, split)
	})
}

// FuzzParsePrediction decodes arbitrary bodies as prediction answers:
// never a panic, and Raw keeps the body.
func FuzzParsePrediction(f *testing.F) {
	f.Add([]byte(`{"text":"hi","chatId":"c","followUpPrompts":"\"[\\\"a\\\"]\"","sourceDocuments":[{"pageContent":"p","metadata":{"source":"s"}}]}`))
	f.Add([]byte(`{"json":{"a":1},"sourceDocuments":{"x":1},"usedTools":[{"tool":"t"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := flowise.ParsePrediction(b)
		if err == nil {
			assert.Equal(t, b, []byte(p.Raw))
		}
	})
}
