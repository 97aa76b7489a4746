// Service is a backend HTTP service that embeds chatbot calls. POST /chat
// takes {"message": "…", "conversationId": "…"} and relays the provider's
// reply to the caller as Server-Sent Events, one event per chunk:
//
//	data: {"text":"…","conversationId":"…","done":false}
//
// and, on failure, one "event: error" with {"error":"…","code":"…"}. GET /
// serves a minimal HTML page that chats with it (vanilla JS: fetch, then the
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
	"context"
	_ "embed"
	"encoding/json"
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
)

//go:embed index.html
var page []byte

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
	srv := &http.Server{Handler: newHandler(bot, logger), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "relaying %s\nlistening on http://%s/\n", bot.Describe(), ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Shutdown waits for open streams; they end when their callers go away
	// or the provider finishes, but give up after a few seconds.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// chatRequest is the body of POST /chat.
type chatRequest struct {
	Message        string `json:"message"`
	ConversationID string `json:"conversationId"`
}

// chunkEvent is the data of each relayed chunk.
type chunkEvent struct {
	Text           string `json:"text"`
	ConversationID string `json:"conversationId"`
	Done           bool   `json:"done"`
}

// errorEvent is the data of the "error" event.
type errorEvent struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"` // the normalised chatbot.Code, when the provider reported the failure
}

func newHandler(bot chatbot.Chatbot, logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("POST /chat", func(w http.ResponseWriter, r *http.Request) {
		relay(w, r, bot, logger)
	})
	return mux
}

// relay streams the reply to one message as Server-Sent Events. The provider
// call runs under the request's context, so it is cancelled when the caller
// disconnects.
func relay(w http.ResponseWriter, r *http.Request, bot chatbot.Chatbot, logger *log.Logger) {
	var req chatRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || strings.TrimSpace(req.Message) == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(errorEvent{Error: `send {"message": "…", "conversationId": "…"} with a non-empty message`})
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell reverse proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	start := time.Now()
	chunks, chars := 0, 0
	conversationID := req.ConversationID
	for chunk, err := range bot.Stream(r.Context(), chatbot.Request{Message: req.Message, ConversationID: req.ConversationID}) {
		if err != nil {
			if r.Context().Err() != nil {
				logger.Printf("chat: caller went away after %d chunks; provider stream cancelled", chunks)
				return
			}
			logger.Printf("chat: failed after %d chunks: %v", chunks, err)
			ev := errorEvent{Error: "the chatbot did not answer"}
			var apiErr *chatbot.Error
			if errors.As(err, &apiErr) {
				ev = errorEvent{Error: apiErr.Error(), Code: string(apiErr.Code)}
			}
			_ = writeEvent(rc, w, "error", ev)
			return
		}
		if chunk.ConversationID != "" {
			conversationID = chunk.ConversationID
		}
		chunks++
		chars += utf8.RuneCountInString(chunk.Text)
		if err := writeEvent(rc, w, "", chunkEvent{Text: chunk.Text, ConversationID: conversationID, Done: chunk.Done}); err != nil {
			// The caller is gone; leaving the loop closes the provider stream.
			logger.Printf("chat: writing to the caller failed after %d chunks: %v", chunks, err)
			return
		}
	}
	logger.Printf("chat: relayed %d chunks, %d characters in %s (conversation %s)", chunks, chars, time.Since(start).Round(time.Millisecond), conversationID)
}

// writeEvent writes one SSE event (named, unless event is empty) with v as
// JSON data, and flushes it.
func writeEvent(rc *http.ResponseController, w io.Writer, event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b strings.Builder
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return rc.Flush()
}
