package workspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// chatBody is the chat request as the tests read it back.
type chatBody struct {
	Message        string            `json:"message"`
	ConversationID string            `json:"conversationId"`
	Stream         *bool             `json:"stream"`
	Metadata       map[string]string `json:"metadata"`
}

func lastBody(t *testing.T, srv *workspacetest.Server) (chatBody, map[string]json.RawMessage) {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	raw := reqs[len(reqs)-1].Body
	var b chatBody
	require.NoError(t, json.Unmarshal(raw, &b))
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return b, m
}

func TestChat(t *testing.T) {
	t.Parallel()
	// The chatbot's own default is to stream: Chat must still get JSON.
	srv, c := setup(t, workspacetest.Config{StreamByDefault: true})
	srv.SetReply("Hello! ", "How can I help?")

	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hello, how can you help me?"})
	require.NoError(t, err)
	assert.Equal(t, "Hello! How can I help?", reply.Text)
	require.NotEmpty(t, reply.ConversationID)
	assert.NotEmpty(t, reply.MessageID)
	require.NotNil(t, reply.RateLimit)
	assert.Equal(t, workspacetest.DefaultRateLimit, reply.RateLimit.Limit)
	assert.Equal(t, workspacetest.DefaultRateLimit-1, reply.RateLimit.Remaining)
	assert.Equal(t, 1, reply.RateLimit.Used)
	assert.False(t, reply.RateLimit.Reset.IsZero())
	assert.Contains(t, string(reply.Raw), `"response":"Hello! How can I help?"`)

	body, raw := lastBody(t, srv)
	require.NotNil(t, body.Stream, `"stream" must be sent explicitly`)
	assert.False(t, *body.Stream)
	assert.Equal(t, "Hello, how can you help me?", body.Message)
	assert.NotContains(t, raw, "conversationId")
	assert.NotContains(t, raw, "metadata")
	assert.Equal(t, "application/json", srv.Requests()[0].Header.Get("Accept"))

	next, err := c.Chat(t.Context(), chatbot.Request{Message: "Tell me more", ConversationID: reply.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, reply.ConversationID, next.ConversationID)
	assert.NotEqual(t, reply.MessageID, next.MessageID)
	body, _ = lastBody(t, srv)
	assert.Equal(t, reply.ConversationID, body.ConversationID)
	assert.Equal(t, []string{"Hello, how can you help me?", "Tell me more"}, srv.Messages(reply.ConversationID))
}

func TestChatMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  chatbot.Request
		want map[string]string
	}{
		{name: "none", req: chatbot.Request{}, want: nil},
		{name: "metadata only", req: chatbot.Request{Metadata: map[string]string{"source": "mobile_app"}},
			want: map[string]string{"source": "mobile_app"}},
		{name: "user fields", req: chatbot.Request{User: chatbot.User{ID: "user_123", Name: "Ada", Email: "ada@example.com"}},
			want: map[string]string{"userId": "user_123", "userName": "Ada", "userEmail": "ada@example.com"}},
		{name: "metadata wins over user", req: chatbot.Request{
			User:     chatbot.User{ID: "user_123", Email: "ada@example.com"},
			Metadata: map[string]string{"userId": "crm-9", "source": "web"}},
			want: map[string]string{"userId": "crm-9", "source": "web", "userEmail": "ada@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{})
			var before map[string]string
			if tt.req.Metadata != nil {
				before = make(map[string]string)
				for k, v := range tt.req.Metadata {
					before[k] = v
				}
			}
			tt.req.Message = "hi"
			_, err := c.Chat(t.Context(), tt.req)
			require.NoError(t, err)
			body, _ := lastBody(t, srv)
			assert.Equal(t, tt.want, body.Metadata)
			assert.Equal(t, before, tt.req.Metadata, "the caller's map is not modified")
		})
	}
}

func TestChatInvalidMessage(t *testing.T) {
	t.Parallel()
	for name, msg := range map[string]string{
		"empty": "", "blank": " \n", "NUL": "a\x00b", "invalid UTF-8": "\xff\xfe",
		"too long": strings.Repeat("a", 100_001),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: msg})
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 0, apiErr.StatusCode)
			_, err = chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: msg}))
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Equal(t, 0, srv.Count(), "nothing is sent")
		})
	}
}

