package otelchatbot

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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
// v1.41.0 (see the package documentation for the attributes).
//
// A Chat span covers the call. A Stream span starts when the loop starts
// (the stream stays lazy) and ends when the loop ends: complete, failed or
// left with break. The stream keeps the contract of [chatbot.Chatbot.Stream]:
// single-use, error last, break closes the connection, no goroutine. The
// Chatbot returned forwards [chatbot.InfoOf] of the one it wraps.
//
// The span is in the context passed to the wrapped Chatbot, so an otelhttp
// transport set with [chatbot.WithHTTPClient] makes the HTTP spans its
// children and sends its trace context to the provider, and a logger set
// with [chatbot.WithLogger] over [NewLogHandler] turns the SDK's attempt,
// retry and refusal lines into events on it.
//
// Message and reply text are recorded only with [WithMessageContent]; the
// API key never is. Instruments that cannot be created are reported to
// otel.Handle and replaced by no-ops. The returned Chatbots are safe for
// concurrent use when the wrapped ones are.
func Middleware(opts ...Option) chatbot.Middleware {
	cfg := newConfig(opts)
	tracer := cfg.tp.Tracer(ScopeName,
		trace.WithInstrumentationVersion(chatbot.Version), trace.WithSchemaURL(semconv.SchemaURL))
	meter := cfg.mp.Meter(ScopeName,
		metric.WithInstrumentationVersion(chatbot.Version), metric.WithSchemaURL(semconv.SchemaURL))
	ins := newInstruments(meter)
	return func(next chatbot.Chatbot) chatbot.Chatbot {
		return newBot(next, cfg, tracer, ins)
	}
}

// instruments are the histograms a Middleware records to.
type instruments struct {
	duration, firstChunk, perChunk metric.Float64Histogram
	chunks                         metric.Int64Histogram
}

func newInstruments(m metric.Meter) instruments {
	buckets := metric.WithExplicitBucketBoundaries(durationBuckets...)
	duration, err := genaiconv.NewClientOperationDuration(m, buckets)
	handle(err)
	firstChunk, err := genaiconv.NewClientOperationTimeToFirstChunk(m, buckets)
	handle(err)
	perChunk, err := genaiconv.NewClientOperationTimePerOutputChunk(m, buckets)
	handle(err)
	chunks, err := m.Int64Histogram(ChunksMetricName,
		metric.WithDescription("Chunks a streamed reply yielded before the consumer's loop ended."),
		metric.WithUnit("{chunk}"), metric.WithExplicitBucketBoundaries(chunkBuckets...))
	handle(err)
	return instruments{
		duration: duration.Inst(), firstChunk: firstChunk.Inst(), perChunk: perChunk.Inst(), chunks: chunks,
	}
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

func newBot(next chatbot.Chatbot, cfg config, tracer trace.Tracer, ins instruments) *bot {
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
	b := &bot{
		next: next, info: info, tracer: tracer, ins: ins, content: cfg.content, perChunk: cfg.chunkTimes, now: cfg.now,
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

	if span.IsRecording() && reply != nil {
		attrs := make([]attribute.KeyValue, 0, 3)
		if reply.ConversationID != "" {
			attrs = append(attrs, semconv.GenAIConversationID(reply.ConversationID))
		}
		if reply.MessageID != "" {
			attrs = append(attrs, semconv.GenAIResponseID(reply.MessageID))
		}
		if b.content {
			attrs = append(attrs, outputMessages(reply.Text, finishReason(err == nil, err)))
		}
		span.SetAttributes(attrs...)
	}
	b.finish(span, err, end)
	b.record(ctx, end.Sub(begin).Seconds(), b.chatSet, b.chatOpts, err)
	return reply, err
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

// finishReason is the finish_reason of gen_ai.output.messages: "stop" for a
// complete reply, "error" for one that failed, and "incomplete" for a stream
// left early or cut without error.
func finishReason(complete bool, err error) string {
	switch {
	case err != nil:
		return "error"
	case complete:
		return "stop"
	}
	return "incomplete"
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
		st := streamState{b: b, begin: b.now()}
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
	ctx       context.Context
	span      trace.Span
	begin     time.Time
	last      time.Time // when the previous chunk arrived
	first     time.Duration
	chunks    int
	complete  bool
	conv      string
	msgID     string
	text      strings.Builder // only with WithMessageContent
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
	if st.b.content {
		st.text.WriteString(c.Text)
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
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 6)
		attrs = append(attrs, StreamChunksKey.Int(st.chunks), StreamCompleteKey.Bool(st.complete))
		if st.chunks > 0 {
			attrs = append(attrs, semconv.GenAIResponseTimeToFirstChunk(st.first.Seconds()))
		}
		if st.conv != "" {
			attrs = append(attrs, semconv.GenAIConversationID(st.conv))
		}
		if st.msgID != "" {
			attrs = append(attrs, semconv.GenAIResponseID(st.msgID))
		}
		if b.content {
			attrs = append(attrs, outputMessages(st.text.String(), finishReason(st.complete, err)))
		}
		span.SetAttributes(attrs...)
	}
	b.finish(span, err, end)
	b.record(st.ctx, end.Sub(st.begin).Seconds(), b.streamSet, b.streamOpts, err)
	b.ins.chunks.Record(st.ctx, int64(st.chunks), b.streamOpts...)
}
