// Chat is an interactive terminal chat with one provider's chatbot. Replies
// stream in as they arrive and the conversation continues across turns.
// Ctrl-C during a reply cancels that reply (not the program); Ctrl-D quits.
//
//	go run ./examples/chat -provider userdesk
//
// -provider is one of workspace (the default), userdesk, stammer, sitegpt, chatbase,
// flowise, dify and customgpt.
// Without that provider's credentials in the environment (see package
// examples/internal/bots, or the quickstart) it chats with the provider's
// built-in fake; -pace sets the delay between the fake's streamed pieces.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
)

func main() {
	// Ctrl-C is read as a request to cancel the current reply, so it must not
	// end the program: route SIGINT to the chat loop.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	interrupts := make(chan struct{})
	go func() {
		for range sigs {
			interrupts <- struct{}{}
		}
	}()
	// SIGTERM (a process manager stopping us) ends the program.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, interrupts, os.LookupEnv)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "chat", err))
}

// run chats until stdin ends (Ctrl-D) or ctx is done. A value on interrupts
// cancels the reply in progress; between replies it only prints a hint.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, interrupts <-chan struct{}, env bots.LookupEnv) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
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

	fmt.Fprintf(stdout, "Chatting with %s\n", bot.Describe())
	fmt.Fprintln(stdout, "Type a message and press Enter. Ctrl-C stops a reply, Ctrl-D quits.")

	// Read stdin on its own goroutine so that interrupts are seen while
	// waiting for input too. It ends at EOF; if run returns first it stays
	// blocked on the read until stdin is closed, as the process exits then.
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()

	var conversationID string
	for {
		fmt.Fprint(stdout, "> ")
		var line string
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-interrupts:
			fmt.Fprintln(stdout, "\n(no reply to stop; Ctrl-D quits)")
			continue
		case err := <-readErr:
			fmt.Fprintln(stdout)
			return err
		case line = <-lines:
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id, err := reply(ctx, stdout, bot, chatbot.Request{Message: line, ConversationID: conversationID}, interrupts)
		if id != "" {
			conversationID = id
		}
		switch {
		case errors.Is(err, context.Canceled) && ctx.Err() == nil:
			fmt.Fprintln(stdout, "\n[reply cancelled]")
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			fmt.Fprintf(stdout, "\n[error: %v]\n", err)
		default:
			fmt.Fprintln(stdout)
		}
	}
}

// reply streams the answer to req onto w, cancelling it when a value arrives
// on interrupts, and returns the conversation id it saw.
func reply(ctx context.Context, w io.Writer, bot chatbot.Chatbot, req chatbot.Request, interrupts <-chan struct{}) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		select {
		case <-interrupts:
			cancel()
		case <-done:
		}
	}()
	defer func() {
		close(done)
		<-watcher // so that the next interrupt goes to the prompt, not to this reply
	}()

	fmt.Fprint(w, "bot: ")
	var conversationID string
	for chunk, err := range bot.Stream(ctx, req) {
		if err != nil {
			return conversationID, err
		}
		if chunk.ConversationID != "" {
			conversationID = chunk.ConversationID
		}
		fmt.Fprint(w, chunk.Text)
	}
	return conversationID, nil
}
