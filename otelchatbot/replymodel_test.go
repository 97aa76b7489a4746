package otelchatbot_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace"
)

// botRig wraps a scripted chatbottest.Bot in the middleware, with the
// ticking clock and in-memory exporters of rig.
func botRig(t *testing.T, bot *chatbottest.Bot, opts ...otelchatbot.Option) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.logs, r.lp = newLogs()
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	clock := &tickClock{}
	r.bot = chatbot.Wrap(bot, otelchatbot.Middleware(append([]otelchatbot.Option{
		otelchatbot.WithTracerProvider(r.tp), otelchatbot.WithMeterProvider(mp), otelchatbot.WithLoggerProvider(r.lp),
		otelchatbot.WithClock(clock.Now),
	}, opts...)...))
	return r
}

// botBase is the attributes of every span and metric of a Bot.
var botBase = map[attribute.Key]attribute.Value{
	"gen_ai.operation.name": attribute.StringValue("chat"),
	"gen_ai.provider.name":  attribute.StringValue("chatbottest"),
}

var (
	hours = chatbot.Source{ID: "doc-1", Title: "Opening hours", URL: "https://example.com/hours", Snippet: "9 to 5", Score: 0.9}
	used  = &chatbot.Usage{InputTokens: 12, OutputTokens: 34, TotalTokens: 46}
)

// rich is a turn with usage, a finish reason and a source.
func rich() chatbottest.Turn {
	return chatbottest.Turn{Chunks: []string{"Open ", "9 to 5."}, Usage: used, FinishReason: chatbot.FinishLength,
		Sources: []chatbot.Source{hours}}
}

func TestUsageAndFinishReasonsAreRecordedWhenReported(t *testing.T) {
	t.Parallel()
	r := botRig(t, chatbottest.NewBot().Script(rich(), rich()))
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	spans := r.spans.Ended()
	require.Len(t, spans, 2)
	for _, span := range spans {
		attrs := attrMap(span.Attributes())
		assert.Equal(t, attribute.Int64Value(12), attrs["gen_ai.usage.input_tokens"], span.Name())
		assert.Equal(t, attribute.Int64Value(34), attrs["gen_ai.usage.output_tokens"])
		assert.Equal(t, attribute.StringSliceValue([]string{"length"}), attrs["gen_ai.response.finish_reasons"])
		assert.NotContains(t, attrs, attribute.Key("gen_ai.retrieval.documents"), "sources are content: off by default")
	}

	streamed := with(botBase, attribute.Bool("gen_ai.request.stream", true))
	h := r.histograms(t)
	assert.ElementsMatch(t, []point{
		{with(botBase, attribute.String("gen_ai.token.type", "input")), 1, 12},
		{with(botBase, attribute.String("gen_ai.token.type", "output")), 1, 34},
		{with(streamed, attribute.String("gen_ai.token.type", "input")), 1, 12},
		{with(streamed, attribute.String("gen_ai.token.type", "output")), 1, 34},
	}, h["gen_ai.client.token.usage"])
}

func TestNothingIsRecordedThatWasNotReported(t *testing.T) {
	t.Parallel()
	credits := chatbottest.Turn{Chunks: []string{"Hi."}, Usage: &chatbot.Usage{Credits: 2}} // no token counts
	r := botRig(t, chatbottest.NewBot().Script(credits, credits))
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	for _, span := range r.spans.Ended() {
		attrs := attrMap(span.Attributes())
		assert.NotContains(t, attrs, attribute.Key("gen_ai.usage.input_tokens"))
		assert.NotContains(t, attrs, attribute.Key("gen_ai.usage.output_tokens"))
		assert.Equal(t, attribute.StringSliceValue([]string{"stop"}), attrs["gen_ai.response.finish_reasons"], "the Bot's default, complete")
	}
	assert.NotContains(t, r.histograms(t), "gen_ai.client.token.usage", "no token counts, no usage metric")

	wsRig := setup(t, nil) // a provider that reports neither usage nor finish reasons
	_, err = wsRig.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	attrs := attrMap(wsRig.onlySpan(t).Attributes())
	assert.NotContains(t, attrs, attribute.Key("gen_ai.response.finish_reasons"))
	assert.NotContains(t, wsRig.histograms(t), "gen_ai.client.token.usage")
}

