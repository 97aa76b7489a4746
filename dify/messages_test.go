package dify_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
)

func TestMessages(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	var conv string
	for i := range 5 {
		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: fmt.Sprintf("question %d", i), ConversationID: conv})
		require.NoError(t, err)
		conv = reply.ConversationID
	}
	var queries, answers []string
	for m, err := range bot.Messages(t.Context(), conv, dify.ListOptions{Limit: 2}) {
		require.NoError(t, err)
		require.Equal(t, conv, m.ConversationID)
		queries = append(queries, m.Query)
		answers = append(answers, m.Answer)
	}
	require.Equal(t, []string{"question 4", "question 3", "question 2", "question 1", "question 0"}, queries)
	require.Equal(t, "You said: question 4", answers[0])

	var cursors []string
	for _, r := range srv.Requests() {
		if r.Path == "/v1/messages" {
			cursors = append(cursors, r.Query.Get("first_id"))
			require.Equal(t, conv, r.Query.Get("conversation_id"))
			require.Equal(t, dify.DefaultUser, r.Query.Get("user"))
		}
	}
	require.Len(t, cursors, 3)
	require.Empty(t, cursors[0])

	var last error
	for _, err := range bot.Messages(t.Context(), "not-a-uuid", dify.ListOptions{}) {
		last = err
	}
	require.ErrorIs(t, last, chatbot.ErrInvalidRequest)
	for _, err := range bot.Messages(t.Context(), "0a0b0c0d-0000-4000-8000-000000000000", dify.ListOptions{}) {
		last = err
	}
	require.ErrorIs(t, last, chatbot.ErrNotFound)
}

func TestFeedbackAndSuggested(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)

	require.NoError(t, bot.Feedback(t.Context(), reply.MessageID, "", dify.RatingLike, "Helpful"))
	require.Equal(t, map[string]any{"rating": "like", "content": "Helpful"}, srv.Feedback(reply.MessageID))
	for m, err := range bot.Messages(t.Context(), reply.ConversationID, dify.ListOptions{}) {
		require.NoError(t, err)
		require.Equal(t, dify.RatingLike, m.Rating)
	}
	require.NoError(t, bot.Feedback(t.Context(), reply.MessageID, "", dify.RatingNone, ""))
	require.Nil(t, srv.Feedback(reply.MessageID))
	reqs := srv.Requests()
	require.Equal(t, map[string]any{"rating": nil, "user": dify.DefaultUser}, reqs[len(reqs)-1].JSON())

	count := srv.Count()
	require.ErrorIs(t, bot.Feedback(t.Context(), reply.MessageID, "", "love", ""), chatbot.ErrInvalidRequest)
	require.Equal(t, count, srv.Count())
	require.ErrorIs(t, bot.Feedback(t.Context(), "no-such-message", "", dify.RatingDislike, ""), chatbot.ErrNotFound)

	questions, err := bot.Suggested(t.Context(), reply.MessageID, "")
	require.NoError(t, err)
	require.Equal(t, []string{"Tell me more", "What else can you do?", "How do I start?"}, questions)
	reqs = srv.Requests()
	require.Equal(t, "/v1/messages/"+reply.MessageID+"/suggested", reqs[len(reqs)-1].Path)
	require.Equal(t, dify.DefaultUser, reqs[len(reqs)-1].Query.Get("user"))
	_, err = bot.Suggested(t.Context(), "no-such-message", "")
	require.ErrorIs(t, err, chatbot.ErrNotFound)
}

func TestParametersAndAppInfo(t *testing.T) {
	t.Parallel()
	bot, _ := setup(t)
	p, err := bot.Parameters(t.Context())
	require.NoError(t, err)
	require.Equal(t, "Hello! Ask me anything.", p.OpeningStatement)
	require.Equal(t, []string{"What can you do?"}, p.SuggestedQuestions)
	require.Equal(t, []dify.InputField{
		{Type: "text-input", Variable: "language", Label: "Language", Required: true, MaxLength: 20, Default: "en"},
		{Type: "select", Variable: "tone", Label: "Tone", Default: "friendly", Options: []string{"friendly", "formal"}},
	}, p.UserInputForm)
	require.NotEmpty(t, p.Raw)

	info, err := bot.AppInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, &dify.AppInfo{Name: "Test app", Description: "A fake Dify app", Tags: []string{"test"}, Mode: "chat", AuthorName: "difytest"}, info)
}
