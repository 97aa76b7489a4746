package otelchatbot_test

// The Go blocks of the README's "Tracing and metrics" section appear here
// verbatim, where they are compiled and run against the workspace fake. The
// root module's readme_test.go, which cannot import this module, finds them
// in this file.

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func readmeTracing(ctx context.Context, apiKey, chatbotID string, transport http.RoundTripper, question string) error {
	hc := &http.Client{Transport: otelhttp.NewTransport(transport)}
	bot, err := workspace.NewClient(apiKey, chatbotID,
		chatbot.WithHTTPClient(hc),
		chatbot.WithLogger(slog.New(otelchatbot.NewLogHandler(slog.Default().Handler()))),
	)
	if err != nil {
		return err
	}
	traced := chatbot.Wrap(bot, otelchatbot.Middleware())
	_, err = traced.Chat(ctx, chatbot.Request{Message: question})
	return err
}

// toFake sends every request to the fake's host instead of the provider's.
type toFake struct{ host string }

func (f toFake) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = "http", f.host, f.host
	req.URL.Path = "/" + strings.TrimPrefix(req.URL.Path, "/api/v1/")
	return http.DefaultTransport.RoundTrip(req)
}

// TestReadmeTracing sets the global providers, as the README says an
// application does; the other tests pass theirs explicitly.
func TestReadmeTracing(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	srv.RateLimitNext(1, 0)
	host := strings.TrimPrefix(srv.URL, "http://")

	require.NoError(t, readmeTracing(t.Context(), srv.APIKey(), srv.ChatbotID(), toFake{host}, question))

	reqs := srv.Requests()
	require.Len(t, reqs, 2, "a 429, then the retry")
	var chat sdktrace.ReadOnlySpan
	for _, s := range sr.Ended() {
		if s.InstrumentationScope().Name == otelchatbot.ScopeName {
			chat = s
		}
	}
	require.NotNil(t, chat)
	assert.Len(t, sr.Ended(), 3, "the chat span and one HTTP span per attempt")
	for _, r := range reqs {
		assert.Contains(t, r.Header.Get("traceparent"), "-"+chat.SpanContext().TraceID().String()+"-")
	}
	var events []string
	for _, e := range chat.Events() {
		events = append(events, e.Name)
	}
	assert.Equal(t, []string{"chatbot: http attempt", "chatbot: retrying", "chatbot: http attempt"}, events,
		"the attempts (logged at Debug) and the retry (at Info) are events, whatever the next handler's level")
}

// TestReadmeBlocksHere checks that every Go block of the README's "Tracing
// and metrics" section is in this file.
func TestReadmeBlocksHere(t *testing.T) {
	t.Parallel()
	readme, err := os.Open("../README.md")
	require.NoError(t, err)
	defer readme.Close()
	self, err := os.ReadFile("readme_test.go")
	require.NoError(t, err)
	here := "\n" + strings.Join(trimmed(string(self)), "\n") + "\n"

	var blocks []string
	var cur []string
	inSection, inBlock := false, false
	sc := bufio.NewScanner(readme)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inSection = line == "## Tracing and metrics"
		case inSection && strings.TrimSpace(line) == "```go":
			inBlock, cur = true, nil
		case inBlock && strings.TrimSpace(line) == "```":
			inBlock = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case inBlock:
			cur = append(cur, line)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, blocks, "the README has a Tracing and metrics section with Go code")
	for _, b := range blocks {
		assert.Contains(t, here, "\n"+strings.Join(trimmed(b), "\n")+"\n", "README block is not in readme_test.go:\n%s", b)
	}
}

func trimmed(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
