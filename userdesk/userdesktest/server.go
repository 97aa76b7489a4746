// Package userdesktest provides a fake Userdesk server for tests, in the way
// of net/http/httptest: it checks the API key, creates and keeps
// conversations, answers messages with JSON or with a raw text stream, and
// records every request. Setters script how it answers: write sizes (down to
// one byte, which splits multi-byte characters) and delays, a status with a
// chosen (or empty) body, a stream cut after some bytes, or a stall.
//
// A Server is safe for concurrent use by many clients.
package userdesktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot/internal/fake"
)

// Defaults used by [NewServer] for a zero [Config].
const (
	DefaultAPIKey    = "ud-test-key"
	DefaultChatbotID = "bot-1"
)

// Config configures a [Server]. The zero value is ready to use.
type Config struct {
	APIKey    string // the only key accepted; default DefaultAPIKey
	ChatbotID string // the only chatbot that exists; default DefaultChatbotID
	Welcome   string // the welcome message of new conversations; default empty
}

// Behaviour shapes how a [Server] writes its answers to messages. The zero
// value writes every answer at once, without delay.
type Behaviour struct {
	// WriteSize splits the body into writes of at most this many bytes,
	// each flushed on its own (0: one write). 1 splits multi-byte characters.
	WriteSize int
	// Delay waits between writes.
	Delay time.Duration
	// CutAfter aborts the connection, without ending the chunked body, once
	// this many body bytes have been written (0: never).
	CutAfter int
	// Stall stops writing after StallAfter body bytes (the headers are always
	// sent) and waits until the client goes away.
	Stall      bool
	StallAfter int
	// ConversationHeader, when set, names a response header (such as
	// "X-Conversation-Id") that carries the conversation id on streamed
	// answers.
	ConversationHeader string
	// JSONStream answers requests with "stream": true with the JSON envelope,
	// as if streaming had not been asked for.
	JSONStream bool
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // the escaped path, as sent, such as "/v1/chatbot/bot-1/message"
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the request body into a map, or returns nil when the body is
// not a JSON object.
func (r Request) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// Conversation is the server's record of one conversation.
type Conversation struct {
	ID        string
	UserName  string
	UserEmail string
	Messages  []string // the user's messages, in order
}

// Server is a running fake Userdesk API on a loopback address. Create it
// with [NewServer] and stop it with [Server.Close]. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL to pass to chatbot.WithBaseURL; it ends in "/v1/"
	// like the real one.
	URL string

	srv       *fake.Server
	apiKey    string
	chatbotID string
	welcome   string

	mu        sync.Mutex
	behaviour Behaviour
	reply     string // "" echoes the message
	failTimes int
	failCode  int
	failBody  string
	convs     map[string]*Conversation
	nextID    int
}

// NewServer starts a fake Userdesk server configured by cfg. Close it when
// done, for example with t.Cleanup(srv.Close).
//
// The server answers POST /v1/chatbot/{chatbotId}/message and
// /v1/chatbot/{chatbotId}/conversation as Userdesk documents them. A missing
// or wrong key gets 401 and another chatbot id 403, both with an empty body
// (Userdesk documents no error bodies); a malformed request or an unknown
// conversation id gets 400 with {"success": false, "message": "…"}.
// Conversation ids are "conv-1", "conv-2", … in order of creation. Replies
// are "You said: <message>" unless [Server.SetReply] says otherwise.
func NewServer(cfg Config) *Server {
	s := &Server{
		apiKey:    cfg.APIKey,
		chatbotID: cfg.ChatbotID,
		welcome:   cfg.Welcome,
		convs:     make(map[string]*Conversation),
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	if s.chatbotID == "" {
		s.chatbotID = DefaultChatbotID
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chatbot/{chatbotID}/message", s.message)
	mux.HandleFunc("POST /v1/chatbot/{chatbotID}/conversation", s.conversation)
	s.srv = fake.NewServer(s.guard(mux))
	s.URL = s.srv.URL + "/v1/"
	return s
}

// Close shuts the server down, closing any connection still open (which
// also ends stalled answers).
func (s *Server) Close() {
	s.srv.Close()
}

// APIKey returns the only key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// ChatbotID returns the id of the server's chatbot; requests for any other
// chatbot get 403.
func (s *Server) ChatbotID() string { return s.chatbotID }

// SetBehaviour sets how answers to messages are written from now on.
func (s *Server) SetBehaviour(b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviour = b
}

// SetReply makes every reply text; "" restores the default echo
// "You said: <message>".
func (s *Server) SetReply(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = text
}

// Fail answers the next times requests, whatever they are, with status and
// body (which may be empty). A body starting with "{" is sent as
// application/json; another non-empty body with the type
// http.DetectContentType finds (text/html for an HTML page).
func (s *Server) Fail(status int, body string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failBody, s.failTimes = status, body, times
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request {
	reqs := s.srv.Requests()
	out := make([]Request, len(reqs))
	for i, r := range reqs {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, Body: r.Body}
	}
	return out
}

// Count returns how many requests have been received.
func (s *Server) Count() int { return s.srv.Count() }

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int { return s.srv.Connections() }

// Disconnects receives a value each time a handler returns after its client
// went away: the server's own observation of an early break, a cancelled
// call or a stall ended by the client.
func (s *Server) Disconnects() <-chan struct{} { return s.srv.Disconnects() }

// Conversation returns a copy of the conversation id, and whether it exists.
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[id]
	if !ok {
		return Conversation{}, false
	}
	cp := *c
	cp.Messages = append([]string(nil), c.Messages...)
	return cp, true
}

// Conversations returns how many conversations exist.
func (s *Server) Conversations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}

