// Package chatbot is a client SDK for hosted chatbot APIs. One interface,
// [Chatbot], talks to chatbots built on Stammer.ai and its agency white-labels
// such as Lety (package stammer), SiteGPT (package sitegpt), Userdesk
// (package userdesk), PollyBot-style workspace platforms (package
// workspace), Chatbase (package chatbase), Dify (package dify), Flowise
// (package flowise) and CustomGPT.ai (package customgpt).
//
// # Choosing a provider
//
// Each provider package has a NewClient(apiKey, chatbotID, opts...) (Dify's
// takes no chatbot id: its key names the app; CustomGPT's chatbot id is its
// project id) whose *Client implements [Chatbot] and adds typed methods for
// what the shared interface cannot say (threads, leads, conversations,
// citations). Options such as [WithBaseURL] and [WithMaxRetries] are shared
// by every provider. A client is immutable and safe for concurrent use; make
// one per chatbot and reuse it.
//
//	bot, err := workspace.NewClient(os.Getenv("WORKSPACE_API_KEY"), chatbotID)
//	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
//	next, err := bot.Chat(ctx, chatbot.Request{Message: "And then?", ConversationID: reply.ConversationID})
//
// # Streaming
//
// [Chatbot.Stream] returns an iter.Seq2[Chunk, error] to range over. It is
// lazy (nothing is sent before the loop starts) and single-use (a second
// range yields only [ErrStreamUsed]; the message is never sent twice). Each
// chunk is yielded the moment it arrives. The last chunk of a complete reply
// has Done set; an error, if any, comes once, as the last pair, after all the
// text that arrived. Breaking out of the loop closes the connection.
// [Collect] folds a stream into a [Reply] and, on error, returns the partial
// reply together with the error; it holds at most [DefaultMaxCollectBytes] of
// text ([CollectN] sets another bound) and past it returns an error wrapping
// [ErrReplyTooLarge]. Userdesk streams raw text; workspace, Chatbase, Dify,
// Flowise and CustomGPT stream Server-Sent Events; Stammer and SiteGPT do
// not stream, so their Stream yields the whole reply as one final chunk.
//
// A call or a stream that stays silent for [DefaultStreamIdleTimeout] (no
// headers, or no byte of the body) ends with an error wrapping
// [ErrIdleTimeout] ([WithStreamIdleTimeout] changes it). A connection cut
// mid-reply ends with an error wrapping io.ErrUnexpectedEOF.
//
// # Errors
//
// Every failure a provider reports is an [*Error], whatever the provider:
// errors.As gives its fields (status, normalised [Code], the provider's own
// code and message, [Error.RetryAfter]) and errors.Is matches the sentinels:
//
//	if errors.Is(err, chatbot.ErrRateLimited) { … }
//	var apiErr *chatbot.Error
//	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 { … }
//
// A request the SDK refuses to send (empty message, malformed id, message
// over the provider's limit) is an *Error with [CodeInvalidRequest] and
// StatusCode 0. Transport, context and decoding failures are wrapped with %w,
// so errors.Is(err, context.Canceled) keeps working. The API key never
// appears in an error, even when a provider echoes it back escaped or
// encoded: literally, JSON-escaped ("\/", "\u002f"), URL-encoded (once or
// twice), as HTML character references (numeric, and named such as "&amp;"
// or "&sol;"), base64 (standard or URL alphabet, at any alignment, so
// "Bearer <key>" encoded whole too) or hex. The key is removed before a body
// is cut to the 64 KiB an Error keeps, so no part of it survives the cut. An
// error's text is at most 8 KiB and always one line: control characters in
// what the provider sent are escaped (Error.Message keeps them). A redirect a
// chat message would follow, a 2xx HTML page (a login page or captive
// portal, even one sent without a Content-Type) and a 2xx body in a
// Content-Encoding the SDK does not decode are *Error values with
// [CodeUnknown], never retried. A 2xx answer without its reply field is an
// error too, never an empty reply.
//
// # Retries
//
// A chat message is never sent twice. A POST is retried (at most
// [DefaultMaxRetries] times, see [WithMaxRetries]) only when it provably never
// left (a dial or DNS failure) or when the provider refused it unprocessed: a
// 429, or a 503 with Retry-After. A 500, 502 or 504, or a connection reset
// after the request was sent, is returned at once, because the provider may
// already have processed (and billed) the message. GET requests also retry on
// transport errors and 5xx. A wait the provider asks for is honoured when it
// is at most [WithMaxRetryWait] and ends before the context's deadline;
// otherwise the typed error comes back at once with RetryAfter set, so the
// caller can decide.
package chatbot
