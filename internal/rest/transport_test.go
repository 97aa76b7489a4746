package rest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// TestClientsShareOneTransport makes 200 clients, as a multi-tenant backend
// holds one per tenant, and sends one call through each: they share one
// connection pool, so one connection serves them all, and no client leaves a
// goroutine behind. Not parallel: it counts the process's goroutines.
func TestClientsShareOneTransport(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(ok200)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	before := runtime.NumGoroutine()
	clients := make([]*rest.Client, 200)
	for i := range clients {
		c, err := rest.New(testConfig, testKey, []chatbot.Option{chatbot.WithBaseURL(srv.URL)})
		require.NoError(t, err)
		clients[i] = c
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "a client starts no goroutine")
	for _, c := range clients {
		_, err := c.Do(t.Context(), chatCall, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), conns.Load(), "one pooled connection for 200 clients")
	// One connection costs a few goroutines (its read and write loops, the
	// server's handler); a transport per client would cost about 600.
	assert.Less(t, runtime.NumGoroutine()-before, 10)
}

// TestCancelledCallKeepsOtherClientsConnections: go-retryablehttp closes the
// idle connections of its HTTP client when a retry wait is cancelled; with
// the shared default client that must not cost the other clients theirs.
func TestCancelledCallKeepsOtherClientsConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	var refuse atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			status(429, `{"retryAfter":10}`)(w, r)
			return
		}
		ok200(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	opts := []chatbot.Option{chatbot.WithBaseURL(srv.URL)}
	a, err := rest.New(testConfig, testKey, opts)
	require.NoError(t, err)
	clk := clocktest.New(time.Now())
	b, err := rest.New(testConfig, testKey, append(opts, config.WithClock(clk), chatbot.WithStreamIdleTimeout(0)))
	require.NoError(t, err)

	_, err = a.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), conns.Load())

	refuse.Store(true)
	ctx, cancel := context.WithCancel(t.Context())
	done := goDo(ctx, b, chatCall)
	clk.WaitFor(t, 10*time.Second)
	cancel() // go-retryablehttp now calls CloseIdleConnections
	require.ErrorIs(t, (<-done).err, context.Canceled)

	refuse.Store(false)
	_, err = a.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), conns.Load(), "a's pooled connection survived b's cancelled call")
}
