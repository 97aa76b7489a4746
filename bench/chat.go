package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/workspace"
)

// chatReplySize is the length of the chat scenario's reply.
const chatReplySize = 200

// chatReply is the chat scenario's reply.
var chatReply = strings.Repeat("Sure! ", chatReplySize/6+1)[:chatReplySize]

// chatScenario is scenario 1: one Chat round trip.
func chatScenario() scenario {
	return scenario{
		name: "1. chat round trip (200 B)",
		setup: func(cfg config) ([]contender, func()) {
			srv := newServer(chatHandler(chatReply))
			url := srv.URL + "/api/v1/chatbots/" + chatbotID + "/chat"
			hc := newHTTPClient()
			bot := mustWorkspace(srv.URL)
			return srv.count([]contender{
				{"floor: net/http + encoding/json", func(ctx context.Context) (outcome, error) {
					return floorChat(ctx, hc, url)
				}},
				{"chatbot: workspace Chat", func(ctx context.Context) (outcome, error) {
					reply, err := bot.Chat(ctx, chatbot.Request{Message: "Hello"})
					if err != nil {
						return outcome{}, err
					}
					return outcome{bytes: int64(len(reply.Text))}, nil
				}},
			}), srv.Close
		},
		check: func(_ config, o outcome) error {
			if o.bytes != chatReplySize {
				return fmt.Errorf("reply of %d bytes, want %d", o.bytes, chatReplySize)
			}
			return nil
		},
		key: func(r testing.BenchmarkResult) float64 { return float64(r.NsPerOp()) },
		row: func(r, floor testing.BenchmarkResult) (string, string) {
			figure := fmt.Sprintf("%.1f µs/op, %d allocs/op", float64(r.NsPerOp())/1e3, r.AllocsPerOp())
			ratio := fmt.Sprintf("%.2f× time, %+d allocs", float64(r.NsPerOp())/float64(floor.NsPerOp()),
				r.AllocsPerOp()-floor.AllocsPerOp())
			return figure, ratio
		},
	}
}

// floorChat is the hand-written chat call: marshal, post, decode.
func floorChat(ctx context.Context, hc *http.Client, url string) (outcome, error) {
	resp, err := floorPost(ctx, hc, url, false, "application/json")
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return outcome{}, err
	}
	var env struct {
		Success bool `json:"success"`
		Data    struct {
			Response       string `json:"response"`
			ConversationID string `json:"conversationId"`
			MessageID      string `json:"messageId"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return outcome{}, err
	}
	return outcome{bytes: int64(len(env.Data.Response))}, nil
}

// mustWorkspace returns a workspace client for the server at base.
func mustWorkspace(base string, opts ...chatbot.Option) *workspace.Client {
	bot, err := workspace.NewClient(apiKey, chatbotID, append([]chatbot.Option{chatbot.WithBaseURL(base + "/api/v1/")}, opts...)...)
	if err != nil {
		panic(err)
	}
	return bot
}
