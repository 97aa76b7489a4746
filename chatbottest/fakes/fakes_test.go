package fakes_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// server is the vocabulary every provider fake shares. That the eight
// fakes are assigned to it below is part of the test.
type server interface {
	APIKey() string
	SetReply(parts ...string)
	SetAnswer(fn func(message string) string)
	FailNext(n int, f fakes.Failure)
	RateLimitNext(n int, retryAfter time.Duration)
	StallNext(n int)
	Stalled() <-chan struct{}
	Requests() []fakes.Request
	Count() int
	Connections() int
	Disconnects() <-chan struct{}
	Close()
}

// identified is a fake whose provider's client takes a chatbot id (all
// but Dify's, whose key names the app).
type identified interface {
	server
	ChatbotID() string
}

// streamer is a fake of a streaming provider: it also shapes how a reply
// is written.
type streamer interface {
	server
	SetPace(d time.Duration)
	SplitWrites(size int, offsets ...int)
	CutAfter(n int)
	StallAfter(n int)
}

var (
	_ identified = (*workspacetest.Server)(nil)
	_ identified = (*userdesktest.Server)(nil)
	_ identified = (*stammertest.Server)(nil)
	_ identified = (*sitegpttest.Server)(nil)
	_ identified = (*chatbasetest.Server)(nil)
	_ server     = (*difytest.Server)(nil)
	_ identified = (*flowisetest.Server)(nil)
	_ identified = (*customgpttest.Server)(nil)

	_ streamer = (*workspacetest.Server)(nil)
	_ streamer = (*userdesktest.Server)(nil)
	_ streamer = (*chatbasetest.Server)(nil)
	_ streamer = (*difytest.Server)(nil)
	_ streamer = (*flowisetest.Server)(nil)
	_ streamer = (*customgpttest.Server)(nil)
)

// provider starts one fake and a client of it that does not retry.
type provider struct {
	name string
	// messageField is the body field that carries the message.
	messageField string
	start        func(t *testing.T) (server, chatbot.Chatbot)
}

// noRetries are the options of every client under test.
func noRetries(url string) []chatbot.Option {
	return []chatbot.Option{chatbot.WithBaseURL(url), chatbot.WithMaxRetries(0)}
}

// client makes a client of srv's chatbot with newClient.
func client[C chatbot.Chatbot](t *testing.T, newClient func(string, string, ...chatbot.Option) (C, error), srv identified, url string) chatbot.Chatbot {
	t.Helper()
	bot, err := newClient(srv.APIKey(), srv.ChatbotID(), noRetries(url)...)
	require.NoError(t, err)
	return bot
}

var providers = []provider{
	{name: "workspace", messageField: "message", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := workspacetest.NewServer(workspacetest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, workspace.NewClient, srv, srv.URL)
	}},
	{name: "userdesk", messageField: "message", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := userdesktest.NewServer(userdesktest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, userdesk.NewClient, srv, srv.URL)
	}},
	{name: "stammer", messageField: "query", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := stammertest.NewServer(stammertest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, stammer.NewClient, srv, srv.URL)
	}},
	{name: "sitegpt", messageField: "message", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := sitegpttest.NewServer(sitegpttest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, sitegpt.NewClient, srv, srv.URL)
	}},
	{name: "chatbase", messageField: "message", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := chatbasetest.NewServer(chatbasetest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, chatbase.NewClient, srv, srv.URL)
	}},
	{name: "dify", messageField: "query", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := difytest.NewServer(difytest.Config{})
		t.Cleanup(srv.Close)
		bot, err := dify.NewClient(srv.APIKey(), noRetries(srv.URL)...)
		require.NoError(t, err)
		return srv, bot
	}},
	{name: "flowise", messageField: "question", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := flowisetest.NewServer(flowisetest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, flowise.NewClient, srv, srv.URL)
	}},
	{name: "customgpt", messageField: "prompt", start: func(t *testing.T) (server, chatbot.Chatbot) {
		srv := customgpttest.NewServer(customgpttest.Config{})
		t.Cleanup(srv.Close)
		return srv, client(t, customgpt.NewClient, srv, srv.URL)
	}},
}

// await fails the test if c yields nothing within a bound far above any
// machine's latency.
func await(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		require.FailNow(t, what)
	}
}

