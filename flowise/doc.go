// Package flowise is the client for Flowise (https://flowiseai.com)
// chatflows and agentflows, self-hosted or on Flowise Cloud, through the
// prediction API.
//
// [NewClient] returns a [*Client] for one flow; it implements
// [chatbot.Chatbot] and adds [Client.Predict] and [Client.PredictStream],
// the prediction call with every Flowise field, and [Client.IsStreaming].
// Make one per flow and reuse it from any number of goroutines.
//
//	bot, err := flowise.NewClient(apiKey, chatflowID, chatbot.WithBaseURL("https://flowise.example.com"))
//	reply, err := bot.Chat(ctx, chatbot.Request{Message: "What are your opening hours?"})
//
// The base URL is required: it is the Flowise server's address, as the
// flow's "API Endpoint" dialog shows it. The key may be empty for a public
// flow (one without an API key assigned): no Authorization header is sent.
//
// # Conversations and memory
//
// A conversation is a Flowise chat, named by its chatId: [Client.Chat] sends
// [chatbot.Request.ConversationID] as "chatId" and returns the chat id in
// [chatbot.Reply.ConversationID]. The caller may make up the id (Flowise
// takes any string), and an id the server has not seen starts a new chat
// under it: there is no "unknown conversation" error. A flow with a memory
// node keys its memory by "overrideConfig.sessionId", which falls back to
// the chat id; [PredictionRequest.SessionID] sets it, with [Client.Predict]
// or [Client.PredictStream]. A flow without memory
// takes the conversation so far in [chatbot.Request.History].
//
// # Streaming
//
// [Client.Stream] asks for "streaming": true and reads the events Flowise's
// SSEStreamer writes, one "message:" line and one "data:" line holding
// {"event", "data"} each: text comes only from "token" events; "metadata"
// carries the chat and message ids, "sourceDocuments" the sources, and
// "end" ends the reply. A flow that cannot stream answers with the whole
// reply as JSON, which Stream yields as one final chunk. A stream that ends
// without any token (Flowise Cloud has been reported to send only
// "metadata" and "end", or an empty body, where the same request without
// streaming works) is an error wrapping io.ErrUnexpectedEOF, never an empty
// reply; so is a stream cut before "end".
//
// # Errors
//
// Every failure Flowise reports is a [*chatbot.Error]: 401 and 403 (a
// missing or wrong key, a domain the flow does not allow), 402 (Flowise
// Cloud's prediction and storage quotas), 404 (no such flow), 412 (a
// request without a body), 429 (the flow's rate limit, whose plain-text
// message is kept as the error's Message) and 500. Flowise checks a flow's
// key and its quotas only after a stream has started: those refusals then
// come as "error" events, which Stream reports as [chatbot.ErrUnauthorized]
// and [chatbot.ErrQuotaExceeded] too.
//
// # Limits and assumptions
//
// Flowise publishes no message limit; the SDK refuses a question longer than
// [MaxMessageChars]. Rate limits are optional and per flow, counted per
// client IP. Flowise's limiter (express-rate-limit 6 with standard headers)
// sends the IETF draft-6 RateLimit-* headers, not X-RateLimit-*, so
// [chatbot.Reply.RateLimit] stays nil and the client's rate-limit pre-check
// never engages; its 429 carries a Retry-After (the seconds until the window
// resets), honoured as for every provider: a refused call is sent again
// after the wait when the wait fits [chatbot.WithMaxRetryWait], and a 429
// without one gets no invented RetryAfter. What the reference leaves
// unconfirmed was assumed as follows:
// the event kinds agentflows add (agentFlowEvent, nextAgentFlow, action,
// usageMetadata, artifacts, …) never carry text and are skipped; the usage
// an agentflow may report is not read; and Flowise does not answer a
// streaming request that fails before its stream starts (an unknown flow),
// so such a stream ends with the stream idle timeout
// ([chatbot.WithStreamIdleTimeout]), while [Client.Chat] gets the 404.
//
// Package flowisetest provides a fake Flowise server for tests.
//
// API reference: https://docs.flowiseai.com/api-reference/prediction
package flowise
