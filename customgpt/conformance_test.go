package customgpt_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the customgpttest fake.
func TestConformance(t *testing.T) {
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := customgpttest.NewServer(customgpttest.Config{})
		t.Cleanup(srv.Close)
		bot, err := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}
