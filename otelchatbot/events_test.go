package otelchatbot_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/otelchatbot"
)

// recordAttrs returns the attributes of r as a map, for exact comparison.
func recordAttrs(t *testing.T, r sdklog.Record) map[attribute.Key]attribute.Value {
	t.Helper()
	var attrs []attribute.KeyValue
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, kv)
		return true
	})
	require.Len(t, attrs, r.AttributesLen())
	return attrMap(attrs)
}

// latestDetails are the options that turn the operation details event on.
var latestDetails = []otelchatbot.Option{otelchatbot.WithLatestConventions(true), otelchatbot.WithOperationDetails()}

func TestOperationDetailsEventCarriesTheSpanAttributes(t *testing.T) {
	t.Parallel()
	r := botRig(t, chatbottest.NewBot().Script(rich(), rich()), latestDetails...)
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question, ConversationID: "conv-7"})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	spans, events := r.spans.Ended(), r.emitted()
	require.Len(t, spans, 2)
	require.Len(t, events, 2)
	for i, ev := range events {
		span := spans[i]
		assert.Equal(t, otelchatbot.OperationDetailsEventName, ev.EventName())
		assert.Equal(t, "gen_ai.client.inference.operation.details", ev.EventName())
		assert.Equal(t, log.SeverityDebug, ev.Severity(), "the conventions ask for DEBUG")
		assert.Equal(t, "DEBUG", ev.SeverityText())
		assert.Equal(t, span.EndTime(), ev.Timestamp())
		assert.Equal(t, span.SpanContext().TraceID(), ev.TraceID(), "emitted in the context of the call's span")
		assert.Equal(t, span.SpanContext().SpanID(), ev.SpanID())
		assert.Equal(t, otelchatbot.ScopeName, ev.InstrumentationScope().Name)
		assert.Zero(t, ev.Body().Type(), "an event carries its data in attributes")

		attrs := recordAttrs(t, ev)
		assert.Equal(t, attrMap(span.Attributes()), attrs)
		assert.Equal(t, attribute.StringValue("chat"), attrs["gen_ai.operation.name"])
		assert.Equal(t, attribute.StringValue("chatbottest"), attrs["gen_ai.provider.name"])
		assert.Equal(t, attribute.Int64Value(12), attrs["gen_ai.usage.input_tokens"])
		assert.Equal(t, attribute.Int64Value(34), attrs["gen_ai.usage.output_tokens"])
		assert.Equal(t, attribute.StringSliceValue([]string{"length"}), attrs["gen_ai.response.finish_reasons"])
		for _, content := range []attribute.Key{"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.retrieval.documents"} {
			assert.NotContains(t, attrs, content, "content is off by default")
		}
	}
	assert.Equal(t, attribute.StringValue("conv-7"), recordAttrs(t, events[0])["gen_ai.conversation.id"])
	assert.NotContains(t, recordAttrs(t, events[0]), attribute.Key("gen_ai.request.stream"))
	streamed := recordAttrs(t, events[1])
	assert.Equal(t, attribute.BoolValue(true), streamed["gen_ai.request.stream"])
	assert.Equal(t, attribute.Float64Value(1), streamed["gen_ai.response.time_to_first_chunk"])
}

func TestOperationDetailsEventHasContentOnlyWithMessageContent(t *testing.T) {
	t.Parallel()
	r := botRig(t, chatbottest.NewBot().Script(rich(), rich()), append(latestDetails, otelchatbot.WithMessageContent())...)
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	spans, events := r.spans.Ended(), r.emitted()
	require.Len(t, events, 2)
	for i, ev := range events {
		attrs := recordAttrs(t, ev)
		assert.Equal(t, attrMap(spans[i].Attributes()), attrs)
		input := attrs["gen_ai.input.messages"].AsSlice()
		require.Len(t, input, 1)
		assert.Equal(t, attribute.MapValue(
			attribute.String("role", "user"),
			attribute.Slice("parts", attribute.MapValue(attribute.String("type", "text"), attribute.String("content", question))),
		), input[0], "structured, as the conventions ask of events")
		output := attrs["gen_ai.output.messages"].AsSlice()
		require.Len(t, output, 1)
		assert.Equal(t, attribute.MapValue(
			attribute.String("role", "assistant"),
			attribute.Slice("parts", attribute.MapValue(attribute.String("type", "text"), attribute.String("content", "Open 9 to 5."))),
			attribute.String("finish_reason", "length"),
		), output[0])
		docs := attrs["gen_ai.retrieval.documents"].AsSlice()
		require.Len(t, docs, 1)
		assert.Equal(t, attribute.MapValue(attribute.String("id", "doc-1"), attribute.Float64("score", 0.9),
			attribute.String("title", "Opening hours"), attribute.String("url", "https://example.com/hours")), docs[0])
	}
}

func TestOperationDetailsEventOfAFailedCallHasErrorTypeNotText(t *testing.T) {
	t.Parallel()
	secret := errors.New("upstream said sk-leaked-in-an-error")
	r := botRig(t, chatbottest.NewBot().Script(chatbottest.Turn{Err: secret}),
		append(latestDetails, otelchatbot.WithMessageContent())...)
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.ErrorIs(t, err, secret)

	events := r.emitted()
	require.Len(t, events, 1)
	attrs := recordAttrs(t, events[0])
	assert.Equal(t, attribute.StringValue(otelchatbot.ErrorTypeOther), attrs["error.type"])
	assert.Contains(t, attrs, attribute.Key("gen_ai.input.messages"))
	assert.NotContains(t, fmt.Sprint(attrs), "sk-leaked", "error texts stay on the span, with content only")
}

func TestOperationDetailsEventNeverCarriesTheAPIKey(t *testing.T) {
	t.Parallel()
	r := setup(t, nil, append(latestDetails, otelchatbot.WithMessageContent())...)
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	events := r.emitted()
	require.Len(t, events, 2)
	for _, ev := range events {
		assert.Contains(t, recordAttrs(t, ev), attribute.Key("server.address"))
		assert.NotContains(t, fmt.Sprint(recordAttrs(t, ev)), r.srv.APIKey())
	}
}

func TestOperationDetailsEventIsOptInAndLatestOnly(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]otelchatbot.Option{
		"default (v1.41)":                     nil,
		"v1.41 with WithOperationDetails":     {otelchatbot.WithOperationDetails(), otelchatbot.WithMessageContent()},
		"latest without WithOperationDetails": {otelchatbot.WithLatestConventions(true), otelchatbot.WithMessageContent()},
	} {
		r := botRig(t, chatbottest.NewBot().Script(rich(), rich()), opts...)
		_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
		require.NoError(t, err)
		_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
		require.NoError(t, err)
		assert.Len(t, r.spans.Ended(), 2, name)
		assert.Empty(t, r.emitted(), name)
	}
}

// TestOperationDetailsEventGoesToTheGlobalLoggerProvider sets the global
// provider: it cannot run in parallel.
func TestOperationDetailsEventGoesToTheGlobalLoggerProvider(t *testing.T) {
	logs, lp := newLogs()
	global.SetLoggerProvider(lp)
	t.Cleanup(func() { global.SetLoggerProvider(noop.NewLoggerProvider()) })
	bot := chatbot.Wrap(chatbottest.NewBot(), otelchatbot.Middleware(latestDetails...))
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	logs.mu.Lock()
	defer logs.mu.Unlock()
	require.Len(t, logs.records, 1)
	assert.Equal(t, otelchatbot.OperationDetailsEventName, logs.records[0].EventName())
}
