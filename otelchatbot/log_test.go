package otelchatbot_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chatbot-go/chatbot/otelchatbot"
)

func TestLogHandler(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	var out strings.Builder
	next := slog.NewTextHandler(&out, &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(otelchatbot.NewLogHandler(next)).With("provider", "workspace").WithGroup("req")

	ctx, span := tp.Tracer("test").Start(t.Context(), "call")
	log.DebugContext(ctx, "chatbot: retrying", "attempt", 1, "wait", 1500*time.Millisecond,
		slog.Group("rate", "limit", uint64(10), "ok", true, "ratio", 0.5))
	log.InfoContext(ctx, "shown", "n", 2)
	span.End()
	log.DebugContext(t.Context(), "no span, below the next handler's level")

	spans := sr.Ended()
	require.Len(t, spans, 1)
	events := spans[0].Events()
	require.Len(t, events, 2, "every level becomes an event while a span records")
	assert.Equal(t, "chatbot: retrying", events[0].Name)
	assert.Equal(t, map[attribute.Key]attribute.Value{
		"provider":       attribute.StringValue("workspace"),
		"req.attempt":    attribute.Int64Value(1),
		"req.wait":       attribute.StringValue("1.5s"),
		"req.rate.limit": attribute.Int64Value(10),
		"req.rate.ok":    attribute.BoolValue(true),
		"req.rate.ratio": attribute.Float64Value(0.5),
	}, attrMap(events[0].Attributes))
	assert.Equal(t, "shown", events[1].Name)

	assert.Equal(t, "level=INFO msg=shown provider=workspace req.n=2\n", out.String(),
		"the next handler keeps its own level")

	h := otelchatbot.NewLogHandler(nil)
	assert.False(t, h.Enabled(t.Context(), slog.LevelError), "no span and no next handler: nothing to do")
	assert.NoError(t, h.Handle(t.Context(), slog.NewRecord(time.Time{}, slog.LevelInfo, "x", 0)))
}
