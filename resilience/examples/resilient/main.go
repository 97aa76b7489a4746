// Resilient shows a service answering through two chatbots: a primary
// (a workspace bot) and a backup (a Stammer bot built on the same
// knowledge). The primary sits behind a circuit breaker and a client-side
// rate limiter; a resilience.Fallback sends new conversations to the backup
// when the primary refused them unprocessed, or while its circuit is open,
// and keeps every conversation with the chatbot that started it.
//
//	cd resilience && go run ./examples/resilient
//
// It runs offline against the SDK's provider fakes: the primary is told to
// rate-limit one request and then to fail, so that its circuit opens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func main() {
	if err := start(os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "resilient:", err)
		os.Exit(1)
	}
}

// start parses the (flagless) command line, so that -h prints what the
// program does and runs nothing, and runs the demo against fakes of its own.
func start(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("resilient", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: resilient\n\nShows a circuit breaker, a client-side rate limiter and fallback from a primary chatbot to a backup, against built-in fakes.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	primary := workspacetest.NewServer(workspacetest.Config{})
	defer primary.Close()
	backup := stammertest.NewServer(stammertest.Config{})
	defer backup.Close()
	return run(ctx, stdout, primary, backup)
}

func run(ctx context.Context, out io.Writer, primarySrv *workspacetest.Server, backupSrv *stammertest.Server) error {
	// WithMaxRetries(0): the Fallback is the primary's retry, so a refusal
	// moves a new conversation to the backup at once, without backoff (see
	// the README's Resilience section), and every refusal shows.
	ws, err := workspace.NewClient(primarySrv.APIKey(), primarySrv.ChatbotID(), chatbot.WithBaseURL(primarySrv.URL), chatbot.WithMaxRetries(0))
	if err != nil {
		return err
	}
	st, err := stammer.NewClient(backupSrv.APIKey(), backupSrv.ChatbotID(), chatbot.WithBaseURL(backupSrv.URL), chatbot.WithMaxRetries(0))
	if err != nil {
		return err
	}
	primary := chatbot.Wrap(ws,
		resilience.Breaker(resilience.WithFailures(3), resilience.WithOpenTimeout(time.Minute),
			resilience.WithStateChange(func(info chatbot.Info, from, to resilience.BreakerState) {
				fmt.Fprintf(out, "  [breaker] %s circuit %s -> %s\n", info.Provider, from, to)
			})),
		resilience.Limit(resilience.NewLocalLimiter(resilience.PerHour(1000))), // the workspace plan's 1,000 an hour
	)
	backup := chatbot.Wrap(st, resilience.Breaker())
	bot, err := resilience.NewFallback(
		resilience.Named{Name: "primary", Bot: primary},
		resilience.Named{Name: "backup", Bot: backup},
	)
	if err != nil {
		return err
	}

	convs := map[string]string{} // user -> conversation id
	ask := func(user, message string) {
		req := chatbot.Request{Message: message, ConversationID: convs[user], User: chatbot.User{ID: user}}
		what := "new conversation"
		if req.ConversationID != "" {
			what = "continues " + req.ConversationID
		}
		fmt.Fprintf(out, "%s (%s): %q\n", user, what, message)
		reply, err := chatbot.Collect(bot.Stream(ctx, req))
		var open *resilience.CircuitOpenError
		var apiErr *chatbot.Error
		switch {
		case errors.As(err, &open):
			fmt.Fprintf(out, "  refused at once: the %s circuit is open (not sent)\n", open.Info.Provider)
		case errors.As(err, &apiErr):
			fmt.Fprintf(out, "  error: %s\n", apiErr)
		case err != nil:
			fmt.Fprintf(out, "  error: %v\n", err)
		default:
			convs[user] = reply.ConversationID
			fmt.Fprintf(out, "  answered in %s: %s\n", reply.ConversationID, reply.Text)
		}
	}
	counts := func() {
		fmt.Fprintf(out, "  requests so far: primary %d, backup %d\n", primarySrv.Count(), backupSrv.Count())
	}

	fmt.Fprintln(out, "1. Both chatbots are up.")
	ask("alice", "What are your opening hours?")
	counts()

	fmt.Fprintln(out, "\n2. The primary rate-limits the next request (429, retry after 60s): it was not processed.")
	primarySrv.RateLimitNext(1, time.Minute)
	ask("bob", "Do you ship abroad?")
	ask("alice", "And on Sundays?")
	counts()

	fmt.Fprintln(out, "\n3. The primary starts failing with 500s: it may have processed the message, so nothing moves.")
	primarySrv.FailNext(100, workspacetest.Failure{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "Internal server error"})
	ask("carol", "Can I return an item?")
	ask("alice", "Thanks!")
	ask("dave", "Where is my order?")
	counts()

	fmt.Fprintln(out, "\n4. The circuit is open: new conversations go to the backup without touching the primary.")
	ask("erin", "Do you have gift cards?")
	ask("bob", "How long does shipping take?")
	ask("alice", "One more question")
	counts()
	return nil
}
