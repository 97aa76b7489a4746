package dify_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
)

// FuzzStream streams arbitrary bodies, seeded from the golden streams, and
// checks that nothing panics and that writing the body byte by byte gives
// the same reply and error as writing it at once.
func FuzzStream(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var texts [2]string
		var errs [2]string
		for i, size := range []int{0, 1} {
			srv, _ := sseServer(t, body, size)
			bot, err := dify.NewClient("app-fuzz", chatbot.WithBaseURL(srv.URL+"/v1/"))
			if err != nil {
				t.Fatal(err)
			}
			reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			if reply != nil {
				texts[i] = reply.Text
			}
			errs[i] = errText(err)
		}
		if texts[0] != texts[1] || errs[0] != errs[1] {
			t.Fatalf("one write: %q, %q; byte by byte: %q, %q", texts[0], errs[0], texts[1], errs[1])
		}
	})
}
