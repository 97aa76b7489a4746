package otelchatbot

import (
	"context"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// LogHandler is a [slog.Handler] that turns log records into span events:
// each record logged with a context that carries a recording span becomes an
// event on that span, named by the record's message, with the record's
// attributes (groups flattened to "group.key"). It then passes the record to
// the next handler, if that handler is enabled for the record's level.
//
// Its purpose is to show a call's retries and rate-limit waits on the call's
// span. The SDK logs them with the call's context, so give the provider
// client a logger over a LogHandler with [chatbot.WithLogger] and wrap the
// client with [Middleware]:
//
//	bot, err := workspace.NewClient(key, id,
//		chatbot.WithLogger(slog.New(otelchatbot.NewLogHandler(slog.Default().Handler()))))
//	traced := chatbot.Wrap(bot, otelchatbot.Middleware())
//
// The SDK's lines then appear as events on the chat span, each with the
// call's provider, method and path and the attempt number: every HTTP
// attempt ("chatbot: http attempt", logged at Debug, with its status or
// error and its duration), every retry ("chatbot: retrying", at Info, with
// the status and the wait) and every 429 or 503 the client gives up on
// ("chatbot: refused by the provider", at Warn, with the status and the
// retry_after the provider asked for). They become events whatever level the
// SDK logs them at, while the next handler keeps its own level. The SDK never logs keys, Authorization
// headers, query strings or bodies, so neither do the events.
//
// A LogHandler is safe for concurrent use when the next handler is.
type LogHandler struct {
	next   slog.Handler // nil: events only
	attrs  []attribute.KeyValue
	prefix string // the open groups, "a.b." or ""
}

// NewLogHandler returns a LogHandler that passes records on to next. A nil
// next makes span events only.
func NewLogHandler(next slog.Handler) *LogHandler {
	return &LogHandler{next: next}
}

// Enabled reports whether a record at level would be used: always when ctx
// carries a recording span, otherwise when the next handler is enabled.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if trace.SpanFromContext(ctx).IsRecording() {
		return true
	}
	return h.next != nil && h.next.Enabled(ctx, level)
}

// Handle adds r as an event on the span in ctx, if it is recording, and
// passes r to the next handler if that handler is enabled for it.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		attrs := slices.Clip(h.attrs)
		r.Attrs(func(a slog.Attr) bool {
			attrs = appendAttr(attrs, h.prefix, a)
			return true
		})
		opts := []trace.EventOption{trace.WithAttributes(attrs...)}
		if !r.Time.IsZero() {
			opts = append(opts, trace.WithTimestamp(r.Time))
		}
		span.AddEvent(r.Message, opts...)
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs returns a LogHandler whose events and next handler carry attrs.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = slices.Clip(h.attrs)
	for _, a := range attrs {
		h2.attrs = appendAttr(h2.attrs, h.prefix, a)
	}
	if h.next != nil {
		h2.next = h.next.WithAttrs(attrs)
	}
	return &h2
}

// WithGroup returns a LogHandler that qualifies later attributes with name.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	if h.next != nil {
		h2.next = h.next.WithGroup(name)
	}
	return &h2
}

// appendAttr appends a as span attributes, flattening groups.
func appendAttr(dst []attribute.KeyValue, prefix string, a slog.Attr) []attribute.KeyValue {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return dst
	}
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p = key + "."
		}
		for _, g := range v.Group() {
			dst = appendAttr(dst, p, g)
		}
		return dst
	case slog.KindBool:
		return append(dst, attribute.Bool(key, v.Bool()))
	case slog.KindInt64:
		return append(dst, attribute.Int64(key, v.Int64()))
	case slog.KindUint64:
		return append(dst, attribute.Int64(key, int64(v.Uint64())))
	case slog.KindFloat64:
		return append(dst, attribute.Float64(key, v.Float64()))
	}
	// Strings, durations (as "1.5s"), times and anything else as text.
	return append(dst, attribute.String(key, v.String()))
}
