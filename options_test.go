package chatbot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/config"
)

func TestWithBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: "https://app.simplifique.ai/pt", want: "https://app.simplifique.ai/pt/"},
		{in: "https://agency.example/en/", want: "https://agency.example/en/"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/"},
		{in: "http://localhost:1/api/v1", want: "http://localhost:1/api/v1/"},
		{in: "http://[::1]:9/x", want: "http://[::1]:9/x/"},
		{in: "http://example.com/", err: "plain http is allowed only for loopback"},
		{in: "ftp://example.com/", err: "scheme must be https"},
		{in: "/relative/", err: "not absolute"},
		{in: "https://user:pass@example.com/", err: "user info"},
		{in: "https://example.com/?q=1", err: "query or fragment"},
		{in: "https://example.com/#f", err: "query or fragment"},
		{in: "https://exa mple.com/", err: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := config.Resolve(config.Settings{}, chatbot.WithBaseURL(tt.in))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), "pass", "user info must not be echoed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.BaseURL.String())
		})
	}
}

func TestOptionsApplyInOrder(t *testing.T) {
	t.Parallel()
	s, err := config.Resolve(config.Settings{}, chatbot.WithMaxRetries(5), chatbot.WithMaxRetries(0), chatbot.WithUserAgent("myapp/1.2"),
		chatbot.WithMaxRetryWait(time.Second), chatbot.WithStreamIdleTimeout(0))
	require.NoError(t, err)
	assert.Equal(t, 0, s.MaxRetries, "the last option wins")
	assert.Equal(t, "myapp/1.2 chatbot-go/"+chatbot.Version, s.UserAgent)
	assert.Equal(t, time.Second, s.MaxRetryWait)
	assert.Zero(t, s.StreamIdleTimeout)

	for name, opt := range map[string]chatbot.Option{
		"negative retries":   chatbot.WithMaxRetries(-1),
		"negative wait":      chatbot.WithMaxRetryWait(-time.Second),
		"negative idle":      chatbot.WithStreamIdleTimeout(-time.Second),
		"nil http client":    chatbot.WithHTTPClient(nil),
		"header injection":   chatbot.WithUserAgent("a\r\nX-Evil: 1"),
		"zero Option struct": {},
	} {
		_, err := config.Resolve(config.Settings{}, opt)
		assert.Error(t, err, name)
	}
}
