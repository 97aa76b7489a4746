package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/examples/internal/transcript"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/relay/relaytest"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

const timeout = 30 * time.Second

// start runs the service on a free loopback port until the test ends and
// returns its base URL and its log.
func start(t *testing.T, env bots.LookupEnv, args ...string) (string, *transcript.Buffer) {
	t.Helper()
	return transcript.Serve(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, append([]string{"-addr", "127.0.0.1:0", "-pace", "0"}, args...), out, env)
	})
}

// workspaceFake starts a workspace fake and the environment that points the
// service at it, as if it were the real service.
func workspaceFake(t *testing.T) (*workspacetest.Server, bots.LookupEnv) {
	t.Helper()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	return srv, bots.Env(map[string]string{
		"WORKSPACE_API_KEY":    srv.APIKey(),
		"WORKSPACE_CHATBOT_ID": srv.ChatbotID(),
		"WORKSPACE_BASE_URL":   srv.URL,
	})
}

func post(t *testing.T, ctx context.Context, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// read folds the service's reply with relaytest.
func read(t *testing.T, resp *http.Response) (*chatbot.Reply, error) {
	t.Helper()
	return chatbot.Collect(relaytest.Read(resp))
}

func TestServiceRelay(t *testing.T) {
	t.Parallel()
	srv, env := workspaceFake(t)
	srv.SetReply("Hello ", "from ", "the ", "service.")
	url, out := start(t, env)

	resp := post(t, t.Context(), url, `{"message":"hi"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	reply, err := read(t, resp)
	require.NoError(t, err)
	assert.Equal(t, "Hello from the service.", reply.Text)
	id := reply.ConversationID
	require.NotEmpty(t, id)

	// The conversation continues with the id the page sends back.
	reply, err = read(t, post(t, t.Context(), url, `{"message":"again","conversationId":"`+id+`"}`))
	require.NoError(t, err)
	assert.Equal(t, id, reply.ConversationID)
	assert.Equal(t, []string{"hi", "again"}, srv.Messages(id))
	text2, ok := out.WaitForCount("chat: relayed", 2, timeout)
	assert.True(t, ok, text2)
}

func TestServiceWithBuiltInFake(t *testing.T) {
	t.Parallel()
	url, out := start(t, nil, "-provider", "stammer")
	assert.Contains(t, out.String(), "relaying stammer: built-in fake")

	reply, err := read(t, post(t, t.Context(), url, `{"message":"hello"}`))
	require.NoError(t, err)
	assert.Equal(t, bots.DemoAnswer("stammer", "hello"), reply.Text)
}

func TestServiceBadRequest(t *testing.T) {
	t.Parallel()
	srv, env := workspaceFake(t)
	url, _ := start(t, env)
	for _, body := range []string{`{"message":"  "}`, `not json`} {
		_, err := read(t, post(t, t.Context(), url, body))
		var relayErr *relaytest.Error
		require.ErrorAs(t, err, &relayErr, body)
		assert.Equal(t, http.StatusBadRequest, relayErr.Status, body)
		assert.Equal(t, relay.CodeInvalidRequest, relayErr.Code, body)
	}
	assert.Zero(t, srv.Count(), "nothing was sent")
}

func TestServicePage(t *testing.T) {
	t.Parallel()
	_, env := workspaceFake(t)
	url, _ := start(t, env)
	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	for _, want := range []string{`fetch("/chat"`, "getReader()", "AbortController", `case "error"`} {
		assert.Contains(t, string(body), want)
	}
}

func TestServiceErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script func(*workspacetest.Server)
		status int    // of a failure before the first byte; 0 for one in the stream
		text   string // relayed before the error
		code   string
		secret string // the provider's words, never relayed
	}{
		{
			name: "refused before the first byte",
			script: func(s *workspacetest.Server) {
				s.FailNext(1, workspacetest.Failure{Status: http.StatusPaymentRequired, Code: "INSUFFICIENT_CREDITS", Message: "Not enough credits"})
			},
			status: http.StatusServiceUnavailable,
			code:   relay.CodeQuotaExceeded,
			secret: "Not enough credits",
		},
		{
			name: "mid-stream",
			script: func(s *workspacetest.Server) {
				s.SetReply("Partial ", "reply")
				s.FailStream("MODEL_ERROR", "The model failed")
			},
			text:   "Partial reply",
			code:   relay.CodeUpstreamError,
			secret: "The model failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, env := workspaceFake(t)
			tt.script(srv)
			url, out := start(t, env)

			reply, err := read(t, post(t, t.Context(), url, `{"message":"hi"}`))
			var relayErr *relaytest.Error
			require.ErrorAs(t, err, &relayErr)
			assert.Equal(t, tt.status, relayErr.Status)
			assert.Equal(t, tt.code, relayErr.Code)
			assert.NotContains(t, relayErr.Message, tt.secret)
			assert.Equal(t, tt.text, reply.Text)
			logged, ok := out.WaitForCount("chat: failed after", 1, timeout)
			assert.True(t, ok, logged)
			assert.Contains(t, logged, tt.secret, "the service's own log keeps the provider's words")
		})
	}
}

// TestServiceCallerDisconnects cancels the caller's request mid-stream and
// expects the provider's fake to see its own stream end.
func TestServiceCallerDisconnects(t *testing.T) {
	t.Parallel()
	srv, env := workspaceFake(t)
	srv.SetReply("First ", "never sent")
	srv.SetPace(time.Hour)
	url, out := start(t, env)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := post(t, ctx, url, `{"message":"hi"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for chunk, err := range relaytest.Read(resp) {
		require.NoError(t, err)
		if chunk.Text != "" {
			require.Equal(t, "First ", chunk.Text)
			break
		}
	}

	cancel()
	select {
	case <-srv.Disconnects():
	case <-time.After(timeout):
		require.FailNow(t, "the provider stream was not cancelled")
	}
	text, ok := out.WaitForCount("caller went away after 1 chunks; provider stream cancelled", 1, timeout)
	assert.True(t, ok, text)
}

func TestHelpIsNotAFailure(t *testing.T) {
	err := run(t.Context(), []string{"-h"}, io.Discard, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "service", err))
}
