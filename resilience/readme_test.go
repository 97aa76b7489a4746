package resilience_test

// The README's "Resilience" Go blocks appear here verbatim (the root module's
// readme_test.go checks that, line by line), where they are compiled and run
// against the provider fakes.

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func readmeResilience(workspaceBot, stammerBot chatbot.Chatbot) (chatbot.Chatbot, error) {
	limiter := resilience.NewLocalLimiter(resilience.PerHour(1000)) // the workspace plan: 1,000 requests an hour
	primary := chatbot.Wrap(workspaceBot,
		resilience.Breaker(resilience.WithFailures(5), resilience.WithOpenTimeout(30*time.Second)),
		resilience.Limit(limiter),
	)
	backup := chatbot.Wrap(stammerBot, resilience.Breaker())
	bot, err := resilience.NewFallback(
		resilience.Named{Name: "primary", Bot: primary},
		resilience.Named{Name: "backup", Bot: backup},
	)
	return bot, err
}

func TestReadmeResilience(t *testing.T) {
	t.Parallel()
	ws := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(ws.Close)
	st := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(st.Close)
	workspaceBot, err := workspace.NewClient(ws.APIKey(), ws.ChatbotID(), chatbot.WithBaseURL(ws.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	stammerBot, err := stammer.NewClient(st.APIKey(), st.ChatbotID(), chatbot.WithBaseURL(st.URL))
	require.NoError(t, err)
	bot, err := readmeResilience(workspaceBot, stammerBot)
	require.NoError(t, err)

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(reply.ConversationID, "primary:"), reply.ConversationID)
	ws.RateLimitNext(1, time.Minute)
	reply, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: "u1"}})
	require.NoError(t, err)
	assert.Equal(t, "backup:u1", reply.ConversationID)
	assert.Equal(t, 2, ws.Count())
	assert.Equal(t, 1, st.Count())
}

// TestReadmeFailoverOnRefusedConnection measures, on the client's clock and
// by counting connection attempts, how long a new conversation takes to
// move to the backup when the primary refuses connections. With the
// README's configuration (the primary's client made with
// chatbot.WithMaxRetries(0): the Fallback is its retry) the primary is
// dialled once and no backoff wait is taken: the failover costs no time.
// With the client's default retries, the refusal is tried three times with
// two backoff waits first, which is what the README warns of.
func TestReadmeFailoverOnRefusedConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []chatbot.Option
		attempts int // connection attempts at the primary
		waits    int // backoff waits taken before the failover
	}{
		{name: "README configuration", opts: []chatbot.Option{chatbot.WithMaxRetries(0)}, attempts: 1, waits: 0},
		{name: "default retries", attempts: 3, waits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			closed, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := closed.Addr().String()
			require.NoError(t, closed.Close()) // nothing listens there: every dial is refused
			var dials atomic.Int32
			refusing := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}}
			clk := clocktest.New(time.Unix(1_800_000_000, 0))
			workspaceBot, err := workspace.NewClient("sk-workspace_test", "bot", append([]chatbot.Option{
				chatbot.WithBaseURL("http://" + addr + "/api/v1/"), chatbot.WithHTTPClient(refusing),
				chatbot.WithStreamIdleTimeout(0), // no timer but the backoff's: every timer set is a wait
				config.WithClock(clk),
			}, tt.opts...)...)
			require.NoError(t, err)
			st := stammertest.NewServer(stammertest.Config{})
			t.Cleanup(st.Close)
			stammerBot, err := stammer.NewClient(st.APIKey(), st.ChatbotID(), chatbot.WithBaseURL(st.URL))
			require.NoError(t, err)
			bot, err := readmeResilience(workspaceBot, stammerBot)
			require.NoError(t, err)

			type result struct {
				reply *chatbot.Reply
				err   error
			}
			done := make(chan result, 1)
			go func() {
				reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
				done <- result{reply, err}
			}()
			for i := range tt.waits { // let each backoff wait pass on the fake clock
				clk.WaitArmed(t, i+1)
				clk.Advance(time.Minute)
			}
			var got result
			select {
			case got = <-done:
			case <-time.After(30 * time.Second):
				require.FailNow(t, "hang", "armed: %v", clk.Armed())
			}
			require.NoError(t, got.err)
			assert.True(t, strings.HasPrefix(got.reply.ConversationID, "backup:"), got.reply.ConversationID)
			assert.Equal(t, tt.attempts, int(dials.Load()), "connection attempts at the primary")
			assert.Len(t, clk.Armed(), tt.waits, "backoff waits before the failover: %v", clk.Armed())
			var failover time.Duration
			for _, d := range clk.Armed() {
				failover += d
			}
			if tt.waits == 0 {
				assert.Zero(t, failover, "the failover costs no wait")
			} else {
				assert.GreaterOrEqual(t, failover, 750*time.Millisecond, "two backoff waits: 250-500 ms, then 500 ms-1 s")
			}
			assert.Equal(t, 1, st.Count(), "the backup answered once")
		})
	}
}
