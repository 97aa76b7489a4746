// Package workspace is the client for PollyBot-style "workspace key" chatbot
// platforms (pollybot.app and its white-label and self-hosted domains): chat,
// streamed chat over Server-Sent Events, and the leads endpoints.
//
// A [Client] implements [chatbot.Chatbot]; make one per chatbot with
// [NewClient] and reuse it from any number of goroutines.
//
// # Streaming
//
// The provider does not publish its event format. [Client.Stream] therefore
// reads the event shapes that comparable chatbot builders send (AI SDK and
// Chatbase, Dify, Flowise, OpenAI-style, and "type/token … done") with one
// tolerant decoder; see [Client.Stream] for the exact rules.
//
// # Testing
//
// Package workspacetest provides a fake server that speaks this wire format,
// for tests that should not reach the network.
package workspace
