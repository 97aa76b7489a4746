// Package chatbasetest provides a fake Chatbase API v2 server for tests, in
// the manner of net/http/httptest: [NewServer] starts a loopback server that
// speaks the wire format of package chatbase (the JSON reply, the AI SDK UI
// message stream, client actions, cursor-paginated conversations and
// messages, the error envelope, X-RateLimit-* headers with a reset in unix
// milliseconds), records what it receives, and can be scripted to fail,
// throttle, cut, stall or split its replies. It speaks the vocabulary every
// provider fake shares (see package [fakes]): SetReply, SetAnswer, FailNext,
// RateLimitNext, StallNext, Requests, Connections, Disconnects; and shapes
// its streams with SetPace, SplitWrites, CutAfter and StallAfter. What its
// replies report is scripted with SetUsage and SetFinishReason, the setters
// chatbottest.Run's checks use. Its sliding rate-limit window runs on
// [Config.Clock].
//
//	srv := chatbasetest.NewServer(chatbasetest.Config{})
//	defer srv.Close()
//	bot, err := chatbase.NewClient(srv.APIKey(), srv.AgentID(), chatbot.WithBaseURL(srv.URL))
package chatbasetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// Defaults of a zero [Config].
const (
	DefaultAPIKey     = "cb_test_8f2d0c4e6a1b3d5f7a9c"
	DefaultAgentID    = "5QHA6VB-DIAbBhxwqxfdi"
	DefaultRateLimit  = 1000
	DefaultRateWindow = 10 * time.Second
	DefaultCredits    = 1
)

// Config configures [NewServer]. The zero value is usable: every field has a
// default.
type Config struct {
	APIKey     string        // the only key accepted; default DefaultAPIKey
	AgentID    string        // the only agent; default DefaultAgentID
	RateLimit  int           // requests allowed per sliding window; default DefaultRateLimit
	RateWindow time.Duration // the sliding window; default DefaultRateWindow (10 s, as documented)
	Credits    float64       // the credits each reply reports; default DefaultCredits

	// Clock is the time of the sliding window, of X-RateLimit-Reset and of
	// the conversations' timestamps; nil means the real clock. A
	// [fakes.ManualClock] lets a test fill the window and slide it without
	// waiting.
	Clock fakes.Clock
}

