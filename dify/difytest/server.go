// Package difytest provides a fake Dify Service API server for tests, in
// the manner of net/http/httptest: [NewServer] starts a loopback server that
// speaks the wire format of package dify (a chat, agent or chatflow app),
// records what it receives, and can be scripted to fail, throttle, cut,
// stall or split its replies. It speaks the vocabulary every provider fake
// shares (see package [fakes]): SetReply, SetAnswer, FailNext,
// RateLimitNext, StallNext, Requests, Connections, Disconnects; shapes its
// streams with SetPace, SplitWrites, CutAfter and StallAfter; scripts what
// replies report with SetSources and SetUsage, the setters chatbottest.Run's
// checks use; and adds
// Dify's own: app modes, keep-alive pings, a moderation replace, an error
// event after the 200, several events per write, and a record of the stop
// calls ([Server.Stops], [Server.Stopped]).
//
//	srv := difytest.NewServer(difytest.Config{})
//	defer srv.Close()
//	bot, err := dify.NewClient(srv.APIKey(), chatbot.WithBaseURL(srv.URL))
package difytest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// DefaultAPIKey is the key a zero [Config] accepts.
const DefaultAPIKey = "app-test0123456789abcdef"

// Mode is the kind of Dify app the server plays, which shapes its streams.
type Mode string

// The app modes behind Dify's chat-messages endpoint.
const (
	// ModeChat streams "message" events, then "message_end". The default.
	ModeChat Mode = "chat"
	// ModeAgent streams an "agent_thought" (a tool call), "agent_message"
	// events, a second "agent_thought" with the tool's observation, then
	// "message_end". It refuses blocking requests, as Dify documents.
	ModeAgent Mode = "agent-chat"
	// ModeChatflow streams "workflow_started", "node_started" and
	// "node_finished" events around the "message" events, then
	// "workflow_finished" and "message_end".
	ModeChatflow Mode = "advanced-chat"
)

// Config configures [NewServer]. The zero value is usable: every field has
// a default.
type Config struct {
	APIKey string // the only key accepted; default DefaultAPIKey
	Mode   Mode   // the app's mode; default ModeChat
	// Clock is the time of created_at and updated_at; nil means the real
	// clock.
	Clock fakes.Clock
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares), written as Dify writes errors: the status and
// {"code": Code, "message": Message, "status": Status}. An empty Code is
// Dify's code for the status (400 "invalid_param", 5xx
// "internal_server_error", any other the status's name in snake case:
// 401 "unauthorized", 403 "forbidden", 404 "not_found", 429
// "too_many_requests").
type Failure = fakes.Failure

// Stop is one stop call the server received.
type Stop struct {
	TaskID string
	User   string
}

// Server is a running fake. Its setters may be called at any time, from any
// goroutine; they apply to the requests that follow. Close it when done.
type Server struct {
	// URL is the base URL of the server, for chatbot.WithBaseURL.
	URL string

	srv *fake.Server
	cfg Config

	stopped chan struct{}

	mu        sync.Mutex
	mode      Mode
	ids       int
	convs     map[string]*conversation // by id
	order     []string                 // conversation ids, oldest first
	messages  map[string]*message      // by id
	stops     []Stop
	sources   []chatbot.Source
	usage     *chatbot.Usage // scripted by SetUsage; nil: counted in words, or none with noUsage
	noUsage   bool
	pings     int // keep-alives before the first event
	pingOnly  bool
	replaceAt int    // parts before a message_replace; <0: none
	replace   string // the replacing answer
	streamErr *[2]string
	batch     int // events per write; 0 or 1: one
}

type conversation struct {
	ID        string
	User      string
	Name      string
	CreatedAt int64
	UpdatedAt int64
	Messages  []string // message ids, oldest first
}

type message struct {
	ID             string
	ConversationID string
	Query          string
	Answer         string
	CreatedAt      int64
	Feedback       any // nil, or {"rating": …}
}

