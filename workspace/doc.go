// Package workspace is the client for PollyBot-style "workspace key" chatbot
// platforms (pollybot.app and its white-label and self-hosted domains): chat,
// streamed chat, and the leads endpoints.
//
// A [Client] implements [chatbot.Chatbot]; make one per chatbot with
// [NewClient] and reuse it from any number of goroutines.
//
// # Streaming
//
// The provider does not publish its stream format. [Client.Stream] therefore
// reads the response by its Content-Type, in the formats the JavaScript
// streaming libraries write: the AI SDK UI message stream, data stream
// protocol and text stream, Flowise, LangChain.js, OpenAI-style, Dify and
// Anthropic events. A truncated reply and a reply with no text are errors,
// never an empty success; see [Client.Stream] for the exact rules.
//
// # Testing
//
// Package workspacetest provides a fake server that speaks this wire format,
// for tests that should not reach the network.
package workspace
