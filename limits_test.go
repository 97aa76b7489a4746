package chatbot_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
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

// TestEachProviderEnforcesItsExportedMessageLimit sends a message of exactly
// the provider's MaxMessageChars (in multi-byte characters, so that bytes are
// not counted), then one character more, which must be refused with nothing
// sent.
func TestEachProviderEnforcesItsExportedMessageLimit(t *testing.T) {
	t.Parallel()
	type fake interface{ Count() int }
	tests := []struct {
		name  string
		limit int
		open  func(t *testing.T) (chatbot.Chatbot, fake)
	}{
		{"workspace", workspace.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := workspacetest.NewServer(workspacetest.Config{})
			t.Cleanup(srv.Close)
			bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
		{"userdesk", userdesk.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := userdesktest.NewServer(userdesktest.Config{})
			t.Cleanup(srv.Close)
			bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
		{"sitegpt", sitegpt.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := sitegpttest.NewServer(sitegpttest.Config{})
			t.Cleanup(srv.Close)
			bot, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
		{"flowise", flowise.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := flowisetest.NewServer(flowisetest.Config{})
			t.Cleanup(srv.Close)
			bot, err := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
		{"customgpt", customgpt.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := customgpttest.NewServer(customgpttest.Config{})
			t.Cleanup(srv.Close)
			bot, err := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
		{"stammer", stammer.MaxMessageChars, func(t *testing.T) (chatbot.Chatbot, fake) {
			srv := stammertest.NewServer(stammertest.Config{})
			t.Cleanup(srv.Close)
			bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			return bot, srv
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot, srv := tt.open(t)
			_, err := bot.Chat(t.Context(), chatbot.Request{Message: strings.Repeat("é", tt.limit)})
			require.NoError(t, err, "a message of exactly MaxMessageChars characters is sent")
			sent := srv.Count()

			_, err = bot.Chat(t.Context(), chatbot.Request{Message: strings.Repeat("é", tt.limit+1)})
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Equal(t, sent, srv.Count(), "nothing is sent past the limit")
		})
	}
}
