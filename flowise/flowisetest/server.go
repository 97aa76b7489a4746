// Package flowisetest provides a fake Flowise server for tests, in the
// manner of net/http/httptest: [NewServer] starts a loopback server that
// speaks the prediction API of package flowise (keyed and public flows, the
// token stream Flowise's SSEStreamer writes, its JSON errors and its
// plain-text 429), records what it receives, and can be scripted to fail,
// throttle, stall, cut or split its replies, and to break streams the way
// Flowise Cloud has been reported to. It speaks the vocabulary every
// provider fake shares (see package [fakes]): SetReply, SetAnswer, FailNext,
// RateLimitNext, StallNext, Requests, Connections, Disconnects; shapes its
// streams with SetPace, SplitWrites, CutAfter and StallAfter; and scripts
// the sources of its replies with SetSources, the setter chatbottest.Run's
// checks use.
//
//	srv := flowisetest.NewServer(flowisetest.Config{})
//	defer srv.Close()
//	bot, err := flowise.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
package flowisetest

import (
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
)

// Defaults of a zero [Config].
const (
	DefaultAPIKey    = "flowise-test-key_0123456789abcdef"
	DefaultChatbotID = "5b8f2c1e-7a34-4d9e-a1c6-3e2f0b9d8c71"
)

// RateLimitMessage is the body of the server's 429 when the [Failure] has
// no Message: the default "limit message" of Flowise's per-flow limiter
// (express-rate-limit's).
const RateLimitMessage = "Too many requests, please try again later."

// Config configures [NewServer]. The zero value is usable: a keyed flow
// that streams.
type Config struct {
	// APIKey is the flow's key; default DefaultAPIKey. Ignored when Public.
	APIKey string

	// Public makes the flow keyless, as a Flowise flow without an API key
	// assigned is: every request is served, with or without an
	// Authorization header, and [Server.APIKey] is empty.
	Public bool

	// ChatbotID is the flow's id (chatflowId); default DefaultChatbotID.
	ChatbotID string

	// NoStreaming makes the flow one that cannot stream (Flowise's
	// chatflows-streaming check says no): a streaming request gets the JSON
	// answer, as Flowise sends it then.
	NoStreaming bool

	// Clock is the time of the server; nil means the real clock.
	Clock fakes.Clock
}

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). The server writes it as Flowise does: the status and
// {"statusCode":…,"success":false,"message":Message,"stack":{}}, except a
// 429, whose body is Message as plain text (default [RateLimitMessage]),
// typed text/html as Express sends a string. Code is unused: Flowise's
// errors carry none. RetryAfter, when set, is sent as Retry-After.
type Failure = fakes.Failure

// Break is a way the server can break a stream (see [Server.BreakNext]).
type Break int

// The broken streams Flowise Cloud has been reported to send
// (FlowiseAI/Flowise #5193, #5253) while the same request without
// streaming works.
const (
	// BreakMetadataOnly streams only the "metadata" and "end" events: no
	// token at all.
	BreakMetadataOnly Break = iota + 1
	// BreakEmptyBody answers 200 text/event-stream with an empty body.
	BreakEmptyBody
)

// Server is a running fake. Its setters may be called at any time, from any
// goroutine; they apply to the requests that follow. Close it when done.
type Server struct {
	// URL is the base URL of the server, for chatbot.WithBaseURL.
	URL string

	srv *fake.Server
	cfg Config

	mu        sync.Mutex
	ids       int
	chats     map[string][]string // chatId → questions received
	docs      []map[string]any
	tools     []map[string]any
	followUps []string
	breakN    int
	brk       Break
	streamErr string
	crlf      bool
}

// NewServer starts a fake server configured by cfg. The caller must call
// [Server.Close].
func NewServer(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.Public {
		cfg.APIKey = ""
	}
	if cfg.ChatbotID == "" {
		cfg.ChatbotID = DefaultChatbotID
	}
	s := &Server{cfg: cfg, chats: make(map[string][]string)}
	s.srv = fake.NewServerWithClock(http.HandlerFunc(s.serve), cfg.Clock)
	s.URL = s.srv.URL
	return s
}

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the key the flow accepts; empty for a public flow.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// ChatbotID returns the flow's id (the chatflowId).
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

// Messages returns the questions received in a chat, in order, or nil for
// a chat id the server has not seen.
func (s *Server) Messages(chatID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chats[chatID])
}

// SetReply makes every answer the concatenation of parts, streamed one
// token event per part. With no parts the server echoes: "You said:
// <question>", streamed word by word. It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every answer fn(question), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(question string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail as a flow's rate limiter
// does: 429 with [RateLimitMessage] as plain text, and Retry-After in whole
// seconds when retryAfter is positive (Flowise's limiter always sends one:
// pass the window's remaining time to mimic it, 0 to test a 429 without).
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
// headers; the "start" event goes with the first token, so n counts
// tokens; for a JSON answer, 0 before the body and any other n after it)
// and wait, signalling [Server.Stalled], until their client goes away or
// the server is closed. A negative n, the default, turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// SetSourceDocuments makes every answer carry these source documents
// (LangChain documents: "pageContent" and "metadata"), in
// "sourceDocuments" and in a stream's "sourceDocuments" event. None turns
// them off.
func (s *Server) SetSourceDocuments(docs ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs = slices.Clone(docs)
}

