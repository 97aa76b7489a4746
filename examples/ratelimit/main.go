// Ratelimit shows what a backend does with chatbot.ErrRateLimited and
// chatbot.Error.RetryAfter: it waits out a short RetryAfter itself and retries,
// and hands a long one to its own caller (who would get, say, an HTTP 429 with
// a Retry-After header) instead of holding the request open.
//
//	go run ./examples/ratelimit
//
// It always runs against the built-in workspace fake, told to rate-limit (the
// next request, or its real sliding window shrunk to two requests a minute),
// because a real service should not be pushed into its limits for a demo.
//
// The client is built with chatbot.WithMaxRetries(0) so that every 429
// reaches the backend's code. With the default options the SDK itself
// already waits out a RetryAfter of up to 20s (chatbot.WithMaxRetryWait) and
// returns longer ones at once, with RetryAfter set, as this backend does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func main() {
	os.Exit(cli.ExitCode(os.Stderr, "ratelimit", start(os.Args[1:], os.Stdout)))
}

// start parses the (flagless) command line, so that -h prints what the
// program does, and runs the scenarios against a fake of its own.
func start(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ratelimit", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ratelimit\n\nShows a backend honouring short RetryAfter waits and handing long ones to its caller, against a built-in fake.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := cli.Context()
	defer stop()
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	return run(ctx, stdout, srv)
}

// maxWait is the longest RetryAfter the backend waits out itself.
const maxWait = 2 * time.Second

func run(ctx context.Context, stdout io.Writer, srv *workspacetest.Server) error {
	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	if err != nil {
		return err
	}
	b := &backend{bot: bot, maxWait: maxWait, maxAttempts: 3, log: stdout}
	fmt.Fprintf(stdout, "Backend policy: wait out a RetryAfter of up to %s itself, hand longer ones to the caller.\n", maxWait)

	scenario := func(title string, questions ...string) error {
		fmt.Fprintf(stdout, "\n%s\n", title)
		for _, q := range questions {
			fmt.Fprintf(stdout, "caller asks %q\n", q)
			answer, err := b.Ask(ctx, q)
			var busy *BusyError
			switch {
			case errors.As(err, &busy):
				fmt.Fprintf(stdout, "  caller told: busy, come back in %s (as HTTP 429, Retry-After: %.0f)\n", busy.RetryAfter, busy.RetryAfter.Seconds())
			case err != nil:
				return err
			default:
				fmt.Fprintf(stdout, "  caller gets: %s\n", answer)
			}
		}
		return nil
	}

	if err := scenario("1. No limit in the way.", "Hello"); err != nil {
		return err
	}
	srv.RateLimitNext(1, time.Second)
	if err := scenario("2. The provider refuses the next request with retryAfter 1s.", "Are you there?"); err != nil {
		return err
	}
	srv.RateLimitNext(1, time.Hour)
	if err := scenario("3. The provider refuses the next request with retryAfter 1h.", "Still there?"); err != nil {
		return err
	}
	srv.SetRateLimit(2, time.Minute)
	if err := scenario("4. The provider's sliding window, shrunk to 2 requests per minute.", "One", "Two", "Three"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe provider received %d requests.\n", srv.Count())
	return nil
}

// BusyError is what the backend returns to its caller when the provider asked
// for a wait longer than the backend is willing to hold a request open.
type BusyError struct {
	RetryAfter time.Duration // how long the caller should wait; 0 if unknown
	Err        error         // the provider's error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("busy, retry after %s: %v", e.RetryAfter, e.Err)
}

func (e *BusyError) Unwrap() error { return e.Err }

// backend answers its callers' questions with a chatbot.
type backend struct {
	bot         chatbot.Chatbot
	maxWait     time.Duration // the longest RetryAfter waited out here
	maxAttempts int           // attempts per question
	log         io.Writer     // where the decisions are printed
}

// Ask answers question. A rate limit whose RetryAfter is at most maxWait (and
// ends before ctx's deadline) is waited out here and the question sent again;
// a longer one, an unknown one, or one more rate limit after maxAttempts comes
// back as a *BusyError for the caller to act on.
func (b *backend) Ask(ctx context.Context, question string) (string, error) {
	for attempt := 1; ; attempt++ {
		reply, err := b.bot.Chat(ctx, chatbot.Request{Message: question})
		if err == nil {
			if rl := reply.RateLimit; rl != nil {
				fmt.Fprintf(b.log, "  answered (rate limit: %d of %d left)\n", rl.Remaining, rl.Limit)
			}
			return reply.Text, nil
		}
		var apiErr *chatbot.Error
		if !errors.Is(err, chatbot.ErrRateLimited) || !errors.As(err, &apiErr) {
			return "", err
		}
		if apiErr.StatusCode == 0 {
			// The client's rate-limit pre-check: the last response said the
			// window was used up, so this one was never sent.
			fmt.Fprintln(b.log, "  held back by the client: the provider's X-RateLimit window is used up, nothing was sent")
		}
		wait := apiErr.RetryAfter
		deadline, hasDeadline := ctx.Deadline()
		switch {
		case wait <= 0:
			fmt.Fprintln(b.log, "  rate limited, no RetryAfter given: handing it to the caller")
			return "", &BusyError{Err: err}
		case wait > b.maxWait:
			fmt.Fprintf(b.log, "  rate limited, RetryAfter %s: too long to hold the caller, handing it on\n", wait)
			return "", &BusyError{RetryAfter: wait, Err: err}
		case hasDeadline && time.Until(deadline) < wait:
			fmt.Fprintf(b.log, "  rate limited, RetryAfter %s: past the caller's deadline, handing it on\n", wait)
			return "", &BusyError{RetryAfter: wait, Err: err}
		case attempt >= b.maxAttempts:
			fmt.Fprintf(b.log, "  rate limited again after %d attempts: handing it to the caller\n", attempt)
			return "", &BusyError{RetryAfter: wait, Err: err}
		}
		fmt.Fprintf(b.log, "  rate limited, RetryAfter %s: short, waiting it out, then retrying\n", wait)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", ctx.Err()
		case <-timer.C:
		}
	}
}
