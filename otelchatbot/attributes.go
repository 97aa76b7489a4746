package otelchatbot

import (
	"context"
	"errors"
	"io"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	"github.com/chatbot-go/chatbot"
)

// Attributes of this module's own, outside the GenAI conventions, which
// define nothing for them (semconv v1.41.0). They use the "chatbot."
// namespace, as the conventions ask of custom attributes.
const (
	// StreamChunksKey is the number of chunks a stream yielded before its
	// loop ended (int).
	StreamChunksKey = attribute.Key("chatbot.stream.chunks")
	// StreamCompleteKey says whether a stream delivered its final chunk (the
	// one with Done set) before its loop ended (bool).
	StreamCompleteKey = attribute.Key("chatbot.stream.complete")
)

// ChunksMetricName is the histogram of the number of chunks per stream
// (unit "{chunk}"), a metric of this module's own: the GenAI conventions
// count tokens, which most of these providers do not report.
const ChunksMetricName = "chatbot.client.stream.chunks"

// The error.type values this module records besides the [chatbot.Code] of a
// *chatbot.Error ("UNAUTHORIZED", "RATE_LIMIT_EXCEEDED", …, "UNKNOWN").
// The conventions ask instrumentations to document the errors they report;
// error.type never carries an error's text.
const (
	ErrorTypeCanceled    = "canceled"       // context.Canceled
	ErrorTypeTimeout     = "timeout"        // context.DeadlineExceeded
	ErrorTypeIdleTimeout = "idle_timeout"   // chatbot.ErrIdleTimeout: the stream stayed silent too long
	ErrorTypeCut         = "connection_cut" // io.ErrUnexpectedEOF: the connection ended mid-reply
	ErrorTypeStreamUsed  = "stream_used"    // chatbot.ErrStreamUsed: a stream ranged over twice
	ErrorTypeIncomplete  = "incomplete"     // a stream that ended without error but without its final chunk
	ErrorTypeOther       = "_OTHER"         // anything else: the conventions' fallback value
)

// errorType classifies err for error.type, from its type and sentinels only.
func errorType(err error) string {
	var apiErr *chatbot.Error
	switch {
	case errors.As(err, &apiErr):
		if apiErr.Code == "" {
			return string(chatbot.CodeUnknown)
		}
		return string(apiErr.Code)
	case errors.Is(err, chatbot.ErrIdleTimeout):
		return ErrorTypeIdleTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return ErrorTypeCanceled
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrorTypeCut
	case errors.Is(err, chatbot.ErrStreamUsed):
		return ErrorTypeStreamUsed
	case errors.Is(err, chatbot.ErrIncomplete):
		return ErrorTypeIncomplete
	}
	return ErrorTypeOther
}

// inputMessages is gen_ai.input.messages for one user message, in the
// structured form of the conventions' input messages JSON schema:
// [{"role":"user","parts":[{"type":"text","content":…}]}].
func inputMessages(text string) attribute.KeyValue {
	return semconv.GenAIInputMessagesKey.Slice(attribute.MapValue(
		attribute.String("role", "user"),
		attribute.Slice("parts", attribute.MapValue(
			attribute.String("type", "text"),
			attribute.String("content", text),
		)),
	))
}

// outputMessages is gen_ai.output.messages for one reply, in the structured
// form of the conventions' output messages JSON schema.
func outputMessages(text, finishReason string) attribute.KeyValue {
	return semconv.GenAIOutputMessagesKey.Slice(attribute.MapValue(
		attribute.String("role", "assistant"),
		attribute.Slice("parts", attribute.MapValue(
			attribute.String("type", "text"),
			attribute.String("content", text),
		)),
		attribute.String("finish_reason", finishReason),
	))
}

// retrievalDocuments is gen_ai.retrieval.documents for the sources of a
// reply, in the structured form of the conventions' retrieval documents
// schema: each with its "id" and "score", and its "title" and "url" when
// the provider sent them.
func retrievalDocuments(sources []chatbot.Source) attribute.KeyValue {
	docs := make([]attribute.Value, len(sources))
	for i, s := range sources {
		kvs := []attribute.KeyValue{attribute.String("id", s.ID), attribute.Float64("score", s.Score)}
		if s.Title != "" {
			kvs = append(kvs, attribute.String("title", s.Title))
		}
		if s.URL != "" {
			kvs = append(kvs, attribute.String("url", s.URL))
		}
		docs[i] = attribute.MapValue(kvs...)
	}
	return semconv.GenAIRetrievalDocumentsKey.Slice(docs...)
}
