// Package stammertest is a fake Stammer API for tests, in the way of
// net/http/httptest: a loopback server that speaks Stammer's wire format,
// checks requests as the real API does, keeps conversations per user_key,
// records what it receives, and can be told to fail or stall. It speaks the
// vocabulary every provider fake shares (see package [fakes]): APIKey and
// ChatbotID (Stammer's token and chatbot UUID), SetReply, SetAnswer,
// FailNext, RateLimitNext, StallNext, Requests, Connections, Disconnects.
//
//	srv := stammertest.NewServer(stammertest.Config{})
//	defer srv.Close()
//	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
package stammertest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Defaults of a [Server], and the query limit it enforces.
const (
	DefaultAPIKey    = "stammer-test-token"                   // the API token accepted
	DefaultChatbotID = "12345678-1234-5678-1234-567812345678" // the UUID of the one chatbot served
	DefaultLocale    = "en"                                   // the locale segment of every path
	DefaultPageSize  = 10                                     // conversations per ListPaginated page
	MaxQueryChars    = 5000                                   // longer queries get a 400, counted in characters
)

// Config configures a [Server]. The zero value serves the defaults.
type Config struct {
	APIKey    string // the only API token accepted; default DefaultAPIKey
	ChatbotID string // the UUID of the one chatbot served (others get a 404); default DefaultChatbotID
	Locale    string // the locale segment of every path, as a white-label serving /pt/ has; default "en"
	// Clock is the time conversations are created at; nil means the real
	// clock.
	Clock fakes.Clock
}

// Turn is one exchange of a conversation.
type Turn struct {
	Query                  string
	Answer                 string
	ChatID                 int
	CustomBaseSystemPrompt string
}

// AnswerFunc computes the answer to query, given the earlier turns of the
// same conversation (oldest first).
type AnswerFunc func(history []Turn, query string) string

// DefaultAnswer answers `Answer N to "query"`, N being the turn number in
// the conversation, so a test can see that a conversation continued.
func DefaultAnswer(history []Turn, query string) string {
	return fmt.Sprintf("Answer %d to %q", len(history)+1, query)
}

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it as Django REST Framework does: Body
// verbatim when set, else {"detail": Message} (with "code" when Code is
// set) when either is set or the status is 429, else an empty body. A 429
// without a Message says when to come back, as DRF's throttle does.
// RetryAfter is sent as Retry-After.
type Failure = fakes.Failure

// InvalidToken is Django REST Framework's answer to a wrong token.
func InvalidToken() Failure {
	return Failure{Status: http.StatusUnauthorized, Body: `{"detail": "Invalid token."}`}
}

// NoCredentials is Django REST Framework's answer to a missing token.
func NoCredentials() Failure {
	return Failure{Status: http.StatusUnauthorized, Body: `{"detail": "Authentication credentials were not provided."}`}
}

// Forbidden is Django REST Framework's answer to a denied permission.
func Forbidden() Failure {
	return Failure{Status: http.StatusForbidden, Body: `{"detail": "You do not have permission to perform this action."}`}
}

// NotFound is Django REST Framework's answer to an unknown object.
func NotFound() Failure {
	return Failure{Status: http.StatusNotFound, Body: `{"detail": "Not found."}`}
}

// NoCredits is a 402 for an account whose message credits are used up.
func NoCredits() Failure {
	return Failure{Status: http.StatusPaymentRequired, Body: `{"message": "You do not have enough credits to send this message."}`}
}

// Throttled is Django REST Framework's 429, with a Retry-After of one second.
func Throttled() Failure {
	return Failure{Status: http.StatusTooManyRequests, Body: `{"detail": "Request was throttled. Expected available in 1 second."}`, RetryAfter: time.Second}
}

// ServerError is a 500.
func ServerError() Failure {
	return Failure{Status: http.StatusInternalServerError, Body: `{"detail": "A server error occurred."}`}
}

// ListShape is how the server shapes the conversations list.
type ListShape int

// The list shapes Stammer's unpublished list endpoint may use.
const (
	ListPaginated ListShape = iota // {"count", "next", "previous", "results"}, pages of the page size
	ListArray                      // a bare JSON array of every conversation
	ListData                       // {"data": [...]} with every conversation
)

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// QA is a question-and-answer pair the server received.
type QA struct {
	ID       int
	Question string
	Answer   string
}

