package chatbottest_test

import (
	"context"
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
	chatbottest.Run(t, func(*testing.T) chatbottest.Target {
		bot := chatbottest.NewBot()
		return chatbottest.Target{Bot: bot, Server: bot}
	})
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

func TestBotScriptsTheReplyModel(t *testing.T) {
	t.Parallel()
	src := []chatbot.Source{{Title: "Hours", URL: "https://example.com/hours"}}
	late := []chatbot.Source{{Title: "FAQ", URL: "https://example.com/faq"}}
	usage := &chatbot.Usage{InputTokens: 3, OutputTokens: 5, TotalTokens: 8}
	lookup := chatbot.Action{ID: "call-1", Name: "lookup_order", Input: []byte(`{"order":42}`)}
	bot := chatbottest.NewBot().Script(
		chatbottest.Turn{
			Parts: []chatbot.Chunk{
				{Text: "Draft"},
				{Sources: src},
				{Text: "Moderated.", Replace: true},
			},
			Sources:      late,
			Usage:        usage,
			FinishReason: chatbot.FinishContentFilter,
		},
		chatbottest.Turn{Chunks: []string{"Let me check."}, FinishReason: chatbot.FinishActionRequired, Actions: []chatbot.Action{lookup}},
		chatbottest.Turn{Chunks: []string{"Let me check."}, FinishReason: chatbot.FinishActionRequired, Actions: []chatbot.Action{lookup}},
	)

	var chunks []chatbot.Chunk
	for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "1"}) {
		require.NoError(t, err)
		chunks = append(chunks, ch)
	}
	assert.Equal(t, []chatbot.Chunk{
		{Text: "Draft", ConversationID: "conv-1", MessageID: "msg-1"},
		{Sources: src, ConversationID: "conv-1", MessageID: "msg-1"},
		{Text: "Moderated.", Replace: true, ConversationID: "conv-1", MessageID: "msg-1"},
		{Sources: late, Usage: usage, FinishReason: chatbot.FinishContentFilter, ConversationID: "conv-1", MessageID: "msg-1", Done: true},
	}, chunks)

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "2"})
	require.ErrorIs(t, err, chatbot.ErrActionRequired, "Chat returns the reply and the pending action, as a provider does")
	require.NotNil(t, reply)
	assert.Equal(t, "Let me check.", reply.Text)
	assert.Equal(t, chatbot.FinishActionRequired, reply.FinishReason)
	assert.Equal(t, []chatbot.Action{lookup}, reply.Actions)

	streamed, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "3"}))
	require.ErrorIs(t, err, chatbot.ErrActionRequired)
	assert.Equal(t, []chatbot.Action{lookup}, streamed.Actions)

	echo, err := bot.Chat(t.Context(), chatbot.Request{Message: "4"})
	require.NoError(t, err)
	assert.Equal(t, chatbot.FinishComplete, echo.FinishReason, "the default finish reason")
	assert.Nil(t, echo.Sources)
	assert.Nil(t, echo.Usage)
}

func TestBotSetters(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot()
	src := chatbot.Source{ID: "d1", Title: "Hours"}
	bot.SetSources(src)
	bot.SetUsage(&chatbot.Usage{Credits: 2})
	bot.SetFinishReason(chatbot.FinishLength)
	bot.Script(chatbottest.Turn{Chunks: []string{"own"}, FinishReason: chatbot.FinishOther})

	own, err := bot.Chat(t.Context(), chatbot.Request{Message: "1"})
	require.NoError(t, err)
	assert.Equal(t, chatbot.FinishOther, own.FinishReason, "a turn's own value wins")
	assert.Equal(t, []chatbot.Source{src}, own.Sources, "an empty field takes the default")

	reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "2"}))
	require.NoError(t, err)
	assert.Equal(t, []chatbot.Source{src}, reply.Sources)
	assert.Equal(t, &chatbot.Usage{Credits: 2}, reply.Usage)
	assert.Equal(t, chatbot.FinishLength, reply.FinishReason)

	bot.SetSources()
	bot.SetUsage(nil)
	bot.SetFinishReason("")
	reply, err = bot.Chat(t.Context(), chatbot.Request{Message: "3"})
	require.NoError(t, err)
	assert.Nil(t, reply.Sources)
	assert.Nil(t, reply.Usage)
	assert.Equal(t, chatbot.FinishComplete, reply.FinishReason)
	assert.Equal(t, "chatbottest", chatbot.InfoOf(bot).Provider)
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

// TestBotDelayHonoursTheContext checks that a turn's delay ends with the
// caller's deadline or cancellation, as a slow provider would: the delay
// never passes.
func TestBotDelayHonoursTheContext(t *testing.T) {
	t.Parallel()
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		bot := chatbottest.NewBot().Script(chatbottest.Turn{Chunks: []string{"too late"}, Delay: time.Hour})
		// The deadline passes, whenever it does, long before the hour.
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		_, err := bot.Chat(ctx, chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		bot := chatbottest.NewBot().Script(chatbottest.Turn{Chunks: []string{"too ", "late"}, Delay: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := chatbot.Collect(bot.Stream(ctx, chatbot.Request{Message: "hi"}))
			done <- err
		}()
		<-bot.Stalled() // the turn is being delayed
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		<-bot.Disconnects()

		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		assert.Equal(t, "echo: hi", reply.Text, "the delayed turn was used up")
	})
}

// TestBotShortDelayAnswers checks that a delay that passes before the
// deadline delays nothing else.
func TestBotShortDelayAnswers(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot().Script(chatbottest.Turn{Chunks: []string{"in time"}, Delay: time.Nanosecond})
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "in time", reply.Text)
}

func TestBotStalls(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot()
	bot.SetReply("one ", "two")
	bot.StallAfter(1)
	ctx, cancel := context.WithCancel(t.Context())
	var texts []string
	var last error
	for ch, err := range bot.Stream(ctx, chatbot.Request{Message: "hi"}) {
		if err != nil {
			last = err
			continue
		}
		texts = append(texts, ch.Text)
		go func() {
			<-bot.Stalled()
			cancel()
		}()
	}
	assert.Equal(t, []string{"one "}, texts)
	require.ErrorIs(t, last, context.Canceled)
	<-bot.Disconnects()

	bot.StallAfter(-1)
	bot.StallNext(1)
	ctx, cancel = context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := bot.Chat(ctx, chatbot.Request{Message: "hi"})
		done <- err
	}()
	<-bot.Stalled()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "one two", reply.Text)
}

func TestErrorConstructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    *chatbot.Error
		status int
		want   error
	}{
		{chatbottest.RateLimited(time.Minute), 429, chatbot.ErrRateLimited},
		{chatbottest.Unauthorized(), 401, chatbot.ErrUnauthorized},
		{chatbottest.Forbidden(), 403, chatbot.ErrForbidden},
		{chatbottest.NotFound(), 404, chatbot.ErrNotFound},
		{chatbottest.QuotaExceeded(), 402, chatbot.ErrQuotaExceeded},
		{chatbottest.ServerError(), 500, chatbot.ErrServer},
	}
	for _, tt := range tests {
		bot := chatbottest.NewBot().Fail(tt.err)
		_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, tt.want)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, tt.status, apiErr.StatusCode)
		assert.Equal(t, "chatbottest", apiErr.Provider)
	}
	assert.Equal(t, time.Minute, chatbottest.RateLimited(time.Minute).RetryAfter)
}
