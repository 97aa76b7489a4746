package otelchatbot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

const question = "What are your opening hours?"

// base is the attributes every span and metric of the workspace fake's
// chatbot carries.
func base(r *rig) map[attribute.Key]attribute.Value {
	u, err := url.Parse(r.srv.URL)
	if err != nil {
		panic(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		panic(err)
	}
	return map[attribute.Key]attribute.Value{
		"gen_ai.operation.name": attribute.StringValue("chat"),
		"gen_ai.provider.name":  attribute.StringValue("workspace"),
		"gen_ai.agent.id":       attribute.StringValue(r.srv.ChatbotID()),
		"server.address":        attribute.StringValue(u.Hostname()),
		"server.port":           attribute.IntValue(port),
	}
}

func with(m map[attribute.Key]attribute.Value, kvs ...attribute.KeyValue) map[attribute.Key]attribute.Value {
	out := make(map[attribute.Key]attribute.Value, len(m)+len(kvs))
	for k, v := range m {
		out[k] = v
	}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestChat(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	r.srv.SetReply("Open ", "9 to 5.")
	reply, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	require.Equal(t, "Open 9 to 5.", reply.Text)
	require.NotEmpty(t, reply.ConversationID)
	require.NotEmpty(t, reply.MessageID)

	span := r.onlySpan(t)
	assert.Equal(t, "chat "+r.srv.ChatbotID(), span.Name())
	assert.Equal(t, trace.SpanKindClient, span.SpanKind())
	assert.Equal(t, with(base(r),
		attribute.String("gen_ai.conversation.id", reply.ConversationID),
		attribute.String("gen_ai.response.id", reply.MessageID),
	), attrMap(span.Attributes()))
	assert.Equal(t, codes.Unset, span.Status().Code)
	assert.Equal(t, epoch, span.StartTime())
	assert.Equal(t, epoch.Add(time.Second), span.EndTime())
	assert.Equal(t, "https://opentelemetry.io/schemas/1.41.0", span.InstrumentationScope().SchemaURL)

	h := r.histograms(t)
	assert.Equal(t, []point{{base(r), 1, 1}}, h["gen_ai.client.operation.duration"])
	assert.Len(t, h, 1, "a chat records no stream metrics")
}

func TestChatContinuesConversation(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	first, err := r.client.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = r.bot.Chat(t.Context(), chatbot.Request{Message: "And Sundays?", ConversationID: first.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, attribute.StringValue(first.ConversationID), attrMap(r.onlySpan(t).Attributes())["gen_ai.conversation.id"])
}

// collect ranges over the stream as an application would, keeping the chunks
// and the error, and breaking after breakAfter chunks if it is > 0.
func collect(chunks func(func(chatbot.Chunk, error) bool), breakAfter int) ([]chatbot.Chunk, error) {
	var got []chatbot.Chunk
	for c, err := range chunks {
		if err != nil {
			return got, err
		}
		got = append(got, c)
		if len(got) == breakAfter {
			break
		}
	}
	return got, nil
}

func TestStreamComplete(t *testing.T) {
	t.Parallel()
	r := setup(t, nil, otelchatbot.WithChunkTimes())
	r.srv.SetReply("Open ", "9 ", "to 5.")
	chunks := r.bot.Stream(t.Context(), chatbot.Request{Message: question})
	assert.Zero(t, r.srv.Count(), "the stream is lazy")
	assert.Empty(t, r.spans.Started(), "the span starts with the loop")

	got, err := collect(chunks, 0)
	require.NoError(t, err)
	n := len(got)
	require.GreaterOrEqual(t, n, 3)
	last := got[n-1]
	require.True(t, last.Done)

	span := r.onlySpan(t)
	assert.Equal(t, "chat "+r.srv.ChatbotID(), span.Name())
	assert.Equal(t, trace.SpanKindClient, span.SpanKind())
	assert.Equal(t, with(base(r),
		attribute.Bool("gen_ai.request.stream", true),
		attribute.String("gen_ai.conversation.id", last.ConversationID),
		attribute.String("gen_ai.response.id", last.MessageID),
		attribute.Float64("gen_ai.response.time_to_first_chunk", 1),
		attribute.Int("chatbot.stream.chunks", n),
		attribute.Bool("chatbot.stream.complete", true),
	), attrMap(span.Attributes()))
	assert.Equal(t, codes.Unset, span.Status().Code)
	assert.Equal(t, epoch.Add(time.Duration(n+1)*time.Second), span.EndTime())

	streamed := with(base(r), attribute.Bool("gen_ai.request.stream", true))
	h := r.histograms(t)
	assert.Equal(t, []point{{streamed, 1, float64(n + 1)}}, h["gen_ai.client.operation.duration"])
	assert.Equal(t, []point{{streamed, 1, 1}}, h["gen_ai.client.operation.time_to_first_chunk"])
	assert.Equal(t, []point{{streamed, uint64(n - 1), float64(n - 1)}}, h["gen_ai.client.operation.time_per_output_chunk"])
	assert.Equal(t, []point{{streamed, 1, float64(n)}}, h["chatbot.client.stream.chunks"])

	// A second range sends nothing and records nothing.
	_, err = collect(chunks, 0)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, 1, r.srv.Count())
	assert.Len(t, r.spans.Ended(), 1)
}

func TestStreamCut(t *testing.T) {
	t.Parallel()
	r := setup(t, nil, otelchatbot.WithMessageContent())
	r.srv.SetReply("Open ", "9 ", "to 5.")
	r.srv.CutAfter(150) // inside the second event
	got, err := collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 0)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Len(t, got, 1, "one whole event arrived before the cut")

	span := r.onlySpan(t)
	assert.Equal(t, with(base(r),
		attribute.Bool("gen_ai.request.stream", true),
		attribute.String("gen_ai.conversation.id", got[0].ConversationID),
		attribute.String("gen_ai.response.id", got[0].MessageID),
		attribute.Float64("gen_ai.response.time_to_first_chunk", 1),
		attribute.Int("chatbot.stream.chunks", 1),
		attribute.Bool("chatbot.stream.complete", false),
		attribute.String("error.type", "connection_cut"),
		inputMessages(question),
		outputMessages("Open ", "error"),
	), attrMap(span.Attributes()))
	assert.Equal(t, codes.Error, span.Status().Code)
	assert.Equal(t, "connection_cut", span.Status().Description)
	require.Len(t, span.Events(), 1, "the exception event, recorded with WithMessageContent")
	assert.Equal(t, "exception", span.Events()[0].Name)

	streamed := with(base(r), attribute.Bool("gen_ai.request.stream", true))
	h := r.histograms(t)
	assert.Equal(t, []point{{with(streamed, attribute.String("error.type", "connection_cut")), 1, 2}},
		h["gen_ai.client.operation.duration"])
	assert.Equal(t, []point{{streamed, 1, 1}}, h["chatbot.client.stream.chunks"])
}

func TestStreamBreak(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	r.srv.SetReply("Open ", "9 ", "to 5.")
	r.srv.SetPace(time.Hour) // the server holds the second event until the client goes away
	got, err := collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	select {
	case <-r.srv.Disconnects(): // the break closed the connection, as the server saw
	case <-time.After(10 * time.Second):
		require.Fail(t, "the server did not see the client go away")
	}

	span := r.onlySpan(t)
	assert.Equal(t, with(base(r),
		attribute.Bool("gen_ai.request.stream", true),
		attribute.String("gen_ai.conversation.id", got[0].ConversationID),
		attribute.String("gen_ai.response.id", got[0].MessageID),
		attribute.Float64("gen_ai.response.time_to_first_chunk", 1),
		attribute.Int("chatbot.stream.chunks", 1),
		attribute.Bool("chatbot.stream.complete", false),
	), attrMap(span.Attributes()))
	assert.Equal(t, codes.Unset, span.Status().Code, "leaving a stream is not a failure")
	h := r.histograms(t)
	assert.Equal(t, []point{{with(base(r), attribute.Bool("gen_ai.request.stream", true)), 1, 2}},
		h["gen_ai.client.operation.duration"])
	assert.NotContains(t, h, "gen_ai.client.operation.time_per_output_chunk", "recorded only WithChunkTimes")
	assert.Len(t, h, 3)
}

func TestProviderError(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	r.srv.FailNext(2, workspacetest.Failure{Status: http.StatusUnauthorized, Code: "INVALID_API_KEY", Message: "Invalid or inactive API key"})

	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	_, err = collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 0)
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)

	spans := r.spans.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, with(base(r), attribute.String("error.type", "UNAUTHORIZED")), attrMap(spans[0].Attributes()))
	assert.Equal(t, with(base(r),
		attribute.Bool("gen_ai.request.stream", true),
		attribute.Int("chatbot.stream.chunks", 0),
		attribute.Bool("chatbot.stream.complete", false),
		attribute.String("error.type", "UNAUTHORIZED"),
	), attrMap(spans[1].Attributes()))
	for _, s := range spans {
		assert.Equal(t, codes.Error, s.Status().Code)
		assert.Equal(t, "UNAUTHORIZED", s.Status().Description)
		assert.Empty(t, s.Events(), "no error text without WithMessageContent")
	}
	h := r.histograms(t)
	assert.ElementsMatch(t, []point{
		{with(base(r), attribute.String("error.type", "UNAUTHORIZED")), 1, 1},
		{with(base(r), attribute.String("error.type", "UNAUTHORIZED"), attribute.Bool("gen_ai.request.stream", true)), 1, 1},
	}, h["gen_ai.client.operation.duration"])
	assert.Empty(t, h["gen_ai.client.operation.time_to_first_chunk"])
}

func TestErrorTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&chatbot.Error{Code: chatbot.CodeRateLimitExceeded, Message: "secret user text"}, "RATE_LIMIT_EXCEEDED"},
		{&chatbot.Error{}, "UNKNOWN"},
		{context.Canceled, "canceled"},
		{context.DeadlineExceeded, "timeout"},
		{errors.Join(errors.New("x"), chatbot.ErrIdleTimeout), "idle_timeout"},
		{io.ErrUnexpectedEOF, "connection_cut"},
		{chatbot.ErrStreamUsed, "stream_used"},
		{errors.New("something else"), "_OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			r := setup(t, nil)
			bot := chatbot.Wrap(chatbottest.NewBot().Fail(tt.err), otelchatbot.Middleware(otelchatbot.WithTracerProvider(r.tp)))
			_, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
			require.ErrorIs(t, err, tt.err)
			span := r.onlySpan(t)
			assert.Equal(t, attribute.StringValue(tt.want), attrMap(span.Attributes())["error.type"])
			assert.Equal(t, tt.want, span.Status().Description)
		})
	}
}

func TestUnknownChatbot(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	anonymous := struct{ chatbot.Chatbot }{chatbottest.NewBot("hi")} // no Info, no BaseURL
	bot := chatbot.Wrap(anonymous, otelchatbot.Middleware(otelchatbot.WithTracerProvider(r.tp)))
	assert.Equal(t, chatbot.Info{}, chatbot.InfoOf(bot))
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	span := r.onlySpan(t)
	assert.Equal(t, "chat", span.Name())
	assert.Equal(t, attribute.StringValue("unknown"), attrMap(span.Attributes())["gen_ai.provider.name"])
	assert.NotContains(t, attrMap(span.Attributes()), attribute.Key("gen_ai.agent.id"))
	assert.NotContains(t, attrMap(span.Attributes()), attribute.Key("server.address"), "no base URL to tell")
}