// SetSources makes every answer carry these sources as Flowise's source
// documents (see [Server.SetSourceDocuments]): each source's Snippet is the
// "pageContent", and its ID, URL and Title are the metadata's "id",
// "source" and "title" (a LangChain document has no score). It replaces
// [Server.SetSourceDocuments]; no sources turns them off.
func (s *Server) SetSources(sources ...chatbot.Source) {
	docs := make([]map[string]any, len(sources))
	for i, src := range sources {
		meta := map[string]any{}
		for k, v := range map[string]string{"id": src.ID, "source": src.URL, "title": src.Title} {
			if v != "" {
				meta[k] = v
			}
		}
		docs[i] = map[string]any{"pageContent": src.Snippet, "metadata": meta}
	}
	s.SetSourceDocuments(docs...)
}

// SetUsedTools makes every answer carry these tool calls ("tool",
// "toolInput", "toolOutput"), in "usedTools" and in a stream's "usedTools"
// event. None turns them off.
func (s *Server) SetUsedTools(tools ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tools = slices.Clone(tools)
}

// SetFollowUpPrompts makes every answer suggest these follow-up questions,
// encoded as Flowise encodes them: "followUpPrompts" in a JSON answer is a
// string holding the JSON string of the list (encoded twice, as
// buildChatflow does), and the stream's metadata event carries the list's
// JSON string. None turns them off.
func (s *Server) SetFollowUpPrompts(prompts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followUps = slices.Clone(prompts)
}

// BreakNext makes the next n streaming requests answer the broken stream
// b; n = 0 stops it. Requests without streaming are served normally.
func (s *Server) BreakNext(n int, b Break) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breakN, s.brk = n, b
}

// FailStream makes streams send an "error" event carrying message after
// the answer's tokens, then "end", as Flowise does when a flow fails
// mid-run. An empty message turns it off.
func (s *Server) FailStream(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamErr = message
}

// SetCRLF makes streams end their lines with CRLF instead of LF, as a
// proxy in front of Flowise may.
func (s *Server) SetCRLF(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crlf = on
}

