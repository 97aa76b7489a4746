// Package userdesk is the client for chatbots hosted on Userdesk
// (https://userdesk.io).
//
// A [Client] sends messages to one chatbot with the API key made for that
// chatbot. It implements [chatbot.Chatbot]: [Client.Chat] waits for the whole
// reply, and [Client.Stream] yields the reply as Userdesk writes it (raw text
// deltas over chunked transfer encoding). [Client.CreateConversation] starts
// a conversation explicitly, with the user's name and email.
//
// Userdesk's streamed body does not carry the conversation id, so when a
// streamed [chatbot.Request] has no ConversationID, [Client.Stream] first
// creates the conversation and streams into it: every chunk, and the reply
// [chatbot.Collect] folds them into, carries the id to pass back in the next
// request.
//
// Errors reported by Userdesk are [*chatbot.Error] values, mapped from the HTTP
// status (Userdesk does not document its error bodies): 400 is
// [chatbot.ErrInvalidRequest], 401 [chatbot.ErrUnauthorized], 403
// [chatbot.ErrForbidden], 404 [chatbot.ErrNotFound], 429
// [chatbot.ErrRateLimited] and 5xx [chatbot.ErrServer]. A message or error
// text in a JSON body is kept in [chatbot.Error.Message].
//
// Package userdesktest provides a fake Userdesk server for tests.
//
// API reference: https://docs.userdesk.io/api/send-a-message
package userdesk
