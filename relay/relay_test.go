package relay_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/relay/relaytest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// hang bounds the waits for events that a correct program delivers at once.
const hang = 30 * time.Second

// full is a reply using every field of the reply model.
var full = []chatbot.Chunk{
	{Text: "Hello", ConversationID: "conv-1", MessageID: "msg-1"},
	{Text: ", wor", ConversationID: "conv-1", MessageID: "msg-1",
		Sources: []chatbot.Source{{ID: "doc-1", Title: "Pricing", URL: "https://example.com/pricing", Snippet: "From 9 €", Score: 0.8}}},
	{Text: "ld!", ConversationID: "conv-1", MessageID: "msg-1",
		Sources: []chatbot.Source{{ID: "doc-2", Title: "FAQ.pdf", Snippet: "Ask us"}}},
	{ConversationID: "conv-1", MessageID: "msg-1", Done: true, FinishReason: chatbot.FinishComplete,
		Usage: &chatbot.Usage{InputTokens: 12, OutputTokens: 3, TotalTokens: 15, Price: "0.0000760", Currency: "USD"}},
}

func TestFormatsCarryTheReply(t *testing.T) {
	t.Parallel()
	srv := serve(t, scripted{chunks: full})
	for f, accept := range accepts {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			resp := post(t, t.Context(), srv, accept, `{"message":"hi"}`)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
			assert.Equal(t, "no-cache, no-transform", resp.Header.Get("Cache-Control"))
			assert.Empty(t, resp.Header.Get("Content-Encoding"))
			reply, err := chatbot.Collect(relaytest.Read(resp))
			require.NoError(t, err)
			assert.Equal(t, "Hello, world!", reply.Text)
			assert.Equal(t, chatbot.FinishComplete, reply.FinishReason)
			if f == relay.FormatText {
				return // text carries the text and the finish reason only
			}
			assert.Equal(t, "conv-1", reply.ConversationID)
			assert.Equal(t, "msg-1", reply.MessageID)
			assert.Equal(t, []chatbot.Source{
				{ID: "doc-1", Title: "Pricing", URL: "https://example.com/pricing", Snippet: "From 9 €", Score: 0.8},
				{ID: "doc-2", Title: "FAQ.pdf", Snippet: "Ask us"},
			}, reply.Sources)
			assert.Equal(t, full[3].Usage, reply.Usage)
		})
	}
}

