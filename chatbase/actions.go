package chatbase

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// toolResult is the body of POST
// agents/{agentId}/conversations/{conversationId}/tool-result (doc).
type toolResult struct {
	ToolCallID string          `json:"toolCallId"`
	Output     json.RawMessage `json:"output"`
}

// SubmitToolResult posts output as the result of the pending tool call
// toolCallID ([chatbot.Action.ID]) of the conversation conversationID, after
// a reply that ended with [chatbot.FinishActionRequired]. output is any value
// that encodes to JSON (a [json.RawMessage] is sent as it is); nil is sent as
// JSON null. Post the result of every pending call, then call
// [Client.Continue] (or [Client.ContinueStream]) for the rest of the answer.
//
// A call Chatbase no longer waits for (it expired, or its result was already
// posted) is a [*chatbot.Error] matching [chatbot.ErrNotFound] and
// [ErrToolCallExpired]. Empty or malformed ids, and an output that does not
// encode to JSON, are refused before sending with
// [chatbot.CodeInvalidRequest]. The result is never posted twice.
//
// See https://www.chatbase.co/docs/api-v2/agents/chat-with-an-agent.
func (c *Client) SubmitToolResult(ctx context.Context, conversationID, toolCallID string, output any) error {
	path, err := c.rest.Path("agents/%s/conversations/%s/tool-result", c.agentID, conversationID)
	if err != nil {
		return err
	}
	if err := c.checkID("tool call id", toolCallID); err != nil {
		return err
	}
	b, err := json.Marshal(output)
	if err != nil {
		return c.rest.Invalid("tool result output does not encode to JSON: " + err.Error())
	}
	_, err = c.rest.Do(ctx, rest.Call{Method: http.MethodPost, Path: path, Body: toolResult{ToolCallID: toolCallID, Output: b}}, nil)
	return withSentinel(err)
}

// Continue asks the agent to go on in conversationID once the results of
// its pending tool calls were posted with [Client.SubmitToolResult]: a chat
// call with the conversation id and no message. The reply and its errors are
// those of [Client.Chat]; it may again stop for
// [chatbot.FinishActionRequired].
//
// See https://www.chatbase.co/docs/api-v2/agents/chat-with-an-agent.
func (c *Client) Continue(ctx context.Context, conversationID string) (*chatbot.Reply, error) {
	call, err := c.continueCall(conversationID, false)
	if err != nil {
		return nil, err
	}
	return c.chatJSON(ctx, call)
}

// ContinueStream is [Client.Continue] with the answer streamed, as
// [Client.Stream] streams one.
//
// See https://www.chatbase.co/docs/api-v2/agents/chat-with-an-agent.
func (c *Client) ContinueStream(ctx context.Context, conversationID string) iter.Seq2[chatbot.Chunk, error] {
	return c.stream(ctx, func() (rest.Call, error) { return c.continueCall(conversationID, true) })
}

// continueCall validates conversationID and builds the chat call without a
// message.
func (c *Client) continueCall(conversationID string, streaming bool) (rest.Call, error) {
	if conversationID == "" {
		return rest.Call{}, c.rest.Invalid("conversation id is empty: only a conversation can be continued")
	}
	if err := c.checkID("conversation id", conversationID); err != nil {
		return rest.Call{}, err
	}
	return c.chatCallFor(chatRequest{ConversationID: conversationID, Stream: streaming}), nil
}
