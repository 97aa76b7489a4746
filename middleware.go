package chatbot

// Middleware wraps a Chatbot to add behaviour around its calls: rate
// limiting, a circuit breaker, tracing, fallback. The Chatbot it returns must
// keep the contract of [Chatbot.Stream]: lazy, single-use, the error last,
// no goroutine, and breaking out of the loop closes the connection. It should
// also forward [InfoOf] of the Chatbot it wraps by implementing Info.
type Middleware func(Chatbot) Chatbot

// Wrap returns bot wrapped by mws, the first outermost: Wrap(bot, a, b) sends
// each call through a, then b, then bot. With no middleware it returns bot.
func Wrap(bot Chatbot, mws ...Middleware) Chatbot {
	for i := len(mws) - 1; i >= 0; i-- {
		bot = mws[i](bot)
	}
	return bot
}

// Info says which provider and which chatbot a [Chatbot] talks to, for logs,
// metrics, trace attributes and rate-limit keys. It carries no secret.
type Info struct {
	Provider  string // "stammer", "sitegpt", "userdesk", "workspace", …; empty if unknown
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
