package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// MaxLeadsPageSize is the largest page [Client.Leads] may ask for.
const MaxLeadsPageSize = 100

// Lead is a lead captured by the chatbot. The fields the provider documents
// are mapped tolerantly (ids and timestamps as strings or numbers); every
// other field stays reachable in Raw. Status and Priority are plain strings
// because their values differ between sources (documented statuses include
// "new", "contacted", "qualified", "converted", "lost" and "follow_up").
type Lead struct {
	ID          string
	Name        string
	Email       string
	Phone       string
	Company     string // "company" at the top level, else in Metadata
	Source      string
	Status      string
	Priority    string
	Notes       string
	WorkspaceID string
	Metadata    map[string]any // free-form data; nil when absent
	CreatedAt   time.Time      // zero when absent or unparseable
	UpdatedAt   time.Time      // zero when absent or unparseable
	Raw         json.RawMessage
}

// UnmarshalJSON decodes a lead tolerantly and keeps the whole object in Raw.
func (l *Lead) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var meta map[string]any
	if raw, ok := m["metadata"]; ok {
		_ = json.Unmarshal(raw, &meta) // not an object: left nil, still in Raw
	}
	*l = Lead{
		ID:          firstString(m, "id", "_id", "leadId"),
		Name:        firstString(m, "name"),
		Email:       firstString(m, "email"),
		Phone:       firstString(m, "phone"),
		Company:     firstString(m, "company"),
		Source:      firstString(m, "source"),
		Status:      firstString(m, "status"),
		Priority:    firstString(m, "priority"),
		Notes:       firstString(m, "notes"),
		WorkspaceID: firstString(m, "workspaceId"),
		Metadata:    meta,
		CreatedAt:   timestamp(m["createdAt"]),
		UpdatedAt:   timestamp(m["updatedAt"]),
		Raw:         bytes.Clone(b),
	}
	if s, ok := meta["company"].(string); ok && l.Company == "" {
		l.Company = s
	}
	return nil
}

// timestamp reads an RFC 3339 string or a unix time in seconds or
// milliseconds; anything else is the zero time.
func timestamp(raw json.RawMessage) time.Time {
	if s, ok := dialect.JSONText(raw); ok {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return t
			}
		}
		return time.Time{}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err != nil || f <= 0:
		return time.Time{}
	case f > 1e12:
		return time.UnixMilli(int64(f)).UTC()
	}
	return time.Unix(int64(f), 0).UTC()
}

// LeadInput is the body of [Client.CreateLead] and [Client.UpdateLead]. An
// empty string field is not sent (on update: left unchanged). Metadata is
// merged into the lead's metadata by the provider. Clear lists field names
// ("phone", "source", …) sent as null, which clears them on update.
type LeadInput struct {
	Name     string
	Email    string
	Phone    string
	Source   string
	Status   string
	Priority string
	Notes    string
	Metadata map[string]any
	Clear    []string
}

