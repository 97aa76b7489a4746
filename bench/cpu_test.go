package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/chatbot-go/chatbot"
)

// BenchmarkChatCPU is scenario 1 without the network: both contenders send
// through an in-memory transport that answers at once, so the figures are
// the CPU and allocations of each client's own work per call, free of the
// loopback's scheduling noise that dominates BenchmarkChat on a busy
// machine.
func BenchmarkChatCPU(b *testing.B) {
	hc := &http.Client{Transport: memoryTransport(chatHandler(chatReply))}
	url := "http://127.0.0.1:9/api/v1/chatbots/" + chatbotID + "/chat"
	bot := mustWorkspace("http://127.0.0.1:9", chatbot.WithHTTPClient(hc))
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if o, err := floorChat(b.Context(), hc, url); err != nil || o.bytes != chatReplySize {
				b.Fatal(o, err)
			}
		}
	})
	b.Run("chatbot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, err := bot.Chat(b.Context(), chatbot.Request{Message: "Hello"}); err != nil || len(r.Text) != chatReplySize {
				b.Fatal(r, err)
			}
		}
	})
}

// memoryTransport serves each request with h in memory, as a server would
// answer it, without a connection.
type memoryTransport http.HandlerFunc

func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := &memoryResponse{header: http.Header{}, status: http.StatusOK}
	http.HandlerFunc(t)(w, req)
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		Status: strconv.Itoa(w.status) + " " + http.StatusText(w.status), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: io.NopCloser(bytes.NewReader(w.body.Bytes())), ContentLength: int64(w.body.Len()),
		Request: req,
	}, nil
}

type memoryResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *memoryResponse) Header() http.Header         { return w.header }
func (w *memoryResponse) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *memoryResponse) WriteHeader(status int)      { w.status = status }