func TestMetadataKeyAndValueAreValidatedEachOnItsOwn(t *testing.T) {
	t.Parallel()
	for name, md := range map[string]map[string]string{
		"key ends in half a character the value completes":  {"note\xe2\x82": "\xac"},
		"value starts with the rest of the key's character": {"\xe2": "\x82\xac"},
		"invalid UTF-8 key":   {"\xff": "ok"},
		"invalid UTF-8 value": {"ok": "\xff"},
		"NUL in key":          {"a\x00": "b"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi", Metadata: md})
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			_, err = chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", Metadata: md}))
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Equal(t, 0, srv.Count(), "nothing is sent")
		})
	}
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file       string
		status     int
		sentinel   error
		code       string
		message    string
		retryAfter time.Duration
	}{
		{"error_invalid_api_key.json", 401, chatbot.ErrUnauthorized, "INVALID_API_KEY", "Invalid or inactive API key", 0},
		{"error_missing_auth_header.json", 401, chatbot.ErrUnauthorized, "MISSING_AUTH_HEADER", "Missing authorization header", 0},
		{"error_chatbot_not_found.json", 404, chatbot.ErrNotFound, "CHATBOT_NOT_FOUND", "Chatbot not found or access denied", 0},
		{"error_insufficient_credits.json", 402, chatbot.ErrQuotaExceeded, "INSUFFICIENT_CREDITS",
			"Insufficient credits to generate AI response. Please upgrade your plan.", 0},
		{"error_rate_limit_exceeded.json", 429, chatbot.ErrRateLimited, "RATE_LIMIT_EXCEEDED",
			"Rate limit exceeded. Please wait before sending another message.", 60 * time.Second},
		{"error_validation.json", 400, chatbot.ErrInvalidRequest, "REQUEST_VALIDATION_FAILED", "Invalid request data: message: Required", 0},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.file)
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			}, chatbot.WithMaxRetryWait(time.Second))
			for _, call := range []func() error{
				func() error { _, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"}); return err },
				func() error {
					_, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
					return err
				},
			} {
				err := call()
				require.ErrorIs(t, err, tt.sentinel)
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "workspace", apiErr.Provider)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				assert.Equal(t, tt.code, apiErr.ProviderCode)
				assert.Equal(t, tt.message, apiErr.Message)
				assert.Equal(t, tt.retryAfter, apiErr.RetryAfter)
				assert.JSONEq(t, string(body), string(apiErr.Body))
			}
		})
	}
}

func TestChatScriptedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status   int
		code     string
		sentinel error
	}{
		{401, "MISSING_AUTH_HEADER", chatbot.ErrUnauthorized},
		{404, "CHATBOT_NOT_FOUND", chatbot.ErrNotFound},
		{402, "INSUFFICIENT_CREDITS", chatbot.ErrQuotaExceeded},
		{500, "INTERNAL", chatbot.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{}, chatbot.WithMaxRetries(2))
			srv.FailNext(1, workspacetest.Failure{Status: tt.status, Code: tt.code, Message: "scripted"})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.ErrorIs(t, err, tt.sentinel)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.code, apiErr.ProviderCode)
			assert.Equal(t, "scripted", apiErr.Message)
			assert.Equal(t, 1, srv.Count(), "a chat POST is not retried after an error")
		})
	}
}

func TestChatMalformedResponse(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "gateway")
	})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.Error(t, err)
	var apiErr *chatbot.Error
	assert.False(t, errors.As(err, &apiErr), "a decoding failure is not a provider error")
	var syntaxErr *json.SyntaxError
	assert.ErrorAs(t, err, &syntaxErr)
	assert.True(t, strings.HasPrefix(err.Error(), "workspace: "), err.Error())
}

func TestChatSuccessFalseIn200(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":false,"error":"Insufficient credits","code":"INSUFFICIENT_CREDITS"}`)
	})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Insufficient credits", apiErr.Message)
}

