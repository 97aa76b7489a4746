package flowise

import (
	"context"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// IsStreaming asks Flowise whether the flow can stream its answers
// (GET api/v1/chatflows-streaming/{chatflowId}). A flow that cannot
// answers a streaming request with the whole reply, which [Client.Stream]
// yields as one chunk; asking first is never needed, but tells a caller
// whether a typing effect is worth showing. Failures are those of
// [Client.Predict]: an unknown flow is [chatbot.ErrNotFound].
//
// See https://docs.flowiseai.com/api-reference/chatflows.
func (c *Client) IsStreaming(ctx context.Context) (bool, error) {
	var out struct {
		IsStreaming bool `json:"isStreaming"`
	}
	if _, err := c.rc.Do(ctx, rest.Call{Method: http.MethodGet, Path: c.streamingPath}, &out); err != nil {
		return false, err
	}
	return out.IsStreaming, nil
}
