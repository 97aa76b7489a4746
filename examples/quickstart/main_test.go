package main

import (
	"encoding/json"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestQuickstartWithFakes(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"-pace", "0"}, &out, nil))
	text := out.String()

	conversation := regexp.MustCompile(`conversation (\S+)\]`)
	for _, name := range bots.Names() {
		t.Run(name, func(t *testing.T) {
			start := strings.Index(text, "== "+name+": built-in fake")
			require.GreaterOrEqual(t, start, 0, text)
			section := text[start:]
			if end := strings.Index(section[3:], "\n== "); end >= 0 {
				section = section[:end+3]
			}
			vars, _ := bots.VarsFor(name)
			assert.Contains(t, section, "set "+vars.String())
			assert.Contains(t, section, "you: "+bots.FirstQuestion+"\nbot: "+bots.DemoAnswer(name, bots.FirstQuestion)+"\n")
			assert.Contains(t, section, "you: "+bots.SecondQuestion+"\nbot: "+bots.DemoAnswer(name, bots.SecondQuestion)+"\n")
			ids := conversation.FindAllStringSubmatch(section, -1)
			require.Len(t, ids, 2)
			assert.NotEmpty(t, ids[0][1])
			assert.Equal(t, ids[0][1], ids[1][1], "the second question continues the conversation")
		})
	}
	assert.Contains(t, text, "Ran against the built-in fake (no network) for: workspace, userdesk, stammer, sitegpt, chatbase, flowise, dify, customgpt.\n")
	assert.Contains(t, text, "STAMMER_TOKEN and STAMMER_CHATBOT_UUID, optionally STAMMER_BASE_URL\n")
	assert.NotContains(t, text, "real service of")
}

// TestQuickstartWithCredentials points the workspace variables at a fake the
// test owns, so the quickstart takes its real-service path.
func TestQuickstartWithCredentials(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	srv.SetReply("Hello ", "from ", "the ", "service.")
	env := bots.Env(map[string]string{
		"WORKSPACE_API_KEY":    srv.APIKey(),
		"WORKSPACE_CHATBOT_ID": srv.ChatbotID(),
		"WORKSPACE_BASE_URL":   srv.URL,
	})
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"-provider", "workspace"}, &out, env))

	text := out.String()
	assert.Contains(t, text, "== workspace: the real service at "+srv.URL+"\n")
	assert.Equal(t, 2, strings.Count(text, "bot: Hello from the service.\n     [4 chunks in "))
	assert.Contains(t, text, "Talked to the real service of: workspace.\n")
	assert.NotContains(t, text, "built-in fake")

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	var second struct {
		ConversationID string `json:"conversationId"`
	}
	require.NoError(t, json.Unmarshal(reqs[1].Body, &second))
	require.NotEmpty(t, second.ConversationID)
	assert.Equal(t, []string{bots.FirstQuestion, bots.SecondQuestion}, srv.Messages(second.ConversationID))
}

func TestQuickstartHalfConfigured(t *testing.T) {
	t.Parallel()
	env := bots.Env(map[string]string{"USERDESK_API_KEY": "key"})
	err := run(t.Context(), []string{"-pace", "0"}, &strings.Builder{}, env)
	require.EqualError(t, err, "userdesk: USERDESK_API_KEY is set but USERDESK_CHATBOT_ID is not")
}

func TestHelpIsNotAFailure(t *testing.T) {
	err := run(t.Context(), []string{"-h"}, io.Discard, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "quickstart", err))
}