// guard applies a scripted failure, then checks the key.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		failing := s.failTimes > 0
		code, body := s.failCode, s.failBody
		if failing {
			s.failTimes--
		}
		s.mu.Unlock()
		if failing {
			writeRaw(w, code, body)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	switch {
	case strings.HasPrefix(body, "{"):
		w.Header().Set("Content-Type", "application/json")
	case body != "":
		w.Header().Set("Content-Type", http.DetectContentType([]byte(body)))
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]any{"success": false, "message": msg})
	writeRaw(w, status, string(b))
}

// envelope is Userdesk's JSON answer.
type envelope struct {
	Success        bool   `json:"success"`
	ConversationID string `json:"conversationId"`
	Response       string `json:"response"`
}

func (s *Server) conversation(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("chatbotID") != s.chatbotID {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var in struct {
		UserName  string `json:"userName"`
		UserEmail string `json:"userEmail"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, "The request was malformed")
		return
	}
	s.mu.Lock()
	c := s.newConversation(in.UserName, in.UserEmail)
	s.mu.Unlock()
	b, _ := json.Marshal(envelope{Success: true, ConversationID: c.ID, Response: s.welcome})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// newConversation creates a conversation; s.mu must be held.
func (s *Server) newConversation(name, email string) *Conversation {
	s.nextID++
	c := &Conversation{ID: fmt.Sprintf("conv-%d", s.nextID), UserName: name, UserEmail: email}
	s.convs[c.ID] = c
	return c
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("chatbotID") != s.chatbotID {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	var in struct {
		Message        string `json:"message"`
		Stream         bool   `json:"stream"`
		ConversationID string `json:"conversationId"`
		UserName       string `json:"userName"`
		UserEmail      string `json:"userEmail"`
	}
	if err := decodeBody(r, &in); err != nil || in.Message == "" {
		writeError(w, http.StatusBadRequest, "The request was malformed or missing required fields")
		return
	}
	s.mu.Lock()
	var c *Conversation
	if in.ConversationID == "" {
		c = s.newConversation(in.UserName, in.UserEmail)
	} else if c = s.convs[in.ConversationID]; c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "The conversationId is not valid")
		return
	}
	c.Messages = append(c.Messages, in.Message)
	convID, reply, b := c.ID, s.reply, s.behaviour
	s.mu.Unlock()
	if reply == "" {
		reply = "You said: " + in.Message
	}

	if in.Stream && !b.JSONStream {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if b.ConversationHeader != "" {
			w.Header().Set(b.ConversationHeader, convID)
		}
		b.write(r.Context(), w, []byte(reply))
		return
	}
	body, _ := json.Marshal(envelope{Success: true, ConversationID: convID, Response: reply})
	w.Header().Set("Content-Type", "application/json")
	b.write(r.Context(), w, body)
}

func decodeBody(r *http.Request, v any) error {
	err := json.NewDecoder(r.Body).Decode(v)
	if errors.Is(err, io.EOF) {
		return nil // an empty body is an empty object
	}
	return err
}

// write sends p as b says: split, delayed, cut or stalled.
func (b Behaviour) write(ctx context.Context, w http.ResponseWriter, p []byte) {
	wr := fake.Writer{WriteSize: b.WriteSize, Delay: b.Delay, CutAfter: b.CutAfter}
	written := 0
	if !b.Stall {
		wr.Write(ctx, w, &written, p)
		return
	}
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if !wr.Write(ctx, w, &written, p[:min(b.StallAfter, len(p))]) {
		return
	}
	<-ctx.Done()
}
