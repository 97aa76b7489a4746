// Package workspacetest provides a fake workspace (PollyBot-style) chatbot
// API server for tests, in the manner of net/http/httptest: [NewServer]
// starts a loopback server that speaks the wire format of package workspace,
// records what it receives, and can be scripted to fail, throttle, cut, stall
// or split its replies. It speaks the vocabulary every provider fake shares
// (see package [fakes]): SetReply, SetAnswer, FailNext, RateLimitNext,
// StallNext, Requests, Connections, Disconnects; and shapes its streams with
// SetPace, SplitWrites, CutAfter and StallAfter, like userdesktest. Its
// sliding rate-limit window runs on [Config.Clock].
//
//	srv := workspacetest.NewServer(workspacetest.Config{})
//	defer srv.Close()
//	bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
package workspacetest

import (
	"bytes"
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

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// Defaults of a zero [Config].
const (
	DefaultAPIKey     = "sk-workspace_test_0123456789"
	DefaultChatbotID  = "cm5bot_test"
	DefaultRateLimit  = 1000
	DefaultRateWindow = time.Hour
)

// Format is the Server-Sent Events shape the server streams replies in.
type Format string

// The event formats the server can stream.
const (
	// FormatTypeContent sends {"type":"content","content":…} events, then
	// {"type":"done",…} and "[DONE]". It is the default.
	FormatTypeContent Format = "type-content"
	// FormatAISDK sends the AI SDK / Chatbase shape: {"type":"start"},
	// {"type":"text-delta","delta":…}, {"type":"finish"}, "[DONE]".
	FormatAISDK Format = "ai-sdk"
	// FormatDify sends {"event":"message","answer":…} events, then
	// {"event":"message_end"}.
	FormatDify Format = "dify"
	// FormatFlowise sends "event: token" with plain-text data, an
	// "event: metadata" with the ids, then "event: end".
	FormatFlowise Format = "flowise"
	// FormatOpenAI sends {"choices":[{"delta":{"content":…}}]} events, then
	// "[DONE]".
	FormatOpenAI Format = "openai"
)

// Config configures [NewServer]. The zero value is usable: every field has a
// default.
type Config struct {
	APIKey     string        // the only key accepted; default DefaultAPIKey
	ChatbotID  string        // the only chatbot; default DefaultChatbotID
	Format     Format        // event format; default FormatTypeContent
	RateLimit  int           // requests allowed per sliding window; default DefaultRateLimit
	RateWindow time.Duration // the sliding window; default DefaultRateWindow
	// StreamByDefault is the chatbot's own streaming preference, applied
	// when a chat request omits "stream".
	StreamByDefault bool
	// Clock is the time of the sliding window, of X-RateLimit-Reset and of
	// lead timestamps; nil means the real clock. A [fakes.ManualClock] lets
	// a test fill the window and slide it without waiting.
	Clock fakes.Clock
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it as workspace documents its errors: the
// status, {"success":false,"error":Message,"code":Code,"retryAfter":…}, the
// X-RateLimit-* headers and, when RetryAfter is set, Retry-After. A 429
// without a Code gets "RATE_LIMIT_EXCEEDED".
type Failure = fakes.Failure

// Server is a running fake. Its setters may be called at any time, from any
// goroutine; they apply to the requests that follow. Close it when done.
type Server struct {
	// URL is the base URL of the server, for chatbot.WithBaseURL.
	URL string

	srv *fake.Server
	cfg Config

	window *fake.Window

	mu        sync.Mutex
	format    Format
	convs     map[string][]string
	ids       int
	leads     map[string]map[string]any
	leadOrder []string
	streamErr *[2]string // code, message of a scripted error event
	crlf      bool
}

// NewServer starts a fake server configured by cfg. The caller must call
// [Server.Close].
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.ChatbotID == "" {
		cfg.ChatbotID = DefaultChatbotID
	}
	if cfg.Format == "" {
		cfg.Format = FormatTypeContent
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	s := &Server{
		cfg: cfg, window: fake.NewWindow(cfg.RateLimit, cfg.RateWindow), format: cfg.Format,
		convs: make(map[string][]string), leads: make(map[string]map[string]any),
	}
	s.srv = fake.NewServerWithClock(http.HandlerFunc(s.serve), cfg.Clock)
	s.URL = s.srv.URL
	return s
}

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the key the server accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// ChatbotID returns the id of the server's chatbot.
func (s *Server) ChatbotID() string { return s.cfg.ChatbotID }

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

// Messages returns the user messages received in a conversation, in order,
// or nil for an unknown conversation.
func (s *Server) Messages(conversationID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.convs[conversationID])
}

// SetReply makes every chat reply the concatenation of parts, streamed one
// event per part. With no parts the server echoes: "You said: <message>",
// streamed word by word. It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every chat reply fn(message), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with 429
// RATE_LIMIT_EXCEEDED, asking to wait retryAfter ("retryAfter" in the body
// and Retry-After, in whole seconds; neither when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// SetPace makes the server wait d (or until the client goes away) between
// the events of a stream, and between the writes of [Server.SplitWrites].
func (s *Server) SetPace(d time.Duration) { s.srv.SetPace(d) }

// SplitWrites makes the server write and flush reply bodies in pieces of at
// most size bytes (0: whole events), and also cut them at each of the given
// absolute byte offsets, which may fall inside an event or a character.
func (s *Server) SplitWrites(size int, offsets ...int) { s.srv.SplitWrites(size, offsets...) }

// CutAfter makes replies abort their connection once n body bytes have been
// written, without ending the body properly (0: never).
func (s *Server) CutAfter(n int) { s.srv.CutAfter(n) }

// StallAfter makes replies stop after n events (0: right after the
// headers; for a JSON answer, 0 before the body and any other n after it)
// and wait, signalling [Server.Stalled], until their client goes away or
// the server is closed. A negative n, the default, turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// SetFormat sets the event format of the streams that follow.
func (s *Server) SetFormat(f Format) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.format = f
}