func TestAISDKWire(t *testing.T) {
	t.Parallel()
	srv := serve(t, scripted{chunks: []chatbot.Chunk{
		{Text: "Hi", ConversationID: "c", MessageID: "m"},
		{Text: "Bye", Replace: true, ConversationID: "c2", MessageID: "m"},
		{Done: true, FinishReason: chatbot.FinishActionRequired, Actions: []chatbot.Action{{ID: "call-1", Name: "lookup", Input: json.RawMessage(`{"q":1}`)}}},
	}})
	resp := post(t, t.Context(), srv, "", `{"message":"hi"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "v1", resp.Header.Get("X-Vercel-AI-UI-Message-Stream"))
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	want := `data: {"type":"start","messageId":"m","messageMetadata":{"conversationId":"c","messageId":"m"}}

data: {"type":"text-start","id":"text-0"}

data: {"type":"text-delta","id":"text-0","delta":"Hi"}

data: {"type":"message-metadata","messageMetadata":{"conversationId":"c2","messageId":"m"}}

data: {"type":"text-end","id":"text-0"}

data: {"type":"text-start","id":"text-1"}

data: {"type":"text-delta","id":"text-1","delta":"Bye"}

data: {"type":"text-end","id":"text-1"}

data: {"type":"tool-input-available","toolCallId":"call-1","toolName":"lookup","input":{"q":1}}

data: {"type":"finish","finishReason":"tool-calls","messageMetadata":{"finishReason":"action_required"}}

data: [DONE]

`
	assert.Equal(t, want, string(body))
}

func TestReplaceInEachFormat(t *testing.T) {
	t.Parallel()
	srv := serve(t, scripted{chunks: []chatbot.Chunk{
		{Text: "bad words"}, {Text: "[removed]", Replace: true}, {Text: ".", Done: true, FinishReason: chatbot.FinishContentFilter},
	}})
	for f, accept := range accepts {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			reply, err := chatbot.Collect(relaytest.Read(post(t, t.Context(), srv, accept, `{"message":"hi"}`)))
			require.NoError(t, err)
			assert.Equal(t, "[removed].", reply.Text)
			assert.Equal(t, chatbot.FinishContentFilter, reply.FinishReason)
		})
	}
}

func TestErrorAfterTheFirstByte(t *testing.T) {
	t.Parallel()
	const secret = "sk-secret-key https://api.provider.example/v1"
	providerErr := &chatbot.Error{Provider: "workspace", Code: chatbot.CodeServerError, Message: secret, Body: []byte(secret)}
	tests := map[string]scripted{
		"provider error": {chunks: []chatbot.Chunk{{Text: "Part"}, {Text: "ial"}}, err: providerErr},
		"cut stream":     {chunks: []chatbot.Chunk{{Text: "Part"}, {Text: "ial"}}}, // no Done chunk
	}
	for name, bot := range tests {
		srv := serve(t, bot)
		for f, accept := range accepts {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				t.Parallel()
				resp := post(t, t.Context(), srv, accept, `{"message":"hi"}`)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				reply, err := chatbot.Collect(relaytest.Read(resp))
				assert.Equal(t, "Partial", reply.Text, "the text already sent stays")
				var relayErr *relaytest.Error
				require.ErrorAs(t, err, &relayErr)
				assert.Equal(t, relay.CodeUpstreamError, relayErr.Code)
				assert.NotContains(t, relayErr.Message, "secret")
				assert.NotContains(t, relayErr.Message, "provider.example")
			})
		}
	}
}

// circuitOpen is a StatusError, as resilience.CircuitOpenError is.
type circuitOpen struct{ wait time.Duration }

func (e circuitOpen) Error() string { return "circuit open" }
func (e circuitOpen) HTTPStatus() (int, time.Duration) {
	return http.StatusServiceUnavailable, e.wait
}

func TestStatus(t *testing.T) {
	t.Parallel()
	const secret = "sk-live-123 at https://api.provider.example/chat?key=sk-live-123"
	withSecret := func(e *chatbot.Error) *chatbot.Error {
		e.Message, e.Body = secret, chatbot.ErrorBody(`{"error":"`+secret+`"}`)
		return e
	}
	clientLimited := &chatbot.Error{Provider: "workspace", Code: chatbot.CodeRateLimitExceeded, ProviderCode: "CLIENT_RATE_LIMITED", RetryAfter: 1500 * time.Millisecond}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		retry  string // Retry-After header
	}{
		{"invalid request (SDK)", &chatbot.Error{Code: chatbot.CodeInvalidRequest, Message: "the message is empty"}, 400, relay.CodeInvalidRequest, ""},
		{"invalid request (provider)", withSecret(&chatbot.Error{StatusCode: 422, Code: chatbot.CodeInvalidRequest}), 400, relay.CodeInvalidRequest, ""},
		{"rate limited (provider)", withSecret(chatbottest.RateLimited(12 * time.Second)), 429, relay.CodeRateLimited, "12"},
		{"rate limited (client-side), wrapped", errors.Join(errors.New("ctx"), clientLimited), 429, relay.CodeRateLimited, "2"},
		{"rate limited, no wait", chatbottest.RateLimited(0), 429, relay.CodeRateLimited, ""},
		{"circuit open", circuitOpen{wait: 30 * time.Second}, 503, relay.CodeUnavailable, "30"},
		{"quota exceeded", withSecret(chatbottest.QuotaExceeded()), 503, relay.CodeQuotaExceeded, ""},
		{"idle timeout", errors.Join(errors.New("workspace: stream"), chatbot.ErrIdleTimeout), 504, relay.CodeTimeout, ""},
		{"deadline", context.DeadlineExceeded, 504, relay.CodeTimeout, ""},
		{"unauthorized", withSecret(chatbottest.Unauthorized()), 502, relay.CodeUpstreamRefused, ""},
		{"forbidden", withSecret(chatbottest.Forbidden()), 502, relay.CodeUpstreamRefused, ""},
		{"not found", withSecret(chatbottest.NotFound()), 502, relay.CodeUpstreamRefused, ""},
		{"server error", withSecret(chatbottest.ServerError()), 502, relay.CodeUpstreamError, ""},
		{"transport", errors.New("dial tcp: lookup " + secret), 502, relay.CodeUpstreamError, ""},
		{"stream used", chatbot.ErrStreamUsed, 500, relay.CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.status, relay.Status(tt.err))
			rec := httptest.NewRecorder()
			relay.WriteError(rec, tt.err)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.retry, rec.Header().Get("Retry-After"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			var body struct{ Code, Message string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tt.code, body.Code)
			assert.NotEmpty(t, body.Message)
			assert.NotContains(t, rec.Body.String(), "sk-live")
			assert.NotContains(t, rec.Body.String(), "provider.example")
		})
	}
	t.Run("SDK reason kept", func(t *testing.T) {
		rec := httptest.NewRecorder()
		relay.WriteError(rec, &chatbot.Error{Code: chatbot.CodeInvalidRequest, Message: "the message is empty"})
		assert.Contains(t, rec.Body.String(), "the message is empty")
	})
	t.Run("nil and cancellation", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, relay.Status(nil))
		assert.Equal(t, 0, relay.Status(errors.Join(errors.New("x"), context.Canceled)))
		rec := httptest.NewRecorder()
		relay.WriteError(rec, context.Canceled)
		assert.False(t, rec.Flushed)
		assert.Empty(t, rec.Body.String())
		assert.Empty(t, rec.Header())
	})
}

func TestErrorBeforeTheFirstByte(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot().Fail(chatbottest.RateLimited(7 * time.Second))
	srv := serve(t, bot)
	resp := post(t, t.Context(), srv, "", `{"message":"hi"}`)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	_, err := chatbot.Collect(relaytest.Read(resp))
	var relayErr *relaytest.Error
	require.ErrorAs(t, err, &relayErr)
	assert.Equal(t, relaytest.Error{Status: 429, Code: relay.CodeRateLimited, Message: "Too many requests: try again later.", RetryAfter: 7 * time.Second}, *relayErr)
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot()
	srv := serve(t, bot)
	bad := map[string]string{
		"empty message":       `{"message":"  "}`,
		"not JSON":            `message=hi`,
		"too large":           `{"message":"` + strings.Repeat("a", relay.MaxBodyBytes) + `"}`,
		"last not the user's": `{"messages":[{"role":"user","parts":[{"type":"text","text":"hi"}]},{"role":"assistant","parts":[{"type":"text","text":"yo"}]}]}`,
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			resp := post(t, t.Context(), srv, "", body)
			_, err := chatbot.Collect(relaytest.Read(resp))
			var relayErr *relaytest.Error
			require.ErrorAs(t, err, &relayErr)
			assert.Equal(t, http.StatusBadRequest, relayErr.Status)
			assert.Equal(t, relay.CodeInvalidRequest, relayErr.Code)
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		resp, err := srv.Client().Post(srv.URL+"/chat", "text/plain", strings.NewReader(`{"message":"hi"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	require.Empty(t, bot.Requests(), "nothing is sent for the caller's mistakes")

	t.Run("AI SDK transport body", func(t *testing.T) {
		body := `{"id":"chat-1","trigger":"submit-message","conversationId":"conv-9","messages":[
			{"id":"1","role":"user","parts":[{"type":"text","text":"Hi"}]},
			{"id":"2","role":"assistant","parts":[{"type":"text","text":"Hello"},{"type":"source-url","sourceId":"s","url":"u"}]},
			{"id":"3","role":"user","parts":[{"type":"text","text":"Price"},{"type":"text","text":"?"}]}]}`
		resp := post(t, t.Context(), srv, "", body)
		_, err := chatbot.Collect(relaytest.Read(resp))
		require.NoError(t, err)
		reqs := bot.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, chatbot.Request{Message: "Price?", ConversationID: "conv-9", History: []chatbot.Message{
			{Role: chatbot.RoleUser, Text: "Hi"}, {Role: chatbot.RoleAssistant, Text: "Hello"},
		}}, reqs[0])
	})
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]relay.Format{
		"":                                    relay.FormatAISDK,
		"*/*":                                 relay.FormatAISDK,
		"text/event-stream":                   relay.FormatSSE,
		"text/plain;q=0.9, application/json":  relay.FormatText,
		"application/json, text/event-stream": relay.FormatSSE,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Accept", accept)
		assert.Equal(t, want, relay.Negotiate(r), accept)
	}
}

