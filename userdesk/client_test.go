package userdesk_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := userdesk.NewClient("key", "bot-1")
	require.NoError(t, err)
	assert.Equal(t, userdesk.DefaultBaseURL, c.BaseURL())
	assert.Equal(t, "bot-1", c.ChatbotID())
}

func TestNewClientInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, id string
		opts          []chatbot.Option
	}{
		{name: "empty key", key: "", id: "bot"},
		{name: "key with space", key: "secret key", id: "bot"},
		{name: "empty chatbot id", key: "secret", id: ""},
		{name: "dot-dot chatbot id", key: "secret", id: ".."},
		{name: "blank chatbot id", key: "secret", id: "  "},
		{name: "invalid UTF-8 chatbot id", key: "secret", id: "\xff"},
		{name: "bad base URL", key: "secret", id: "bot", opts: []chatbot.Option{chatbot.WithBaseURL("http://example.com/")}},
		{name: "nil HTTP client", key: "secret", id: "bot", opts: []chatbot.Option{chatbot.WithHTTPClient(nil)}},
		{name: "negative retries", key: "secret", id: "bot", opts: []chatbot.Option{chatbot.WithMaxRetries(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := userdesk.NewClient(tt.key, tt.id, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, "userdesk", apiErr.Provider)
			assert.Equal(t, 0, apiErr.StatusCode)
			if tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key)
			}
		})
	}
}

func TestClientEscapesChatbotID(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{ChatbotID: "team/bot 1"})
	t.Cleanup(srv.Close)
	c, err := userdesk.NewClient(srv.APIKey(), "team/bot 1", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "You said: hi", reply.Text)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v1/chatbot/team%2Fbot%201/message", reqs[0].Path)
}

func TestClientWrongKey(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	c, err := userdesk.NewClient("wrong-key", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "wrong-key")
	assert.Equal(t, 1, srv.Count(), "a 401 is not retried")
}

func TestClientOtherChatbotForbidden(t *testing.T) {
	t.Parallel()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	c, err := userdesk.NewClient(srv.APIKey(), "someone-elses-bot", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrForbidden)
}
