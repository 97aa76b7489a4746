package main

import (
	"net/http"
	"net/http/httptest"
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

// memoryTransport serves each request with the handler in memory, through
// an httptest.ResponseRecorder, without a connection.
type memoryTransport http.HandlerFunc

func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	return rec.Result(), nil
}
