// Package userdesktest provides a fake Userdesk server for tests, in the way
// of net/http/httptest: it checks the API key, creates and keeps
// conversations, answers messages with JSON or with a raw text stream, and
// records every request. It speaks the vocabulary every provider fake shares
// (see package [fakes]): SetReply, SetAnswer, FailNext, RateLimitNext,
// StallNext, Requests, Connections, Disconnects; and shapes its text streams
// with SetPace, SplitWrites (down to one byte, which splits multi-byte
// characters), CutAfter and StallAfter.
//
//	srv := userdesktest.NewServer(userdesktest.Config{})
//	defer srv.Close()
//	bot, err := userdesk.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
//
// A Server is safe for concurrent use by many clients.
package userdesktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
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

// Request is one request the server received (the record every provider
// fake shares).
type Request = fakes.Request

// Failure is an error answer for [Server.FailNext] (the type every provider
// fake shares). Userdesk documents no error bodies, so the server sends
// Body verbatim when set, else {"success":false,"message":Message} when a
// Message is set, else an empty body; Code is not sent. RetryAfter is sent
// as Retry-After.
type Failure = fakes.Failure

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

	mu         sync.Mutex
	convHeader string
	jsonStream bool
	convs      map[string]*Conversation
	nextID     int
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
// are "You said: <message>", streamed word by word, unless
// [Server.SetReply] or [Server.SetAnswer] says otherwise.
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

// Close ends held requests (stalls, paced replies), then shuts the server
// down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the only key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// ChatbotID returns the id of the server's chatbot; requests for any other
// chatbot get 403.
func (s *Server) ChatbotID() string { return s.chatbotID }

// SetReply makes every reply the concatenation of parts, streamed one write
// per part. With no parts the server echoes "You said: <message>", streamed
// word by word. It replaces [Server.SetAnswer].
func (s *Server) SetReply(parts ...string) { s.srv.SetReply(parts...) }

// SetAnswer makes every reply fn(message), streamed word by word; nil
// restores the echo. fn runs without the server's lock held and must be
// safe for concurrent use. It replaces [Server.SetReply].
func (s *Server) SetAnswer(fn func(message string) string) { s.srv.SetAnswer(fn) }

// FailNext makes the next n requests, whatever their endpoint, answer f
// without being served (n = 0 stops it).
func (s *Server) FailNext(n int, f Failure) { s.srv.FailNext(n, f) }

// RateLimitNext makes the next n requests fail with 429 and an empty body,
// with Retry-After: retryAfter in whole seconds (none when 0).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) { s.srv.RateLimitNext(n, retryAfter) }

// StallNext makes the next n requests wait, sending nothing, until their
// client goes away or the server is closed.
func (s *Server) StallNext(n int) { s.srv.StallNext(n) }

// Stalled receives a value each time a request starts stalling (see
// [Server.StallNext] and [Server.StallAfter]), so that a test can act once
// the server holds it.
func (s *Server) Stalled() <-chan struct{} { return s.srv.Stalled() }

// SetPace makes the server wait d (or until the client goes away) between
// the pieces of a reply: its parts, and the writes of [Server.SplitWrites].
func (s *Server) SetPace(d time.Duration) { s.srv.SetPace(d) }

// SplitWrites makes the server write and flush answers in pieces of at most
// size bytes (0: one write per part; 1 splits multi-byte characters), and
// also cut them at each of the given absolute byte offsets.
func (s *Server) SplitWrites(size int, offsets ...int) { s.srv.SplitWrites(size, offsets...) }

// CutAfter makes answers abort their connection, without ending the chunked
// body, once n body bytes have been written (0: never).
func (s *Server) CutAfter(n int) { s.srv.CutAfter(n) }

// StallAfter makes answers stop after n parts of the reply (0: right after
// the headers; a JSON answer is one part) and wait, signalling
// [Server.Stalled], until the client goes away or the server is closed. A
// negative n, the default, turns it off.
func (s *Server) StallAfter(n int) { s.srv.StallAfter(n) }

// SetConversationHeader names a response header (such as
// "X-Conversation-Id") that carries the conversation id on streamed
// answers; "" (the default) sends none.
func (s *Server) SetConversationHeader(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convHeader = name
}

// SetJSONStream makes the server answer requests with "stream": true with
// the JSON envelope, as if streaming had not been asked for.
func (s *Server) SetJSONStream(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jsonStream = on
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request { return s.srv.Requests() }

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

// guard applies a scripted stall or failure, then checks the key.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.srv.Intercept(w, r, writeFailure) {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeFailure answers f as described at [Failure].
func writeFailure(w http.ResponseWriter, f Failure) {
	fake.SetRetryAfter(w.Header(), f)
	status := fake.StatusOr(f, http.StatusInternalServerError)
	if f.Body == "" && f.Message != "" {
		writeError(w, status, f.Message)
		return
	}
	fake.WriteBody(w, status, f.Body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]any{"success": false, "message": msg})
	fake.WriteBody(w, status, string(b))
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
	if err := fake.DecodeBody(r, &in); err != nil {
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
	if err := fake.DecodeBody(r, &in); err != nil || in.Message == "" {
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
	convID, convHeader, jsonStream := c.ID, s.convHeader, s.jsonStream
	s.mu.Unlock()
	parts, ok := s.srv.Reply(in.Message)
	if !ok {
		parts = fake.Words("You said: " + in.Message)
	}

	out := s.srv.Output(w, r)
	if in.Stream && !jsonStream {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if convHeader != "" {
			w.Header().Set(convHeader, convID)
		}
		if !out.Start(http.StatusOK) {
			return
		}
		for _, p := range parts {
			if !out.Piece([]byte(p)) {
				return
			}
		}
		return
	}
	body, _ := json.Marshal(envelope{Success: true, ConversationID: convID, Response: strings.Join(parts, "")})
	out.JSON(body)
}