// NewServer starts a fake server configured by cfg. The caller must call
// [Server.Close].
func NewServer(cfg Config) *Server {
	cfg.APIKey = cmp.Or(cfg.APIKey, DefaultAPIKey)
	cfg.Mode = cmp.Or(cfg.Mode, ModeChat)
	s := &Server{
		cfg: cfg, mode: cfg.Mode, stopped: make(chan struct{}, 1024), replaceAt: -1,
		convs: make(map[string]*conversation), messages: make(map[string]*message),
	}
	s.srv = fake.NewServerWithClock(http.HandlerFunc(s.serve), cfg.Clock)
	s.URL = s.srv.URL + "/v1/"
	return s
}

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the key the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request { return s.srv.Requests() }

// Count returns how many requests the server has received.
func (s *Server) Count() int { return s.srv.Count() }

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return s.srv.Connections() }

// Disconnects receives a value each time a handler ends because its client
// went away: the server's observation of an early break or a cancellation.
func (s *Server) Disconnects() <-chan struct{} { return s.srv.Disconnects() }

// Stalled receives a value each time a request starts stalling (see
// [Server.StallNext] and [Server.StallAfter]).
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// Stopped receives a value each time the server receives a stop call (POST
// chat-messages/{task_id}/stop), once it is recorded in [Server.Stops].
func (s *Server) Stopped() <-chan struct{} { return s.stopped }

// Stops returns the stop calls received so far, in order.
func (s *Server) Stops() []Stop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stops)
}

// SetReply makes every reply the concatenation of parts, streamed one event
// per part. With no parts the server echoes: "You said: <message>",
// streamed word by word. It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every reply fn(message), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with 429 too_many_requests,
// asking to wait retryAfter (Retry-After, in whole seconds; none when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// SetPace makes the server wait d (or until the client goes away) between
// the writes of a stream.
func (s *Server) SetPace(d time.Duration) { s.srv.SetPace(d) }

// SplitWrites makes the server write and flush reply bodies in pieces of at
// most size bytes (0: whole writes), and also cut them at each of the given
// absolute byte offsets.
func (s *Server) SplitWrites(size int, offsets ...int) { s.srv.SplitWrites(size, offsets...) }

// CutAfter makes replies abort their connection once n body bytes have been
// written, without ending the body properly (0: never).
func (s *Server) CutAfter(n int) { s.srv.CutAfter(n) }

// StallAfter makes streams stop after n writes (0: right after the headers)
// and wait, signalling [Server.Stalled], until their client goes away or
// the server is closed. Each event is one write unless [Server.SetBatch]
// groups them; a ping is one too. A negative n, the default, turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// SetMode sets the app mode of the replies that follow.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = cmp.Or(m, ModeChat)
}

// SetPings makes streams start with n keep-alives ("event: ping"), one
// write each.
func (s *Server) SetPings(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pings = max(n, 0)
}

// SetPingOnly makes streams carry only their keep-alives ([Server.SetPings])
// and end, as a stalled Dify run seen through a proxy that closes it does.
func (s *Server) SetPingOnly(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingOnly = on
}

// SetReplace makes streams send a message_replace carrying answer after
// the first n parts of the reply (output moderation), then go on with the
// rest. A negative n turns it off.
func (s *Server) SetReplace(n int, answer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replaceAt, s.replace = n, answer
}

// FailStream makes streams end with an "error" event carrying code and
// message after the reply's text, instead of message_end. An empty code and
// message turn this off.
func (s *Server) FailStream(code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamErr = nil
	if code != "" || message != "" {
		s.streamErr = &[2]string{code, message}
	}
}

// SetBatch makes streams write n events per write (as Dify's proxies can
// deliver them in one network chunk); 0 or 1 writes each on its own.
func (s *Server) SetBatch(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = n
}

// SetSources makes every later reply carry these sources as Dify's
// retriever_resources, in the blocking answer's metadata and in
// message_end's: each source's ID is the segment_id ("seg-<n>" when
// empty), its Title the document_name, its Snippet the content, its Score
// the score; a resource has no URL. No sources restores none.
func (s *Server) SetSources(sources ...chatbot.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = slices.Clone(sources)
}

