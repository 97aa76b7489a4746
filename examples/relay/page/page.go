// Package page is the web side of the relay example: one HTML page that
// streams a reply into itself with fetch, and the relay it talks to. It is
// a package of its own so that the browser test of the interop module can
// serve it.
package page

import (
	_ "embed"
	"log/slog"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
)

//go:embed index.html
var html []byte

// Handler serves the page at GET / and relays bot's replies at POST /chat
// ([relay.Handler] with [relay.DecodeJSON]; the page asks for
// [relay.FormatSSE]), logging failures to logger (nil: none).
func Handler(bot chatbot.Chatbot, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", ServeHTML)
	mux.Handle("POST /chat", relay.Handler(bot, nil, relay.WithLogger(logger)))
	return mux
}

// ServeHTML writes the page.
func ServeHTML(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(html)
}
