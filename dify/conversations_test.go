package dify_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
)

// startConversations has user start n conversations and returns their ids,
// oldest first.
func startConversations(t *testing.T, bot *dify.Client, user string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hello", User: chatbot.User{ID: user}})
		require.NoError(t, err)
		ids[i] = reply.ConversationID
	}
	return ids
}

func TestConversations(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	mine := startConversations(t, bot, "alice", 5)
	startConversations(t, bot, "bob", 1)

	var got []string
	for conv, err := range bot.Conversations(t.Context(), dify.ListOptions{User: "alice", Limit: 2}) {
		require.NoError(t, err)
		require.Equal(t, "New conversation", conv.Name)
		require.Equal(t, "normal", conv.Status)
		require.NotEmpty(t, conv.Raw)
		got = append(got, conv.ID)
	}
	// Newest first, page after page (all were updated in the same second:
	// the fake then keeps the newest first).
	require.Equal(t, []string{mine[4], mine[3], mine[2], mine[1], mine[0]}, got)

	var queries []string
	for _, r := range srv.Requests() {
		if r.Path == "/v1/conversations" {
			queries = append(queries, r.Query.Get("last_id"))
			require.Equal(t, "alice", r.Query.Get("user"))
			require.Equal(t, "2", r.Query.Get("limit"))
		}
	}
	require.Equal(t, []string{"", mine[3], mine[1]}, queries)

	// Breaking out stops fetching.
	before := srv.Count()
	for range bot.Conversations(t.Context(), dify.ListOptions{User: "alice", Limit: 2}) {
		break
	}
	require.Equal(t, before+1, srv.Count())

	// The default user has none.
	for _, err := range bot.Conversations(t.Context(), dify.ListOptions{}) {
		require.NoError(t, err)
		t.Fatal("the default user has no conversation")
	}
}

func TestConversationsErrors(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	for _, opts := range []dify.ListOptions{{Limit: -1}, {Limit: dify.MaxPageLimit + 1}, {User: " "}} {
		var last error
		for _, err := range bot.Conversations(t.Context(), opts) {
			last = err
		}
		require.ErrorIs(t, last, chatbot.ErrInvalidRequest, "%+v", opts)
	}
	require.Equal(t, 0, srv.Count())

	srv.FailNext(1, difytest.Failure{Status: http.StatusUnauthorized})
	var n int
	var last error
	for _, err := range bot.Conversations(t.Context(), dify.ListOptions{}) {
		n++
		last = err
	}
	require.Equal(t, 1, n)
	require.ErrorIs(t, last, chatbot.ErrUnauthorized)
}

func TestRenameAndDeleteConversation(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	ids := startConversations(t, bot, dify.DefaultUser, 2)

	conv, err := bot.RenameConversation(t.Context(), ids[0], "", "Opening hours")
	require.NoError(t, err)
	require.Equal(t, ids[0], conv.ID)
	require.Equal(t, "Opening hours", conv.Name)
	conv, err = bot.RenameConversation(t.Context(), ids[1], "", "")
	require.NoError(t, err)
	require.Equal(t, "Generated name", conv.Name)
	require.Equal(t, map[string]any{"auto_generate": true, "user": dify.DefaultUser}, srv.Requests()[3].JSON())

	require.NoError(t, bot.DeleteConversation(t.Context(), ids[0], ""))
	require.Nil(t, srv.Messages(ids[0]))
	require.Equal(t, http.MethodDelete, srv.Requests()[4].Method)
	require.Equal(t, "/v1/conversations/"+ids[0], srv.Requests()[4].Path)
	require.Equal(t, map[string]any{"user": dify.DefaultUser}, srv.Requests()[4].JSON())

	// Gone, or another user's: not found.
	require.ErrorIs(t, bot.DeleteConversation(t.Context(), ids[0], ""), chatbot.ErrNotFound)
	_, err = bot.RenameConversation(t.Context(), ids[1], "mallory", "x")
	require.ErrorIs(t, err, chatbot.ErrNotFound)

	count := srv.Count()
	require.ErrorIs(t, bot.DeleteConversation(t.Context(), "../messages", ""), chatbot.ErrInvalidRequest)
	_, err = bot.RenameConversation(t.Context(), "conv-1", "", "x")
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	require.Equal(t, count, srv.Count())
}

// TestListIgnoredCursor checks that a server answering every page with the
// first one ends the list with an error instead of listing forever.
func TestListIgnoredCursor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"has_more": true, "limit": 2, "data": [`+
			`{"id": "a", "conversation_id": "`+fakeConv+`", "created_at": 2}, {"id": "b", "conversation_id": "`+fakeConv+`", "created_at": 1}]}`)
	}))
	t.Cleanup(srv.Close)
	bot, err := dify.NewClient("app-key", chatbot.WithBaseURL(srv.URL+"/v1/"))
	require.NoError(t, err)

	var ids []string
	var last error
	for conv, err := range bot.Conversations(t.Context(), dify.ListOptions{}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, conv.ID)
	}
	require.Equal(t, []string{"a", "b"}, ids)
	require.EqualError(t, last, "dify: conversations: the page after last_id=b holds that item again: the server ignored the cursor")

	ids = nil
	for m, err := range bot.Messages(t.Context(), fakeConv, dify.ListOptions{}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, m.ID)
	}
	require.Equal(t, []string{"a", "b"}, ids, "a page already newest first is kept as sent")
	require.EqualError(t, last, "dify: messages: the page after first_id=b holds that item again: the server ignored the cursor")
}
