package resilience_test

import (
	"bytes"
	"context"
	"errors"
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
