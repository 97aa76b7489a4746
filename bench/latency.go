package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chatbot-go/chatbot"
)

// latencyScenarios are scenario 4: one delta per millisecond, stamped with
// its send time, over SSE (workspace) and raw text (userdesk).
func latencyScenarios() []scenario {
	check := func(cfg config, o outcome) error {
		if len(o.latencies) != cfg.latencyDeltas {
			return fmt.Errorf("%d stamps received, want %d", len(o.latencies), cfg.latencyDeltas)
		}
		return nil
	}
	key := func(r testing.BenchmarkResult) float64 { return r.Extra["p99-µs"] }
	row := func(r, floor testing.BenchmarkResult) (string, string) {
		figure := fmt.Sprintf("p50 %.0f µs, p99 %.0f µs", r.Extra["p50-µs"], r.Extra["p99-µs"])
		ratio := fmt.Sprintf("p99 %+.0f µs, p50 %+.0f µs", r.Extra["p99-µs"]-floor.Extra["p99-µs"],
			r.Extra["p50-µs"]-floor.Extra["p50-µs"])
		return figure, ratio
	}
	return []scenario{
		{
			name: "4a. delivery latency, SSE (1 delta/ms)",
			setup: func(cfg config) ([]contender, func()) {
				srv := newServer(pacedHandler("text/event-stream", cfg.latencyDeltas, func(stamp int64) []byte {
					return openAIEvent(strconv.FormatInt(stamp, 10))
				}, doneEvent))
				hc := newHTTPClient()
				bot := mustWorkspace(srv.URL)
				url := srv.URL + "/api/v1/chatbots/" + chatbotID + "/chat"
				return srv.count([]contender{
					{"floor: net/http + sse.Read + encoding/json", func(ctx context.Context) (outcome, error) {
						var st stamps
						o, err := floorSSE(ctx, hc, url, st.delta)
						o.latencies = st.lat
						return o, firstErr(err, st.err)
					}},
					{"chatbot: workspace Stream", func(ctx context.Context) (outcome, error) {
						var st stamps
						o, err := chatbotStream(ctx, bot, st.delta)
						o.latencies = st.lat
						return o, firstErr(err, st.err)
					}},
				}), srv.Close
			},
			check: check, key: key, row: row,
		},
		{
			name: "4b. delivery latency, raw text (1 delta/ms)",
			setup: func(cfg config) ([]contender, func()) {
				srv := newServer(pacedHandler("text/plain; charset=utf-8", cfg.latencyDeltas, func(stamp int64) []byte {
					return append(strconv.AppendInt(nil, stamp, 10), '\n')
				}, nil))
				hc := newHTTPClient()
				bot := mustUserdesk(srv.URL)
				url := srv.URL + "/v1/chatbot/" + chatbotID + "/message"
				return srv.count([]contender{
					{"floor: net/http body read loop", func(ctx context.Context) (outcome, error) {
						var st stamps
						o, err := floorText(ctx, hc, url, func(b []byte) { st.text(string(b)) })
						o.latencies = st.lat
						return o, firstErr(err, st.err)
					}},
					{"chatbot: userdesk Stream", func(ctx context.Context) (outcome, error) {
						var st stamps
						o, err := chatbotStreamReq(ctx, bot, chatbot.Request{Message: "Hello", ConversationID: convID}, st.text)
						o.latencies = st.lat
						return o, firstErr(err, st.err)
					}},
				}), srv.Close
			},
			check: check, key: key, row: row,
		},
	}
}

// stamps turns received send stamps into latencies.
type stamps struct {
	lat     []time.Duration
	pending []byte // raw text not yet ended by a newline
	err     error
}

// delta records one SSE delta, which is a whole stamp.
func (s *stamps) delta(text string) {
	now := sinceEpoch()
	stamp, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		s.err = firstErr(s.err, err)
		return
	}
	s.lat = append(s.lat, time.Duration(now-stamp))
}

// text records raw text, in which each stamp ends with a newline.
func (s *stamps) text(text string) {
	now := sinceEpoch()
	s.pending = append(s.pending, text...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			return
		}
		stamp, err := strconv.ParseInt(string(s.pending[:i]), 10, 64)
		if err != nil {
			s.err = firstErr(s.err, err)
		} else {
			s.lat = append(s.lat, time.Duration(now-stamp))
		}
		s.pending = s.pending[i+1:]
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
