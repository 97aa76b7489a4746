package userdesk_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

func TestCreateConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req      userdesk.ConversationRequest
		welcome  string
		wantBody string
	}{
		{name: "anonymous, no welcome", req: userdesk.ConversationRequest{}, wantBody: `{}`},
		{
			name:     "named, with welcome",
			req:      userdesk.ConversationRequest{UserName: "Ada", UserEmail: "ada@example.com"},
			welcome:  "Welcome! 👋",
			wantBody: `{"userName":"Ada","userEmail":"ada@example.com"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := userdesktest.NewServer(userdesktest.Config{Welcome: tt.welcome})
			t.Cleanup(srv.Close)
			c, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)

			conv, err := c.CreateConversation(t.Context(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, "conv-1", conv.ConversationID)
			assert.Equal(t, tt.welcome, conv.WelcomeMessage)
			assert.NotEmpty(t, conv.Raw)

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodPost, reqs[0].Method)
			assert.Equal(t, "/v1/chatbot/bot-1/conversation", reqs[0].Path)
			assert.JSONEq(t, tt.wantBody, string(reqs[0].Body))
			stored, ok := srv.Conversation("conv-1")
			require.True(t, ok)
			assert.Equal(t, tt.req.UserName, stored.UserName)
			assert.Equal(t, tt.req.UserEmail, stored.UserEmail)
		})
	}
}

func TestCreateConversationErrors(t *testing.T) {
	t.Parallel()
	for _, st := range errorStatuses {
		t.Run(http.StatusText(st.status), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			srv.FailNext(1, userdesktest.Failure{Status: st.status})

			conv, err := c.CreateConversation(t.Context(), userdesk.ConversationRequest{})
			require.ErrorIs(t, err, st.want)
			assert.Nil(t, conv)
		})
	}
}

func TestCreateConversationWithoutID(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true,"response":"Hello"}`))
	}))
	t.Cleanup(hs.Close)
	c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)

	conv, err := c.CreateConversation(t.Context(), userdesk.ConversationRequest{})
	require.Error(t, err)
	assert.Nil(t, conv)
	assert.Contains(t, err.Error(), "userdesk: create conversation")
}

func TestCreateConversationRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	_, err := c.CreateConversation(t.Context(), userdesk.ConversationRequest{UserEmail: "\xffa@example.com"})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 0, srv.Count())
}