func TestRateLimitSlidingWindow(t *testing.T) {
	t.Parallel()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	// The provider's own 429 is the subject: the client's pre-check, which
	// would refuse the fourth call without sending it, is off.
	srv, c := setup(t, workspacetest.Config{RateLimit: 3, RateWindow: time.Hour, Clock: clk}, chatbot.WithMaxRetries(2),
		config.WithClock(clk), chatbot.WithStreamIdleTimeout(0), chatbot.WithRateLimitPrecheck(false))
	for i := range 3 {
		reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.NoError(t, err)
		require.NotNil(t, reply.RateLimit)
		assert.Equal(t, 3, reply.RateLimit.Limit)
		assert.Equal(t, 2-i, reply.RateLimit.Remaining)
		assert.Equal(t, i+1, reply.RateLimit.Used)
	}
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Equal(t, time.Hour, apiErr.RetryAfter, "the window's end, on the fake's and the client's shared clock")
	assert.Empty(t, clk.Armed(), "a wait over WithMaxRetryWait is not slept")
	assert.Equal(t, 4, srv.Count())
}

// TestRateLimitWindowSlides fills a window of one call a minute, then makes a
// second call: without the pre-check the provider refuses it with retryAfter
// 60, and the client waits that minute out once and is answered; with it,
// the client waits for the announced reset first and the provider never
// refuses anything.
func TestRateLimitWindowSlides(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		precheck bool
		sent     int
	}{
		{"provider refuses, client retries", false, 3},
		{"client waits for the reset", true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clocktest.New(time.Unix(1_800_000_000, 0))
			srv, c := setup(t, workspacetest.Config{RateLimit: 1, RateWindow: time.Minute, Clock: clk}, chatbot.WithMaxRetries(1),
				chatbot.WithMaxRetryWait(2*time.Minute), config.WithClock(clk), chatbot.WithStreamIdleTimeout(0),
				chatbot.WithRateLimitPrecheck(tt.precheck))
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() {
				_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
				done <- err
			}()
			clk.WaitFor(t, time.Minute)
			clk.Advance(time.Minute)
			require.NoError(t, <-done)
			assert.Equal(t, tt.sent, srv.Count())
		})
	}
}

