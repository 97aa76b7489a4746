package fake_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/chatbottest/fakes"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// await fails the test if c yields nothing within a bound far above any
// machine's latency.
func await(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		require.FailNow(t, what)
	}
}

// replier is a provider fake in miniature: scripted failures and stalls,
// then the scripted reply (or "default") written part by part.
func replier(t *testing.T) *fake.Server {
	t.Helper()
	var srv *fake.Server
	srv = fake.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.Intercept(w, r, func(w http.ResponseWriter, f fakes.Failure) {
			fake.SetRetryAfter(w.Header(), f)
			fake.WriteBody(w, fake.StatusOr(f, 500), f.Message)
		}) {
			return
		}
		parts, ok := srv.Reply(r.URL.Query().Get("m"))
		if !ok {
			parts = []string{"default"}
		}
		out := srv.Output(w, r)
		if !out.Start(http.StatusOK) {
			return
		}
		for _, p := range parts {
			if !out.Piece([]byte(p)) {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, srv *fake.Server, query string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/?"+query, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestReplyScripting(t *testing.T) {
	t.Parallel()
	srv := replier(t)
	assert.Equal(t, "default", body(t, get(t, t.Context(), srv, "m=hi")))
	srv.SetReply("a", "b")
	assert.Equal(t, "ab", body(t, get(t, t.Context(), srv, "m=hi")))
	srv.SetAnswer(func(m string) string { return "you said " + m })
	parts, ok := srv.Reply("hi there")
	require.True(t, ok)
	assert.Equal(t, []string{"you ", "said ", "hi ", "there"}, parts, "a computed answer is split into words")
	srv.SetReply("c")
	assert.Equal(t, "c", body(t, get(t, t.Context(), srv, "m=hi")), "SetReply replaces SetAnswer")
	srv.SetReply()
	assert.Equal(t, "default", body(t, get(t, t.Context(), srv, "m=hi")), "no parts ends the scripting")
}

func TestInterceptCountsAndOrder(t *testing.T) {
	t.Parallel()
	srv := replier(t)
	srv.FailNext(2, fakes.Failure{Status: 418, Message: "teapot"})
	srv.StallNext(1)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	await(t, srv.Stalled(), "a stall comes before a failure")
	cancel()
	await(t, srv.Disconnects(), "the stalled request ended when its client left")
	<-done

	var got []int
	for range 3 {
		got = append(got, get(t, t.Context(), srv, "").StatusCode)
	}
	assert.Equal(t, []int{418, 418, 200}, got)

	srv.RateLimitNext(1, 1500*time.Millisecond)
	resp := get(t, t.Context(), srv, "")
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")
	assert.Equal(t, 200, get(t, t.Context(), srv, "").StatusCode)
	assert.Equal(t, 6, srv.Count())
	assert.Len(t, srv.Requests(), 6)
}

func TestOutputShapes(t *testing.T) {
	t.Parallel()
	t.Run("split at sizes and offsets", func(t *testing.T) {
		t.Parallel()
		srv := replier(t)
		srv.SetReply("abcdef", "ghij")
		srv.SplitWrites(4, 5)
		resp := get(t, t.Context(), srv, "")
		assert.Equal(t, "abcdefghij", body(t, resp))
	})
	t.Run("cut", func(t *testing.T) {
		t.Parallel()
		srv := replier(t)
		srv.SetReply("abcdef", "ghij")
		srv.CutAfter(8)
		b, err := io.ReadAll(get(t, t.Context(), srv, "").Body)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, "abcdefgh", string(b))
	})
	for _, after := range []int{0, 1} {
		t.Run("stall after parts", func(t *testing.T) {
			t.Parallel()
			srv := replier(t)
			srv.SetReply("one", "two")
			srv.StallAfter(after)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			resp := get(t, ctx, srv, "")
			assert.Equal(t, 200, resp.StatusCode, "the headers come before the stall")
			if after == 1 {
				buf := make([]byte, 3)
				_, err := io.ReadFull(bufio.NewReader(resp.Body), buf)
				require.NoError(t, err)
				assert.Equal(t, "one", string(buf))
			}
			await(t, srv.Stalled(), "the reply stalled")
			cancel()
			await(t, srv.Disconnects(), "the server saw the client leave")
		})
	}
	t.Run("pace holds the next part", func(t *testing.T) {
		t.Parallel()
		srv := replier(t)
		srv.SetReply("one", "two")
		srv.SetPace(time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		resp := get(t, ctx, srv, "")
		buf := make([]byte, 3)
		_, err := io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		assert.Equal(t, "one", string(buf))
		cancel() // the server is waiting out the pace: leaving ends it
		await(t, srv.Disconnects(), "the paced reply ended when its client left")
	})
}

func TestConnections(t *testing.T) {
	t.Parallel()
	srv := replier(t)
	for range 3 {
		body(t, get(t, t.Context(), srv, ""))
	}
	assert.Equal(t, 1, srv.Connections(), "one keep-alive connection")
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 2, srv.Connections())
}

func TestWords(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"You ", "said: ", "hi"}, fake.Words("You said: hi"))
	assert.Equal(t, []string{"a ", " ", "b "}, fake.Words("a  b "))
	assert.Nil(t, fake.Words(""))
}

