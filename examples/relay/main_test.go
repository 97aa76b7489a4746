package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/examples/internal/transcript"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/relay/relaytest"
)

// start runs the example on a free loopback port, offline against the
// built-in fake, until the test ends, and returns its base URL.
func start(t *testing.T) string {
	t.Helper()
	url, _ := transcript.Serve(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, []string{"-addr", "127.0.0.1:0", "-pace", "0"}, out, bots.Env(nil))
	})
	return url
}

func chat(t *testing.T, url, accept, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/chat", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

func TestRelaysTheFakeInEachFormat(t *testing.T) {
	url := start(t)
	for _, accept := range []string{"text/event-stream", "", "text/plain"} {
		reply, err := chatbot.Collect(relaytest.Read(chat(t, url, accept, `{"message":"hello"}`)))
		require.NoError(t, err, accept)
		assert.Equal(t, bots.DemoAnswer("workspace", "hello"), reply.Text, accept)
	}
}

func TestContinuesTheConversation(t *testing.T) {
	url := start(t)
	first, err := chatbot.Collect(relaytest.Read(chat(t, url, "text/event-stream", `{"message":"hello"}`)))
	require.NoError(t, err)
	require.NotEmpty(t, first.ConversationID)
	second, err := chatbot.Collect(relaytest.Read(chat(t, url, "text/event-stream",
		`{"message":"and then?","conversationId":"`+first.ConversationID+`"}`)))
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)
}

func TestBadRequestIs400(t *testing.T) {
	url := start(t)
	_, err := chatbot.Collect(relaytest.Read(chat(t, url, "text/event-stream", `{"message":""}`)))
	var relayErr *relaytest.Error
	require.ErrorAs(t, err, &relayErr)
	assert.Equal(t, http.StatusBadRequest, relayErr.Status)
	assert.Equal(t, relay.CodeInvalidRequest, relayErr.Code)
}

func TestServesThePage(t *testing.T) {
	url := start(t)
	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, want := range []string{`fetch("/chat"`, `"Accept": "text/event-stream"`, "getReader()", "AbortController", `case "replace"`} {
		assert.Contains(t, string(b), want)
	}
}

func TestHelpIsNotAFailure(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"-h"}, &out, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "relay", err))
	assert.Contains(t, out.String(), "-provider")
}
