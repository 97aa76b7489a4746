// Package rest is the HTTP plumbing every provider package shares: request
// building and auth, retries that never resend a processed chat message,
// error decoding into *chatbot.Error, rate-limit headers, and the streaming
// scaffolding (idle timeout, single-use sequences, chunk assembly).
//
// A provider package holds only its wire types and their mapping, and hands
// its knowledge of its own errors to [New] in a [Config]; anything that
// touches HTTP goes through a [Client]. Every wait and timeout reads the
// time through the client's clock (config.WithClock in tests).
//
// A call reads top to bottom: [Client.Do] or [Guard.Open] → send builds the
// request → attempts.run hands it to go-retryablehttp, whose hooks are
// attempts' methods: started arms the idle timer, check reads a failed
// answer once and asks retryPolicy.decide, sleep waits on the clock →
// send returns the 2xx response or the last answer's *chatbot.Error.
package rest