// Style is how streams are written, in the variants Chatbase's docs show.
// The zero value is the shape of the streaming page and the official SDKs:
// JSON parts with a "type", "start", metadata under "messageMetadata" on the
// "finish" part.
type Style struct {
	// EventField adds an SSE "event:" line carrying the type to every
	// part, as the chat page says each event has.
	EventField bool
	// MessageStart names the first part "message-start" instead of
	// "start", as one doc version does.
	MessageStart bool
	// MetadataKey puts the metadata under "metadata" instead of
	// "messageMetadata", as one example does.
	MetadataKey bool
	// SeparateMetadata sends the metadata in a "message-metadata" part
	// before a "finish" part that carries only the finish reason.
	SeparateMetadata bool
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it as Chatbase documents its errors:
// {"error": {"code": Code, "message": Message, "details": Details}}, with
// the X-RateLimit-* headers, x-request-id and, when RetryAfter is set,
// Retry-After. A zero Status is [StatusFor] Code; a 429 without a Code gets
// RATE_LIMIT_TOO_MANY_REQUESTS.
type Failure = fakes.Failure

// StatusFor returns the HTTP status the fake answers a Chatbase code with:
// the documented one where there is one, and otherwise the status of the
// code's family (Chatbase does not document them all).
func StatusFor(code string) int {
	c := chatbase.ErrorCode(code)
	switch {
	case c == "":
		return http.StatusInternalServerError
	case c == chatbase.CodeRateLimitTooManyRequests:
		return http.StatusTooManyRequests
	case c == chatbase.CodeAuthInsufficientPermissions:
		return http.StatusForbidden
	case strings.HasPrefix(code, "AUTH_"):
		return http.StatusUnauthorized
	case strings.HasSuffix(code, "_CREDITS_EXHAUSTED"), strings.HasPrefix(code, "SUBSCRIPTION_"), c == chatbase.CodeChatModelNotAllowed:
		return http.StatusPaymentRequired
	case strings.HasSuffix(code, "_NOT_FOUND"):
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// Server is a running fake. Its setters may be called at any time, from any
// goroutine; they apply to the requests that follow. Close it when done.
type Server struct {
	// URL is the base URL of the server, for chatbot.WithBaseURL.
	URL string

	srv *fake.Server
	cfg Config

	window *fake.Window

	mu        sync.Mutex
	ids       int
	reqIDs    int
	convs     map[string]*conversation
	order     []string // conversation ids, oldest first
	style     Style
	streamErr string    // errorText of a scripted error part
	tool      *toolCall // the next reply's scripted client action
	credits   *float64  // the credits replies report; nil: no usage
	finish    string    // the finishReason of replies without a tool call; "": "stop"
}

// conversation is one conversation the server keeps.
type conversation struct {
	id       string
	userID   string
	status   string
	created  time.Time
	updated  time.Time
	messages []message
	pending  map[string]bool // tool call ids waiting for their result
	results  []string        // the outputs posted since the last reply
}

type message struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	Parts     []any  `json:"parts"`
	CreatedAt int64  `json:"createdAt"`
}

type toolCall struct {
	name  string
	input any
}

// NewServer starts a fake server configured by cfg. The caller must call
// [Server.Close].
func NewServer(cfg Config) *Server {
	cfg.APIKey = cmp.Or(cfg.APIKey, DefaultAPIKey)
	cfg.AgentID = cmp.Or(cfg.AgentID, DefaultAgentID)
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.Credits == 0 {
		cfg.Credits = DefaultCredits
	}
	s := &Server{cfg: cfg, window: fake.NewWindow(cfg.RateLimit, cfg.RateWindow), convs: make(map[string]*conversation)}
	s.credits = &s.cfg.Credits
	s.srv = fake.NewServerWithClock(http.HandlerFunc(s.serve), cfg.Clock)
	s.URL = s.srv.URL + "/api/v2/"
	return s
}

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the key the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// AgentID returns the id of the server's agent.
func (s *Server) AgentID() string { return s.cfg.AgentID }

// ChatbotID returns the id of the server's agent, under the name every
// provider fake uses.
func (s *Server) ChatbotID() string { return s.cfg.AgentID }

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
// [Server.StallNext] and [Server.StallAfter]), so that a test can act once
// the server holds it.
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// SetReply makes every reply the concatenation of parts, streamed one
// text-delta per part. With no parts the server echoes: "You said:
// <message>", streamed word by word. It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every reply fn(message), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with 429
// RATE_LIMIT_TOO_MANY_REQUESTS and a Retry-After of retryAfter in whole
// seconds (none when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// SetPace makes the server wait d (or until the client goes away) between
// the parts of a stream, and between the writes of [Server.SplitWrites].
func (s *Server) SetPace(d time.Duration) { s.srv.SetPace(d) }

// SplitWrites makes the server write and flush reply bodies in pieces of at
// most size bytes (0: whole parts), and also cut them at each of the given
// absolute byte offsets, which may fall inside a part or a character.
func (s *Server) SplitWrites(size int, offsets ...int) { s.srv.SplitWrites(size, offsets...) }

// CutAfter makes replies abort their connection once n body bytes have been
// written, without ending the body properly (0: never).
func (s *Server) CutAfter(n int) { s.srv.CutAfter(n) }

// StallAfter makes replies stop after n pieces (0: right after the
// headers; for a JSON answer, 0 before the body and any other n after it).
// A stream's pieces are its text-delta parts, the parts before the first
// one riding with it and those after the last one forming the last piece,
// so that n = 1 holds a stream after its first text. A held reply waits,
// signalling [Server.Stalled], until its client goes away or the server is
// closed. A negative n, the default, turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// SetUsage makes every later reply report u as Chatbase does, in its
// metadata's usage: only u.Credits, the one count Chatbase's usage carries.
// Nil makes replies report no usage at all (by default they report
// [Config.Credits]).
func (s *Server) SetUsage(u *chatbot.Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credits = nil
	if u != nil {
		credits := u.Credits
		s.credits = &credits
	}
}

// SetFinishReason makes every later reply that calls no client action end
// with r, written as Chatbase writes it (the AI SDK's "stop", "length",
// "content-filter", "tool-calls", "error", "other"); the empty reason
// restores the default, "stop".
func (s *Server) SetFinishReason(r chatbot.FinishReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finish = wireFinish[r]
}

// wireFinish is the AI SDK's spelling of each finish reason.
var wireFinish = map[chatbot.FinishReason]string{
	chatbot.FinishComplete:       "stop",
	chatbot.FinishLength:         "length",
	chatbot.FinishContentFilter:  "content-filter",
	chatbot.FinishActionRequired: "tool-calls",
	chatbot.FinishError:          "error",
	chatbot.FinishOther:          "other",
}

// SetStyle sets how the streams that follow are written.
func (s *Server) SetStyle(st Style) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.style = st
}

// FailStream makes streams end with an error part carrying errorText after
// the reply's text, instead of their finish part ("" turns this off).
func (s *Server) FailStream(errorText string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamErr = errorText
}

// SetToolCall makes the next reply, after its text, call the client-side
// action name with input and stop with finishReason "tool-calls". The
// conversation then waits for the result (POST
// conversations/{id}/tool-result) and a chat without a message, which
// answers with the scripted reply, or with "The action returned <outputs>".
func (s *Server) SetToolCall(name string, input any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tool = &toolCall{name: name, input: input}
}

// ExpireToolCalls drops every pending tool call, as Chatbase does when they
// expire: posting their results then fails with RESOURCE_TOOL_CALL_NOT_FOUND.
func (s *Server) ExpireToolCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.convs {
		clear(c.pending)
	}
}

