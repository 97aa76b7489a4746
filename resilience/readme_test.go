package resilience_test

// The README's "Resilience" Go blocks appear here verbatim (the root module's
// readme_test.go checks that, line by line), where they are compiled and run
// against the provider fakes.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func readmeResilience(workspaceBot, stammerBot chatbot.Chatbot) (chatbot.Chatbot, error) {
	limiter := resilience.NewLocalLimiter(resilience.PerHour(1000)) // the workspace plan: 1,000 requests an hour
	primary := chatbot.Wrap(workspaceBot,
		resilience.Breaker(resilience.WithFailures(5), resilience.WithOpenTimeout(30*time.Second)),
		resilience.Limit(limiter),
	)
	backup := chatbot.Wrap(stammerBot, resilience.Breaker())
	bot, err := resilience.NewFallback(
		resilience.Named{Name: "primary", Bot: primary},
		resilience.Named{Name: "backup", Bot: backup},
	)
	return bot, err
}

func TestReadmeResilience(t *testing.T) {
	t.Parallel()
	ws := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(ws.Close)
	st := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(st.Close)
	workspaceBot, err := workspace.NewClient(ws.APIKey(), ws.ChatbotID(), chatbot.WithBaseURL(ws.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	stammerBot, err := stammer.NewClient(st.APIKey(), st.ChatbotID(), chatbot.WithBaseURL(st.URL))
	require.NoError(t, err)
	bot, err := readmeResilience(workspaceBot, stammerBot)
	require.NoError(t, err)

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(reply.ConversationID, "primary:"), reply.ConversationID)
	ws.RateLimitNext(1, time.Minute)
	reply, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: "u1"}})
	require.NoError(t, err)
	assert.Equal(t, "backup:u1", reply.ConversationID)
	assert.Equal(t, 2, ws.Count())
	assert.Equal(t, 1, st.Count())
}
