package otelchatbot

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/chatbot-go/chatbot"
)

// durationBuckets is the bucket advice of the conventions (semconv v1.41.0)
// for gen_ai.client.operation.duration, time_to_first_chunk and
// time_per_output_chunk, in seconds.
var durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}

// tokenBuckets is the bucket advice of the conventions for token counts.
var tokenBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}

// chunkBuckets is the bucket advice of chatbot.client.stream.chunks, the
// powers of 4 the conventions advise for token counts.
var chunkBuckets = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536}

// unknownProvider is gen_ai.provider.name, a required attribute, for a
// Chatbot whose [chatbot.InfoOf] names no provider.
const unknownProvider = "unknown"

// operationName is gen_ai.operation.name, and the first word of span names.
var operationName = semconv.GenAIOperationNameChat.Value.AsString()

// Middleware returns a [chatbot.Middleware] that traces every Chat and
// Stream call as an OpenTelemetry GenAI client span and records the GenAI
// client metrics, following the GenAI semantic conventions of semconv
// v1.41.0, or the latest experimental ones when [OptInEnv] or
// [WithLatestConventions] asks for them (see the package documentation
// for the attributes and metrics of each).
//
// A Chat span covers the call. A Stream span starts when the loop starts
// (the stream stays lazy) and ends when the loop ends: complete, failed or
// left with break. The stream keeps the contract of [chatbot.Chatbot.Stream]:
// single-use, error last, break closes the connection, no goroutine. Every
// chunk and reply passes through untouched. The Chatbot returned forwards
// [chatbot.InfoOf] of the one it wraps.
//
// The span is in the context passed to the wrapped Chatbot, so an otelhttp
// transport set with [chatbot.WithHTTPClient] makes the HTTP spans its
// children and sends its trace context to the provider, and a logger set
// with [chatbot.WithLogger] over [NewLogHandler] turns the SDK's attempt,
// retry and refusal lines into events on it.
//
// Message and reply text and sources are recorded only with
// [WithMessageContent]; the API key never is. Middleware reads [OptInEnv]
// once, when it is called. Instruments that cannot be created are reported
// to otel.Handle and replaced by no-ops. The returned Chatbots are safe for
// concurrent use when the wrapped ones are.
func Middleware(opts ...Option) chatbot.Middleware {
	cfg := newConfig(opts)
	schema := semconv.SchemaURL
	if cfg.latest {
		schema = "" // the GenAI conventions' own repository publishes no schema yet
	}
	tracer := cfg.tp.Tracer(ScopeName,
		trace.WithInstrumentationVersion(chatbot.Version), trace.WithSchemaURL(schema))
	meter := cfg.mp.Meter(ScopeName,
		metric.WithInstrumentationVersion(chatbot.Version), metric.WithSchemaURL(schema))
	ins := newInstruments(meter, cfg.latest)
	var events log.Logger // nil: no operation details event
	if cfg.latest && cfg.details {
		events = cfg.lp.Logger(ScopeName,
			log.WithInstrumentationVersion(chatbot.Version), log.WithSchemaURL(schema))
	}
	return func(next chatbot.Chatbot) chatbot.Chatbot {
		return newBot(next, cfg, tracer, ins, events)
	}
}

// instruments are the histograms a Middleware records to.
type instruments struct {
	duration, firstChunk, perChunk metric.Float64Histogram
	chunks                         metric.Int64Histogram
	inputTokens, outputTokens      metric.Int64Histogram
	tokenType                      bool // v1.41: one token histogram, told apart by gen_ai.token.type
}

// The metric names of the latest experimental GenAI conventions
// (open-telemetry/semantic-conventions-genai v0.1.0).
const (
	InferenceDurationMetricName     = "gen_ai.client.inference.duration"
	InferenceFirstChunkMetricName   = "gen_ai.client.inference.time_to_first_chunk"
	InferencePerChunkMetricName     = "gen_ai.client.inference.time_per_output_chunk"
	InferenceInputTokensMetricName  = "gen_ai.client.inference.usage.input_tokens"
	InferenceOutputTokensMetricName = "gen_ai.client.inference.usage.output_tokens"
)

