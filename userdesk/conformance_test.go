package userdesk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the userdesktest fake.
func TestConformance(t *testing.T) {
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := userdesktest.NewServer(userdesktest.Config{})
		t.Cleanup(srv.Close)
		bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}
