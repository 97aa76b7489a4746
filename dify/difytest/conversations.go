package difytest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/chatbot-go/chatbot/internal/fake"
)

// pageLimit reads "limit" (default 20, 1 to 100), answering a 400 when it
// is out of range.
func pageLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 20, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		writeError(w, http.StatusBadRequest, "invalid_param", "limit must be between 1 and 100")
		return 0, false
	}
	return n, true
}

// listQuery reads the query of a list request: its limit and its required
// user, answering a 400 when either is wrong.
func listQuery(w http.ResponseWriter, r *http.Request) (url.Values, int, bool) {
	q := r.URL.Query()
	limit, ok := pageLimit(w, r)
	return q, limit, ok && userOf(w, q.Get("user"))
}

// withUser is the user field every JSON body of Dify's endpoints carries.
type withUser struct {
	User string `json:"user"`
}

func (u *withUser) user() string { return u.User }

// readBody decodes r's JSON body into body and checks its required user,
// answering a 400 when it is missing.
func readBody(w http.ResponseWriter, r *http.Request, body interface{ user() string }) bool {
	_ = json.NewDecoder(r.Body).Decode(body)
	return userOf(w, body.user())
}

// userOf reads the required user of a query string or a JSON body.
func userOf(w http.ResponseWriter, user string) bool {
	if user == "" {
		writeError(w, http.StatusBadRequest, "invalid_param", "user is required")
		return false
	}
	return true
}

func (c *conversation) wire() map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "inputs": map[string]any{}, "status": "normal", "introduction": "",
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
	}
}

// listConversations answers GET conversations: the user's conversations,
// most recently updated first, after last_id.
func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	q, limit, ok := listQuery(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var mine []*conversation
	for _, id := range slices.Backward(s.order) {
		if c := s.convs[id]; c.User == q.Get("user") {
			mine = append(mine, c)
		}
	}
	slices.SortStableFunc(mine, func(a, b *conversation) int { return cmp.Compare(b.UpdatedAt, a.UpdatedAt) })
	start := 0
	if last := q.Get("last_id"); last != "" {
		i := slices.IndexFunc(mine, func(c *conversation) bool { return c.ID == last })
		if i < 0 {
			writeError(w, http.StatusNotFound, "not_found", "Last Conversation Not Exists.")
			return
		}
		start = i + 1
	}
	page := mine[start:min(start+limit, len(mine))]
	data := make([]map[string]any, len(page))
	for i, c := range page {
		data[i] = c.wire()
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"limit": limit, "has_more": start+limit < len(mine), "data": data})
}

// conversationLocked returns the user's conversation id, or answers 404.
func (s *Server) conversationLocked(w http.ResponseWriter, id, user string) *conversation {
	c := s.convs[id]
	if c == nil || c.User != user {
		writeError(w, http.StatusNotFound, "not_found", "Conversation Not Exists.")
		return nil
	}
	return c
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request, id string) {
	var body withUser
	if !readBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conversationLocked(w, id, body.User) == nil {
		return
	}
	delete(s.convs, id)
	s.order = slices.DeleteFunc(s.order, func(c string) bool { return c == id })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) renameConversation(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		withUser
		Name         string `json:"name"`
		AutoGenerate bool   `json:"auto_generate"`
	}
	if !readBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversationLocked(w, id, body.User)
	switch {
	case c == nil:
		return
	case body.AutoGenerate:
		c.Name = "Generated name"
	case body.Name == "":
		writeError(w, http.StatusBadRequest, "invalid_param", "name is required when auto_generate is false")
		return
	default:
		c.Name = body.Name
	}
	c.UpdatedAt = s.srv.Now().Unix()
	fake.WriteJSON(w, http.StatusOK, c.wire())
}

// listMessages answers GET messages: a page of the conversation's
// messages, the newest limit before first_id, oldest first within the page
// as Dify sends them.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	q, limit, ok := listQuery(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversationLocked(w, q.Get("conversation_id"), q.Get("user"))
	if c == nil {
		return
	}
	end := len(c.Messages)
	if first := q.Get("first_id"); first != "" {
		if end = slices.Index(c.Messages, first); end < 0 {
			writeError(w, http.StatusNotFound, "not_found", "First Message Not Exists.")
			return
		}
	}
	start := max(0, end-limit)
	data := make([]map[string]any, 0, end-start)
	for _, id := range c.Messages[start:end] {
		m := s.messages[id]
		data = append(data, map[string]any{
			"id": m.ID, "conversation_id": m.ConversationID, "inputs": map[string]any{}, "query": m.Query,
			"answer": m.Answer, "message_files": []any{}, "feedback": m.Feedback, "retriever_resources": []any{},
			"created_at": m.CreatedAt,
		})
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"limit": limit, "has_more": start > 0, "data": data})
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		withUser
		Rating  *string `json:"rating"`
		Content string  `json:"content"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if body.Rating != nil && *body.Rating != "like" && *body.Rating != "dislike" {
		writeError(w, http.StatusBadRequest, "invalid_param", "rating must be like, dislike or null")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		writeError(w, http.StatusNotFound, "not_found", "Message Not Exists.")
		return
	}
	m.Feedback = nil
	if body.Rating != nil {
		m.Feedback = map[string]any{"rating": *body.Rating, "content": body.Content}
	}
	fake.WriteJSON(w, http.StatusOK, map[string]string{"result": "success"})
}

func (s *Server) suggested(w http.ResponseWriter, r *http.Request, id string) {
	if !userOf(w, r.URL.Query().Get("user")) {
		return
	}
	s.mu.Lock()
	m := s.messages[id]
	s.mu.Unlock()
	if m == nil {
		writeError(w, http.StatusNotFound, "not_found", "Message Not Exists.")
		return
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"result": "success", "data": []string{
		"Tell me more", "What else can you do?", "How do I start?",
	}})
}

// Parameters is the fake's GET parameters answer.
const Parameters = `{"opening_statement":"Hello! Ask me anything.","suggested_questions":["What can you do?"],` +
	`"suggested_questions_after_answer":{"enabled":true},"speech_to_text":{"enabled":false},` +
	`"retriever_resource":{"enabled":true},"annotation_reply":{"enabled":false},` +
	`"user_input_form":[{"text-input":{"label":"Language","variable":"language","required":true,"max_length":20,"default":"en"}},` +
	`{"select":{"label":"Tone","variable":"tone","required":false,"default":"friendly","options":["friendly","formal"]}}],` +
	`"file_upload":{"image":{"enabled":false}},"system_parameters":{"file_size_limit":15,"image_file_size_limit":10}}`

func (s *Server) parameters(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(Parameters))
}

func (s *Server) info(w http.ResponseWriter) {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	fake.WriteJSON(w, http.StatusOK, map[string]any{
		"name": "Test app", "description": "A fake Dify app", "tags": []string{"test"}, "mode": string(mode), "author_name": "difytest",
	})
}
