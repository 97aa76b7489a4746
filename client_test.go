package chatbot_test

import (
	"errors"
	"io"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

func chunks(pairs ...any) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, p := range pairs {
			var ok bool
			switch p := p.(type) {
			case chatbot.Chunk:
				ok = yield(p, nil)
			case error:
				ok = yield(chatbot.Chunk{}, p)
			}
			if !ok {
				return
			}
		}
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()
	rl := &chatbot.RateLimit{Limit: 10, Remaining: 9}
	reply, err := chatbot.Collect(chunks(
		chatbot.Chunk{Text: "Hel", RateLimit: rl},
		chatbot.Chunk{Text: "lo", ConversationID: "c1"},
		chatbot.Chunk{Text: "", ConversationID: "c1", MessageID: "m1", Done: true},
	))
	require.NoError(t, err)
	assert.Equal(t, &chatbot.Reply{Text: "Hello", ConversationID: "c1", MessageID: "m1", RateLimit: rl}, reply)
}

func TestCollectKeepsPartialTextOnError(t *testing.T) {
	t.Parallel()
	reply, err := chatbot.Collect(chunks(chatbot.Chunk{Text: "partial ", ConversationID: "c"}, chatbot.Chunk{Text: "text"}, io.ErrUnexpectedEOF))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.NotNil(t, reply)
	assert.Equal(t, "partial text", reply.Text)
	assert.Equal(t, "c", reply.ConversationID)
}

func TestCollectIncomplete(t *testing.T) {
	t.Parallel()
	reply, err := chatbot.Collect(chunks(chatbot.Chunk{Text: "a"}))
	require.ErrorIs(t, err, chatbot.ErrIncomplete)
	assert.Equal(t, "a", reply.Text)
}

func TestErrorIs(t *testing.T) {
	t.Parallel()
	for code, sentinel := range map[chatbot.Code]error{
		chatbot.CodeUnauthorized:      chatbot.ErrUnauthorized,
		chatbot.CodeForbidden:         chatbot.ErrForbidden,
		chatbot.CodeNotFound:          chatbot.ErrNotFound,
		chatbot.CodeRateLimitExceeded: chatbot.ErrRateLimited,
		chatbot.CodeQuotaExceeded:     chatbot.ErrQuotaExceeded,
		chatbot.CodeInvalidRequest:    chatbot.ErrInvalidRequest,
		chatbot.CodeServerError:       chatbot.ErrServer,
	} {
		var err error = &chatbot.Error{Provider: "p", Code: code}
		wrapped := errors.Join(errors.New("context"), err)
		assert.ErrorIs(t, wrapped, sentinel, code)
		assert.NotErrorIs(t, wrapped, chatbot.ErrIdleTimeout, code)
		for other, s := range map[chatbot.Code]error{chatbot.CodeUnknown: chatbot.ErrServer} {
			assert.NotErrorIs(t, &chatbot.Error{Code: other}, s)
		}
		var apiErr *chatbot.Error
		require.ErrorAs(t, wrapped, &apiErr)
		assert.Equal(t, code, apiErr.Code)
	}
	assert.NotErrorIs(t, &chatbot.Error{Code: chatbot.CodeServerError}, chatbot.ErrNotFound)
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  chatbot.Error
		want string
	}{
		{chatbot.Error{Provider: "workspace", StatusCode: 429, Code: chatbot.CodeRateLimitExceeded, ProviderCode: "RATE_LIMIT_EXCEEDED",
			Message: "Rate limit exceeded.", RetryAfter: time.Minute, Body: []byte("secret body")},
			"workspace: 429 RATE_LIMIT_EXCEEDED: Rate limit exceeded. (retry after 1m0s)"},
		{chatbot.Error{Provider: "sitegpt", StatusCode: 403, Code: chatbot.CodeQuotaExceeded, ProviderCode: "MESSAGES_LIMIT_REACHED", RequestID: "r1"},
			"sitegpt: 403 QUOTA_EXCEEDED (MESSAGES_LIMIT_REACHED) [request id r1]"},
		{chatbot.Error{Provider: "stammer", Code: chatbot.CodeInvalidRequest, Message: "message is empty"},
			"stammer: INVALID_REQUEST: message is empty"},
		{chatbot.Error{StatusCode: 418}, "418 UNKNOWN"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestRateLimitString(t *testing.T) {
	t.Parallel()
	var nilRL *chatbot.RateLimit
	assert.Equal(t, "<nil>", nilRL.String())
	rl := &chatbot.RateLimit{Limit: 1000, Remaining: 990, Used: 10, Reset: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)}
	assert.Equal(t, "10/1000 used, 990 remaining, resets 2026-11-21T13:00:00Z", rl.String())
}
