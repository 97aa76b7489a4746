// Package stammer is the client for chatbots built on Stammer.ai and on its
// agency white-labels, such as Lety. Its [Client] implements
// [chatbot.Chatbot] and adds typed methods for the rest of the API: the raw
// message call ([Client.Message]), the credentials check ([Client.Me]),
// conversations and knowledge-base Q&A.
//
// # White-labels
//
// A white-label agency serves the same API from its own domain, under a
// locale segment: Lety documents https://YOUR_AGENCY_DOMAIN/en/, and other
// agencies use another locale such as /pt/. Point the client at it with
// [chatbot.WithBaseURL], locale included:
//
//	bot, err := stammer.NewClient(token, chatbotUUID, chatbot.WithBaseURL("https://chat.example-agency.com/en/"))
//
// # Conversations
//
// Stammer keys a conversation on the user_key the caller sends. [Client.Chat]
// uses [chatbot.Request.ConversationID] as the user_key when it is set, else
// [chatbot.User.ID], else a fresh random key, and returns the key it used as
// [chatbot.Reply.ConversationID], so passing it back continues the
// conversation as with every other provider.
//
// # Streaming
//
// Stammer does not stream: [Client.Stream] sends the message when the loop
// starts and yields the whole reply as one final chunk.
//
// The API reference is at
// https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api/ai-agent-api/message-ai-agent
package stammer
