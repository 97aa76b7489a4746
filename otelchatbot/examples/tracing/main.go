// Tracing relays one chat to the workspace fake through a client traced by
// otelchatbot (the chat span), otelhttp (one HTTP span per attempt, and the
// traceparent header the provider receives) and otelchatbot.NewLogHandler
// (the SDK's retry lines as events on the chat span), then prints the spans
// with the OpenTelemetry stdout exporter. The fake refuses the first attempt
// with a 429, so the trace shows a retry.
//
//	cd otelchatbot && go run ./examples/tracing
//
// It runs in-process against the SDK's fake (127.0.0.1, no network, no
// credentials).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// question is what the example asks.
const question = "When are you open?"

func main() {
	if err := start(os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
}

// start parses the (flagless) command line, so that -h prints what the
// program does and runs nothing, and runs the demo.
func start(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tracing", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tracing\n\nPrints the OpenTelemetry spans of one relayed chat, with a retry, against a built-in fake.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, stdout)
}

func run(ctx context.Context, stdout io.Writer) error {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	srv.SetReply("We are open ", "9 to 5, ", "Monday to Friday.")
	srv.RateLimitNext(1, 0) // one 429: the client backs off and tries again

	// The spans go to a buffer, printed once the chat is over.
	var spans bytes.Buffer
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(&spans), stdouttrace.WithPrettyPrint())
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer tp.Shutdown(ctx)

	// An application would set these globally (otel.SetTracerProvider,
	// otel.SetTextMapPropagator) and pass no options.
	transport := otelhttp.NewTransport(http.DefaultTransport.(*http.Transport).Clone(),
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{}))
	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(),
		chatbot.WithBaseURL(srv.URL),
		chatbot.WithHTTPClient(&http.Client{Transport: transport}),
		chatbot.WithLogger(slog.New(otelchatbot.NewLogHandler(nil))),
	)
	if err != nil {
		return err
	}
	traced := chatbot.Wrap(bot, otelchatbot.Middleware(otelchatbot.WithTracerProvider(tp)))

	fmt.Fprintf(stdout, "you: %s\nbot: ", question)
	for chunk, err := range traced.Stream(ctx, chatbot.Request{Message: question}) {
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, chunk.Text)
	}
	fmt.Fprintf(stdout, "\n\nThe provider received traceparent %s\n", srv.Requests()[1].Header.Get("traceparent"))

	if err := tp.ForceFlush(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nSpans (stdout exporter; the chat span ends last):")
	_, err = spans.WriteTo(stdout)
	return err
}
