package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/userdesk"
)

// textSize is the size of the raw text scenario's reply.
const textSize = 10_000_000

// textBufSize is the floor's read buffer, the size stream.Text uses.
const textBufSize = 32 << 10

// textScenario is scenario 3: a 10 MB raw text reply.
func textScenario() scenario {
	return scenario{
		name: "3. raw text stream (10 MB)",
		setup: func(cfg config) ([]contender, func()) {
			body := textBody(textSize)[:textSize]
			srv := newServer(bodyHandler("text/plain; charset=utf-8", body))
			return srv.count(textContenders(srv.URL)), srv.Close
		},
		check: func(_ config, o outcome) error {
			if o.bytes != textSize {
				return fmt.Errorf("%d bytes, want %d", o.bytes, textSize)
			}
			return nil
		},
		key: func(r testing.BenchmarkResult) float64 { return r.Extra["MB/s"] },
		row: func(r, floor testing.BenchmarkResult) (string, string) {
			figure := fmt.Sprintf("%.0f MB/s, %d allocs/op, %.2f conns/stream", r.Extra["MB/s"], r.AllocsPerOp(), r.Extra["conns/op"])
			return figure, fmt.Sprintf("%.2f×", r.Extra["MB/s"]/floor.Extra["MB/s"])
		},
	}
}

// textContenders returns the floor and the userdesk SDK reading raw text
// from the server at base.
func textContenders(base string) []contender {
	hc := newHTTPClient()
	bot := mustUserdesk(base)
	return []contender{
		{"floor: net/http body read loop", func(ctx context.Context) (outcome, error) {
			return floorText(ctx, hc, base+"/v1/chatbot/"+chatbotID+"/message", nil)
		}},
		{"floor+string: the same loop making a string of each read, as any string-yielding API must", func(ctx context.Context) (outcome, error) {
			return floorText(ctx, hc, base+"/v1/chatbot/"+chatbotID+"/message", func(b []byte) { runtime.KeepAlive(string(b)) })
		}},
		{"chatbot: userdesk Stream", func(ctx context.Context) (outcome, error) {
			return chatbotStreamReq(ctx, bot, chatbot.Request{Message: "Hello", ConversationID: convID}, nil)
		}},
	}
}

// floorText is the hand-written raw text read: post, then read the body
// into one buffer until EOF. A non-nil onRead sees each read's bytes.
func floorText(ctx context.Context, hc *http.Client, url string, onRead func([]byte)) (outcome, error) {
	return floorTextBuf(ctx, hc, url, textBufSize, onRead)
}

// floorTextBuf is floorText with a read buffer of size bytes.
func floorTextBuf(ctx context.Context, hc *http.Client, url string, size int, onRead func([]byte)) (outcome, error) {
	resp, err := floorPost(ctx, hc, url, true, "text/plain")
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	var o outcome
	buf := make([]byte, size)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			o.deltas++
			o.bytes += int64(n)
			if onRead != nil {
				onRead(buf[:n])
			}
		}
		if err == io.EOF {
			return o, nil
		}
		if err != nil {
			return o, err
		}
	}
}

// mustUserdesk returns a userdesk client for the server at base.
func mustUserdesk(base string, opts ...chatbot.Option) *userdesk.Client {
	bot, err := userdesk.NewClient(apiKey, chatbotID, append([]chatbot.Option{chatbot.WithBaseURL(base + "/v1/")}, opts...)...)
	if err != nil {
		panic(err)
	}
	return bot
}
