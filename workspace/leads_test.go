package workspace_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestLeadsCRUD(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	ctx := t.Context()

	created, err := c.CreateLead(ctx, workspace.LeadInput{
		Name: "John Doe", Email: "john.doe@example.com", Phone: "+1-555-123-4567", Source: "website",
		Metadata: map[string]any{"company": "Tech Corp", "utm_source": "google"},
	})
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)
	assert.Equal(t, "John Doe", created.Name)
	assert.Equal(t, "new", created.Status, "the fake's default status")
	assert.Equal(t, "Tech Corp", created.Company, "read from metadata")
	assert.False(t, created.CreatedAt.IsZero())
	assert.Contains(t, string(created.Raw), `"workspaceId":"ws_test"`)
	reqs := srv.Requests()
	assert.Equal(t, http.MethodPost, reqs[len(reqs)-1].Method)
	assert.Equal(t, "/chatbots/"+srv.ChatbotID()+"/leads", reqs[len(reqs)-1].Path)

	got, err := c.Lead(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.Email, got.Email)

	updated, err := c.UpdateLead(ctx, created.ID, workspace.LeadInput{
		Status: "contacted", Metadata: map[string]any{"score": 85}, Clear: []string{"phone"},
	})
	require.NoError(t, err)
	assert.Equal(t, "contacted", updated.Status)
	assert.Equal(t, "", updated.Phone)
	assert.Equal(t, "John Doe", updated.Name, "a partial update keeps other fields")
	assert.Equal(t, "google", updated.Metadata["utm_source"], "metadata is merged")
	assert.InDelta(t, 85, updated.Metadata["score"], 0)
	reqs = srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.MethodPut, last.Method)
	assert.JSONEq(t, `{"status":"contacted","metadata":{"score":85},"phone":null}`, string(last.Body))

	require.NoError(t, c.DeleteLead(ctx, created.ID))
	_, err = c.Lead(ctx, created.ID)
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "LEAD_NOT_FOUND", apiErr.ProviderCode)
}

func TestCreateLeadValidation(t *testing.T) {
	t.Parallel()
	_, c := setup(t, workspacetest.Config{})
	_, err := c.CreateLead(t.Context(), workspace.LeadInput{Name: "No Email"})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
}

func TestLeadBadID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	for _, id := range []string{"", "..", "."} {
		_, err := c.Lead(t.Context(), id)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "id %q", id)
		require.ErrorIs(t, c.DeleteLead(t.Context(), id), chatbot.ErrInvalidRequest)
	}
	_, err := c.Lead(t.Context(), "a/b?c")
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	assert.Equal(t, "/chatbots/"+srv.ChatbotID()+"/leads/a%2Fb%3Fc", srv.Requests()[0].Path)
}

func TestLeadsPagination(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	for i := range 25 {
		status := "new"
		if i%5 == 0 {
			status = "qualified"
		}
		srv.AddLead(map[string]any{"name": fmt.Sprintf("Lead %02d", i), "email": fmt.Sprintf("l%d@example.com", i), "status": status})
	}
	var names []string
	for l, err := range c.Leads(t.Context(), workspace.LeadListOptions{Limit: 10}) {
		require.NoError(t, err)
		names = append(names, l.Name)
	}
	require.Len(t, names, 25)
	assert.Equal(t, "Lead 00", names[0])
	assert.Equal(t, "Lead 24", names[24])
	assert.Equal(t, 3, srv.Count(), "pages of 10, 10 and 5")
	q := srv.Requests()[2].Query
	assert.Equal(t, "3", q.Get("page"))
	assert.Equal(t, "10", q.Get("limit"))

	var qualified int
	for l, err := range c.Leads(t.Context(), workspace.LeadListOptions{Status: "qualified", Search: "lead", SortBy: "createdAt", SortOrder: "desc"}) {
		require.NoError(t, err)
		assert.Equal(t, "qualified", l.Status)
		qualified++
	}
	assert.Equal(t, 5, qualified)
	q = srv.Requests()[3].Query
	assert.Equal(t, "qualified", q.Get("status"))
	assert.Equal(t, "lead", q.Get("search"))
	assert.Equal(t, "createdAt", q.Get("sortBy"))
	assert.Equal(t, "desc", q.Get("sortOrder"))
	assert.Equal(t, strconv.Itoa(workspace.MaxLeadsPageSize), q.Get("limit"))

	// Breaking out stops fetching.
	before := srv.Count()
	for range c.Leads(t.Context(), workspace.LeadListOptions{Limit: 1}) {
		break
	}
	assert.Equal(t, before+1, srv.Count())
}

