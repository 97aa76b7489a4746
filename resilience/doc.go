// Package resilience keeps a service that calls chatbots standing when a
// provider rate-limits, runs out of credits or goes down. Everything in it is
// a [chatbot.Middleware] over the [chatbot.Chatbot] interface, so it works the
// same over every provider and over the fakes in tests.
//
// It is a module of its own (github.com/chatbot-go/chatbot/resilience), so
// that its dependencies stay out of the core module.
package resilience
