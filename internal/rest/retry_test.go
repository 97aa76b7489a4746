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
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

const testKey = "sk-workspace_TESTKEY0123456789"

// testConfig describes a provider with the codes and envelope of the
// workspace and SiteGPT APIs, as a provider package hands them to rest.New.
var testConfig = rest.Config{
	Provider:       "workspace",
	DefaultBaseURL: "https://pollybot.app/api/v1/",
	AuthScheme:     "Bearer",
	Codes: map[string]chatbot.Code{
		"INVALID_API_KEY":           chatbot.CodeUnauthorized,
		"CHATBOT_FETCH_FORBIDDEN":   chatbot.CodeForbidden,
		"CHATBOT_NOT_FOUND":         chatbot.CodeNotFound,
		"RATE_LIMIT_EXCEEDED":       chatbot.CodeRateLimitExceeded,
		"INSUFFICIENT_CREDITS":      chatbot.CodeQuotaExceeded,
		"MESSAGES_LIMIT_REACHED":    chatbot.CodeQuotaExceeded,
		"REQUEST_VALIDATION_FAILED": chatbot.CodeInvalidRequest,
	},
	SuccessField: "success",
}

// setup starts a recording fake running h and a client pointed at it.
func setup(t *testing.T, h http.HandlerFunc, opts ...chatbot.Option) (*rest.Client, *fake.Server) {
	t.Helper()
	srv := fake.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL + "/api/v1/")}, opts...)
	c, err := rest.New(testConfig, testKey, opts)
	require.NoError(t, err)
	return c, srv
}

// setupClock is setup with a fake clock starting at start.
func setupClock(t *testing.T, start time.Time, h http.HandlerFunc, opts ...chatbot.Option) (*rest.Client, *fake.Server, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(start)
	c, srv := setup(t, h, append(opts, config.WithClock(clk))...)
	return c, srv, clk
}

// result is what a call made on another goroutine returned.
type result struct {
	resp *rest.Response
	err  error
}

// goDo runs c.Do on another goroutine, so that the test can drive the clock.
func goDo(ctx context.Context, c *rest.Client, call rest.Call) <-chan result {
	done := make(chan result, 1)
	go func() {
		resp, err := c.Do(ctx, call, nil)
		done <- result{resp, err}
	}()
	return done
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
	c, srv, clk := setupClock(t, time.Now(), sequence(status(429, `{"success":false,"error":"slow down","code":"RATE_LIMIT_EXCEEDED","retryAfter":1}`), ok200),
		chatbot.WithStreamIdleTimeout(0))
	done := goDo(t.Context(), c, chatCall)
	clk.WaitFor(t, time.Second) // the client waits the 1 s the body asked for
	assert.Equal(t, 1, srv.Count(), "no retry before the wait is over")
	clk.Advance(time.Second - time.Nanosecond)
	assert.Equal(t, []time.Duration{time.Second}, clk.Pending(), "still waiting a nanosecond before the end")
	clk.Advance(time.Nanosecond)
	res := <-done
	require.NoError(t, res.err)
	assert.Equal(t, []time.Duration{time.Second}, clk.Armed(), "exactly one wait, of exactly 1 s")
	assert.Equal(t, 2, srv.Count(), "one retry")
	assert.Equal(t, 200, res.resp.StatusCode)
	reqs := srv.Requests()
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "the retried body is resent intact")
}

func TestRetryAfterOverMaxWaitReturnsAtOnce(t *testing.T) {
	t.Parallel()
	c, srv, clk := setupClock(t, time.Now(), status(429, `{"success":false,"error":"Rate limit exceeded.","code":"RATE_LIMIT_EXCEEDED","retryAfter":60}`),
		chatbot.WithStreamIdleTimeout(0))
	_, err := c.Do(t.Context(), chatCall, nil) // the fake clock never moves: a wait would block
	assert.Empty(t, clk.Armed(), "no wait was set")
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
	// The client's clock says the deadline is 1 s away; in real time it is an
	// hour away, so that a slow machine cannot reach it during the test.
	deadline := time.Now().Add(time.Hour)
	c, srv, clk := setupClock(t, deadline.Add(-time.Second), status(429, `{}`, "Retry-After", "3"), chatbot.WithStreamIdleTimeout(0))
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	_, err := c.Do(ctx, chatCall, nil)
	assert.Empty(t, clk.Armed(), "no sleep into the deadline")
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
	c, srv, clk := setupClock(t, time.Now(), status(429, `{"retryAfter":10}`), chatbot.WithStreamIdleTimeout(0))
	ctx, cancel := context.WithCancel(t.Context())
	done := goDo(ctx, c, chatCall)
	clk.WaitFor(t, 10*time.Second)
	cancel()
	res := <-done
	require.ErrorIs(t, res.err, context.Canceled)
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

func TestLoggerAtInfoSeesWaitsAndRefusals(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil)) // Info, as slog.Default()
	c, _ := setup(t, sequence(
		status(429, `{}`, "Retry-After-Ms", "1"),
		status(429, `{"retryAfter":60}`)), chatbot.WithLogger(log))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	out := buf.String()
	assert.Contains(t, out, "level=INFO msg=\"chatbot: retrying\"")
	assert.Contains(t, out, "wait=1ms")
	assert.Contains(t, out, "level=WARN msg=\"chatbot: refused by the provider\"")
	assert.Contains(t, out, "retry_after=1m0s")
	assert.NotContains(t, out, "http attempt", "per-attempt lines stay Debug")
	assert.NotContains(t, out, testKey)
}

// TestQuotaIsNeverRetried: a quota code is not retried even when the
// provider sends it with a status that is (a 429 or a 503 asking to wait),
// for a GET as for a POST.
func TestQuotaIsNeverRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			c, srv := setup(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "1")
				fake.WriteBody(w, status, `{"success":false,"error":"Out of credits","code":"INSUFFICIENT_CREDITS"}`)
			})
			call := rest.Call{Method: method, Path: "chatbots/bot/chat"}
			if method == http.MethodPost {
				call.Body = map[string]any{"message": "hi"}
			}
			_, err := c.Do(t.Context(), call, nil)
			require.ErrorIs(t, err, chatbot.ErrQuotaExceeded, "%s %d", method, status)
			assert.Equal(t, 1, srv.Count(), "%s %d: sent once, not retried", method, status)
		}
	}
}