func TestWriteBody(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"a":1}`:        "application/json",
		`[1]`:            "application/json",
		"<html>x</html>": "text/html; charset=utf-8",
		"plain words":    "text/plain; charset=utf-8",
		"":               "",
	} {
		rec := httptest.NewRecorder()
		fake.WriteBody(rec, 503, body)
		assert.Equal(t, 503, rec.Code)
		assert.Equal(t, want, rec.Header().Get("Content-Type"), body)
		assert.Equal(t, body, rec.Body.String())
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	fake.WriteJSON(rec, 201, map[string]int{"a": 1})
	assert.Equal(t, 201, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, `{"a":1}`+"\n", rec.Body.String())
}

// TestOutputJSONAndEvents: JSON answers a whole JSON body, StartEvents an
// event stream's headers, both under the server's shape (a stall at 0
// holds the JSON body back).
func TestOutputJSONAndEvents(t *testing.T) {
	t.Parallel()
	var srv *fake.Server
	srv = fake.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := srv.Output(w, r)
		if r.URL.Query().Get("m") == "json" {
			out.JSON([]byte(`{"ok":true}`))
			return
		}
		if out.StartEvents() {
			out.Piece([]byte("data: x\n\n"))
		}
	}))
	t.Cleanup(srv.Close)

	resp := get(t, t.Context(), srv, "m=json")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, `{"ok":true}`, body(t, resp))

	resp = get(t, t.Context(), srv, "m=events")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "data: x\n\n", body(t, resp))

	srv.StallAfter(0)
	ctx, cancel := context.WithCancel(t.Context())
	resp = get(t, ctx, srv, "m=json")
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "the headers come before the stall")
	await(t, srv.Stalled(), "the JSON reply did not stall before its body")
	cancel()
	await(t, srv.Disconnects(), "the server did not see the client leave")
}

func TestFailureRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int{0: 0, -time.Second: 0, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Hour: 3600} {
		assert.Equal(t, want, fakes.Failure{RetryAfter: d}.RetryAfterSeconds(), d)
	}
}

func TestServerReadsItsClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := fakes.NewManualClock(at)
	srv := fake.NewServerWithClock(http.NotFoundHandler(), clock)
	t.Cleanup(srv.Close)
	assert.Equal(t, at, srv.Now())
	clock.Advance(time.Minute)
	assert.Equal(t, at.Add(time.Minute), srv.Now())

	real := fake.NewServer(http.NotFoundHandler())
	t.Cleanup(real.Close)
	assert.False(t, real.Now().IsZero(), "the default is the real clock")
	assert.True(t, strings.HasPrefix(real.URL, "http://127.0.0.1:"))
}

func TestDecodeBody(t *testing.T) {
	t.Parallel()
	var v struct{ A int }
	require.NoError(t, fake.DecodeBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader("")), &v), "an empty body is an empty object")
	require.NoError(t, fake.DecodeBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"A":3}`)), &v))
	assert.Equal(t, 3, v.A)
	require.Error(t, fake.DecodeBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"A":`)), &v))
}
