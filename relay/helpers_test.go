package relay_test

import (
	"context"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
)

// scripted is a Chatbot whose Stream yields chunks, then err when set.
type scripted struct {
	chunks []chatbot.Chunk
	err    error
}

func (s scripted) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(s.Stream(ctx, req))
}

func (s scripted) Stream(context.Context, chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, c := range s.chunks {
			if !yield(c, nil) {
				return
			}
		}
		if s.err != nil {
			yield(chatbot.Chunk{}, s.err)
		}
	}
}

// serve starts a server relaying bot at /chat.
func serve(t *testing.T, bot chatbot.Chatbot, opts ...relay.Option) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /chat", relay.Handler(bot, nil, opts...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// post sends body to srv's /chat, asking for accept (none when empty).
func post(t *testing.T, ctx context.Context, srv *httptest.Server, accept, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/chat", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	return resp
}

// accepts are the Accept headers that choose each format.
var accepts = map[relay.Format]string{
	relay.FormatAISDK: "",
	relay.FormatSSE:   "text/event-stream",
	relay.FormatText:  "text/plain",
}
