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
	bot := chatbottest.NewBot("We open at nine.").
		Fail(&chatbot.Error{Provider: "workspace", StatusCode: 429, Code: chatbot.CodeRateLimitExceeded, RetryAfter: time.Minute})

	fmt.Println(answer(context.Background(), bot, "When do you open?"))
	fmt.Println(answer(context.Background(), bot, "And close?"))
	fmt.Println(len(bot.Requests()), "requests")
	// Output:
	// We open at nine.
	// busy, try again in 1m0s
	// 2 requests
}
