package resilience_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestBreakerPassesConformance(t *testing.T) {
	t.Parallel()
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv, c := newWorkspace(t)
		return chatbottest.Target{Bot: chatbot.Wrap(c, resilience.Breaker(resilience.WithFailures(1))), Server: srv}
	})
}

// TestBreakerOpensAndRefusesAtOnce opens the circuit with three 500s and
// checks that calls then fail without reaching the fake.
func TestBreakerOpensAndRefusesAtOnce(t *testing.T) {
	t.Parallel()
	srv, c := newWorkspace(t)
	var changes []string
	var logs bytes.Buffer
	bot := chatbot.Wrap(c, resilience.Breaker(
		resilience.WithFailures(3),
		resilience.WithOpenTimeout(time.Hour),
		resilience.WithBreakerLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		resilience.WithStateChange(func(info chatbot.Info, from, to resilience.BreakerState) {
			changes = append(changes, info.Provider+" "+from.String()+">"+to.String())
		})))
	assert.Equal(t, chatbot.InfoOf(c), chatbot.InfoOf(bot), "Info is forwarded")

	srv.FailNext(3, workspacetest.Failure{Status: http.StatusBadGateway, Message: "bad gateway"})
	for i := range 3 {
		_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
		require.ErrorIs(t, err, chatbot.ErrServer, "call %d", i+1)
		if i < 2 {
			assert.Empty(t, changes, "still closed after %d failures", i+1)
		}
	}
	assert.Equal(t, []string{"workspace closed>open"}, changes)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "from=closed to=open")

	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.ErrorIs(t, err, resilience.ErrCircuitOpen)
	var open *resilience.CircuitOpenError
	require.ErrorAs(t, err, &open)
	assert.Equal(t, chatbot.InfoOf(c), open.Info)
	assert.Positive(t, open.RetryAfter)
	assert.LessOrEqual(t, open.RetryAfter, time.Hour)
	assert.True(t, strings.HasPrefix(err.Error(), "resilience: circuit open for workspace/"+srv.ChatbotID()+" (next probe in "), err.Error())
	assert.Equal(t, http.StatusServiceUnavailable, relay.Status(err), "a relay answers an open circuit with 503")
	assert.Equal(t, open.RetryAfter, relay.RetryAfter(err), "and Retry-After until the next probe")

	_, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hello"}))
	require.ErrorIs(t, err, resilience.ErrCircuitOpen)
	assert.Equal(t, 3, srv.Count(), "an open circuit sends nothing")
}

// TestBreakerHalfOpen walks the circuit through open, half-open and closed.
// An open timeout of a nanosecond makes the circuit half-open at the next
// call after it opens, so no test waits.
func TestBreakerHalfOpen(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	c, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	changes := make(chan string, 16)
	bot := chatbot.Wrap(c, resilience.Breaker(
		resilience.WithFailures(1),
		resilience.WithOpenTimeout(time.Nanosecond),
		resilience.WithStateChange(func(_ chatbot.Info, from, to resilience.BreakerState) { changes <- from.String() + ">" + to.String() })))
	next := func() string {
		select {
		case c := <-changes:
			return c
		default:
			return ""
		}
	}

	srv.FailNext(1, stammertest.ServerError())
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, "closed>open", next())

	// The probe stalls at the fake; meanwhile every other call is refused.
	srv.StallNext(1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	probe := make(chan error, 1)
	go func() {
		_, err := chatbot.Collect(bot.Stream(ctx, chatbot.Request{Message: "probe"}))
		probe <- err
	}()
	<-srv.Stalled()
	assert.Equal(t, "open>half-open", next())
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	var open *resilience.CircuitOpenError
	require.ErrorAs(t, err, &open, "half-open lets one probe through")
	assert.Zero(t, open.RetryAfter, "the probe's outcome decides")
	assert.Contains(t, err.Error(), "(probe under way)")
	assert.Equal(t, 2, srv.Count(), "only the first call and the probe were sent")

	// The caller gives up on the probe: that says nothing about the
	// provider, so the next call is the probe.
	cancel()
	require.ErrorIs(t, <-probe, context.Canceled)
	assert.Empty(t, next())
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "second probe"})
	require.NoError(t, err)
	assert.NotEmpty(t, reply.Text)
	assert.Equal(t, "half-open>closed", next())

	// A failed probe opens the circuit again.
	srv.FailNext(2, stammertest.ServerError())
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, "closed>open", next())
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "failing probe"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, "open>half-open", next())
	assert.Equal(t, "half-open>open", next())
	assert.Equal(t, 5, srv.Count())
}