func TestInfoForwarded(t *testing.T) {
	t.Parallel()
	r := setup(t, nil)
	assert.Equal(t, chatbot.InfoOf(r.client), chatbot.InfoOf(r.bot))
	assert.Equal(t, "workspace", chatbot.InfoOf(r.bot).Provider)
}

func TestContent(t *testing.T) {
	t.Parallel()
	for _, content := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "WithMessageContent"}[content], func(t *testing.T) {
			t.Parallel()
			var opts []otelchatbot.Option
			if content {
				opts = append(opts, otelchatbot.WithMessageContent())
			}
			r := setup(t, nil, opts...)
			r.srv.SetReply("Open ", "9 to 5.")
			_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
			require.NoError(t, err)
			_, err = collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 0)
			require.NoError(t, err)
			spans := r.spans.Ended()
			require.Len(t, spans, 2)
			for _, s := range spans {
				attrs := attrMap(s.Attributes())
				if !content {
					assert.NotContains(t, attrs, attribute.Key("gen_ai.input.messages"))
					assert.NotContains(t, attrs, attribute.Key("gen_ai.output.messages"))
					assert.NotContains(t, dump(s), "opening hours")
					assert.NotContains(t, dump(s), "9 to 5")
					continue
				}
				assert.Equal(t, inputMessages(question).Value, attrs["gen_ai.input.messages"])
				assert.Equal(t, outputMessages("Open 9 to 5.", "stop").Value, attrs["gen_ai.output.messages"])
			}
		})
	}
}

// inputMessages and outputMessages are the structured values the
// conventions' JSON schemas describe, built independently of the package.
func inputMessages(text string) attribute.KeyValue {
	return attribute.Slice("gen_ai.input.messages", attribute.MapValue(
		attribute.String("role", "user"),
		attribute.Slice("parts", attribute.MapValue(attribute.String("type", "text"), attribute.String("content", text))),
	))
}

func outputMessages(text, finish string) attribute.KeyValue {
	return attribute.Slice("gen_ai.output.messages", attribute.MapValue(
		attribute.String("role", "assistant"),
		attribute.Slice("parts", attribute.MapValue(attribute.String("type", "text"), attribute.String("content", text))),
		attribute.String("finish_reason", finish),
	))
}

// dump renders everything a span exports that could carry text: its name,
// status, attributes and events with their attributes.
func dump(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	b.WriteString(s.Name() + " " + s.Status().Description)
	for _, a := range s.Attributes() {
		b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
	}
	for _, e := range s.Events() {
		b.WriteString(" event " + e.Name)
		for _, a := range e.Attributes {
			b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
		}
	}
	return b.String()
}

func TestConformance(t *testing.T) {
	t.Parallel()
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		r := setup(t, nil)
		return chatbottest.Target{Bot: r.bot, Server: r.srv}
	})
}
