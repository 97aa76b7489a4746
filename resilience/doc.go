// Package resilience keeps a service that calls chatbots standing when a
// provider rate-limits, runs out of credits or goes down. Everything in it
// works over the [chatbot.Chatbot] interface, so it works the same over
// every provider and over the fakes in tests:
//
//   - [Limit] is a [chatbot.Middleware] that asks a [Limiter] (such as the
//     in-process [LocalLimiter]) before each call, and waits or refuses by
//     the SDK's waiting rule;
//   - [Breaker] is a middleware with a circuit breaker that stops calling a
//     provider that is failing;
//   - [Fallback] answers new conversations from the next chatbot when one
//     refused a message without processing it, and keeps each conversation
//     with the chatbot that started it.
//
// A typical stack wraps each chatbot in a breaker and a limiter (the breaker
// outermost, so that an open circuit spends no limiter budget), and puts a
// Fallback over them:
//
//	primary := chatbot.Wrap(workspaceBot, resilience.Breaker(), resilience.Limit(limiter))
//	backup := chatbot.Wrap(stammerBot, resilience.Breaker())
//	bot, err := resilience.NewFallback(
//		resilience.Named{Name: "primary", Bot: primary},
//		resilience.Named{Name: "backup", Bot: backup},
//	)
//
// Every middleware wraps Chat and Stream alike and keeps the stream's
// contract: lazy (nothing is asked or sent before the first iteration),
// single-use, the error last, no goroutine, and a break closes the
// connection. Each forwards the [chatbot.Info] of the chatbot it wraps.
//
// # Decision table
//
// How each outcome of a call counts for [Breaker] (failure, success, or
// neither) and whether [Fallback] may send a new conversation's message to
// the next chatbot after it:
//
//	outcome                                        breaker   fallback  why
//	success                                        success   -
//	a reply waiting for an action                  success   no        answered; Chat returns the reply with
//	  (chatbot.ErrActionRequired)                                      the error, never drops it
//	dial or DNS error (*net.OpError "dial",        failure   yes       unreachable; the message never left
//	  *net.DNSError)
//	open circuit (ErrCircuitOpen)                  -         yes       refused before sending
//	client-side rate limit (CodeClientRateLimited) neither   yes       refused before sending
//	429 from the provider                          neither   yes       up and refusing unprocessed; pacing is the
//	                                                                   limiter's job, and tripping would turn
//	                                                                   throttling into an outage
//	quota exhausted (402, a quota code)            neither   yes       up and refusing unprocessed until credits
//	                                                                   return, which a probe cannot tell
//	503 with Retry-After                           failure   yes       overloaded; refused unprocessed
//	503 without Retry-After                        failure   no        failing; may have processed
//	500, 502, 504, other 5xx, an error event in a  failure   no        failing; may have answered and billed
//	  stream with a server or unknown code
//	connection reset after sending, header         failure   no        failing; may have answered and billed
//	  timeout, other transport errors
//	a 2xx HTML page, a redirect not followed       failure   no        not the provider's API answering (a
//	  (a status below 400, CodeUnknown)                                maintenance or login page, a proxy); the
//	                                                                   message may have been processed
//	a panic in the wrapped chatbot                 failure   no        the panic goes on to the caller
//	idle timeout (chatbot.ErrIdleTimeout)          failure   no        failing; may have answered and billed
//	stream cut mid-reply (io.ErrUnexpectedEOF)     failure   no        failing; the reply had started
//	any error after a stream's first chunk         by kind   no        the reply reached the caller
//	400, 401, 403, 404 from the provider           success   no        the caller's mistake, answered by a
//	                                                                   working provider; others would refuse too
//	invalid request refused by the SDK             neither   no        never sent; the request itself is wrong
//	LimiterError (the limiter could not decide)    neither   no        never sent; the limiter's own policy decides
//	caller's cancellation or deadline              neither   no        the caller's choice
//	consumer's break out of a stream, or a panic   neither   -         the consumer's choice
//	  in its loop body
//
// A continued conversation never moves: it gets its owner's error.
//
// It is a module of its own (github.com/chatbot-go/chatbot/resilience), so
// that its dependencies (github.com/sony/gobreaker/v2, golang.org/x/time)
// stay out of the core module.
package resilience
