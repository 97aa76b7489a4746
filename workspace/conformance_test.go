package workspace_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the workspacetest fake.
func TestConformance(t *testing.T) {
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := workspacetest.NewServer(workspacetest.Config{})
		t.Cleanup(srv.Close)
		bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}
