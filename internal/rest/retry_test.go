package rest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

const testKey = "sk-workspace_TESTKEY0123456789"

// setup starts a recording fake running h and a client pointed at it.
func setup(t *testing.T, h http.HandlerFunc, opts ...chatbot.Option) (*rest.Client, *fake.Server) {
	t.Helper()
	srv := fake.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL + "/api/v1/")}, opts...)
	c, err := rest.New(rest.Config{Provider: "workspace", DefaultBaseURL: "https://pollybot.app/api/v1/", AuthScheme: "Bearer"}, testKey, opts)
	require.NoError(t, err)
	return c, srv
}

var chatCall = rest.Call{Method: http.MethodPost, Path: "chatbots/bot/chat", Body: map[string]any{"message": "hi"}}

// sequence answers each request with the next handler, repeating the last.
func sequence(hs ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(hs)-1)
		hs[i](w, r)
	}
}

func status(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

var ok200 = status(200, `{"success":true,"data":{"response":"hello"}}`)

func TestRetryAfterInBodyIsHonoured(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, sequence(status(429, `{"success":false,"error":"slow down","code":"RATE_LIMIT_EXCEEDED","retryAfter":1}`), ok200))
	start := time.Now()
	resp, err := c.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "the wait the body asked for")
	assert.Equal(t, 2, srv.Count(), "one retry")
	assert.Equal(t, 200, resp.StatusCode)
	reqs := srv.Requests()
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "the retried body is resent intact")
}

func TestRetryAfterOverMaxWaitReturnsAtOnce(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, status(429, `{"success":false,"error":"Rate limit exceeded.","code":"RATE_LIMIT_EXCEEDED","retryAfter":60}`))
	start := time.Now()
	_, err := c.Do(t.Context(), chatCall, nil)
	assert.Less(t, time.Since(start), 500*time.Millisecond)
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 60*time.Second, apiErr.RetryAfter)
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, "RATE_LIMIT_EXCEEDED", apiErr.ProviderCode)
	assert.Equal(t, "Rate limit exceeded.", apiErr.Message)
	assert.Equal(t, "workspace: 429 RATE_LIMIT_EXCEEDED: Rate limit exceeded. (retry after 1m0s)", apiErr.Error())
	assert.Equal(t, 1, srv.Count())
}

func TestRetryAfterPastDeadlineReturnsAtOnce(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, status(429, `{}`, "Retry-After", "3"))
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, chatCall, nil)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "no sleep into the deadline")
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr, "the typed 429, not a bare deadline error")
	assert.Equal(t, 3*time.Second, apiErr.RetryAfter)
	assert.Equal(t, 1, srv.Count())
}

func TestPostIsNeverResentAfterItWasRead(t *testing.T) {
	t.Parallel()
	reset := func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the whole message arrived
		conn, _, err := w.(http.Hijacker).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
		conn.Close()
	}
	for name, tc := range map[string]struct {
		h    http.HandlerFunc
		want error
	}{
		"500":                  {h: status(500, `{"error":"boom"}`), want: chatbot.ErrServer},
		"502":                  {h: status(502, `<html>bad gateway</html>`), want: chatbot.ErrServer},
		"504":                  {h: status(504, ``), want: chatbot.ErrServer},
		"503 no Retry-After":   {h: status(503, ``), want: chatbot.ErrServer},
		"reset after the read": {h: reset},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, srv := setup(t, tc.h)
			_, err := c.Do(t.Context(), chatCall, nil)
			require.Error(t, err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, 1, srv.Count(), "a chat turn must never be sent twice")
		})
	}
}

func TestPostRetriedWhenRefusedUnprocessed(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, sequence(status(503, ``, "Retry-After-Ms", "20"), status(429, ``, "Retry-After", "0.05"), ok200))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count())
}

func TestDialErrorIsRetried(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	base := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return base(ctx, network, addr)
	}
	c, srv := setup(t, ok200, chatbot.WithHTTPClient(&http.Client{Transport: tr}))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), dials.Load())
	assert.Equal(t, 1, srv.Count(), "the message reached the server once")
}

func TestGetRetriesServerErrors(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, sequence(status(503, ``), status(500, ``), ok200))
	_, err := c.Do(t.Context(), rest.Call{Method: http.MethodGet, Path: "chatbots/bot/leads"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count())
}

func TestGetDoesNotRetry501(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, status(501, ``))
	_, err := c.Do(t.Context(), rest.Call{Method: http.MethodGet, Path: "x"}, nil)
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, 1, srv.Count())
}

func TestRetriesExhaustedGiveLastTypedError(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, sequence(
		status(429, `{"code":"RATE_LIMIT_EXCEEDED","error":"first"}`, "Retry-After-Ms", "1"),
		status(429, `{"code":"RATE_LIMIT_EXCEEDED","error":"second"}`, "Retry-After-Ms", "1"),
		status(429, `{"code":"RATE_LIMIT_EXCEEDED","error":"last"}`, "Retry-After-Ms", "7", "X-Request-Id", "req-42")))
	_, err := c.Do(t.Context(), chatCall, nil)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "last", apiErr.Message)
	assert.Equal(t, 7*time.Millisecond, apiErr.RetryAfter)
	assert.Equal(t, "req-42", apiErr.RequestID)
	assert.NotContains(t, err.Error(), "giving up")
	assert.Equal(t, 1+chatbot.DefaultMaxRetries, srv.Count())
}

func TestMaxRetriesZeroDisablesRetries(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, status(429, ``, "Retry-After-Ms", "1"), chatbot.WithMaxRetries(0))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Equal(t, 1, srv.Count())
}

func TestCancelDuringRetryWait(t *testing.T) {
	t.Parallel()
	served := make(chan struct{}, 1)
	c, srv := setup(t, func(w http.ResponseWriter, r *http.Request) {
		status(429, `{"retryAfter":10}`)(w, r)
		served <- struct{}{}
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-served
		cancel()
	}()
	_, err := c.Do(ctx, chatCall, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, srv.Count())
}

func TestCancelledContextSendsNothing(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, ok200)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Do(ctx, chatCall, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, srv.Count())
	//lint:ignore SA1012 a nil context must be an error, not a panic
	_, err = c.Do(nil, chatCall, nil) //nolint:staticcheck
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
}

func TestLoggerNeverSeesTheKey(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := setup(t, sequence(status(429, `{"error":"bad key `+testKey+`"}`, "Retry-After-Ms", "1"), ok200), chatbot.WithLogger(log))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "method=POST")
	assert.Contains(t, out, "path=chatbots/bot/chat")
	assert.Contains(t, out, "status=429")
	assert.Contains(t, out, "status=200")
	assert.Contains(t, out, "attempt=2")
	assert.Contains(t, out, "duration=")
	assert.NotContains(t, out, testKey)
	assert.NotContains(t, out, "TESTKEY")
}
