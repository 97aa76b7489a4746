package chatbase_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

func TestChatStopsForAClientActionAndContinuesAfterItsResult(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetReply("Let me check. ")
	srv.SetToolCall("lookup_order", map[string]any{"orderId": "42"})

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Where is order 42?"})
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	require.NotNil(t, reply, "the reply comes with the error")
	assert.Equal(t, "Let me check. ", reply.Text)
	assert.Equal(t, chatbot.FinishActionRequired, reply.FinishReason)
	require.Len(t, reply.Actions, 1)
	a := reply.Actions[0]
	assert.Equal(t, "call_0004", a.ID)
	assert.Equal(t, "lookup_order", a.Name)
	assert.JSONEq(t, `{"orderId":"42"}`, string(a.Input))

	require.NoError(t, c.SubmitToolResult(t.Context(), reply.ConversationID, a.ID, map[string]string{"status": "shipped"}))
	srv.SetReply() // back to the fake's own answer to a continuation
	next, err := c.Continue(t.Context(), reply.ConversationID)
	require.NoError(t, err)
	assert.Equal(t, `The action returned {"status":"shipped"}`, next.Text)
	assert.Equal(t, reply.ConversationID, next.ConversationID)
	assert.Equal(t, chatbot.FinishComplete, next.FinishReason)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "/api/v2/agents/"+srv.AgentID()+"/conversations/"+reply.ConversationID+"/tool-result", reqs[1].Path)
	assert.JSONEq(t, `{"toolCallId":"call_0004","output":{"status":"shipped"}}`, string(reqs[1].Body))
	assert.JSONEq(t, `{"conversationId":"`+reply.ConversationID+`","stream":false}`, string(reqs[2].Body), "a chat without a message")
}

func TestSubmitToolResultOfAnExpiredCall(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetToolCall("book", nil)
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Book it"})
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	srv.ExpireToolCalls()

	err = c.SubmitToolResult(t.Context(), reply.ConversationID, reply.Actions[0].ID, "done")
	require.ErrorIs(t, err, chatbase.ErrToolCallExpired)
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	assert.Equal(t, chatbase.CodeResourceToolCallNotFound, chatbase.ErrorCodeOf(err))
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, 2, srv.Count(), "posted once, not retried")
}

func TestSubmitToolResultRefusesBadArgumentsWithoutSending(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	requireInvalid(t, c.SubmitToolResult(t.Context(), "", "call", nil))
	requireInvalid(t, c.SubmitToolResult(t.Context(), "conv", "", nil))
	requireInvalid(t, c.SubmitToolResult(t.Context(), "conv", "call", json.RawMessage(`{not json`)))
	requireInvalid(t, c.SubmitToolResult(t.Context(), "conv", "call", func() {}))
	_, err := c.Continue(t.Context(), "")
	requireInvalid(t, err)
	_, err = chatbot.Collect(c.ContinueStream(t.Context(), ".."))
	requireInvalid(t, err)
	assert.Zero(t, srv.Count())
}

func TestSubmitToolResultSendsNilAsNull(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbasetest.Config{})
	srv.SetToolCall("ping", nil)
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "ping"})
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	require.NoError(t, c.SubmitToolResult(t.Context(), reply.ConversationID, reply.Actions[0].ID, nil))
	assert.JSONEq(t, `{"toolCallId":"`+reply.Actions[0].ID+`","output":null}`, string(srv.Requests()[1].Body))
}
