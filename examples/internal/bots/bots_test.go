package bots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider string
		env      map[string]string
		mode     string
		describe string
		err      string
	}{
		{name: "no env", provider: "sitegpt", mode: "fake",
			describe: "sitegpt: built-in fake (set SITEGPT_API_KEY and SITEGPT_CHATBOT_ID to talk to the real service)"},
		{name: "real", provider: "userdesk", env: map[string]string{"USERDESK_API_KEY": "k", "USERDESK_CHATBOT_ID": "b"},
			mode: "real", describe: "userdesk: the real service"},
		{name: "white-label", provider: "stammer", mode: "real",
			env: map[string]string{
				"STAMMER_TOKEN": "t", "STAMMER_CHATBOT_UUID": "12345678-1234-5678-1234-567812345678",
				"STAMMER_BASE_URL": "https://chat.example-agency.com/en/",
			},
			describe: "stammer: the real service at https://chat.example-agency.com/en/"},
		{name: "base URL ignored without credentials", provider: "workspace", env: map[string]string{"WORKSPACE_BASE_URL": "https://x.example/api/v1/"},
			mode: "fake", describe: "workspace: built-in fake (set WORKSPACE_API_KEY and WORKSPACE_CHATBOT_ID, optionally WORKSPACE_BASE_URL, to talk to the real service)"},
		{name: "id without key", provider: "sitegpt", env: map[string]string{"SITEGPT_CHATBOT_ID": "1"},
			err: "sitegpt: SITEGPT_CHATBOT_ID is set but SITEGPT_API_KEY is not"},
		{name: "bad base URL", provider: "workspace", env: map[string]string{"WORKSPACE_API_KEY": "k", "WORKSPACE_CHATBOT_ID": "b", "WORKSPACE_BASE_URL": "ftp://x"},
			err: "ftp"},
		{name: "flowise public flow", provider: "flowise", mode: "real",
			env:      map[string]string{"FLOWISE_CHATFLOW_ID": "flow", "FLOWISE_BASE_URL": "https://flowise.example.com"},
			describe: "flowise: the real service at https://flowise.example.com"},
		{name: "flowise fake", provider: "flowise", mode: "fake",
			describe: "flowise: built-in fake (set FLOWISE_CHATFLOW_ID and FLOWISE_BASE_URL, optionally FLOWISE_API_KEY, to talk to the real service)"},
		{name: "flowise without base URL", provider: "flowise", env: map[string]string{"FLOWISE_API_KEY": "k", "FLOWISE_CHATFLOW_ID": "flow"},
			err: "flowise: FLOWISE_CHATFLOW_ID is set but FLOWISE_BASE_URL is not (flowise has no default host)"},
		{name: "dify fake", provider: "dify", mode: "fake",
			describe: "dify: built-in fake (set DIFY_API_KEY, optionally DIFY_BASE_URL, to talk to the real service)"},
		{name: "dify key alone", provider: "dify", env: map[string]string{"DIFY_API_KEY": "app-k", "DIFY_BASE_URL": "https://dify.example.com/v1/"},
			mode: "real", describe: "dify: the real service at https://dify.example.com/v1/"},
		{name: "unknown", provider: "other", err: `unknown provider "other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot, cleanup, err := Open(tt.provider, Config{Env: Env(tt.env)})
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			t.Cleanup(cleanup)
			assert.Equal(t, tt.mode, bot.Mode())
			assert.Equal(t, tt.describe, bot.Describe())
			assert.Equal(t, tt.mode == "fake", bot.Fake != nil)
		})
	}
}

// TestFakesAnswer checks that every fake gives the demo answer, through
// both Chat and Stream.
func TestFakesAnswer(t *testing.T) {
	t.Parallel()
	all, cleanup, err := OpenAll(Config{})
	require.NoError(t, err)
	t.Cleanup(cleanup)
	require.Len(t, all, len(Names()))
	for _, bot := range all {
		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: FirstQuestion})
		require.NoError(t, err, bot.Provider)
		assert.Equal(t, DemoAnswer(bot.Provider, FirstQuestion), reply.Text)

		reply, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "Hi!", ConversationID: reply.ConversationID}))
		require.NoError(t, err, bot.Provider)
		assert.Equal(t, DemoAnswer(bot.Provider, "Hi!"), reply.Text)
		want := 2 // the two messages…
		if chatbot.InfoOf(bot.Chatbot).Capabilities.Conversations == chatbot.ConversationCreatedFirst {
			want++ // …after the conversation's creation
		}
		assert.Equal(t, want, bot.Fake.Count(), bot.Provider)
	}
}