func TestLeadsInvalidOptions(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	for _, opts := range []workspace.LeadListOptions{{Limit: 101}, {Limit: -1}, {Page: -2}} {
		var pairs int
		for _, err := range c.Leads(t.Context(), opts) {
			pairs++
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
		}
		assert.Equal(t, 1, pairs)
	}
	assert.Equal(t, 0, srv.Count())
}

// TestLeadsPageShapes serves the unpublished page shapes the client accepts.
func TestLeadsPageShapes(t *testing.T) {
	t.Parallel()
	lead := func(id int) map[string]any { return map[string]any{"id": strconv.Itoa(id), "name": "n"} }
	tests := []struct {
		name      string
		page      func(page, limit int) any // the body for a page
		wantLeads int
		wantCalls int
	}{
		{"data array, short last page", func(page, _ int) any {
			if page == 1 {
				return map[string]any{"success": true, "data": []any{lead(1), lead(2)}}
			}
			return map[string]any{"success": true, "data": []any{lead(3)}}
		}, 3, 2},
		{"data array, empty page", func(page, _ int) any {
			if page <= 2 {
				return map[string]any{"data": []any{lead(page*2 - 1), lead(page * 2)}}
			}
			return map[string]any{"data": []any{}}
		}, 4, 3},
		{"items with meta.hasNext", func(page, _ int) any {
			return map[string]any{"data": map[string]any{"items": []any{lead(page*2 - 1), lead(page * 2)},
				"meta": map[string]any{"page": page, "hasNext": page < 2}}}
		}, 4, 2},
		{"leads with pagination.totalPages", func(page, _ int) any {
			return map[string]any{"data": map[string]any{"leads": []any{lead(page*2 - 1), lead(page * 2)},
				"pagination": map[string]any{"page": page, "totalPages": 3}}}
		}, 6, 3},
		{"top-level meta.pages", func(page, _ int) any {
			return map[string]any{"data": []any{lead(page*2 - 1), lead(page * 2)}, "meta": map[string]any{"page": page, "pages": 1}}
		}, 2, 1},
		{"total and limit", func(page, limit int) any {
			return map[string]any{"data": []any{lead(page*2 - 1), lead(page * 2)},
				"pagination": map[string]any{"total": 4, "limit": limit}}
		}, 4, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c := serve(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
				assert.Equal(t, 2, limit)
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(tt.page(page, limit))
			})
			var n int
			for l, err := range c.Leads(t.Context(), workspace.LeadListOptions{Limit: 2}) {
				require.NoError(t, err)
				assert.Equal(t, strconv.Itoa(n+1), l.ID)
				n++
			}
			assert.Equal(t, tt.wantLeads, n)
			assert.Equal(t, tt.wantCalls, int(calls.Load()))
		})
	}
}

func TestLeadDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want workspace.Lead
	}{
		{"leads_page_object.json", workspace.Lead{ID: "lead_1", Name: "John Doe", Email: "john.doe@example.com",
			Phone: "+1-555-123-4567", Company: "Tech Corp", Source: "website", Status: "new", Priority: "high",
			WorkspaceID: "ws_1", CreatedAt: time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)}},
		{"leads_page_array.json", workspace.Lead{ID: "42", Name: "Ada", Email: "ada@example.com", Status: "follow_up",
			CreatedAt: time.Unix(1705314600, 0).UTC(), UpdatedAt: time.Unix(1705314600, 0).UTC()}},
		{"leads_page_items.json", workspace.Lead{ID: "l3", Name: "Bo", Email: "bo@example.com", Company: "Acme", Notes: "call back"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.file)
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			})
			var got []workspace.Lead
			for l, err := range c.Leads(t.Context(), workspace.LeadListOptions{Limit: 1}) {
				require.NoError(t, err)
				got = append(got, l)
				break
			}
			require.Len(t, got, 1)
			l := got[0]
			assert.NotEmpty(t, l.Raw)
			l.Raw, l.Metadata = nil, nil
			assert.Equal(t, tt.want, l)
		})
	}
}

func TestLeadMalformed(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true,"data":[1,2]}`)
	})
	_, err := c.Lead(t.Context(), "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "workspace: decoding lead")
	for _, err := range c.Leads(t.Context(), workspace.LeadListOptions{}) {
		require.Error(t, err)
		assert.Contains(t, err.Error(), "workspace: decoding leads page 1")
	}
}
