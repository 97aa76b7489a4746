package otelchatbot

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	"github.com/chatbot-go/chatbot"
)

// OperationDetailsEventName is the name of the event that
// [WithOperationDetails] emits under the latest conventions
// (open-telemetry/semantic-conventions-genai v0.1.0).
const OperationDetailsEventName = "gen_ai.client.inference.operation.details"

// detailsParams is what the middleware asks its logger before building an
// operation details event.
var detailsParams = log.EnabledParameters{Severity: log.SeverityDebug, EventName: OperationDetailsEventName}

// detailsEnabled reports whether a call ending in ctx emits the operation
// details event.
func (b *bot) detailsEnabled(ctx context.Context) bool {
	return b.events != nil && b.events.Enabled(ctx, detailsParams)
}

// emitDetails emits the operation details event of a call for req, in ctx
// (which holds the call's span) at end: the span's attributes (start, the
// request's, end) and error.type when err is set. The conventions ask for
// severity DEBUG.
func (b *bot) emitDetails(ctx context.Context, req chatbot.Request, start, end []attribute.KeyValue, err error, at time.Time) {
	attrs := make([]attribute.KeyValue, 0, len(start)+len(end)+3)
	attrs = append(attrs, start...)
	if req.ConversationID != "" && !hasKey(end, semconv.GenAIConversationIDKey) {
		attrs = append(attrs, semconv.GenAIConversationID(req.ConversationID))
	}
	if b.content {
		attrs = append(attrs, inputMessages(req.Message))
	}
	attrs = append(attrs, end...)
	if err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(err)))
	}
	var r log.Record
	r.SetEventName(OperationDetailsEventName)
	r.SetTimestamp(at)
	r.SetSeverity(log.SeverityDebug)
	r.SetSeverityText("DEBUG")
	r.AddAttributes(attrs...)
	b.events.Emit(ctx, r)
}

// hasKey reports whether attrs hold key.
func hasKey(attrs []attribute.KeyValue, key attribute.Key) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}
