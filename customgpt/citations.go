package customgpt

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Citation is what a citation id of an answer points to: the Open Graph
// data of the page or document cited.
type Citation struct {
	// ID is the citation's id.
	ID int64
	// URL is the page cited, as CustomGPT sent it (not checked: treat it
	// as untrusted before rendering it as a link).
	URL string
	// Title is the page's title.
	Title string
	// Description is the page's description.
	Description string
	// Image is the address of the page's image.
	Image string
	// Raw is the citation's JSON ("data").
	Raw json.RawMessage
}

// wireCitation is a citation as CustomGPT sends it; every text field may be
// null.
type wireCitation struct {
	ID          json.RawMessage `json:"id"`
	URL         *string         `json:"url"`
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	Image       *string         `json:"image"`
}

// CitationCacheSize is how many citations a [Client] keeps, so that the
// same id is read once: past it, the citation read longest ago is
// forgotten first.
const CitationCacheSize = 512

// Citation returns what the citation id points to, read with one request
// the first time and from the client's cache afterwards (see
// [CitationCacheSize]; failures are not cached). An unknown citation is
// [chatbot.ErrNotFound]; other failures CustomGPT reports are
// [*chatbot.Error]. It is safe to call concurrently.
//
// API reference: https://docs.customgpt.ai/reference/get_api-v1-projects-projectid-citations-citationid
func (c *Client) Citation(ctx context.Context, id int64) (*Citation, error) {
	if id <= 0 {
		return nil, c.rc.Invalid("citation id must be positive")
	}
	if cit, ok := c.citations.get(id); ok {
		return cit, nil
	}
	path, err := c.rc.Path("api/v1/projects/%s/citations/%s", c.projectID, strconv.FormatInt(id, 10))
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	resp, err := do(ctx, c, c.rc, rest.Call{Method: http.MethodGet, Path: path}, &raw)
	if err != nil {
		return nil, err
	}
	var w wireCitation
	if err := c.rc.DecodeJSON(&rest.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: raw}, &w); err != nil {
		return nil, err
	}
	cit := &Citation{ID: id, URL: deref(w.URL), Title: deref(w.Title), Description: deref(w.Description),
		Image: deref(w.Image), Raw: raw}
	c.citations.put(id, cit)
	clone := *cit // the caller's to change
	return &clone, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ResolveSources returns a copy of sources (a reply's, whose IDs are
// citation ids) with each Title, URL and Raw filled from the citation its
// ID names, read through [Client.Citation]: one request per id not yet
// cached, made only when called, one at a time. Sources whose ID is not a
// citation id are copied as they are. On failure it returns the copy,
// resolved up to the source that failed, and the error.
func (c *Client) ResolveSources(ctx context.Context, sources []chatbot.Source) ([]chatbot.Source, error) {
	out := make([]chatbot.Source, len(sources))
	copy(out, sources)
	for i := range out {
		id, err := strconv.ParseInt(out[i].ID, 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		cit, err := c.Citation(ctx, id)
		if err != nil {
			return out, err
		}
		out[i].Title, out[i].URL, out[i].Raw = cit.Title, cit.URL, cit.Raw
	}
	return out, nil
}

// citationCache is a bounded cache of citations, forgetting the oldest
// entry first. The zero value is empty and ready; it is safe for concurrent
// use.
type citationCache struct {
	mu    sync.Mutex
	byID  map[int64]*Citation
	order []int64 // ring of the ids cached, oldest at next once full
	next  int
}

func (cc *citationCache) get(id int64) (*Citation, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cit, ok := cc.byID[id]
	if !ok {
		return nil, false
	}
	clone := *cit // the caller's to change
	return &clone, true
}

func (cc *citationCache) put(id int64, cit *Citation) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.byID == nil {
		cc.byID = make(map[int64]*Citation)
	}
	if _, ok := cc.byID[id]; ok {
		cc.byID[id] = cit
		return
	}
	if len(cc.order) < CitationCacheSize {
		cc.order = append(cc.order, id)
	} else {
		delete(cc.byID, cc.order[cc.next])
		cc.order[cc.next] = id
		cc.next = (cc.next + 1) % CitationCacheSize
	}
	cc.byID[id] = cit
}
