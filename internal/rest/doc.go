// Package rest is the HTTP plumbing every provider package shares: request
// building and auth, retries that never resend a processed chat message,
// error decoding into *chatbot.Error, rate-limit headers, and the streaming
// scaffolding (idle timeout, single-use sequences, chunk assembly).
//
// A provider package holds only its wire types and their mapping; anything
// that touches HTTP goes through a [Client].
package rest