func TestWithFormatOverridesAccept(t *testing.T) {
	t.Parallel()
	srv := serve(t, scripted{chunks: full}, relay.WithFormat(relay.FormatText))
	resp := post(t, t.Context(), srv, "text/event-stream", `{"message":"hi"}`)
	defer resp.Body.Close()
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
}

// TestBrowserGoneCancelsUpstream relays a real provider client over its
// fake: when the browser goes away mid-reply, the fake sees its connection
// close and the handler returns.
func TestBrowserGoneCancelsUpstream(t *testing.T) {
	t.Parallel()
	fake := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(fake.Close)
	fake.SetReply("First ", "second ", "third")
	fake.StallAfter(1)
	client, err := workspace.NewClient(fake.APIKey(), fake.ChatbotID(), chatbot.WithBaseURL(fake.URL))
	require.NoError(t, err)

	returned := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := relay.DecodeJSON(r)
		if !assert.NoError(t, err) {
			return
		}
		returned <- relay.Write(w, r, client.Stream(r.Context(), req), relay.WithFormat(relay.FormatSSE))
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := post(t, ctx, srv, "", `{"message":"hi"}`)
	for c, err := range relaytest.Read(resp) {
		require.NoError(t, err)
		if c.Text != "" {
			assert.Equal(t, "First ", c.Text)
			break
		}
	}
	select {
	case <-fake.Stalled():
	case <-time.After(hang):
		t.Fatal("the fake never stalled")
	}
	cancel() // the browser goes away

	select {
	case <-fake.Disconnects():
	case <-time.After(hang):
		t.Fatal("the provider's connection stayed open")
	}
	select {
	case err := <-returned:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(hang):
		t.Fatal("the handler did not return")
	}
}

