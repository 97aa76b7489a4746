package main

import (
	"encoding/json"
	"flag"
	"io"
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

// session runs the chat in the background and returns its stdin, its output,
// its interrupts and the channel its result arrives on.
func session(t *testing.T, args []string, env bots.LookupEnv) (*io.PipeWriter, *transcript.Buffer, chan<- struct{}, <-chan error) {
	t.Helper()
	stdinR, stdinW := io.Pipe()
	t.Cleanup(func() { _ = stdinW.Close() })
	out := &transcript.Buffer{}
	interrupts := make(chan struct{})
	result := make(chan error, 1)
	go func() { result <- run(t.Context(), args, stdinR, out, interrupts, env) }()
	return stdinW, out, interrupts, result
}

func waitResult(t *testing.T, result <-chan error) error {
	t.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(timeout):
		require.FailNow(t, "run did not return")
		return nil
	}
}

func TestChatWithFakes(t *testing.T) {
	t.Parallel()
	for _, provider := range bots.Names() {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			in := strings.NewReader("hello\n\nWhat can you help me with?\n")
			out := &transcript.Buffer{}
			err := run(t.Context(), []string{"-provider", provider, "-pace", "0"}, in, out, make(chan struct{}), nil)
			require.NoError(t, err)

			text := out.String()
			assert.Contains(t, text, provider+": built-in fake")
			assert.Contains(t, text, "bot: "+bots.DemoAnswer(provider, "hello")+"\n")
			assert.Contains(t, text, "bot: "+bots.DemoAnswer(provider, "What can you help me with?")+"\n")
			assert.Equal(t, 2, strings.Count(text, "bot: "), "the empty line is not sent")
		})
	}
}

func TestChatUnknownProvider(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"-provider", "nope"}, strings.NewReader(""), io.Discard, nil, nil)
	require.ErrorContains(t, err, `unknown provider "nope"`)
}

// TestChatTurnsAndInterrupt drives a chat with a workspace fake the test owns,
// reached through the environment as a real service would be: two turns in one
// conversation, an interrupt that cancels only the reply in progress, a turn
// after it, and EOF.
func TestChatTurnsAndInterrupt(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	env := bots.Env(map[string]string{
		"WORKSPACE_API_KEY":    srv.APIKey(),
		"WORKSPACE_CHATBOT_ID": srv.ChatbotID(),
		"WORKSPACE_BASE_URL":   srv.URL,
	})
	stdin, out, interrupts, result := session(t, []string{"-provider", "workspace"}, env)

	_, ok := out.WaitForCount("> ", 1, timeout)
	require.True(t, ok, "no prompt")
	assert.Contains(t, out.String(), "workspace: the real service at "+srv.URL)

	// An interrupt at the prompt only prints a hint.
	interrupts <- struct{}{}
	text, ok := out.WaitForCount("> ", 2, timeout)
	require.True(t, ok, text)
	require.Contains(t, text, "no reply to stop")

	srv.SetReply("First ", "answer.")
	_, err := io.WriteString(stdin, "first\n")
	require.NoError(t, err)
	text, ok = out.WaitForCount("> ", 3, timeout)
	require.True(t, ok, text)
	require.Contains(t, text, "bot: First answer.\n")

	// The second reply stalls after its first event until the client goes away.
	srv.SetReply("Second ", "never arrives")
	srv.SetPace(time.Hour)
	_, err = io.WriteString(stdin, "second\n")
	require.NoError(t, err)
	text, ok = out.WaitForCount("bot: Second ", 1, timeout)
	require.True(t, ok, text)
	interrupts <- struct{}{}
	select {
	case <-srv.Disconnects():
	case <-time.After(timeout):
		require.FailNow(t, "the fake did not see the cancelled reply disconnect")
	}
	text, ok = out.WaitForCount("> ", 4, timeout)
	require.True(t, ok, text)
	require.Contains(t, text, "bot: Second \n[reply cancelled]\n")

	srv.SetPace(0)
	srv.SetReply("Third ", "answer.")
	_, err = io.WriteString(stdin, "third\n")
	require.NoError(t, err)
	text, ok = out.WaitForCount("> ", 5, timeout)
	require.True(t, ok, text)
	require.Contains(t, text, "bot: Third answer.\n")

	require.NoError(t, stdin.Close()) // Ctrl-D
	require.NoError(t, waitResult(t, result))

	// The three messages went to one conversation.
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		var body struct {
			ConversationID string `json:"conversationId"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		ids[i] = body.ConversationID
	}
	assert.Empty(t, ids[0])
	require.NotEmpty(t, ids[1])
	assert.Equal(t, ids[1], ids[2])
	assert.Equal(t, []string{"first", "second", "third"}, srv.Messages(ids[1]))
}

func TestHelpIsNotAFailure(t *testing.T) {
	err := run(t.Context(), []string{"-h"}, strings.NewReader(""), io.Discard, nil, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "chat", err))
}
