package chatbottest_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
)

func TestBotConforms(t *testing.T) {
	chatbottest.Run(t, func(*testing.T) chatbot.Chatbot { return chatbottest.NewBot() })
}

func TestBotScript(t *testing.T) {
	t.Parallel()
	limited := &chatbot.Error{Provider: "workspace", StatusCode: 429, Code: chatbot.CodeRateLimitExceeded, RetryAfter: 30 * time.Second}
	bot := chatbottest.NewBot("first").
		ReplyChunks("se", "cond").
		Fail(limited).
		Script(chatbottest.Turn{Chunks: []string{"part"}, Err: io.ErrUnexpectedEOF})

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "1"})
	require.NoError(t, err)
	assert.Equal(t, "first", reply.Text)
	assert.Equal(t, "conv-1", reply.ConversationID)

	var texts []string
	for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "2", ConversationID: "conv-1"}) {
		require.NoError(t, err)
		texts = append(texts, ch.Text)
		assert.Equal(t, "conv-1", ch.ConversationID)
	}
	assert.Equal(t, []string{"se", "cond", ""}, texts)

	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "3"})
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.True(t, errors.Is(err, chatbot.ErrRateLimited))

	partial, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "4"}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "part", partial.Text)

	echo, err := bot.Chat(t.Context(), chatbot.Request{Message: "5"})
	require.NoError(t, err)
	assert.Equal(t, "echo: 5", echo.Text, "with the script used up, the bot echoes")

	var msgs []string
	for _, r := range bot.Requests() {
		msgs = append(msgs, r.Message)
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, msgs)
}

func TestBotIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot()
	errs := make(chan error, 50)
	for range 50 {
		go func() {
			_, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			errs <- err
		}()
	}
	for range 50 {
		require.NoError(t, <-errs)
	}
	assert.Len(t, bot.Requests(), 50)
}