func TestSourcesAreRecordedWithMessageContent(t *testing.T) {
	t.Parallel()
	r := botRig(t, chatbottest.NewBot().Script(rich(), rich()), otelchatbot.WithMessageContent())
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	want := attribute.SliceValue(attribute.MapValue(
		attribute.String("id", "doc-1"), attribute.Float64("score", 0.9),
		attribute.String("title", "Opening hours"), attribute.String("url", "https://example.com/hours"),
	))
	spans := r.spans.Ended()
	require.Len(t, spans, 2)
	for _, span := range spans {
		attrs := attrMap(span.Attributes())
		assert.Equal(t, want, attrs["gen_ai.retrieval.documents"])
		assert.Equal(t, outputMessages("Open 9 to 5.", "length").Value, attrs["gen_ai.output.messages"])
	}
}

func TestStreamRecordsTheReplacedText(t *testing.T) {
	t.Parallel()
	moderated := chatbottest.Turn{Parts: []chatbot.Chunk{{Text: "Draft"}, {Text: "Moderated.", Replace: true}},
		FinishReason: chatbot.FinishContentFilter}
	r := botRig(t, chatbottest.NewBot().Script(moderated), otelchatbot.WithMessageContent())
	reply, err := chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)
	require.Equal(t, "Moderated.", reply.Text)
	assert.Equal(t, outputMessages("Moderated.", "content_filter").Value, attrMap(r.onlySpan(t).Attributes())["gen_ai.output.messages"])
}

func TestAReplyWaitingForAnActionIsNotAFailure(t *testing.T) {
	t.Parallel()
	action := chatbottest.Turn{Chunks: []string{"Looking it up."}, FinishReason: chatbot.FinishActionRequired,
		Actions: []chatbot.Action{{ID: "call-1", Name: "lookup_order"}}}
	r := botRig(t, chatbottest.NewBot().Script(action))
	reply, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	require.NotNil(t, reply, "the reply is passed on with its error")
	assert.Len(t, reply.Actions, 1)

	span := r.onlySpan(t)
	assert.Equal(t, codes.Unset, span.Status().Code)
	attrs := attrMap(span.Attributes())
	assert.NotContains(t, attrs, attribute.Key("error.type"))
	assert.Equal(t, attribute.StringSliceValue([]string{"tool_call"}), attrs["gen_ai.response.finish_reasons"])
	assert.Equal(t, []point{{botBase, 1, 1}}, r.histograms(t)["gen_ai.client.operation.duration"])
}

func TestLatestConventions(t *testing.T) {
	t.Parallel()
	r := botRig(t, chatbottest.NewBot().Script(rich(), rich()), otelchatbot.WithLatestConventions(true))
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	_, err = chatbot.Collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}))
	require.NoError(t, err)

	streamed := with(botBase, attribute.Bool("gen_ai.request.stream", true))
	h := r.histograms(t)
	assert.ElementsMatch(t, []point{{botBase, 1, 1}, {streamed, 1, 2}}, h["gen_ai.client.inference.duration"])
	assert.Equal(t, []point{{streamed, 1, 1}}, h["gen_ai.client.inference.time_to_first_chunk"])
	assert.ElementsMatch(t, []point{{botBase, 1, 12}, {streamed, 1, 12}}, h["gen_ai.client.inference.usage.input_tokens"])
	assert.ElementsMatch(t, []point{{botBase, 1, 34}, {streamed, 1, 34}}, h["gen_ai.client.inference.usage.output_tokens"])
	for _, old := range []string{"gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk", "gen_ai.client.token.usage"} {
		assert.NotContains(t, h, old, "the latest conventions replace the v1.41 names")
	}
	for _, span := range r.spans.Ended() {
		assert.Equal(t, attribute.Int64Value(12), attrMap(span.Attributes())["gen_ai.usage.input_tokens"])
		assert.Empty(t, span.InstrumentationScope().SchemaURL)
	}
}

