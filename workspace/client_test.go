package workspace_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// setup starts a fake server and a client for its chatbot. Retries are off
// unless opts turn them back on.
func setup(t *testing.T, cfg workspacetest.Config, opts ...chatbot.Option) (*workspacetest.Server, *workspace.Client) {
	t.Helper()
	srv := workspacetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), opts...)
	require.NoError(t, err)
	return srv, c
}

// serve starts a plain httptest server and a client for it, for responses
// the fake does not produce.
func serve(t *testing.T, h http.HandlerFunc, opts ...chatbot.Option) *workspace.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := workspace.NewClient("sk-workspace_key", "bot1", opts...)
	require.NoError(t, err)
	return c
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		key, bot  string
		opts      []chatbot.Option
		wantError bool
	}{
		{name: "valid", key: "sk-workspace_abc", bot: "cm5bot"},
		{name: "key in another format is accepted", key: "pk_live_123", bot: "cm5bot"},
		{name: "empty key", key: "", bot: "cm5bot", wantError: true},
		{name: "key with space", key: "sk-workspace_a b", bot: "cm5bot", wantError: true},
		{name: "empty chatbot id", key: "sk-workspace_abc", bot: "", wantError: true},
		{name: "dot-dot chatbot id", key: "sk-workspace_abc", bot: "..", wantError: true},
		{name: "invalid UTF-8 chatbot id", key: "sk-workspace_abc", bot: "\xff", wantError: true},
		{name: "http base URL off loopback", key: "sk-workspace_abc", bot: "b", opts: []chatbot.Option{chatbot.WithBaseURL("http://example.com")}, wantError: true},
		{name: "nil HTTP client", key: "sk-workspace_abc", bot: "b", opts: []chatbot.Option{chatbot.WithHTTPClient(nil)}, wantError: true},
		{name: "negative retries", key: "sk-workspace_abc", bot: "b", opts: []chatbot.Option{chatbot.WithMaxRetries(-1)}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := workspace.NewClient(tt.key, tt.bot, tt.opts...)
			if !tt.wantError {
				require.NoError(t, err)
				assert.Equal(t, tt.bot, c.ChatbotID())
				assert.Equal(t, workspace.DefaultBaseURL, c.BaseURL())
				return
			}
			require.Error(t, err)
			assert.Nil(t, c)
			var apiErr *chatbot.Error
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, chatbot.CodeInvalidRequest, apiErr.Code)
			assert.Equal(t, 0, apiErr.StatusCode)
			if tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key)
			}
		})
	}
}

func TestNewClientBaseURL(t *testing.T) {
	t.Parallel()
	c, err := workspace.NewClient("sk-workspace_abc", "b", chatbot.WithBaseURL("https://bots.example.com/api/v1"))
	require.NoError(t, err)
	assert.Equal(t, "https://bots.example.com/api/v1/", c.BaseURL())
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer "+srv.APIKey(), reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "/chatbots/"+srv.ChatbotID()+"/chat", reqs[0].Path)
}

func TestWrongKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	srv := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(srv.Close)
	c, err := workspace.NewClient("sk-workspace_wrong", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "INVALID_API_KEY", apiErr.ProviderCode)
	assert.Equal(t, 1, srv.Count(), "a 401 is not retried")
	assert.NotContains(t, err.Error(), "sk-workspace_wrong")
}
