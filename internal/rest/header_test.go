package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/internal/fake"
)

// TestCallHeader: a call's extra headers are sent, and never replace the
// headers the SDK sets itself.
func TestCallHeader(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, `{}`)
	})
	call := chatCall
	call.Header = http.Header{
		"cache-control": {"no-cache"},
		"Authorization": {"Bearer stolen"},
		"Accept":        {"text/html"},
	}
	_, err := c.Do(t.Context(), call, nil)
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "no-cache", reqs[0].Header.Get("Cache-Control"))
	assert.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "application/json", reqs[0].Header.Get("Accept"))
}
