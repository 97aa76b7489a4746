package relay

import "github.com/chatbot-go/chatbot/internal/config"

// WithClock sets the clock of the heartbeat, for tests.
func WithClock(c config.Clock) Option {
	return func(o *options) { o.clock = c }
}
