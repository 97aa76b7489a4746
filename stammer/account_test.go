package stammer_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

func TestMe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		locale   string
		wantPath string
	}{
		{name: "default locale", locale: "en", wantPath: "/en/user/api/v1/me/"},
		{name: "white-label locale", locale: "pt", wantPath: "/pt/user/api/v1/me/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{Locale: tt.locale})
			acct, err := bot.Me(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "1", acct.ID)
			assert.Equal(t, "tester", acct.Username)
			assert.Equal(t, "tester@example.com", acct.Email)
			assert.Equal(t, "Test", acct.FirstName)
			assert.Equal(t, "User", acct.LastName)
			assert.NotEmpty(t, acct.Raw)
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodGet, reqs[0].Method)
			assert.Equal(t, tt.wantPath, reqs[0].Path)
			assert.Equal(t, "Token "+srv.APIKey(), reqs[0].Header.Get("Authorization"))
			assert.Empty(t, reqs[0].Body)
		})
	}
}

func TestMeWrongToken(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	bot, err := stammer.NewClient("not-the-token", srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = bot.Me(t.Context())
	apiErr := requireAPIError(t, chatbot.ErrUnauthorized, err)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "Invalid token.", apiErr.Message)
}

func TestMeShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantID  string
		wantErr bool
	}{
		{name: "data envelope", body: `{"data": {"id": "u-9", "email": "a@b.c"}}`, wantID: "u-9"},
		{name: "user envelope", body: `{"user": {"id": 12, "email": "a@b.c"}}`, wantID: "12"},
		{name: "no id", body: `{"email": "a@b.c"}`},
		{name: "not JSON", body: `maintenance`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(tt.body)) })
			acct, err := bot.Me(t.Context())
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "stammer: me: decoding 200 response")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, acct.ID)
			assert.Equal(t, "a@b.c", acct.Email)
			assert.JSONEq(t, tt.body, string(acct.Raw))
		})
	}
}
