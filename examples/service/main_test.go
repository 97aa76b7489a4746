package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/examples/internal/transcript"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

const timeout = 30 * time.Second

// start runs the service on a free loopback port until the test ends and
// returns its base URL and its log.
func start(t *testing.T, env bots.LookupEnv, args ...string) (string, *transcript.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &transcript.Buffer{}
	result := make(chan error, 1)
	go func() {
		result <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-pace", "0"}, args...), out, env)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-result:
			assert.NoError(t, err)
		case <-time.After(timeout):
			assert.Fail(t, "the service did not shut down")
		}
	})
	listening := regexp.MustCompile(`listening on (http://\S+)/\n`)
	text, ok := out.WaitFor(listening.MatchString, timeout)
	require.True(t, ok, text)
	return listening.FindStringSubmatch(text)[1], out
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

// event is one Server-Sent Event as the service sends it.
type event struct {
	Name string
	Data map[string]any
}

// readEvent reads the next event, or returns io.EOF at the end of the body.
func readEvent(t *testing.T, r *bufio.Reader) (event, error) {
	t.Helper()
	var ev event
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return ev, nil
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data))
		default:
			require.FailNow(t, "unexpected line", line)
		}
	}
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

func readAll(t *testing.T, resp *http.Response) []event {
	t.Helper()
	r := bufio.NewReader(resp.Body)
	var events []event
	for {
		ev, err := readEvent(t, r)
		if err == io.EOF {
			return events
		}
		require.NoError(t, err)
		events = append(events, ev)
	}
}

func TestServiceRelay(t *testing.T) {
	t.Parallel()
	srv, env := workspaceFake(t)
	srv.SetReply("Hello ", "from ", "the ", "service.")
	url, out := start(t, env)

	resp := post(t, t.Context(), url, `{"message":"hi"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readAll(t, resp)
	require.NotEmpty(t, events)
	var text strings.Builder
	for i, ev := range events {
		assert.Empty(t, ev.Name)
		text.WriteString(ev.Data["text"].(string))
		assert.Equal(t, i == len(events)-1, ev.Data["done"], "event %d", i)
	}
	assert.Equal(t, "Hello from the service.", text.String())
	id, _ := events[len(events)-1].Data["conversationId"].(string)
	require.NotEmpty(t, id)

	// The conversation continues with the id the page sends back.
	resp = post(t, t.Context(), url, `{"message":"again","conversationId":"`+id+`"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events = readAll(t, resp)
	require.NotEmpty(t, events)
	assert.Equal(t, true, events[len(events)-1].Data["done"])
	assert.Equal(t, []string{"hi", "again"}, srv.Messages(id))
	text2, ok := out.WaitForCount("chat: relayed", 2, timeout)
	assert.True(t, ok, text2)
}

func TestServiceWithBuiltInFake(t *testing.T) {
	t.Parallel()
	url, out := start(t, nil, "-provider", "stammer")
	assert.Contains(t, out.String(), "relaying stammer: built-in fake")

	events := readAll(t, post(t, t.Context(), url, `{"message":"hello"}`))
	require.Len(t, events, 1, "stammer does not stream: one final chunk")
	assert.Equal(t, bots.DemoAnswer("stammer", "hello"), events[0].Data["text"])
	assert.Equal(t, true, events[0].Data["done"])
}

func TestServiceBadRequest(t *testing.T) {
	t.Parallel()
	_, env := workspaceFake(t)
	url, _ := start(t, env)
	for _, body := range []string{`{"message":"  "}`, `not json`} {
		resp := post(t, t.Context(), url, body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	}
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
	for _, want := range []string{`fetch("/chat"`, "getReader()", "AbortController", `event === "error"`} {
		assert.Contains(t, string(body), want)
	}
}

func TestServiceErrorEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   func(*workspacetest.Server)
		text     string // relayed before the error
		code     string
		contains string
	}{
		{
			name: "refused",
			script: func(s *workspacetest.Server) {
				s.FailNext(1, workspacetest.Failure{Status: http.StatusPaymentRequired, Code: "INSUFFICIENT_CREDITS", Message: "Not enough credits"})
			},
			code:     "QUOTA_EXCEEDED",
			contains: "Not enough credits",
		},
		{
			name: "mid-stream",
			script: func(s *workspacetest.Server) {
				s.SetReply("Partial ", "reply")
				s.FailStream("MODEL_ERROR", "The model failed")
			},
			text:     "Partial reply",
			contains: "The model failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, env := workspaceFake(t)
			tt.script(srv)
			url, _ := start(t, env)

			events := readAll(t, post(t, t.Context(), url, `{"message":"hi"}`))
			require.NotEmpty(t, events)
			last := events[len(events)-1]
			require.Equal(t, "error", last.Name)
			assert.Contains(t, last.Data["error"], tt.contains)
			if tt.code != "" {
				assert.Equal(t, tt.code, last.Data["code"])
			}
			var text strings.Builder
			for _, ev := range events[:len(events)-1] {
				assert.Equal(t, false, ev.Data["done"])
				text.WriteString(ev.Data["text"].(string))
			}
			assert.Equal(t, tt.text, text.String())
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
	ev, err := readEvent(t, bufio.NewReader(resp.Body))
	require.NoError(t, err)
	require.Equal(t, "First ", ev.Data["text"])

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
