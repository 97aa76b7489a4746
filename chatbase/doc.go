// Package chatbase is the client for Chatbase agents (https://www.chatbase.co)
// through API v2: chat, streamed chat, client actions, the conversation and
// message lists, and the leads webhook.
//
// A [Client] implements [chatbot.Chatbot]; make one per agent with
// [NewClient] and reuse it from any number of goroutines:
//
//	bot, err := chatbase.NewClient(apiKey, agentID)
//	reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
//	next, err := bot.Chat(ctx, chatbot.Request{Message: "And?", ConversationID: reply.ConversationID})
//
// API v2 needs a workspace API key and the Standard plan or above; other
// plans get [chatbot.ErrQuotaExceeded] (SUBSCRIPTION_* codes).
//
// # Streaming
//
// [Client.Stream] reads the AI SDK UI message stream Chatbase answers with:
// the text comes from text-delta parts only; the conversation id, the
// message id, the credits and the finish reason come only at the end, in the
// finish or message-metadata part, so they are on the final chunk (Done
// set), and [chatbot.Collect] returns them. An error part ends the stream
// with a [*chatbot.Error] after the text received.
//
// # Client actions
//
// An action configured to run on the caller's side stops the reply with
// [chatbot.FinishActionRequired] and the pending calls in
// [chatbot.Reply.Actions]; Chat and Collect return such a reply with an
// error wrapping [chatbot.ErrActionRequired]. Run each action, post its
// output with [Client.SubmitToolResult], then call [Client.Continue] or
// [Client.ContinueStream]. A call that expired is [ErrToolCallExpired].
//
// # Errors
//
// Every failure Chatbase reports is a [*chatbot.Error] whose ProviderCode is
// Chatbase's own [ErrorCode] (see [ErrorCodeOf]) and whose RequestID is the
// x-request-id. A message into a conversation that ended or that a human
// took over matches [ErrConversationNotOngoing] (and [chatbot.ErrNotFound]):
// start a new conversation. Quota codes (credits used up, plan limits) are
// never retried.
//
// # Limits
//
// Chatbase allows 100 requests per 10-second sliding window per key (one
// doc page says 1,000): every response's X-RateLimit-* headers, whose reset
// is a unix time in milliseconds, feed [chatbot.Reply.RateLimit] and the
// client's pre-check, and a 429 carries [chatbot.Error.RetryAfter] from
// Retry-After. A user id ([chatbot.User].ID, sent only when a conversation
// starts) is at most [MaxUserIDChars] letters, digits, '.', '_' and '-';
// messages are at most [MaxMessageChars] characters (the SDK's own bound:
// Chatbase publishes none). Only conversations created through the API are
// listed.
//
// # Assumptions
//
// Nothing here was checked against a live server. Where Chatbase's docs
// disagree or are silent, the SDK is tolerant: the stream's first part may
// be start or message-start, its metadata may be under messageMetadata or
// metadata, in the finish part or a message-metadata part, and an SSE
// event: field beside "type" is accepted; the JSON reply's metadata is read
// from data.metadata or from data itself; pagination is read from
// "pagination" or the top level; timestamps are unix milliseconds, seconds
// or RFC 3339 text. The status of most error codes is not documented, so
// codes are mapped by name, not by status. The webhook signature is assumed
// to be the hex HMAC-SHA1 of the raw body (see [VerifyWebhook]).
//
// # Testing
//
// Package chatbasetest provides a fake Chatbase server that speaks this
// wire format, for tests that should not reach the network.
//
// API reference: https://www.chatbase.co/docs/api-v2/overview
package chatbase