func newInstruments(m metric.Meter, latest bool) instruments {
	if latest {
		return newLatestInstruments(m)
	}
	buckets := metric.WithExplicitBucketBoundaries(durationBuckets...)
	duration, err := genaiconv.NewClientOperationDuration(m, buckets)
	handle(err)
	firstChunk, err := genaiconv.NewClientOperationTimeToFirstChunk(m, buckets)
	handle(err)
	perChunk, err := genaiconv.NewClientOperationTimePerOutputChunk(m, buckets)
	handle(err)
	usage, err := genaiconv.NewClientTokenUsage(m, metric.WithExplicitBucketBoundaries(tokenBuckets...))
	handle(err)
	return instruments{
		duration: duration.Inst(), firstChunk: firstChunk.Inst(), perChunk: perChunk.Inst(), chunks: newChunks(m),
		inputTokens: usage.Inst(), outputTokens: usage.Inst(), tokenType: true,
	}
}

// newLatestInstruments creates the instruments of the latest experimental
// conventions.
func newLatestInstruments(m metric.Meter) instruments {
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		handle(err)
		return h
	}
	tokens := func(name, desc string) metric.Int64Histogram {
		h, err := m.Int64Histogram(name, metric.WithDescription(desc), metric.WithUnit("{token}"),
			metric.WithExplicitBucketBoundaries(tokenBuckets...))
		handle(err)
		return h
	}
	return instruments{
		duration:     seconds(InferenceDurationMetricName, "GenAI inference operation duration."),
		firstChunk:   seconds(InferenceFirstChunkMetricName, "Time to receive the first chunk of a streamed response."),
		perChunk:     seconds(InferencePerChunkMetricName, "Time per output chunk after the first one."),
		chunks:       newChunks(m),
		inputTokens:  tokens(InferenceInputTokensMetricName, "The number of input (prompt) tokens used per inference operation."),
		outputTokens: tokens(InferenceOutputTokensMetricName, "The number of output (completion) tokens used per inference operation."),
	}
}

// newChunks creates the chunks-per-stream histogram of this module's own.
func newChunks(m metric.Meter) metric.Int64Histogram {
	chunks, err := m.Int64Histogram(ChunksMetricName,
		metric.WithDescription("Chunks a streamed reply yielded before the consumer's loop ended."),
		metric.WithUnit("{chunk}"), metric.WithExplicitBucketBoundaries(chunkBuckets...))
	handle(err)
	return chunks
}

func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// bot is the Chatbot a Middleware returns.
type bot struct {
	next     chatbot.Chatbot
	info     chatbot.Info
	tracer   trace.Tracer
	ins      instruments
	events   log.Logger // emits the operation details event; nil when off
	content  bool
	perChunk bool // record time_per_output_chunk
	now      func() time.Time
	spanName string

	chatAttrs   []attribute.KeyValue // set at span start (sampling decisions see them)
	streamAttrs []attribute.KeyValue
	chatSet     attribute.Set // metric attributes of a successful call
	streamSet   attribute.Set
	chatOpts    []metric.RecordOption // chatSet as record options, built once
	streamOpts  []metric.RecordOption // streamSet as record options
}

func newBot(next chatbot.Chatbot, cfg config, tracer trace.Tracer, ins instruments, events log.Logger) *bot {
	info := chatbot.InfoOf(next)
	provider := info.Provider
	if provider == "" {
		provider = unknownProvider
	}
	common := []attribute.KeyValue{
		semconv.GenAIOperationNameChat,
		semconv.GenAIProviderNameKey.String(provider),
	}
	if info.ChatbotID != "" {
		common = append(common, semconv.GenAIAgentID(info.ChatbotID))
	}
	if host, port, ok := serverOf(next); ok {
		common = append(common, semconv.ServerAddress(host), semconv.ServerPort(port))
	}
	b := &bot{
		next: next, info: info, tracer: tracer, ins: ins, events: events, content: cfg.content, perChunk: cfg.chunkTimes, now: cfg.now,
		spanName:    strings.TrimSpace(operationName + " " + info.ChatbotID),
		chatAttrs:   common,
		streamAttrs: append(common[:len(common):len(common)], semconv.GenAIRequestStream(true)),
	}
	b.chatSet = attribute.NewSet(b.chatAttrs...)
	b.streamSet = attribute.NewSet(b.streamAttrs...)
	b.chatOpts = []metric.RecordOption{metric.WithAttributeSet(b.chatSet)}
	b.streamOpts = []metric.RecordOption{metric.WithAttributeSet(b.streamSet)}
	return b
}

