package customgpt_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// TestCitationsResolvedOnRequest: a reply carries its citation ids and
// costs no extra request; ResolveSources reads each id once, and the cache
// serves it afterwards.
func TestCitationsResolvedOnRequest(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetCitations(customgpttestCitation(31), customgpttestCitation(32))
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.NoError(t, err)
	assert.Equal(t, []chatbot.Source{{ID: "31"}, {ID: "32"}}, reply.Sources)
	assert.Equal(t, 2, srv.Count(), "the creation and the message: no request per citation")

	sources, err := c.ResolveSources(t.Context(), append(reply.Sources, chatbot.Source{ID: "31"}, chatbot.Source{ID: "web", Title: "kept"}))
	require.NoError(t, err)
	require.Len(t, sources, 4)
	assert.Equal(t, "Page 31", sources[0].Title)
	assert.Equal(t, "https://example.com/page-31", sources[0].URL)
	assert.JSONEq(t, `{"id":31,"url":"https://example.com/page-31","title":"Page 31","description":"About page 31","image":""}`, string(sources[0].Raw))
	assert.Equal(t, "Page 32", sources[1].Title)
	assert.Equal(t, "Page 31", sources[2].Title)
	assert.Equal(t, chatbot.Source{ID: "web", Title: "kept"}, sources[3], "not a citation id: copied as it is")
	assert.Equal(t, chatbot.Source{ID: "31"}, reply.Sources[0], "the reply's own sources are not changed")
	assert.Equal(t, 4, srv.Count(), "one request per id")

	_, err = c.ResolveSources(t.Context(), reply.Sources)
	require.NoError(t, err)
	assert.Equal(t, 4, srv.Count(), "cached")
	cit, err := c.Citation(t.Context(), 32)
	require.NoError(t, err)
	assert.Equal(t, "About page 32", cit.Description)
	cit.Title = "changed"
	again, err := c.Citation(t.Context(), 32)
	require.NoError(t, err)
	assert.Equal(t, "Page 32", again.Title, "a caller's change does not reach the cache")
	assert.Equal(t, 4, srv.Count())
	paths := []string{srv.Requests()[2].Path, srv.Requests()[3].Path}
	assert.Equal(t, []string{"/api/v1/projects/4242/citations/31", "/api/v1/projects/4242/citations/32"}, paths)
}

// TestCitationNotFound: an unknown citation is ErrNotFound and is not
// cached; what was resolved before it is returned.
func TestCitationNotFound(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetCitations(customgpttestCitation(31))
	sources, err := c.ResolveSources(t.Context(), []chatbot.Source{{ID: "31"}, {ID: "99"}, {ID: "31"}})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	require.Len(t, sources, 3)
	assert.Equal(t, "Page 31", sources[0].Title)
	assert.Empty(t, sources[1].Title)
	_, err = c.Citation(t.Context(), 99)
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	assert.Equal(t, 3, srv.Count(), "a failure is asked again")
	_, err = c.Citation(t.Context(), 0)
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Equal(t, 3, srv.Count())
}

// TestCitationNulls: null fields of a citation are empty.
func TestCitationNulls(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, `{"status":"success","data":{"id":5,"url":null,"title":"T","description":null,"image":null}}`)
	})
	cit, err := c.Citation(t.Context(), 5)
	require.NoError(t, err)
	assert.Equal(t, customgpt.Citation{ID: 5, Title: "T", Raw: cit.Raw}, *cit)
}

// TestCitationCacheIsBounded: past CitationCacheSize the oldest citation
// is read again, the newest is not.
func TestCitationCacheIsBounded(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		fake.WriteBody(w, http.StatusOK, fmt.Sprintf(`{"status":"success","data":{"id":%s,"title":"Page %s"}}`, id, id))
	})
	for id := int64(1); id <= customgpt.CitationCacheSize+1; id++ {
		_, err := c.Citation(t.Context(), id)
		require.NoError(t, err)
	}
	require.Equal(t, int64(customgpt.CitationCacheSize+1), n.Load())
	_, err := c.Citation(t.Context(), customgpt.CitationCacheSize+1)
	require.NoError(t, err)
	assert.Equal(t, int64(customgpt.CitationCacheSize+1), n.Load(), "the newest is cached")
	cit, err := c.Citation(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, "Page 1", cit.Title)
	assert.Equal(t, int64(customgpt.CitationCacheSize+2), n.Load(), "the oldest was forgotten")
}