// EndConversation marks a conversation ended (or, with takenOver, taken over
// by a human): messages into it fail with CHAT_CONVERSATION_NOT_ONGOING.
// It reports whether the conversation exists.
func (s *Server) EndConversation(id string, takenOver bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[id]
	if ok {
		c.status = "ended"
		if takenOver {
			c.status = "taken_over"
		}
	}
	return ok
}

// AddConversations creates n conversations of userID ("" for none), each
// with one exchange, and returns their ids, oldest first.
func (s *Server) AddConversations(n int, userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, n)
	for i := range ids {
		c := s.newConversationLocked(userID)
		now := s.srv.Now().UnixMilli()
		c.messages = append(c.messages,
			message{ID: s.nextIDLocked("msg"), Role: "user", Parts: []any{textPart("Hello")}, CreatedAt: now},
			message{ID: s.nextIDLocked("msg"), Role: "assistant", Parts: []any{textPart("Hi!")}, CreatedAt: now})
		ids[i] = c.id
	}
	return ids
}

// Messages returns the text of every message of a conversation, in order,
// or nil for an unknown conversation.
func (s *Server) Messages(conversationID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[conversationID]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range c.messages {
		var b strings.Builder
		for _, p := range m.Parts {
			if t, ok := p.(map[string]any)["text"].(string); ok {
				b.WriteString(t)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func textPart(text string) map[string]any { return map[string]any{"type": "text", "text": text} }

func (s *Server) nextIDLocked(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s_%04d", prefix, s.ids)
}

func (s *Server) newConversationLocked(userID string) *conversation {
	now := s.srv.Now()
	c := &conversation{id: s.nextIDLocked("conv"), userID: userID, status: "ongoing", created: now, updated: now, pending: map[string]bool{}}
	s.convs[c.id] = c
	s.order = append(s.order, c.id)
	return c
}

// errorBody is the documented error envelope.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string, details any) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Details = code, msg, details
	fake.WriteJSON(w, status, b)
}

// SetRateLimit resets the sliding-window limiter to size requests per
// window.
func (s *Server) SetRateLimit(size int, window time.Duration) { s.window.Set(size, window) }

// writeFailure answers f in Chatbase's error format.
func (s *Server) writeFailure(w http.ResponseWriter, f Failure) {
	s.rateHeaders(w.Header())
	fake.SetRetryAfter(w.Header(), f)
	status := cmp.Or(f.Status, StatusFor(f.Code))
	if f.Body != "" {
		fake.WriteBody(w, status, f.Body)
		return
	}
	code := f.Code
	if status == http.StatusTooManyRequests {
		code = cmp.Or(code, string(chatbase.CodeRateLimitTooManyRequests))
	}
	writeError(w, status, code, cmp.Or(f.Message, http.StatusText(status)), f.Details)
}

// serve runs the checks every endpoint shares, then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqIDs++
	w.Header().Set("X-Request-Id", fmt.Sprintf("req_%06d", s.reqIDs))
	s.mu.Unlock()
	if s.srv.Intercept(w, r, s.writeFailure) {
		return
	}
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		writeError(w, http.StatusUnauthorized, string(chatbase.CodeAuthMissingAPIKey), "Missing API key", nil)
		return
	case auth != "Bearer "+s.cfg.APIKey:
		writeError(w, http.StatusUnauthorized, string(chatbase.CodeAuthInvalidAPIKey), "Invalid API key", nil)
		return
	}
	if ra, ok := s.admit(w.Header()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		writeError(w, http.StatusTooManyRequests, string(chatbase.CodeRateLimitTooManyRequests), "Too many requests", nil)
		return
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v2"), "/"), "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	if len(segs) < 3 || segs[0] != "agents" || segs[1] != s.cfg.AgentID {
		writeError(w, http.StatusNotFound, string(chatbase.CodeResourceNotFound), "Agent not found", nil)
		return
	}
	switch rest := segs[2:]; {
	case len(rest) == 1 && rest[0] == "chat" && r.Method == http.MethodPost:
		s.chat(w, r)
	case len(rest) == 1 && rest[0] == "conversations" && r.Method == http.MethodGet:
		s.listConversations(w, r, nil)
	case len(rest) == 3 && rest[0] == "users" && rest[2] == "conversations" && r.Method == http.MethodGet:
		s.listConversations(w, r, &rest[1])
	case len(rest) == 3 && rest[0] == "conversations" && rest[2] == "messages" && r.Method == http.MethodGet:
		s.listMessages(w, r, rest[1])
	case len(rest) == 3 && rest[0] == "conversations" && rest[2] == "tool-result" && r.Method == http.MethodPost:
		s.toolResult(w, r, rest[1])
	default:
		writeError(w, http.StatusNotFound, string(chatbase.CodeResourceNotFound), "No such endpoint", nil)
	}
}

// admit runs the sliding-window limiter for one request, sets the
// X-RateLimit-* headers, and on refusal returns the seconds to wait.
func (s *Server) admit(h http.Header) (int, bool) {
	wait, ok := s.window.Admit(s.srv.Now())
	s.rateHeaders(h)
	return max(1, int(math.Ceil(wait.Seconds()))), ok
}

// rateHeaders sets X-RateLimit-Limit, -Remaining and -Reset, the last in
// unix milliseconds (doc): when the oldest request in the window leaves it.
func (s *Server) rateHeaders(h http.Header) {
	limit, used, reset := s.window.State(s.srv.Now())
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.UnixMilli(), 10))
}

