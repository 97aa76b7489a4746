package customgpt_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
)

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	const key = "sk-customgpt-SECRET-0123456789"
	tests := []struct {
		name, key, project string
		opts               []chatbot.Option
	}{
		{"empty key", "", "4242", nil},
		{"key with a space", "a b", "4242", nil},
		{"empty project", key, "", nil},
		{"project not a number", key, "my-bot", nil},
		{"project zero", key, "0", nil},
		{"project negative", key, "-3", nil},
		{"project with a sign", key, "+3", nil},
		{"project with leading zero", key, "042", nil},
		{"project with a space", key, " 42", nil},
		{"project too large", key, "99999999999999999999", nil},
		{"bad base URL", key, "4242", []chatbot.Option{chatbot.WithBaseURL("ftp://example.com")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := customgpt.NewClient(tt.key, tt.project, tt.opts...)
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Nil(t, c)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "customgpt", apiErr.Provider)
			assert.NotContains(t, err.Error(), key)
		})
	}
}

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := customgpt.NewClient("sk-test", "4242")
	require.NoError(t, err)
	assert.Equal(t, customgpt.DefaultBaseURL, c.BaseURL())
	assert.Equal(t, "4242", c.ProjectID())
	info := chatbot.InfoOf(c)
	assert.Equal(t, "customgpt", info.Provider)
	assert.Equal(t, "4242", info.ChatbotID)
	assert.Equal(t, chatbot.Capabilities{Streaming: true, Sources: true, MessageIDs: true,
		Conversations: chatbot.ConversationCreatedFirst, MaxMessageChars: customgpt.MaxMessageChars}, info.Capabilities)
}

// TestBearerAuth: every request carries the key as a Bearer token.
func TestBearerAuth(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, "Bearer "+srv.APIKey(), r.Header.Get("Authorization"))
	}
}

// TestWrongKey: a wrong key is ErrUnauthorized with CustomGPT's message,
// and the key never shows.
func TestWrongKey(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t)
	const wrong = "sk-wrong-key-0123456789"
	c, err := customgpt.NewClient(wrong, srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "API Token is either missing or invalid", apiErr.Message)
	assert.Equal(t, "401", apiErr.ProviderCode)
	assert.NotContains(t, err.Error(), wrong)
	assert.Equal(t, 1, srv.Count(), "a 401 is not retried")
}

// TestUnknownProject: another project is ErrNotFound, for Chat and Stream.
func TestUnknownProject(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t)
	c, err := customgpt.NewClient(srv.APIKey(), "7", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	_, err = chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi"}))
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	var convErr *customgpt.ConversationError
	assert.NotErrorAs(t, err, &convErr, "no conversation was created")
}
