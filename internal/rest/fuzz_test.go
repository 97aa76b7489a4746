package rest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// fuzzSecret is the key the error path must never reveal; "$KEY" in a fuzz
// input is replaced by it, so the seeds can echo the key back.
const fuzzSecret = "sk-workspace_FUZZSECRETFUZZSECRET0123456789"

// FuzzParseErrorBody feeds arbitrary bodies to ParseErrorBody and to the
// whole error path (a response of that status and body through Client.Do): no panic, deterministic fields, no
// negative wait, Body capped at 64 KiB, and the key never in any field or in
// Error(), even when the body echoes it in every shape.
func FuzzParseErrorBody(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b, http.StatusBadRequest)
		f.Add(b, http.StatusTooManyRequests)
	}
	f.Add([]byte(""), http.StatusBadGateway)
	f.Add([]byte("null"), http.StatusOK)
	f.Add([]byte(`{"code":{"x":1},"error":[1,2],"details":"s","retryAfter":-5}`), http.StatusInternalServerError)

	var served atomic.Pointer[[]byte]
	var code atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(code.Load()))
		w.Write(*served.Load())
	}))
	f.Cleanup(srv.Close)
	rc, err := rest.New(testConfig, fuzzSecret, []chatbot.Option{chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0)})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, body []byte, status int) {
		first := rest.ParseErrorBody(body)
		assert.Equal(t, first, rest.ParseErrorBody(body), "ParseErrorBody is deterministic")
		assert.GreaterOrEqual(t, first.RetryAfter, 0*first.RetryAfter)

		if status < 400 || status > 599 {
			status = http.StatusBadRequest
		}
		withKey := bytes.ReplaceAll(body, []byte("$KEY"), []byte(fuzzSecret))
		served.Store(&withKey)
		code.Store(int64(status))
		_, err := rc.Do(t.Context(), rest.Call{Method: http.MethodGet, Path: "x"}, nil)
		var e *chatbot.Error
		require.ErrorAs(t, err, &e)
		assert.NotEmpty(t, e.Code)
		assert.LessOrEqual(t, len(e.Body), 64<<10)
		assert.GreaterOrEqual(t, e.RetryAfter, 0*e.RetryAfter)
		for field, s := range map[string]string{
			"Error()":      e.Error(),
			"Message":      e.Message,
			"ProviderCode": e.ProviderCode,
			"Body":         string(e.Body),
		} {
			assert.False(t, strings.Contains(s, fuzzSecret), "%s reveals the key: %q", field, s)
		}
	})
}