type conversation struct {
	UUID    string
	UserKey string
	Active  bool
	Created time.Time
	Turns   []Turn
}

// Server is a running fake Stammer API. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL to pass to chatbot.WithBaseURL, with the locale
	// and a trailing slash: "http://127.0.0.1:1234/en/".
	URL string

	cfg Config

	srv *fake.Server

	mu       sync.Mutex
	status   int
	answer   AnswerFunc
	shape    ListShape
	pageSize int
	convs    []*conversation
	active   map[string]*conversation // by user_key
	chatID   int
	qas      []QA
}

// NewServer starts a fake Stammer API configured by cfg. Call Close when
// done.
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.ChatbotID == "" {
		cfg.ChatbotID = DefaultChatbotID
	}
	if cfg.Locale == "" {
		cfg.Locale = DefaultLocale
	}
	s := &Server{
		cfg:      cfg,
		status:   http.StatusOK,
		answer:   DefaultAnswer,
		pageSize: DefaultPageSize,
		active:   map[string]*conversation{},
	}
	s.srv = fake.NewServerWithClock(http.HandlerFunc(s.serve), cfg.Clock)
	s.URL = s.srv.URL + "/" + s.Locale() + "/"
	return s
}

// APIKey returns the only API token the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// ChatbotID returns the UUID of the server's one chatbot.
func (s *Server) ChatbotID() string { return s.cfg.ChatbotID }

// Locale returns the locale segment of the server's paths.
func (s *Server) Locale() string { return s.cfg.Locale }

// Close ends stalled requests, then shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request { return s.srv.Requests() }

// Count returns how many requests the server has received.
func (s *Server) Count() int { return s.srv.Count() }

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return s.srv.Connections() }

// Disconnects receives a value each time a request ends because its client
// went away, such as a stalled request whose context was cancelled.
func (s *Server) Disconnects() <-chan struct{} { return s.srv.Disconnects() }

// Stalled receives a value each time a request starts stalling (see
// [Server.StallNext]), so a test can act once the request is in flight.
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// SetReply makes every answer the concatenation of parts. With no parts
// the server answers with its history-aware answer again ([DefaultAnswer]
// or [Server.SetHistoryAnswer]'s). It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every answer fn(query); nil restores the history-aware
// answer. fn runs without the server's lock held and must be safe for
// concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with Django REST Framework's
// 429, with Retry-After: retryAfter in whole seconds (none when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, without answering, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// SetStatus sets the status of a successful message answer: 200 (the
// default), 201 or 202.
func (s *Server) SetStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

// SetHistoryAnswer replaces [DefaultAnswer], the answer given when neither
// [Server.SetReply] nor [Server.SetAnswer] scripts one. fn runs without the
// server's lock held; it must be safe for concurrent use.
func (s *Server) SetHistoryAnswer(fn AnswerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = fn
}

// SetListShape sets the shape of the conversations list (default
// [ListPaginated]).
func (s *Server) SetListShape(shape ListShape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = shape
}

// SetPageSize sets how many conversations a [ListPaginated] page holds
// (default [DefaultPageSize]).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// History returns the turns of the active conversation of userKey, oldest
// first, or nil.
func (s *Server) History(userKey string) []Turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cv := s.active[userKey]; cv != nil {
		return slices.Clone(cv.Turns)
	}
	return nil
}

// QAs returns the question-and-answer pairs received, in order.
func (s *Server) QAs() []QA {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.qas)
}

