// Package customgpt is the client for CustomGPT.ai (https://customgpt.ai)
// agents, which its API still calls projects, through the REST API at
// https://app.customgpt.ai/api/v1/.
//
// [NewClient] returns a [*Client] for one project; it implements
// [chatbot.Chatbot] and adds [Client.SendMessage] and
// [Client.SendMessageStream], the message call with every documented field
// (persona, model, response source, language, external id, no-cache),
// [Client.CreateConversation], [Client.DeleteConversation], and
// [Client.Citation] and [Client.ResolveSources] for what citations point
// to. Make one per project and reuse it from any number of goroutines.
//
//	bot, err := customgpt.NewClient(apiKey, "1234")
//	reply, err := bot.Chat(ctx, chatbot.Request{Message: "What are your opening hours?"})
//
// The key is an API token of the CustomGPT account, sent as a Bearer token.
// The project id is the number CustomGPT gives the project; NewClient
// refuses anything else.
//
// # Conversations
//
// CustomGPT needs a conversation before the first message. With an empty
// [chatbot.Request.ConversationID], Chat and Stream first create one
// (POST projects/{projectId}/conversations) and send to its session id,
// which the reply carries as its ConversationID: pass it back to continue.
// If the conversation was created and the message then fails, the error is
// a [*ConversationError] naming it (errors.As), so that nothing is left
// behind unknown: send to it again, or delete it. An unknown session id is
// [chatbot.ErrNotFound]; no conversation is created in its place.
// CustomGPT keeps the history on its server: [chatbot.Request.History] is
// not sent, nor are Metadata and User.
//
// # Streaming
//
// Stream asks for a stream with the query parameter stream=1 (the official
// SDK's spelling) and reads CustomGPT's data-only Server-Sent Events: text
// from "progress" events, the end at "finish", a typed error at "error".
// See [Client.SendMessageStream] for what is read from "finish".
//
// # Citations
//
// A reply's [chatbot.Reply.Sources] carry its citation ids (integers, as
// text in [chatbot.Source.ID]) and nothing else: reading what each points
// to is one more request, which Chat never makes on its own.
// [Client.ResolveSources] makes them when asked, once per id: the client
// caches up to [CitationCacheSize] citations.
//
// # Errors
//
// Failures CustomGPT reports, {"status":"error","data":{"code","message"}},
// are [*chatbot.Error] with its message and its code (the HTTP status) as
// ProviderCode: 401 is [chatbot.ErrUnauthorized], 404 (unknown project,
// conversation or citation) [chatbot.ErrNotFound], 400
// [chatbot.ErrInvalidRequest], 5xx [chatbot.ErrServer]. A 429 means the
// account's query credits are exhausted: it is [chatbot.ErrQuotaExceeded]
// and is never retried, unless its message speaks of a rate limit ("too
// many requests", "try again"): then it is [chatbot.ErrRateLimited]. A
// message is never sent twice; invalid input is refused before anything is
// sent.
//
// # Limits
//
// CustomGPT publishes no message limit (the SDK stops at
// [MaxMessageChars]) and sends no X-RateLimit-* headers.
//
// # Assumptions
//
// Nothing here was checked against a live server. Where the reference says
// "unconfirmed", this package assumes: the "finish" event may carry the
// citations, the prompt id and the whole answer, and each is kept when
// present; "[DONE]" also ends a stream; a stream that ends without
// "finish" is cut (io.ErrUnexpectedEOF); ids documented as integers may
// also come as strings; a 200 JSON answer to a streaming request is the
// whole reply. The OpenAI-compatible layer (beta) and webhooks are not
// used.
package customgpt
