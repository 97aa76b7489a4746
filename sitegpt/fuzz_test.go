package sitegpt_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
)

// FuzzSendMessageResponse feeds arbitrary bodies and statuses to
// SendMessage's response and error decoding, seeded from testdata (each file
// named <status>_<name>). It must never panic; a non-2xx answer must be a
// *chatbot.Error with that status; a success must carry a message.
func FuzzSendMessageResponse(f *testing.F) {
	files, err := filepath.Glob("testdata/*_*")
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		status, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		require.NoError(f, err, name)
		body, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(uint16(status), body)
	}

	var (
		mu      sync.Mutex
		status  int
		payload []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		st, b := status, payload
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write(b)
	}))
	f.Cleanup(srv.Close)
	c, err := sitegpt.NewClient("test-api-key-0123", "bot", chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(0))
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, st uint16, body []byte) {
		code := 200 + int(st)%400 // 200 to 599
		if code >= 300 && code < 400 || code == http.StatusNoContent || code == http.StatusNotModified {
			code = http.StatusBadRequest // redirects and body-less statuses are not what is fuzzed
		}
		mu.Lock()
		status, payload = code, body
		mu.Unlock()

		m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
		var apiErr *chatbot.Error
		switch {
		case code > 299:
			require.Error(t, err)
			require.True(t, errors.As(err, &apiErr), "%d: want *chatbot.Error, got %v", code, err)
			assert.Equal(t, code, apiErr.StatusCode)
			assert.Equal(t, "sitegpt", apiErr.Provider)
		case err == nil:
			require.NotNil(t, m)
		default:
			assert.Nil(t, m)
		}
	})
}

// FuzzMessageJSON decodes arbitrary JSON into a Message, whose custom
// decoding (both id names, sources of any shape) must never panic and must
// keep the input in Raw.
func FuzzMessageJSON(f *testing.F) {
	files, err := filepath.Glob("testdata/200_*.json")
	require.NoError(f, err)
	for _, name := range files {
		body, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(body)
	}
	f.Add([]byte(`{"messageId":"1","sources":["u",{"url":"v","title":"t"},null,1,[]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m sitegpt.Message
		if err := m.UnmarshalJSON(b); err == nil && strings.TrimSpace(string(b)) != "null" {
			assert.Equal(t, string(b), string(m.Raw))
		}
	})
}