// TestBreakerRace200Goroutines has 200 goroutines call one failing chatbot
// behind one breaker: every call either reached the fake and got its 500,
// or was refused by the open circuit, and the circuit opened exactly once.
func TestBreakerRace200Goroutines(t *testing.T) {
	t.Parallel()
	const n = 200
	srv, c := newWorkspace(t)
	srv.FailNext(10*n, workspacetest.Failure{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "down"})
	changes := make(chan string, n)
	bot := chatbot.Wrap(c, resilience.Breaker(resilience.WithFailures(5), resilience.WithOpenTimeout(time.Hour),
		resilience.WithStateChange(func(_ chatbot.Info, from, to resilience.BreakerState) { changes <- from.String() + ">" + to.String() })))
	var wg sync.WaitGroup
	var sent, refused atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
			} else {
				_, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hello"}))
			}
			switch {
			case errors.Is(err, chatbot.ErrServer):
				sent.Add(1)
			case errors.Is(err, resilience.ErrCircuitOpen):
				refused.Add(1)
			default:
				assert.Fail(t, "unexpected outcome", "%v", err)
			}
		}()
	}
	wg.Wait()
	close(changes)
	var got []string
	for c := range changes {
		got = append(got, c)
	}
	assert.Equal(t, []string{"closed>open"}, got)
	assert.Equal(t, int64(srv.Count()), sent.Load(), "every call that got a 500 was sent, and no other")
	assert.GreaterOrEqual(t, sent.Load(), int64(5))
	assert.Equal(t, int64(n), sent.Load()+refused.Load())
}

// panicAt says where a panicky chatbot panics.
type panicAt int32

const (
	noPanic          panicAt = iota
	panicInChat              // in Chat, before sending
	panicBeforeChunk         // in the stream, before its first chunk
	panicAfterChunk          // in the stream, after the consumer took its first chunk
	panicInLoopBody          // in the consumer's loop body (the test's own loop)
	panicValue       = "chatbot bug"
)

// panicky is a chatbot (a buggy layer over a real client) that panics where
// at says.
type panicky struct {
	chatbot.Chatbot
	at *atomic.Int32
}

func (p panicky) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	if panicAt(p.at.Load()) == panicInChat {
		panic(panicValue)
	}
	return p.Chatbot.Chat(ctx, req)
}

func (p panicky) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	at := panicAt(p.at.Load())
	return func(yield func(chatbot.Chunk, error) bool) {
		if at == panicBeforeChunk {
			panic(panicValue)
		}
		for c, err := range p.Chatbot.Stream(ctx, req) {
			if !yield(c, err) {
				return
			}
			if at == panicAfterChunk {
				panic(panicValue)
			}
		}
	}
}

func (p panicky) Info() chatbot.Info { return chatbot.InfoOf(p.Chatbot) }

// TestBreakerPanickingProbeNeverWedges makes the probe of a half-open
// circuit panic, in Chat, in the stream before or after its first chunk, or
// in the consumer's loop body. The panic reaches the caller unchanged; a
// panic of the chatbot counts as a failure (the circuit opens again), one of
// the consumer's loop counts neither way (the circuit stays half-open); and
// either way the next call is a probe that can close the circuit, where a
// probe that never reported would leave every later call refused with
// "probe under way" for the life of the process.
func TestBreakerPanickingProbeNeverWedges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		at    panicAt
		after []string // the state changes the panicking probe makes
	}{
		{name: "Chat", at: panicInChat, after: []string{"open>half-open", "half-open>open"}},
		{name: "Stream before the first chunk", at: panicBeforeChunk, after: []string{"open>half-open", "half-open>open"}},
		{name: "Stream after the first chunk", at: panicAfterChunk, after: []string{"open>half-open", "half-open>open"}},
		{name: "consumer's loop body", at: panicInLoopBody, after: []string{"open>half-open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := stammertest.NewServer(stammertest.Config{})
			t.Cleanup(srv.Close)
			c, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
			require.NoError(t, err)
			var at atomic.Int32
			var mu sync.Mutex
			var changes []string
			taken := func() []string {
				mu.Lock()
				defer mu.Unlock()
				got := changes
				changes = nil
				return got
			}
			bot := chatbot.Wrap(c,
				resilience.Breaker(resilience.WithFailures(1), resilience.WithOpenTimeout(time.Nanosecond),
					resilience.WithStateChange(func(_ chatbot.Info, from, to resilience.BreakerState) {
						mu.Lock()
						changes = append(changes, from.String()+">"+to.String())
						mu.Unlock()
					})),
				func(next chatbot.Chatbot) chatbot.Chatbot { return panicky{Chatbot: next, at: &at} })

			srv.FailNext(1, stammertest.ServerError())
			_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
			require.ErrorIs(t, err, chatbot.ErrServer)
			require.Equal(t, []string{"closed>open"}, taken())

			at.Store(int32(tt.at))
			require.PanicsWithValue(t, panicValue, func() {
				if tt.at == panicInChat {
					_, _ = bot.Chat(t.Context(), chatbot.Request{Message: "probe"})
					return
				}
				for _, err := range bot.Stream(t.Context(), chatbot.Request{Message: "probe"}) {
					require.NoError(t, err)
					if tt.at == panicInLoopBody {
						panic(panicValue)
					}
				}
			}, "the panic reaches the caller")
			assert.Equal(t, tt.after, taken())

			at.Store(int32(noPanic))
			reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "next probe"})
			require.NoError(t, err, "the next call is a probe, not refused")
			assert.NotEmpty(t, reply.Text)
			want := []string{"open>half-open", "half-open>closed"}
			if tt.at == panicInLoopBody {
				want = want[1:]
			}
			assert.Equal(t, want, taken())
		})
	}
}
