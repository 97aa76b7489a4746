package stammer_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

func TestAddQA(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	qa, err := bot.AddQA(t.Context(), stammer.QARequest{Question: "Do you ship abroad?", Answer: "Yes, to the EU."})
	require.NoError(t, err)
	assert.Equal(t, "1", qa.ID)
	assert.Equal(t, "Do you ship abroad?", qa.Question)
	assert.Equal(t, "Yes, to the EU.", qa.Answer)
	assert.Equal(t, "Q&A added successfully.", qa.Message)
	assert.NotEmpty(t, qa.Raw)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/en/chatbot/api/v1/qa/", reqs[0].Path)
	assert.Equal(t, map[string]any{
		"chatbot_uuid": srv.ChatbotID(),
		"question":     "Do you ship abroad?",
		"answer":       "Yes, to the EU.",
	}, sentBody(t, srv, 0))
	assert.Equal(t, []stammertest.QA{{ID: 1, Question: "Do you ship abroad?", Answer: "Yes, to the EU."}}, srv.QAs())
}

func TestAddQARefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  stammer.QARequest
	}{
		{name: "empty question", req: stammer.QARequest{Answer: "a"}},
		{name: "blank answer", req: stammer.QARequest{Question: "q", Answer: " "}},
		{name: "NUL", req: stammer.QARequest{Question: "q\x00", Answer: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			_, err := bot.AddQA(t.Context(), tt.req)
			requireAPIError(t, chatbot.ErrInvalidRequest, err)
			assert.Equal(t, 0, srv.Count())
		})
	}
}

func TestAddQAError(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	srv.FailNext(1, stammertest.Forbidden())
	_, err := bot.AddQA(t.Context(), stammer.QARequest{Question: "q", Answer: "a"})
	requireAPIError(t, chatbot.ErrForbidden, err)
	assert.Empty(t, srv.QAs())
}