// blockingWriter is a ResponseWriter whose writes block until released,
// as to a browser that does not read.
type blockingWriter struct {
	header  http.Header
	writing chan string
	release chan struct{}
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(p []byte) (int, error) {
	w.writing <- string(p)
	<-w.release
	return len(p), nil
}

func TestSlowBrowserBlocksTheUpstream(t *testing.T) {
	t.Parallel()
	var pulled atomic.Int32
	chunks := func(yield func(chatbot.Chunk, error) bool) {
		for i := range 3 {
			pulled.Add(1)
			if !yield(chatbot.Chunk{Text: "x", Done: i == 2}, nil) {
				return
			}
		}
	}
	w := &blockingWriter{header: http.Header{}, writing: make(chan string), release: make(chan struct{})}
	r := httptest.NewRequest(http.MethodPost, "/chat", nil)
	done := make(chan error, 1)
	go func() {
		done <- relay.Write(w, r, iter.Seq2[chatbot.Chunk, error](chunks), relay.WithFormat(relay.FormatText))
	}()
	for i := range 3 {
		select {
		case got := <-w.writing:
			assert.Equal(t, "x", got)
		case <-time.After(hang):
			t.Fatal("no write")
		}
		// The write of chunk i is blocked: the next chunk was not pulled.
		assert.Equal(t, int32(i+1), pulled.Load())
		w.release <- struct{}{}
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(hang):
		t.Fatal("Write did not return")
	}
	assert.Equal(t, "complete", w.header.Get(relay.TrailerFinish))
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(0, 0))
	bot := chatbottest.NewBot().ReplyChunks("one ", "two")
	bot.StallAfter(1)
	h := relay.Handler(bot, nil, relay.WithHeartbeat(5*time.Second), relay.WithClock(clk))
	returned := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := post(t, ctx, srv, "text/event-stream", `{"message":"hi"}`)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent := func() string {
		var b strings.Builder
		for {
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			if line == "\n" {
				return b.String()
			}
			b.WriteString(line)
		}
	}
	assert.Equal(t, "event: meta\ndata: {\"conversationId\":\"conv-1\",\"messageId\":\"msg-1\"}\ndata: {\"text\":\"one \"}\n", readEvent()+readEvent())
	select {
	case <-bot.Stalled():
	case <-time.After(hang):
		t.Fatal("the bot never stalled")
	}
	// The heartbeat ticks every half interval, and pings a stream silent
	// for the interval.
	clk.WaitFor(t, 2500*time.Millisecond)
	clk.Advance(2500 * time.Millisecond)
	clk.WaitArmed(t, 2) // re-armed
	clk.Advance(2500 * time.Millisecond)
	assert.Equal(t, ": ping\n", readEvent())
	clk.Advance(2500 * time.Millisecond)
	clk.Advance(2500 * time.Millisecond)
	assert.Equal(t, ": ping\n", readEvent(), "one every interval")

	cancel()
	select {
	case <-bot.Disconnects():
	case <-time.After(hang):
		t.Fatal("the bot was not cancelled")
	}
	select {
	case <-returned:
	case <-time.After(hang):
		t.Fatal("the handler did not return")
	}
	assert.Empty(t, clk.Pending(), "the heartbeat ends with the handler")
}

