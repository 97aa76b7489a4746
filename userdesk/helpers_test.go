package userdesk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

// setup starts a fake Userdesk server and a client for its chatbot, with
// retries off unless opts say otherwise.
func setup(t *testing.T, opts ...chatbot.Option) (*userdesktest.Server, *userdesk.Client) {
	t.Helper()
	srv := userdesktest.NewServer(userdesktest.Config{})
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), opts...)
	require.NoError(t, err)
	return srv, c
}

// requestsTo returns the recorded requests whose path ends in suffix.
func requestsTo(srv *userdesktest.Server, suffix string) []userdesktest.Request {
	var out []userdesktest.Request
	for _, r := range srv.Requests() {
		if len(r.Path) >= len(suffix) && r.Path[len(r.Path)-len(suffix):] == suffix {
			out = append(out, r)
		}
	}
	return out
}
