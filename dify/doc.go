// Package dify is the client for Dify's Service API (Dify Cloud and
// self-hosted Dify): chat, agent and chatflow apps, streamed replies that
// can be stopped, and the conversation, message, feedback and app
// endpoints.
//
// A Dify API key belongs to one app, so [NewClient] takes only the key. A
// [Client] implements [chatbot.Chatbot]; make one per app and reuse it from
// any number of goroutines:
//
//	bot, err := dify.NewClient(os.Getenv("DIFY_API_KEY")) // or chatbot.WithBaseURL("https://dify.example.com/v1/")
//	if err != nil { … }
//	reply, err := bot.Chat(ctx, chatbot.Request{Message: "What are your opening hours?", User: chatbot.User{ID: "customer-42"}})
//
// # Users and inputs
//
// Dify requires an end-user id ("user") with every call and keeps
// conversations per user. The SDK sends [chatbot.Request] User.ID, or, when
// it is empty, the client's default user: [DefaultUser] ("chatbot-go")
// unless [Client.WithDefaultUser] set another. It never makes one up per
// call, which would scatter a conversation's history.
//
// "inputs" (the app's variables) is always sent as an object: the entries of
// [chatbot.Request] Metadata as strings, overridden by [ChatRequest.Inputs]
// (any JSON value) for [Client.ChatWith] and [Client.StreamWith];
// [Client.Parameters] lists the variables an app declares. A conversation
// id must be a UUID as Dify issues them: anything else is refused before
// sending.
//
// # Streaming
//
// [Client.Stream] reads Dify's events through the SDK's shared Dify
// decoder: text from "message", "agent_message" and "text_chunk";
// "message_replace" replaces the answer ([chatbot.Chunk] Replace, and
// [chatbot.FinishContentFilter]); "message_end" ends the reply with usage
// and sources; agent thoughts, files, TTS audio and workflow, node,
// iteration and loop events are never text. An "error" event after the 200
// ends the stream with a [*chatbot.Error]; a stream that ends early, or
// with pings only, ends with an error wrapping io.ErrUnexpectedEOF.
//
// Keep-alive pings do not reset the stream idle timeout: it measures the
// time spent waiting since the last event that was not a ping (progress
// events such as node_started count), so a stalled run that Dify keeps
// pinging fails with [chatbot.ErrIdleTimeout] (default two minutes).
//
// Closing a connection does not stop a Dify run. When a stream ends early
// (a break, a cancelled context, an idle timeout, a cut connection) the
// client sends POST chat-messages/{task_id}/stop with the same user, in the
// background, bounded by [StopTimeout]; the caller's break does not wait
// for it.
//
// # Blocking replies
//
// [Client.Chat] uses "response_mode": "blocking". Dify Cloud's edge cuts a
// blocking request after 100 seconds, and agent apps are documented as
// streaming-only: use [Client.Stream] for long runs and for agents. A
// blocking run cannot be stopped (its task id arrives with the answer).
//
// # Errors
//
// Dify's errors ({"code", "message", "status"}) are [*chatbot.Error] with
// Dify's code kept in ProviderCode ([ErrorCodeOf], [ErrorCode]):
// unauthorized → [chatbot.ErrUnauthorized]; not_found ("Conversation Not
// Exists.") → [chatbot.ErrNotFound]; provider_quota_exceeded →
// [chatbot.ErrQuotaExceeded]; too_many_requests (the app's cap on
// concurrent requests) and rate_limit_error (the model provider's limit) →
// [chatbot.ErrRateLimited], told apart by their code; invalid_param,
// app_unavailable, not_chat_app and conversation_completed →
// [chatbot.ErrInvalidRequest]; other codes by their HTTP status.
//
// # Assumptions
//
// Where Dify's reference is silent, the SDK assumes: no rate-limit headers
// (the pre-check then never engages); agent apps may refuse blocking mode
// (the SDK does not switch to streaming for them); within a page of
// [Client.Messages] Dify sends the oldest first, and the SDK reverses a page
// that is in that order; [MaxMessageChars] is the SDK's own bound, not
// Dify's. Nothing here was checked against a live server.
//
// # Testing
//
// Package difytest provides a fake Dify app that speaks this wire format,
// for tests that should not reach the network.
package dify
