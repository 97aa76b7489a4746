// Package sitegpt is the client for chatbots hosted on SiteGPT
// (https://sitegpt.ai), through its REST API v0.
//
// [NewClient] returns a [*Client] that implements [chatbot.Chatbot] and adds
// SiteGPT's own vocabulary: [Client.SendMessage] returns the whole typed
// [Message] (sources, prompts, agent fields), and [Client.Threads],
// [Client.Thread], [Client.CreateThread] and [Client.UpdateThread] manage
// conversations, which SiteGPT calls threads.
//
// SiteGPT's REST API does not stream: [Client.Stream] sends the message,
// waits for the whole answer and yields it as one final chunk.
//
// Every failure SiteGPT reports is a [*chatbot.Error]; its ProviderCode holds
// SiteGPT's own [ErrorCode] (see [ErrorCodeOf] and the Code constants).
//
// Package sitegpttest provides a fake SiteGPT server for tests.
//
// API reference: https://sitegpt.ai/docs/api-reference/chatbot-messages/send-message
package sitegpt
