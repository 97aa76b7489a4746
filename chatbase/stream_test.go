package chatbase_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

func TestStreamThroughTheFakeInEveryDocumentedStyle(t *testing.T) {
	t.Parallel()
	for name, style := range map[string]chatbasetest.Style{
		"default":           {},
		"event field":       {EventField: true},
		"message-start":     {MessageStart: true},
		"metadata key":      {MetadataKey: true},
		"separate metadata": {SeparateMetadata: true},
		"all variants":      {EventField: true, MessageStart: true, MetadataKey: true, SeparateMetadata: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, chatbasetest.Config{Credits: 2})
			srv.SetStyle(style)
			srv.SetReply("Hello ", "there", "!")
			var texts []string
			var last chatbot.Chunk
			for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", User: chatbot.User{ID: "u-1"}}) {
				require.NoError(t, err)
				if ch.Text != "" {
					texts = append(texts, ch.Text)
					assert.Empty(t, ch.ConversationID, "the conversation id comes only at the end")
				}
				last = ch
			}
			assert.Equal(t, []string{"Hello ", "there", "!"}, texts, "one chunk per text-delta")
			assert.True(t, last.Done)
			assert.Equal(t, "conv_0001", last.ConversationID)
			assert.Equal(t, "msg_0003", last.MessageID)
			assert.Equal(t, chatbot.FinishComplete, last.FinishReason)
			assert.Equal(t, &chatbot.Usage{Credits: 2}, last.Usage)

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.JSONEq(t, `{"message":"hi","stream":true,"userId":"u-1"}`, string(reqs[0].Body))
			assert.Equal(t, "text/event-stream", reqs[0].Header.Get("Accept"))
		})
	}
}

func TestCollectReturnsTheConversationIDAndContinues(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	first, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "one"}))
	require.NoError(t, err)
	assert.Equal(t, "You said: one", first.Text)
	require.NotEmpty(t, first.ConversationID)
	require.NotNil(t, first.RateLimit)
	second, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "two", ConversationID: first.ConversationID}))
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)
	assert.Equal(t, []string{"one", "You said: one", "two", "You said: two"}, srv.Messages(first.ConversationID))
}

func TestStreamStopsForAClientActionAndContinueStreamGoesOn(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Checking. ")
	srv.SetToolCall("lookup_order", map[string]any{"orderId": 42})

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Where is 42?"}))
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	assert.Equal(t, "Checking. ", reply.Text)
	assert.Equal(t, chatbot.FinishActionRequired, reply.FinishReason)
	require.Len(t, reply.Actions, 1)
	assert.Equal(t, "lookup_order", reply.Actions[0].Name)
	assert.JSONEq(t, `{"orderId":42}`, string(reply.Actions[0].Input))
	require.NotEmpty(t, reply.ConversationID, "known at the end, needed to post the result")

	require.NoError(t, c.SubmitToolResult(t.Context(), reply.ConversationID, reply.Actions[0].ID, json42))
	srv.SetReply()
	next, err := chatbot.Collect(c.ContinueStream(t.Context(), reply.ConversationID))
	require.NoError(t, err)
	assert.Equal(t, `The action returned {"status":"shipped"}`, next.Text)
	assert.Equal(t, chatbot.FinishComplete, next.FinishReason)
	assert.JSONEq(t, `{"conversationId":"`+reply.ConversationID+`","stream":true}`, string(srv.Requests()[2].Body))
}

var json42 = map[string]string{"status": "shipped"}

func TestStreamErrorPartEndsWithATypedErrorAfterTheText(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Half ", "an answer")
	srv.FailStream("Upstream model failed")
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.Error(t, err)
	assert.Equal(t, "Half an answer", reply.Text, "nothing received is lost")
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "chatbase", apiErr.Provider)
	assert.Equal(t, "Upstream model failed", apiErr.Message)
	assert.Equal(t, 1, srv.Count(), "not retried")
}

func TestStreamCutMidBodyIsUnexpectedEOF(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Hello ", "there")
	srv.CutAfter(150)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotNil(t, reply)
	assert.Equal(t, 1, srv.Count(), "a stream cut mid-body is never sent again")
}

func TestStreamSplitAnywhereDecodesTheSame(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Grüße ", "👋 ", "done")
	srv.SplitWrites(1)
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err)
	assert.Equal(t, "Grüße 👋 done", reply.Text)
	assert.Equal(t, &chatbot.Usage{Credits: chatbasetest.DefaultCredits}, reply.Usage)
}

func TestStreamAcceptsAJSONReply(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"id":"m1","parts":[{"type":"text","text":"Whole"},{"type":"tool-call","toolCallId":"t1","toolName":"x","input":{}}],` +
			`"metadata":{"conversationId":"c1","finishReason":"tool-calls","usage":{"credits":1}}}}`))
	}))
	t.Cleanup(hs.Close)
	c, err := chatbase.NewClient("key", "agent", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)
	var chunks []chatbot.Chunk
	for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
		require.NoError(t, err)
		chunks = append(chunks, ch)
	}
	require.Len(t, chunks, 1)
	ch := chunks[0]
	assert.True(t, ch.Done)
	assert.Equal(t, "Whole", ch.Text)
	assert.Equal(t, "c1", ch.ConversationID)
	assert.Equal(t, chatbot.FinishActionRequired, ch.FinishReason)
	assert.Equal(t, []chatbot.Action{{ID: "t1", Name: "x", Input: []byte(`{}`)}}, ch.Actions)
	assert.Equal(t, &chatbot.Usage{Credits: 1}, ch.Usage)
}

func TestStreamIsSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	seq := c.Stream(t.Context(), chatbot.Request{Message: "hi"})
	assert.Zero(t, srv.Count(), "lazy")
	_, err := chatbot.Collect(seq)
	require.NoError(t, err)
	_, err = chatbot.Collect(seq)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, 1, srv.Count())
}
