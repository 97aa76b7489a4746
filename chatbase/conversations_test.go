package chatbase_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
)

func TestConversationsPagesThroughEverything(t *testing.T) {
	t.Parallel()
	clk := fakes.NewManualClock(time.UnixMilli(1_750_000_000_123))
	srv, c := setup(t, chatbasetest.Config{Clock: clk})
	ids := srv.AddConversations(5, "")
	srv.AddConversations(1, "u1")

	var got []chatbase.Conversation
	for cv, err := range c.Conversations(t.Context(), chatbase.ListOptions{Limit: 2}) {
		require.NoError(t, err)
		got = append(got, cv)
	}
	require.Len(t, got, 6)
	assert.Equal(t, ids[4], got[1].ID, "newest first")
	assert.Equal(t, ids[0], got[5].ID)
	assert.Equal(t, "u1", got[0].UserID)
	assert.Equal(t, chatbase.StatusOngoing, got[0].Status)
	assert.True(t, got[0].CreatedAt.Equal(clk.Now()), "createdAt in unix milliseconds")
	assert.Contains(t, string(got[0].Raw), `"status":"ongoing"`)

	reqs := srv.Requests()
	require.Len(t, reqs, 3, "6 conversations, 2 per page")
	assert.Equal(t, "/api/v2/agents/"+srv.AgentID()+"/conversations", reqs[0].Path)
	assert.Equal(t, "2", reqs[0].Query.Get("limit"))
	assert.Empty(t, reqs[0].Query.Get("cursor"))
	assert.Equal(t, "cur_2", reqs[1].Query.Get("cursor"))
	assert.Equal(t, "cur_4", reqs[2].Query.Get("cursor"))
}

func TestListsAreLazyAndStopOnBreak(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.AddConversations(5, "")
	seq := c.Conversations(t.Context(), chatbase.ListOptions{Limit: 2})
	assert.Zero(t, srv.Count(), "nothing is sent before the loop starts")
	for _, err := range seq {
		require.NoError(t, err)
		break
	}
	assert.Equal(t, 1, srv.Count(), "breaking out stops fetching")
	n := 0
	for _, err := range seq {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 5, n, "each iteration starts again")
}

func TestListsStopOnARepeatedCursor(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n > 10 {
			http.Error(w, "looping", http.StatusTeapot)
			return
		}
		cursor := "c1"
		if r.URL.Query().Get("cursor") == "c1" {
			cursor = "c2"
		}
		if r.URL.Query().Get("cursor") == "c2" {
			cursor = "c1" // back to a page already listed
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{map[string]any{"id": "m" + string(rune('0'+n))}},
			"pagination": map[string]any{"cursor": cursor, "hasMore": true, "total": 100}})
	}))
	t.Cleanup(hs.Close)
	c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)
	var ids []string
	var last error
	for m, err := range c.Messages(t.Context(), "conv", chatbase.ListOptions{}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, m.ID)
	}
	require.Error(t, last)
	assert.Contains(t, last.Error(), `returned cursor "c1" again`)
	assert.Equal(t, []string{"m1", "m2", "m3"}, ids, "every page served is yielded, once")
	assert.Equal(t, int32(3), calls.Load())
}

func TestListsReadPaginationAtTheTopLevelToo(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("cursor") == "" {
			_, _ = w.Write([]byte(`{"data":[{"id":"a"}],"cursor":"next","hasMore":true,"total":2}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"id":"b"}],"cursor":null,"hasMore":false,"total":2}`))
	}))
	t.Cleanup(hs.Close)
	c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)
	var ids []string
	for cv, err := range c.Conversations(t.Context(), chatbase.ListOptions{}) {
		require.NoError(t, err)
		ids = append(ids, cv.ID)
	}
	assert.Equal(t, []string{"a", "b"}, ids)
}

func TestListsRefuseABadLimitWithoutSending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	for _, limit := range []int{-1, chatbase.MaxPageLimit + 1} {
		for _, err := range c.Conversations(t.Context(), chatbase.ListOptions{Limit: limit}) {
			requireInvalid(t, err)
		}
	}
	for _, err := range c.UserConversations(t.Context(), "", chatbase.ListOptions{}) {
		requireInvalid(t, err)
	}
	for _, err := range c.Messages(t.Context(), "..", chatbase.ListOptions{}) {
		requireInvalid(t, err)
	}
	assert.Zero(t, srv.Count())
}

func TestUserConversations(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.AddConversations(2, "")
	mine := srv.AddConversations(3, "user.42")
	var got []string
	for cv, err := range c.UserConversations(t.Context(), "user.42", chatbase.ListOptions{Limit: 100}) {
		require.NoError(t, err)
		assert.Equal(t, "user.42", cv.UserID)
		got = append(got, cv.ID)
	}
	assert.Equal(t, []string{mine[2], mine[1], mine[0]}, got)
	assert.Equal(t, "/api/v2/agents/"+srv.AgentID()+"/users/user.42/conversations", srv.Requests()[0].Path)
}

func TestMessagesOfAConversation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Hi there")
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello"})
	require.NoError(t, err)

	var got []chatbase.Message
	for m, err := range c.Messages(t.Context(), reply.ConversationID, chatbase.ListOptions{Cursor: ""}) {
		require.NoError(t, err)
		got = append(got, m)
	}
	require.Len(t, got, 2)
	assert.Equal(t, "user", got[0].Role)
	assert.Equal(t, "Hello", got[0].Text())
	assert.Equal(t, "assistant", got[1].Role)
	assert.Equal(t, "Hi there", got[1].Text())
	assert.Equal(t, reply.MessageID, got[1].ID)
	assert.False(t, got[1].CreatedAt.IsZero())

	var last error
	for _, err := range c.Messages(t.Context(), "conv_unknown", chatbase.ListOptions{}) {
		last = err
	}
	require.ErrorIs(t, last, chatbot.ErrNotFound)
}

func TestListStartsAtTheGivenCursor(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.AddConversations(4, "")
	n := 0
	for _, err := range c.Conversations(t.Context(), chatbase.ListOptions{Cursor: "cur_3"}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, "cur_3", srv.Requests()[0].Query.Get("cursor"))
}

func TestTimestampsInSecondsAndText(t *testing.T) {
	t.Parallel()
	var cv chatbase.Conversation
	require.NoError(t, json.Unmarshal([]byte(`{"id":"c","createdAt":1750000000,"updatedAt":"2025-06-15T15:06:40Z"}`), &cv))
	assert.True(t, cv.CreatedAt.Equal(time.Unix(1750000000, 0)))
	assert.True(t, cv.UpdatedAt.Equal(time.Date(2025, 6, 15, 15, 6, 40, 0, time.UTC)))
	require.NoError(t, json.Unmarshal([]byte(`{"id":"c","createdAt":null,"updatedAt":"yesterday"}`), &cv))
	assert.True(t, cv.CreatedAt.IsZero())
	assert.True(t, cv.UpdatedAt.IsZero())
}
