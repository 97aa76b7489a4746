// Package otelchatbot traces and measures chatbot calls with OpenTelemetry,
// following the GenAI semantic conventions: [Middleware] wraps any
// [chatbot.Chatbot] so that each Chat and each Stream is one GenAI client
// span, with the GenAI client metrics.
//
//	traced := chatbot.Wrap(bot, otelchatbot.Middleware())
//
// It lives in a module of its own so that the core module does not depend on
// OpenTelemetry.
//
// # Conventions
//
// By default the conventions are those of semconv v1.41.0, through the Go
// package go.opentelemetry.io/otel/semconv/v1.41.0 and its genaiconv
// metrics. That is the last release that defines the GenAI conventions: from
// v1.42.0 they moved to their own repository
// (open-telemetry/semantic-conventions-genai) and the Go semconv packages no
// longer carry them. As the conventions' transition plan asks of existing
// instrumentations, the middleware keeps emitting v1.41.0 unless the
// environment variable OTEL_SEMCONV_STABILITY_OPT_IN ([OptInEnv]), a
// comma-separated list, holds gen_ai_latest_experimental: it then emits the
// latest experimental generation, semantic-conventions-genai v0.1.0, whose
// metric names differ (see Metrics). [Middleware] reads the variable once,
// when it is called; [WithLatestConventions] overrides it. The GenAI
// conventions are still in development and may change.
//
// A span is named "chat {chatbot id}" ("chat" when the id is unknown), of
// kind client. The conventions name inference spans
// "{gen_ai.operation.name} {gen_ai.request.model}", but these providers host
// configured chatbots and never say which model answers; the chatbot id is
// what the call addresses, and stays low in cardinality. Its attributes:
//
//	gen_ai.operation.name               "chat"
//	gen_ai.provider.name                chatbot.InfoOf(bot).Provider ("workspace", …; "unknown" if empty)
//	gen_ai.agent.id                     chatbot.InfoOf(bot).ChatbotID, when known
//	server.address, server.port         host and port of the wrapped client's BaseURL(), when it has one
//	gen_ai.request.stream               true on Stream spans (unset on Chat spans, as the conventions say)
//	gen_ai.conversation.id              the request's, or the reply's once known
//	gen_ai.response.id                  the reply's MessageID, when the provider gives one
//	gen_ai.response.finish_reasons      the reply's FinishReason, when the provider reported one
//	gen_ai.usage.input_tokens           the reply's Usage.InputTokens, when the provider reported them
//	gen_ai.usage.output_tokens          the reply's Usage.OutputTokens, when the provider reported them
//	gen_ai.response.time_to_first_chunk Stream: seconds from the loop's start to the first chunk
//	chatbot.stream.chunks               Stream: chunks yielded before the loop ended
//	chatbot.stream.complete             Stream: whether the final (Done) chunk arrived
//	error.type                          on failure: see below
//	gen_ai.input.messages               only with WithMessageContent: the message
//	gen_ai.output.messages              only with WithMessageContent: the reply (partial if cut)
//	gen_ai.retrieval.documents          only with WithMessageContent: the reply's Sources (id, score, title, url)
//
// The chatbot id goes in gen_ai.agent.id: a hosted chatbot is a configured
// assistant (instructions, knowledge base, a model the owner chose) that the
// conventions call an agent; gen_ai.request.model would be wrong, as it must
// name the exact model. server.address and server.port tell white-label
// deployments of one platform apart; they come from the BaseURL() string
// method every provider client has, so they are set when the middleware
// wraps a client directly (a wrapping middleware hides it). Finish reasons
// are written in the conventions' words: [chatbot.FinishComplete] is
// "stop", [chatbot.FinishActionRequired] "tool_call", the others keep their
// names ("length", "content_filter", "error", "other"). A reply that waits
// for an action (Chat's error wraps [chatbot.ErrActionRequired]) is an
// answer, not a failure. The content attributes are structured values, as
// the conventions ask of languages whose attributes can hold them.
//
// On failure the span's status is Error and error.type (on the span and the
// duration metric) is the [chatbot.Code] of a *chatbot.Error
// ("RATE_LIMIT_EXCEEDED", …) or one of the ErrorType constants of this
// package ("canceled", "timeout", "idle_timeout", "connection_cut",
// "stream_used", "incomplete", "_OTHER"). Neither carries the error's text,
// which may quote what a user sent; with [WithMessageContent] the text is
// also recorded as an exception event. A stream left with break is not a
// failure: its span ends with chatbot.stream.complete false and status Unset.
//
// # Metrics
//
// With semconv v1.41.0 (the default):
//
//	gen_ai.client.operation.duration            histogram, s: each Chat, each Stream from loop start to loop end
//	gen_ai.client.operation.time_to_first_chunk histogram, s: Stream, loop start to first chunk
//	gen_ai.client.operation.time_per_output_chunk histogram, s: Stream, between consecutive chunks (WithChunkTimes)
//	gen_ai.client.token.usage                   histogram, {token}: per reply that reports token counts, by gen_ai.token.type
//	chatbot.client.stream.chunks                histogram, {chunk}: Stream, chunks per loop
//
// With the latest experimental conventions (gen_ai_latest_experimental),
// the same measurements under the names of semantic-conventions-genai
// v0.1.0, and two token histograms instead of one:
//
//	gen_ai.client.inference.duration              histogram, s
//	gen_ai.client.inference.time_to_first_chunk   histogram, s
//	gen_ai.client.inference.time_per_output_chunk histogram, s (WithChunkTimes)
//	gen_ai.client.inference.usage.input_tokens    histogram, {token}
//	gen_ai.client.inference.usage.output_tokens   histogram, {token}
//	chatbot.client.stream.chunks                  histogram, {chunk}
//
// Token usage is recorded exactly when the provider reports token counts
// ([chatbot.Reply.Usage], see [chatbot.Capabilities].Usage): the
// conventions say not to report the metric when the counts cannot be
// obtained, and a usage of credits or price alone has none. The
// per-chunk histogram is off by default ([WithChunkTimes] turns it on): a
// measurement per chunk is the difference between about 2 % and a quarter
// or more on a loopback stream of tiny deltas.
//
// The time histograms use the conventions' bucket advice (0.01 s doubling to
// 81.92 s), the token histograms theirs (powers of 4 from 1 to 67,108,864).
// Their attributes are gen_ai.operation.name, gen_ai.provider.name,
// gen_ai.agent.id, server.address and server.port when known,
// gen_ai.request.stream on streams and error.type on failures (the
// duration). Chunk times are taken as the stream yields chunks to the loop,
// so they include the time the loop body spends on the previous chunk (a
// range-over-func stream is read only when the loop asks for more).
//
// # Events
//
// With the latest conventions and [WithOperationDetails], each call ends
// with their opt-in event gen_ai.client.inference.operation.details
// ([OperationDetailsEventName]): a log record emitted through the
// OpenTelemetry Logs API ([WithLoggerProvider], the global provider by
// default) with severity DEBUG, in the context of the call's span (so it
// carries its trace and span ids), timestamped when the span ends, and
// carrying the span's attributes listed above: the content ones
// (gen_ai.input.messages, gen_ai.output.messages, gen_ai.retrieval.documents)
// only with [WithMessageContent]; error.type but never an error's text; the
// API key never. The v1.41.0 mode emits no event.
//
// # With otelhttp and the SDK's logger
//
// The span is in the context the wrapped client receives. With an otelhttp
// transport given to the provider client through [chatbot.WithHTTPClient],
// each HTTP attempt is a child span of the chat span and carries its trace
// context to the provider in a traceparent header. The SDK's default
// transport is not exported: wrap your own, or a clone of
// http.DefaultTransport as the default is. It needs no
// ResponseHeaderTimeout: the client's stream idle timeout
// ([chatbot.WithStreamIdleTimeout]) bounds the wait for response headers
// whatever the transport. With a logger over [NewLogHandler] given
// through [chatbot.WithLogger], each attempt, each retry and each refusal
// by the provider the client gives up on is an event on the chat span (see
// [LogHandler]):
//
//	transport := http.DefaultTransport.(*http.Transport).Clone()
//	transport.MaxIdleConnsPerHost = transport.MaxIdleConns // as the SDK's default: concurrent chats reuse connections
//	hc := &http.Client{Transport: otelhttp.NewTransport(transport)}
//	bot, err := workspace.NewClient(key, id,
//		chatbot.WithHTTPClient(hc),
//		chatbot.WithLogger(slog.New(otelchatbot.NewLogHandler(slog.Default().Handler()))))
//	traced := chatbot.Wrap(bot, otelchatbot.Middleware())
//
// Put the middleware innermost (last in [chatbot.Wrap]) to trace each call
// the provider receives, outermost to trace what the application asked
// for, fallbacks and limiter waits included.
package otelchatbot