// chatBody is the chat request as the server reads it.
type chatBody struct {
	Message        *string `json:"message"`
	ConversationID string  `json:"conversationId"`
	Stream         *bool   `json:"stream"`
	UserID         *string `json:"userId"`
}

// turn is what one reply is made of, fixed under the lock.
type turn struct {
	conv, userID     string
	msgID, userMsgID string
	parts            []string
	tool             *toolCall
	toolCallID       string
	style            Style
	streamErr        string
	credits          *float64
	finish           string
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var body chatBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidJSON), "Request body is not valid JSON", nil)
		return
	}
	if body.UserID != nil && !validUserID(*body.UserID) {
		writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid request body",
			map[string]any{"userId": []string{"Must contain only letters, digits, hyphens, underscores and dots"}})
		return
	}
	continuing := body.Message == nil
	if continuing && body.ConversationID == "" {
		writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid request body",
			map[string]any{"message": []string{"Required"}})
		return
	}
	if !continuing && strings.TrimSpace(*body.Message) == "" {
		writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid request body",
			map[string]any{"message": []string{"String must contain at least 1 character(s)"}})
		return
	}
	t, status, code, msg := s.startTurn(body, continuing)
	if status != 0 {
		writeError(w, status, code, msg, nil)
		return
	}
	if t.parts == nil {
		t.parts = fake.Words("You said: " + *body.Message)
	}
	s.finishTurn(t)
	streaming := body.Stream == nil || *body.Stream // Chatbase streams by default
	out := s.srv.Output(w, r)
	if !streaming {
		b, _ := json.Marshal(map[string]any{"data": t.jsonReply()})
		out.JSON(append(b, '\n'))
		return
	}
	w.Header().Set("X-Vercel-Ai-Ui-Message-Stream", "v1")
	if !out.StartEvents() {
		return
	}
	for _, ev := range t.events() {
		if !out.Piece(ev) {
			return
		}
	}
}