// writeFailure answers f as described at [Failure].
func writeFailure(w http.ResponseWriter, f Failure) {
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	if f.Body != "" || (f.Message == "" && f.Code == "" && status != http.StatusTooManyRequests) {
		fake.WriteBody(w, status, f.Body)
		return
	}
	msg := f.Message
	if msg == "" && status == http.StatusTooManyRequests {
		msg = fmt.Sprintf("Request was throttled. Expected available in %d seconds.", max(1, f.RetryAfterSeconds()))
	}
	body := map[string]string{"detail": cmp.Or(msg, http.StatusText(status))}
	if f.Code != "" {
		body["code"] = f.Code
	}
	writeJSON(w, status, body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.srv.Intercept(w, r, writeFailure) {
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		writeRaw(w, http.StatusUnauthorized, NoCredentials().Body)
		return
	case auth != "Token "+s.APIKey():
		writeRaw(w, http.StatusUnauthorized, InvalidToken().Body)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, "/"+s.Locale()+"/")
	if !ok {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	parts := strings.Split(rel, "/")
	switch {
	case rel == "chatbot/api/v1/message/":
		s.route(w, r, http.MethodPost, s.message)
	case rel == "user/api/v1/me/":
		s.route(w, r, http.MethodGet, s.me)
	case rel == "chatbot/api/v1/conversations/":
		s.route(w, r, http.MethodGet, s.conversations)
	case rel == "chatbot/api/v1/qa/":
		s.route(w, r, http.MethodPost, s.addQA)
	case len(parts) == 6 && strings.HasPrefix(rel, "chatbot/api/v1/conversation/") && parts[5] == "":
		s.route(w, r, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.conversation(w, parts[4]) })
	case len(parts) == 7 && strings.HasPrefix(rel, "chatbot/api/v1/conversation/") && parts[5] == "deactivate" && parts[6] == "":
		s.route(w, r, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.deactivate(w, parts[4]) })
	default:
		writeRaw(w, http.StatusNotFound, NotFound().Body)
	}
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, method string, h http.HandlerFunc) {
	if r.Method != method {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
		return
	}
	h(w, r)
}

// fields decodes a JSON object body and checks its required string fields,
// answering 400 as the real API does. It returns nil after answering.
func fields(w http.ResponseWriter, r *http.Request, required ...string) map[string]string {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "JSON parse error - Expecting value"})
		return nil
	}
	out := map[string]string{}
	errs := map[string][]string{}
	for k, v := range m {
		if str, ok := v.(string); ok {
			out[k] = str
		} else if v != nil {
			errs[k] = []string{"Not a valid string."}
		}
	}
	for _, k := range required {
		v, present := m[k]
		switch {
		case !present || v == nil:
			errs[k] = []string{"This field is required."}
		case strings.TrimSpace(out[k]) == "" && len(errs[k]) == 0:
			errs[k] = []string{"This field may not be blank."}
		}
	}
	if v, ok := out["chatbot_uuid"]; ok && len(errs["chatbot_uuid"]) == 0 && !rest.IsUUID(v) {
		errs["chatbot_uuid"] = []string{"Must be a valid UUID."}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return nil
	}
	return out
}

func invalid(w http.ResponseWriter, errs map[string][]string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"message": "The provided parameters are not valid.", "errors": errs})
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	f := fields(w, r, "chatbot_uuid", "query", "user_key")
	if f == nil {
		return
	}
	if n := utf8.RuneCountInString(f["query"]); n > MaxQueryChars {
		invalid(w, map[string][]string{"query": {fmt.Sprintf("Ensure this field has no more than %d characters.", MaxQueryChars)}})
		return
	}
	if !strings.EqualFold(f["chatbot_uuid"], s.ChatbotID()) {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	key := f["user_key"]
	s.mu.Lock()
	cv := s.active[key]
	if cv == nil {
		cv = &conversation{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.convs)+1), UserKey: key, Active: true, Created: s.srv.Now().UTC()}
		s.convs = append(s.convs, cv)
		s.active[key] = cv
	}
	history, answer, status := slices.Clone(cv.Turns), s.answer, s.status
	s.mu.Unlock()

	var text string
	if parts, ok := s.srv.Reply(f["query"]); ok {
		text = strings.Join(parts, "")
	} else {
		text = answer(history, f["query"])
	}

	s.mu.Lock()
	s.chatID++
	id := s.chatID
	cv.Turns = append(cv.Turns, Turn{Query: f["query"], Answer: text, ChatID: id, CustomBaseSystemPrompt: f["custom_base_system_prompt"]})
	s.mu.Unlock()
	writeJSON(w, status, map[string]any{
		"message": "Chatbot successfully answered.",
		"data":    map[string]any{"answer": text, "chat_id": id},
	})
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": 1, "username": "tester", "email": "tester@example.com", "first_name": "Test", "last_name": "User",
	})
}

