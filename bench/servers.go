package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The credentials every fake server accepts without checking them.
const (
	apiKey    = "sk-workspace_bench"
	chatbotID = "bench-bot"
	convID    = "conv-bench"
)

// epoch is the origin of the send stamps of the latency scenario: stamps
// are nanoseconds since epoch on the monotonic clock of this process.
var epoch = time.Now()

func sinceEpoch() int64 { return int64(time.Since(epoch)) }

// server is a loopback HTTP server that counts the TCP connections it accepts.
type server struct {
	*httptest.Server
	conns atomic.Int64
}

func newServer(h http.HandlerFunc) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	return s
}

// drain reads the request body, as a real server would before answering.
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

// chatHandler answers every request with the workspace JSON envelope holding
// reply, and the rate-limit headers the provider sends on every response.
func chatHandler(reply string) http.HandlerFunc {
	body, err := json.Marshal(map[string]any{
		"success": true,
		"data":    map[string]string{"response": reply, "conversationId": convID, "messageId": "msg-bench"},
	})
	if err != nil {
		panic(err)
	}
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	return func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-RateLimit-Limit", "1000")
		h.Set("X-RateLimit-Remaining", "999")
		h.Set("X-RateLimit-Used", "1")
		h.Set("X-RateLimit-Reset", reset)
		_, _ = w.Write(body)
	}
}

// bodyHandler answers every request with the same pre-rendered body, written
// at once, so that the figures are the clients' own cost.
func bodyHandler(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}
}

// repeatHandler answers with block written again and again up to total
// bytes, then tail: a long reply that the server never holds in memory.
func repeatHandler(contentType string, block []byte, total int64, tail []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Type", contentType)
		for sent := int64(0); sent < total; sent += int64(len(block)) {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
		_, _ = w.Write(tail)
	}
}

// pacedHandler writes n deltas, one per millisecond, each flushed at once
// and rendered by render from its send stamp, then tail.
func pacedHandler(contentType string, n int, render func(stamp int64) []byte, tail []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		flusher := w.(http.Flusher)
		flusher.Flush()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for range n {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			if _, err := w.Write(render(sinceEpoch())); err != nil {
				return
			}
			flusher.Flush()
		}
		_, _ = w.Write(tail)
	}
}

// openAIEvent renders one OpenAI-format delta event.
func openAIEvent(content string) []byte {
	c, err := json.Marshal(content)
	if err != nil {
		panic(err)
	}
	return fmt.Appendf(nil, "data: {\"choices\":[{\"delta\":{\"content\":%s}}]}\n\n", c)
}

// doneEvent ends an OpenAI-format stream.
var doneEvent = []byte("data: [DONE]\n\n")

// deltaText is the text of delta i of the SSE scenario.
func deltaText(i int) string { return " tok" + strconv.Itoa(i%1000) }

// sseBody renders n OpenAI-format deltas and the end marker, and returns the
// body and the number of text bytes it carries.
func sseBody(n int) ([]byte, int64) {
	var buf bytes.Buffer
	var text int64
	for i := range n {
		buf.Write(openAIEvent(deltaText(i)))
		text += int64(len(deltaText(i)))
	}
	buf.Write(doneEvent)
	return buf.Bytes(), text
}

// textSample is repeated to make raw text replies; it holds multi-byte
// characters so that reads end inside them.
const textSample = "Grüße aus Köln — the quick brown fox jumps over the lazy dog. 你好，世界。 "

// textBody returns at least size bytes of text.
func textBody(size int) []byte {
	return []byte(strings.Repeat(textSample, size/len(textSample)+1))
}

// count wraps the contenders' operations to record the TCP connections the
// server accepted during each (operations run one at a time).
func (s *server) count(cs []contender) []contender {
	for i, c := range cs {
		op := c.op
		cs[i].op = func(ctx context.Context) (outcome, error) {
			before := s.conns.Load()
			o, err := op(ctx)
			o.conns += int(s.conns.Load() - before)
			return o, err
		}
	}
	return cs
}