// Info returns the Info of the wrapped Chatbot.
func (b *bot) Info() chatbot.Info { return b.info }

// start starts a span for req at now.
func (b *bot) start(ctx context.Context, req chatbot.Request, attrs []attribute.KeyValue, now time.Time) (context.Context, trace.Span) {
	ctx, span := b.tracer.Start(ctx, b.spanName, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(now), trace.WithAttributes(attrs...))
	if span.IsRecording() {
		if req.ConversationID != "" {
			span.SetAttributes(semconv.GenAIConversationID(req.ConversationID))
		}
		if b.content {
			span.SetAttributes(inputMessages(req.Message))
		}
	}
	return ctx, span
}

// Chat sends req through the wrapped Chatbot inside a span.
func (b *bot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	begin := b.now()
	ctx, span := b.start(ctx, req, b.chatAttrs, begin)
	reply, err := b.next.Chat(ctx, req)
	end := b.now()

	failed := err
	if errors.Is(err, chatbot.ErrActionRequired) {
		failed = nil // an answer that waits for the caller: not a failure
	}
	details := b.detailsEnabled(ctx)
	var attrs []attribute.KeyValue
	if reply != nil {
		if span.IsRecording() || details {
			attrs = b.replyAttrs(make([]attribute.KeyValue, 0, 8), outcome{
				conv: reply.ConversationID, msgID: reply.MessageID, text: reply.Text, usage: reply.Usage,
				finish: reply.FinishReason, sources: reply.Sources, complete: failed == nil, err: failed,
			})
			span.SetAttributes(attrs...)
		}
		b.recordUsage(ctx, reply.Usage, b.chatSet)
	}
	b.finish(span, failed, end)
	b.record(ctx, end.Sub(begin).Seconds(), b.chatSet, b.chatOpts, failed)
	if details {
		b.emitDetails(ctx, req, b.chatAttrs, attrs, failed, end)
	}
	return reply, err
}

// outcome is what a call's span records of its reply.
type outcome struct {
	conv, msgID, text string
	usage             *chatbot.Usage
	finish            chatbot.FinishReason
	sources           []chatbot.Source
	complete          bool  // the whole reply arrived
	err               error // the call's failure
}

// replyAttrs appends to attrs what a reply reports: its ids, token usage
// and finish reason when the provider reported them, and, with
// [WithMessageContent], its sources and text.
func (b *bot) replyAttrs(attrs []attribute.KeyValue, o outcome) []attribute.KeyValue {
	if o.conv != "" {
		attrs = append(attrs, semconv.GenAIConversationID(o.conv))
	}
	if o.msgID != "" {
		attrs = append(attrs, semconv.GenAIResponseID(o.msgID))
	}
	if o.usage != nil {
		if o.usage.InputTokens > 0 {
			attrs = append(attrs, semconv.GenAIUsageInputTokensKey.Int64(o.usage.InputTokens))
		}
		if o.usage.OutputTokens > 0 {
			attrs = append(attrs, semconv.GenAIUsageOutputTokensKey.Int64(o.usage.OutputTokens))
		}
	}
	if o.finish != chatbot.FinishUnknown {
		attrs = append(attrs, semconv.GenAIResponseFinishReasons(conventionFinishReason(o.finish)))
	}
	if b.content {
		if len(o.sources) > 0 {
			attrs = append(attrs, retrievalDocuments(o.sources))
		}
		attrs = append(attrs, outputMessages(o.text, outputFinishReason(o.complete, o.err, o.finish)))
	}
	return attrs
}

