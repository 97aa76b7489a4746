// Quickstart asks each provider's chatbot a question, prints the reply as it
// streams in, then continues the same conversation with a second question.
//
//	go run ./examples/quickstart
//
// With no credentials in the environment it runs against the SDK's built-in
// fakes (started in-process on 127.0.0.1, no network needed) and says so. With
// a provider's credentials set it talks to that provider's real API:
//
//	WORKSPACE_API_KEY, WORKSPACE_CHATBOT_ID (and optionally WORKSPACE_BASE_URL)
//	USERDESK_API_KEY, USERDESK_CHATBOT_ID
//	STAMMER_TOKEN, STAMMER_CHATBOT_UUID (and optionally STAMMER_BASE_URL, such as https://<agency domain>/en/ for Lety)
//	SITEGPT_API_KEY, SITEGPT_CHATBOT_ID
//	CHATBASE_API_KEY, CHATBASE_AGENT_ID
//	FLOWISE_CHATFLOW_ID, FLOWISE_BASE_URL (and FLOWISE_API_KEY unless the flow is public)
//	DIFY_API_KEY (and optionally DIFY_BASE_URL for a self-hosted Dify)
//	CUSTOMGPT_API_KEY, CUSTOMGPT_PROJECT_ID
//
// Flags: -provider limits the run to one provider; -pace sets the delay
// between the pieces of the fakes' streamed replies.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
)

func main() {
	ctx, stop := cli.Context()
	err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "quickstart", err))
}

func run(ctx context.Context, args []string, stdout io.Writer, env bots.LookupEnv) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	provider := fs.String("provider", "", "run only this provider: "+strings.Join(bots.Names(), ", "))
	pace := fs.Duration("pace", bots.DefaultPace, "delay between the pieces of the built-in fakes' streamed replies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	names := bots.Names()
	if *provider != "" {
		names = []string{*provider}
	}

	var fakes, reals []string
	for _, name := range names {
		bot, cleanup, err := bots.Open(name, bots.Config{Env: env, Pace: *pace})
		if err != nil {
			return err
		}
		err = converse(ctx, stdout, bot)
		cleanup()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if bot.Fake != nil {
			fakes = append(fakes, name)
		} else {
			reals = append(reals, name)
		}
	}

	fmt.Fprintln(stdout)
	if len(reals) > 0 {
		fmt.Fprintf(stdout, "Talked to the real service of: %s.\n", strings.Join(reals, ", "))
	}
	if len(fakes) > 0 {
		fmt.Fprintf(stdout, "Ran against the built-in fake (no network) for: %s.\n", strings.Join(fakes, ", "))
		fmt.Fprintln(stdout, "To talk to a real service, set its environment variables:")
		for _, name := range fakes {
			vars, _ := bots.VarsFor(name)
			fmt.Fprintf(stdout, "  %-10s %s\n", name, strings.TrimSuffix(vars.String(), ","))
		}
	}
	return nil
}

// converse asks the two questions, the second in the conversation the first
// started, printing each reply chunk by chunk as it arrives.
func converse(ctx context.Context, w io.Writer, bot *bots.Bot) error {
	fmt.Fprintf(w, "\n== %s\n", bot.Describe())
	var conversationID string
	for _, question := range []string{bots.FirstQuestion, bots.SecondQuestion} {
		fmt.Fprintf(w, "you: %s\nbot: ", question)
		start := time.Now()
		req := chatbot.Request{Message: question, ConversationID: conversationID}
		chunks := 0
		for chunk, err := range bot.Stream(ctx, req) {
			if err != nil {
				fmt.Fprintln(w)
				return err
			}
			if chunk.Text != "" {
				chunks++
				fmt.Fprint(w, chunk.Text)
			}
			if chunk.ConversationID != "" {
				conversationID = chunk.ConversationID
			}
		}
		plural := "s"
		if chunks == 1 {
			plural = ""
		}
		fmt.Fprintf(w, "\n     [%d chunk%s in %s, conversation %s]\n", chunks, plural, time.Since(start).Round(time.Millisecond), conversationID)
	}
	return nil
}
