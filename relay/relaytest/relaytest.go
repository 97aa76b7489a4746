// Package relaytest reads back what package relay writes, so that tests of
// a relaying service need not parse Server-Sent Events by hand. Each reader
// turns one format into the chunks it carried, which chatbot.Collect folds
// into a reply:
//
//	resp, err := http.Post(srv.URL+"/chat", "application/json", body)
//	reply, err := chatbot.Collect(relaytest.Read(resp))
//
// A failure is an *[Error] with the relay's code, whether it came as an HTTP
// status before the first byte or as the stream's error part or event.
package relaytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// Error is a failure the relay reported.
type Error struct {
	Status     int           // the HTTP status of a failure before the first byte; 0 for one reported in the stream
	Code       string        // the relay's code (relay.CodeRateLimited, …)
	Message    string        // the relay's message
	RetryAfter time.Duration // from the Retry-After header or the body's retryAfter; 0 if none
}

// Error returns a line such as "relay: 429 RATE_LIMITED: Too many requests".
func (e *Error) Error() string {
	s := "relay: "
	if e.Status != 0 {
		s += strconv.Itoa(e.Status) + " "
	}
	return s + e.Code + ": " + e.Message
}

// ErrFormat reports a body that does not follow the relay's format.
var ErrFormat = errors.New("relaytest: not the relay's format")

// Read reads resp in the format its headers name (x-vercel-ai-ui-message-stream
// for AI SDK, text/event-stream for SSE, text/plain for text) and closes its
// body when the sequence ends. A status other than 200 yields only an
// *[Error] decoded from the JSON body.
func Read(resp *http.Response) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			yield(chatbot.Chunk{}, statusError(resp))
			return
		}
		var chunks iter.Seq2[chatbot.Chunk, error]
		ct := resp.Header.Get("Content-Type")
		switch {
		case resp.Header.Get("X-Vercel-AI-UI-Message-Stream") == "v1":
			chunks = AISDK(resp.Body)
		case strings.HasPrefix(ct, "text/event-stream"):
			chunks = SSE(resp.Body)
		case strings.HasPrefix(ct, "text/plain"):
			chunks = Text(resp)
		default:
			yield(chatbot.Chunk{}, fmt.Errorf("%w: Content-Type %q", ErrFormat, ct))
			return
		}
		for c, err := range chunks {
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// statusError decodes the JSON error body of a failed response.
func statusError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := e.decode(b); err != nil {
		return fmt.Errorf("%w: status %d with body %q", ErrFormat, resp.StatusCode, b)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// decode reads the relay's JSON error body into e.
func (e *Error) decode(b []byte) error {
	var body struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		RetryAfter int64  `json:"retryAfter"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Code == "" {
		return ErrFormat
	}
	e.Code, e.Message = body.Code, body.Message
	e.RetryAfter = time.Duration(body.RetryAfter) * time.Second
	return nil
}

// events yields the events of r as data, ending with an error wrapping
// io.ErrUnexpectedEOF for a body cut mid-event.
func events(r io.Reader, yield func(stream.Event) error) error {
	for ev, err := range stream.Events(r) {
		if err != nil {
			return err
		}
		if err := yield(ev); err != nil {
			return err
		}
	}
	return nil
}

// errStop is returned by a callback of events when the consumer stopped.
var errStop = errors.New("errStop")

// metadata is the relay's message metadata, and its SSE meta event.
type metadata struct {
	ConversationID string         `json:"conversationId"`
	MessageID      string         `json:"messageId"`
	FinishReason   string         `json:"finishReason"`
	Usage          *chatbot.Usage `json:"usage"`
}

// usageJSON decodes the relay's usage into chatbot.Usage field names.
type usageJSON struct {
	InputTokens  int64   `json:"inputTokens"`
	OutputTokens int64   `json:"outputTokens"`
	TotalTokens  int64   `json:"totalTokens"`
	Credits      float64 `json:"credits"`
	Price        string  `json:"price"`
	Currency     string  `json:"currency"`
}

func (m *metadata) UnmarshalJSON(b []byte) error {
	var v struct {
		ConversationID string     `json:"conversationId"`
		MessageID      string     `json:"messageId"`
		FinishReason   string     `json:"finishReason"`
		Usage          *usageJSON `json:"usage"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m.ConversationID, m.MessageID, m.FinishReason = v.ConversationID, v.MessageID, v.FinishReason
	if v.Usage != nil {
		u := chatbot.Usage(*v.Usage)
		m.Usage = &u
	}
	return nil
}

// source is a source as the relay writes it.
type source struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	URL     string  `json:"url"`
	Snippet string  `json:"snippet"`
	Score   float64 `json:"score"`
}

func (s source) chunkSource() chatbot.Source {
	return chatbot.Source{ID: s.ID, Title: s.Title, URL: s.URL, Snippet: s.Snippet, Score: s.Score}
}