func TestChatRetryAfter(t *testing.T) {
	t.Parallel()
	t.Run("within max wait: one retry", func(t *testing.T) {
		t.Parallel()
		clk := clocktest.New(time.Now())
		srv, c := setup(t, workspacetest.Config{}, chatbot.WithMaxRetries(2), chatbot.WithMaxRetryWait(2*time.Second),
			config.WithClock(clk), chatbot.WithStreamIdleTimeout(0))
		srv.RateLimitNext(1, time.Second)
		type result struct {
			reply *chatbot.Reply
			err   error
		}
		done := make(chan result, 1)
		go func() {
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
			done <- result{reply, err}
		}()
		clk.WaitFor(t, time.Second) // retryAfter 1 is honoured
		assert.Equal(t, 1, srv.Count(), "not retried before the wait is over")
		clk.Advance(time.Second)
		res := <-done
		require.NoError(t, res.err)
		reply := res.reply
		assert.Equal(t, "You said: hi", reply.Text)
		assert.Equal(t, 2, srv.Count())
		assert.Equal(t, []time.Duration{time.Second}, clk.Armed(), "one wait, of exactly the 1 s asked for")
		assert.Len(t, srv.Messages(reply.ConversationID), 1, "the message was processed once")
	})
	t.Run("over max wait: typed error at once", func(t *testing.T) {
		t.Parallel()
		clk := clocktest.New(time.Now())
		srv, c := setup(t, workspacetest.Config{}, chatbot.WithMaxRetries(2), chatbot.WithMaxRetryWait(time.Second),
			config.WithClock(clk), chatbot.WithStreamIdleTimeout(0))
		srv.RateLimitNext(1, time.Minute)
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 60*time.Second, apiErr.RetryAfter)
		assert.Equal(t, "RATE_LIMIT_EXCEEDED", apiErr.ProviderCode)
		assert.Empty(t, clk.Armed(), "the 60 s wait was not slept")
		assert.Equal(t, 1, srv.Count())
	})
	t.Run("retries exhausted", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, workspacetest.Config{}, chatbot.WithMaxRetries(1), chatbot.WithMaxRetryWait(2*time.Second))
		srv.RateLimitNext(2, time.Second)
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		assert.Equal(t, 2, srv.Count())
	})
	t.Run("Retry-After header when the body has none", func(t *testing.T) {
		t.Parallel()
		c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"success":false,"error":"slow down","code":"RATE_LIMIT_EXCEEDED"}`)
		}, chatbot.WithMaxRetries(2), chatbot.WithMaxRetryWait(time.Second))
		_, err := c.Chat(t.Context(), chatbot.Request{Message: "hi"})
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
	})
}

func TestChatConcurrent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	convs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprintf("message %d", i)
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: msg})
			if err != nil {
				errs <- err
				return
			}
			if !assert.Equal(t, "You said: "+msg, reply.Text) {
				return
			}
			convs <- reply.ConversationID
		}()
	}
	wg.Wait()
	close(errs)
	close(convs)
	for err := range errs {
		require.NoError(t, err)
	}
	seen := make(map[string]bool)
	for id := range convs {
		assert.False(t, seen[id], "conversation id %s issued twice", id)
		seen[id] = true
	}
	assert.Len(t, seen, n)
	assert.Equal(t, n, srv.Count())
}

func TestStreamFormats(t *testing.T) {
	t.Parallel()
	for _, f := range []workspacetest.Format{
		workspacetest.FormatTypeContent, workspacetest.FormatAISDK, workspacetest.FormatDify,
		workspacetest.FormatFlowise, workspacetest.FormatOpenAI,
	} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{Format: f})
			var chunks []chatbot.Chunk
			for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hello there, wörld ✓"}) {
				require.NoError(t, err)
				chunks = append(chunks, ch)
			}
			require.Len(t, chunks, 7, "one chunk per text event (six words), plus the final one")
			var text strings.Builder
			for i, ch := range chunks {
				text.WriteString(ch.Text)
				assert.Equal(t, i == len(chunks)-1, ch.Done)
				assert.Equal(t, i == 0, ch.RateLimit != nil)
				if i > 0 && chunks[i-1].ConversationID != "" {
					assert.Equal(t, chunks[i-1].ConversationID, ch.ConversationID, "ids stay once known")
				}
			}
			assert.Equal(t, "You said: hello there, wörld ✓", text.String())
			last := chunks[len(chunks)-1]
			require.NotEmpty(t, last.ConversationID)
			assert.NotEmpty(t, last.MessageID)
			assert.Equal(t, []string{"hello there, wörld ✓"}, srv.Messages(last.ConversationID))

			body, _ := lastBody(t, srv)
			require.NotNil(t, body.Stream)
			assert.True(t, *body.Stream)
			assert.Equal(t, "text/event-stream", srv.Requests()[0].Header.Get("Accept"))
		})
	}
}

func TestStreamShaping(t *testing.T) {
	t.Parallel()
	const want = "Grüße, wörld ✓ 🎉"
	tests := []struct {
		name  string
		shape func(*workspacetest.Server)
	}{
		{"one byte per write", func(s *workspacetest.Server) { s.SplitWrites(1) }},
		// The first event starts `data: {"content":"Gr` (20 bytes, keys in
		// sorted order): 21 falls inside "ü" and 23 inside "ß".
		{"split inside a character", func(s *workspacetest.Server) { s.SplitWrites(0, 21, 23, 150, 151) }},
		{"CRLF line endings", func(s *workspacetest.Server) { s.SetCRLF(true); s.SplitWrites(3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, workspacetest.Config{})
			srv.SetReply("Grüße, ", "wörld ✓ ", "🎉")
			tt.shape(srv)
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			require.NoError(t, err)
			assert.Equal(t, want, reply.Text)
			assert.NotEmpty(t, reply.ConversationID)
		})
	}
}

func TestStreamOneChunkPerEvent(t *testing.T) {
	t.Parallel()
	received := make(chan string)
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, part := range []string{"one ", "two ", "three"} {
			_, _ = fmt.Fprintf(w, "data: {\"type\":\"token\",\"token\":%q}\n\n", part)
			w.(http.Flusher).Flush()
			// The next event is written only once the client has yielded
			// this one: a decoder that batched would deadlock here.
			select {
			case got := <-received:
				assert.Equal(t, part, got)
			case <-r.Context().Done():
				return
			case <-time.After(30 * time.Second): // only a hang gets here
				assert.Fail(t, "the chunk was not yielded on its own")
				return
			}
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	})
	var texts []string
	for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
		require.NoError(t, err)
		if ch.Done {
			break
		}
		texts = append(texts, ch.Text)
		received <- ch.Text
	}
	assert.Equal(t, []string{"one ", "two ", "three"}, texts)
}

func TestStreamTruncated(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	srv.SetReply("first ", "second ", "third")
	srv.CutAfter(250) // after two content events (about 105 bytes each), inside the third
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.True(t, strings.HasPrefix(err.Error(), "workspace: "), err.Error())
	assert.Equal(t, "first second ", reply.Text, "the text received before the cut is kept")
	assert.NotEmpty(t, reply.ConversationID)
}

