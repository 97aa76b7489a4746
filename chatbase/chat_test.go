package chatbase_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

func TestChatSendsStreamFalseAndReadsTheReply(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{Credits: 2})
	srv.SetReply("Hello! ", "How can I help?")

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", User: chatbot.User{ID: "user_42", Email: "a@b.c"}, Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	assert.Equal(t, "Hello! How can I help?", reply.Text)
	assert.Equal(t, "conv_0001", reply.ConversationID)
	assert.Equal(t, "msg_0003", reply.MessageID)
	assert.Equal(t, chatbot.FinishComplete, reply.FinishReason)
	assert.Equal(t, &chatbot.Usage{Credits: 2}, reply.Usage)
	assert.Nil(t, reply.Actions)
	assert.Nil(t, reply.Sources)
	require.NotNil(t, reply.RateLimit)
	assert.Equal(t, chatbasetest.DefaultRateLimit, reply.RateLimit.Limit)
	assert.Equal(t, chatbasetest.DefaultRateLimit-1, reply.RateLimit.Remaining)
	assert.Contains(t, string(reply.Raw), `"conversationId":"conv_0001"`)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/v2/agents/"+srv.AgentID()+"/chat", reqs[0].Path)
	assert.Equal(t, "Bearer "+srv.APIKey(), reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "application/json", reqs[0].Header.Get("Accept"))
	assert.JSONEq(t, `{"message":"Hi","stream":false,"userId":"user_42"}`, string(reqs[0].Body),
		"stream is always sent; the user id starts the conversation; nothing else is sent")
}

func TestChatContinuesAConversationWithoutResendingTheUserID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	first, err := c.Chat(t.Context(), chatbot.Request{Message: "one", User: chatbot.User{ID: "u1"}})
	require.NoError(t, err)
	second, err := c.Chat(t.Context(), chatbot.Request{Message: "two", ConversationID: first.ConversationID, User: chatbot.User{ID: "u1"}})
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)
	assert.Equal(t, "You said: two", second.Text)
	assert.Equal(t, []string{"one", "You said: one", "two", "You said: two"}, srv.Messages(first.ConversationID))
	assert.JSONEq(t, `{"message":"two","conversationId":"`+first.ConversationID+`","stream":false}`, string(srv.Requests()[1].Body))
}

func TestChatRefusesBadRequestsWithoutSending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	for name, req := range map[string]chatbot.Request{
		"empty message":          {},
		"blank message":          {Message: " \n"},
		"NUL in message":         {Message: "a\x00b"},
		"too long":               {Message: strings.Repeat("é", chatbase.MaxMessageChars+1)},
		"bad conversation id":    {Message: "hi", ConversationID: ".."},
		"user id with a space":   {Message: "hi", User: chatbot.User{ID: "john doe"}},
		"user id with non-ASCII": {Message: "hi", User: chatbot.User{ID: "jöhn"}},
		"user id too long":       {Message: "hi", User: chatbot.User{ID: strings.Repeat("a", chatbase.MaxUserIDChars+1)}},
	} {
		_, err := c.Chat(t.Context(), req)
		requireInvalid(t, err)
		_, err = chatbot.Collect(c.Stream(t.Context(), req))
		requireInvalid(t, err)
		assert.Zero(t, srv.Count(), name)
	}
	_, err := c.Chat(t.Context(), chatbot.Request{Message: strings.Repeat("é", chatbase.MaxMessageChars), User: chatbot.User{ID: strings.Repeat("a.b_c-D9", 16)}})
	require.NoError(t, err, "a message and a user id at their limits are sent")
}

func TestChatReadsTheMetadataWhereverTheDocsPutIt(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"metadata object": `{"data":{"id":"m1","role":"assistant","parts":[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}],` +
			`"metadata":{"userMessageId":"u0","conversationId":"c1","userId":null,"finishReason":"stop","usage":{"credits":2.5}}}}`,
		"flat, as on the chat page": `{"data":{"messageId":"m1","userMessageId":"u0","conversationId":"c1","userId":"x",` +
			`"finishReason":"stop","usage":{"credits":2.5},"parts":[{"type":"text","text":"Hello"}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(hs.Close)
			c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
			require.NoError(t, err)
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.NoError(t, err)
			assert.Equal(t, "Hello", reply.Text)
			assert.Equal(t, "c1", reply.ConversationID)
			assert.Equal(t, "m1", reply.MessageID)
			assert.Equal(t, chatbot.FinishComplete, reply.FinishReason)
			assert.Equal(t, &chatbot.Usage{Credits: 2.5}, reply.Usage)
			assert.Nil(t, reply.RateLimit, "no X-RateLimit-* headers")
		})
	}
}

// TestChatWithoutPartsIsAnError: a 200 whose body has no data, or data
// without its parts (an error body sent with a 200, a body that is no
// reply), is an error carrying the body, never an empty reply, and the
// message is not sent again, by Chat nor by a Stream answered with JSON; a
// present, empty list of parts is a reply.
func TestChatWithoutPartsIsAnError(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"ok":true}`,
		`{"success":false,"error":"Invalid request","message":"Invalid request"}`,
		`{"data":{"id":"m1","metadata":{"conversationId":"c1"}}}`,
		`{"data":{"id":"m1","parts":null}}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, chatbasetest.Config{}, chatbot.WithMaxRetries(2))
			srv.FailNext(2, chatbasetest.Failure{Status: http.StatusOK, Body: body})
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			assert.Nil(t, reply)
			_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			for _, err := range []error{err, streamErr} {
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
				assert.Equal(t, http.StatusOK, apiErr.StatusCode)
				assert.Contains(t, apiErr.Message, "the response has no data")
				assert.JSONEq(t, body, string(apiErr.Body))
			}
			assert.Equal(t, 2, srv.Count(), "a message was sent again")
		})
	}

	srv, c := setup(t, chatbasetest.Config{})
	srv.FailNext(1, chatbasetest.Failure{Status: http.StatusOK, Body: `{"data":{"id":"m1","parts":[]}}`})
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Empty(t, reply.Text)
	assert.Equal(t, "m1", reply.MessageID)
}

func TestChatFinishReasons(t *testing.T) {
	t.Parallel()
	for wire, want := range map[string]chatbot.FinishReason{
		"stop": chatbot.FinishComplete, "length": chatbot.FinishLength, "content-filter": chatbot.FinishContentFilter,
		"error": chatbot.FinishError, "other": chatbot.FinishOther, "unknown": chatbot.FinishOther, "": chatbot.FinishUnknown,
		"tool-calls": chatbot.FinishOther, // with no tool-call part: nothing waits for the caller
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"id": "m", "parts": []any{map[string]any{"type": "text", "text": "x"}},
				"metadata": map[string]any{"conversationId": "c", "finishReason": wire}}})
		}))
		c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
		require.NoError(t, err)
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		hs.Close()
		require.NoError(t, err, wire)
		assert.Equal(t, want, reply.FinishReason, wire)
	}
}