// startTurn checks the conversation and fixes what the reply is made of. A
// non-zero status refuses the request with code and msg.
func (s *Server) startTurn(body chatBody, continuing bool) (t turn, status int, code, msg string) {
	var reply []string
	if !continuing {
		if parts, ok := s.srv.Reply(*body.Message); ok {
			reply = parts
		}
	} else if parts, ok := s.srv.Reply(""); ok {
		reply = parts
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *conversation
	if body.ConversationID == "" {
		uid := ""
		if body.UserID != nil {
			uid = *body.UserID
		}
		c = s.newConversationLocked(uid)
	} else {
		var ok bool
		if c, ok = s.convs[body.ConversationID]; !ok {
			return t, http.StatusNotFound, string(chatbase.CodeResourceNotFound), "Conversation not found"
		}
		if c.status != "ongoing" {
			return t, http.StatusBadRequest, string(chatbase.CodeChatConversationNotOngoing), "The conversation has ended or been taken over"
		}
	}
	now := s.srv.Now()
	t = turn{conv: c.id, userID: c.userID, style: s.style, streamErr: s.streamErr, credits: s.credits, finish: s.finish, parts: reply}
	if continuing {
		switch {
		case len(c.pending) > 0:
			return t, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Tool results are still pending"
		case len(c.results) == 0:
			return t, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "message is required"
		}
		if t.parts == nil {
			t.parts = fake.Words("The action returned " + strings.Join(c.results, ", "))
		}
		c.results = nil
	} else {
		t.userMsgID = s.nextIDLocked("msg")
		c.messages = append(c.messages, message{ID: t.userMsgID, Role: "user", Parts: []any{textPart(*body.Message)}, CreatedAt: now.UnixMilli()})
	}
	t.msgID = s.nextIDLocked("msg")
	if s.tool != nil {
		t.tool, s.tool = s.tool, nil
		t.toolCallID = s.nextIDLocked("call")
		c.pending[t.toolCallID] = true
	}
	c.updated = now
	return t, 0, "", ""
}

// finishTurn stores the reply in its conversation.
func (s *Server) finishTurn(t turn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[t.conv]
	c.messages = append(c.messages, message{ID: t.msgID, Role: "assistant", Parts: t.jsonParts(), CreatedAt: s.srv.Now().UnixMilli()})
}

func validUserID(id string) bool {
	if id == "" || len(id) > chatbase.MaxUserIDChars {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	})
}

func (t turn) finishReason() string {
	if t.tool != nil {
		return "tool-calls"
	}
	return cmp.Or(t.finish, "stop")
}

func (t turn) metadata() map[string]any {
	m := map[string]any{"messageId": t.msgID, "conversationId": t.conv, "userId": nil}
	if t.credits != nil {
		m["usage"] = map[string]any{"credits": *t.credits}
	}
	if t.userMsgID != "" {
		m["userMessageId"] = t.userMsgID
	}
	if t.userID != "" {
		m["userId"] = t.userID
	}
	return m
}

func (t turn) jsonParts() []any {
	parts := []any{textPart(strings.Join(t.parts, ""))}
	if t.tool != nil {
		parts = append(parts, map[string]any{"type": "tool-call", "toolCallId": t.toolCallID, "toolName": t.tool.name, "input": t.tool.input})
	}
	return parts
}

// jsonReply is data of the non-streaming reply (doc).
func (t turn) jsonReply() map[string]any {
	meta := t.metadata()
	meta["finishReason"] = t.finishReason()
	return map[string]any{"id": t.msgID, "role": "assistant", "parts": t.jsonParts(), "metadata": meta}
}

