package chatbottest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
)

// answer is the code under test: it depends only on chatbot.Chatbot.
func answer(ctx context.Context, bot chatbot.Chatbot, question string) string {
	reply, err := bot.Chat(ctx, chatbot.Request{Message: question})
	var apiErr *chatbot.Error
	switch {
	case errors.As(err, &apiErr) && errors.Is(err, chatbot.ErrRateLimited):
		return fmt.Sprintf("busy, try again in %s", apiErr.RetryAfter)
	case err != nil:
		return "error: " + err.Error()
	}
	return reply.Text
}

func ExampleBot() {
	bot := chatbottest.NewBot("We open at nine.").Fail(chatbottest.RateLimited(time.Minute))

	fmt.Println(answer(context.Background(), bot, "When do you open?"))
	fmt.Println(answer(context.Background(), bot, "And close?"))
	fmt.Println(len(bot.Requests()), "requests")
	// Output:
	// We open at nine.
	// busy, try again in 1m0s
	// 2 requests
}

// A turn's Delay ends with the caller's deadline, as a slow provider's
// answer would, so code that sets its own timeout can be tested without
// waiting for the delay.
func ExampleTurn_delay() {
	bot := chatbottest.NewBot().Script(chatbottest.Turn{Chunks: []string{"Too late."}, Delay: time.Hour})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := bot.Chat(ctx, chatbot.Request{Message: "Are you there?"})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}