// recordUsage records the token counts of u, when the provider reported
// them, with the call's attributes set.
func (b *bot) recordUsage(ctx context.Context, u *chatbot.Usage, set attribute.Set) {
	if u == nil || u.InputTokens <= 0 && u.OutputTokens <= 0 {
		return
	}
	record := func(h metric.Int64Histogram, n int64, typ genaiconv.TokenTypeAttr) {
		if n <= 0 {
			return
		}
		if !b.ins.tokenType {
			h.Record(ctx, n, metric.WithAttributeSet(set))
			return
		}
		h.Record(ctx, n, metric.WithAttributes(append(set.ToSlice(), attribute.String("gen_ai.token.type", string(typ)))...))
	}
	record(b.ins.inputTokens, u.InputTokens, genaiconv.TokenTypeInput)
	record(b.ins.outputTokens, u.OutputTokens, genaiconv.TokenTypeOutput)
}

// finish sets the error attributes and status on span, and ends it at end.
func (b *bot) finish(span trace.Span, err error, end time.Time) {
	if err != nil {
		typ := errorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		span.SetStatus(codes.Error, typ)
		if b.content {
			span.RecordError(err, trace.WithTimestamp(end))
		}
	}
	span.End(trace.WithTimestamp(end))
}

// record records a call's duration with set (opts when err is nil), plus
// error.type if err is set.
func (b *bot) record(ctx context.Context, seconds float64, set attribute.Set, opts []metric.RecordOption, err error) {
	if err == nil {
		b.ins.duration.Record(ctx, seconds, opts...)
		return
	}
	attrs := append(set.ToSlice(), semconv.ErrorTypeKey.String(errorType(err)))
	b.ins.duration.Record(ctx, seconds, metric.WithAttributes(attrs...))
}

// outputFinishReason is the finish_reason of gen_ai.output.messages: the
// reason the provider reported, in the conventions' words, for a reply that
// did not fail; otherwise "stop" for a complete reply, "error" for one that
// failed, and "incomplete" for a stream left early or cut without error.
func outputFinishReason(complete bool, err error, reported chatbot.FinishReason) string {
	switch {
	case err != nil:
		return "error"
	case reported != chatbot.FinishUnknown:
		return conventionFinishReason(reported)
	case complete:
		return "stop"
	}
	return "incomplete"
}

// conventionFinishReason is fr in the words of the conventions' output
// messages schema ("stop", "length", "content_filter", "tool_call",
// "error"); a reason they have no word for keeps the SDK's ("other").
func conventionFinishReason(fr chatbot.FinishReason) string {
	switch fr {
	case chatbot.FinishComplete:
		return "stop"
	case chatbot.FinishActionRequired:
		return "tool_call"
	}
	return string(fr) // "length", "content_filter", "error" are the same words
}

// Stream returns the wrapped Chatbot's stream for req, traced: the span
// starts when the loop starts and ends when it ends.
func (b *bot) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			// The wrapped stream is created inside the span, once: a second
			// range must not send the message again.
			yield(chatbot.Chunk{}, fmt.Errorf("otelchatbot: %w", chatbot.ErrStreamUsed))
			return
		}
		st := streamState{b: b, req: req, begin: b.now()}
		sctx, span := b.start(ctx, req, b.streamAttrs, st.begin)
		st.ctx, st.span = sctx, span
		defer st.end()
		for c, err := range b.next.Stream(sctx, req) {
			if err != nil {
				st.err = err
				yield(c, err)
				return
			}
			st.chunk(c)
			if !yield(c, nil) {
				return // break: not a failure
			}
		}
		st.exhausted = true
	}
}

