package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

// env is one provider's fake behind an in-process Toxiproxy, and a client
// that talks to the fake through it.
type env struct {
	p     provider
	fake  *fake
	base  string // the fake's base path, such as "/v1/"
	proxy *toxiproxy.Proxy
	tr    *countingTransport
	bot   chatbot.Chatbot
}

// setup starts the fake, the proxy in front of it and the client. Cleanups
// run in reverse: idle connections closed, proxy stopped, fake closed, then
// the goroutine check.
func setup(t *testing.T, p provider, repeat int, opts ...chatbot.Option) *env {
	t.Helper()
	leakCheck(t)
	f := p.start(t, "", repeat)
	t.Cleanup(f.close)
	u, err := url.Parse(f.url)
	require.NoError(t, err)
	if u.Path == "" {
		u.Path = "/"
	}

	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(api, p.name, "127.0.0.1:0", u.Host)
	require.NoError(t, proxy.Start())
	t.Cleanup(proxy.Stop)

	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	opts = append([]chatbot.Option{
		chatbot.WithBaseURL("http://" + proxy.Listen + u.Path),
		chatbot.WithHTTPClient(&http.Client{Transport: tr}),
	}, opts...)
	bot, err := p.newClient(f.key, f.id, opts...)
	require.NoError(t, err)
	return &env{p: p, fake: f, base: u.Path, proxy: proxy, tr: tr, bot: bot}
}

// sent returns how many chat messages the fake received: a conversation
// created first (userdesk, CustomGPT) or a stopped run (Dify) is not a
// message.
func (e *env) sent() int {
	n := 0
	for _, path := range e.fake.paths() {
		if matchPath(e.base+e.p.chatPath(e.fake.id), path) {
			n++
		}
	}
	return n
}

// warm sends one clean message and returns a request that continues its
// conversation, so that a fault added next hits the message itself
// (userdesk's Stream and CustomGPT would otherwise first create a
// conversation). It closes the idle connection, so the next call dials
// through the new toxic.
func (e *env) warm(t *testing.T, mode string) chatbot.Request {
	t.Helper()
	r, _, err := call(t.Context(), e.bot, mode)
	require.NoError(t, err)
	e.tr.CloseIdleConnections()
	return chatbot.Request{Message: "And then?", ConversationID: r.ConversationID}
}

// toxic adds a downstream (server to client) toxic of the given type.
func (e *env) toxic(t *testing.T, typ string, attrs string) {
	t.Helper()
	_, err := e.proxy.Toxics.AddToxicJson(strings.NewReader(
		fmt.Sprintf(`{"name":%q,"type":%q,"stream":"downstream","attributes":%s}`, typ, typ, attrs)))
	require.NoError(t, err)
}

// call sends one message, with Chat or through Stream and Collect, and
// returns the reply, the error and the chunks' texts.
func call(ctx context.Context, bot chatbot.Chatbot, mode string) (*chatbot.Reply, []string, error) {
	return callReq(ctx, bot, mode, chatbot.Request{Message: "Hello there"})
}

func callReq(ctx context.Context, bot chatbot.Chatbot, mode string, req chatbot.Request) (*chatbot.Reply, []string, error) {
	if mode == "chat" {
		r, err := bot.Chat(ctx, req)
		return r, nil, err
	}
	var texts []string
	chunks := func(yield func(chatbot.Chunk, error) bool) {
		for ch, err := range bot.Stream(ctx, req) {
			if err == nil {
				texts = append(texts, ch.Text)
			}
			if !yield(ch, err) {
				return
			}
		}
	}
	r, err := chatbot.Collect(chunks)
	return r, texts, err
}

// cases lists every provider with Chat, and the streaming ones with Stream.
func cases(t *testing.T, fn func(t *testing.T, p provider, mode string)) {
	for _, p := range providers {
		modes := []string{"chat"}
		if p.streams {
			modes = append(modes, "stream")
		}
		for _, mode := range modes {
			t.Run(p.name+"/"+mode, func(t *testing.T) { fn(t, p, mode) })
		}
	}
}

func TestToxicLatency(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 3)
		e.toxic(t, "latency", `{"latency":40,"jitter":10}`)
		r, _, err := call(t.Context(), e.bot, mode)
		require.NoError(t, err)
		require.Equal(t, replyText(3), r.Text)
		require.Equal(t, 1, e.sent())
	})
}

func TestToxicBandwidth(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 20)
		e.toxic(t, "bandwidth", `{"rate":16}`) // KB/s
		r, _, err := call(t.Context(), e.bot, mode)
		require.NoError(t, err)
		require.Equal(t, replyText(20), r.Text)
	})
}

func TestToxicSlicer(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 2)
		e.toxic(t, "slicer", `{"average_size":1,"size_variation":0,"delay":20}`) // 1-byte segments, 20 µs apart
		r, texts, err := call(t.Context(), e.bot, mode)
		require.NoError(t, err)
		require.Equal(t, replyText(2), r.Text)
		for i, s := range texts {
			require.True(t, utf8.ValidString(s), "chunk %d splits a character: %q", i, s)
		}
	})
}