// TestOptInEnv changes the environment: it cannot run in parallel.
func TestOptInEnv(t *testing.T) {
	for _, tt := range []struct {
		env    string
		opts   []otelchatbot.Option
		metric string
	}{
		{env: "", metric: "gen_ai.client.operation.duration"},
		{env: "http,gen_ai_latest_experimental", metric: "gen_ai.client.inference.duration"},
		{env: " gen_ai_latest_experimental ", metric: "gen_ai.client.inference.duration"},
		{env: "gen_ai_latest_experimental/dup", metric: "gen_ai.client.operation.duration"},
		{env: "gen_ai_latest_experimental", opts: []otelchatbot.Option{otelchatbot.WithLatestConventions(false)}, metric: "gen_ai.client.operation.duration"},
		{env: "", opts: []otelchatbot.Option{otelchatbot.WithLatestConventions(true)}, metric: "gen_ai.client.inference.duration"},
	} {
		t.Setenv(otelchatbot.OptInEnv, tt.env)
		r := botRig(t, chatbottest.NewBot(), tt.opts...)
		t.Setenv(otelchatbot.OptInEnv, "") // read once, when the middleware was made
		_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
		require.NoError(t, err)
		h := r.histograms(t)
		assert.Len(t, h[tt.metric], 1, "%s=%q, %d options", otelchatbot.OptInEnv, tt.env, len(tt.opts))
	}
}

func TestServerAddressFromTheBaseURL(t *testing.T) {
	t.Parallel()
	client, err := workspace.NewClient("sk-workspace_test", "bot-1", chatbot.WithBaseURL("https://bots.example.com/api/v1/"))
	require.NoError(t, err)
	r := botRig(t, chatbottest.NewBot())
	traced := chatbot.Wrap(client, otelchatbot.Middleware(otelchatbot.WithTracerProvider(r.tp)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // nothing is sent
	_, err = traced.Chat(ctx, chatbot.Request{Message: question})
	require.ErrorIs(t, err, context.Canceled)
	attrs := attrMap(r.onlySpan(t).Attributes())
	assert.Equal(t, attribute.StringValue("bots.example.com"), attrs["server.address"])
	assert.Equal(t, attribute.IntValue(443), attrs["server.port"], "the scheme's default port")
}

// TestChunksAndRepliesPassThroughUntouched checks that the middleware hands
// every field of every chunk and reply on as the wrapped Chatbot made it.
func TestChunksAndRepliesPassThroughUntouched(t *testing.T) {
	t.Parallel()
	turn := chatbottest.Turn{
		Parts:        []chatbot.Chunk{{Text: "Draft"}, {Sources: []chatbot.Source{hours}}, {Text: "Open 9 to 5.", Replace: true}},
		Usage:        used,
		FinishReason: chatbot.FinishActionRequired,
		Actions:      []chatbot.Action{{ID: "call-1", Name: "lookup_order", Input: []byte(`{"order":42}`)}},
	}
	plain := chatbottest.NewBot().Script(turn, turn)
	r := botRig(t, chatbottest.NewBot().Script(turn, turn), otelchatbot.WithMessageContent(), otelchatbot.WithChunkTimes())
	req := chatbot.Request{Message: question}

	var want, got []chatbot.Chunk
	for c, err := range plain.Stream(t.Context(), req) {
		require.NoError(t, err)
		want = append(want, c)
	}
	for c, err := range r.bot.Stream(t.Context(), req) {
		require.NoError(t, err)
		got = append(got, c)
	}
	assert.Equal(t, want, got)

	wantReply, wantErr := plain.Chat(t.Context(), req)
	reply, err := r.bot.Chat(t.Context(), req)
	assert.Equal(t, wantErr, err)
	assert.Equal(t, wantReply, reply)
}
