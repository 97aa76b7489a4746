package rest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// hangGuard bounds the waits on a server's observations.
const hangGuard = 30 * time.Second

func received(t *testing.T, c <-chan string, what string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(hangGuard):
		t.Fatalf("the server never observed %s", what)
		return ""
	}
}

// TestDoDetached checks that a detached call goes out although the
// caller's context is cancelled, and is given up once its bound has passed
// on the client's clock.
func TestDoDetached(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 4)
	c, _, clk := setupClock(t, time.Unix(1e9, 0), func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- r.URL.Path + " " + string(b)
		if r.URL.Path == "/api/v1/hold" {
			<-r.Context().Done()
			seen <- "given up"
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c.DoDetached(ctx, 5*time.Second, rest.Call{Method: http.MethodPost, Path: "stop", Body: map[string]string{"user": "u"}})
	require.Equal(t, `/api/v1/stop {"user":"u"}`, received(t, seen, "the detached call"))

	c.DoDetached(t.Context(), 5*time.Second, rest.Call{Method: http.MethodPost, Path: "hold"})
	require.Equal(t, "/api/v1/hold ", received(t, seen, "the held call"))
	clk.Advance(5 * time.Second)
	require.Equal(t, "given up", received(t, seen, "the held call given up"))
}

// TestWatchContent checks that, in the mode of Body.WatchContent, reads of
// keep-alives continue the idle countdown and Content restarts it.
func TestWatchContent(t *testing.T) {
	t.Parallel()
	const idle = time.Minute
	script := make(chan string)
	c, _, clk := setupClock(t, time.Unix(1e9, 0), func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case s := <-script:
				_, _ = io.WriteString(w, s)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}, chatbot.WithStreamIdleTimeout(idle))
	done := make(chan error, 1)
	go func() {
		var last error
		for _, err := range c.Stream(t.Context(), func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
			_, body, err := g.Open(ctx, rest.Call{Method: http.MethodPost, Path: "chat", WatchContent: true})
			if err != nil {
				return err
			}
			defer body.Close()
			p := make([]byte, 64)
			for {
				n, err := body.Read(p)
				if err != nil {
					return err
				}
				if string(p[:n]) == "content" {
					body.Content()
				}
			}
		}) {
			last = err
		}
		done <- last
	}()

	clk.WaitArmed(t, 2) // the headers, then the first read
	clk.Advance(idle / 2)
	script <- "ping"
	clk.WaitFor(t, idle/2) // the read goes on with what was left
	clk.Advance(idle / 4)
	script <- "content"
	clk.WaitArmed(t, 4)
	require.Equal(t, []time.Duration{idle}, clk.Pending(), "content restarts the countdown whole")
	clk.Advance(idle)
	select {
	case err := <-done:
		require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
		require.ErrorContains(t, err, "no content for 1m0s (keep-alives do not count)")
	case <-time.After(hangGuard):
		t.Fatal("the stream did not time out")
	}
}

// records is a slog.Handler that sends each record's message and
// attributes on a channel.
type records chan string

func (records) Enabled(context.Context, slog.Level) bool { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	s := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		s += " " + a.String()
		return true
	})
	r <- s
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

// TestDoDetachedLogsFailure checks that a detached call's failure, which
// no caller receives, is logged at Warn, without the key.
func TestDoDetachedLogsFailure(t *testing.T) {
	t.Parallel()
	logs := make(records, 16)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code": "invalid_param", "message": "bad `+testKey+`"}`)
	}, chatbot.WithLogger(slog.New(logs)))
	c.DoDetached(t.Context(), 5*time.Second, rest.Call{Method: http.MethodPost, Path: "stop"})
	for {
		line := received(t, logs, "the failure logged")
		if !strings.Contains(line, "detached call failed") {
			continue // the attempt's own Debug line
		}
		require.True(t, strings.HasPrefix(line, "WARN chatbot: detached call failed"), line)
		require.Contains(t, line, "path=stop")
		require.Contains(t, line, "invalid_param")
		require.NotContains(t, line, testKey)
		return
	}
}
