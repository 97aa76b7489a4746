package relaytest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/relay/relaytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// reply uses every field the formats carry.
var reply = []chatbot.Chunk{
	{Text: "Hello <b>\"you\"</b>\n", ConversationID: "conv-1", MessageID: "msg-1"},
	{Text: "Grüße 你好", ConversationID: "conv-1", MessageID: "msg-1",
		Sources: []chatbot.Source{{ID: "doc-1", Title: "Pricing", URL: "https://example.com/p?a=1&b=2", Snippet: "From 9 €", Score: 0.5}}},
	{Text: "[replaced]", Replace: true, ConversationID: "conv-2", MessageID: "msg-1",
		Sources: []chatbot.Source{{Title: "FAQ.pdf"}}},
	{ConversationID: "conv-2", MessageID: "msg-1", Done: true, FinishReason: chatbot.FinishActionRequired,
		Usage:   &chatbot.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 3, Credits: 0.5, Price: "0.01", Currency: "USD"},
		Actions: []chatbot.Action{{ID: "call-1", Name: "lookup", Input: json.RawMessage(`{"q":"x"}`)}}},
}

func seq(chunks []chatbot.Chunk) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, c := range chunks {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// TestGolden pins the wire bytes of each format for a reply that uses
// every field (go test -update rewrites them), and reads them back.
func TestGolden(t *testing.T) {
	for _, f := range []relay.Format{relay.FormatAISDK, relay.FormatSSE, relay.FormatText} {
		t.Run(string(f), func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/chat", nil)
			require.NoError(t, relay.Write(rec, r, seq(reply), relay.WithFormat(f), relay.WithHeartbeat(0)))
			path := filepath.Join("testdata", "reply."+string(f))
			if *update {
				require.NoError(t, os.WriteFile(path, rec.Body.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), rec.Body.String())

			resp := rec.Result()
			got, err := chatbot.Collect(relaytest.Read(resp))
			require.ErrorIs(t, err, chatbot.ErrActionRequired)
			assert.Equal(t, "[replaced]", got.Text)
			assert.Equal(t, chatbot.FinishActionRequired, got.FinishReason)
			if f == relay.FormatText {
				return
			}
			assert.Equal(t, "conv-2", got.ConversationID)
			assert.Equal(t, "msg-1", got.MessageID)
			assert.Equal(t, reply[3].Usage, got.Usage)
			assert.Equal(t, reply[3].Actions, got.Actions)
			assert.Equal(t, []chatbot.Source{reply[1].Sources[0], reply[2].Sources[0]}, got.Sources)
		})
	}
}

func TestReadRefusesOtherBodies(t *testing.T) {
	for name, resp := range map[string]*http.Response{
		"HTML":               {StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(bytes.NewReader(nil))},
		"error without JSON": {StatusCode: 502, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader([]byte("Bad Gateway")))},
	} {
		_, err := chatbot.Collect(relaytest.Read(resp))
		assert.ErrorIs(t, err, relaytest.ErrFormat, name)
	}
	for name, body := range map[string]string{
		"delta before start":  `data: {"type":"text-delta","id":"text-0","delta":"x"}` + "\n\n",
		"delta of no part":    `data: {"type":"start"}` + "\n\n" + `data: {"type":"text-delta","id":"text-0","delta":"x"}` + "\n\n",
		"no finish":           `data: {"type":"start"}` + "\n\n",
		"finish without DONE": `data: {"type":"start"}` + "\n\n" + `data: {"type":"finish"}` + "\n\n",
		"unknown part":        `data: {"type":"start"}` + "\n\n" + `data: {"type":"reasoning-start","id":"r"}` + "\n\n",
	} {
		_, err := chatbot.Collect(relaytest.AISDK(bytes.NewReader([]byte(body))))
		assert.ErrorIs(t, err, relaytest.ErrFormat, name)
	}
}

// collect renders what a reader yields, for comparison.
func collect(chunks iter.Seq2[chatbot.Chunk, error]) string {
	var b bytes.Buffer
	for c, err := range chunks {
		if err != nil {
			fmt.Fprintf(&b, "error %v", err)
			break
		}
		j, err := json.Marshal(c)
		if err != nil {
			panic(err)
		}
		b.Write(append(j, '\n'))
	}
	return b.String()
}

// fuzzReader checks that read never panics and that reading input one
// byte at a time yields what reading it whole does.
func fuzzReader(f *testing.F, golden string, read func(io.Reader) iter.Seq2[chatbot.Chunk, error]) {
	b, err := os.ReadFile(filepath.Join("testdata", golden))
	require.NoError(f, err)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("data: [DONE]\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 8<<10 {
			// go-sse rescans a line on every read: one-byte reads of a long
			// line are quadratic (a 20 KB line takes 0.2 s), which would
			// only slow the fuzzer down.
			return
		}
		whole := collect(read(bytes.NewReader(in)))
		assert.Equal(t, whole, collect(read(iotest.OneByteReader(bytes.NewReader(in)))))
	})
}

func FuzzAISDK(f *testing.F) { fuzzReader(f, "reply.ai-sdk", relaytest.AISDK) }
func FuzzSSE(f *testing.F)   { fuzzReader(f, "reply.sse", relaytest.SSE) }
