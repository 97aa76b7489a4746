// Package customgpttest provides a fake CustomGPT.ai server for tests, in
// the manner of net/http/httptest: [NewServer] starts a loopback server
// that speaks the API of package customgpt (conversations created first,
// messages answered as JSON or as the data-only progress/finish stream,
// citations, query credits that run out with a 429), records what it
// receives, and can be scripted to fail, stall, cut or split its replies.
// It speaks the vocabulary every provider fake shares (see package
// [fakes]): SetReply, SetAnswer, FailNext, RateLimitNext, StallNext,
// Requests, Connections, Disconnects; shapes its streams with SetPace,
// SplitWrites, CutAfter and StallAfter; and scripts the citations replies
// carry with SetSources, the setter chatbottest.Run's check of sources
// needs (CustomGPT reports no usage and no finish reason).
//
//	srv := customgpttest.NewServer(customgpttest.Config{})
//	defer srv.Close()
//	bot, err := customgpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
package customgpttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// Defaults of a zero [Config].
const (
	DefaultAPIKey    = "customgpt-test-key_0123456789abcdef"
	DefaultChatbotID = "4242"
)

// The messages of the server's errors, as CustomGPT writes them.
const (
	// CreditsMessage is the message of the 429 CustomGPT answers once the
	// account's query credits are exhausted.
	CreditsMessage = "You have exhausted your current query credits. Please contact hello@customgpt.ai for further assistance."
	// RateLimitMessage is the message [Server.RateLimitNext] sends: a 429
	// whose body speaks of a rate limit, which the client classifies as one.
	RateLimitMessage = "Too many requests. Please try again later."
	// UnauthorizedMessage is the message of a 401.
	UnauthorizedMessage = "API Token is either missing or invalid"
)

// Config configures [NewServer]. The zero value is usable.
type Config struct {
	// APIKey is the API token the server accepts; default DefaultAPIKey.
	APIKey string
	// ChatbotID is the project id; default DefaultChatbotID.
	ChatbotID string
	// Clock is the time of the server (conversations' created_at); nil
	// means the real clock.
	Clock fakes.Clock
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it as CustomGPT does: the status and
// {"status":"error","url":…,"data":{"code":Status,"message":Message}};
// an empty Message is a default for the status ([CreditsMessage] for a
// 429). Code is unused: CustomGPT's code is the status. RetryAfter, when
// set, is sent as Retry-After.
type Failure = fakes.Failure

// Citation is a page a citation id points to (Open Graph data).
type Citation struct {
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Image       string `json:"image"`
}

// Server is a running fake. Its setters may be called at any time, from
// any goroutine; they apply to the requests that follow. Close it when
// done.
type Server struct {
	// URL is the base URL of the server, for chatbot.WithBaseURL.
	URL string

	srv *fake.Server
	cfg Config

	mu        sync.Mutex
	convs     map[string]*conversation // by session id
	order     []string                 // session ids in order of creation
	nextID    int64
	citations []Citation
	credits   int // query credits left; negative: unlimited
	streamErr string
	finish    map[string]any
}

type conversation struct {
	id        int64
	name      string
	createdAt time.Time
	prompts   []string
}

// NewServer starts a fake server configured by cfg. The caller must call
// [Server.Close].
//
// The server answers, under /api/v1/projects/{projectId}: POST
// conversations (session ids are UUIDs numbered in order of creation),
// DELETE conversations/{sessionId}, POST conversations/{sessionId}/messages
// (stream=1 streams "progress" events, one per part, then a "finish" event
// carrying the prompt id, the session id and the citation ids; anything
// else answers JSON), and GET citations/{citationId}. A missing or wrong
// token gets 401, another project or an unknown conversation or citation
// 404, an empty prompt 400, each with CustomGPT's error body. Answers are
// "You said: <prompt>", streamed word by word, unless [Server.SetReply] or
// [Server.SetAnswer] says otherwise.
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.ChatbotID == "" {
		cfg.ChatbotID = DefaultChatbotID
	}
	s := &Server{cfg: cfg, convs: make(map[string]*conversation), credits: -1}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/projects/{project}/conversations", s.create)
	mux.HandleFunc("DELETE /api/v1/projects/{project}/conversations/{session}", s.delete)
	mux.HandleFunc("POST /api/v1/projects/{project}/conversations/{session}/messages", s.message)
	mux.HandleFunc("GET /api/v1/projects/{project}/citations/{citation}", s.citation)
	s.srv = fake.NewServerWithClock(s.guard(mux), cfg.Clock)
	s.URL = s.srv.URL + "/"
	return s
}

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the API token the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// ChatbotID returns the project id.
func (s *Server) ChatbotID() string { return s.cfg.ChatbotID }

