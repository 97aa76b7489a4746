// Package relay serves a chatbot's streamed reply to a browser over HTTP:
// in the AI SDK's UI message stream protocol (so that a page using the AI
// SDK's useChat talks to a Go backend unchanged), in this package's own
// Server-Sent Events, or as raw text; with the SDK's errors mapped to HTTP
// statuses. It uses only the standard library.
//
//	http.Handle("POST /chat", relay.Handler(bot, nil))
//
// [Handler] decodes the request ([DecodeJSON] by default), calls
// [chatbot.Chatbot.Stream] under the request's context and relays the reply
// with [Write], the lower-level writer for any iter.Seq2[chatbot.Chunk,
// error]. Package relaytest reads each format back, for tests.
//
// # Formats
//
// [WithFormat] fixes the format; otherwise [Negotiate] picks it from the
// Accept header: text/event-stream gives [FormatSSE], text/plain gives
// [FormatText], anything else (the AI SDK sends none) [FormatAISDK].
//
// [FormatAISDK] (Content-Type text/event-stream, header
// x-vercel-ai-ui-message-stream: v1) writes one "data: {json}" event per part:
//
//	start             first; messageId is the first chunk's MessageID when it has one, and
//	                  messageMetadata {conversationId, messageId} the ids known then
//	message-metadata  {conversationId, messageId} whenever a later chunk changes them
//	text-start        before the first text ("text-0")
//	text-delta        each chunk's Text
//	text-end          after the last text
//	source-url        each Source with a URL: sourceId (its ID, or "source-N"), url, title
//	source-document   each Source without a URL: sourceId, mediaType "text/plain", title;
//	                  either way providerMetadata.chatbot holds {id, title, url, snippet, score}
//	tool-input-available  each Action of a reply that needs one: toolCallId, toolName, input
//	finish            finishReason stop, length, content-filter, tool-calls, error or other
//	                  (FinishComplete … FinishOther; none when unknown) and messageMetadata
//	                  {finishReason (the SDK's name), usage {inputTokens, outputTokens,
//	                  totalTokens, credits, price, currency}}
//	error             errorText: the JSON error body below, as a string; then the stream ends
//	[DONE]            last, after finish or error
//
// The metadata merges, as the AI SDK merges message metadata. A chunk with
// Replace set (Dify's moderation replacing the answer) ends the open text
// part and starts a new one ("text-1", …) with the replacement: the
// protocol cannot take text back, so the reply's text is its last text
// part.
//
// [FormatSSE] (text/event-stream) writes JSON data on one line per event:
//
//	event: meta      {"conversationId", "messageId"}: first, and whenever they change
//	(message)        {"text"}: the next piece of the reply (the default event type)
//	event: replace   {"text"}: the whole reply so far is replaced by text
//	event: source    {"id", "title", "url", "snippet", "score"}: one source
//	event: done      {"finishReason", "usage", "actions": [{"id", "name", "input"}]}: the
//	                 reply is whole; last event
//	event: error     the JSON error body below; last event
//
// An EventSource reconnects when a stream ends: close it on done and error.
//
// [FormatText] (text/plain; charset=utf-8) writes the text as it arrives; a
// Replace chunk is written as a form feed (U+000C) then the replacement:
// the text before the last form feed is void. The outcome is in the HTTP
// trailers: [TrailerFinish] (the finish reason, "complete" when the
// provider gave none) for a whole reply, [TrailerError] (the error code)
// for a failed one. Text has no heartbeat.
//
// # Errors
//
// An error before the first chunk is an HTTP status ([Status]), with
// Retry-After ([RetryAfter]) when there is a wait to tell, and a small JSON
// body ([WriteError]):
//
//	{"code": "RATE_LIMITED", "message": "Too many requests: try again later.", "retryAfter": 12}
//
// The body never carries the provider's body, its message (which could
// quote the key or the request) or the upstream URL: the code and message
// are this package's, except that a request the SDK refused before sending
// it says why in the SDK's words. The mapping, checked in this order:
//
//	error (errors.Is / errors.As)                      status  code              Retry-After
//	nil                                                200     -                 -
//	chatbot.ErrActionRequired (a reply waits)          200     -                 -
//	context.Canceled (the caller went away)            none    -                 -
//	a StatusError (resilience.CircuitOpenError)        its own UNAVAILABLE (503) until the next probe
//	chatbot.ErrInvalidRequest (SDK or provider)        400     INVALID_REQUEST   -
//	chatbot.ErrRateLimited (provider or client-side)   429     RATE_LIMITED      the wait asked for
//	chatbot.ErrQuotaExceeded                           503     QUOTA_EXCEEDED    -
//	chatbot.ErrIdleTimeout, context.DeadlineExceeded   504     TIMEOUT           -
//	chatbot.ErrUnauthorized, ErrForbidden, ErrNotFound 502     UPSTREAM_REFUSED  -
//	chatbot.ErrStreamUsed (a program error)            500     INTERNAL          -
//	anything else (provider 5xx, transport, cut reply) 502     UPSTREAM_ERROR    -
//
// A reply that waits for the caller to run actions is not a failure: in a
// stream it is a whole reply (finish "tool-calls" after a
// tool-input-available part per action in [FormatAISDK], the done event's
// actions in [FormatSSE], [TrailerFinish] action_required in [FormatText]).
// Chat returns such a reply with an error wrapping
// [chatbot.ErrActionRequired], which Status maps to 200 and [WriteError]
// does not write: handle the reply's Actions (run them, or send them on
// with the reply) before treating Chat's error as a failure.
//
// A quota exceeded is 503, not 402: the credits used up are the site's own
// account with the provider, which the visitor cannot pay for; to the
// visitor the chatbot is unavailable, as with an open circuit. The
// provider's 401 and 403 are 502 because the browser did nothing wrong, and
// a 401 would look like the page's own authentication failing; its 404
// (unknown chatbot or conversation) is 502 for the same reason.
//
// An error after the first byte is the format's error part or event, with
// the same code and message, after the text already sent, which stays; then
// the stream ends. A stream that ends without its final chunk is such an
// error ([chatbot.ErrIncomplete], UPSTREAM_ERROR).
//
// # Streaming over real networks
//
// Each chunk is written and flushed at once (http.ResponseController), with
// Cache-Control: no-cache, no-transform, X-Accel-Buffering: no and no
// compression, and, while the chatbot is silent, a heartbeat comment
// (": ping") every [DefaultHeartbeat] ([WithHeartbeat]). The chatbot call
// runs under the request's context, so a browser that goes away cancels
// it at once and its connection to the provider closes. Write keeps no
// backlog: it reads the next chunk only once the last one is written, so a
// slow browser blocks the writes, which stops reading the provider's stream
// (back-pressure), instead of piling up memory.
//
// An open stream holds little besides its connection: no buffer between
// writes (they share a pool) and no timer of its own: the heartbeats of
// all the streams of one [Handler] share one timer, which ticks every half
// interval while there are streams (a stream relayed by [Write] alone has
// its own).
package relay
