package resilience_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// fault is a failure the rig's transport makes on demand, in front of the
// primary's fake.
type fault int32

const (
	noFault        fault = iota
	dialRefused          // dial a closed port: a real connection refused
	dnsFailure           // resolve through a resolver that cannot reach DNS: a real *net.DNSError
	resetAfterSend       // the fake receives and answers the request, then the connection "resets"
)

// rig is a primary chatbot (a provider fake behind Breaker and Limit) and a
// backup chatbot (another provider's fake), with a Fallback over them. The
// primary is a workspace fake, or a Stammer fake when stammerPrimary is set
// (the backup is then the workspace fake).
type rig struct {
	ws *workspacetest.Server
	st *stammertest.Server

	fault    atomic.Int32 // a fault for the primary's transport
	throttle atomic.Bool  // the primary's limiter refuses
	limitErr atomic.Bool  // the primary's limiter fails

	mu      sync.Mutex
	changes []string // the primary breaker's state changes, "from>to"

	primary chatbot.Chatbot
	backup  chatbot.Chatbot
	fb      *resilience.Fallback

	stammerPrimary bool
}

type rigConfig struct {
	stammerPrimary bool
	failures       int           // breaker threshold; default 2
	openTimeout    time.Duration // default an hour
	idle           time.Duration // the primary's stream idle timeout; default the SDK's
	headerTimeout  time.Duration // the primary's response-header timeout; default none
}

func newRig(t *testing.T, cfg rigConfig) *rig {
	t.Helper()
	r := &rig{ws: workspacetest.NewServer(workspacetest.Config{}), st: stammertest.NewServer(stammertest.Config{}), stammerPrimary: cfg.stammerPrimary}
	t.Cleanup(r.ws.Close)
	t.Cleanup(r.st.Close)
	if cfg.failures == 0 {
		cfg.failures = 2
	}
	if cfg.openTimeout == 0 {
		cfg.openTimeout = time.Hour
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())
	base := &http.Transport{ResponseHeaderTimeout: cfg.headerTimeout}
	broken := &http.Transport{DialContext: (&net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, closedAddr) // no DNS server there
		},
	}}).DialContext}
	t.Cleanup(base.CloseIdleConnections)
	hc := &http.Client{Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
		switch fault(r.fault.Load()) {
		case dialRefused:
			req = req.Clone(req.Context())
			req.URL.Host = closedAddr
			return broken.RoundTrip(req)
		case dnsFailure:
			req = req.Clone(req.Context())
			req.URL.Host = "chatbot.invalid:80"
			return broken.RoundTrip(req)
		case resetAfterSend:
			resp, err := base.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				err = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
			}
			return nil, err
		}
		return base.RoundTrip(req)
	})}
	plain := &http.Client{Transport: base}
	opts := []chatbot.Option{chatbot.WithMaxRetries(0)}
	if cfg.idle > 0 {
		opts = append(opts, chatbot.WithStreamIdleTimeout(cfg.idle))
	}
	// The primary's client goes through the faulty transport, the backup's
	// straight to its fake.
	wsHC, stHC := hc, plain
	if cfg.stammerPrimary {
		wsHC, stHC = plain, hc
	}
	wsClient, err := workspace.NewClient(r.ws.APIKey(), r.ws.ChatbotID(), append(opts, chatbot.WithBaseURL(r.ws.URL), chatbot.WithHTTPClient(wsHC))...)
	require.NoError(t, err)
	stClient, err := stammer.NewClient(r.st.APIKey(), r.st.ChatbotID(), append(opts, chatbot.WithBaseURL(r.st.URL), chatbot.WithHTTPClient(stHC))...)
	require.NoError(t, err)
	var prim, back chatbot.Chatbot = wsClient, stClient
	if cfg.stammerPrimary {
		prim, back = stClient, wsClient
	}
	limiter := limiterFunc(func(context.Context, string) (time.Duration, error) {
		switch {
		case r.limitErr.Load():
			return 0, errors.New("limiter store unreachable")
		case r.throttle.Load():
			return time.Hour, nil
		}
		return 0, nil
	})
	r.primary = chatbot.Wrap(prim,
		resilience.Breaker(resilience.WithFailures(cfg.failures), resilience.WithOpenTimeout(cfg.openTimeout),
			resilience.WithStateChange(func(_ chatbot.Info, from, to resilience.BreakerState) {
				r.mu.Lock()
				r.changes = append(r.changes, from.String()+">"+to.String())
				r.mu.Unlock()
			})),
		resilience.Limit(limiter, resilience.WithMaxWait(time.Minute)))
	r.backup = back
	r.fb, err = resilience.NewFallback(resilience.Named{Name: "primary", Bot: r.primary}, resilience.Named{Name: "backup", Bot: r.backup})
	require.NoError(t, err)
	return r
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// counts returns how many requests the primary's and the backup's fakes
// received.
func (r *rig) counts() (primary, backup int) {
	if r.stammerPrimary {
		return r.st.Count(), r.ws.Count()
	}
	return r.ws.Count(), r.st.Count()
}

// Changes returns the primary breaker's state changes so far.
func (r *rig) Changes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changes)
}

// fail500 makes the primary's next request fail with a 500.
func (r *rig) fail500() {
	if r.stammerPrimary {
		r.st.FailNext(1, stammertest.ServerError())
		return
	}
	r.ws.FailNext(1, workspacetest.Failure{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "boom"})
}