// SetUsage makes every later reply report u as Dify's metadata.usage:
// prompt_tokens, completion_tokens, total_tokens, total_price and currency
// (Dify's usage has no credits). Nil makes replies report no usage at all;
// by default they report one counted in words.
func (s *Server) SetUsage(u *chatbot.Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage, s.noUsage = nil, u == nil
	if u != nil {
		c := *u
		s.usage = &c
	}
}

// Messages returns the queries received in a conversation, in order, or
// nil for an unknown conversation.
func (s *Server) Messages(conversationID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return nil
	}
	out := make([]string, len(c.Messages))
	for i, id := range c.Messages {
		out[i] = s.messages[id].Query
	}
	return out
}

// Feedback returns the last feedback given on a message ({"rating": …,
// "content": …} as sent), or nil.
func (s *Server) Feedback(messageID string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.messages[messageID]; m != nil {
		return m.Feedback
	}
	return nil
}

// newIDLocked returns a new UUID, deterministic in order of creation.
func (s *Server) newIDLocked() string {
	s.ids++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.ids, s.ids)
}

// errorBody is Dify's error shape.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	}
	fake.WriteJSON(w, status, errorBody{Code: code, Message: msg, Status: status})
}

// codeFor is Dify's code for a status: its own for the statuses it
// documents, else what its error handler makes of an HTTP exception, the
// status's name in snake case ("forbidden", "payment_required").
func codeFor(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "invalid_param"
	case status >= 500:
		return "internal_server_error"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

// writeFailure answers f in Dify's error format.
func writeFailure(w http.ResponseWriter, f Failure) {
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	if f.Body != "" {
		fake.WriteBody(w, status, f.Body)
		return
	}
	writeError(w, status, cmp.Or(f.Code, codeFor(status)), cmp.Or(f.Message, http.StatusText(status)))
}

// serve runs the checks every endpoint shares, then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.srv.Intercept(w, r, writeFailure) {
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		writeError(w, http.StatusUnauthorized, "unauthorized", "Authorization header must be provided and start with 'Bearer'")
		return
	case auth != "Bearer "+s.cfg.APIKey:
		writeError(w, http.StatusUnauthorized, "unauthorized", "Access token is invalid")
		return
	}
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1/")
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "The requested URL was not found on the server.")
		return
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	route := func(method string, pattern ...string) bool {
		if r.Method != method || len(segs) != len(pattern) {
			return false
		}
		for i, want := range pattern {
			if want != "*" && segs[i] != want {
				return false
			}
		}
		return true
	}
	switch {
	case route(http.MethodPost, "chat-messages"):
		s.chat(w, r)
	case route(http.MethodPost, "chat-messages", "*", "stop"):
		s.stop(w, r, segs[1])
	case route(http.MethodGet, "conversations"):
		s.listConversations(w, r)
	case route(http.MethodDelete, "conversations", "*"):
		s.deleteConversation(w, r, segs[1])
	case route(http.MethodPost, "conversations", "*", "name"):
		s.renameConversation(w, r, segs[1])
	case route(http.MethodGet, "messages"):
		s.listMessages(w, r)
	case route(http.MethodPost, "messages", "*", "feedbacks"):
		s.feedback(w, r, segs[1])
	case route(http.MethodGet, "messages", "*", "suggested"):
		s.suggested(w, r, segs[1])
	case route(http.MethodGet, "parameters"):
		s.parameters(w)
	case route(http.MethodGet, "info"):
		s.info(w)
	default:
		writeError(w, http.StatusNotFound, "not_found", "The requested URL was not found on the server.")
	}
}

// chatBody is the chat request as the server reads it.
type chatBody struct {
	Query          *string         `json:"query"`
	Inputs         json.RawMessage `json:"inputs"`
	User           string          `json:"user"`
	ResponseMode   string          `json:"response_mode"`
	ConversationID string          `json:"conversation_id"`
}