// TestChunkedBodyBrowserGone sends the message as a chunked body whose end
// comes after the JSON value has been decoded, as a streaming upload's may,
// and checks that a browser that goes away while the chatbot is silent is
// still noticed although nothing read the body's end.
func TestChunkedBodyBrowserGone(t *testing.T) {
	t.Parallel()
	bot := chatbottest.NewBot().ReplyChunks("one ", "two")
	bot.StallAfter(1)
	decoded := make(chan struct{})
	srv := httptest.NewServer(relay.Handler(bot, func(r *http.Request) (chatbot.Request, error) {
		req, err := relay.DecodeJSON(r)
		close(decoded)
		return req, err
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	body, upload := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/chat", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	responses := make(chan *http.Response, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if assert.NoError(t, err) {
			responses <- resp
		}
	}()
	_, err = io.WriteString(upload, `{"message":"hi"}`)
	require.NoError(t, err)
	select {
	case <-decoded:
	case <-time.After(hang):
		t.Fatal("the message was not decoded")
	}
	require.NoError(t, upload.Close()) // the body ends after its JSON was decoded

	var resp *http.Response
	select {
	case resp = <-responses:
	case <-time.After(hang):
		t.Fatal("no response")
	}
	for c, err := range relaytest.Read(resp) {
		require.NoError(t, err)
		if c.Text != "" {
			break
		}
	}
	select {
	case <-bot.Stalled():
	case <-time.After(hang):
		t.Fatal("the bot never stalled")
	}
	cancel()
	select {
	case <-bot.Disconnects():
	case <-time.After(hang):
		t.Fatal("the chatbot call was not cancelled")
	}
}

// TestNoGoroutineStays relays a real provider client to a browser that goes
// away mid-reply, heartbeat on, and then finds no goroutine running code of
// the relay or of the provider client. It is not parallel, so that no other
// test's relay runs meanwhile.
func TestNoGoroutineStays(t *testing.T) {
	fake := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(fake.Close)
	fake.SetReply("First ", "second")
	fake.StallAfter(1)
	client, err := workspace.NewClient(fake.APIKey(), fake.ChatbotID(), chatbot.WithBaseURL(fake.URL))
	require.NoError(t, err)
	h := relay.Handler(client, nil, relay.WithHeartbeat(time.Hour))
	returned := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	resp := post(t, ctx, srv, "text/event-stream", `{"message":"hi"}`)
	for c, err := range relaytest.Read(resp) {
		require.NoError(t, err)
		if c.Text != "" {
			break
		}
	}
	cancel()
	select {
	case <-fake.Disconnects():
	case <-time.After(hang):
		t.Fatal("the provider's connection stayed open")
	}
	select {
	case <-returned:
	case <-time.After(hang):
		t.Fatal("the handler did not return")
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, code := range []string{"chatbot-go/chatbot/relay.", "chatbot-go/chatbot/workspace.", "chatbot-go/chatbot/internal/rest."} {
		assert.NotContains(t, stacks, code)
	}
}

// TestActionRequired checks that a reply waiting for the caller's actions
// is relayed as a whole reply, never as an upstream failure: Status and
// WriteError for Chat's error, and each stream format end to end.
func TestActionRequired(t *testing.T) {
	t.Parallel()
	actions := []chatbot.Action{{ID: "call-1", Name: "lookup", Input: json.RawMessage(`{"q":"x"}`)}}
	turn := chatbottest.Turn{Chunks: []string{"Let me ", "check."}, FinishReason: chatbot.FinishActionRequired, Actions: actions}

	t.Run("Chat", func(t *testing.T) {
		t.Parallel()
		reply, err := chatbottest.NewBot().Script(turn).Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, chatbot.ErrActionRequired)
		require.NotNil(t, reply)
		assert.Equal(t, http.StatusOK, relay.Status(err))
		assert.Equal(t, time.Duration(0), relay.RetryAfter(err))
		rec := httptest.NewRecorder()
		relay.WriteError(rec, err)
		assert.Empty(t, rec.Header(), "nothing written: the reply is to be sent")
		assert.Empty(t, rec.Body.String())
		assert.Equal(t, actions, reply.Actions)
	})
	for f, accept := range accepts {
		t.Run("stream "+string(f), func(t *testing.T) {
			t.Parallel()
			srv := serve(t, chatbottest.NewBot().Script(turn))
			resp := post(t, t.Context(), srv, accept, `{"message":"hi"}`)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			got, err := chatbot.Collect(relaytest.Read(resp))
			require.ErrorIs(t, err, chatbot.ErrActionRequired, "a finish, not a relay error")
			var relayErr *relaytest.Error
			require.False(t, errors.As(err, &relayErr), "no error part: %v", err)
			assert.Equal(t, "Let me check.", got.Text)
			assert.Equal(t, chatbot.FinishActionRequired, got.FinishReason)
			if f != relay.FormatText {
				assert.Equal(t, actions, got.Actions)
			}
		})
	}
	t.Run("stream repeating it as its error", func(t *testing.T) {
		t.Parallel()
		srv := serve(t, scripted{chunks: []chatbot.Chunk{
			{Text: "Let me check."},
			{Done: true, FinishReason: chatbot.FinishActionRequired, Actions: actions},
		}, err: fmt.Errorf("bot: %w", chatbot.ErrActionRequired)})
		resp := post(t, t.Context(), srv, "", `{"message":"hi"}`)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		got, err := chatbot.Collect(relaytest.Read(resp))
		require.ErrorIs(t, err, chatbot.ErrActionRequired)
		assert.Equal(t, actions, got.Actions)
	})
	t.Run("the error without the final chunk", func(t *testing.T) {
		t.Parallel()
		// The actions never came: an incomplete reply, not an empty 200.
		for _, chunks := range [][]chatbot.Chunk{nil, {{Text: "Let me check."}}} {
			srv := serve(t, scripted{chunks: chunks, err: fmt.Errorf("bot: %w", chatbot.ErrActionRequired)})
			resp := post(t, t.Context(), srv, "", `{"message":"hi"}`)
			_, err := chatbot.Collect(relaytest.Read(resp))
			var relayErr *relaytest.Error
			require.ErrorAs(t, err, &relayErr)
			assert.Equal(t, relay.CodeUpstreamError, relayErr.Code)
			if chunks == nil {
				assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			}
		}
	})
}

// TestHeartbeatShared checks that the streams of one interval share one
// timer, that each silent stream gets its own heartbeat, and that the
// timer stops with the last stream.
func TestHeartbeatShared(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(0, 0))
	h := relay.Handler(silent{}, nil, relay.WithHeartbeat(4*time.Second), relay.WithClock(clk))
	returned := make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	var (
		cancels [2]context.CancelFunc
		readers [2]*bufio.Reader
	)
	for i := range readers {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		cancels[i] = cancel
		resp := post(t, ctx, srv, "text/event-stream", `{"message":"hi"}`)
		defer resp.Body.Close()
		readers[i] = bufio.NewReader(resp.Body)
		line, err := readers[i].ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, `data: {"text":"hi"}`+"\n", line)
	}
	assert.Equal(t, []time.Duration{2 * time.Second}, clk.Pending(), "one timer for both streams")
	clk.Advance(2 * time.Second)
	clk.Advance(2 * time.Second)
	for _, br := range readers {
		for _, want := range []string{"\n", ": ping\n"} { // the end of the text event, then the ping
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, want, line)
		}
	}
	cancels[0]()
	select {
	case <-returned:
	case <-time.After(hang):
		t.Fatal("the handler did not return")
	}
	assert.Equal(t, []time.Duration{2 * time.Second}, clk.Pending(), "still ticking for the other stream")
	cancels[1]()
	select {
	case <-returned:
	case <-time.After(hang):
		t.Fatal("the handler did not return")
	}
	assert.Empty(t, clk.Pending(), "no timer once no stream is open")
}

