package dify_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
)

// BenchmarkStreamChatflow streams the golden chatflow reply (16 events,
// pings and workflow events among them) from a loopback server.
func BenchmarkStreamChatflow(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "stream_chatflow.sse"))
	if err != nil {
		b.Fatal(err)
	}
	srv, _ := sseServer(b, body, 0)
	bot, err := dify.NewClient("app-bench", chatbot.WithBaseURL(srv.URL+"/v1/"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chatbot.Collect(bot.Stream(b.Context(), chatbot.Request{Message: "hi"})); err != nil {
			b.Fatal(err)
		}
	}
}