// turn is what one reply's events depend on, copied under the lock.
type turn struct {
	mode                   Mode
	task, conv, msg, query string
	parts                  []string
	sources                []chatbot.Source
	usage                  *chatbot.Usage
	noUsage                bool
	pings                  int
	pingOnly               bool
	replaceAt              int
	replace                string
	streamErr              *[2]string
	batch                  int
	created                int64
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var body chatBody
	switch err := json.NewDecoder(r.Body).Decode(&body); {
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid_param", "The browser (or proxy) sent a request that this server could not understand.")
		return
	case body.Query == nil || strings.TrimSpace(*body.Query) == "":
		writeError(w, http.StatusBadRequest, "invalid_param", "query is required")
		return
	case len(body.Inputs) == 0 || body.Inputs[0] != '{':
		writeError(w, http.StatusBadRequest, "invalid_param", "inputs is required and must be an object")
		return
	case body.User == "":
		writeError(w, http.StatusBadRequest, "invalid_param", "user is required")
		return
	case body.ConversationID != "" && !rest.IsUUID(body.ConversationID):
		writeError(w, http.StatusBadRequest, "invalid_param", "conversation_id is not a valid uuid")
		return
	}
	streaming := body.ResponseMode == "streaming"
	s.mu.Lock()
	if s.mode == ModeAgent && !streaming {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "app_unavailable", "Agent Chat App does not support blocking mode")
		return
	}
	now := s.srv.Now().Unix()
	conv := s.convs[body.ConversationID]
	switch {
	case body.ConversationID == "":
		conv = &conversation{ID: s.newIDLocked(), User: body.User, Name: "New conversation", CreatedAt: now}
		s.convs[conv.ID] = conv
		s.order = append(s.order, conv.ID)
	case conv == nil || conv.User != body.User:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", "Conversation Not Exists.")
		return
	}
	t := turn{
		mode: s.mode, task: s.newIDLocked(), conv: conv.ID, msg: s.newIDLocked(), query: *body.Query,
		sources: slices.Clone(s.sources), usage: s.usage, noUsage: s.noUsage, pings: s.pings, pingOnly: s.pingOnly, replaceAt: s.replaceAt,
		replace: s.replace, streamErr: s.streamErr, batch: s.batch, created: now,
	}
	conv.UpdatedAt = now
	s.mu.Unlock()
	parts, ok := s.srv.Reply(t.query)
	if !ok {
		parts = fake.Words("You said: " + t.query)
	}
	t.parts = parts
	answer := strings.Join(parts, "")
	if t.replaceAt >= 0 {
		answer = t.replace + strings.Join(parts[min(t.replaceAt, len(parts)):], "")
	}
	s.mu.Lock()
	s.messages[t.msg] = &message{ID: t.msg, ConversationID: conv.ID, Query: t.query, Answer: answer, CreatedAt: now}
	conv.Messages = append(conv.Messages, t.msg)
	s.mu.Unlock()

	out := s.srv.Output(w, r)
	if !streaming {
		b, _ := json.Marshal(map[string]any{
			"event": "message", "task_id": t.task, "id": t.msg, "message_id": t.msg, "conversation_id": t.conv,
			"mode": string(t.mode), "answer": answer, "metadata": t.metadata(), "created_at": t.created,
		})
		out.JSON(b)
		return
	}
	if !out.StartEvents() {
		return
	}
	evs := t.events()
	n := max(t.batch, 1)
	for i := 0; i < len(evs); i += n {
		if !out.Piece(bytes.Join(evs[i:min(i+n, len(evs))], nil)) {
			return
		}
	}
}

