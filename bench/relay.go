package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
)

// relayDeltas is the number of deltas of each reply of the relay
// throughput scenario.
const relayDeltas = 1000

// relayScenarios are scenario 11: package relay against a hand-written
// relay (the floor), both serving a workspace client's stream to browsers
// as Server-Sent Events of {"text": "…"}, read by the same browser-side
// loop. 11a measures throughput; 11b holds relayed streams open, as
// scenario 7 does, and reads the heap per stream (browser, relay and
// provider client all in this process, the provider in a child process).
func relayScenarios() []scenario {
	relays := []struct {
		name    string
		handler func(bot chatbot.Chatbot) http.Handler
	}{
		{"floor: hand-written relay (encoding/json, Flush per chunk, heartbeat)", floorRelay},
		{"chatbot: relay.Handler, FormatSSE", func(bot chatbot.Chatbot) http.Handler {
			return relay.Handler(bot, nil, relay.WithFormat(relay.FormatSSE))
		}},
	}
	var text int64
	for i := range relayDeltas {
		text += int64(len(deltaText(i)))
	}
	return []scenario{
		{
			name: "11a. relay, throughput (1,000-delta replies relayed as SSE)",
			setup: func(cfg config) ([]contender, func()) {
				body, _ := sseBody(relayDeltas)
				upstream := newServer(bodyHandler("text/event-stream", body))
				var contenders []contender
				stops := []func(){upstream.Close}
				for _, rl := range relays {
					srv := newServer(rl.handler(mustWorkspace(upstream.URL)).ServeHTTP)
					stops = append(stops, srv.Close)
					hc := newHTTPClient()
					contenders = append(contenders, contender{rl.name, func(ctx context.Context) (outcome, error) {
						return browserSSE(ctx, hc, srv.URL, nil)
					}})
				}
				return contenders, func() {
					for _, stop := range stops {
						stop()
					}
				}
			},
			check: func(_ config, o outcome) error {
				if o.deltas != relayDeltas || o.bytes != text {
					return fmt.Errorf("%d deltas of %d bytes, want %d of %d", o.deltas, o.bytes, relayDeltas, text)
				}
				return nil
			},
			key: func(r testing.BenchmarkResult) float64 { return r.Extra["deltas/s"] },
			row: func(r, floor testing.BenchmarkResult) (string, string) {
				figure := fmt.Sprintf("%.0fk deltas/s, %.2f allocs/delta, %.0f B/delta",
					r.Extra["deltas/s"]/1e3, float64(r.AllocsPerOp())/relayDeltas, float64(r.AllocedBytesPerOp())/relayDeltas)
				return figure, fmt.Sprintf("%.2f×", r.Extra["deltas/s"]/floor.Extra["deltas/s"])
			},
		},
		{
			name: "11b. relay, open streams (1,000 browsers held open)",
			setup: func(cfg config) ([]contender, func()) {
				c, err := startChild()
				if err != nil {
					panic(err)
				}
				var contenders []contender
				stops := []func(){c.stop}
				for _, rl := range relays {
					srv := newServer(rl.handler(mustWorkspace(c.addr)).ServeHTTP)
					stops = append(stops, srv.Close)
					contenders = append(contenders, contender{rl.name, func(ctx context.Context) (outcome, error) {
						hc := newHTTPClient()
						defer hc.CloseIdleConnections()
						return holdStreams(ctx, c, relayBrowsers, func(ctx context.Context, opened func()) (outcome, error) {
							return browserSSE(ctx, hc, srv.URL, func(string) { opened() })
						})
					}})
				}
				return contenders, func() {
					for _, stop := range stops[1:] {
						stop()
					}
					c.stop()
				}
			},
			check: func(_ config, o outcome) error {
				if o.open.streams != relayBrowsers || o.deltas < relayBrowsers {
					return fmt.Errorf("%d streams held open with %d deltas, want %d", o.open.streams, o.deltas, relayBrowsers)
				}
				return nil
			},
			key: openKey, row: openRow,
		},
	}
}

// relayBrowsers is the number of browsers of scenario 11b, in the full run
// and the smoke run alike.
const relayBrowsers = 1000

// floorRelay is the relay a careful engineer writes by hand, doing the job
// relay.Handler does in this scenario: decode the message, then one
// "data: {json}" event per chunk, flushed, and a heartbeat comment after
// relay.DefaultHeartbeat of silence (one timer, reset by each write, under
// the mutex that orders the writes).
func floorRelay(bot chatbot.Chatbot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		message, ok := floorStart(w, r)
		if !ok {
			return
		}
		rc := http.NewResponseController(w)
		var (
			mu      sync.Mutex
			stopped bool
			beat    *time.Timer
		)
		beat = time.AfterFunc(relay.DefaultHeartbeat, func() {
			mu.Lock()
			defer mu.Unlock()
			if !stopped {
				_, _ = io.WriteString(w, ": ping\n\n")
				_ = rc.Flush()
				beat.Reset(relay.DefaultHeartbeat)
			}
		})
		defer func() {
			mu.Lock()
			stopped = true
			mu.Unlock()
			beat.Stop()
		}()
		for chunk, err := range bot.Stream(r.Context(), chatbot.Request{Message: message}) {
			if err != nil {
				mu.Lock()
				_, _ = io.WriteString(w, "event: error\ndata: {}\n\n")
				mu.Unlock()
				return
			}
			if chunk.Text == "" {
				continue
			}
			mu.Lock()
			err := floorEvent(w, chunk.Text)
			if err == nil {
				err = rc.Flush()
			}
			beat.Reset(relay.DefaultHeartbeat)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	})
}

// floorRelayNoHeartbeat is floorRelay without the heartbeat, as this row
// measured it first: the cost of a relay's bare loop.
func floorRelayNoHeartbeat(bot chatbot.Chatbot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		message, ok := floorStart(w, r)
		if !ok {
			return
		}
		rc := http.NewResponseController(w)
		for chunk, err := range bot.Stream(r.Context(), chatbot.Request{Message: message}) {
			if err != nil {
				_, _ = io.WriteString(w, "event: error\ndata: {}\n\n")
				return
			}
			if chunk.Text == "" {
				continue
			}
			if err := floorEvent(w, chunk.Text); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
}

// floorStart decodes the message of the floor's request, and sets the
// headers of its stream; it answers a bad request itself.
func floorStart(w http.ResponseWriter, r *http.Request) (message string, ok bool) {
	var in struct {
		Message string `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return "", false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	return in.Message, true
}

// floorEvent writes the floor's event for one chunk's text.
func floorEvent(w io.Writer, text string) error {
	data, _ := json.Marshal(struct {
		Text string `json:"text"`
	}{text})
	_, err := fmt.Fprintf(w, "data: %s\n\n", data)
	return err
}

// browserSSE is the browser's side: post a message to the relay at url and
// count the text of its default events. A non-nil onDelta sees each text.
func browserSSE(ctx context.Context, hc *http.Client, url string, onDelta func(string)) (outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(`{"message":"Hello"}`)))
	if err != nil {
		return outcome{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return outcome{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var o outcome
	for ev, err := range sse.Read(resp.Body, nil) {
		if err != nil {
			return o, err
		}
		switch ev.Type {
		case "error":
			return o, fmt.Errorf("error event %s", ev.Data)
		case "", "message":
			var t struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal([]byte(ev.Data), &t); err != nil {
				return o, err
			}
			o.deltas++
			o.bytes += int64(len(t.Text))
			if onDelta != nil {
				onDelta(t.Text)
			}
		}
	}
	return o, nil
}
