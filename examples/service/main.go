// Service is a backend HTTP service that embeds chatbot calls. POST /chat
// takes {"message": "…", "conversationId": "…"} and relays the provider's
// reply to the caller with package relay, in its plain Server-Sent Events
// format (relay.FormatSSE: "meta", one default event {"text": "…"} per
// chunk, then "done", or "error" with {"code": "…", "message": "…"}); a
// failure before the first byte is an HTTP status with that JSON body
// (relay.Status). It logs what it relayed. GET / serves the relay
// example's page, which chats with it (vanilla JS: fetch, then the
// response's ReadableStream parsed as SSE). When the caller goes away
// mid-reply, the provider stream is cancelled with it.
//
//	go run ./examples/service -addr 127.0.0.1:8080 -provider workspace
//
// then open http://127.0.0.1:8080/. Without the provider's credentials in the
// environment (see the quickstart for the variables) it relays the built-in
// fake; -pace sets the delay between the fake's streamed pieces.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/examples/relay/page"
	"github.com/chatbot-go/chatbot/relay"
)

func main() {
	ctx, stop := cli.Context()
	err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "service", err))
}

// run serves until ctx is done, then shuts the server down.
func run(ctx context.Context, args []string, stdout io.Writer, env bots.LookupEnv) error {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	provider := fs.String("provider", "workspace", "the provider: "+strings.Join(bots.Names(), ", "))
	pace := fs.Duration("pace", bots.DefaultPace, "delay between the pieces of the built-in fake's streamed replies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bot, cleanup, err := bots.Open(*provider, bots.Config{Env: env, Pace: *pace})
	if err != nil {
		return err
	}
	defer cleanup()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := log.New(stdout, "", log.Ltime)
	fmt.Fprintf(stdout, "relaying %s\nlistening on http://%s/\n", bot.Describe(), ln.Addr())
	return cli.Serve(ctx, ln, newHandler(bot, logger))
}

func newHandler(bot chatbot.Chatbot, logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page.ServeHTML)
	mux.HandleFunc("POST /chat", func(w http.ResponseWriter, r *http.Request) {
		serveChat(w, r, bot, logger)
	})
	return mux
}

// serveChat relays the reply to one message with package relay, counting
// what it relays for the log. The provider call runs under the request's
// context, so it is cancelled when the caller disconnects.
func serveChat(w http.ResponseWriter, r *http.Request, bot chatbot.Chatbot, logger *log.Logger) {
	req, err := relay.DecodeJSON(r)
	if err != nil {
		relay.WriteError(w, err)
		return
	}
	start := time.Now()
	chunks, chars := 0, 0
	conversationID := req.ConversationID
	counted := func(yield func(chatbot.Chunk, error) bool) {
		for chunk, err := range bot.Stream(r.Context(), req) {
			if err == nil {
				chunks++
				chars += utf8.RuneCountInString(chunk.Text)
				conversationID = cmp.Or(chunk.ConversationID, conversationID)
			}
			if !yield(chunk, err) {
				return
			}
		}
	}
	// The stream's own error decides first: once the error event is written,
	// the browser may close before this line runs, and that is no cancellation.
	switch err := relay.Write(w, r, counted, relay.WithFormat(relay.FormatSSE)); {
	case err != nil && !errors.Is(err, relay.ErrWrite) && !errors.Is(err, context.Canceled):
		logger.Printf("chat: failed after %d chunks (status %d if before the first): %v", chunks, relay.Status(err), err)
	case r.Context().Err() != nil || errors.Is(err, relay.ErrWrite):
		logger.Printf("chat: caller went away after %d chunks; provider stream cancelled", chunks)
	case err != nil:
		logger.Printf("chat: failed after %d chunks (status %d if before the first): %v", chunks, relay.Status(err), err)
	default:
		logger.Printf("chat: relayed %d chunks, %d characters in %s (conversation %s)", chunks, chars, time.Since(start).Round(time.Millisecond), conversationID)
	}
}