// metadata is the message_end (and blocking) metadata of the turn: the
// scripted usage (by default counted in words) and sources.
func (t *turn) metadata() map[string]any {
	res := make([]map[string]any, len(t.sources))
	for i, src := range t.sources {
		res[i] = map[string]any{
			"position": i + 1, "dataset_id": "ds-1", "dataset_name": "Knowledge", "document_id": fmt.Sprintf("doc-%d", i+1),
			"document_name": src.Title, "segment_id": cmp.Or(src.ID, fmt.Sprintf("seg-%d", i+1)), "score": src.Score, "content": src.Snippet,
		}
	}
	m := map[string]any{"retriever_resources": res}
	u := t.usage
	if u == nil {
		prompt, completion := int64(len(strings.Fields(t.query))), int64(len(t.parts))
		u = &chatbot.Usage{InputTokens: prompt, OutputTokens: completion, TotalTokens: prompt + completion,
			Price: fmt.Sprintf("0.%07d", 19*(prompt+completion)), Currency: "USD"}
	}
	if !t.noUsage {
		m["usage"] = map[string]any{
			"prompt_tokens": u.InputTokens, "completion_tokens": u.OutputTokens, "total_tokens": u.TotalTokens,
			"total_price": u.Price, "currency": u.Currency, "latency": 0.5,
		}
	}
	return m
}

// events renders the turn as Server-Sent Events in the app's mode.
func (t *turn) events() [][]byte {
	var out [][]byte
	type m = map[string]any
	data := func(v m) {
		v["task_id"], v["conversation_id"], v["message_id"], v["created_at"] = t.task, t.conv, t.msg, t.created
		b, _ := json.Marshal(v)
		out = append(out, []byte("data: "+string(b)+"\n\n"))
	}
	for range t.pings {
		out = append(out, []byte("event: ping\n\n"))
	}
	if t.pingOnly {
		return out
	}
	text := "message"
	switch t.mode {
	case ModeAgent:
		text = "agent_message"
		data(m{"event": "agent_thought", "id": "thought-1", "position": 1, "thought": "", "tool": "search",
			"tool_input": `{"search": ` + jsonString(t.query) + `}`, "observation": ""})
	case ModeChatflow:
		data(m{"event": "workflow_started", "workflow_run_id": "run-1", "data": m{"id": "run-1", "workflow_id": "wf-1"}})
		data(m{"event": "node_started", "workflow_run_id": "run-1", "data": m{"id": "node-run-1", "node_id": "start", "node_type": "start"}})
		data(m{"event": "node_finished", "workflow_run_id": "run-1", "data": m{"id": "node-run-1", "node_id": "start", "status": "succeeded"}})
		data(m{"event": "node_started", "workflow_run_id": "run-1", "data": m{"id": "node-run-2", "node_id": "llm", "node_type": "llm"}})
	}
	for i, p := range t.parts {
		if i == t.replaceAt {
			data(m{"event": "message_replace", "answer": t.replace, "reason": "output_moderation"})
		}
		data(m{"event": text, "id": t.msg, "answer": p})
	}
	if t.replaceAt >= len(t.parts) {
		data(m{"event": "message_replace", "answer": t.replace, "reason": "output_moderation"})
	}
	if e := t.streamErr; e != nil {
		data(m{"event": "error", "status": 400, "code": e[0], "message": e[1]})
		return out
	}
	switch t.mode {
	case ModeAgent:
		data(m{"event": "agent_thought", "id": "thought-1", "position": 1, "tool": "search", "observation": "found"})
	case ModeChatflow:
		data(m{"event": "node_finished", "workflow_run_id": "run-1", "data": m{"id": "node-run-2", "node_id": "llm", "status": "succeeded"}})
		data(m{"event": "workflow_finished", "workflow_run_id": "run-1", "data": m{"id": "run-1", "status": "succeeded"}})
	}
	data(m{"event": "message_end", "id": t.msg, "metadata": t.metadata()})
	return out
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request, task string) {
	var body withUser
	if !readBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	s.stops = append(s.stops, Stop{TaskID: task, User: body.User})
	s.mu.Unlock()
	select {
	case s.stopped <- struct{}{}:
	default:
	}
	fake.WriteJSON(w, http.StatusOK, map[string]string{"result": "success"})
}