func TestStreamCleanEndWithoutMarker(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "stream_no_end.sse")
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	})
	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.NoError(t, err, "the format is not published: a clean end is complete")
	assert.Equal(t, "Hello, wörld ✓", reply.Text)
}

func TestStreamEarlyBreak(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	srv.SetReply("a", "b", "c", "d", "e", "f", "g", "h")
	srv.SetPace(50 * time.Millisecond)
	var got []string
	for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
		require.NoError(t, err)
		got = append(got, ch.Text)
		break
	}
	assert.Equal(t, []string{"a"}, got)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		require.Fail(t, "the server did not observe the disconnect")
	}
}

func TestStreamSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	chunks := c.Stream(t.Context(), chatbot.Request{Message: "hi"})
	assert.Equal(t, 0, srv.Count(), "nothing is sent before the loop starts")
	reply, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	assert.Equal(t, "You said: hi", reply.Text)

	var pairs int
	for _, err := range chunks {
		pairs++
		require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	}
	assert.Equal(t, 1, pairs)
	assert.Equal(t, 1, srv.Count(), "the message is never sent twice")
}

func TestStreamContextCancel(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{})
	srv.SetReply("a", "b")
	srv.SetPace(time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		texts   []string
		lastErr error
	)
	for ch, err := range c.Stream(ctx, chatbot.Request{Message: "hi"}) {
		if err != nil {
			lastErr = err
			continue
		}
		texts = append(texts, ch.Text)
		cancel()
	}
	assert.Equal(t, []string{"a"}, texts)
	require.ErrorIs(t, lastErr, context.Canceled)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		require.Fail(t, "the server did not observe the cancellation")
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, workspacetest.Config{}, chatbot.WithStreamIdleTimeout(100*time.Millisecond))
	srv.StallAfter(0)
	_, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
}

func TestStreamJSONFallback(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "chat_ok.json")
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "999")
		_, _ = w.Write(body)
	})
	var chunks []chatbot.Chunk
	for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
		require.NoError(t, err)
		chunks = append(chunks, ch)
	}
	require.Len(t, chunks, 1)
	assert.Equal(t, "Hello! I'm here to help you. What would you like to know?", chunks[0].Text)
	assert.True(t, chunks[0].Done)
	assert.Equal(t, "cm5abc123xyz456", chunks[0].ConversationID)
	assert.Equal(t, "cm5msg789def012", chunks[0].MessageID)
	require.NotNil(t, chunks[0].RateLimit)
	assert.Equal(t, 999, chunks[0].RateLimit.Remaining)
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	t.Run("HTTP error before the stream", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, workspacetest.Config{})
		srv.FailNext(1, workspacetest.Failure{Status: http.StatusPaymentRequired, Code: "INSUFFICIENT_CREDITS", Message: "Insufficient credits"})
		var pairs int
		for _, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
			pairs++
			require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
		}
		assert.Equal(t, 1, pairs)
	})
	t.Run("error event after text", func(t *testing.T) {
		t.Parallel()
		for _, f := range []workspacetest.Format{workspacetest.FormatTypeContent, workspacetest.FormatDify} {
			srv, c := setup(t, workspacetest.Config{Format: f})
			srv.SetReply("partial ")
			srv.FailStream("INSUFFICIENT_CREDITS", "Insufficient credits to generate AI response.")
			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi"}))
			require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 0, apiErr.StatusCode)
			assert.Equal(t, "INSUFFICIENT_CREDITS", apiErr.ProviderCode)
			assert.Equal(t, "Insufficient credits to generate AI response.", apiErr.Message)
			assert.Equal(t, "partial ", reply.Text)
		}
	})
}

func TestStreamsReuseTheConnection(t *testing.T) {
	t.Parallel()
	for _, format := range []workspacetest.Format{workspacetest.FormatTypeContent, workspacetest.FormatOpenAI, workspacetest.FormatDify} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, workspacetest.Config{Format: format})
			for range 20 {
				reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
				require.NoError(t, err)
				require.NotEmpty(t, reply.Text)
			}
			assert.Equal(t, 1, srv.Connections(), "the body after the end marker is read, so the connection goes back to the pool")
		})
	}
}
