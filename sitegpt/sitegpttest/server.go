// Package sitegpttest provides a fake SiteGPT API server for tests, in the
// way of net/http/httptest: a loopback server that speaks SiteGPT's wire
// format, keeps threads and their messages, records every request, and can
// be told to fail, rate-limit or stall. It speaks the vocabulary every
// provider fake shares (see package [fakes]): SetReply, SetAnswer,
// FailNext, RateLimitNext, StallNext, Requests, Connections, Disconnects.
//
//	srv := sitegpttest.NewServer(sitegpttest.Config{})
//	defer srv.Close()
//	bot, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
package sitegpttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/sitegpt"
)

// Defaults of [Config].
const (
	DefaultAPIKey    = "sitegpt-test-key"
	DefaultChatbotID = "365062873485935184"
)

// epoch is the fake's clock: the n-th event happens n seconds after it, so
// timestamps are deterministic.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Config configures a [Server]. The zero value is ready to use.
type Config struct {
	// APIKey is the only key accepted; default DefaultAPIKey.
	APIKey string

	// ChatbotID is the only chatbot that exists; default DefaultChatbotID.
	ChatbotID string

	// Sources are sent verbatim as the "sources" of every answer: strings
	// (URLs) or objects. Default: none.
	Sources []any

	// ThreadIDInData sends the thread id of a new message at data.threadId
	// instead of data.message.threadId, as one SiteGPT integration does.
	ThreadIDInData bool
}

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it in SiteGPT's error envelope,
// {"success":false,"message":…,"data":null,"error":{"message","code","details"}}:
// a zero Status is [StatusFor] Code when Code is set, else 500; an empty
// Message is the status text; RetryAfter is sent as Retry-After.
type Failure = fakes.Failure

