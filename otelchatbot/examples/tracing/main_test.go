package main

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exported is the part of a span, as the stdout exporter writes it, that
// the test checks.
type exported struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []struct {
		Key   string
		Value struct {
			Type  string
			Value any
		}
	}
	Events []struct{ Name string }
	Status struct{ Code string }
}

func TestTracing(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(t.Context(), &out))
	text := out.String()

	head, spansJSON, ok := strings.Cut(text, "Spans (stdout exporter; the chat span ends last):\n")
	require.True(t, ok, text)
	assert.Contains(t, head, "you: When are you open?\nbot: We are open 9 to 5, Monday to Friday.\n")

	var spans []exported
	dec := json.NewDecoder(strings.NewReader(spansJSON))
	for {
		var s exported
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		spans = append(spans, s)
	}
	require.Len(t, spans, 3, "two HTTP attempts, then the chat span")
	chat := spans[2]
	assert.Equal(t, "chat cm5bot_test", chat.Name)
	attrs := map[string]any{}
	for _, a := range chat.Attributes {
		attrs[a.Key] = a.Value.Value
	}
	assert.Equal(t, "chat", attrs["gen_ai.operation.name"])
	assert.Equal(t, "workspace", attrs["gen_ai.provider.name"])
	assert.Equal(t, "cm5bot_test", attrs["gen_ai.agent.id"])
	assert.Equal(t, true, attrs["gen_ai.request.stream"])
	assert.Equal(t, true, attrs["chatbot.stream.complete"])
	assert.NotContains(t, attrs, "gen_ai.input.messages", "content is off by default")
	var events []string
	for _, e := range chat.Events {
		events = append(events, e.Name)
	}
	assert.Equal(t, []string{"chatbot: http attempt", "chatbot: retrying", "chatbot: http attempt"}, events)

	for _, h := range spans[:2] {
		assert.Equal(t, chat.SpanContext.TraceID, h.SpanContext.TraceID)
		assert.Equal(t, chat.SpanContext.SpanID, h.Parent.SpanID, "HTTP span %s is a child of the chat span", h.Name)
	}
	assert.Contains(t, head, "The provider received traceparent 00-"+chat.SpanContext.TraceID+"-"+spans[1].SpanContext.SpanID+"-01\n")
}
