package chatbot_test

// The Go code blocks of README.md are kept true by this file: a block that is
// a whole program is built in a scratch module, and every other block must
// appear here verbatim (line by line, ignoring indentation), where it is
// compiled and run against the provider fakes. A block about a nested module
// (resilience, ...), which this module cannot import, may instead appear in
// that module's readme_test.go (<module>/readme_test.go), which compiles and
// runs it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func readmeStreaming(ctx context.Context, bot chatbot.Chatbot, w io.Writer) error {
	for chunk, err := range bot.Stream(ctx, chatbot.Request{Message: "Tell me about your plans"}) {
		if err != nil {
			return fmt.Errorf("reply cut short: %w", err) // the text so far has been written
		}
		fmt.Fprint(w, chunk.Text)
	}
	return nil
}

func readmeCollect(ctx context.Context, bot chatbot.Chatbot) error {
	reply, err := chatbot.Collect(bot.Stream(ctx, chatbot.Request{Message: "Summarise my order"}))
	if err != nil {
		return fmt.Errorf("got %q before: %w", reply.Text, err)
	}
	return nil
}

func readmeCollectN(ctx context.Context, bot chatbot.Chatbot) error {
	reply, err := chatbot.CollectN(bot.Stream(ctx, chatbot.Request{Message: "Write the whole manual"}), 64<<20)
	if errors.Is(err, chatbot.ErrReplyTooLarge) {
		return fmt.Errorf("kept the first %d bytes of a reply over 64 MiB: %w", len(reply.Text), err)
	}
	return err
}

func readmeErrors(ctx context.Context, bot chatbot.Chatbot, question string, w io.Writer) error {
	reply, err := bot.Chat(ctx, chatbot.Request{Message: question})
	var apiErr *chatbot.Error
	switch {
	case errors.Is(err, chatbot.ErrRateLimited) && errors.As(err, &apiErr):
		return fmt.Errorf("busy: try again in %s", apiErr.RetryAfter)
	case errors.Is(err, chatbot.ErrUnauthorized), errors.Is(err, chatbot.ErrForbidden):
		return fmt.Errorf("check the API key: %w", err)
	case errors.Is(err, chatbot.ErrQuotaExceeded):
		return fmt.Errorf("out of credits: %w", err)
	case err != nil:
		return err
	}
	fmt.Fprintln(w, reply.Text)
	return nil
}

func readmeWhiteLabel(token, chatbotUUID string) (*stammer.Client, error) {
	bot, err := stammer.NewClient(token, chatbotUUID, chatbot.WithBaseURL("https://chat.your-agency.example/en/"))
	return bot, err
}

func readmeOptions(apiKey, chatbotID string) (*workspace.Client, error) {
	bot, err := workspace.NewClient(apiKey, chatbotID,
		chatbot.WithMaxRetries(3),
		chatbot.WithMaxRetryWait(5*time.Second),
		chatbot.WithStreamIdleTimeout(30*time.Second),
		chatbot.WithLogger(slog.Default()),
		chatbot.WithUserAgent("support-desk/1.4"),
	)
	return bot, err
}

func TestAnswerWhenRateLimited(t *testing.T) {
	bot := chatbottest.NewBot().Fail(chatbottest.RateLimited(time.Minute))
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	if !errors.Is(err, chatbot.ErrRateLimited) {
		t.Fatalf("got %v, want a rate-limit error", err)
	}
}

func TestGiveUpAtTheDeadline(t *testing.T) {
	srv := sitegpttest.NewServer(sitegpttest.Config{})
	defer srv.Close()
	bot, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, sitegpttest.Failure{Status: 429, RetryAfter: time.Minute})
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	var apiErr *chatbot.Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Minute {
		t.Fatalf("got %v, want a rate limit asking for a minute", err)
	}

	srv.StallNext(1) // held until the client leaves
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := bot.Chat(ctx, chatbot.Request{Message: "hi"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
}

func TestReadmeFragments(t *testing.T) {
	srv := workspacetest.NewServer(workspacetest.Config{})
	defer srv.Close()
	srv.SetReply("Hello ", "from ", "the fake.")
	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	var out strings.Builder
	require.NoError(t, readmeStreaming(t.Context(), bot, &out))
	assert.Equal(t, "Hello from the fake.", out.String())
	require.NoError(t, readmeCollect(t.Context(), bot))
	require.NoError(t, readmeCollectN(t.Context(), bot))

	out.Reset()
	require.NoError(t, readmeErrors(t.Context(), bot, "hi", &out))
	assert.Equal(t, "Hello from the fake.\n", out.String())
	srv.RateLimitNext(1, time.Minute)
	err = readmeErrors(t.Context(), bot, "hi", &out)
	assert.EqualError(t, err, "busy: try again in 1m0s")
	srv.FailNext(1, workspacetest.Failure{Status: 401, Code: "INVALID_API_KEY", Message: "Invalid or inactive API key"})
	err = readmeErrors(t.Context(), bot, "hi", &out)
	assert.ErrorIs(t, err, chatbot.ErrUnauthorized)

	lety, err := readmeWhiteLabel("0123456789abcdef0123456789abcdef", "12345678-1234-5678-1234-567812345678")
	require.NoError(t, err)
	assert.Equal(t, "https://chat.your-agency.example/en/", lety.BaseURL())
	_, err = readmeOptions("sk-workspace_key", "bot")
	require.NoError(t, err)
}

// goBlocks returns the ```go blocks of a markdown file.
func goBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var blocks []string
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	require.NoError(t, sc.Err())
	return blocks
}

func trimmedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func containsRun(hay, needle []string) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		match := true
		for j := range needle {
			if hay[i+j] != needle[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func TestReadmeCodeBlocks(t *testing.T) {
	blocks := goBlocks(t, "README.md")
	require.NotEmpty(t, blocks)
	files, err := filepath.Glob("*/readme_test.go")
	require.NoError(t, err)
	var here []string
	for _, name := range append([]string{"readme_test.go"}, files...) {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		here = append(here, trimmedLines(string(src))...)
	}
	for i, b := range blocks {
		if strings.HasPrefix(strings.TrimSpace(b), "package main") {
			buildProgram(t, i, b)
			continue
		}
		assert.True(t, containsRun(here, trimmedLines(b)), "README block %d is not in readme_test.go nor in a nested module's readme_test.go:\n%s", i+1, b)
	}
}

// buildProgram builds a whole-program README block in a scratch module that
// uses this repository.
func buildProgram(t *testing.T, i int, src string) {
	t.Helper()
	out, err := buildScratch(t, src)
	assert.NoError(t, err, "README block %d does not build:\n%s", i+1, out)
}

// buildScratch builds src as the main package of a scratch module that
// requires this one, offline, and returns the compiler's output.
func buildScratch(t *testing.T, src string) ([]byte, error) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the scratch programs")
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	mod := "module readme\n\ngo 1.24\n\nrequire github.com/chatbot-go/chatbot v0.0.0\n\nreplace github.com/chatbot-go/chatbot => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	cmd := exec.CommandContext(t.Context(), goBin, "build", "-mod=mod", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	return cmd.CombinedOutput()
}
