package flowise_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
)

func TestSources(t *testing.T) {
	t.Parallel()
	assert.Nil(t, flowise.Sources(nil))
	got := flowise.Sources([]flowise.SourceDocument{
		{PageContent: "a", Metadata: map[string]any{"source": "https://example.com/a", "title": "A", "id": "1"}},
		{PageContent: "b", Metadata: map[string]any{"source": "b.pdf", "url": "https://example.com/b"}},
		{PageContent: "c"},
	})
	assert.Equal(t, []chatbot.Source{
		{ID: "1", Title: "A", URL: "https://example.com/a", Snippet: "a"},
		{Title: "b.pdf", URL: "https://example.com/b", Snippet: "b"},
		{Snippet: "c"},
	}, withoutRaw(got))
	assert.JSONEq(t, `{"pageContent":"c","metadata":null}`, string(got[2].Raw))
}

// TestChatAndStreamGiveTheSameSources: the documents of a JSON answer and
// of a stream's sourceDocuments event map alike.
func TestChatAndStreamGiveTheSameSources(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, flowisetest.Config{})
	srv.SetSourceDocuments(
		map[string]any{"pageContent": "Hours: 9-5", "metadata": map[string]any{"source": "https://example.com/hours", "loc": map[string]any{"lines": map[string]any{"from": 1}}}},
		map[string]any{"pageContent": "Closed on holidays", "metadata": map[string]any{"source": "handbook.pdf", "id": 7}},
	)
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	streamed, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err)
	require.Len(t, reply.Sources, 2)
	assert.Equal(t, reply.Sources, streamed.Sources)
	assert.Equal(t, "7", reply.Sources[1].ID, "a numeric id is kept as text")
}
