package chatbase_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chatbot-go/chatbot"
)

// BenchmarkStream collects a 200-delta reply (about 12 KiB of events) over
// loopback: the cost of the client and the UI message dialect per reply.
func BenchmarkStream(b *testing.B) {
	var body strings.Builder
	body.WriteString(`data: {"type":"start","messageId":"m"}` + "\n\n")
	for i := range 200 {
		d, _ := json.Marshal(fmt.Sprintf("word%03d ", i))
		body.WriteString(`data: {"type":"text-delta","id":"t","delta":` + string(d) + "}\n\n")
	}
	body.WriteString(`data: {"type":"finish","finishReason":"stop","messageMetadata":{"conversationId":"c","usage":{"credits":1}}}` + "\n\ndata: [DONE]\n\n")
	c := sseClient(b, []byte(body.String()), 0)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		reply, err := chatbot.Collect(c.Stream(b.Context(), chatbot.Request{Message: "hi"}))
		if err != nil || len(reply.Text) != 200*8 {
			b.Fatal(err, len(reply.Text))
		}
	}
}