// MarshalJSON encodes the fields that are set, and null for those in Clear.
func (in LeadInput) MarshalJSON() ([]byte, error) {
	m := make(map[string]any)
	for k, v := range map[string]string{
		"name": in.Name, "email": in.Email, "phone": in.Phone, "source": in.Source,
		"status": in.Status, "priority": in.Priority, "notes": in.Notes,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if in.Metadata != nil {
		m["metadata"] = in.Metadata
	}
	for _, k := range in.Clear {
		m[k] = nil
	}
	return json.Marshal(m)
}

// LeadListOptions filters and pages [Client.Leads]. The zero value lists
// every lead, [MaxLeadsPageSize] per request, in the provider's default order.
type LeadListOptions struct {
	Page      int    // first page to fetch, from 1; 0 means 1
	Limit     int    // leads per request, 1 to MaxLeadsPageSize; 0 means MaxLeadsPageSize
	Status    string // only leads with this status
	Priority  string // only leads with this priority
	Search    string // free-text search
	SortBy    string // a field name such as "createdAt"
	SortOrder string // "asc" or "desc"
}

// leadsPath returns the leads path, with the lead id appended when given.
func (c *Client) leadsPath(leadID ...string) (string, error) {
	if len(leadID) == 0 {
		return c.rest.Path("chatbots/%s/leads", c.chatbotID)
	}
	return c.rest.Path("chatbots/%s/leads/%s", c.chatbotID, leadID[0])
}

// Leads returns the chatbot's leads, fetching pages (GET
// chatbots/{chatbotId}/leads with page, limit and the filters in opts) as the
// loop advances. Re-ranging fetches again from opts.Page.
//
// The page shape is not published, so a page is read tolerantly: "data" is
// either the array of leads or an object holding "leads" or "items", and the
// pagination is a "pagination" or "meta" object (beside the leads or at the
// top level) with "page", "totalPages" or "pages", "total", and "hasMore" or
// "hasNext". Paging stops at an empty page, a page shorter than the limit,
// or when the pagination says it was the last.
//
// An error, the last pair, is a [*chatbot.Error] for what the provider
// reports or for invalid options, or a wrapped decoding or transport error.
//
// See https://pollybot.app/docs/api-endpoints/leads.
func (c *Client) Leads(ctx context.Context, opts LeadListOptions) iter.Seq2[Lead, error] {
	return func(yield func(Lead, error) bool) {
		limit, page := opts.Limit, max(opts.Page, 1)
		switch {
		case opts.Page < 0:
			yield(Lead{}, c.rest.Invalid(fmt.Sprintf("negative lead page %d", opts.Page)))
			return
		case limit == 0:
			limit = MaxLeadsPageSize
		case limit < 0 || limit > MaxLeadsPageSize:
			yield(Lead{}, c.rest.Invalid(fmt.Sprintf("lead page size %d is outside 1 to %d", limit, MaxLeadsPageSize)))
			return
		}
		path, err := c.leadsPath()
		if err != nil {
			yield(Lead{}, err)
			return
		}
		for {
			q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{
				"status": opts.Status, "priority": opts.Priority, "search": opts.Search,
				"sortBy": opts.SortBy, "sortOrder": opts.SortOrder,
			} {
				if v != "" {
					q.Set(k, v)
				}
			}
			resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path, Query: q}, nil)
			if err != nil {
				yield(Lead{}, err)
				return
			}
			leads, more, err := decodeLeadsPage(resp.Body, page, limit)
			if err != nil {
				yield(Lead{}, c.rest.Safe(err))
				return
			}
			for _, l := range leads {
				if !yield(l, nil) {
					return
				}
			}
			if !more {
				return
			}
			page++
		}
	}
}

// leadsPagination is the tolerant pagination object of a leads page.
type leadsPagination struct {
	Page       *int  `json:"page"`
	TotalPages *int  `json:"totalPages"`
	Pages      *int  `json:"pages"`
	Total      *int  `json:"total"`
	Limit      *int  `json:"limit"`
	HasMore    *bool `json:"hasMore"`
	HasNext    *bool `json:"hasNext"`
}

