package stammer_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/stammer"
)

// fuzzStatuses are the statuses a fuzzed response is served with.
var fuzzStatuses = []int{200, 201, 202, 204, 400, 401, 402, 403, 404, 405, 429, 500, 502, 503}

// scripted is a handler serving a settable response, written in pieces of
// writeSize bytes (0: at once).
type scripted struct {
	mu        sync.Mutex
	status    int
	body      []byte
	writeSize int
}

func (s *scripted) set(status int, body []byte, writeSize int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.writeSize = status, body, writeSize
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status, body, size := s.status, s.body, s.writeSize
	s.mu.Unlock()
	w.WriteHeader(status)
	var written int
	fake.Writer{WriteSize: size}.Write(r.Context(), w, &written, body)
}

// seeds adds every file under testdata/dir, its status taken from a
// "NNN_" file name prefix (200 when there is none).
func seeds(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		status := 200
		if p, _, ok := strings.Cut(filepath.Base(name), "_"); ok {
			if n, err := strconv.Atoi(p); err == nil {
				status = n
			}
		}
		f.Add(status, b)
	}
}

func fuzzStatus(n int) int {
	for _, s := range fuzzStatuses {
		if s == n {
			return s
		}
	}
	if n < 0 {
		n = -n
	}
	return fuzzStatuses[n%len(fuzzStatuses)]
}

// FuzzMessageResponse serves arbitrary bodies with success and error
// statuses to Chat: decoding never panics, every outcome is a reply or an
// error, a provider error carries the status, and writing the body byte by
// byte changes nothing.
func FuzzMessageResponse(f *testing.F) {
	seeds(f, "message")
	h := &scripted{}
	srv := fake.NewServer(h)
	f.Cleanup(srv.Close)
	bot, err := stammer.NewClient("fuzz-token", "12345678-1234-5678-1234-567812345678",
		chatbot.WithBaseURL(srv.URL+"/en/"), chatbot.WithMaxRetries(0))
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = fuzzStatus(status)
		h.set(status, body, 0)
		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "k"})
		require.True(t, (reply == nil) != (err == nil), "exactly one of reply and error")
		var apiErr *chatbot.Error
		if errors.As(err, &apiErr) {
			assert.Equal(t, status, apiErr.StatusCode)
			assert.NotEmpty(t, apiErr.Code)
		}
		if reply != nil {
			assert.Equal(t, "k", reply.ConversationID)
			assert.LessOrEqual(t, status, 299)
		}

		h.set(status, body, 1)
		again, err2 := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "k"})
		assert.Equal(t, reply, again, "re-chunking the body changes the reply")
		assert.Equal(t, err == nil, err2 == nil)
		if err != nil && err2 != nil {
			assert.Equal(t, err.Error(), err2.Error())
		}
	})
}

// FuzzConversations serves arbitrary list bodies: decoding never panics and
// yields at most one error, last.
func FuzzConversations(f *testing.F) {
	seeds(f, "conversations")
	h := &scripted{}
	srv := fake.NewServer(h)
	f.Cleanup(srv.Close)
	bot, err := stammer.NewClient("fuzz-token", "12345678-1234-5678-1234-567812345678",
		chatbot.WithBaseURL(srv.URL+"/en/"), chatbot.WithMaxRetries(0))
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		h.set(fuzzStatus(status), body, 0)
		before := srv.Count()
		errs := 0
		for _, err := range bot.Conversations(t.Context(), stammer.ConversationsOptions{}) {
			assert.Zero(t, errs, "nothing after an error")
			if err != nil {
				errs++
			}
		}
		assert.LessOrEqual(t, errs, 1)
		assert.LessOrEqual(t, srv.Count()-before, 2, "a page served again is not fetched again")
	})
}
