package chatbot_test

import (
	"context"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/workspace"
)

// tagBot records the order in which wrapped layers saw a call.
type tagBot struct {
	next  chatbot.Chatbot
	tag   string
	trail *[]string
}

func (b tagBot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	*b.trail = append(*b.trail, b.tag)
	return b.next.Chat(ctx, req)
}

func (b tagBot) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	*b.trail = append(*b.trail, b.tag)
	return b.next.Stream(ctx, req)
}

func (b tagBot) Info() chatbot.Info { return chatbot.InfoOf(b.next) }

type infoBot struct{ chatbot.Chatbot }

func (infoBot) Info() chatbot.Info { return chatbot.Info{Provider: "p", ChatbotID: "c"} }

type plainBot struct{ trail *[]string }

func (b plainBot) Chat(context.Context, chatbot.Request) (*chatbot.Reply, error) {
	*b.trail = append(*b.trail, "bot")
	return &chatbot.Reply{Text: "hi"}, nil
}

func (b plainBot) Stream(context.Context, chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) { yield(chatbot.Chunk{Text: "hi", Done: true}, nil) }
}

func TestWrapAppliesTheFirstMiddlewareOutermost(t *testing.T) {
	var trail []string
	mw := func(tag string) chatbot.Middleware {
		return func(next chatbot.Chatbot) chatbot.Chatbot { return tagBot{next: next, tag: tag, trail: &trail} }
	}
	bot := chatbot.Wrap(infoBot{plainBot{&trail}}, mw("a"), mw("b"), mw("c"))
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "x"})
	require.NoError(t, err)
	assert.Equal(t, "hi", reply.Text)
	assert.Equal(t, []string{"a", "b", "c", "bot"}, trail)
	assert.Equal(t, chatbot.Info{Provider: "p", ChatbotID: "c"}, chatbot.InfoOf(bot), "Info is forwarded through the chain")
}

func TestWrapWithoutMiddlewareReturnsTheBot(t *testing.T) {
	var trail []string
	bot := plainBot{&trail}
	assert.Equal(t, chatbot.Chatbot(bot), chatbot.Wrap(bot))
	assert.Equal(t, chatbot.Info{}, chatbot.InfoOf(bot), "a Chatbot without Info reports the zero Info")
}

func TestProviderClientsReportTheirInfo(t *testing.T) {
	ws, err := workspace.NewClient("sk-workspace_test", "ws-bot")
	require.NoError(t, err)
	sg, err := sitegpt.NewClient("sg-key", "sg-bot")
	require.NoError(t, err)
	ud, err := userdesk.NewClient("ud-key", "ud-bot")
	require.NoError(t, err)
	st, err := stammer.NewClient("st-token", "5e1ef5a4-8c0e-4d43-9a1c-2f4c2f8e1a11")
	require.NoError(t, err)
	for _, tt := range []struct {
		bot  chatbot.Chatbot
		want chatbot.Info
	}{
		{ws, chatbot.Info{Provider: "workspace", ChatbotID: "ws-bot"}},
		{sg, chatbot.Info{Provider: "sitegpt", ChatbotID: "sg-bot"}},
		{ud, chatbot.Info{Provider: "userdesk", ChatbotID: "ud-bot"}},
		{st, chatbot.Info{Provider: "stammer", ChatbotID: "5e1ef5a4-8c0e-4d43-9a1c-2f4c2f8e1a11"}},
	} {
		got := chatbot.InfoOf(tt.bot)
		assert.Equal(t, tt.want.Provider, got.Provider)
		assert.Equal(t, tt.want.ChatbotID, got.ChatbotID)
		assert.NotZero(t, got.Capabilities, "the capabilities are checked by TestREADMECapabilities and each provider's conformance test")
	}
}

// TestWrapRefusesNilMiddlewareAtWrapTime checks that a nil middleware, a nil
// Chatbot or a middleware returning nil stops the program when it is wrapped,
// with a message naming the culprit, not later in the middle of a call.
func TestWrapRefusesNilMiddlewareAtWrapTime(t *testing.T) {
	t.Parallel()
	var trail []string
	bot := infoBot{plainBot{&trail}}
	pass := func(next chatbot.Chatbot) chatbot.Chatbot { return next }
	assert.PanicsWithValue(t, "chatbot: Wrap with a nil Middleware (middleware 2 of 3)", func() {
		chatbot.Wrap(bot, pass, nil, pass)
	})
	var unset chatbot.Middleware // a middleware a configuration branch never set
	assert.PanicsWithValue(t, "chatbot: Wrap with a nil Middleware (middleware 1 of 1)", func() { chatbot.Wrap(bot, unset) })
	assert.PanicsWithValue(t, "chatbot: Wrap with a nil Chatbot", func() { chatbot.Wrap(nil, pass) })
	assert.PanicsWithValue(t, "chatbot: Wrap: middleware 1 of 2 returned a nil Chatbot", func() {
		chatbot.Wrap(bot, func(chatbot.Chatbot) chatbot.Chatbot { return nil }, pass)
	})
	assert.Empty(t, trail, "nothing was called")
	assert.NotPanics(t, func() { chatbot.Wrap(bot) })
}