// TestVocabulary runs the same script against every provider fake through
// its provider's client: the shared verbs must mean the same everywhere.
func TestVocabulary(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()

			t.Run("SetReply", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.SetReply("Hello ", "from ", "the fake.")
				reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
				require.NoError(t, err)
				assert.Equal(t, "Hello from the fake.", reply.Text)
			})

			t.Run("SetAnswer", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.SetAnswer(func(m string) string { return "You asked: " + strings.ToUpper(m) })
				reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "opening hours?"})
				require.NoError(t, err)
				assert.Equal(t, "You asked: OPENING HOURS?", reply.Text)
				streamed, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "and on Sundays?"}))
				require.NoError(t, err)
				assert.Equal(t, "You asked: AND ON SUNDAYS?", streamed.Text)
			})

			for _, tt := range []struct {
				status int
				want   error
			}{
				{http.StatusBadRequest, chatbot.ErrInvalidRequest},
				{http.StatusUnauthorized, chatbot.ErrUnauthorized},
				{http.StatusPaymentRequired, chatbot.ErrQuotaExceeded},
				{http.StatusForbidden, chatbot.ErrForbidden},
				{http.StatusNotFound, chatbot.ErrNotFound},
				{http.StatusInternalServerError, chatbot.ErrServer},
				{http.StatusServiceUnavailable, chatbot.ErrServer},
			} {
				t.Run("FailNext "+http.StatusText(tt.status), func(t *testing.T) {
					t.Parallel()
					srv, bot := p.start(t)
					srv.FailNext(1, fakes.Failure{Status: tt.status, Message: "scripted failure"})
					_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
					require.ErrorIs(t, err, tt.want)
					var apiErr *chatbot.Error
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, tt.status, apiErr.StatusCode)
					assert.Equal(t, p.name, apiErr.Provider)

					_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
					require.NoError(t, err, "only the next request fails")
				})
			}

			t.Run("RateLimitNext", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.RateLimitNext(1, 42*time.Second)
				_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
				require.ErrorIs(t, err, chatbot.ErrRateLimited)
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 42*time.Second, apiErr.RetryAfter)
				assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			})

			t.Run("Failure with RetryAfter", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.FailNext(1, fakes.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond})
				_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 2*time.Second, apiErr.RetryAfter, "whole seconds, rounded up")
			})

			t.Run("StallNext and a deadline", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.StallNext(1)
				// The stall holds the request until the client leaves, so
				// the deadline is what ends the call, however slow the
				// machine is.
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				defer cancel()
				done := make(chan error, 1)
				go func() {
					_, err := bot.Chat(ctx, chatbot.Request{Message: "hi"})
					done <- err
				}()
				select {
				case <-srv.Stalled():
					select {
					case err := <-done:
						require.ErrorIs(t, err, context.DeadlineExceeded)
					case <-time.After(10 * time.Second):
						require.FailNow(t, "the deadline did not end the call")
					}
					await(t, srv.Disconnects(), "the server did not see the client leave")
				case err := <-done:
					// So slow a machine that the deadline passed before the
					// request was sent: the client still reports it.
					require.ErrorIs(t, err, context.DeadlineExceeded)
				case <-time.After(10 * time.Second):
					require.FailNow(t, "the request was neither stalled nor ended")
				}
			})

			t.Run("StallNext counts", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				srv.StallNext(1)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() {
					_, err := bot.Chat(ctx, chatbot.Request{Message: "hi"})
					done <- err
				}()
				await(t, srv.Stalled(), "the request was not stalled")
				cancel()
				require.ErrorIs(t, <-done, context.Canceled)
				await(t, srv.Disconnects(), "the server did not see the client leave")

				reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
				require.NoError(t, err, "only the next request stalls")
				assert.NotEmpty(t, reply.Text)
			})

			t.Run("Requests", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				_, err := bot.Chat(t.Context(), chatbot.Request{Message: "record me"})
				require.NoError(t, err)
				reqs := srv.Requests()
				require.NotEmpty(t, reqs)
				assert.Equal(t, len(reqs), srv.Count())
				last := reqs[len(reqs)-1]
				assert.Equal(t, http.MethodPost, last.Method)
				assert.True(t, strings.HasPrefix(last.Path, "/"), last.Path)
				assert.Contains(t, last.Header.Get("Authorization"), srv.APIKey())
				assert.Equal(t, "record me", last.JSON()[p.messageField])
			})

			t.Run("Connections", func(t *testing.T) {
				t.Parallel()
				srv, bot := p.start(t)
				for range 3 {
					_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
					require.NoError(t, err)
				}
				assert.Equal(t, 1, srv.Connections(), "the client reuses its connection")
			})
		})
	}
}

// TestManualClock checks the clock tests hand to the fakes.
func TestManualClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := fakes.NewManualClock(start)
	assert.Equal(t, start, c.Now())
	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())
	var _ fakes.Clock = c
}

func TestRequestJSON(t *testing.T) {
	t.Parallel()
	assert.Equal(t, map[string]any{"a": 1.0}, fakes.Request{Body: []byte(`{"a":1}`)}.JSON())
	assert.Nil(t, fakes.Request{Body: []byte(`[1]`)}.JSON())
	assert.Nil(t, fakes.Request{}.JSON())
}
