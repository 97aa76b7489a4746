package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"
	sse "github.com/tmaxmax/go-sse"

	"github.com/chatbot-go/chatbot"
)

// sseDeltas is the number of deltas of the SSE scenario's stream.
const sseDeltas = 10_000

// sseScenario is scenario 2: a stream of 10,000 deltas, read by the floor,
// the SDK and the two peer SDKs from the same server.
func sseScenario() scenario {
	var text int64 // the text bytes of the stream
	for i := range sseDeltas {
		text += int64(len(deltaText(i)))
	}
	return scenario{
		name: "2. SSE stream (10,000 deltas)",
		setup: func(cfg config) ([]contender, func()) {
			body, _ := sseBody(sseDeltas)
			srv := newServer(bodyHandler("text/event-stream", body))
			return srv.count(sseContenders(srv.URL)), srv.Close
		},
		check: func(_ config, o outcome) error {
			if o.deltas != sseDeltas || o.bytes != text {
				return fmt.Errorf("%d deltas of %d bytes, want %d of %d", o.deltas, o.bytes, sseDeltas, text)
			}
			return nil
		},
		key: func(r testing.BenchmarkResult) float64 { return r.Extra["deltas/s"] },
		row: func(r, floor testing.BenchmarkResult) (string, string) {
			figure := fmt.Sprintf("%.0fk deltas/s, %.2f allocs/delta, %.0f B/delta, %.2f conns/stream",
				r.Extra["deltas/s"]/1e3, float64(r.AllocsPerOp())/sseDeltas,
				float64(r.AllocedBytesPerOp())/sseDeltas, r.Extra["conns/op"])
			return figure, fmt.Sprintf("%.2f×", r.Extra["deltas/s"]/floor.Extra["deltas/s"])
		},
	}
}

// sseContenders returns the contenders of the SSE scenarios, all reading
// from the server at base: the workspace SDK from its chat path, the peers
// from /v1/chat/completions.
func sseContenders(base string) []contender {
	hc := newHTTPClient()
	bot := mustWorkspace(base)
	oa := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey(apiKey), option.WithMaxRetries(0))
	goCfg := goopenai.DefaultConfig(apiKey)
	goCfg.BaseURL = base + "/v1"
	goa := goopenai.NewClientWithConfig(goCfg)
	return []contender{
		{"floor: net/http + sse.Read + encoding/json", func(ctx context.Context) (outcome, error) {
			return floorSSE(ctx, hc, base+"/api/v1/chatbots/"+chatbotID+"/chat", nil)
		}},
		{"chatbot: workspace Stream", func(ctx context.Context) (outcome, error) {
			return chatbotStream(ctx, bot, nil)
		}},
		{"openai-go v3.96.0", func(ctx context.Context) (outcome, error) {
			s := oa.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
				Model:    openai.ChatModel("gpt-4.1-mini"),
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello")},
			})
			defer s.Close()
			var o outcome
			for s.Next() {
				if c := s.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
					o.deltas++
					o.bytes += int64(len(c.Choices[0].Delta.Content))
				}
			}
			return o, s.Err()
		}},
		{"go-openai v1.43.0", func(ctx context.Context) (outcome, error) {
			s, err := goa.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
				Model:    goopenai.GPT4o,
				Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "Hello"}},
			})
			if err != nil {
				return outcome{}, err
			}
			defer s.Close()
			var o outcome
			for {
				c, err := s.Recv()
				if errors.Is(err, io.EOF) {
					return o, nil
				}
				if err != nil {
					return o, err
				}
				if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
					o.deltas++
					o.bytes += int64(len(c.Choices[0].Delta.Content))
				}
			}
		}},
	}
}

// floorSSE is the hand-written stream: post, then sse.Read and
// encoding/json per event, to the end of the body so that the connection
// goes back to the pool. A non-nil onDelta sees each delta's text.
func floorSSE(ctx context.Context, hc *http.Client, url string, onDelta func(string)) (outcome, error) {
	resp, err := floorPost(ctx, hc, url, true, "text/event-stream")
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	var o outcome
	for ev, err := range sse.Read(resp.Body, nil) {
		if err != nil {
			return o, err
		}
		if ev.Data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &chunk); err != nil {
			return o, err
		}
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			o.deltas++
			o.bytes += int64(len(chunk.Choices[0].Delta.Content))
			if onDelta != nil {
				onDelta(chunk.Choices[0].Delta.Content)
			}
		}
	}
	return o, nil
}

// chatbotStream ranges over an SDK stream, counting its text chunks. A
// non-nil onDelta sees each chunk's text.
func chatbotStream(ctx context.Context, bot chatbot.Chatbot, onDelta func(string)) (outcome, error) {
	return chatbotStreamReq(ctx, bot, chatbot.Request{Message: "Hello"}, onDelta)
}

func chatbotStreamReq(ctx context.Context, bot chatbot.Chatbot, req chatbot.Request, onDelta func(string)) (outcome, error) {
	var o outcome
	for ch, err := range bot.Stream(ctx, req) {
		if err != nil {
			return o, err
		}
		if ch.Text != "" {
			o.deltas++
			o.bytes += int64(len(ch.Text))
			if onDelta != nil {
				onDelta(ch.Text)
			}
		}
	}
	return o, nil
}
