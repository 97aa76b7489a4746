package chatbase_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/chatbottest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the chatbasetest fake.
func TestConformance(t *testing.T) {
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := chatbasetest.NewServer(chatbasetest.Config{})
		t.Cleanup(srv.Close)
		bot, err := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}
