package reliability_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// hostile starts a plain httptest server that answers every request with h,
// and a client of p pointed at it, with retries off.
func hostile(t *testing.T, p provider, h http.HandlerFunc, opts ...chatbot.Option) chatbot.Chatbot {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	bot, err := p.newClient("key-0123456789", p.id(), opts...)
	require.NoError(t, err)
	return bot
}

// modes returns the ways to call p: Chat, and Stream for the streaming ones.
func modes(p provider) []string {
	if p.streams {
		return []string{"chat", "stream"}
	}
	return []string{"chat"}
}

// endless writes prefix, then filler bytes until n bytes are written or the
// client goes away, without allocating per write.
func endless(status int, contentType, prefix string, filler byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		buf := bytes.Repeat([]byte{filler}, 64<<10)
		written, _ := w.Write([]byte(prefix))
		for written < n {
			k, err := w.Write(buf[:min(len(buf), n-written)])
			if err != nil {
				return
			}
			written += k
		}
		_, _ = w.Write([]byte(`"}}`))
	}
}

// allocated returns how many bytes fn allocated on the heap in total.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const hugeBody = 100 << 20 // 100 MiB

// TestHugeJSONBody: a 100 MiB JSON reply is refused after the SDK's 8 MiB
// cap, with a clear error, and the call allocates a bounded amount. Not
// parallel: it measures the heap.
func TestHugeJSONBody(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			bot := hostile(t, p, endless(http.StatusOK, "application/json",
				`{"success":true,"conversationId":"c","response":"`, 'a', hugeBody))
			var err error
			n := allocated(func() { _, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"}) })
			require.Error(t, err)
			require.Contains(t, err.Error(), "exceeds 8 MiB")
			require.Less(t, n, uint64(64<<20), "a 100 MiB body must not be buffered (8 MiB cap; io.ReadAll growth and -race overhead measured at 20-40 MiB)")
			t.Logf("%s: %v; allocated %d MiB", p.name, err, n>>20)
		})
	}
}

// TestHugeSSEEvent: an event of 100 MiB without a line end ends the stream
// with stream.ErrEventTooLarge, in bounded memory, for every provider that
// streams Server-Sent Events. The request continues a conversation (a UUID,
// as Dify requires), so that CustomGPT sends the message itself. Not
// parallel: it measures the heap.
func TestHugeSSEEvent(t *testing.T) {
	for _, p := range providers {
		if !p.events {
			continue // userdesk streams raw text: no events to bound
		}
		t.Run(p.name, func(t *testing.T) {
			bot := hostile(t, p, endless(http.StatusOK, "text/event-stream", "data: ", 'a', hugeBody))
			req := chatbot.Request{Message: "hi", ConversationID: "0e5b3b6c-6f1a-4c4e-9d0a-2b8f1c7d9e31"}
			var err error
			n := allocated(func() { _, err = chatbot.Collect(bot.Stream(t.Context(), req)) })
			require.ErrorIs(t, err, stream.ErrEventTooLarge)
			require.Less(t, n, uint64(64<<20), "a 100 MiB event must not be buffered")
			t.Logf("%v; allocated %d MiB", err, n>>20)
		})
	}
}

func TestHostileResponses(t *testing.T) {
	html := `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>`
	wrongTypes := `{"success":true,"conversationId":7,"response":7,"message":7,` +
		`"data":{"response":[1],"answer":{"x":1},"messageId":1,"message":7,"threadId":1}}`
	tests := []struct {
		name   string
		h      http.HandlerFunc
		check  func(t *testing.T, err error)
		stream bool // also run Stream
	}{
		{"HTML error page", reply(http.StatusBadGateway, "text/html; charset=utf-8", html), func(t *testing.T, err error) {
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			require.ErrorIs(t, err, chatbot.ErrServer)
			require.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
			require.NotContains(t, err.Error(), "<html", "the page is kept in Body, not printed")
			require.Equal(t, html, string(apiErr.Body))
		}, true},
		{"HTML 200", reply(http.StatusOK, "text/html", "<html><body>Welcome!</body></html>"), func(t *testing.T, err error) {
			require.Error(t, err)
		}, false},
		{"non-JSON 200", reply(http.StatusOK, "application/json", "OK"), func(t *testing.T, err error) {
			require.Error(t, err)
		}, false},
		{"JSON with wrong field types", reply(http.StatusOK, "application/json", wrongTypes), func(t *testing.T, err error) {
			require.Error(t, err)
		}, false},
		{"JSON error body with wrong field types", reply(http.StatusBadRequest, "application/json",
			`{"success":false,"error":{"code":[1],"message":{"a":1}},"code":{},"message":null,"retryAfter":"soon"}`),
			func(t *testing.T, err error) {
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
				require.Zero(t, apiErr.RetryAfter)
			}, true},
	}
	for _, p := range providers {
		for _, tt := range tests {
			for _, mode := range modes(p) {
				if mode == "stream" && !tt.stream {
					continue
				}
				t.Run(p.name+"/"+mode+"/"+tt.name, func(t *testing.T) {
					t.Parallel()
					bot := hostile(t, p, tt.h)
					var err error
					require.NotPanics(t, func() { _, _, err = call(t.Context(), bot, mode) })
					tt.check(t, err)
					t.Logf("%v", err)
				})
			}
		}
	}
}

// TestNoHeaders: a server that accepts the request and never answers; the
// context deadline ends the call on time.
func TestNoHeaders(t *testing.T) {
	const deadline = 400 * time.Millisecond
	for _, p := range providers {
		for _, mode := range modes(p) {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				release := make(chan struct{})
				bot := hostile(t, p, func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}, chatbot.WithStreamIdleTimeout(0))
				defer close(release)
				start := time.Now()
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				_, _, err := call(ctx, bot, mode)
				elapsed := time.Since(start)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				within(t, deadline, elapsed)
			})
		}
	}
}

func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// TestWorkspaceStreamWithoutEndMarker: the workspace event format is not
// published, so a body that ends cleanly after whole events is a complete
// reply (issue 3), but a body that ends inside a line was cut: the partial
// JSON is never taken for text, and the error wraps io.ErrUnexpectedEOF.
func TestWorkspaceStreamWithoutEndMarker(t *testing.T) {
	whole := "data: {\"type\":\"content\",\"content\":\"Hel\"}\n\n"
	bot := hostile(t, byName("workspace"), reply(http.StatusOK, "text/event-stream", whole))
	r, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err, "a clean end after whole events is complete")
	require.Equal(t, "Hel", r.Text)

	cut := whole + "data: {\"type\":\"content\",\"cont"
	bot = hostile(t, byName("workspace"), reply(http.StatusOK, "text/event-stream", cut))
	r, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a body that ends mid-line was cut")
	require.Equal(t, "Hel", r.Text, "the text before the cut is kept, the cut JSON is not text")
}
