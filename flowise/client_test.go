package flowise_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
)

// setup starts a fake server and a client for its flow. Retries are off
// unless opts turn them back on.
func setup(t *testing.T, cfg flowisetest.Config, opts ...chatbot.Option) (*flowisetest.Server, *flowise.Client) {
	t.Helper()
	srv := flowisetest.NewServer(cfg)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), opts...)
	require.NoError(t, err)
	return srv, c
}

// serve starts a plain httptest server and a client for it, for responses
// the fake does not produce.
func serve(t *testing.T, h http.HandlerFunc, opts ...chatbot.Option) *flowise.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := flowise.NewClient("flowise-key", "flow1", opts...)
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
	base := chatbot.WithBaseURL("https://flowise.example.com")
	tests := []struct {
		name      string
		key, flow string
		opts      []chatbot.Option
		wantError string // a part of the error; empty: no error
	}{
		{name: "keyed flow", key: "flowise-abc", flow: "flow1", opts: []chatbot.Option{base}},
		{name: "public flow: empty key", key: "", flow: "flow1", opts: []chatbot.Option{base}},
		{name: "no base URL", key: "flowise-abc", flow: "flow1", wantError: "chatbot.WithBaseURL"},
		{name: "key with space", key: "flowise a", flow: "flow1", opts: []chatbot.Option{base}, wantError: "white space"},
		{name: "empty flow id", key: "flowise-abc", flow: "", opts: []chatbot.Option{base}, wantError: "chatflow id is empty"},
		{name: "dot-dot flow id", key: "flowise-abc", flow: "..", opts: []chatbot.Option{base}, wantError: "not allowed"},
		{name: "invalid UTF-8 flow id", key: "flowise-abc", flow: "\xff", opts: []chatbot.Option{base}, wantError: "invalid characters"},
		{name: "http base URL off loopback", key: "flowise-abc", flow: "b", opts: []chatbot.Option{chatbot.WithBaseURL("http://flowise.example.com")}, wantError: "plain http"},
		{name: "negative retries", key: "flowise-abc", flow: "b", opts: []chatbot.Option{base, chatbot.WithMaxRetries(-1)}, wantError: "WithMaxRetries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := flowise.NewClient(tt.key, tt.flow, tt.opts...)
			if tt.wantError == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.flow, c.ChatflowID())
				assert.Equal(t, "https://flowise.example.com/", c.BaseURL())
				return
			}
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Nil(t, c)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "flowise", apiErr.Provider)
			assert.Zero(t, apiErr.StatusCode)
			assert.Contains(t, err.Error(), tt.wantError)
			if tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key)
			}
		})
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	c, err := flowise.NewClient("", "flow1", chatbot.WithBaseURL("https://flowise.example.com"))
	require.NoError(t, err)
	info := chatbot.InfoOf(c)
	assert.Equal(t, "flowise", info.Provider)
	assert.Equal(t, "flow1", info.ChatbotID)
	assert.Equal(t, chatbot.Capabilities{
		Streaming:       true,
		Sources:         true,
		MessageIDs:      true,
		History:         true,
		Conversations:   chatbot.ConversationCallerMade,
		MaxMessageChars: flowise.MaxMessageChars,
	}, info.Capabilities)
}

// TestKeyedAndPublicFlows: a key is sent as a Bearer token; a public flow's
// client, made with an empty key, sends no Authorization header at all.
func TestKeyedAndPublicFlows(t *testing.T) {
	t.Parallel()
	for _, public := range []bool{false, true} {
		srv, c := setup(t, flowisetest.Config{Public: public})
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		assert.Equal(t, "You said: hi", reply.Text)
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, "/api/v1/prediction/"+srv.ChatbotID(), reqs[0].Path)
		auth, sent := reqs[0].Header["Authorization"]
		if public {
			assert.False(t, sent, "public flow: no Authorization header, got %q", auth)
		} else {
			assert.Equal(t, []string{"Bearer " + srv.APIKey()}, auth)
		}
	}
}

// TestBaseURLWithPath: a Flowise served under a path prefix keeps it.
func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	paths := make(chan string, 1)
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"ok","chatId":"c1"}`))
	})
	c2, err := flowise.NewClient("", "a/b", chatbot.WithBaseURL(c.BaseURL()+"flowise"))
	require.NoError(t, err)
	_, err = c2.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "/flowise/api/v1/prediction/a%2Fb", <-paths)
}
