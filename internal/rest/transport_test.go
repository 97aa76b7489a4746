package rest_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
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
