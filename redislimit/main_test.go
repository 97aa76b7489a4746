package redislimit_test

import (
	"os"
	"testing"

	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.QuietRedis()
	os.Exit(m.Run())
}
