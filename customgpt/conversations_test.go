package customgpt_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
)

func TestCreateConversation(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	conv, err := c.CreateConversation(t.Context(), "Support")
	require.NoError(t, err)
	assert.Equal(t, srv.Conversations(), []string{conv.SessionID})
	assert.Equal(t, "Support", conv.Name)
	assert.Equal(t, int64(4242), conv.ProjectID)
	assert.NotZero(t, conv.ID)
	assert.Contains(t, string(conv.Raw), conv.SessionID)
	assert.JSONEq(t, `{"name":"Support"}`, string(srv.Requests()[0].Body))

	_, err = c.CreateConversation(t.Context(), strings.Repeat("n", 256))
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	_, err = c.CreateConversation(t.Context(), "a\xff")
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 1, srv.Count())
}

// TestCreateConversationWithoutSession: an answer without a session id is
// an error, not a conversation nobody can address.
func TestCreateConversationWithoutSession(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusCreated, `{"status":"success","data":{"id":3}}`)
	})
	_, err := c.CreateConversation(t.Context(), "")
	require.ErrorContains(t, err, "customgpt: creating a conversation: no session_id")
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.Error(t, err)
}

func TestDeleteConversation(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	conv, err := c.CreateConversation(t.Context(), "")
	require.NoError(t, err)
	require.NoError(t, c.DeleteConversation(t.Context(), conv.SessionID))
	assert.Equal(t, http.MethodDelete, srv.Requests()[1].Method)
	assert.Equal(t, "/api/v1/projects/4242/conversations/"+conv.SessionID, srv.Requests()[1].Path)
	require.ErrorIs(t, c.DeleteConversation(t.Context(), conv.SessionID), chatbot.ErrNotFound)
	require.ErrorIs(t, c.DeleteConversation(t.Context(), ""), chatbot.ErrInvalidRequest)
	assert.Equal(t, 3, srv.Count())
}