// events renders the reply as the AI SDK UI message stream, in t's style,
// as the pieces the server writes: each text-delta part is a piece, the
// parts before the first one ride with it, and those after the last one
// form the last piece.
func (t turn) events() (out [][]byte) {
	var cur []byte
	type m = map[string]any
	part := func(v m) {
		b, _ := json.Marshal(v)
		if t.style.EventField {
			cur = append(cur, "event: "+v["type"].(string)+"\n"...)
		}
		cur = append(cur, "data: "...)
		cur = append(append(cur, b...), "\n\n"...)
		if v["type"] == "text-delta" {
			out, cur = append(out, cur), nil
		}
	}
	defer func() { out = append(out, cur) }()
	metaKey := "messageMetadata"
	if t.style.MetadataKey {
		metaKey = "metadata"
	}
	if t.style.MessageStart {
		part(m{"type": "message-start", "messageId": t.msgID})
	} else {
		part(m{"type": "start", "messageId": t.msgID})
	}
	part(m{"type": "start-step"})
	part(m{"type": "text-start", "id": "txt_0"})
	for _, p := range t.parts {
		part(m{"type": "text-delta", "id": "txt_0", "delta": p})
	}
	part(m{"type": "text-end", "id": "txt_0"})
	if t.tool != nil {
		in, _ := json.Marshal(t.tool.input)
		part(m{"type": "tool-input-start", "toolCallId": t.toolCallID, "toolName": t.tool.name})
		part(m{"type": "tool-input-delta", "toolCallId": t.toolCallID, "inputTextDelta": string(in)})
		part(m{"type": "tool-input-available", "toolCallId": t.toolCallID, "toolName": t.tool.name, "input": t.tool.input})
	}
	if t.streamErr != "" {
		part(m{"type": "error", "errorText": t.streamErr})
		return
	}
	part(m{"type": "finish-step"})
	if t.style.SeparateMetadata {
		part(m{"type": "message-metadata", metaKey: t.metadata()})
		part(m{"type": "finish", "finishReason": t.finishReason()})
	} else {
		part(m{"type": "finish", "finishReason": t.finishReason(), metaKey: t.metadata()})
	}
	cur = append(cur, "data: [DONE]\n\n"...)
	return
}

// toolResult records the output of a pending tool call.
func (s *Server) toolResult(w http.ResponseWriter, r *http.Request, convID string) {
	var body struct {
		ToolCallID string          `json:"toolCallId"`
		Output     json.RawMessage `json:"output"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ToolCallID == "" {
		writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid request body",
			map[string]any{"toolCallId": []string{"Required"}})
		return
	}
	s.mu.Lock()
	c, ok := s.convs[convID]
	found := ok && c.pending[body.ToolCallID]
	if found {
		delete(c.pending, body.ToolCallID)
		c.results = append(c.results, string(body.Output))
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, string(chatbase.CodeResourceNotFound), "Conversation not found", nil)
	case !found:
		writeError(w, http.StatusNotFound, string(chatbase.CodeResourceToolCallNotFound), "No pending client action matches the toolCallId", nil)
	default:
		fake.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"toolCallId": body.ToolCallID}})
	}
}

// pageOf cuts items at the request's cursor and limit and writes the page:
// {"data": […], "pagination": {"cursor", "hasMore", "total"}}. The cursor is
// the index of the next item.
func pageOf[T any](w http.ResponseWriter, r *http.Request, items []T) {
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > chatbase.MaxPageLimit {
			writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid query",
				map[string]any{"limit": []string{"Must be between 1 and 100"}})
			return
		}
		limit = n
	}
	start := 0
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "cur_"))
		if err != nil || n < 0 || n > len(items) {
			writeError(w, http.StatusBadRequest, string(chatbase.CodeValidationInvalidBody), "Invalid cursor", nil)
			return
		}
		start = n
	}
	end := min(start+limit, len(items))
	var cursor any
	if end < len(items) {
		cursor = "cur_" + strconv.Itoa(end)
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{
		"data":       slices.Clip(items[start:end]),
		"pagination": map[string]any{"cursor": cursor, "hasMore": end < len(items), "total": len(items)},
	})
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, userID *string) {
	s.mu.Lock()
	var items []map[string]any
	for _, id := range slices.Backward(s.order) {
		c := s.convs[id]
		if userID != nil && c.userID != *userID {
			continue
		}
		var uid any
		if c.userID != "" {
			uid = c.userID
		}
		items = append(items, map[string]any{"id": c.id, "title": nil, "createdAt": c.created.UnixMilli(),
			"updatedAt": c.updated.UnixMilli(), "userId": uid, "status": c.status})
	}
	s.mu.Unlock()
	pageOf(w, r, items)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, convID string) {
	s.mu.Lock()
	c, ok := s.convs[convID]
	var items []message
	if ok {
		items = slices.Clone(c.messages)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, string(chatbase.CodeResourceNotFound), "Conversation not found", nil)
		return
	}
	pageOf(w, r, items)
}
