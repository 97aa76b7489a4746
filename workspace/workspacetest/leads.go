package workspacetest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot/internal/fake"
)

// leadsCollection serves GET (list) and POST (create) on chatbots/{id}/leads.
// A list answers {"success":true,"data":{"leads":[…],"pagination":{"page",
// "limit","total","totalPages","hasMore"}}}.
func (s *Server) leadsCollection(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		page, limit := 1, 10
		if v := q.Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
		}
		if v := q.Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		if page < 1 || limit < 1 || limit > 100 {
			writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "page must be ≥ 1 and limit 1 to 100")
			return
		}
		s.mu.Lock()
		var all []map[string]any
		for _, id := range s.leadOrder {
			l := s.leads[id]
			if match(l, q) {
				all = append(all, maps.Clone(l))
			}
		}
		s.mu.Unlock()
		if q.Get("sortOrder") == "desc" {
			slices.Reverse(all)
		}
		total := len(all)
		pages := (total + limit - 1) / limit
		from, to := min((page-1)*limit, total), min(page*limit, total)
		fake.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"leads": all[from:to],
			"pagination": map[string]any{
				"page": page, "limit": limit, "total": total, "totalPages": pages, "hasMore": page < pages,
			},
		}})
	case http.MethodPost:
		var in map[string]any
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "Invalid JSON body")
			return
		}
		if str(in["name"]) == "" || str(in["email"]) == "" {
			writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "name and email are required")
			return
		}
		if _, ok := in["status"]; !ok {
			in["status"] = "new"
		}
		delete(in, "id")
		s.mu.Lock()
		id := s.addLeadLocked(in)
		l := maps.Clone(s.leads[id])
		s.mu.Unlock()
		fake.WriteJSON(w, http.StatusCreated, map[string]any{"success": true, "data": l})
	default:
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed")
	}
}

// match applies the list filters status, priority and search.
func match(l map[string]any, q map[string][]string) bool {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if v := get("status"); v != "" && str(l["status"]) != v {
		return false
	}
	if v := get("priority"); v != "" && str(l["priority"]) != v {
		return false
	}
	if v := strings.ToLower(get("search")); v != "" &&
		!strings.Contains(strings.ToLower(str(l["name"])), v) && !strings.Contains(strings.ToLower(str(l["email"])), v) {
		return false
	}
	return true
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// lead serves GET, PUT/PATCH (partial update: null clears a field, metadata
// is merged) and DELETE on chatbots/{id}/leads/{leadId}.
func (s *Server) lead(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	l, ok := s.leads[id]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "LEAD_NOT_FOUND", "Lead not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		l = maps.Clone(l)
		s.mu.Unlock()
		fake.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": l})
	case http.MethodPut, http.MethodPatch:
		var in map[string]any
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "Invalid JSON body")
			return
		}
		s.mu.Lock()
		l = s.leads[id]
		for k, v := range in {
			switch {
			case k == "id" || k == "createdAt" || k == "workspaceId":
			case v == nil:
				delete(l, k)
			case k == "metadata":
				meta, _ := l["metadata"].(map[string]any)
				meta = maps.Clone(meta)
				if meta == nil {
					meta = make(map[string]any)
				}
				if nm, ok := v.(map[string]any); ok {
					maps.Copy(meta, nm)
				}
				l["metadata"] = meta
			default:
				l[k] = v
			}
		}
		l["updatedAt"] = s.srv.Now().UTC().Format(time.RFC3339Nano)
		l = maps.Clone(l)
		s.mu.Unlock()
		fake.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": l})
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.leads, id)
		s.leadOrder = slices.DeleteFunc(s.leadOrder, func(x string) bool { return x == id })
		s.mu.Unlock()
		fake.WriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"id": id}})
	default:
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed")
	}
}
