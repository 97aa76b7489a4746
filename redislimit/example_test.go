package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
)

// Every replica of a service builds the same limiter over its own client:
// together they send at most 100 messages a minute with the shared key. It
// needs a Redis, so it only compiles here.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	limiter := redislimit.New(rdb, resilience.Rate{Limit: 100, Period: time.Minute, Burst: 1},
		redislimit.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))

	client, err := workspace.NewClient(os.Getenv("WORKSPACE_API_KEY"), os.Getenv("WORKSPACE_CHATBOT_ID"))
	if err != nil {
		fmt.Println(err)
		return
	}
	bot := chatbot.Wrap(client, resilience.Limit(limiter))
	reply, err := bot.Chat(context.Background(), chatbot.Request{Message: "Hello"})
	switch {
	case errors.Is(err, chatbot.ErrRateLimited):
		fmt.Println("busy, try again later")
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(reply.Text)
	}
}

// Under FailClosed a Redis that cannot decide refuses the call with an error
// matching ErrUnavailable; resilience.Limit wraps it in a LimiterError and
// the message is not sent.
func ExampleWithPolicy() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}) // nothing listens there
	defer rdb.Close()
	limiter := redislimit.New(rdb, resilience.Rate{Limit: 10, Period: time.Second},
		redislimit.WithPolicy(redislimit.FailClosed))
	_, err := limiter.Allow(context.Background(), "workspace/bot")
	fmt.Println(errors.Is(err, redislimit.ErrUnavailable))
	// Output: true
}
