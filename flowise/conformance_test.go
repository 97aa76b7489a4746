package flowise_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
)

// TestConformance runs the suite every chatbot.Chatbot must pass against
// the flowisetest fake, for a keyed and a public flow.
func TestConformance(t *testing.T) {
	for name, cfg := range map[string]flowisetest.Config{"keyed": {}, "public": {Public: true}} {
		t.Run(name, func(t *testing.T) {
			chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
				srv := flowisetest.NewServer(cfg)
				t.Cleanup(srv.Close)
				bot, err := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
				require.NoError(t, err)
				return chatbottest.Target{Bot: bot, Server: srv}
			})
		})
	}
}
