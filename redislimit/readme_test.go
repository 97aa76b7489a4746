package redislimit_test

// The README's "Rate limits shared by a fleet (Redis)" Go block appears here
// verbatim (the root module's readme_test.go checks that, line by line),
// where it is compiled and run against a real redis-server and the
// workspace fake.

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func readmeRedisLimit(addr, password string, workspaceBot chatbot.Chatbot, logger *slog.Logger) (chatbot.Chatbot, *redis.Client) {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  addr,
		Password:              password,
		ContextTimeoutEnabled: true, // lets the limiter's timeout bound every call
	})
	limiter := redislimit.New(rdb, resilience.Rate{Limit: 1000, Period: time.Hour, Burst: 1}, // the workspace plan, for the whole fleet
		redislimit.WithPrefix("support-bot:"),        // one budget per service and key
		redislimit.WithTimeout(100*time.Millisecond), // the default
		redislimit.WithPolicy(redislimit.FailOpen),   // the default: a call goes when Redis cannot decide
		redislimit.WithLogger(logger),                // one line per 10 s while Redis fails
	)
	bot := chatbot.Wrap(workspaceBot, resilience.Limit(limiter))
	return bot, rdb
}

func TestReadmeRedisLimit(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	fake := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(fake.Close)
	client, err := workspace.NewClient(fake.APIKey(), fake.ChatbotID(), chatbot.WithBaseURL(fake.URL))
	require.NoError(t, err)
	logger, logs := testenv.NewLogger()
	bot, rdb := readmeRedisLimit(srv.Addr, "", client, logger)
	t.Cleanup(func() { _ = rdb.Close() })
	// Warm the pool and Redis's script cache with a patient limiter, so that
	// the block's 100 ms timeout meets one loopback round trip, not a dial
	// and a script load on a busy machine.
	_, err = redislimit.New(rdb, resilience.Rate{Limit: 1}, testenv.Patient, redislimit.WithPrefix("warm:")).Allow(t.Context(), "k")
	require.NoError(t, err)

	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	keys, err := rdb.Keys(t.Context(), "rate:12:support-bot:*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{"rate:12:support-bot:workspace/" + fake.ChatbotID()}, keys)

	// The hour's next call is 3.6 s away: more than this context allows.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err = bot.Chat(ctx, chatbot.Request{Message: "hello again"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, resilience.CodeClientRateLimited, apiErr.ProviderCode)
	assert.Equal(t, 1, fake.Count(), "the throttled call was not sent")
	assert.Empty(t, logs.String())
}
