package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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
	Attributes  []attr
	Events      []struct {
		Name       string
		Attributes []attr
	}
	Status struct{ Code string }
}

// attr is one attribute, as the stdout exporter writes it.
type attr struct {
	Key   string
	Value struct {
		Type  string
		Value any
	}
}

// value returns the value of the attribute named key, nil if none.
func value(attrs []attr, key string) any {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
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
		events = append(events, fmt.Sprintf("%s attempt=%v status=%v", e.Name, value(e.Attributes, "attempt"), value(e.Attributes, "status")))
	}
	assert.Equal(t, []string{
		"chatbot: http attempt attempt=1 status=429",
		"chatbot: retrying attempt=1 status=429",
		"chatbot: http attempt attempt=2 status=200",
	}, events)

	for _, h := range spans[:2] {
		assert.Equal(t, chat.SpanContext.TraceID, h.SpanContext.TraceID)
		assert.Equal(t, chat.SpanContext.SpanID, h.Parent.SpanID, "HTTP span %s is a child of the chat span", h.Name)
	}
	assert.Contains(t, head, "The provider received traceparent 00-"+chat.SpanContext.TraceID+"-"+spans[1].SpanContext.SpanID+"-01\n")
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	var out strings.Builder
	err := start([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out.String(), "the demo did not run")
}