// SetRateLimit resets the sliding-window limiter to size requests per window.
func (s *Server) SetRateLimit(size int, window time.Duration) { s.window.Set(size, window) }

// FailStream makes streams end with an error event carrying code and
// message after the reply's text, instead of their end marker. An empty
// code and message turn this off.
func (s *Server) FailStream(code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamErr = nil
	if code != "" || message != "" {
		s.streamErr = &[2]string{code, message}
	}
}

// SetCRLF makes streams end their lines with CRLF instead of LF.
func (s *Server) SetCRLF(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crlf = on
}

// AddLead stores a lead with the given fields and returns its id (fields'
// "id" if set, else a generated one).
func (s *Server) AddLead(fields map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLeadLocked(fields)
}

func (s *Server) addLeadLocked(fields map[string]any) string {
	l := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		l[k] = v
	}
	id, _ := l["id"].(string)
	if id == "" {
		s.ids++
		id = fmt.Sprintf("lead_%04d", s.ids)
		l["id"] = id
	}
	now := s.srv.Now().UTC().Format(time.RFC3339Nano)
	if _, ok := l["createdAt"]; !ok {
		l["createdAt"] = now
	}
	l["updatedAt"] = now
	l["workspaceId"] = "ws_test"
	if _, ok := s.leads[id]; !ok {
		s.leadOrder = append(s.leadOrder, id)
	}
	s.leads[id] = l
	return id
}

