package sitegpt_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func TestChatConversation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})

	first, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello", User: chatbot.User{ID: "u1", Name: "Ann"}, Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	assert.Equal(t, "You said: Hello", first.Text)
	assert.Equal(t, srv.ThreadIDs(), []string{first.ConversationID})
	assert.NotEmpty(t, first.MessageID)
	assert.Nil(t, first.RateLimit)
	var raw struct {
		Data struct {
			Message struct {
				ID string `json:"id"`
			} `json:"message"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(first.Raw, &raw))
	assert.Equal(t, first.MessageID, raw.Data.Message.ID)

	next, err := c.Chat(t.Context(), chatbot.Request{Message: "And then?", ConversationID: first.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, next.ConversationID)
	assert.NotEqual(t, first.MessageID, next.MessageID)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.JSONEq(t, `{"message":"Hello","from":"USER"}`, string(reqs[0].Body), "only the message is sent")
	assert.JSONEq(t, `{"message":"And then?","threadId":"`+first.ConversationID+`","from":"USER"}`, string(reqs[1].Body))

	thread, err := c.Thread(t.Context(), first.ConversationID)
	require.NoError(t, err)
	require.Len(t, thread.Messages, 2)
	assert.Equal(t, first.MessageID, thread.Messages[0].ID)
	assert.Equal(t, next.MessageID, thread.Messages[1].ID)
}

func TestChatWithEmailCreatesThreadFirst(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello", User: chatbot.User{Email: "ann@example.com"}})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads", reqs[0].Path)
	assert.JSONEq(t, `{"chatUserEmail":"ann@example.com"}`, string(reqs[0].Body))
	assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/message", reqs[1].Path)
	assert.JSONEq(t, `{"message":"Hello","threadId":"`+reply.ConversationID+`","from":"USER"}`, string(reqs[1].Body))

	thread, err := c.Thread(t.Context(), reply.ConversationID)
	require.NoError(t, err)
	require.NotNil(t, thread.ChatUser)
	assert.Equal(t, "ann@example.com", thread.ChatUser.Email)
	require.Len(t, thread.Messages, 1)

	t.Run("not when continuing", func(t *testing.T) {
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "Again", ConversationID: reply.ConversationID, User: chatbot.User{Email: "ann@example.com"}})
		require.NoError(t, err)
		assert.Equal(t, 4, srv.Count(), "one message request, no thread creation")
		assert.Len(t, srv.ThreadIDs(), 1)
	})
}

func TestChatThreadCreationFails(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeChatbotLimitReached)})

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello", User: chatbot.User{Email: "ann@example.com"}})
	assert.Nil(t, reply)
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	assert.Equal(t, 1, srv.Count(), "the message is not sent without its thread")
}

func TestChatValidation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	tests := []struct {
		name string
		req  chatbot.Request
		err  string
	}{
		{name: "empty message", req: chatbot.Request{User: chatbot.User{Email: "ann@example.com"}}, err: "message is empty"},
		{name: "bad conversation id", req: chatbot.Request{Message: "Hi", ConversationID: "a\x00"}, err: "thread id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Chat(t.Context(), tt.req)
			requireInvalid(t, err, tt.err)
			var chunks []chatbot.Chunk
			for ch, err := range c.Stream(t.Context(), tt.req) {
				requireInvalid(t, err, tt.err)
				chunks = append(chunks, ch)
			}
			assert.Len(t, chunks, 1, "only the error pair")
		})
	}
	assert.Equal(t, 0, srv.Count())
}

func TestStreamSingleFinalChunk(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})

	chunks := c.Stream(t.Context(), chatbot.Request{Message: "Hello"})
	assert.Equal(t, 0, srv.Count(), "Stream is lazy")

	var got []chatbot.Chunk
	for ch, err := range chunks {
		require.NoError(t, err)
		got = append(got, ch)
	}
	require.Len(t, got, 1)
	assert.Equal(t, "You said: Hello", got[0].Text)
	assert.True(t, got[0].Done)
	assert.Equal(t, srv.ThreadIDs(), []string{got[0].ConversationID})
	assert.NotEmpty(t, got[0].MessageID)
	assert.Equal(t, 1, srv.Count())

	for _, err := range chunks {
		require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	}
	assert.Equal(t, 1, srv.Count(), "a used stream never resends")
}

func TestStreamCollect(t *testing.T) {
	t.Parallel()
	_, c := setup(t, sitegpttest.Config{})
	first, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello"})
	require.NoError(t, err)

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "More", ConversationID: first.ConversationID}))
	require.NoError(t, err)
	assert.Equal(t, "You said: More", reply.Text)
	assert.Equal(t, first.ConversationID, reply.ConversationID)
}

// TestRepliesCarrySources checks that the sources SiteGPT sends (strings
// and objects) reach Reply.Sources through Chat, and the one chunk of Stream,
// each with the element verbatim in Raw; and that an answer without sources
// has none.
func TestRepliesCarrySources(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.SetSources(
		chatbot.Source{URL: "https://example.com/hours"},
		chatbot.Source{URL: "https://example.com/faq", Title: "FAQ", Snippet: "not on SiteGPT's wire"},
	)
	want := []chatbot.Source{
		{URL: "https://example.com/hours", Raw: json.RawMessage(`"https://example.com/hours"`)},
		{URL: "https://example.com/faq", Title: "FAQ", Raw: json.RawMessage(`{"title":"FAQ","url":"https://example.com/faq"}`)},
	}

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hours?"})
	require.NoError(t, err)
	assert.Equal(t, want, reply.Sources)
	assert.Nil(t, reply.Usage, "SiteGPT reports no usage")
	assert.Equal(t, chatbot.FinishUnknown, reply.FinishReason)

	var chunks []chatbot.Chunk
	for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "Hours?"}) {
		require.NoError(t, err)
		chunks = append(chunks, ch)
	}
	require.Len(t, chunks, 1)
	assert.True(t, chunks[0].Done)
	assert.Equal(t, want, chunks[0].Sources)

	srv.SetSources()
	reply, err = c.Chat(t.Context(), chatbot.Request{Message: "Hours?"})
	require.NoError(t, err)
	assert.Nil(t, reply.Sources, "no sources on the wire: none in the reply")
	streamed, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hours?"}))
	require.NoError(t, err)
	assert.Nil(t, streamed.Sources)
}

func TestStreamError(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeMessagesLimitReached)})

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hello"}))
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	assert.Equal(t, "", reply.Text)
}

func TestChatStalledCancelled(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.StallNext(1)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-srv.Stalled() // the message reached the server, which stalls
		cancel()
	}()
	_, err := c.Chat(ctx, chatbot.Request{Message: "Hello"})
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the server never saw the client leave")
	}
	assert.Equal(t, 1, srv.Count(), "a timed-out message is not resent")
}

func TestStreamStalledCancelled(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.StallNext(1)

	ctx, cancel := context.WithCancel(t.Context())
	chunks := c.Stream(ctx, chatbot.Request{Message: "Hello"})
	go func() {
		select { // cancel once the server holds the request
		case <-srv.Stalled():
			cancel()
		case <-ctx.Done():
		}
	}()
	reply, err := chatbot.Collect(chunks)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "", reply.Text)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the server never saw the client leave")
	}
}

func TestChatConcurrent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	const n = 16
	var wg sync.WaitGroup
	replies := make([]*chatbot.Reply, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], errs[i] = c.Chat(t.Context(), chatbot.Request{Message: "Hello"})
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		require.NoError(t, errs[i])
		seen[replies[i].ConversationID] = true
	}
	assert.Len(t, seen, n, "every new conversation has its own thread")
	assert.Len(t, srv.ThreadIDs(), n)
	assert.Equal(t, n, srv.Count())
}
