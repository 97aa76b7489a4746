package reliability_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// reply is the text every fake answers with: multi-byte characters of every
// UTF-8 length, so that a split character would show.
var replyParts = []string{"Héllo ", "wörld, ", "naïve ", "café — ", "☃ ", "日本語 ", "テキスト ", "🎉🚀 ", "done."}

func replyText(repeat int) string { return strings.Repeat(strings.Join(replyParts, ""), repeat) }

// fake is what the tests need from any provider's fake server.
type fake struct {
	url         string // the base URL (with the provider's path prefix)
	key         string // the accepted key
	id          string // the chatbot id
	count       func() int
	connections func() int
	paths       func() []string // the escaped paths received, in order
	close       func()
	disconnects <-chan struct{}
}

// provider builds one provider's fake and client.
type provider struct {
	name    string
	streams bool // streams for real (not one final chunk)
	// start starts the fake, with the given key ("" for the default) and a
	// reply of replyText(repeat).
	start     func(t *testing.T, key string, repeat int) *fake
	newClient func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error)
	// chatPath is the escaped path a chat message for chatbot id goes to,
	// relative to the base URL.
	chatPath func(id string) string
	// extraPaths are the other paths a chat may use (userdesk's Stream
	// first creates a conversation).
	extraPaths func(id string) []string
}

// server is the vocabulary every provider fake shares, as far as the
// harness uses it.
type server interface {
	APIKey() string
	ChatbotID() string
	Count() int
	Connections() int
	Requests() []fakes.Request
	Disconnects() <-chan struct{}
	Close()
}

// observe returns the harness's view of a started provider fake.
func observe(url string, srv server) *fake {
	return &fake{
		url: url, key: srv.APIKey(), id: srv.ChatbotID(), count: srv.Count, connections: srv.Connections,
		paths: func() []string {
			var p []string
			for _, r := range srv.Requests() {
				p = append(p, r.Path)
			}
			return p
		},
		close: srv.Close, disconnects: srv.Disconnects(),
	}
}

var providers = []provider{
	{
		name: "workspace", streams: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := workspacetest.NewServer(workspacetest.Config{APIKey: key, RateLimit: 1 << 20})
			parts := []string{}
			for range repeat {
				parts = append(parts, replyParts...)
			}
			srv.SetReply(parts...)
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return workspace.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "chatbots/" + url.PathEscape(id) + "/chat" },
	},
	{
		name: "userdesk", streams: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := userdesktest.NewServer(userdesktest.Config{APIKey: key})
			srv.SetReply(replyText(repeat))
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return userdesk.NewClient(key, id, opts...)
		},
		chatPath:   func(id string) string { return "chatbot/" + url.PathEscape(id) + "/message" },
		extraPaths: func(id string) []string { return []string{"chatbot/" + url.PathEscape(id) + "/conversation"} },
	},
	{
		name: "stammer",
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := stammertest.NewServer(stammertest.Config{APIKey: key})
			srv.SetReply(replyText(repeat))
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return stammer.NewClient(key, id, opts...)
		},
		chatPath: func(string) string { return "chatbot/api/v1/message/" },
	},
	{
		name: "sitegpt",
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := sitegpttest.NewServer(sitegpttest.Config{APIKey: key})
			srv.SetReply(replyText(repeat))
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return sitegpt.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "chatbots/" + url.PathEscape(id) + "/message" },
	},
}

// streaming returns the providers that stream for real.
func streaming() []provider {
	var ps []provider
	for _, p := range providers {
		if p.streams {
			ps = append(ps, p)
		}
	}
	return ps
}

// countingTransport is a clone of http.DefaultTransport (as the SDK's own
// default is) whose dials are counted, so a test can close its idle
// connections and see how many bytes a reply takes on the wire.
type countingTransport struct {
	*http.Transport
	dials   atomic.Int64
	read    atomic.Int64 // bytes read from every connection
	open    atomic.Int64 // connections open now
	maxOpen atomic.Int64 // the most connections open at once
}

func newTransport() *countingTransport {
	ct := &countingTransport{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ct.ResponseHeaderTimeout = 2 * time.Minute
	d := &net.Dialer{Timeout: 5 * time.Second}
	ct.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		ct.dials.Add(1)
		n := ct.open.Add(1)
		for {
			m := ct.maxOpen.Load()
			if n <= m || ct.maxOpen.CompareAndSwap(m, n) {
				break
			}
		}
		return &countingConn{Conn: c, t: ct}, nil
	}
	return ct
}

type countingConn struct {
	net.Conn
	t      *countingTransport
	closed atomic.Bool
}

func (c *countingConn) Close() error {
	if !c.closed.Swap(true) {
		c.t.open.Add(-1)
	}
	return c.Conn.Close()
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.t.read.Add(int64(n))
	return n, err
}

// leakCheck records the goroutines running now and, at cleanup (registered
// first, so it runs after every other cleanup), fails the test if any other
// goroutine is still running. Tests that use it are not parallel.
func leakCheck(t *testing.T) {
	t.Helper()
	opts := []goleak.Option{
		goleak.IgnoreCurrent(),
		// Toxiproxy's own goroutines can stay blocked sending into a link
		// that already ended: the slicer (toxics/slicer.go:64), and after a
		// reset_peer the noop stub and the link's reader. Its leaks, not
		// the SDK's; every other goroutine is checked.
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2/toxics.(*SlicerToxic).Pipe"),
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2/toxics.(*NoopToxic).Pipe"),
		goleak.IgnoreTopFunction("github.com/Shopify/toxiproxy/v2/stream.(*ChanWriter).Write"),
	}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// within asserts that a call with a deadline or timeout of want ended after
// want (elapsed, measured in real time: the timers under test are real ones
// over a real proxy) and did not hang.
func within(t *testing.T, want, elapsed time.Duration) {
	t.Helper()
	require.GreaterOrEqual(t, elapsed, want, "ended before its deadline")
	require.LessOrEqual(t, elapsed, want+overdue, "ended long after its deadline: it hung")
}

// overdue is how late past its deadline a call may end before within calls
// it hung. It is far above any scheduling delay of a busy machine, so that
// only a timeout that does not fire fails, never a slow run. (The lower bound
// needs no slack: the timer starts after the stopwatch, so a call that ends
// before its deadline is a real defect.)
const overdue = 30 * time.Second