// errorBody is the documented error shape.
type errorBody struct {
	Success    bool   `json:"success"`
	Error      string `json:"error"`
	Code       string `json:"code"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	fake.WriteJSON(w, status, errorBody{Error: msg, Code: code})
}

// rateLimited is the message of workspace's 429.
const rateLimited = "Rate limit exceeded. Please wait before sending another message."

// writeFailure answers f in workspace's error format.
func (s *Server) writeFailure(w http.ResponseWriter, f Failure) {
	s.rateHeaders(w.Header())
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	if f.Body != "" {
		fake.WriteBody(w, status, f.Body)
		return
	}
	code, msg := f.Code, f.Message
	if status == http.StatusTooManyRequests {
		code = cmp.Or(code, "RATE_LIMIT_EXCEEDED")
		msg = cmp.Or(msg, rateLimited)
	}
	fake.WriteJSON(w, status, errorBody{Error: cmp.Or(msg, http.StatusText(status)), Code: code, RetryAfter: f.RetryAfterSeconds()})
}

// serve runs the checks every endpoint shares, then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.srv.Intercept(w, r, s.writeFailure) {
		return
	}
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+s.cfg.APIKey {
		s.rateHeaders(w.Header())
	}
	switch {
	case auth == "":
		writeError(w, http.StatusUnauthorized, "MISSING_AUTH_HEADER", "Missing authorization header")
		return
	case auth != "Bearer "+s.cfg.APIKey:
		writeError(w, http.StatusUnauthorized, "INVALID_API_KEY", "Invalid or inactive API key")
		return
	}
	if ra, ok := s.admit(w.Header()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		fake.WriteJSON(w, http.StatusTooManyRequests, errorBody{Error: rateLimited, Code: "RATE_LIMIT_EXCEEDED", RetryAfter: ra})
		return
	}

	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1"), "/"), "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	if len(segs) < 3 || segs[0] != "chatbots" {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "No such endpoint")
		return
	}
	if segs[1] != s.cfg.ChatbotID {
		writeError(w, http.StatusNotFound, "CHATBOT_NOT_FOUND", "Chatbot not found or access denied")
		return
	}
	switch {
	case len(segs) == 3 && segs[2] == "chat" && r.Method == http.MethodPost:
		s.chat(w, r)
	case len(segs) == 3 && segs[2] == "leads":
		s.leadsCollection(w, r)
	case len(segs) == 4 && segs[2] == "leads":
		s.lead(w, r, segs[3])
	default:
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method or endpoint not supported")
	}
}

// admit runs the sliding-window limiter for one request, sets the
// X-RateLimit-* headers, and on refusal returns the seconds to wait.
func (s *Server) admit(h http.Header) (int, bool) {
	wait, ok := s.window.Admit(s.srv.Now())
	s.rateHeaders(h)
	return max(1, int(math.Ceil(wait.Seconds()))), ok
}

// rateHeaders sets X-RateLimit-Limit, -Remaining, -Used and -Reset (unix
// seconds when the oldest request in the window leaves it).
func (s *Server) rateHeaders(h http.Header) {
	limit, used, reset := s.window.State(s.srv.Now())
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixMilli())/1000)), 10))
}

// chatBody is the chat request as the server reads it.
type chatBody struct {
	Message        *string        `json:"message"`
	ConversationID string         `json:"conversationId"`
	Stream         *bool          `json:"stream"`
	Metadata       map[string]any `json:"metadata"`
}

// shape is what a reply's events depend on, copied under the lock.
type shape struct {
	format    Format
	parts     []string
	streamErr *[2]string
	crlf      bool
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var body chatBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "Invalid JSON body")
		return
	}
	if body.Message == nil || strings.TrimSpace(*body.Message) == "" {
		writeError(w, http.StatusBadRequest, "REQUEST_VALIDATION_FAILED", "message is required")
		return
	}
	s.mu.Lock()
	conv := body.ConversationID
	if conv == "" {
		s.ids++
		conv = fmt.Sprintf("cm5conv%04d", s.ids)
	} else if _, ok := s.convs[conv]; !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "CONVERSATION_NOT_FOUND", "Conversation not found")
		return
	}
	s.convs[conv] = append(s.convs[conv], *body.Message)
	s.ids++
	msgID := fmt.Sprintf("cm5msg%04d", s.ids)
	sh := shape{format: s.format, streamErr: s.streamErr, crlf: s.crlf}
	s.mu.Unlock()
	parts, ok := s.srv.Reply(*body.Message)
	if !ok {
		parts = fake.Words("You said: " + *body.Message)
	}
	sh.parts = parts
	streaming := s.cfg.StreamByDefault
	if body.Stream != nil {
		streaming = *body.Stream
	}
	out := s.srv.Output(w, r)
	if !streaming {
		b, _ := json.Marshal(map[string]any{"success": true, "data": map[string]string{
			"response": strings.Join(sh.parts, ""), "conversationId": conv, "messageId": msgID}})
		out.JSON(b)
		return
	}
	if !out.StartEvents() {
		return
	}
	for _, ev := range events(sh, conv, msgID) {
		if !out.Piece(ev) {
			return
		}
	}
}

// events renders the reply as Server-Sent Events in the chosen format.
func events(sh shape, conv, msgID string) [][]byte {
	var out [][]byte
	data := func(v any) {
		b, _ := json.Marshal(v)
		out = append(out, []byte("data: "+string(b)+"\n\n"))
	}
	raw := func(name, text string) {
		var b strings.Builder
		if name != "" {
			b.WriteString("event: " + name + "\n")
		}
		for line := range strings.SplitSeq(text, "\n") {
			b.WriteString("data: " + line + "\n")
		}
		b.WriteString("\n")
		out = append(out, []byte(b.String()))
	}
	type m = map[string]any
	if sh.format == FormatAISDK {
		data(m{"type": "start", "messageId": msgID, "conversationId": conv})
	}
	for _, p := range sh.parts {
		switch sh.format {
		case FormatAISDK:
			data(m{"type": "text-delta", "id": "0", "delta": p})
		case FormatDify:
			data(m{"event": "message", "answer": p, "conversation_id": conv, "message_id": msgID})
		case FormatFlowise:
			raw("token", p)
		case FormatOpenAI:
			data(m{"id": "chatcmpl-" + msgID, "message_id": msgID, "conversation_id": conv,
				"choices": []m{{"index": 0, "delta": m{"content": p}}}})
		default:
			data(m{"type": "content", "content": p, "conversationId": conv, "messageId": msgID})
		}
	}
	if e := sh.streamErr; e != nil {
		switch sh.format {
		case FormatDify:
			data(m{"event": "error", "code": e[0], "message": e[1]})
		case FormatFlowise:
			raw("error", e[1])
		default:
			data(m{"type": "error", "code": e[0], "error": e[1]})
		}
	} else {
		switch sh.format {
		case FormatAISDK:
			data(m{"type": "finish"})
			raw("", "[DONE]")
		case FormatDify:
			data(m{"event": "message_end", "conversation_id": conv, "message_id": msgID})
		case FormatFlowise:
			data(m{"conversationId": conv, "messageId": msgID})
			out[len(out)-1] = append([]byte("event: metadata\n"), out[len(out)-1]...)
			raw("end", "[DONE]")
		case FormatOpenAI:
			raw("", "[DONE]")
		default:
			data(m{"type": "done", "conversationId": conv, "messageId": msgID})
			raw("", "[DONE]")
		}
	}
	if sh.crlf {
		for i, ev := range out {
			out[i] = bytes.ReplaceAll(ev, []byte("\n"), []byte("\r\n"))
		}
	}
	return out
}
