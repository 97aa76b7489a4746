package chatbot

import "fmt"

// Middleware wraps a Chatbot to add behaviour around its calls: rate
// limiting, a circuit breaker, tracing, fallback. The Chatbot it returns must
// keep the contract of [Chatbot.Stream]: lazy, single-use, the error last,
// no goroutine, and breaking out of the loop closes the connection. It should
// also forward [InfoOf] of the Chatbot it wraps by implementing Info.
type Middleware func(Chatbot) Chatbot

// Wrap returns bot wrapped by mws, the first outermost: Wrap(bot, a, b) sends
// each call through a, then b, then bot. With no middleware it returns bot.
//
// Wrap panics, naming the culprit, when bot is nil, when one of mws is nil,
// or when a middleware returns a nil Chatbot. Wrapping is set up once, when
// a program starts, so a mistake there stops the program at once, as
// [net/http.Handle] does with a nil handler, instead of surfacing later as a
// nil dereference in the middle of a call. Skipping a nil middleware would
// silently drop the limiter or breaker it was meant to be.
func Wrap(bot Chatbot, mws ...Middleware) Chatbot {
	if bot == nil {
		panic("chatbot: Wrap with a nil Chatbot")
	}
	for i, mw := range mws {
		if mw == nil {
			panic(fmt.Sprintf("chatbot: Wrap with a nil Middleware (middleware %d of %d)", i+1, len(mws)))
		}
	}
	for i := len(mws) - 1; i >= 0; i-- {
		if bot = mws[i](bot); bot == nil {
			panic(fmt.Sprintf("chatbot: Wrap: middleware %d of %d returned a nil Chatbot", i+1, len(mws)))
		}
	}
	return bot
}

// Info says which provider and which chatbot a [Chatbot] talks to, for logs,
// metrics, trace attributes and rate-limit keys. It carries no secret.
type Info struct {
	Provider  string // "stammer", "sitegpt", "userdesk", "workspace", "chatbase", "dify", "flowise", "customgpt", …; empty if unknown
	ChatbotID string // the provider's chatbot id (Stammer's chatbot UUID); empty if unknown

	// Capabilities says what the provider can do; the zero value when
	// unknown.
	Capabilities Capabilities
}

// InfoOf returns what bot reports through an Info() Info method, as every
// provider's *Client and every middleware of this module does, or the zero
// Info when bot has no such method.
func InfoOf(bot Chatbot) Info {
	if d, ok := bot.(interface{ Info() Info }); ok {
		return d.Info()
	}
	return Info{}
}
