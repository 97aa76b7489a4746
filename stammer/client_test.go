package stammer_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

// setup starts a fake Stammer API and a client for its chatbot that never
// retries.
func setup(t *testing.T, cfg stammertest.Config) (*stammertest.Server, *stammer.Client) {
	t.Helper()
	srv := stammertest.NewServer(cfg)
	t.Cleanup(srv.Close)
	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return srv, bot
}

// setupHandler starts a plain httptest server for h, for responses the fake
// never gives, and a client pointed at its /en/ path.
func setupHandler(t *testing.T, h http.HandlerFunc) *stammer.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	bot, err := stammer.NewClient(stammertest.DefaultAPIKey, stammertest.DefaultChatbotID,
		chatbot.WithBaseURL(srv.URL+"/en/"), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return bot
}

// requireAPIError asserts that err is a *chatbot.Error matching want.
func requireAPIError(t *testing.T, want error, err error) *chatbot.Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr), "want *chatbot.Error, got %T: %v", err, err)
	assert.Equal(t, "stammer", apiErr.Provider)
	return apiErr
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	const uuid = stammertest.DefaultChatbotID
	tests := []struct {
		name    string
		token   string
		uuid    string
		opts    []chatbot.Option
		wantErr bool
	}{
		{name: "valid", token: "tok", uuid: uuid},
		{name: "upper-case UUID", token: "tok", uuid: "ABCDEF01-2345-6789-ABCD-EF0123456789"},
		{name: "white-label base URL", token: "tok", uuid: uuid, opts: []chatbot.Option{chatbot.WithBaseURL("https://app.simplifique.ai/pt/")}},
		{name: "empty token", token: "", uuid: uuid, wantErr: true},
		{name: "token with space", token: "to k", uuid: uuid, wantErr: true},
		{name: "empty UUID", token: "tok", uuid: "", wantErr: true},
		{name: "UUID without dashes", token: "tok", uuid: "12345678123456781234567812345678", wantErr: true},
		{name: "UUID with a non-hex digit", token: "tok", uuid: "1234567g-1234-5678-1234-567812345678", wantErr: true},
		{name: "UUID misplaced dash", token: "tok", uuid: "1234567-81234-5678-1234-567812345678", wantErr: true},
		{name: "UUID in braces", token: "tok", uuid: "{12345678-1234-5678-1234-567812345678}", wantErr: true},
		{name: "UUID with path", token: "tok", uuid: "12345678-1234-5678-1234-56781234567/", wantErr: true},
		{name: "plain http base URL", token: "tok", uuid: uuid, opts: []chatbot.Option{chatbot.WithBaseURL("http://example.com/en/")}, wantErr: true},
		{name: "negative retries", token: "tok", uuid: uuid, opts: []chatbot.Option{chatbot.WithMaxRetries(-1)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot, err := stammer.NewClient(tt.token, tt.uuid, tt.opts...)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, tt.uuid, bot.ChatbotUUID())
				return
			}
			apiErr := requireAPIError(t, chatbot.ErrInvalidRequest, err)
			assert.Equal(t, 0, apiErr.StatusCode)
			assert.Nil(t, bot)
			if tt.token != "" {
				assert.NotContains(t, err.Error(), tt.token)
			}
		})
	}
}

func TestNewClientBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []chatbot.Option
		want string
	}{
		{name: "default", want: "https://app.stammer.ai/en/"},
		{name: "white-label", opts: []chatbot.Option{chatbot.WithBaseURL("https://app.simplifique.ai/pt")}, want: "https://app.simplifique.ai/pt/"},
		// An empty port is the scheme's default: the Host header must not end in ":".
		{name: "empty port", opts: []chatbot.Option{chatbot.WithBaseURL("https://app.simplifique.ai:/pt/")}, want: "https://app.simplifique.ai/pt/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot, err := stammer.NewClient("tok", stammertest.DefaultChatbotID, tt.opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, bot.BaseURL())
		})
	}
}
