package sitegpt_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

// setup starts a fake SiteGPT server configured by cfg and returns it with a
// client for its chatbot that never retries.
func setup(t *testing.T, cfg sitegpttest.Config, opts ...chatbot.Option) (*sitegpttest.Server, *sitegpt.Client) {
	t.Helper()
	srv := sitegpttest.NewServer(cfg)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), opts...)
	require.NoError(t, err)
	return srv, c
}

// serveFile starts a plain server that answers every request with status
// and the file testdata/name, and returns a client for it.
func serveFile(t *testing.T, status int, name string) *sitegpt.Client {
	t.Helper()
	body, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return serveBody(t, status, "application/json", body)
}

func serveBody(t *testing.T, status int, contentType string, body []byte) *sitegpt.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := sitegpt.NewClient("test-api-key-0123", "bot", chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return c
}

// requireInvalid asserts that err is the SDK's client-side validation error
// mentioning msg.
func requireInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr), "want *chatbot.Error, got %T", err)
	assert.Equal(t, "sitegpt", apiErr.Provider)
	assert.Equal(t, 0, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, msg)
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, chatbotID string
		opts                 []chatbot.Option
		err                  string
	}{
		{name: "empty key", key: "", chatbotID: "bot", err: "API key is empty"},
		{name: "key with space", key: "a b", chatbotID: "bot", err: "white space"},
		{name: "empty chatbot id", key: "key", chatbotID: "", err: "chatbot id is empty"},
		{name: "dot-dot chatbot id", key: "key", chatbotID: "..", err: "not allowed"},
		{name: "chatbot id with newline", key: "key", chatbotID: "a\nb", err: "invalid characters"},
		{name: "plain http base URL", key: "key", chatbotID: "bot", opts: []chatbot.Option{chatbot.WithBaseURL("http://example.com")}, err: "plain http"},
		{name: "negative retries", key: "key", chatbotID: "bot", opts: []chatbot.Option{chatbot.WithMaxRetries(-1)}, err: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := sitegpt.NewClient(tt.key, tt.chatbotID, tt.opts...)
			assert.Nil(t, c)
			requireInvalid(t, err, tt.err)
		})
	}

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		c, err := sitegpt.NewClient("key", "365062873485935184")
		require.NoError(t, err)
		assert.Equal(t, sitegpt.DefaultBaseURL, c.BaseURL())
		assert.Equal(t, "365062873485935184", c.ChatbotID())
	})
}