func (cv *conversation) json() map[string]any {
	turns := make([]map[string]any, len(cv.Turns))
	for i, t := range cv.Turns {
		turns[i] = map[string]any{"query": t.Query, "answer": t.Answer, "chat_id": t.ChatID}
	}
	return map[string]any{
		"uuid": cv.UUID, "user_key": cv.UserKey, "is_active": cv.Active,
		"created_at": cv.Created.Format(time.RFC3339Nano), "messages": turns,
	}
}

func (s *Server) conversations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	errs := map[string][]string{}
	switch id := q.Get("chatbot_uuid"); {
	case id == "":
		errs["chatbot_uuid"] = []string{"This field is required."}
	case !rest.IsUUID(id):
		errs["chatbot_uuid"] = []string{"Must be a valid UUID."}
	}
	var from, to time.Time
	for _, d := range []struct {
		key string
		t   *time.Time
	}{{"startDate", &from}, {"endDate", &to}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				errs[d.key] = []string{"Date has wrong format. Use one of these formats instead: YYYY-MM-DD."}
			}
			*d.t = t
		}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	if !strings.EqualFold(q.Get("chatbot_uuid"), s.ChatbotID()) {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	deleted := q.Get("onlyDeletedConversations") == "true"
	s.mu.Lock()
	var items []map[string]any
	for _, cv := range s.convs {
		day := cv.Created.Truncate(24 * time.Hour)
		if cv.Active == deleted || (!from.IsZero() && day.Before(from)) || (!to.IsZero() && day.After(to)) {
			continue
		}
		items = append(items, cv.json())
	}
	shape, size := s.shape, s.pageSize
	s.mu.Unlock()
	if items == nil {
		items = []map[string]any{}
	}
	switch shape {
	case ListArray:
		writeJSON(w, http.StatusOK, items)
		return
	case ListData:
		writeJSON(w, http.StatusOK, map[string]any{"data": items})
		return
	}
	page := 1
	if v := q.Get("page"); v != "" {
		var err error
		if page, err = strconv.Atoi(v); err != nil || page < 1 || (page-1)*size >= max(len(items), 1) {
			writeRaw(w, http.StatusNotFound, `{"detail": "Invalid page."}`)
			return
		}
	}
	link := func(p int) any {
		if p < 1 || (p-1)*size >= len(items) {
			return nil
		}
		lq := url.Values{}
		for k, v := range q {
			lq[k] = v
		}
		lq.Set("page", strconv.Itoa(p))
		return "http://" + r.Host + r.URL.Path + "?" + lq.Encode()
	}
	lo, hi := min((page-1)*size, len(items)), min(page*size, len(items))
	writeJSON(w, http.StatusOK, map[string]any{"count": len(items), "next": link(page + 1), "previous": link(page - 1), "results": items[lo:hi]})
}

func (s *Server) find(uuid string) *conversation {
	for _, cv := range s.convs {
		if strings.EqualFold(cv.UUID, uuid) {
			return cv
		}
	}
	return nil
}

func (s *Server) conversation(w http.ResponseWriter, uuid string) {
	s.mu.Lock()
	var body map[string]any
	if cv := s.find(uuid); cv != nil {
		body = cv.json()
	}
	s.mu.Unlock()
	if body == nil {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) deactivate(w http.ResponseWriter, uuid string) {
	s.mu.Lock()
	cv := s.find(uuid)
	if cv != nil {
		cv.Active = false
		if s.active[cv.UserKey] == cv {
			delete(s.active, cv.UserKey)
		}
	}
	s.mu.Unlock()
	if cv == nil {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Conversation deactivated successfully."})
}

func (s *Server) addQA(w http.ResponseWriter, r *http.Request) {
	f := fields(w, r, "chatbot_uuid", "question", "answer")
	if f == nil {
		return
	}
	if !strings.EqualFold(f["chatbot_uuid"], s.ChatbotID()) {
		writeRaw(w, http.StatusNotFound, NotFound().Body)
		return
	}
	s.mu.Lock()
	qa := QA{ID: len(s.qas) + 1, Question: f["question"], Answer: f["answer"]}
	s.qas = append(s.qas, qa)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"message": "Q&A added successfully.",
		"data":    map[string]any{"id": qa.ID, "question": qa.Question, "answer": qa.Answer},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, string(b))
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
