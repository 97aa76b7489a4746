package chatbase_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

// setup starts a fake and a client pointed at it; retries off unless opts
// say otherwise, so that a failure is seen as the server sent it.
func setup(t *testing.T, cfg chatbasetest.Config, opts ...chatbot.Option) (*chatbasetest.Server, *chatbase.Client) {
	t.Helper()
	srv := chatbasetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := chatbase.NewClient(srv.APIKey(), srv.AgentID(), opts...)
	require.NoError(t, err)
	return srv, c
}

// requireInvalid asserts err is the SDK's own refusal: an *chatbot.Error
// with CodeInvalidRequest and no status.
func requireInvalid(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 0, apiErr.StatusCode)
	assert.Equal(t, "chatbase", apiErr.Provider)
}

func TestNewClientRefusesBadArguments(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ key, agent string }{
		"empty key":      {"", "agent"},
		"key with space": {"cb key", "agent"},
		"empty agent":    {"key", ""},
		"dot-dot agent":  {"key", ".."},
		"blank agent":    {"key", "  "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := chatbase.NewClient(tc.key, tc.agent)
			require.Nil(t, c)
			requireInvalid(t, err)
			if tc.key != "" {
				assert.NotContains(t, err.Error(), tc.key)
			}
		})
	}
	_, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL("ftp://x/"))
	requireInvalid(t, err)
}

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := chatbase.NewClient("key", "agent/with slash")
	require.NoError(t, err)
	assert.Equal(t, chatbase.DefaultBaseURL, c.BaseURL())
	assert.Equal(t, "https://www.chatbase.co/api/v2/", c.BaseURL())
	assert.Equal(t, "agent/with slash", c.AgentID())
}

func TestInfo(t *testing.T) {
	t.Parallel()
	c, err := chatbase.NewClient("key", "agent")
	require.NoError(t, err)
	info := chatbot.InfoOf(c)
	assert.Equal(t, "chatbase", info.Provider)
	assert.Equal(t, "agent", info.ChatbotID)
	assert.Equal(t, chatbot.Capabilities{
		Streaming: true, Usage: true, FinishReasons: true, MessageIDs: true, RateLimitHeaders: true,
		Conversations: chatbot.ConversationServerIssued, MaxMessageChars: chatbase.MaxMessageChars,
	}, info.Capabilities)
}

func TestAgentIDIsEscapedInThePath(t *testing.T) {
	t.Parallel()
	srv := chatbasetest.NewServer(chatbasetest.Config{AgentID: "a b/c"})
	t.Cleanup(srv.Close)
	c, err := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/v2/agents/a%20b%2Fc/chat", reqs[0].Path)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
}