// SetReply makes every answer the concatenation of parts, streamed one
// progress event per part. With no parts the server echoes. It replaces
// [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every answer fn(prompt), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(prompt string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests answer a 429 whose message is
// [RateLimitMessage], with Retry-After in whole seconds when retryAfter is
// positive. CustomGPT documents its 429 only for exhausted credits (see
// [Server.SetCredits]); this is the rate limit every fake can script.
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.srv.FailNext(n, Failure{Status: http.StatusTooManyRequests, Message: RateLimitMessage, RetryAfter: retryAfter})
}

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// Stalled receives a value each time a request starts stalling.
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// SetPace makes the server wait d (or until the client goes away) between
// the events of a stream, and between the writes of [Server.SplitWrites].
func (s *Server) SetPace(d time.Duration) { s.srv.SetPace(d) }

// SplitWrites makes the server write and flush reply bodies in pieces of
// at most size bytes (0: whole events), and also cut them at each of the
// given absolute byte offsets.
func (s *Server) SplitWrites(size int, offsets ...int) { s.srv.SplitWrites(size, offsets...) }

// CutAfter makes replies abort their connection once n body bytes have
// been written (0: never).
func (s *Server) CutAfter(n int) { s.srv.CutAfter(n) }

// StallAfter makes replies stop after n progress events (0: right after
// the headers; for a JSON answer, 0 before the body and any other n after
// it) and wait until their client goes away. A negative n, the default,
// turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request { return s.srv.Requests() }

// Count returns how many requests the server has received.
func (s *Server) Count() int { return s.srv.Count() }

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return s.srv.Connections() }

// Disconnects receives a value each time a handler ends because its client
// went away.
func (s *Server) Disconnects() <-chan struct{} { return s.srv.Disconnects() }

// SetCredits gives the account n query credits: each message answered
// spends one, and once none is left a message gets CustomGPT's 429 with
// [CreditsMessage] (creating a conversation costs none). A negative n, the
// default, is unlimited.
func (s *Server) SetCredits(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credits = n
}

// SetCitations makes every answer cite these pages, by their ids, and
// serves them at the citations endpoint. None turns citations off. It
// replaces [Server.SetSources].
func (s *Server) SetCitations(cits ...Citation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.citations = slices.Clone(cits)
}

// SetSources makes every later answer cite these sources as CustomGPT
// does: by their ids alone, in "citations" of the JSON answer and of the
// stream's "finish" event, each served at the citations endpoint with its
// Title as the title, its URL as the url and its Snippet as the
// description. Score and Raw have no place on the wire and are left out.
// No sources turns citations off. It replaces [Server.SetCitations].
//
// CustomGPT's citation ids are integers, so each source's ID must be a
// positive integer written as [strconv.FormatInt] writes it ("7", not
// "07" or "doc-7"); SetSources panics on any other, as a source the
// provider cannot send is a mistake in the test, and renumbering or
// dropping it would make the test check something else than it says.
func (s *Server) SetSources(sources ...chatbot.Source) {
	cits := make([]Citation, len(sources))
	for i, src := range sources {
		id, err := strconv.ParseInt(src.ID, 10, 64)
		if err != nil || id <= 0 || strconv.FormatInt(id, 10) != src.ID {
			panic(fmt.Sprintf("customgpttest: SetSources: source id %q is no CustomGPT citation id (a positive integer)", src.ID))
		}
		cits[i] = Citation{ID: id, URL: src.URL, Title: src.Title, Description: src.Snippet}
	}
	s.SetCitations(cits...)
}

// FailStream makes streams send an "error" event with message (and code
// 500) after the answer's progress events, instead of "finish"; "" turns
// it off.
func (s *Server) FailStream(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamErr = message
}

// SetFinish adds fields to the "finish" event of every stream (its content
// is not documented: a test can give it a whole reply in "message", say);
// nil restores the default.
func (s *Server) SetFinish(fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish = fields
}

// Conversations returns the session ids of the conversations created, in
// order (deleted ones included).
func (s *Server) Conversations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Prompts returns the prompts a conversation received, in order, and
// whether it exists.
func (s *Server) Prompts(sessionID string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[sessionID]
	if !ok {
		return nil, false
	}
	return slices.Clone(c.prompts), true
}

// guard applies a scripted stall or failure, then checks the token and
// the project.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.srv.Intercept(w, r, func(w http.ResponseWriter, f Failure) { writeFailure(w, r, f) }) {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.cfg.APIKey {
			writeError(w, r, http.StatusUnauthorized, UnauthorizedMessage)
			return
		}
		if p := projectOf(r.URL.Path); p != "" && p != s.cfg.ChatbotID {
			writeError(w, r, http.StatusNotFound, "Project not found")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// projectOf returns the project id of a path under /api/v1/projects/.
func projectOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/v1/projects/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// writeFailure answers f as described at [Failure].
func writeFailure(w http.ResponseWriter, r *http.Request, f Failure) {
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	if f.Body != "" {
		fake.WriteBody(w, status, f.Body)
		return
	}
	msg := f.Message
	switch {
	case msg != "":
	case status == http.StatusTooManyRequests:
		msg = CreditsMessage
	case status == http.StatusUnauthorized:
		msg = UnauthorizedMessage
	default:
		msg = http.StatusText(status)
	}
	writeError(w, r, status, msg)
}

// errorBody is CustomGPT's error body.
func errorBody(r *http.Request, status int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{
		"status": "error",
		"url":    "http://" + r.Host + r.URL.RequestURI(),
		"data":   map[string]any{"code": status, "message": msg},
	})
	return b
}