func TestToxicLimitData(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 10)
		// A clean call first, to learn how many bytes the reply takes.
		_, _, err := call(t.Context(), e.bot, mode)
		require.NoError(t, err)
		total := e.tr.read.Load()
		e.tr.CloseIdleConnections() // the cut call dials afresh, and the limit counts from its first byte
		e.toxic(t, "limit_data", fmt.Sprintf(`{"bytes":%d}`, total*2/3))

		r, _, err := call(t.Context(), e.bot, mode)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.Equal(t, 2, e.sent(), "the cut message was sent exactly once")
		if mode == "stream" {
			require.NotNil(t, r)
			require.NotEmpty(t, r.Text, "Collect keeps the text received before the cut")
			require.True(t, strings.HasPrefix(replyText(10), r.Text))
			require.Less(t, len(r.Text), len(replyText(10)))
		}
	})
}

func TestToxicResetPeer(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 3)
		req := e.warm(t, mode)
		e.toxic(t, "reset_peer", `{"timeout":0}`) // RST as soon as the server answers
		_, _, err := callReq(t.Context(), e.bot, mode, req)
		require.Error(t, err)
		require.ErrorIs(t, err, syscall.ECONNRESET)
		var apiErr *chatbot.Error
		require.False(t, errors.As(err, &apiErr), "a transport failure is not a provider error: %v", err)
		require.Equal(t, 2, e.sent(), "the fake saw the POST exactly once: no retry after a reset")
	})
}

// stall is how long the stall tests wait; the call must end after it, and
// not hang (see within).
const stall = 600 * time.Millisecond

func TestToxicTimeoutIdle(t *testing.T) {
	for _, p := range streaming() {
		t.Run(p.name, func(t *testing.T) {
			e := setup(t, p, 3, chatbot.WithStreamIdleTimeout(stall))
			// A first reply gives a conversation to continue, so that
			// userdesk and CustomGPT send only the message (see
			// TestIdleTimeoutCoversConversation).
			first, _, err := call(t.Context(), e.bot, "stream")
			require.NoError(t, err)
			e.toxic(t, "timeout", `{"timeout":0}`) // the server's answer never arrives
			start := time.Now()
			_, _, err = callReq(t.Context(), e.bot, "stream", chatbot.Request{Message: "And then?", ConversationID: first.ConversationID})
			elapsed := time.Since(start)
			require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
			within(t, stall, elapsed)
			require.Equal(t, 2, e.sent())
			t.Logf("idle timeout %s ended the stream after %s", stall, elapsed)
		})
	}
}

// TestIdleTimeoutCoversConversation: the conversation userdesk's and
// CustomGPT's Stream create first is guarded by the stream idle timeout too,
// so a server that stalls there ends the stream on time.
func TestIdleTimeoutCoversConversation(t *testing.T) {
	for _, p := range streaming() {
		if !p.streamCreates {
			continue // nothing is sent before the message
		}
		t.Run(p.name, func(t *testing.T) {
			e := setup(t, p, 3, chatbot.WithStreamIdleTimeout(stall))
			e.toxic(t, "timeout", `{"timeout":0}`)
			// The deadline only stops a hang; ErrIdleTimeout, not
			// DeadlineExceeded, is the event that shows the idle timeout
			// guarded the conversation.
			ctx, cancel := context.WithTimeout(t.Context(), 2*overdue)
			defer cancel()
			start := time.Now()
			_, _, err := call(ctx, e.bot, "stream")
			elapsed := time.Since(start)
			require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
			within(t, stall, elapsed)
			require.Zero(t, e.sent(), "no message without a conversation")
		})
	}
}

func TestToxicTimeoutDeadline(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 3, chatbot.WithStreamIdleTimeout(0))
		req := e.warm(t, mode)
		e.toxic(t, "timeout", `{"timeout":0}`)
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), stall)
		defer cancel()
		_, _, err := callReq(ctx, e.bot, mode, req)
		elapsed := time.Since(start)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		within(t, stall, elapsed)
		require.Equal(t, 2, e.sent())
		t.Logf("deadline %s ended the call after %s", stall, elapsed)
	})
}

// TestToxicTimeoutClose: the proxy closes the connection after a silence,
// before any header: an error, and the POST is not sent again.
func TestToxicTimeoutClose(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 3)
		req := e.warm(t, mode)
		e.toxic(t, "timeout", `{"timeout":100}`)
		_, _, err := callReq(t.Context(), e.bot, mode, req)
		require.Error(t, err)
		var apiErr *chatbot.Error
		require.False(t, errors.As(err, &apiErr), "not a provider error: %v", err)
		require.Equal(t, 2, e.sent(), "not retried")
	})
}

// TestConnectionReuse: under steady load through a slow link, every call
// reuses the one connection.
func TestConnectionReuse(t *testing.T) {
	cases(t, func(t *testing.T, p provider, mode string) {
		e := setup(t, p, 2)
		e.toxic(t, "latency", `{"latency":2}`)
		const calls = 25
		for range calls {
			r, _, err := call(t.Context(), e.bot, mode)
			require.NoError(t, err)
			require.Equal(t, replyText(2), r.Text)
		}
		require.Equal(t, calls, e.sent())
		t.Logf("%d calls, %d connections", calls, e.fake.connections())
		if p.name == "workspace" && mode == "stream" {
			// The SDK stops at the end marker and closes the body without
			// reading the chunked terminator that follows, so the
			// connection is reused only when the terminator had already
			// arrived (an SDK gap, see the issue 8 note): most calls reuse.
			require.LessOrEqual(t, e.fake.connections(), calls/5)
			return
		}
		require.Equal(t, 1, e.fake.connections(), "sequential calls reuse one connection")
		require.EqualValues(t, 1, e.tr.dials.Load())
	})
}
