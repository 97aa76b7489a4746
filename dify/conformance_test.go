package dify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the difytest fake.
func TestConformance(t *testing.T) {
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := difytest.NewServer(difytest.Config{})
		t.Cleanup(srv.Close)
		bot, err := dify.NewClient(srv.APIKey(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: bot, Server: srv}
	})
}
