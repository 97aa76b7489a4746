package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatbot-go/chatbot"
)

// h2MaxStreams is the server's limit on concurrent streams per HTTP/2
// connection (Go's default, set explicitly so the bound below is known).
const h2MaxStreams = 250

// h2Scenario is scenario 8: cfg.h2Streams concurrent streams through a TLS
// server speaking HTTP/2, with the transport the SDK uses by default (a
// clone of http.DefaultTransport, given through WithHTTPClient only to
// trust the test CA), against the floor on the same transport. Streams
// should be multiplexed: at most ceil(streams / h2MaxStreams) connections
// carry them.
func h2Scenario() scenario {
	body, _ := sseBody(concurrentDeltas)
	return scenario{
		name: "8. HTTP/2 over TLS (1,000 concurrent streams, one client; -quick: 100)",
		setup: func(cfg config) ([]contender, func()) {
			srv, used := newH2Server(bodyHandler("text/event-stream", body))
			url := srv.URL + "/api/v1/chatbots/" + chatbotID + "/chat"
			floorHC, sdkHC := h2Client(srv), h2Client(srv)
			bot := mustWorkspace(srv.URL, chatbot.WithHTTPClient(sdkHC))
			return []contender{
					{"floor: net/http + sse.Read + encoding/json", func(ctx context.Context) (outcome, error) {
						return multiplexed(ctx, cfg.h2Streams, used, func(ctx context.Context) (outcome, error) { return floorSSE(ctx, floorHC, url, nil) })
					}},
					{"chatbot: workspace Stream", func(ctx context.Context) (outcome, error) {
						return multiplexed(ctx, cfg.h2Streams, used, func(ctx context.Context) (outcome, error) { return chatbotStream(ctx, bot, nil) })
					}},
				}, func() {
					floorHC.CloseIdleConnections()
					sdkHC.CloseIdleConnections()
					srv.Close()
				}
		},
		check: func(cfg config, o outcome) error {
			if want := cfg.h2Streams * concurrentDeltas; o.deltas != want {
				return fmt.Errorf("%d deltas, want %d", o.deltas, want)
			}
			if o.conns < 1 || o.conns >= cfg.h2Streams && cfg.h2Streams > 1 {
				return fmt.Errorf("%d connections carried %d streams: not multiplexed", o.conns, cfg.h2Streams)
			}
			return nil
		},
		key: func(r testing.BenchmarkResult) float64 { return r.Extra["wall-ms/op"] },
		row: func(r, floor testing.BenchmarkResult) (string, string) {
			figure := fmt.Sprintf("%.0f ms wall, %.0f deltas/s, %.0f connections used (ideal %.0f)", r.Extra["wall-ms/op"], r.Extra["deltas/s"],
				r.Extra["conns/op"], r.Extra["ideal-conns/op"])
			return figure, fmt.Sprintf("%.2f× time", r.Extra["wall-ms/op"]/floor.Extra["wall-ms/op"])
		},
	}
}

// h2Ideal is the fewest connections that can carry n concurrent streams
// under the server's limit. Go's HTTP/2 client, when a burst of requests
// finds its connection at the limit, dials for each waiting request before
// the new connections' SETTINGS arrive, so it may use more; the row reports
// what was used.
func h2Ideal(n int) int { return (n + h2MaxStreams - 1) / h2MaxStreams }

// newH2Server starts a TLS server with HTTP/2 and returns it with a
// function that takes the set of client addresses (connections) that
// carried requests since the last call.
func newH2Server(h http.HandlerFunc) (*httptest.Server, func() int) {
	var (
		mu    sync.Mutex
		addrs = map[string]bool{}
		proto atomic.Value
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addrs[r.RemoteAddr] = true
		mu.Unlock()
		proto.Store(r.Proto)
		h(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: h2MaxStreams}
	srv.StartTLS()
	used := func() int {
		mu.Lock()
		defer mu.Unlock()
		if p, _ := proto.Load().(string); p != "" && p != "HTTP/2.0" {
			panic("the HTTP/2 scenario was served over " + p)
		}
		n := len(addrs)
		clear(addrs)
		return n
	}
	return srv, used
}

// h2Client is the SDK's default transport (a clone of http.DefaultTransport
// keeping as many idle connections per host as in all), trusting srv's CA.
func h2Client(srv *httptest.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	t.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: t}
}

// multiplexed runs n streams at once and reports the wall time and the
// connections that carried them.
func multiplexed(ctx context.Context, n int, used func() int, stream func(context.Context) (outcome, error)) (outcome, error) {
	used() // forget the connections of earlier operations
	total, err := fanOut(ctx, n, stream)
	total.conns = used()
	total.idealConns = h2Ideal(n)
	return total, err
}
