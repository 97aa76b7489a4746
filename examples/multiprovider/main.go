// Multiprovider sends the same question to every provider at once, each
// through the chatbot.Chatbot interface, and prints their replies and a table
// of time to first chunk, total time and reply length.
//
//	go run ./examples/multiprovider -question "What can you help me with?"
//
// Providers without credentials in the environment (see the quickstart for
// the variables) are served by their built-in fakes; -pace sets the delay
// between the fakes' streamed pieces.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
)

func main() {
	ctx, stop := cli.Context()
	err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "multiprovider", err))
}

// result is what one provider did with the question.
type result struct {
	bot        *bots.Bot
	text       string
	firstChunk time.Duration // 0 if no text arrived
	total      time.Duration
	err        error
}

func run(ctx context.Context, args []string, stdout io.Writer, env bots.LookupEnv) error {
	fs := flag.NewFlagSet("multiprovider", flag.ContinueOnError)
	question := fs.String("question", bots.FirstQuestion, "the question to ask every provider")
	pace := fs.Duration("pace", bots.DefaultPace, "delay between the pieces of the built-in fakes' streamed replies")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for all the replies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	all, cleanup, err := bots.OpenAll(bots.Config{Env: env, Pace: *pace})
	if err != nil {
		return err
	}
	defer cleanup()

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	fmt.Fprintf(stdout, "Asking %d providers at once: %q\n", len(all), *question)
	results := make([]result, len(all))
	var wg sync.WaitGroup
	for i, bot := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ask(ctx, bot, *question)
		}()
	}
	wg.Wait()

	for _, r := range results {
		fmt.Fprintf(stdout, "\n%s\n  %s\n", r.bot.Describe(), r.text)
		if r.err != nil {
			fmt.Fprintf(stdout, "  error: %v\n", r.err)
		}
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tmode\tfirst chunk\ttotal\tlength\tstatus\t")
	for _, r := range results {
		status := "ok"
		if r.err != nil {
			status = "error"
		}
		first := "-"
		if r.firstChunk > 0 {
			first = ms(r.firstChunk)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t\n", r.bot.Provider, r.bot.Mode(), first, ms(r.total), utf8.RuneCountInString(r.text), status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "(length in characters; stammer and sitegpt do not stream, so their first chunk is the whole reply)")
	return nil
}

// ask streams one reply and times it.
func ask(ctx context.Context, bot *bots.Bot, question string) result {
	r := result{bot: bot}
	start := time.Now()
	var text strings.Builder
	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: question}) {
		if err != nil {
			r.err = err
			break
		}
		if chunk.Text != "" && r.firstChunk == 0 {
			r.firstChunk = time.Since(start)
		}
		text.WriteString(chunk.Text)
	}
	r.total = time.Since(start)
	r.text = text.String()
	return r
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}