// streamState is what a stream's span and metrics need, gathered as the
// chunks go by.
type streamState struct {
	b         *bot
	req       chatbot.Request
	ctx       context.Context
	span      trace.Span
	begin     time.Time
	last      time.Time // when the previous chunk arrived
	first     time.Duration
	chunks    int
	complete  bool
	conv      string
	msgID     string
	usage     *chatbot.Usage       // the last reported
	finish    chatbot.FinishReason // the last reported
	sources   []chatbot.Source     // only with WithMessageContent
	text      strings.Builder      // only with WithMessageContent
	err       error
	exhausted bool // the wrapped stream ended by itself, without error
}

// chunk takes note of c, which has just arrived. It reads the clock only
// for the first chunk, unless time_per_output_chunk is recorded.
func (st *streamState) chunk(c chatbot.Chunk) {
	switch {
	case st.chunks == 0:
		st.last = st.b.now()
		st.first = st.last.Sub(st.begin)
		st.b.ins.firstChunk.Record(st.ctx, st.first.Seconds(), st.b.streamOpts...)
	case st.b.perChunk:
		now := st.b.now()
		st.b.ins.perChunk.Record(st.ctx, now.Sub(st.last).Seconds(), st.b.streamOpts...)
		st.last = now
	}
	st.chunks++
	st.complete = st.complete || c.Done
	if c.ConversationID != "" {
		st.conv = c.ConversationID
	}
	if c.MessageID != "" {
		st.msgID = c.MessageID
	}
	if c.Usage != nil {
		st.usage = c.Usage
	}
	if c.FinishReason != chatbot.FinishUnknown {
		st.finish = c.FinishReason
	}
	if st.b.content {
		if c.Replace {
			st.text.Reset()
		}
		st.text.WriteString(c.Text)
		st.sources = append(st.sources, c.Sources...)
	}
}

// end ends the span and records the stream's duration and chunk count. A
// stream that ended by itself without error and without its final chunk is
// recorded as failed with error.type "incomplete"; one left with break is not
// a failure.
func (st *streamState) end() {
	end := st.b.now()
	b, span := st.b, st.span
	err := st.err
	if err == nil && !st.complete && st.exhausted {
		err = chatbot.ErrIncomplete
	}
	details := b.detailsEnabled(st.ctx)
	var attrs []attribute.KeyValue
	if span.IsRecording() || details {
		attrs = make([]attribute.KeyValue, 0, 10)
		attrs = append(attrs, StreamChunksKey.Int(st.chunks), StreamCompleteKey.Bool(st.complete))
		if st.chunks > 0 {
			attrs = append(attrs, semconv.GenAIResponseTimeToFirstChunk(st.first.Seconds()))
		}
		attrs = b.replyAttrs(attrs, outcome{
			conv: st.conv, msgID: st.msgID, text: st.text.String(), usage: st.usage,
			finish: st.finish, sources: st.sources, complete: st.complete, err: err,
		})
		span.SetAttributes(attrs...)
	}
	b.recordUsage(st.ctx, st.usage, b.streamSet)
	b.finish(span, err, end)
	b.record(st.ctx, end.Sub(st.begin).Seconds(), b.streamSet, b.streamOpts, err)
	b.ins.chunks.Record(st.ctx, int64(st.chunks), b.streamOpts...)
	if details {
		b.emitDetails(st.ctx, st.req, b.streamAttrs, attrs, err, end)
	}
}

// serverOf returns the host and port of the base URL of bot, when bot has a
// BaseURL() string method, as every provider's *Client has, for
// server.address and server.port. A URL without a port has its scheme's
// default one.
func serverOf(bot chatbot.Chatbot) (host string, port int, ok bool) {
	b, isClient := bot.(interface{ BaseURL() string })
	if !isClient {
		return "", 0, false
	}
	u, err := url.Parse(b.BaseURL())
	if err != nil || u.Hostname() == "" {
		return "", 0, false
	}
	switch p := u.Port(); {
	case p != "":
		port, err = strconv.Atoi(p)
		if err != nil {
			return "", 0, false
		}
	case u.Scheme == "https":
		port = 443
	case u.Scheme == "http":
		port = 80
	default:
		return "", 0, false
	}
	return u.Hostname(), port, true
}
