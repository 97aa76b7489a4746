// Relay serves a web page that chats with a chatbot through package relay:
// GET / is one small HTML page that streams each reply into itself with
// fetch, and POST /chat relays the chatbot's reply to it as Server-Sent
// Events (relay.Handler; an AI SDK page would get the AI SDK's protocol
// from the same handler). Errors before the first byte are HTTP statuses
// with a small JSON body; closing the page cancels the provider's stream.
//
//	go run ./examples/relay -addr 127.0.0.1:8080 -provider workspace
//
// then open http://127.0.0.1:8080/. Without the provider's credentials in
// the environment (see the quickstart for the variables) it relays the
// built-in fake, offline; -pace sets the delay between the fake's streamed
// pieces.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/examples/relay/page"
)

func main() {
	ctx, stop := cli.Context()
	err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "relay", err))
}

// run serves until ctx is done, then shuts the server down.
func run(ctx context.Context, args []string, stdout io.Writer, env bots.LookupEnv) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stdout)
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
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	fmt.Fprintf(stdout, "relaying %s\nlistening on http://%s/\n", bot.Describe(), ln.Addr())
	return cli.Serve(ctx, ln, page.Handler(bot, logger))
}