func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	fake.WriteBody(w, status, string(errorBody(r, status, msg)))
}

// writeData answers status with {"status":"success","data":data}.
func writeData(w http.ResponseWriter, status int, data any) {
	b, _ := json.Marshal(map[string]any{"status": "success", "data": data})
	fake.WriteBody(w, status, string(b))
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := fake.DecodeBody(r, &in); err != nil {
		writeError(w, r, http.StatusBadRequest, "The request body is not valid JSON")
		return
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	session := fmt.Sprintf("00000000-0000-4000-8000-%012d", id)
	c := &conversation{id: id, name: in.Name, createdAt: s.srv.Now().UTC()}
	if c.name == "" {
		c.name = "New Conversation"
	}
	s.convs[session] = c
	s.order = append(s.order, session)
	s.mu.Unlock()
	project, _ := strconv.ParseInt(s.cfg.ChatbotID, 10, 64)
	writeData(w, http.StatusCreated, map[string]any{
		"id": id, "name": c.name, "project_id": project, "created_by": 1, "session_id": session,
		"created_at": c.createdAt.Format(time.DateTime), "updated_at": c.createdAt.Format(time.DateTime),
	})
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.convs[r.PathValue("session")]
	delete(s.convs, r.PathValue("session"))
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "Conversation not found")
		return
	}
	writeData(w, http.StatusOK, map[string]any{"deleted": true})
}

func (s *Server) citation(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("citation"), 10, 64)
	s.mu.Lock()
	i := slices.IndexFunc(s.citations, func(c Citation) bool { return c.ID == id })
	var cit Citation
	if i >= 0 {
		cit = s.citations[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, r, http.StatusNotFound, "Citation not found")
		return
	}
	writeData(w, http.StatusOK, cit)
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Prompt string `json:"prompt"`
	}
	if err := fake.DecodeBody(r, &in); err != nil || strings.TrimSpace(in.Prompt) == "" {
		writeError(w, r, http.StatusBadRequest, "The prompt field is required.")
		return
	}
	session := r.PathValue("session")
	s.mu.Lock()
	c := s.convs[session]
	switch {
	case c == nil:
		s.mu.Unlock()
		writeError(w, r, http.StatusNotFound, "Conversation not found")
		return
	case s.credits == 0:
		s.mu.Unlock()
		writeError(w, r, http.StatusTooManyRequests, CreditsMessage)
		return
	case s.credits > 0:
		s.credits--
	}
	c.prompts = append(c.prompts, in.Prompt)
	s.nextID++
	promptID, convID := s.nextID, c.id
	cites := make([]int64, len(s.citations))
	for i, cit := range s.citations {
		cites[i] = cit.ID
	}
	streamErr, finish := s.streamErr, s.finish
	s.mu.Unlock()

	parts, ok := s.srv.Reply(in.Prompt)
	if !ok {
		parts = fake.Words("You said: " + in.Prompt)
	}
	out := s.srv.Output(w, r)
	if r.URL.Query().Get("stream") != "1" && r.URL.Query().Get("stream") != "true" {
		now := s.srv.Now().UTC().Format(time.DateTime)
		b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{
			"id": promptID, "user_id": 1, "user_query": in.Prompt, "openai_response": strings.Join(parts, ""),
			"created_at": now, "updated_at": now, "conversation_id": convID, "citations": cites,
			"metadata":          map[string]any{"user_ip": "127.0.0.1", "user_agent": r.UserAgent(), "external_id": r.URL.Query().Get("external_id"), "request_source": "api"},
			"response_feedback": nil,
		}})
		out.JSON(b)
		return
	}
	if !out.StartEvents() {
		return
	}
	for _, p := range parts {
		if !out.Piece(event(map[string]any{"status": "progress", "message": p})) {
			return
		}
	}
	if streamErr != "" {
		out.Piece(event(map[string]any{"status": "error", "data": map[string]any{"code": 500, "message": streamErr}}))
		return
	}
	end := map[string]any{"status": "finish", "id": promptID, "session_id": session, "citations": cites}
	for k, v := range finish {
		end[k] = v
	}
	out.Piece(event(end))
}

// event is one data-only Server-Sent Event carrying v as JSON.
func event(v any) []byte {
	b, _ := json.Marshal(v)
	return []byte("data: " + string(b) + "\n\n")
}
