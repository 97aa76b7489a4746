package stammer_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

// chatAs sends one message for each user key.
func chatAs(t *testing.T, bot *stammer.Client, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: k})
		require.NoError(t, err)
	}
}

// collect ranges over a list and returns its items and its error.
func collect(t *testing.T, seq func(func(stammer.Conversation, error) bool)) ([]stammer.Conversation, error) {
	t.Helper()
	var items []stammer.Conversation
	for cv, err := range seq {
		if err != nil {
			return items, err
		}
		items = append(items, cv)
	}
	return items, nil
}

func userKeys(items []stammer.Conversation) []string {
	var keys []string
	for _, cv := range items {
		keys = append(keys, cv.UserKey)
	}
	return keys
}

func TestConversationsShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		shape        stammertest.ListShape
		wantRequests int
	}{
		{name: "DRF pagination", shape: stammertest.ListPaginated, wantRequests: 3},
		{name: "bare array", shape: stammertest.ListArray, wantRequests: 1},
		{name: "data envelope", shape: stammertest.ListData, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			chatAs(t, bot, "a", "b", "c", "d", "e")
			srv.SetListShape(tt.shape)
			srv.SetPageSize(2)
			before := srv.Count()

			items, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{}))
			require.NoError(t, err)
			assert.Equal(t, []string{"a", "b", "c", "d", "e"}, userKeys(items))
			assert.Equal(t, tt.wantRequests, srv.Count()-before)
			first := items[0]
			assert.Equal(t, "00000000-0000-4000-8000-000000000001", first.UUID)
			require.NotNil(t, first.Active)
			assert.True(t, *first.Active)
			assert.False(t, first.CreatedAt.IsZero())
			assert.Contains(t, string(first.Raw), `"messages"`)
			for _, r := range srv.Requests()[before:] {
				assert.Equal(t, "/en/chatbot/api/v1/conversations/", r.Path)
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Equal(t, srv.ChatbotID(), r.Query.Get("chatbot_uuid"))
			}
		})
	}
}

func TestConversationsQuery(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	items, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{
		StartDate:   time.Date(2026, 1, 2, 23, 0, 0, 0, time.UTC),
		EndDate:     time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC),
		OnlyDeleted: true,
		Params:      url.Values{"search": {"refund"}, "chatbot_uuid": {"overridden"}},
	}))
	require.NoError(t, err)
	assert.Empty(t, items)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, url.Values{
		"chatbot_uuid":             {srv.ChatbotID()},
		"startDate":                {"2026-01-02"},
		"endDate":                  {"2026-02-03"},
		"onlyDeletedConversations": {"true"},
		"search":                   {"refund"},
	}, reqs[0].Query)
}

func TestConversationsBreak(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	chatAs(t, bot, "a", "b", "c")
	srv.SetPageSize(1)
	before := srv.Count()
	for cv, err := range bot.Conversations(t.Context(), stammer.ConversationsOptions{}) {
		require.NoError(t, err)
		assert.Equal(t, "a", cv.UserKey)
		break
	}
	assert.Equal(t, 1, srv.Count()-before, "no page is fetched after the loop stops")
}

func TestConversationsError(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	srv.FailNext(1, stammertest.InvalidToken())
	var pairs int
	var last error
	for _, err := range bot.Conversations(t.Context(), stammer.ConversationsOptions{}) {
		pairs++
		last = err
	}
	assert.Equal(t, 1, pairs)
	requireAPIError(t, chatbot.ErrUnauthorized, last)
}

func TestConversationsNextLinks(t *testing.T) {
	t.Parallel()
	page := func(next string, key string) string {
		n := "null"
		if next != "" {
			n = fmt.Sprintf("%q", next)
		}
		return fmt.Sprintf(`{"count": 2, "next": %s, "previous": null, "results": [{"uuid": "u-%s", "user_key": %q}]}`, n, key, key)
	}
	tests := []struct {
		name     string
		next     func(host string) string // the first page's next link
		wantKeys []string
		wantErr  bool
	}{
		{name: "absolute on the same host", next: func(h string) string { return "http://" + h + "/en/chatbot/api/v1/conversations/?page=2" }, wantKeys: []string{"p1", "p2"}},
		{name: "relative query", next: func(string) string { return "?page=2" }, wantKeys: []string{"p1", "p2"}},
		{name: "another host", next: func(string) string { return "https://elsewhere.example/en/chatbot/api/v1/conversations/?page=2" }, wantKeys: []string{"p1"}},
		{name: "same page again", next: func(string) string { return "?" }, wantKeys: []string{"p1"}},
		{name: "outside the base path", next: func(h string) string { return "http://" + h + "/pt/chatbot/api/v1/conversations/?page=2" }, wantKeys: []string{"p1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu    sync.Mutex
				paths []string
			)
			bot := setupHandler(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.RequestURI())
				mu.Unlock()
				assert.Equal(t, "Token "+stammertest.DefaultAPIKey, r.Header.Get("Authorization"))
				if r.URL.Query().Get("page") == "2" {
					_, _ = fmt.Fprint(w, page("", "p2"))
					return
				}
				next := tt.next(r.Host)
				if next == "?" {
					next = r.URL.RequestURI()
				}
				_, _ = fmt.Fprint(w, page(next, "p1"))
			})
			items, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{}))
			assert.Equal(t, tt.wantKeys, userKeys(items))
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "outside the base URL")
			} else {
				require.NoError(t, err)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Len(t, paths, len(tt.wantKeys))
		})
	}
}

func TestConversationsDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		wantKeys []string
	}{
		{file: "array.json", wantKeys: []string{"alice", "42"}},
		{file: "data.json", wantKeys: []string{"bob"}},
		{file: "object_without_list.json", wantKeys: nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join("testdata", "conversations", tt.file))
			require.NoError(t, err)
			bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
			items, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{}))
			require.NoError(t, err)
			assert.Equal(t, tt.wantKeys, userKeys(items))
		})
	}
}

func TestConversationsTolerantFields(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "conversations", "array.json"))
	require.NoError(t, err)
	bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	items, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{}))
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Equal(t, "7", items[1].UUID, "id is the fallback for uuid")
	require.NotNil(t, items[1].Active)
	assert.False(t, *items[1].Active)
	assert.True(t, items[1].CreatedAt.IsZero(), "an unparsable date is left zero")
	assert.Nil(t, items[0].Active)
}

func TestConversationsMalformed(t *testing.T) {
	t.Parallel()
	bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"results": "nope"}`)) })
	_, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stammer: conversations: decoding 200 response")
}

func TestConversation(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	chatAs(t, bot, "alice", "alice")

	cv, err := bot.Conversation(t.Context(), "00000000-0000-4000-8000-000000000001")
	require.NoError(t, err)
	assert.Equal(t, "00000000-0000-4000-8000-000000000001", cv.UUID)
	assert.Equal(t, "alice", cv.UserKey)
	assert.Contains(t, string(cv.Raw), `Answer 2 to \"hi\"`)
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.MethodGet, last.Method)
	assert.Equal(t, "/en/chatbot/api/v1/conversation/00000000-0000-4000-8000-000000000001/", last.Path)

	_, err = bot.Conversation(t.Context(), "aaaaaaaa-0000-4000-8000-000000000009")
	requireAPIError(t, chatbot.ErrNotFound, err)

	_, err = bot.Conversation(t.Context(), "a/b")
	requireAPIError(t, chatbot.ErrNotFound, err)
	reqs = srv.Requests()
	assert.Equal(t, "/en/chatbot/api/v1/conversation/a%2Fb/", reqs[len(reqs)-1].Path, "ids are escaped")

	before := srv.Count()
	for _, id := range []string{"", "..", "."} {
		_, err = bot.Conversation(t.Context(), id)
		requireAPIError(t, chatbot.ErrInvalidRequest, err)
		_, err = bot.DeactivateConversation(t.Context(), id)
		requireAPIError(t, chatbot.ErrInvalidRequest, err)
	}
	assert.Equal(t, before, srv.Count())
}

func TestConversationWrapped(t *testing.T) {
	t.Parallel()
	bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data": {"uuid": "u-1", "user_key": "k", "created_at": "2026-03-04T05:06:07.5Z"}}`))
	})
	cv, err := bot.Conversation(t.Context(), "u-1")
	require.NoError(t, err)
	assert.Equal(t, "u-1", cv.UUID)
	assert.Equal(t, "k", cv.UserKey)
	assert.Equal(t, time.Date(2026, 3, 4, 5, 6, 7, 5e8, time.UTC), cv.CreatedAt)
}

func TestDeactivateConversation(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	chatAs(t, bot, "alice")

	ack, err := bot.DeactivateConversation(t.Context(), "00000000-0000-4000-8000-000000000001")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, ack.StatusCode)
	assert.Equal(t, "Conversation deactivated successfully.", ack.Message)
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.MethodPost, last.Method)
	assert.Equal(t, "/en/chatbot/api/v1/conversation/00000000-0000-4000-8000-000000000001/deactivate/", last.Path)
	assert.Equal(t, "Token "+srv.APIKey(), last.Header.Get("Authorization"))

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "back", ConversationID: "alice"})
	require.NoError(t, err)
	assert.Equal(t, `Answer 1 to "back"`, reply.Text, "a deactivated conversation starts afresh")

	deleted, err := collect(t, bot.Conversations(t.Context(), stammer.ConversationsOptions{OnlyDeleted: true}))
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	assert.Equal(t, "00000000-0000-4000-8000-000000000001", deleted[0].UUID)
	require.NotNil(t, deleted[0].Active)
	assert.False(t, *deleted[0].Active)

	_, err = bot.DeactivateConversation(t.Context(), "aaaaaaaa-0000-4000-8000-000000000009")
	requireAPIError(t, chatbot.ErrNotFound, err)
}

func TestDeactivateConversationBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        string
		wantMessage string
		wantRaw     bool
	}{
		{name: "no content", status: http.StatusNoContent},
		{name: "detail", status: http.StatusOK, body: `{"detail": "Deactivated."}`, wantMessage: "Deactivated.", wantRaw: true},
		{name: "not JSON", status: http.StatusOK, body: "OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			ack, err := bot.DeactivateConversation(t.Context(), "u-1")
			require.NoError(t, err)
			assert.Equal(t, tt.status, ack.StatusCode)
			assert.Equal(t, tt.wantMessage, ack.Message)
			assert.Equal(t, tt.wantRaw, ack.Raw != nil)
		})
	}
}