// StatusFor returns the HTTP status the fake answers code with: the
// documented one, 403 for the limit codes (whose status SiteGPT does not
// document), and 400 for anything else.
func StatusFor(code string) int {
	switch sitegpt.ErrorCode(code) {
	case sitegpt.CodeAPIKeyNotValid:
		return http.StatusUnauthorized
	case sitegpt.CodeChatbotNotFound:
		return http.StatusNotFound
	case sitegpt.CodeChatbotFetchForbidden, sitegpt.CodeChatbotLimitReached, sitegpt.CodeMessagesLimitReached:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Server is a running fake SiteGPT server. Its methods are safe for
// concurrent use, also while clients are calling it.
type Server struct {
	// URL is the base URL to pass to chatbot.WithBaseURL; it ends in
	// "/api/v0/".
	URL string

	cfg Config
	srv *fake.Server

	mu      sync.Mutex
	sources []any // set by SetSources; nil: cfg.Sources
	threads map[string]*thread
	order   []string // thread ids in creation order
	events  int      // the fake clock
}

type thread struct {
	id           string
	mode         string
	chatUser     map[string]any
	webhookURL   string
	webhookToken string
	startedAt    time.Time
	updatedAt    time.Time
	messages     []map[string]any
}

// NewServer starts a server configured by cfg. Call Close when done.
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.ChatbotID == "" {
		cfg.ChatbotID = DefaultChatbotID
	}
	s := &Server{
		cfg:     cfg,
		threads: map[string]*thread{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v0/chatbots/{chatbotId}/message", s.sendMessage)
	mux.HandleFunc("GET /api/v0/chatbots/{chatbotId}/threads", s.listThreads)
	mux.HandleFunc("POST /api/v0/chatbots/{chatbotId}/threads", s.createThread)
	mux.HandleFunc("GET /api/v0/chatbots/{chatbotId}/threads/{threadId}", s.getThread)
	mux.HandleFunc("PATCH /api/v0/chatbots/{chatbotId}/threads/{threadId}", s.updateThread)
	s.srv = fake.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.srv.Intercept(w, r, writeError) {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.APIKey() {
			writeError(w, Failure{Code: string(sitegpt.CodeAPIKeyNotValid), Message: "API key is not valid"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL + "/api/v0/"
	return s
}

// APIKey returns the only API key the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// ChatbotID returns the id of the server's only chatbot.
func (s *Server) ChatbotID() string { return s.cfg.ChatbotID }

// Close ends stalled requests, then shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// SetReply makes every answer the concatenation of parts. With no parts the
// server answers "You said: <message>". It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every answer fn(message); nil restores the default. fn
// runs without the server's lock held and must be safe for concurrent use.
// It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// SetSources makes every later answer carry sources, in SiteGPT's wire
// form: a source with only a URL as a string, any other as an object with
// its "url" and "title" (SiteGPT's objects carry no more that the SDK maps).
// It replaces Config.Sources; no sources restores them.
func (s *Server) SetSources(sources ...chatbot.Source) {
	var wire []any
	for _, src := range sources {
		if src.Title == "" {
			wire = append(wire, src.URL)
			continue
		}
		wire = append(wire, map[string]any{"url": src.URL, "title": src.Title})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = wire
}

// FailNext makes the next n requests (any endpoint) answer with f, in
// SiteGPT's error envelope, without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with 429 in SiteGPT's error
// envelope (SiteGPT documents no code for it, so none is sent), with
// Retry-After: retryAfter in whole seconds (none when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// Stalled receives a value each time a request starts stalling (see
// [Server.StallNext]), so a test can act once the server holds it.
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// AddThreads creates n empty threads, as if created through the API, and
// returns their ids in creation order.
func (s *Server) AddThreads(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.newThreadLocked("").id
	}
	return ids
}

// ThreadIDs returns the ids of every thread, in creation order.
func (s *Server) ThreadIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request { return s.srv.Requests() }

// Count returns how many requests the server has received.
func (s *Server) Count() int { return s.srv.Count() }

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return s.srv.Connections() }

// Disconnects receives a value each time a handler returns after its client
// went away, such as a stalled request whose context was cancelled.
func (s *Server) Disconnects() <-chan struct{} { return s.srv.Disconnects() }

// chatbotOK answers CHATBOT_NOT_FOUND for any chatbot but the configured one.
func (s *Server) chatbotOK(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("chatbotId") != s.ChatbotID() {
		writeError(w, Failure{Code: string(sitegpt.CodeChatbotNotFound), Message: "Chatbot not found"})
		return false
	}
	return true
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	if !s.chatbotOK(w, r) {
		return
	}
	var body struct {
		Message   string `json:"message"`
		ThreadID  string `json:"threadId"`
		From      string `json:"from"`
		AgentName string `json:"agentName"`
		IconURL   string `json:"iconUrl"`
	}
	if !decode(w, r, &body) {
		return
	}
	answer := "You said: " + body.Message
	if parts, ok := s.srv.Reply(body.Message); ok {
		answer = strings.Join(parts, "")
	}
	switch {
	case body.Message == "":
		invalid(w, "message", "Required")
		return
	case body.From != "" && body.From != "USER" && body.From != "AGENT":
		invalid(w, "from", "Invalid enum value. Expected 'USER' | 'AGENT'")
		return
	case body.From == "AGENT" && body.ThreadID == "":
		invalid(w, "threadId", "threadId is required when from is AGENT")
		return
	}
	s.mu.Lock()
	t := s.threads[body.ThreadID]
	if t == nil {
		t = s.newThreadLocked(body.ThreadID)
	}
	now := s.tickLocked()
	m := map[string]any{
		"id":           strconv.Itoa(376290410396385873 + s.events),
		"sources":      []any{},
		"gptModel":     "gpt-3.5-turbo",
		"reaction":     "NEUTRAL",
		"threadId":     t.id,
		"iconUrl":      nil,
		"agentName":    nil,
		"prompts":      []any{},
		"smartPrompts": []any{},
		"chatbotId":    s.ChatbotID(),
	}
	if body.From == "AGENT" {
		m["messageType"] = "AGENT_MESSAGE"
		m["question"] = nil
		m["answer"] = map[string]any{"text": body.Message, "timestamp": now}
		m["agentName"] = body.AgentName
		m["iconUrl"] = body.IconURL
	} else {
		m["messageType"] = "AI_MESSAGE"
		m["question"] = map[string]any{"text": body.Message, "timestamp": now}
		m["answer"] = map[string]any{"text": answer, "timestamp": now}
		switch {
		case s.sources != nil:
			m["sources"] = s.sources
		case s.cfg.Sources != nil:
			m["sources"] = s.cfg.Sources
		}
	}
	t.messages = append(t.messages, m)
	t.updatedAt = now
	data := map[string]any{"message": m}
	if s.cfg.ThreadIDInData {
		msg := make(map[string]any, len(m))
		for k, v := range m {
			if k != "threadId" {
				msg[k] = v
			}
		}
		data = map[string]any{"message": msg, "threadId": t.id}
	}
	out := envelope("Sent the message successfully", data)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listThreads(w http.ResponseWriter, r *http.Request) {
	if !s.chatbotOK(w, r) {
		return
	}
	page, limit := 1, 20
	for _, p := range []struct {
		name string
		v    *int
		max  int
	}{{"page", &page, 1 << 30}, {"limit", &limit, 100}} {
		raw := r.URL.Query().Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > p.max {
			invalid(w, p.name, fmt.Sprintf("Number must be between 1 and %d", p.max))
			return
		}
		*p.v = n
	}
	s.mu.Lock()
	list := []any{}
	for i := (page - 1) * limit; i < len(s.order) && i < page*limit; i++ {
		t := s.threads[s.order[i]]
		v := t.json(false)
		v["totalMessages"] = len(t.messages)
		v["lastMessage"] = nil
		if n := len(t.messages); n > 0 {
			v["lastMessage"] = t.messages[n-1]
		}
		list = append(list, v)
	}
	out := envelope("Fetched threads successfully", map[string]any{"threads": list})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createThread(w http.ResponseWriter, r *http.Request) {
	if !s.chatbotOK(w, r) {
		return
	}
	var body struct {
		ThreadID      string `json:"threadId"`
		Mode          string `json:"mode"`
		ChatUserEmail string `json:"chatUserEmail"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Mode != "" && body.Mode != "AI" && body.Mode != "AGENT" {
		invalid(w, "mode", "Invalid enum value. Expected 'AI' | 'AGENT'")
		return
	}
	s.mu.Lock()
	if _, dup := s.threads[body.ThreadID]; dup {
		s.mu.Unlock()
		invalid(w, "threadId", "Thread already exists")
		return
	}
	t := s.newThreadLocked(body.ThreadID)
	if body.Mode != "" {
		t.mode = body.Mode
	}
	if body.ChatUserEmail != "" {
		t.chatUser = map[string]any{"email": body.ChatUserEmail}
	}
	out := envelope("Created the thread successfully", map[string]any{"thread": t.json(false)})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getThread(w http.ResponseWriter, r *http.Request) {
	if !s.chatbotOK(w, r) {
		return
	}
	s.mu.Lock()
	t := s.threads[r.PathValue("threadId")]
	var out map[string]any
	if t != nil {
		out = envelope("Fetched the thread successfully", map[string]any{"thread": t.json(true)})
	}
	s.mu.Unlock()
	if t == nil {
		writeError(w, Failure{Status: http.StatusNotFound, Code: "THREAD_NOT_FOUND", Message: "Thread not found"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateThread(w http.ResponseWriter, r *http.Request) {
	if !s.chatbotOK(w, r) {
		return
	}
	var body struct {
		Mode         string         `json:"mode"`
		WebhookURL   string         `json:"webhookUrl"`
		WebhookToken string         `json:"webhookToken"`
		ChatUser     map[string]any `json:"chatUser"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Mode != "" && body.Mode != "AI" && body.Mode != "AGENT" {
		invalid(w, "mode", "Invalid enum value. Expected 'AI' | 'AGENT'")
		return
	}
	s.mu.Lock()
	t := s.threads[r.PathValue("threadId")]
	var out map[string]any
	if t != nil {
		if body.Mode != "" {
			t.mode = body.Mode
		}
		if body.WebhookURL != "" {
			t.webhookURL = body.WebhookURL
		}
		if body.WebhookToken != "" {
			t.webhookToken = body.WebhookToken
		}
		if body.ChatUser != nil {
			t.chatUser = body.ChatUser
		}
		t.updatedAt = s.tickLocked()
		out = envelope("Updated the thread successfully", map[string]any{"thread": t.json(false)})
	}
	s.mu.Unlock()
	if t == nil {
		writeError(w, Failure{Status: http.StatusNotFound, Code: "THREAD_NOT_FOUND", Message: "Thread not found"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// newThreadLocked creates a thread (with a generated id when id is empty).
// s.mu must be held.
func (s *Server) newThreadLocked(id string) *thread {
	now := s.tickLocked()
	if id == "" {
		id = fmt.Sprintf("06b3b43c-5651-49a2-b618-%012d", len(s.order)+1)
	}
	t := &thread{id: id, mode: "AI", startedAt: now, updatedAt: now}
	s.threads[id] = t
	s.order = append(s.order, id)
	return t
}

// tickLocked advances the fake clock by one second. s.mu must be held.
func (s *Server) tickLocked() time.Time {
	s.events++
	return epoch.Add(time.Duration(s.events) * time.Second)
}

// json renders the thread as SiteGPT does; with messages for one thread.
// The caller must hold the server's lock.
func (t *thread) json(withMessages bool) map[string]any {
	v := map[string]any{
		"threadId":  t.id,
		"startedAt": t.startedAt,
		"updatedAt": t.updatedAt,
		"endedAt":   nil,
		"chatUser":  t.chatUser,
		"mode":      t.mode,
		"escalated": false,
		"important": false,
		"resolved":  false,
	}
	if t.webhookURL != "" {
		v["webhookUrl"] = t.webhookURL
	}
	if withMessages {
		msgs := make([]any, len(t.messages))
		for i, m := range t.messages {
			tm := make(map[string]any, len(m))
			for k, v := range m {
				if k == "id" {
					k = "messageId" // the thread endpoint's name for it
				}
				tm[k] = v
			}
			msgs[i] = tm
		}
		v["messages"] = msgs
	}
	return v
}

func envelope(msg string, data any) map[string]any {
	return map[string]any{"success": true, "message": msg, "data": data}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		invalid(w, "body", "Invalid JSON: "+err.Error())
		return false
	}
	return true
}

func invalid(w http.ResponseWriter, field, msg string) {
	writeError(w, Failure{
		Code:    string(sitegpt.CodeRequestValidationFailed),
		Message: "Request validation failed",
		Details: []any{map[string]any{"path": []any{field}, "message": msg}},
	})
}

func writeError(w http.ResponseWriter, f Failure) {
	if f.Body != "" {
		fake.SetRetryAfter(w.Header(), f)
		fake.WriteBody(w, fake.StatusOr(f, http.StatusInternalServerError), f.Body)
		return
	}
	status := f.Status
	switch {
	case status != 0:
	case f.Code != "":
		status = StatusFor(f.Code)
	default:
		status = http.StatusInternalServerError
	}
	fake.SetRetryAfter(w.Header(), f)
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := map[string]any{"message": msg, "details": f.Details}
	if f.Code != "" {
		e["code"] = f.Code
	}
	writeJSON(w, status, map[string]any{"success": false, "message": msg, "data": nil, "error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