// silent streams "hi", then nothing until the caller gives up.
type silent struct{}

func (silent) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(silent{}.Stream(ctx, req))
}

func (silent) Stream(ctx context.Context, _ chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		if yield(chatbot.Chunk{Text: "hi"}, nil) {
			<-ctx.Done()
			yield(chatbot.Chunk{}, ctx.Err())
		}
	}
}

// TestHeartbeatStalledBrowser checks that a heartbeat blocked by a browser
// that stopped reading holds up no other stream's heartbeat beyond its own
// tick.
func TestHeartbeatStalledBrowser(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(0, 0))
	opts := []relay.Option{relay.WithHeartbeat(4 * time.Second), relay.WithClock(clk), relay.WithFormat(relay.FormatSSE)}
	release := make(chan struct{})
	stalled := &pingWriter{header: http.Header{}, started: make(chan struct{}), pinged: make(chan struct{}, 1), block: release}
	healthy := &pingWriter{header: http.Header{}, started: make(chan struct{}), pinged: make(chan struct{}, 4)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	returned := make(chan error, 2)
	// The healthy stream first: the stalled one, added last, comes first
	// in each tick.
	for _, w := range []*pingWriter{healthy, stalled} {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/chat", nil)
		go func() { returned <- relay.Write(w, r, silent{}.Stream(ctx, chatbot.Request{}), opts...) }()
		select {
		case <-w.started:
		case <-time.After(hang):
			t.Fatal("the stream did not start")
		}
	}
	clk.Advance(2 * time.Second)    // silent 2 s: no heartbeat
	go clk.Advance(2 * time.Second) // silent 4 s: this tick blocks on the stalled browser
	select {
	case <-stalled.pinged:
	case <-time.After(hang):
		t.Fatal("no heartbeat for the stalled stream")
	}
	clk.WaitFor(t, 2*time.Second) // the next tick was armed before the blocked one wrote
	clk.Advance(2 * time.Second)
	select {
	case <-healthy.pinged:
	case <-time.After(hang):
		t.Fatal("the healthy stream had no heartbeat while the other one stalled")
	}
	close(release)
	cancel()
	for range 2 {
		select {
		case err := <-returned:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(hang):
			t.Fatal("Write did not return")
		}
	}
	assert.Empty(t, clk.Pending())
}

// pingWriter is a ResponseWriter that closes started at the first write and
// reports each heartbeat on pinged; with block set, a heartbeat's write
// waits until block is closed, as a browser that stopped reading makes it.
type pingWriter struct {
	header  http.Header
	once    sync.Once
	started chan struct{}
	pinged  chan struct{}
	block   chan struct{}
}

func (w *pingWriter) Header() http.Header { return w.header }
func (w *pingWriter) WriteHeader(int)     {}
func (w *pingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	if string(p) == ": ping\n\n" {
		w.pinged <- struct{}{}
		if w.block != nil {
			<-w.block
		}
	}
	return len(p), nil
}
