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
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
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
	events  bool // streams Server-Sent Events (userdesk streams raw text)
	// start starts the fake, with the given key ("" for the default) and a
	// reply of replyText(repeat).
	start     func(t *testing.T, key string, repeat int) *fake
	newClient func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error)
	// anyID is an id the client accepts, for the servers that answer any
	// path; empty means a UUID. CustomGPT's project ids are numbers.
	anyID string
	// noID marks a provider whose key names its chatbot (Dify's names its
	// app): newClient ignores id, and no id goes into a path.
	noID bool
	// chatPath is the escaped path a chat message for chatbot id goes to,
	// relative to the base URL; a "*" segment stands for any one segment
	// (CustomGPT's path names the conversation).
	chatPath func(id string) string
	// extraPaths are the other paths a chat may use, in the same pattern
	// form: the conversation userdesk's Stream and every CustomGPT chat
	// create first, the stop Dify's Stream sends for a run it left.
	extraPaths func(id string) []string
	// streamCreates and chatCreates say that Stream, and Chat, create a
	// conversation first (one more request, to the first of extraPaths)
	// unless the request continues one.
	streamCreates, chatCreates bool
}

// id returns p.anyID, or a UUID when it has none.
func (p provider) id() string {
	if p.anyID != "" {
		return p.anyID
	}
	return "12345678-1234-5678-1234-567812345678"
}

// byName returns the provider called name.
func byName(name string) provider {
	for _, p := range providers {
		if p.name == name {
			return p
		}
	}
	panic("no provider " + name)
}

// matchPath reports whether the escaped path matches pattern, segment by
// segment, a "*" segment matching any one non-empty segment.
func matchPath(pattern, path string) bool {
	ps, gs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(gs) {
		return false
	}
	for i, seg := range ps {
		if seg != gs[i] && (seg != "*" || gs[i] == "") {
			return false
		}
	}
	return true
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
		name: "workspace", streams: true, events: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := workspacetest.NewServer(workspacetest.Config{APIKey: key, RateLimit: 1 << 20})
			srv.SetReply(repeatParts(repeat)...)
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return workspace.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "chatbots/" + url.PathEscape(id) + "/chat" },
	},
	{
		name: "userdesk", streams: true, streamCreates: true,
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
	{
		name: "chatbase", streams: true, events: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := chatbasetest.NewServer(chatbasetest.Config{APIKey: key})
			srv.SetReply(repeatParts(repeat)...)
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return chatbase.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "agents/" + url.PathEscape(id) + "/chat" },
	},
	{
		name: "dify", streams: true, events: true, noID: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := difytest.NewServer(difytest.Config{APIKey: key})
			srv.SetReply(repeatParts(repeat)...)
			return observe(srv.URL, appServer{srv})
		},
		newClient: func(key, _ string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return dify.NewClient(key, opts...)
		},
		chatPath: func(string) string { return "chat-messages" },
		// A stream that ends before message_end stops its run: a stop is
		// not a message.
		extraPaths: func(string) []string { return []string{"chat-messages/*/stop"} },
	},
	{
		// A keyed flow: the harness checks the key is sent and never shown.
		name: "flowise", streams: true, events: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := flowisetest.NewServer(flowisetest.Config{APIKey: key})
			srv.SetReply(repeatParts(repeat)...)
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return flowise.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "api/v1/prediction/" + url.PathEscape(id) },
	},
	{
		name: "customgpt", streams: true, events: true, anyID: "4242", streamCreates: true, chatCreates: true,
		start: func(t *testing.T, key string, repeat int) *fake {
			srv := customgpttest.NewServer(customgpttest.Config{APIKey: key})
			srv.SetReply(repeatParts(repeat)...)
			return observe(srv.URL, srv)
		},
		newClient: func(key, id string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
			return customgpt.NewClient(key, id, opts...)
		},
		chatPath: func(id string) string { return "api/v1/projects/" + url.PathEscape(id) + "/conversations/*/messages" },
		extraPaths: func(id string) []string {
			return []string{"api/v1/projects/" + url.PathEscape(id) + "/conversations"}
		},
	},
}

// repeatParts returns replyParts repeat times over: replyText(repeat) in
// pieces, for the fakes that stream one piece per part.
func repeatParts(repeat int) []string {
	var parts []string
	for range repeat {
		parts = append(parts, replyParts...)
	}
	return parts
}

// appServer is a Dify fake under the harness's vocabulary: a Dify key names
// its app, so there is no chatbot id.
type appServer struct{ *difytest.Server }

func (appServer) ChatbotID() string { return "" }

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
	t.Cleanup(func() {
		// Dify's Stream stops a run it left in a goroutine of its own
		// (dify.StopTimeout documents it), which may still be retrying the
		// stop against the proxy the test just stopped: every goroutine
		// must end, and that one within its bound; settle is a hang guard.
		deadline := time.Now().Add(settle)
		for goleak.Find(opts...) != nil && time.Now().Before(deadline) {
		}
		goleak.VerifyNone(t, opts...)
	})
}

// settle is how long leakCheck lets goroutines take to end: the bound of
// Dify's detached stop, plus overdue.
const settle = dify.StopTimeout + overdue

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