// errorBody is Flowise's error shape (middlewares/errors).
type errorBody struct {
	StatusCode int      `json:"statusCode"`
	Success    bool     `json:"success"`
	Message    string   `json:"message"`
	Stack      struct{} `json:"stack"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{StatusCode: status, Message: msg})
}

// writeFailure answers f in Flowise's error format.
func (s *Server) writeFailure(w http.ResponseWriter, f Failure) {
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	switch {
	case f.Body != "":
		fake.WriteBody(w, status, f.Body)
	case status == http.StatusTooManyRequests:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(cmp.Or(f.Message, RateLimitMessage)))
	default:
		writeError(w, status, cmp.Or(f.Message, http.StatusText(status)))
	}
}

// serve routes api/v1/prediction/{id} and api/v1/chatflows-streaming/{id}.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.srv.Intercept(w, r, s.writeFailure) {
		return
	}
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	if len(segs) != 4 || segs[0] != "api" || segs[1] != "v1" {
		writeError(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
		return
	}
	switch {
	case segs[2] == "prediction" && r.Method == http.MethodPost:
		s.predict(w, r, segs[3])
	case segs[2] == "chatflows-streaming" && r.Method == http.MethodGet:
		if segs[3] != s.cfg.ChatbotID {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Chatflow %s not found", segs[3]))
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"isStreaming": !s.cfg.NoStreaming})
	default:
		writeError(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
	}
}

// predictBody is the prediction request as the server reads it.
type predictBody struct {
	Question       *string        `json:"question"`
	Streaming      any            `json:"streaming"` // Flowise accepts true and "true"
	ChatID         string         `json:"chatId"`
	OverrideConfig map[string]any `json:"overrideConfig"`
}

// answer is what one reply is made of, copied under the lock.
type answer struct {
	parts     []string
	chatID    string
	msgID     string
	sessionID string
	question  string
	docs      []map[string]any
	tools     []map[string]any
	followUps []string
	streamErr string
	brk       Break
	crlf      bool
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request, flowID string) {
	if flowID != s.cfg.ChatbotID {
		// Flowise answers an unknown flow before the stream starts, and
		// only for a request without streaming: a streaming one is never
		// answered. The fake answers both, so that tests end.
		writeError(w, http.StatusNotFound, fmt.Sprintf("Chatflow %s not found", flowID))
		return
	}
	var body predictBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusPreconditionFailed, "Error: predictionsController.createPrediction - body not provided!")
		return
	}
	streaming := (body.Streaming == true || body.Streaming == "true") && !s.cfg.NoStreaming
	keyOK := s.cfg.Public || r.Header.Get("Authorization") == "Bearer "+s.cfg.APIKey
	if !keyOK && !streaming {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if body.Question == nil || strings.TrimSpace(*body.Question) == "" {
		writeError(w, http.StatusInternalServerError, "Error: question is required")
		return
	}
	a := s.answerFor(*body.Question, body, streaming, keyOK)
	if !streaming {
		s.writeJSONAnswer(w, r, a)
		return
	}
	if !keyOK {
		// Flowise checks the key after the stream has started: the refusal
		// is an error event in a 200 stream.
		a.parts, a.streamErr, a.docs, a.tools, a.followUps = nil, "Unauthorized", nil, nil, nil
	}
	w.Header().Set("X-Accel-Buffering", "no")
	out := s.srv.Output(w, r)
	if !out.StartEvents() {
		return
	}
	for _, ev := range events(a) {
		if !out.Piece(ev) {
			return
		}
	}
}

// answerFor records the question and builds its answer.
func (s *Server) answerFor(question string, body predictBody, streaming, keyOK bool) answer {
	s.mu.Lock()
	chatID := body.ChatID
	if chatID == "" {
		s.ids++
		chatID = fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", s.ids)
	}
	if keyOK {
		s.chats[chatID] = append(s.chats[chatID], question)
	}
	s.ids++
	a := answer{
		chatID: chatID, msgID: fmt.Sprintf("7e57da7a-0000-4000-8000-%012d", s.ids), question: question,
		docs: s.docs, tools: s.tools, followUps: s.followUps, streamErr: s.streamErr, crlf: s.crlf,
	}
	a.sessionID, _ = body.OverrideConfig["sessionId"].(string)
	if streaming && s.breakN > 0 {
		s.breakN--
		a.brk = s.brk
	}
	s.mu.Unlock()
	parts, ok := s.srv.Reply(question)
	if !ok {
		parts = fake.Words("You said: " + question)
	}
	a.parts = parts
	return a
}

// writeJSONAnswer writes the answer of a request without streaming.
func (s *Server) writeJSONAnswer(w http.ResponseWriter, r *http.Request, a answer) {
	m := map[string]any{
		"text": strings.Join(a.parts, ""), "question": a.question, "chatId": a.chatID,
		"chatMessageId": a.msgID, "isStreamValid": false, "sessionId": cmp.Or(a.sessionID, a.chatID),
	}
	if len(a.docs) > 0 {
		m["sourceDocuments"] = a.docs
	}
	if len(a.tools) > 0 {
		m["usedTools"] = a.tools
	}
	if len(a.followUps) > 0 {
		m["followUpPrompts"] = jsJSON(jsJSON(a.followUps)) // a string holding a JSON string
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	out := s.srv.Output(w, r)
	if out.Start(http.StatusOK) {
		out.Piece(b)
	}
}

// events renders the answer as Flowise's SSEStreamer writes it:
// "message:\ndata:" + JSON + "\n\n" per event, the first token also sent
// as "start", then source documents and used tools, the metadata, and
// "end".
func events(a answer) [][]byte {
	if a.brk == BreakEmptyBody {
		return nil
	}
	var out [][]byte
	ev := func(event string, data any) {
		line := "message:\ndata:" + jsJSON(struct {
			Event string `json:"event"`
			Data  any    `json:"data"`
		}{event, data}) + "\n\n"
		if a.crlf {
			line = strings.ReplaceAll(line, "\n", "\r\n")
		}
		out = append(out, []byte(line))
	}
	if a.brk != BreakMetadataOnly {
		for i, p := range a.parts {
			ev("token", p)
			if i == 0 {
				// SSEStreamer writes "start" and the first token one after
				// the other, synchronously: one piece, so that a stall
				// after n pieces holds the reply after n tokens.
				token := out[len(out)-1]
				ev("start", p)
				out = append(out[:len(out)-2], append(out[len(out)-1], token...))
			}
		}
		if len(a.docs) > 0 {
			ev("sourceDocuments", a.docs)
		}
		if len(a.tools) > 0 {
			ev("usedTools", a.tools)
		}
	}
	if a.streamErr != "" {
		ev("error", a.streamErr)
	} else {
		meta := metadata{ChatID: a.chatID, ChatMessageID: a.msgID, Question: a.question, SessionID: cmp.Or(a.sessionID, a.chatID)}
		if len(a.followUps) > 0 {
			meta.FollowUpPrompts = jsJSON(a.followUps)
		}
		ev("metadata", meta)
	}
	ev("end", "[DONE]")
	return out
}

// metadata is the data of the "metadata" event, its fields in the order
// SSEStreamer.streamMetadataEvent sets them.
type metadata struct {
	ChatID          string `json:"chatId,omitempty"`
	ChatMessageID   string `json:"chatMessageId,omitempty"`
	Question        string `json:"question,omitempty"`
	SessionID       string `json:"sessionId,omitempty"`
	FollowUpPrompts string `json:"followUpPrompts,omitempty"`
}

// jsJSON returns v's JSON as JavaScript's JSON.stringify writes it: without
// escaping <, > and &.
func jsJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
