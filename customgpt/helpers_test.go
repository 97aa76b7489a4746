package customgpt_test

import (
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
)

// session is the conversation the tests against a raw handler send to.
const session = "f1b9e3a2-6c1d-4b7e-9a55-0d2c7e8f4a10"

// newFake starts the fake and a client of it that does not retry, unless
// opts say otherwise.
func newFake(t *testing.T, opts ...chatbot.Option) (*customgpt.Client, *customgpttest.Server) {
	t.Helper()
	srv := customgpttest.NewServer(customgpttest.Config{})
	t.Cleanup(srv.Close)
	opts = append([]chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)}, opts...)
	c, err := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), opts...)
	require.NoError(t, err)
	return c, srv
}

// serve starts a server answering every request with h and returns a
// client of it, for the project 4242, that does not retry.
func serve(t *testing.T, h http.HandlerFunc) *customgpt.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := customgpt.NewClient(customgpttest.DefaultAPIKey, "4242", chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	return c
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// replay yields chunks, then err if not nil.
func replay(chunks []chatbot.Chunk, err error) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
		if err != nil {
			yield(chatbot.Chunk{}, err)
		}
	}
}

// collect ranges over chunks to the end and returns every chunk and the
// error, checking that the error comes once, last.
func collect(t *testing.T, chunks iter.Seq2[chatbot.Chunk, error]) ([]chatbot.Chunk, error) {
	t.Helper()
	var got []chatbot.Chunk
	var gotErr error
	for ch, err := range chunks {
		require.NoError(t, gotErr, "nothing after the error")
		if err != nil {
			gotErr = err
			continue
		}
		got = append(got, ch)
	}
	return got, gotErr
}

// ids returns the ids of sources.
func ids(sources []chatbot.Source) []string {
	var out []string
	for _, s := range sources {
		out = append(out, s.ID)
	}
	return out
}

// mustData returns the "data" of a CustomGPT answer.
func mustData(t *testing.T, body []byte) json.RawMessage {
	t.Helper()
	var env struct{ Data json.RawMessage }
	require.NoError(t, json.Unmarshal(body, &env))
	return env.Data
}

// customgpttestCitation is a citation of the fake with id.
func customgpttestCitation(id int64) customgpttest.Citation {
	return customgpttest.Citation{ID: id, URL: "https://example.com/page-" + strconv.FormatInt(id, 10),
		Title: "Page " + strconv.FormatInt(id, 10), Description: "About page " + strconv.FormatInt(id, 10)}
}
