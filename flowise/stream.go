package flowise

import (
	"context"
	"iter"

	"github.com/chatbot-go/chatbot"
)

// Stream is being written.
func (c *Client) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return nil
}