// decodeLeadsPage reads one page and reports whether another may follow.
func decodeLeadsPage(body []byte, page, limit int) ([]Lead, bool, error) {
	var top struct {
		Data       json.RawMessage  `json:"data"`
		Pagination *leadsPagination `json:"pagination"`
		Meta       *leadsPagination `json:"meta"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, false, fmt.Errorf("workspace: decoding leads page %d: %w", page, err)
	}
	var leads []Lead
	pg := top.Pagination
	if pg == nil {
		pg = top.Meta
	}
	data := bytes.TrimSpace(top.Data)
	switch {
	case len(data) == 0 || bytes.Equal(data, []byte("null")):
	case data[0] == '[':
		if err := json.Unmarshal(data, &leads); err != nil {
			return nil, false, fmt.Errorf("workspace: decoding leads page %d: %w", page, err)
		}
	default:
		var inner struct {
			Leads      []Lead           `json:"leads"`
			Items      []Lead           `json:"items"`
			Pagination *leadsPagination `json:"pagination"`
			Meta       *leadsPagination `json:"meta"`
		}
		if err := json.Unmarshal(data, &inner); err != nil {
			return nil, false, fmt.Errorf("workspace: decoding leads page %d: %w", page, err)
		}
		leads = inner.Leads
		if leads == nil {
			leads = inner.Items
		}
		for _, p := range []*leadsPagination{inner.Pagination, inner.Meta} {
			if p != nil {
				pg = p
				break
			}
		}
	}
	if len(leads) == 0 || len(leads) < limit {
		return leads, false, nil
	}
	return leads, pg.more(page), nil
}

// more reports whether the pagination allows a page after page.
func (p *leadsPagination) more(page int) bool {
	if p == nil {
		return true
	}
	for _, b := range []*bool{p.HasMore, p.HasNext} {
		if b != nil {
			return *b
		}
	}
	if p.Page != nil {
		page = *p.Page
	}
	for _, n := range []*int{p.TotalPages, p.Pages} {
		if n != nil {
			return page < *n
		}
	}
	if p.Total != nil && p.Limit != nil && *p.Limit > 0 {
		return page**p.Limit < *p.Total
	}
	return true
}

// Lead returns the lead leadID (GET chatbots/{chatbotId}/leads/{id}). An
// unknown lead is a [*chatbot.Error] matching [chatbot.ErrNotFound]; other
// failures are as for [Client.Leads].
//
// See https://pollybot.app/docs/api-endpoints/leads.
func (c *Client) Lead(ctx context.Context, leadID string) (*Lead, error) {
	path, err := c.leadsPath(leadID)
	if err != nil {
		return nil, err
	}
	return c.leadCall(ctx, rest.Call{Method: http.MethodGet, Path: path})
}

// CreateLead creates a lead (POST chatbots/{chatbotId}/leads) and returns it
// with its generated id. The provider requires Name and Email; they are not
// checked before sending. Failures are [*chatbot.Error] values.
//
// See https://pollybot.app/docs/api-endpoints/leads/create.
func (c *Client) CreateLead(ctx context.Context, in LeadInput) (*Lead, error) {
	path, err := c.leadsPath()
	if err != nil {
		return nil, err
	}
	return c.leadCall(ctx, rest.Call{Method: http.MethodPost, Path: path, Body: in})
}

// UpdateLead changes the fields set in in (PUT
// chatbots/{chatbotId}/leads/{id}, a partial update) and returns the updated
// lead. Failures are [*chatbot.Error] values.
//
// See https://pollybot.app/docs/api-endpoints/leads/update.
func (c *Client) UpdateLead(ctx context.Context, leadID string, in LeadInput) (*Lead, error) {
	path, err := c.leadsPath(leadID)
	if err != nil {
		return nil, err
	}
	return c.leadCall(ctx, rest.Call{Method: http.MethodPut, Path: path, Body: in})
}

// DeleteLead permanently deletes the lead leadID (DELETE
// chatbots/{chatbotId}/leads/{id}). Failures are [*chatbot.Error] values.
//
// See https://pollybot.app/docs/api-endpoints/leads.
func (c *Client) DeleteLead(ctx context.Context, leadID string) error {
	path, err := c.leadsPath(leadID)
	if err != nil {
		return err
	}
	_, err = c.rest.Do(ctx, rest.Call{Method: http.MethodDelete, Path: path}, nil)
	return err
}

// leadCall sends call and decodes the lead in its {"success":true,"data":…}
// envelope ("data" may also hold {"lead":…}; a bare lead is accepted too).
func (c *Client) leadCall(ctx context.Context, call rest.Call) (*Lead, error) {
	resp, err := c.rest.Do(ctx, call, nil)
	if err != nil {
		return nil, err
	}
	var top struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.rest.DecodeJSON(resp, &top); err != nil {
		return nil, err
	}
	raw := top.Data
	if len(raw) == 0 {
		raw = resp.Body
	}
	if inner := object(raw); inner != nil && object(inner["lead"]) != nil {
		raw = inner["lead"]
	}
	var l Lead
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, c.rest.Safe(fmt.Errorf("workspace: decoding lead: %w", err))
	}
	return &l, nil
}

// firstString returns the first of the values of keys in a decoded object
// that is a non-empty JSON string or a number, as text.
func firstString(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if s := dialect.FirstText(obj[k]); s != "" {
			return s
		}
	}
	return ""
}

// object decodes raw as a JSON object, or returns nil.
func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}
